"""The metrics recorder: per-minute aggregation in memory, periods, percentiles, flushing to a
real SQLite store and reading back after reopening it, and the Prometheus text."""

from __future__ import annotations

import asyncio
import random
import re
import time

import pytest

from lamina.http.metrics import prometheus_text
from lamina.observability.queries import list_metric_ids, query_buckets
from lamina.observability.recorder import MetricsRecorder
from lamina.observability.series import MAX_SAMPLES, Bucket, MetricId
from lamina.store.base import MetricRow, merge_metric_rows
from lamina.store.sqlite import SQLiteStore

NS = "App/Test"
FN = {"FunctionName": "f"}
# A fixed hour well in the past, so that "minutes that have ended" is every minute used here.
HOUR = 1_700_000_000 // 3600 * 3600


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "lamina.db")


def test_values_aggregate_per_minute_and_series():
    async def main():
        recorder = MetricsRecorder()
        for value, offset in [(1, 0), (2, 10), (3, 59), (10, 60), (20, 119)]:
            recorder.put(NS, "Latency", FN, value, "Milliseconds", HOUR + offset)
        recorder.put(NS, "Latency", {"FunctionName": "other"}, 99, "Milliseconds", HOUR)
        buckets = await query_buckets(recorder, NS, "Latency", FN, HOUR, HOUR + 3600, 60)
        assert [(b.timestamp, b.count, b.sum, b.minimum, b.maximum, b.unit) for b in buckets] == [
            (HOUR, 3, 6, 1, 3, "Milliseconds"),
            (HOUR + 60, 2, 30, 10, 20, "Milliseconds"),
        ]
        assert buckets[0].average == 2

    run(main())


def test_dimensions_match_exactly_in_any_order():
    async def main():
        recorder = MetricsRecorder()
        recorder.put(NS, "Hits", {"A": "1", "B": "2"}, 5, "Count", HOUR)
        assert len(await query_buckets(recorder, NS, "Hits", {"B": "2", "A": "1"}, HOUR, HOUR + 60, 60)) == 1
        assert len(await query_buckets(recorder, NS, "Hits", [("B", "2"), ("A", "1")], HOUR, HOUR + 60, 60)) == 1
        assert await query_buckets(recorder, NS, "Hits", {"A": "1"}, HOUR, HOUR + 60, 60) == []
        assert await query_buckets(recorder, NS, "Hits", {}, HOUR, HOUR + 60, 60) == []

    run(main())


def test_periods_combine_minutes_from_the_start_time():
    async def main():
        recorder = MetricsRecorder()
        for minute in range(10):
            recorder.put(NS, "Hits", {}, minute, "Count", HOUR + minute * 60 + 5)
        buckets = await query_buckets(recorder, NS, "Hits", None, HOUR, HOUR + 600, 300)
        assert [(b.timestamp, b.count, b.sum) for b in buckets] == [(HOUR, 5, 10), (HOUR + 300, 5, 35)]
        # Buckets start at the start time rounded down to the minute, not at the epoch.
        buckets = await query_buckets(recorder, NS, "Hits", None, HOUR + 90, HOUR + 600, 300)
        assert [(b.timestamp, b.count) for b in buckets] == [(HOUR + 60, 5), (HOUR + 360, 4)]
        # End is exclusive: the minute that begins at end is left out.
        assert sum(b.count for b in await query_buckets(recorder, NS, "Hits", None, HOUR, HOUR + 120, 60)) == 2
        with pytest.raises(ValueError):
            await query_buckets(recorder, NS, "Hits", None, HOUR, HOUR + 600, 90)

    run(main())


def test_units_are_separate_series_and_can_be_filtered():
    async def main():
        recorder = MetricsRecorder()
        recorder.put(NS, "Size", {}, 1, "Bytes", HOUR)
        recorder.put(NS, "Size", {}, 2, "Bytes", HOUR)
        recorder.put(NS, "Size", {}, 1000, "Kilobytes", HOUR)
        [only_bytes] = await query_buckets(recorder, NS, "Size", {}, HOUR, HOUR + 60, 60, unit="Bytes")
        assert (only_bytes.count, only_bytes.sum, only_bytes.unit) == (2, 3, "Bytes")
        [mixed] = await query_buckets(recorder, NS, "Size", {}, HOUR, HOUR + 60, 60)
        assert (mixed.count, mixed.unit) == (3, "Bytes")  # the unit most values came in
        assert await query_buckets(recorder, NS, "Size", {}, HOUR, HOUR + 60, 60, unit="Count") == []

    run(main())


