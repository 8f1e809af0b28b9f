"""Metric rows: CloudWatch metrics aggregated per series and minute (count, sum, min, max and
a bounded sample of the values, from which percentiles are estimated).

What a backend must honour:
- A row is identified by (namespace, name, dimensions, unit, minute). Writing a row whose
  identity is already stored leaves merge_metric_rows(stored, written, max_samples) in
  its place, never two rows and never the last one alone. Rows of one series are merged
  in the order they are written (within a batch, in the batch's order), and a merge is
  not lost to a concurrent one: with several writers, the read and the replace of a
  minute are one step.
- A row written where none was is stored as given; a merged one holds at most the
  max_samples of the write that merged it (merge_metric_rows resamples the union).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class MetricRow:
    """One metric series in one minute. `dimensions` is the series' canonical key (a JSON
    array of sorted [name, value] pairs); `samples` is a uniform sample of the `sampled`
    raw values seen that minute (statistic sets add to count without adding samples)."""

    namespace: str
    name: str
    dimensions: str
    unit: str
    minute: int  # seconds since the epoch, a multiple of 60
    count: float
    sum: float
    minimum: float
    maximum: float
    samples: tuple[float, ...] = ()
    sampled: float = 0.0


@dataclass(frozen=True)
class PutMetricData:
    """Add rows to the metric table; a row whose minute is already stored is merged into it."""

    rows: tuple[MetricRow, ...]
    max_samples: int = 1000


def merge_metric_rows(old: MetricRow, new: MetricRow, max_samples: int = 1000) -> MetricRow:
    """Two aggregates of one series and minute -> one. Samples are kept proportional to the
    values they stand for: when the union is too large, it is resampled by weight."""
    samples = old.samples + new.samples
    sampled = old.sampled + new.sampled
    if len(samples) > max_samples:
        samples = _resample((old, new), max_samples)
    return MetricRow(
        old.namespace,
        old.name,
        old.dimensions,
        old.unit,
        old.minute,
        count=old.count + new.count,
        sum=old.sum + new.sum,
        minimum=min(old.minimum, new.minimum),
        maximum=max(old.maximum, new.maximum),
        samples=samples,
        sampled=sampled,
    )


def _resample(rows: tuple[MetricRow, ...], size: int) -> tuple[float, ...]:
    # Systematic sampling over the cumulative weight of the values, in sorted order: the
    # weighted distribution (hence every percentile) is kept, deterministically.
    weighted = sorted((value, row.sampled / len(row.samples)) for row in rows if row.samples for value in row.samples)
    total = math.fsum(weight for _, weight in weighted)
    step = total / size
    chosen: list[float] = []
    target = step / 2
    running = 0.0
    for value, weight in weighted:
        running += weight
        while running >= target and len(chosen) < size:
            chosen.append(value)
            target += step
    return tuple(chosen)


class MetricStore(Protocol):
    """Reads of metric rows. Writes are PutMetricData given to Store.write."""

    async def read_metrics(
        self,
        namespace: str,
        name: str,
        dimensions: str,
        start_minute: int,
        end_minute: int,
        unit: str | None = None,
        with_samples: bool = True,
    ) -> list[MetricRow]:
        """The rows of one series with start_minute <= minute < end_minute (of `unit` only,
        when given), by minute then unit; without their samples (empty; `sampled` is still
        given) unless with_samples, as only percentiles need them."""
        ...

    async def list_metric_series(
        self, namespace: str | None = None, name: str | None = None, since_minute: int | None = None
    ) -> list[tuple[str, str, str]]:
        """Distinct (namespace, name, dimensions) with a row at or after since_minute (of
        `namespace` and `name` only, when given), sorted."""
        ...
