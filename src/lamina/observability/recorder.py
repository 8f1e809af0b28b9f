"""The metrics recorder: CloudWatch-style metrics recorded in memory per minute, kept in the store.

Two ways in, with two promises:

- The engine's own metrics (AWS/Lambda, high-rate, on the invoke path) call put() and
  put_values(): non-blocking, no I/O, aggregated in memory per series and minute. A
  background task writes every minute in memory to the store each FLUSH_INTERVAL_S, the
  minute in progress included (its later values go to a fresh minute in memory, and the
  store merges rows of the same minute). A kill -9 loses at most the values put since the
  last flush (FLUSH_INTERVAL_S, plus the second the engine's telemetry tallies before it
  puts).
- An accepted write (CloudWatch's PutMetricData) builds a MetricBatch and awaits write():
  its minutes go straight to the store as one PutMetricData op, through the store's group
  commit, and never into memory; write() returns once they are committed, so the 200
  comes after they are durable.

    recorder.put(namespace, name, dimensions, value, unit="None", timestamp=None)
    recorder.put_values(namespace, name, dimensions, values, unit="None")
    batch = recorder.batch(); batch.put(...); batch.put_statistics(...); await recorder.write(batch)
    recorder.start() / await recorder.flush() / await recorder.close()

Reading is queries.py's (store and the minutes in memory) and /metrics' (http/metrics.py:
the totals since start). Every query sees store + memory exactly once: a flush (taking
minutes out of memory, then committing them) and a query (reading the store, then memory,
inside reading()) never interleave; a batch's minutes are only ever in the store, which
shows a query all of the batch or none of it.

Nothing prunes metric rows: they are kept at one-minute resolution until deleted by hand
(AWS keeps 15 months, coarser as they age).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from datetime import datetime

from ..store.base import MetricRow, PutMetricData
from .series import (
    MAX_SAMPLES,
    Dimensions,
    MetricId,
    Minute,
    Scope,
    SeriesKey,
    as_row,
    cached_pairs,
    dimension_pairs,
    epoch_seconds,
    minute_of,
    stored_namespace,
)

log = logging.getLogger("lamina.metrics")

FLUSH_INTERVAL_S = 5.0


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


class MetricBatch:
    """Datapoints of one accepted write (a PutMetricData call), aggregated per series and
    minute exactly as the recorder's put() would (and statistic sets, which only
    PutMetricData sends); recorder.write()
    commits them. Built on the event loop, no I/O."""

    __slots__ = ("default_scope", "minutes", "totals")

    def __init__(self, default_scope: Scope) -> None:
        self.default_scope = default_scope
        self.minutes: dict[tuple[SeriesKey, int], Minute] = {}
        self.totals: dict[SeriesKey, list[float]] = {}  # as the recorder's: [count, sum, last]

    def _minute(self, series: SeriesKey, minute: int) -> Minute:
        data = self.minutes.get((series, minute))
        if data is None:
            data = self.minutes[(series, minute)] = Minute()
        return data

    def _total(self, series: SeriesKey, count: float, total: float, last: float) -> None:
        sums = self.totals.setdefault(series, [0.0, 0.0, 0.0])
        sums[0] += count
        sums[1] += total
        sums[2] = last

    def put(
        self,
        namespace: str,
        name: str,
        dimensions: Dimensions,
        value: float,
        unit: str = "None",
        timestamp: float | datetime | None = None,
        *,
        count: float = 1,
        scope: Scope | None = None,
    ) -> None:
        """`count` observations of value, as MetricsRecorder.put (non-finite values dropped)."""
        value = float(value)
        if not math.isfinite(value) or count < 0:
            return
        series = (
            stored_namespace(namespace, scope, self.default_scope),
            name,
            dimension_pairs(dimensions),
            unit or "None",
        )
        self._minute(series, minute_of(epoch_seconds(timestamp))).add(value, count)
        self._total(series, count, value * count, value)

    def put_statistics(
        self,
        namespace: str,
        name: str,
        dimensions: Dimensions,
        sample_count: float,
        total: float,
        minimum: float,
        maximum: float,
        unit: str = "None",
        timestamp: float | datetime | None = None,
        *,
        scope: Scope | None = None,
    ) -> None:
        """A pre-aggregated statistic set (CloudWatch's StatisticValues)."""
        if not all(map(math.isfinite, (sample_count, total, minimum, maximum))) or sample_count <= 0:
            return
        series = (
            stored_namespace(namespace, scope, self.default_scope),
            name,
            dimension_pairs(dimensions),
            unit or "None",
        )
        self._minute(series, minute_of(epoch_seconds(timestamp))).add_statistics(sample_count, total, minimum, maximum)
        self._total(series, sample_count, total, maximum)

    def rows(self) -> tuple[MetricRow, ...]:
        return tuple(as_row(series, minute, data) for (series, minute), data in self.minutes.items())


class MetricsRecorder:
    """Aggregates metric values per series and minute in memory, writing them to `store`
    every flush_interval_s; writes accepted batches (write()) to the store before returning.

    Without a store (tests, tools) it only keeps memory. put() may be called from any
    thread; everything else belongs to the event loop that called start().
    """

    def __init__(
        self,
        store=None,
        *,
        flush_interval_s: float = FLUSH_INTERVAL_S,
        default_scope: Scope = ("us-east-1", "000000000000"),
    ) -> None:
        self.store = store
        self.default_scope = default_scope
        self.flush_interval_s = flush_interval_s
        self._guard = threading.Lock()  # put() against the flush's swap; held for O(1) work
        self._open: dict[tuple[SeriesKey, int], Minute] = {}
        # Since the recorder started, per series: [count, sum, last value] (what /metrics shows).
        self._totals: dict[SeriesKey, list[float]] = {}
        self._consistency: _ReadersWriter | None = None  # queries share it, a flush has it alone
        self._task: asyncio.Task | None = None
        self._stopping: asyncio.Event | None = None

    # --- recording (hot path) -----------------------------------------------------------

    def put(
        self,
        namespace: str,
        name: str,
        dimensions: dict[str, str],
        value: float,
        unit: str = "None",
        timestamp: float | None = None,
        *,
        count: float = 1,
        scope: Scope | None = None,
    ) -> None:
        """Record `count` observations of value (no I/O). Non-finite values are dropped."""
        value = float(value)
        if not math.isfinite(value) or count < 0:
            return
        if scope is not None:
            namespace = stored_namespace(namespace, scope, self.default_scope)
        pairs = cached_pairs(dimensions) if isinstance(dimensions, dict) else dimension_pairs(dimensions)
        series = (namespace, name, pairs, unit or "None")
        minute = int((time.time() if timestamp is None else epoch_seconds(timestamp)) // 60) * 60
        with self._guard:
            data = self._open.get((series, minute))
            if data is None:
                data = self._open[(series, minute)] = Minute()
            data.add(value, count)
            total = self._totals.get(series)
            if total is None:
                total = self._totals[series] = [0.0, 0.0, 0.0]
            total[0] += count
            total[1] += value * count
            total[2] = value

    def put_values(
        self,
        namespace: str,
        name: str,
        dimensions: dict[str, str],
        values: list[float],
        unit: str = "None",
        *,
        scope: Scope | None = None,
    ) -> None:
        """Record many observations of one series now: put() for each, with one lookup (the
        engine flushes a second of invocation durations this way)."""
        values = [float(v) for v in values if math.isfinite(v)]
        if not values:
            return
        if scope is not None:
            namespace = stored_namespace(namespace, scope, self.default_scope)
        series = (namespace, name, cached_pairs(dimensions), unit or "None")
        minute = int(time.time() // 60) * 60
        with self._guard:
            data = self._open.get((series, minute))
            if data is None:
                data = self._open[(series, minute)] = Minute()
            data.add_many(values)
            total = self._totals.get(series)
            if total is None:
                total = self._totals[series] = [0.0, 0.0, 0.0]
            total[0] += len(values)
            total[1] += sum(values)
            total[2] = values[-1]

    # --- accepted writes (PutMetricData) -------------------------------------------------

    def batch(self) -> MetricBatch:
        """An empty batch of datapoints in this recorder's scopes, for write()."""
        return MetricBatch(self.default_scope)

    async def write(self, batch: MetricBatch) -> None:
        """Commit a batch's minutes to the store (one PutMetricData op; concurrent writes
        share the store's group commit) and return once they are durable. They never enter
        memory, so a query counts them once: the store shows it the whole batch or none of
        it. Without a store they join the minutes in memory instead. Raises what the store
        raises; then nothing of the batch was kept."""
        if not batch.minutes:
            return
        if self.store is None:
            with self._guard:
                for key, data in batch.minutes.items():
                    current = self._open.get(key)
                    if current is None:
                        self._open[key] = data
                    else:
                        current.merge(data)
            self._add_totals(batch.totals)
            return
        try:
            await self.store.write([PutMetricData(batch.rows(), MAX_SAMPLES)])
        except asyncio.CancelledError:
            self._add_totals(batch.totals)  # cancelled is not refused: the batch is queued and will commit
            raise
        self._add_totals(batch.totals)

    def _add_totals(self, totals: dict[SeriesKey, list[float]]) -> None:
        with self._guard:
            for series, (count, total, last) in totals.items():
                sums = self._totals.get(series)
                if sums is None:
                    sums = self._totals[series] = [0.0, 0.0, 0.0]
                sums[0] += count
                sums[1] += total
                sums[2] = last

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Start the background flush (every minute in memory, each flush_interval_s) on the
        running loop (a no-op without a store)."""
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
                # The minute in progress too: a kill -9 then loses at most one interval.
                await self.flush(everything=True)
            except Exception:
                log.exception("flushing metrics failed; will retry")

    async def flush(self, everything: bool = False) -> int:
        """Write the minutes that have ended (all minutes, the one in progress included, with
        everything=True, as the background flush does); the row count. A minute written in
        part goes on in memory as a new one, merged into the stored row by its next flush."""
        if self.store is None:
            return 0
        async with self._lock().writing():
            limit = math.inf if everything else minute_of(time.time())
            with self._guard:
                ready = {key: data for key, data in self._open.items() if key[1] < limit}
                for key in ready:
                    del self._open[key]
            if not ready:
                return 0
            rows = tuple(as_row(series, minute, data) for (series, minute), data in ready.items())
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

    def _lock(self) -> _ReadersWriter:
        if self._consistency is None:
            self._consistency = _ReadersWriter()
        return self._consistency

    # --- what readers see (queries.py, /metrics) ----------------------------------------

    def reading(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Held across a read of the store and then of memory: no flush moves minutes from
        one to the other meanwhile, so the two together hold every value exactly once."""
        return self._lock().reading()

    def minutes_in_memory(
        self,
        namespace: str,
        name: str,
        dims: tuple[tuple[str, str], ...],
        unit: str | None,
        first: int,
        end_minute: int,
        samples: bool,
    ) -> list[tuple]:
        """The minutes from first to end_minute (exclusive) still in memory of the series with
        exactly these (stored) namespace, name and dimensions (and unit, unless None), each as
        (minute, unit, count, sum, minimum, maximum, samples, sampled); samples=False leaves
        the samples out. Copied under the guard: put() may be changing them on another thread."""
        with self._guard:
            return [
                (
                    minute,
                    series[3],
                    data.count,
                    data.sum,
                    data.minimum,
                    data.maximum,
                    list(data.samples) if samples else [],
                    data.sampled,
                )
                for (series, minute), data in self._open.items()
                if series[0] == namespace
                and series[1] == name
                and series[2] == dims
                and (unit is None or series[3] == unit)
                and first <= minute < end_minute
            ]

    def series_in_memory(self, since_minute: int | None) -> set[MetricId]:
        """Every series with a minute in memory (from since_minute on, unless None), with its
        namespace as stored."""
        with self._guard:
            return {
                MetricId(series[0], series[1], series[2])
                for (series, minute) in self._open
                if since_minute is None or minute >= since_minute
            }

    async def reset(self) -> None:
        """Forget every datapoint not yet written and every total (/metrics), as if new: the
        server's reset, whose caller deletes the stored rows next. Under the writer's lock,
        so that no flush in flight writes old minutes back after that delete."""
        async with self._lock().writing():
            with self._guard:
                self._open.clear()
                self._totals.clear()

    def totals(self) -> list[tuple[SeriesKey, list[float]]]:
        """Every series put since the recorder started, with [count, sum, last value] of all
        its values (what /metrics shows), its namespace as stored."""
        with self._guard:
            return [(series, list(values)) for series, values in self._totals.items()]