def test_percentiles_are_exact_below_the_sample_limit():
    async def main():
        recorder = MetricsRecorder()
        values = list(range(1, 1001))
        random.shuffle(values)
        for value in values:
            recorder.put(NS, "Latency", {}, value, "Milliseconds", HOUR + 1)
        [bucket] = await query_buckets(recorder, NS, "Latency", {}, HOUR, HOUR + 60, 60)
        assert len(bucket.samples) == 1000
        assert bucket.percentile(50) == 500
        assert bucket.percentile(99) == 990
        assert bucket.percentile(99.9) == 999
        assert bucket.percentile(100) == 1000
        assert bucket.percentile(0) == 1

    run(main())


def test_percentiles_are_estimated_from_a_bounded_reservoir():
    async def main():
        recorder = MetricsRecorder()
        rng = random.Random(7)
        for _ in range(50_000):
            recorder.put(NS, "Latency", {}, rng.uniform(0, 1000), "Milliseconds", HOUR + 1)
        [bucket] = await query_buckets(recorder, NS, "Latency", {}, HOUR, HOUR + 60, 60)
        assert bucket.count == 50_000
        assert len(bucket.samples) == MAX_SAMPLES
        assert abs(bucket.percentile(50) - 500) < 60
        assert abs(bucket.percentile(90) - 900) < 40

    run(main())


def test_values_with_counts_and_statistic_sets():
    async def main():
        recorder = MetricsRecorder()
        recorder.put(NS, "Latency", {}, 10, "Milliseconds", HOUR, count=900)
        recorder.put(NS, "Latency", {}, 1000, "Milliseconds", HOUR, count=100)
        batch = recorder.batch()  # statistic sets come only from PutMetricData, as a batch
        batch.put_statistics(NS, "Latency", {}, 4, 20, 1, 9, "Milliseconds", HOUR + 60)
        batch.put_statistics(NS, "Latency", {}, 5_000, 5_000 * 7, 7, 7, "Milliseconds", HOUR + 60)
        await recorder.write(batch)
        first, second = await query_buckets(recorder, NS, "Latency", {}, HOUR, HOUR + 120, 60)
        assert (first.count, first.sum, first.minimum, first.maximum) == (1000, 9000 + 100_000, 10, 1000)
        assert first.percentile(50) == 10 and first.percentile(95) == 1000
        assert (second.count, second.sum, second.minimum, second.maximum) == (5004, 35_020, 1, 9)
        # Only the set whose values are all alike says what its values were.
        assert second.percentile(50) == 7
        [combined] = await query_buckets(recorder, NS, "Latency", {}, HOUR, HOUR + 120, 120)
        assert combined.count == 6004
        assert combined.percentile(10) == 7  # 5000 sevens outweigh 900 tens

    run(main())


def test_non_finite_values_are_dropped():
    async def main():
        recorder = MetricsRecorder()
        recorder.put(NS, "X", {}, float("nan"), "None", HOUR)
        recorder.put(NS, "X", {}, float("inf"), "None", HOUR)
        assert await query_buckets(recorder, NS, "X", {}, HOUR, HOUR + 60, 60) == []

    run(main())


def test_list_metrics_filters_by_namespace_name_and_dimensions():
    async def main():
        recorder = MetricsRecorder()
        recorder.put(NS, "A", {"Fn": "x", "Stage": "prod"}, 1, "Count", HOUR)
        recorder.put(NS, "A", {"Fn": "y"}, 1, "Count", HOUR)
        recorder.put(NS, "B", {}, 1, "Count", HOUR)
        recorder.put("Other", "A", {}, 1, "Count", time.time())
        assert [m.name for m in await list_metric_ids(recorder, NS)] == ["A", "A", "B"]
        assert await list_metric_ids(recorder, NS, "A", {"Fn": "x"}) == [
            MetricId(NS, "A", (("Fn", "x"), ("Stage", "prod")))
        ]
        assert len(await list_metric_ids(recorder, dimensions={"Fn": None})) == 2
        assert await list_metric_ids(recorder, dimensions={"Fn": "z"}) == []
        assert [m.namespace for m in await list_metric_ids(recorder, since=time.time() - 3600)] == ["Other"]

    run(main())


