"""Metric rows: written, merged when a minute is written twice, samples bounded, series listed."""

import asyncio
import random
from dataclasses import replace

from lamina.store.base import MetricRow, PutMetricData, merge_metric_rows

DIMS = '[["FunctionName","f"]]'


def row(minute=60, unit="Milliseconds", values=(1.0, 2.0, 3.0), name="Duration", dims=DIMS, namespace="AWS/Lambda"):
    return MetricRow(
        namespace,
        name,
        dims,
        unit,
        minute,
        count=float(len(values)),
        sum=float(sum(values)),
        minimum=min(values),
        maximum=max(values),
        samples=tuple(values),
        sampled=float(len(values)),
    )


async def read(store, start=0, end=10**9, **kwargs):
    return await store.read_metrics("AWS/Lambda", "Duration", DIMS, start, end, **kwargs)


async def test_a_row_comes_back_as_written(backend):
    written = row(values=(0.5, 1e-9, 12345.678, -3.0))
    async with backend.store() as store:
        await store.write([PutMetricData((written,))])
        assert await read(store) == [written]
        # without samples: everything else, `sampled` included
        assert await read(store, with_samples=False) == [replace(written, samples=())]


async def test_a_minute_written_twice_is_merged(backend):
    first, second, third = row(values=(5.0, 1.0)), row(values=(7.0, 0.5, 2.0)), row(values=(9.0,))
    async with backend.store() as store:
        await store.write([PutMetricData((first,))])
        await store.write([PutMetricData((second,))])
        assert await read(store) == [merge_metric_rows(first, second)]
        (merged,) = await read(store)
        assert (merged.count, merged.sum, merged.minimum, merged.maximum) == (5.0, 15.5, 0.5, 7.0)
        # twice within one batch, too, in the batch's order
        await store.write([PutMetricData((third, first))])
        assert await read(store) == [merge_metric_rows(merge_metric_rows(merged, third), first)]


async def test_a_statistic_set_adds_to_count_without_samples(backend):
    sampled = row(values=(1.0, 2.0))
    statistic_set = MetricRow(
        "AWS/Lambda", "Duration", DIMS, "Milliseconds", 60, count=100.0, sum=500.0, minimum=0.1, maximum=50.0
    )
    async with backend.store() as store:
        await store.write([PutMetricData((sampled,)), PutMetricData((statistic_set,))])
        (merged,) = await read(store)
        assert merged == merge_metric_rows(sampled, statistic_set)
        assert merged.count == 102.0 and merged.samples == (1.0, 2.0) and merged.sampled == 2.0


async def test_merged_samples_are_bounded(backend):
    rng = random.Random(7)
    first = row(values=tuple(rng.uniform(0, 100) for _ in range(700)))
    second = row(values=tuple(rng.uniform(100, 200) for _ in range(700)))
    async with backend.store() as store:
        await store.write([PutMetricData((first,), max_samples=1000)])
        await store.write([PutMetricData((second,), max_samples=1000)])
        (merged,) = await read(store)
        assert len(merged.samples) <= 1000 and merged.sampled == 1400.0 and merged.count == 1400.0
        assert merged == merge_metric_rows(first, second, 1000)
        small = row(values=(300.0,))
        await store.write([PutMetricData((small,), max_samples=10)])
        (again,) = await read(store)
        assert len(again.samples) <= 10 and again == merge_metric_rows(merged, small, 10)


async def test_concurrent_writes_of_one_minute_are_all_merged(backend):
    async with backend.store() as store:
        await asyncio.gather(*(store.write([PutMetricData((row(values=(float(i),)),))]) for i in range(50)))
        (merged,) = await read(store)
        assert merged.count == 50.0 and merged.sum == float(sum(range(50)))
        assert sorted(merged.samples) == [float(i) for i in range(50)]


async def test_read_by_minute_range_and_unit(backend):
    async with backend.store() as store:
        await store.write(
            [
                PutMetricData(
                    (
                        row(minute=180),
                        row(minute=60, unit="Seconds"),
                        row(minute=120),
                        row(minute=60),
                        row(minute=240, name="Errors"),
                    )
                )
            ]
        )
        assert [(r.minute, r.unit) for r in await read(store)] == [
            (60, "Milliseconds"),
            (60, "Seconds"),
            (120, "Milliseconds"),
            (180, "Milliseconds"),
        ]
        assert [r.minute for r in await read(store, 60, 180)] == [60, 60, 120]  # end exclusive
        assert [r.minute for r in await read(store, 61, 181)] == [120, 180]
        assert [r.unit for r in await read(store, unit="Seconds")] == ["Seconds"]
        assert await store.read_metrics("AWS/Lambda", "Duration", "[]", 0, 10**9) == []  # other dimensions
        assert [r.name for r in await store.read_metrics("AWS/Lambda", "Errors", DIMS, 0, 10**9)] == ["Errors"]


async def test_list_series_since_a_minute(backend):
    async with backend.store() as store:
        await store.write(
            [
                PutMetricData(
                    (
                        row(minute=60, name="Duration"),
                        row(minute=600, name="Duration"),
                        row(minute=120, name="Errors"),
                        row(minute=600, name="Invocations", dims="[]"),
                        row(minute=600, name="Invocations"),
                        row(minute=600, namespace="Custom", name="Z"),
                        row(minute=60, namespace="Custom", name="A"),
                    )
                )
            ]
        )
        everything = await store.list_metric_series()
        assert everything == sorted(everything) and len(everything) == 6  # distinct (namespace, name, dims)
        assert ("AWS/Lambda", "Invocations", "[]") in everything
        assert await store.list_metric_series(namespace="Custom") == [("Custom", "A", DIMS), ("Custom", "Z", DIMS)]
        assert await store.list_metric_series(name="Errors") == [("AWS/Lambda", "Errors", DIMS)]
        assert await store.list_metric_series(since_minute=600) == [
            ("AWS/Lambda", "Duration", DIMS),
            ("AWS/Lambda", "Invocations", DIMS),
            ("AWS/Lambda", "Invocations", "[]"),
            ("Custom", "Z", DIMS),
        ]
        assert await store.list_metric_series(namespace="AWS/Lambda", name="Errors", since_minute=121) == []
        assert await store.list_metric_series(namespace="None") == []
