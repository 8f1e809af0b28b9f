"""CloudWatch-style metrics: recorded in memory per minute, kept in the store.

The engine and the services call put() on the hot path (non-blocking, no I/O); a
background task flushes finished minutes to the store. Queries (GetMetricData,
GetMetricStatistics, ListMetrics, Prometheus) read the store and the minute in progress.

Interface (the implementation may grow, these signatures stay):

    recorder.put(namespace, name, dimensions, value, unit="None", timestamp=None)
    recorder.start() / await recorder.close()
    await recorder.query(namespace, name, dimensions, start, end, period) -> list[Bucket]
    await recorder.list_metrics(namespace=None, name=None, dimensions=None) -> list[MetricId]
    recorder.prometheus() -> str

A series is (namespace, name, sorted dimensions, unit); its data is aggregated per minute
(count, sum, min, max and a reservoir of at most MAX_SAMPLES values, for percentiles).
A minute lives in memory until it has ended, then goes to the store in one PutMetricData
batch; a minute written again later (late data) is merged into the stored row by the store.
Every query sees store + memory exactly once: a flush (taking minutes out of memory, then
committing them) and a query (reading the store, then memory) never interleave.

Every account has, in every region, metrics of its own. A series of the recorder's
`default_scope` (the server's own account and region) keeps its namespace as it is; any
other's is stored as ":<account>:<region>:<namespace>", which no CloudWatch namespace can be
(none starts with ":"). Callers pass `scope=(region, account)` and see bare namespaces.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import random
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable, Mapping, Sequence

from ..store.base import MetricRow, PutMetricData, merge_metric_rows

log = logging.getLogger("lamina.metrics")

MAX_SAMPLES = 1000  # per series and minute
FLUSH_INTERVAL_S = 5.0
_EXACT_REPLACEMENTS = 32  # beyond this many repeats of one value, replacements are drawn at once

Dimensions = Mapping[str, str] | Iterable[tuple[str, str]] | None
Scope = tuple[str, str]  # (region, account)
_SeriesKey = tuple[str, str, tuple[tuple[str, str], ...], str]  # namespace, name, dimensions, unit


@dataclass(frozen=True)
class MetricId:
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]  # sorted (name, value) pairs


@dataclass
class Bucket:
    timestamp: float  # start of the period, seconds since the epoch
    count: float = 0
    sum: float = 0.0
    minimum: float = float("inf")
    maximum: float = float("-inf")
    unit: str = "None"
    samples: list[float] = field(default_factory=list)  # for percentiles
    weights: list[float] = field(default_factory=list)  # how many values each sample stands for

    @property
    def average(self) -> float:
        return self.sum / self.count if self.count else 0.0

    def percentile(self, p: float) -> float | None:
        """The p-th percentile (0-100) of the values, estimated from the samples; None without any."""
        if not self.samples:
            return None
        weights = self.weights or [1.0] * len(self.samples)
        pairs = sorted(zip(self.samples, weights))
        total = math.fsum(weights)
        if total <= 0:
            return None
        # Nearest rank: the smallest value whose cumulative share reaches p.
        target = total * max(0.0, min(100.0, p)) / 100.0
        running = 0.0
        for value, weight in pairs:
            running += weight
            if running >= target - 1e-9 * total:
                return value
        return pairs[-1][0]

    def add_row(self, row: MetricRow) -> None:
        self._add(row.count, row.sum, row.minimum, row.maximum, row.samples, row.sampled)

    def _add(self, count: float, total: float, minimum: float, maximum: float, samples: Sequence[float],
             sampled: float) -> None:
        self.count += count
        self.sum += total
        self.minimum = min(self.minimum, minimum)
        self.maximum = max(self.maximum, maximum)
        if samples:
            weight = sampled / len(samples)
            self.samples.extend(samples)
            self.weights.extend([weight] * len(samples))


class _Minute:
    """One series in one minute, as put() builds it."""

    __slots__ = ("count", "sum", "minimum", "maximum", "samples", "sampled")

    def __init__(self) -> None:
        self.count = 0.0
        self.sum = 0.0
        self.minimum = math.inf
        self.maximum = -math.inf
        self.samples: list[float] = []
        self.sampled = 0  # raw values offered to the reservoir

    def add(self, value: float, count: float) -> None:
        self.count += count
        self.sum += value * count
        if value < self.minimum:
            self.minimum = value
        if value > self.maximum:
            self.maximum = value
        self.offer(value, max(1, round(count)) if count > 0 else 0)

    def add_many(self, values: list[float]) -> None:
        """add(value, 1) for each value, in a few C-level steps: the engine hands over a
        second's worth of durations at once."""
        self.count += len(values)
        self.sum += sum(values)
        low, high = min(values), max(values)
        if low < self.minimum:
            self.minimum = low
        if high > self.maximum:
            self.maximum = high
        samples = self.samples
        free = MAX_SAMPLES - len(samples)
        if free > 0:
            samples.extend(values[:free])
            self.sampled += min(free, len(values))
            values = values[free:]
        if not values:
            return
        # As offer() does for repeated values: the expected number of slots the new values
        # take (MAX * ln((seen + new) / seen)), drawn as distinct slots at once, each given
        # one of the new values drawn without replacement.
        expected = MAX_SAMPLES * math.log((self.sampled + len(values)) / self.sampled)
        replaced = min(MAX_SAMPLES, len(values), int(expected) + (random.random() < expected - int(expected)))
        for slot, value in zip(random.sample(range(MAX_SAMPLES), replaced), random.sample(values, replaced)):
            samples[slot] = value
        self.sampled += len(values)

    def add_statistics(self, count: float, total: float, minimum: float, maximum: float) -> None:
        self.count += count
        self.sum += total
        self.minimum = min(self.minimum, minimum)
        self.maximum = max(self.maximum, maximum)
        # A statistic set tells its values only when they are all alike (as AWS: percentiles
        # of statistic sets exist only for SampleCount 1 or Minimum == Maximum).
        if count > 0 and (minimum == maximum or count == 1):
            self.offer(minimum, max(1, round(count)))

    def offer(self, value: float, repeats: int) -> None:
        """Reservoir sampling (Algorithm R) of `repeats` copies of value, in bounded time."""
        samples = self.samples
        free = MAX_SAMPLES - len(samples)
        if free > 0:
            taken = min(free, repeats)
            samples.extend([value] * taken)
            self.sampled += taken
            repeats -= taken
        if repeats <= 0:
            return
        if repeats <= _EXACT_REPLACEMENTS:
            for _ in range(repeats):
                self.sampled += 1
                slot = int(random.random() * self.sampled)
                if slot < MAX_SAMPLES:
                    samples[slot] = value
            return
        # Each of the next copies replaces a slot with chance MAX/seen: in expectation
        # MAX * ln((seen + repeats) / seen) replacements, drawn as distinct slots at once.
        expected = MAX_SAMPLES * math.log((self.sampled + repeats) / self.sampled)
        replaced = min(MAX_SAMPLES, int(expected) + (random.random() < expected - int(expected)))
        for slot in random.sample(range(MAX_SAMPLES), replaced):
            samples[slot] = value
        self.sampled += repeats

    def merge(self, other: "_Minute") -> None:
        anonymous: _SeriesKey = ("", "", (), "None")
        row = merge_metric_rows(_as_row(anonymous, 0, self), _as_row(anonymous, 0, other), MAX_SAMPLES)
        self.count, self.sum, self.minimum, self.maximum = row.count, row.sum, row.minimum, row.maximum
        self.samples, self.sampled = list(row.samples), int(row.sampled)


