"""Reading metrics back: buckets of a series over a period, and the metrics there are.

GetMetricData, GetMetricStatistics and ListMetrics (services/cloudwatch) read through
these. Both read the store and then the minutes still in the recorder's memory, inside
recorder.reading(): a flush moves minutes from memory to the store, and never in the middle
of a read, so every value is seen exactly once.

    await query_buckets(recorder, namespace, name, dimensions, start, end, period) -> list[Bucket]
    await list_metric_ids(recorder, namespace=None, name=None, dimensions=None) -> list[MetricId]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from .recorder import MetricsRecorder
from .series import (
    Bucket,
    Dimensions,
    MetricId,
    Scope,
    dimension_pairs,
    dimensions_key,
    epoch_seconds,
    minute_of,
    parse_dimensions_key,
    split_namespace,
    stored_namespace,
)


async def query_buckets(
    recorder: MetricsRecorder,
    namespace: str,
    name: str,
    dimensions: Dimensions,
    start: float | datetime,
    end: float | datetime,
    period: int,
    *,
    unit: str | None = None,
    samples: bool = True,
    scope: Scope | None = None,
) -> list[Bucket]:
    """Non-empty buckets of `period` seconds (a multiple of 60) from start (rounded down to
    the minute) to end (exclusive), oldest first; only the series with exactly these
    dimensions, and only values of `unit` when one is given. samples=False leaves the
    buckets without samples (no percentiles) and spares reading them."""
    if period <= 0 or period % 60:
        raise ValueError(f"period must be a positive multiple of 60, not {period}")
    namespace = stored_namespace(namespace, scope, recorder.default_scope)
    dims = dimension_pairs(dimensions)
    first = minute_of(epoch_seconds(start))
    end_s = epoch_seconds(end)
    end_minute = minute_of(end_s) + (60 if end_s % 60 else 0)  # minutes that begin before end
    buckets: dict[int, Bucket] = {}
    units: dict[int, dict[str, float]] = {}

    def add(
        minute: int,
        row_unit: str,
        count: float,
        total: float,
        low: float,
        high: float,
        samples: Sequence[float],
        sampled: float,
    ) -> None:
        start_of = first + (minute - first) // period * period
        bucket = buckets.get(start_of)
        if bucket is None:
            bucket = buckets[start_of] = Bucket(float(start_of))
        bucket.add(count, total, low, high, samples, sampled)
        seen = units.setdefault(start_of, {})
        seen[row_unit] = seen.get(row_unit, 0) + count

    async with recorder.reading():
        if recorder.store is not None:
            rows = await recorder.store.read_metrics(
                namespace, name, dimensions_key(dims), first, end_minute, unit, samples
            )
            for row in rows:
                add(row.minute, row.unit, row.count, row.sum, row.minimum, row.maximum, row.samples, row.sampled)
        memory = recorder.minutes_in_memory(namespace, name, dims, unit, first, end_minute, samples)
    for item in memory:
        add(*item)
    result = []
    for start_of in sorted(buckets):
        bucket = buckets[start_of]
        if bucket.count <= 0 and not bucket.samples:
            continue
        # The bucket's unit: the one asked for, else the one most of its values came in.
        bucket.unit = unit or max(units[start_of].items(), key=lambda item: item[1])[0]
        result.append(bucket)
    return result


async def list_metric_ids(
    recorder: MetricsRecorder,
    namespace: str | None = None,
    name: str | None = None,
    dimensions: Mapping[str, str | None] | Iterable[tuple[str, str | None]] | None = None,
    *,
    since: float | datetime | None = None,
    scope: Scope | None = None,
) -> list[MetricId]:
    """Distinct metrics of the scope (the default one if None), sorted. dimensions
    filters: each named dimension must be present (with that value, unless the value is
    None); since: only metrics with data from then on."""
    wanted = dict(dimensions.items() if isinstance(dimensions, Mapping) else dimensions or ())
    own = None if scope is None or scope == recorder.default_scope else scope
    namespace_stored = None if namespace is None else stored_namespace(namespace, scope, recorder.default_scope)
    since_minute = minute_of(epoch_seconds(since)) if since is not None else None
    found: set[MetricId] = set()
    async with recorder.reading():
        if recorder.store is not None:
            for ns, metric, dims in await recorder.store.list_metric_series(namespace_stored, name, since_minute):
                found.add(MetricId(ns, metric, parse_dimensions_key(dims)))
        found |= recorder.series_in_memory(since_minute)
    result = []
    for metric in found:
        metric_scope, bare = split_namespace(metric.namespace)
        if metric_scope != own or (namespace is not None and bare != namespace):
            continue
        metric = MetricId(bare, metric.name, metric.dimensions)
        if name is not None and metric.name != name:
            continue
        if wanted:
            present = dict(metric.dimensions)
            if any(
                key not in present or (value is not None and present[key] != value) for key, value in wanted.items()
            ):
                continue
        result.append(metric)
    result.sort(key=lambda m: (m.namespace, m.name, m.dimensions))
    return result