def test_ended_minutes_flush_to_the_store_and_read_back_after_reopening(path):
    now = time.time()

    async def write():
        store = SQLiteStore(path)
        recorder = MetricsRecorder(store)
        for value in range(1, 101):
            recorder.put(NS, "Latency", FN, value, "Milliseconds", HOUR + 30)
        recorder.put(NS, "Latency", FN, 5, "Milliseconds", now)  # the minute in progress
        assert await recorder.flush() == 1  # only the minute that has ended
        rows = await store.read_metrics(NS, "Latency", '[["FunctionName","f"]]', HOUR, HOUR + 60)
        assert [(r.minute, r.count, r.sum, r.minimum, r.maximum, len(r.samples)) for r in rows] == [
            (HOUR, 100, 5050, 1, 100, 100)
        ]
        # The store and the minute still in memory are both seen, each once.
        buckets = await query_buckets(recorder, NS, "Latency", FN, HOUR, now + 60, 60)
        assert [b.count for b in buckets] == [100, 1]
        await recorder.close()  # everything, ended or not
        await store.close()

    async def reopen():
        store = SQLiteStore(path)
        recorder = MetricsRecorder(store)
        buckets = await query_buckets(recorder, NS, "Latency", FN, HOUR, now + 60, 60)
        bare = await query_buckets(recorder, NS, "Latency", FN, HOUR, now + 60, 60, samples=False)
        assert [(b.count, b.sum, b.samples, b.percentile(50)) for b in bare] == [
            (100, 5050, [], None),
            (1, 5, [], None),
        ]
        metrics = await list_metric_ids(recorder, NS)
        await store.close()
        return buckets, metrics

    run(write())
    buckets, metrics = run(reopen())
    assert [(b.count, b.sum) for b in buckets] == [(100, 5050), (1, 5)]
    assert buckets[0].percentile(99) == 99
    assert metrics == [MetricId(NS, "Latency", (("FunctionName", "f"),))]


def test_late_data_for_a_stored_minute_is_merged_into_its_row(path):
    async def main():
        store = SQLiteStore(path)
        recorder = MetricsRecorder(store)
        recorder.put(NS, "Hits", {}, 1, "Count", HOUR)
        await recorder.flush()
        recorder.put(NS, "Hits", {}, 3, "Count", HOUR + 59)
        [bucket] = await query_buckets(recorder, NS, "Hits", {}, HOUR, HOUR + 60, 60)
        assert (bucket.count, bucket.sum) == (2, 4)
        await recorder.flush()
        rows = await store.read_metrics(NS, "Hits", "[]", HOUR, HOUR + 60)
        assert [(r.count, r.sum, r.minimum, r.maximum, r.samples) for r in rows] == [(2, 4, 1, 3, (1, 3))]
        [bucket] = await query_buckets(recorder, NS, "Hits", {}, HOUR, HOUR + 60, 60)
        assert (bucket.count, bucket.sum) == (2, 4)
        await store.close()

    run(main())


def test_queries_racing_flushes_count_everything_once(path):
    async def main():
        store = SQLiteStore(path)
        recorder = MetricsRecorder(store)
        totals = []
        for round_ in range(20):
            for second in range(30):
                recorder.put(NS, "Hits", {}, 1, "Count", HOUR + round_ * 60 + second)
            results = await asyncio.gather(
                recorder.flush(), query_buckets(recorder, NS, "Hits", {}, HOUR, HOUR + 3600, 3600)
            )
            totals.append(results[1][0].count)
        assert totals == [30 * (n + 1) for n in range(20)]
        await store.close()

    run(main())


def test_a_failed_flush_keeps_the_data_for_the_next_one():
    class FailingOnce:
        def __init__(self):
            self.fail = True
            self.rows = []

        async def write(self, ops):
            if self.fail:
                self.fail = False
                raise OSError("disk full")
            self.rows.extend(row for op in ops for row in op.rows)

        async def read_metrics(self, *args):
            return []

    async def main():
        store = FailingOnce()
        recorder = MetricsRecorder(store)
        recorder.put(NS, "Hits", {}, 1, "Count", HOUR)
        with pytest.raises(OSError):
            await recorder.flush()
        recorder.put(NS, "Hits", {}, 2, "Count", HOUR)
        [bucket] = await query_buckets(recorder, NS, "Hits", {}, HOUR, HOUR + 60, 60)
        assert bucket.sum == 3
        assert await recorder.flush() == 1
        assert [(r.count, r.sum) for r in store.rows] == [(2, 3)]

    run(main())