def dimensions_key(dimensions: tuple[tuple[str, str], ...]) -> str:
    """The canonical text of a dimension set, as the store keys series by it."""
    return json.dumps([list(pair) for pair in dimensions], separators=(",", ":"), ensure_ascii=False)


def _parse_dimensions_key(text: str) -> tuple[tuple[str, str], ...]:
    return tuple((name, value) for name, value in json.loads(text))


def _dimension_pairs(dimensions: Dimensions) -> tuple[tuple[str, str], ...]:
    if not dimensions:
        return ()
    items = dimensions.items() if isinstance(dimensions, Mapping) else dimensions
    return tuple(sorted((str(name), str(value)) for name, value in items))


_PAIRS_CACHE_SIZE = 10_000
_pairs_cache: dict[tuple, tuple[tuple[str, str], ...]] = {}


def _cached_pairs(dimensions: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """_dimension_pairs for the hot path: the engine puts the same few dicts over and over."""
    if not dimensions:
        return ()
    items = tuple(dimensions.items())
    pairs = _pairs_cache.get(items)
    if pairs is None:
        if len(_pairs_cache) >= _PAIRS_CACHE_SIZE:
            _pairs_cache.clear()
        pairs = _pairs_cache[items] = _dimension_pairs(items)
    return pairs


def _split_namespace(stored: str) -> tuple[Scope | None, str]:
    """(the scope, or None for the default one; the namespace as callers know it)."""
    if stored.startswith(":"):
        _, account, region, namespace = stored.split(":", 3)
        return (region, account), namespace
    return None, stored


def _seconds(moment: float | datetime | None) -> float:
    if moment is None:
        return time.time()
    if isinstance(moment, datetime):
        return moment.timestamp()
    return float(moment)


def _minute_of(seconds: float) -> int:
    return int(seconds // 60) * 60


def _as_row(series: _SeriesKey, minute: int, data: _Minute) -> MetricRow:
    namespace, name, dims, unit = series
    return MetricRow(namespace, name, dimensions_key(dims), unit, minute, data.count, data.sum,
                     data.minimum, data.maximum, tuple(data.samples), float(data.sampled))


class _ReadersWriter:
    """Many readers or one writer; a waiting writer holds back new readers (flushes are not starved)."""

    def __init__(self) -> None:
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0
        self._changed = asyncio.Condition()

    @contextlib.asynccontextmanager
    async def reading(self):
        async with self._changed:
            await self._changed.wait_for(lambda: not self._writing and not self._writers_waiting)
            self._readers += 1
        try:
            yield
        finally:
            async with self._changed:
                self._readers -= 1
                self._changed.notify_all()

    @contextlib.asynccontextmanager
    async def writing(self):
        async with self._changed:
            self._writers_waiting += 1
            try:
                await self._changed.wait_for(lambda: not self._writing and not self._readers)
            finally:
                self._writers_waiting -= 1
                self._changed.notify_all()  # readers held back by a writer that gave up
            self._writing = True
        try:
            yield
        finally:
            async with self._changed:
                self._writing = False
                self._changed.notify_all()


class MetricsRecorder:
    """Aggregates metric values per series and minute in memory; keeps ended minutes in `store`.

    Without a store (tests, tools) it only keeps memory. put() may be called from any
    thread; everything else belongs to the event loop that called start().
    """

    def __init__(self, store=None, *, flush_interval_s: float = FLUSH_INTERVAL_S,
                 default_scope: Scope = ("us-east-1", "000000000000")) -> None:
        self.store = store
        self.default_scope = default_scope
        self.flush_interval_s = flush_interval_s
        self._guard = threading.Lock()  # put() against the flush's swap; held for O(1) work
        self._open: dict[tuple[_SeriesKey, int], _Minute] = {}
        # Since the recorder started, per series: [count, sum, last value] (what /metrics shows).
        self._totals: dict[_SeriesKey, list[float]] = {}
        self._consistency: _ReadersWriter | None = None  # queries share it, a flush has it alone
        self._task: asyncio.Task | None = None
        self._stopping: asyncio.Event | None = None

    def _namespace(self, namespace: str, scope: Scope | None) -> str:
        """The namespace as stored: bare in the default scope, prefixed in any other."""
        if scope is None or scope == self.default_scope:
            return namespace
        return f":{scope[1]}:{scope[0]}:{namespace}"

    # --- recording (hot path) -----------------------------------------------------------

    def put(self, namespace: str, name: str, dimensions: dict[str, str], value: float, unit: str = "None",
            timestamp: float | None = None, *, count: float = 1, scope: Scope | None = None) -> None:
        """Record `count` observations of value (no I/O). Non-finite values are dropped."""
        value = float(value)
        if not math.isfinite(value) or count < 0:
            return
        if scope is not None:
            namespace = self._namespace(namespace, scope)
        pairs = _cached_pairs(dimensions) if isinstance(dimensions, dict) else _dimension_pairs(dimensions)
        series = (namespace, name, pairs, unit or "None")
        minute = int((time.time() if timestamp is None else _seconds(timestamp)) // 60) * 60
        with self._guard:
            data = self._open.get((series, minute))
            if data is None:
                data = self._open[(series, minute)] = _Minute()
            data.add(value, count)
            total = self._totals.get(series)
            if total is None:
                total = self._totals[series] = [0.0, 0.0, 0.0]
            total[0] += count
            total[1] += value * count
            total[2] = value

    def put_values(self, namespace: str, name: str, dimensions: dict[str, str], values: list[float],
                   unit: str = "None", *, scope: Scope | None = None) -> None:
        """Record many observations of one series now: put() for each, with one lookup (the
        engine flushes a second of invocation durations this way)."""
        values = [float(v) for v in values if math.isfinite(v)]
        if not values:
            return
        if scope is not None:
            namespace = self._namespace(namespace, scope)
        series = (namespace, name, _cached_pairs(dimensions), unit or "None")
        minute = int(time.time() // 60) * 60
        with self._guard:
            data = self._open.get((series, minute))
            if data is None:
                data = self._open[(series, minute)] = _Minute()
            data.add_many(values)
            total = self._totals.get(series)
            if total is None:
                total = self._totals[series] = [0.0, 0.0, 0.0]
            total[0] += len(values)
            total[1] += sum(values)
            total[2] = values[-1]

    def put_statistics(self, namespace: str, name: str, dimensions: dict[str, str], sample_count: float,
                       total: float, minimum: float, maximum: float, unit: str = "None",
                       timestamp: float | None = None, *, scope: Scope | None = None) -> None:
        """Record a pre-aggregated statistic set (CloudWatch's StatisticValues)."""
        if not all(map(math.isfinite, (sample_count, total, minimum, maximum))) or sample_count <= 0:
            return
        namespace = self._namespace(namespace, scope)
        series = (namespace, name, _dimension_pairs(dimensions), unit or "None")
        minute = _minute_of(_seconds(timestamp))
        with self._guard:
            data = self._open.get((series, minute))
            if data is None:
                data = self._open[(series, minute)] = _Minute()
            data.add_statistics(sample_count, total, minimum, maximum)
            sums = self._totals.setdefault(series, [0.0, 0.0, 0.0])
            sums[0] += sample_count
            sums[1] += total
            sums[2] = maximum

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Start the background flush on the running loop (a no-op without a store)."""
        if self._task is None and self.store is not None:
            self._stopping = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._flush_loop(), name="lamina-metrics-flush")

    async def close(self) -> None:
        """Stop the background flush and write everything still in memory, ended or not."""
        if self._task is not None and self._stopping is not None:
            # Not cancelled: a flush cut short could not tell whether its rows were committed.
            self._stopping.set()
            await self._task
            self._task = None
        await self.flush(everything=True)

    async def _flush_loop(self) -> None:
        assert self._stopping is not None
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), self.flush_interval_s)
                return
            except asyncio.TimeoutError:
                pass
            try:
                await self.flush()
            except Exception:
                log.exception("flushing metrics failed; will retry")

    async def flush(self, everything: bool = False) -> int:
        """Write the minutes that have ended (all minutes with everything=True); the row count."""
        if self.store is None:
            return 0
        async with self._lock().writing():
            limit = math.inf if everything else _minute_of(time.time())
            with self._guard:
                ready = {key: data for key, data in self._open.items() if key[1] < limit}
                for key in ready:
                    del self._open[key]
            if not ready:
                return 0
            rows = tuple(_as_row(series, minute, data) for (series, minute), data in ready.items())
            try:
                await self.store.write([PutMetricData(rows, MAX_SAMPLES)])
            except Exception:
                # Refused: keep them for the next try. (Cancelled is not refused: the batch is
                # queued and will commit, so putting it back would count it twice.)
                with self._guard:
                    for key, data in ready.items():
                        current = self._open.get(key)
                        if current is None:
                            self._open[key] = data
                        else:
                            data.merge(current)
                            self._open[key] = data
                raise
            return len(rows)

    def _lock(self) -> "_ReadersWriter":
        if self._consistency is None:
            self._consistency = _ReadersWriter()
        return self._consistency

    # --- reading ------------------------------------------------------------------------

    async def query(self, namespace: str, name: str, dimensions: Dimensions, start: float | datetime,
                    end: float | datetime, period: int, *, unit: str | None = None,
                    samples: bool = True, scope: Scope | None = None) -> list[Bucket]:
        """Non-empty buckets of `period` seconds (a multiple of 60) from start (rounded down to
        the minute) to end (exclusive), oldest first; only the series with exactly these
        dimensions, and only values of `unit` when one is given. samples=False leaves the
        buckets without samples (no percentiles) and spares reading them."""
        if period <= 0 or period % 60:
            raise ValueError(f"period must be a positive multiple of 60, not {period}")
        namespace = self._namespace(namespace, scope)
        dims = _dimension_pairs(dimensions)
        first = _minute_of(_seconds(start))
        end_s = _seconds(end)
        end_minute = _minute_of(end_s) + (60 if end_s % 60 else 0)  # minutes that begin before end
        buckets: dict[int, Bucket] = {}
        units: dict[int, dict[str, float]] = {}

        def add(minute: int, row_unit: str, count: float, total: float, low: float, high: float,
                samples: Sequence[float], sampled: float) -> None:
            start_of = first + (minute - first) // period * period
            bucket = buckets.get(start_of)
            if bucket is None:
                bucket = buckets[start_of] = Bucket(float(start_of))
            bucket._add(count, total, low, high, samples, sampled)
            seen = units.setdefault(start_of, {})
            seen[row_unit] = seen.get(row_unit, 0) + count

        async with self._lock().reading():
            if self.store is not None:
                rows = await self.store.read_metrics(namespace, name, dimensions_key(dims), first, end_minute, unit,
                                                     samples)
                for row in rows:
                    add(row.minute, row.unit, row.count, row.sum, row.minimum, row.maximum, row.samples, row.sampled)
            with self._guard:
                memory = [
                    (minute, series[3], data.count, data.sum, data.minimum, data.maximum,
                     list(data.samples) if samples else [], data.sampled)
                    for (series, minute), data in self._open.items()
                    if series[0] == namespace and series[1] == name and series[2] == dims
                    and (unit is None or series[3] == unit) and first <= minute < end_minute
                ]
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

    async def list_metrics(self, namespace: str | None = None, name: str | None = None,
                           dimensions: Mapping[str, str | None] | Iterable[tuple[str, str | None]] | None = None,
                           *, since: float | datetime | None = None, scope: Scope | None = None) -> list[MetricId]:
        """Distinct metrics of the scope (the default one if None), sorted. dimensions
        filters: each named dimension must be present (with that value, unless the value is
        None); since: only metrics with data from then on."""
        wanted = dict(dimensions.items() if isinstance(dimensions, Mapping) else dimensions or ())
        own = None if scope is None or scope == self.default_scope else scope
        stored_namespace = None if namespace is None else self._namespace(namespace, scope)
        since_minute = _minute_of(_seconds(since)) if since is not None else None
        found: set[MetricId] = set()
        async with self._lock().reading():
            if self.store is not None:
                for ns, metric, dims in await self.store.list_metric_series(stored_namespace, name, since_minute):
                    found.add(MetricId(ns, metric, _parse_dimensions_key(dims)))
            with self._guard:
                for (series, minute) in self._open:
                    if since_minute is None or minute >= since_minute:
                        found.add(MetricId(series[0], series[1], series[2]))
        result = []
        for metric in found:
            metric_scope, bare = _split_namespace(metric.namespace)
            if metric_scope != own or (namespace is not None and bare != namespace):
                continue
            metric = MetricId(bare, metric.name, metric.dimensions)
            if name is not None and metric.name != name:
                continue
            if wanted:
                present = dict(metric.dimensions)
                if any(key not in present or (value is not None and present[key] != value)
                       for key, value in wanted.items()):
                    continue
            result.append(metric)
        result.sort(key=lambda m: (m.namespace, m.name, m.dimensions))
        return result

    # --- Prometheus ---------------------------------------------------------------------

    def prometheus(self) -> str:
        """Every series put since start, in the Prometheus text exposition format (0.0.4).

        Values in Count are counters (`..._total`, the sum of the values), except the
        levels in GAUGES, shown as gauges of their last value; others are summaries
        (`..._count` and `..._sum`), times converted to seconds. Names are
        lamina_<namespace without AWS/>_<metric in snake case>; labels are the dimensions in
        snake case, less a trailing `_name` (FunctionName -> function).
        """
        with self._guard:
            totals = [(series, list(values)) for series, values in self._totals.items()]
        families: dict[str, tuple[str, str, list[tuple[str, str, float]]]] = {}
        for (stored, name, dims, unit), (count, total, last) in sorted(totals):
            scope, namespace = _split_namespace(stored)
            if scope is not None:  # another account's or region's: say whose
                dims = (("Account", scope[1]), ("Region", scope[0])) + dims
            kind, family, scale = _prometheus_family(namespace, name, unit)
            if family in families and families[family][0] != kind:
                family = f"{family}_{kind}"
            if family not in families:
                what = {"counter": "Sum of the values", "gauge": "Last value"}.get(kind, "Count and sum of the values")
                help_text = f"{what} of CloudWatch metric {namespace} {name} ({unit}) since the server started."
                families[family] = (kind, help_text, [])
            labels = _labels(dims)
            samples = families[family][2]
            if kind == "counter":
                samples.append((family, labels, total))
            elif kind == "gauge":
                samples.append((family, labels, last * scale))
            else:
                samples.append((family + "_count", labels, count))
                samples.append((family + "_sum", labels, total * scale))
        lines = []
        for family in sorted(families):
            kind, help_text, samples = families[family]
            lines.append(f"# HELP {family} {_escape_help(help_text)}")
            lines.append(f"# TYPE {family} {kind}")
            for sample_name, labels, value in samples:
                lines.append(f"{sample_name}{labels} {_number(value)}")
        return "\n".join(lines) + "\n" if lines else ""


# Metrics that are levels, not events: a sum over time means nothing, the last value does.
GAUGES = frozenset({
    "ConcurrentExecutions", "UnreservedConcurrentExecutions", "ProvisionedConcurrentExecutions",
    "ProvisionedConcurrencyUtilization", "ApproximateNumberOfMessagesVisible",
    "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed",
    "ApproximateAgeOfOldestMessage",
})
_TIME_SCALE = {"Seconds": 1.0, "Milliseconds": 1e-3, "Microseconds": 1e-6}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_INVALID = re.compile(r"[^a-zA-Z0-9_]+")


def _snake(text: str) -> str:
    return _INVALID.sub("_", _CAMEL.sub("_", text)).strip("_").lower()


def _prometheus_family(namespace: str, name: str, unit: str) -> tuple[str, str, float]:
    """(type, family name, factor to the family's unit) of a series."""
    space = namespace[4:] if namespace.startswith("AWS/") else namespace
    base = "_".join(part for part in ("lamina", _snake(space), _snake(name)) if part)
    if name in GAUGES:
        return "gauge", base, 1.0
    if unit == "Count":
        return "counter", f"{base}_total", 1.0
    if unit in _TIME_SCALE:
        return "summary", f"{base}_seconds", _TIME_SCALE[unit]
    suffix = _snake(unit.replace("/", "_per_")) if unit and unit != "None" else ""
    if suffix and not base.endswith("_" + suffix):
        base = f"{base}_{suffix}"
    return "summary", base, 1.0


def _labels(dims: tuple[tuple[str, str], ...]) -> str:
    if not dims:
        return ""
    parts = []
    used: set[str] = set()
    for name, value in dims:
        label = _snake(name)
        if label.endswith("_name") and len(label) > 5:
            label = label[:-5]
        if not label or label[0].isdigit() or label.startswith("__"):
            label = "dim_" + label.lstrip("_")
        while label in used:
            label += "_"
        used.add(label)
        escaped = value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
        parts.append(f'{label}="{escaped}"')
    return "{" + ",".join(parts) + "}"


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))