def test_the_background_task_flushes_ended_minutes(path):
    async def main():
        store = SQLiteStore(path)
        recorder = MetricsRecorder(store, flush_interval_s=0.05)
        recorder.start()
        recorder.put(NS, "Hits", {}, 1, "Count", HOUR)
        for _ in range(100):
            await asyncio.sleep(0.02)
            if await store.read_metrics(NS, "Hits", "[]", HOUR, HOUR + 60):
                break
        assert len(await store.read_metrics(NS, "Hits", "[]", HOUR, HOUR + 60)) == 1
        await recorder.close()
        await store.close()

    run(main())


def test_the_background_flush_writes_the_minute_in_progress_too(path):
    # A kill -9 loses at most one flush interval of the engine's metrics: the minute in
    # progress is written in parts, which the store merges, each value counted once.
    async def main():
        store = SQLiteStore(path)
        recorder = MetricsRecorder(store, flush_interval_s=0.05)
        recorder.start()
        now = time.time()
        minute = int(now // 60) * 60

        async def stored() -> list:
            return await store.read_metrics(NS, "Hits", "[]", minute, minute + 120)

        recorder.put(NS, "Hits", {}, 1, "Count")
        for _ in range(100):
            await asyncio.sleep(0.02)
            if await stored():
                break
        assert [(r.count, r.sum) for r in await stored()] == [(1, 1)]
        recorder.put(NS, "Hits", {}, 2, "Count")
        for _ in range(100):
            buckets = await query_buckets(recorder, NS, "Hits", {}, minute, minute + 120, 120)
            assert [(b.count, b.sum) for b in buckets] == [(2, 3)]  # store + memory, once each
            if sum(r.count for r in await stored()) == 2:
                break
            await asyncio.sleep(0.02)
        rows = await stored()
        assert sum(r.count for r in rows) == 2 and sum(r.sum for r in rows) == 3
        await recorder.close()
        await store.close()

    run(main())


# --- accepted writes (PutMetricData): committed before write() returns -------------------------


def test_a_written_batch_is_in_the_store_when_write_returns(path):
    other = ("eu-west-1", "111111111111")

    async def write():
        store = SQLiteStore(path)
        recorder = MetricsRecorder(store)
        batch = recorder.batch()
        batch.put(NS, "Latency", FN, 10, "Milliseconds", HOUR, count=3)
        batch.put(NS, "Latency", FN, 40, "Milliseconds", HOUR + 30)
        batch.put(NS, "Latency", FN, 70, "Milliseconds", HOUR + 60)
        batch.put_statistics(NS, "Latency", FN, 4, 20, 2, 8, "Milliseconds", HOUR + 60)
        batch.put(NS, "Latency", FN, float("nan"), "Milliseconds", HOUR)  # dropped, as put() does
        batch.put(NS, "Orders", {}, 5, "Count", HOUR, scope=other)
        await recorder.write(batch)
        assert recorder.series_in_memory(None) == set()  # never in memory: counted once
        first, second = await query_buckets(recorder, NS, "Latency", FN, HOUR, HOUR + 120, 60)
        assert (first.count, first.sum, first.minimum, first.maximum) == (4, 70, 10, 40)
        assert (second.count, second.sum, second.minimum, second.maximum) == (5, 90, 2, 70)
        totals = dict(recorder.totals())
        assert totals[(NS, "Latency", (("FunctionName", "f"),), "Milliseconds")][:2] == [9, 160]
        # Written again: the store merges the minute.
        again = recorder.batch()
        again.put(NS, "Latency", FN, 100, "Milliseconds", HOUR + 59)
        await recorder.write(again)
        # No close(), no flush: as after a kill -9.

    async def reopen():
        store = SQLiteStore(path)
        recorder = MetricsRecorder(store)
        latency = await query_buckets(recorder, NS, "Latency", FN, HOUR, HOUR + 120, 60)
        orders = await query_buckets(recorder, NS, "Orders", {}, HOUR, HOUR + 60, 60, scope=other)
        mine = await query_buckets(recorder, NS, "Orders", {}, HOUR, HOUR + 60, 60)
        listed = await list_metric_ids(recorder, scope=other)
        await store.close()
        return latency, orders, mine, listed

    run(write())
    latency, orders, mine, listed = run(reopen())
    assert [(b.count, b.sum, b.minimum, b.maximum) for b in latency] == [(5, 170, 10, 100), (5, 90, 2, 70)]
    assert latency[0].percentile(50) == 10 and latency[0].percentile(100) == 100
    assert [(b.count, b.sum) for b in orders] == [(1, 5)] and mine == []
    assert listed == [MetricId(NS, "Orders", ())]


def test_queries_see_a_batch_wholly_or_not_at_all_while_writes_and_flushes_race(path):
    # One series fed both ways: the engine's puts (1000 each, in memory, flushed now and
    # then) and written batches (ten 1s each, straight to the store). A query's sum tells
    # both apart: every engine value exactly once, and whole batches only.
    async def main():
        store = SQLiteStore(path)
        recorder = MetricsRecorder(store)
        engine_puts = 0
        finished = asyncio.Event()
        seen: list[tuple[int, int]] = []

        async def writer() -> None:
            for _ in range(90):
                batch = recorder.batch()
                for minute in range(10):
                    batch.put(NS, "Hits", {}, 1, "Count", HOUR + minute * 60)
                await recorder.write(batch)

        async def engine() -> None:
            nonlocal engine_puts
            for index in range(200):
                recorder.put(NS, "Hits", {}, 1000, "Count", HOUR + index % 600)
                engine_puts += 1
                if index % 7 == 0:
                    await recorder.flush(everything=True)
                await asyncio.sleep(0)

        async def reader() -> None:
            while not finished.is_set():
                before = engine_puts
                buckets = await query_buckets(recorder, NS, "Hits", {}, HOUR, HOUR + 3600, 3600)
                after = engine_puts
                total = int(buckets[0].sum) if buckets else 0
                engine_values, batch_values = divmod(total, 1000)
                assert before <= engine_values <= after, (before, engine_values, after)
                assert batch_values % 10 == 0, batch_values
                seen.append((engine_values, batch_values // 10))
                await asyncio.sleep(0)

        async def both() -> None:
            await asyncio.gather(writer(), engine())
            finished.set()

        await asyncio.gather(both(), reader(), reader())
        [bucket] = await query_buckets(recorder, NS, "Hits", {}, HOUR, HOUR + 3600, 3600)
        assert (bucket.count, bucket.sum) == (200 + 900, 200 * 1000 + 900)
        assert len({batches for _, batches in seen}) > 5  # the queries did race the writes
        await store.close()

    run(main())


def test_a_refused_write_keeps_nothing():
    class Refusing:
        async def write(self, ops):
            raise OSError("disk full")

        async def read_metrics(self, *args):
            return []

    async def main():
        recorder = MetricsRecorder(Refusing())
        batch = recorder.batch()
        batch.put(NS, "Hits", {}, 1, "Count", HOUR)
        with pytest.raises(OSError):
            await recorder.write(batch)
        assert await query_buckets(recorder, NS, "Hits", {}, HOUR, HOUR + 60, 60) == []
        assert recorder.totals() == []

    run(main())


def test_without_a_store_a_batch_joins_memory():
    async def main():
        recorder = MetricsRecorder()
        recorder.put(NS, "Hits", {}, 1, "Count", HOUR)
        batch = recorder.batch()
        batch.put(NS, "Hits", {}, 2, "Count", HOUR + 1, count=2)
        batch.put_statistics(NS, "Hits", {}, 3, 30, 10, 10, "Count", HOUR + 61)
        await recorder.write(batch)
        buckets = await query_buckets(recorder, NS, "Hits", {}, HOUR, HOUR + 120, 60)
        assert [(b.count, b.sum) for b in buckets] == [(3, 5), (3, 30)]

    run(main())


def test_merging_rows_keeps_the_weighted_distribution():
    many = MetricRow(NS, "L", "[]", "None", HOUR, 100_000, 100_000.0, 1, 1, tuple([1.0] * 1000), 100_000)
    few = MetricRow(NS, "L", "[]", "None", HOUR, 10, 1000.0, 100, 100, tuple([100.0] * 10), 10)
    merged = merge_metric_rows(many, few, 1000)
    assert (merged.count, merged.sum, merged.minimum, merged.maximum) == (100_010, 101_000, 1, 100)
    assert len(merged.samples) <= 1000 and merged.sampled == 100_010
    bucket = Bucket(HOUR)
    bucket.add_row(merged)
    assert bucket.percentile(99) == 1  # 10 in 100,010 values are 100


def test_put_is_cheap():
    recorder = MetricsRecorder()
    started = time.perf_counter()
    for index in range(20_000):
        recorder.put("AWS/Lambda", "Duration", {"FunctionName": f"fn{index % 50}"}, index % 300, "Milliseconds")
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0, f"20,000 puts took {elapsed:.2f} s"


# --- Prometheus ---------------------------------------------------------------------------

_SAMPLE = re.compile(
    r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)"
    r'(?:\{(?P<labels>[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*)\})?'
    r" (?P<value>[-+]?(?:[0-9.eE+-]+|Inf|NaN))$"
)


def parse_exposition(text: str) -> dict[str, tuple[str, list[tuple[str, str, float]]]]:
    """A strict reading of the text format: every line a HELP, a TYPE or a sample of the last TYPE."""
    families: dict[str, tuple[str, list]] = {}
    current = None
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "summary", "histogram", "untyped")
            assert name not in families, f"family {name} declared twice"
            families[name] = (kind, [])
            current = name
            continue
        match = _SAMPLE.match(line)
        assert match, f"not a valid sample line: {line!r}"
        name = match.group("name")
        assert current and name.startswith(current), f"{name} outside its family {current}"
        if families[current][0] == "summary":
            assert name in (current, current + "_sum", current + "_count")
        families[current][1].append((name, match.group("labels") or "", float(match.group("value"))))
    return families


def test_prometheus_text_has_counters_summaries_and_gauges():
    recorder = MetricsRecorder()
    for _ in range(3):
        recorder.put("AWS/Lambda", "Invocations", {"FunctionName": "x"}, 1, "Count")
    recorder.put("AWS/Lambda", "Invocations", {}, 1, "Count")
    recorder.put("AWS/Lambda", "Duration", {"FunctionName": "x"}, 250, "Milliseconds")
    recorder.put("AWS/Lambda", "Duration", {"FunctionName": "x"}, 750, "Milliseconds", HOUR)  # any minute
    recorder.put("AWS/Lambda", "ConcurrentExecutions", {"FunctionName": "x"}, 4, "Count")
    recorder.put("AWS/Lambda", "ConcurrentExecutions", {"FunctionName": "x"}, 2, "Count")
    recorder.put("My App", "Payload", {"Route Path": 'a "quoted"\\path\n'}, 10, "Bytes")
    text = prometheus_text(recorder)
    families = parse_exposition(text)
    assert families["lamina_lambda_invocations_total"] == (
        "counter",
        [("lamina_lambda_invocations_total", "", 1), ("lamina_lambda_invocations_total", 'function="x"', 3)],
    )
    assert families["lamina_lambda_duration_seconds"] == (
        "summary",
        [
            ("lamina_lambda_duration_seconds_count", 'function="x"', 2),
            ("lamina_lambda_duration_seconds_sum", 'function="x"', 1.0),
        ],
    )
    assert families["lamina_lambda_concurrent_executions"][0] == "gauge"
    assert families["lamina_lambda_concurrent_executions"][1][0][2] == 2
    kind, [(name, labels, value), *_] = families["lamina_my_app_payload_bytes"]
    assert (kind, labels, value) == ("summary", 'route_path="a \\"quoted\\"\\\\path\\n"', 1)
    assert "# HELP lamina_lambda_invocations_total " in text


def test_prometheus_text_is_empty_without_metrics():
    assert prometheus_text(MetricsRecorder()) == ""


def test_queries_share_the_store_while_a_flush_waits_for_them(path):
    class SlowStore:
        def __init__(self):
            self.reading = 0
            self.most = 0
            self.rows = []

        async def read_metrics(self, *args):
            self.reading += 1
            self.most = max(self.most, self.reading)
            await asyncio.sleep(0.05)
            self.reading -= 1
            return []

        async def write(self, ops):
            assert self.reading == 0
            self.rows.extend(row for op in ops for row in op.rows)

    async def main():
        store = SlowStore()
        recorder = MetricsRecorder(store)
        recorder.put(NS, "Hits", {}, 1, "Count", HOUR)
        queries = [query_buckets(recorder, NS, "Hits", {}, HOUR, HOUR + 60, 60) for _ in range(5)]
        results = await asyncio.gather(*queries[:3], recorder.flush(), *queries[3:])
        assert store.most >= 3 and len(store.rows) == 1
        assert [len(r) for r in results[:3]] == [1, 1, 1]

    run(main())
