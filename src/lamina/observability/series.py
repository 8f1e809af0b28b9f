"""A metric series and its data per minute: what the recorder, the queries and /metrics share.

A series is (namespace, name, sorted dimensions, unit); its data is aggregated per minute
(count, sum, min, max and a reservoir of at most MAX_SAMPLES values, for percentiles).
Minute is that aggregate as put() builds it in memory; MetricRow (the store's) is the same
aggregate kept; Bucket is what a query adds them up into, over a period.

Every account has, in every region, metrics of its own. A series of the recorder's
`default_scope` (the server's own account and region) keeps its namespace as it is; any
other's is stored as ":<account>:<region>:<namespace>", which no CloudWatch namespace can be
(none starts with ":"). Callers pass `scope=(region, account)` and see bare namespaces.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ..store.base import MetricRow, merge_metric_rows

MAX_SAMPLES = 1000  # per series and minute
_EXACT_REPLACEMENTS = 32  # beyond this many repeats of one value, replacements are drawn at once

Dimensions = Mapping[str, str] | Iterable[tuple[str, str]] | None
Scope = tuple[str, str]  # (region, account)
SeriesKey = tuple[str, str, tuple[tuple[str, str], ...], str]  # namespace, name, dimensions, unit


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
        pairs = sorted(zip(self.samples, weights, strict=True))
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
        self.add(row.count, row.sum, row.minimum, row.maximum, row.samples, row.sampled)

    def add(
        self, count: float, total: float, minimum: float, maximum: float, samples: Sequence[float], sampled: float
    ) -> None:
        """Add one minute's aggregate; its `samples` stand for `sampled` values."""
        self.count += count
        self.sum += total
        self.minimum = min(self.minimum, minimum)
        self.maximum = max(self.maximum, maximum)
        if samples:
            weight = sampled / len(samples)
            self.samples.extend(samples)
            self.weights.extend([weight] * len(samples))


class Minute:
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
        for slot, value in zip(
            random.sample(range(MAX_SAMPLES), replaced), random.sample(values, replaced), strict=True
        ):
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

    def merge(self, other: Minute) -> None:
        anonymous: SeriesKey = ("", "", (), "None")
        row = merge_metric_rows(as_row(anonymous, 0, self), as_row(anonymous, 0, other), MAX_SAMPLES)
        self.count, self.sum, self.minimum, self.maximum = row.count, row.sum, row.minimum, row.maximum
        self.samples, self.sampled = list(row.samples), int(row.sampled)


def as_row(series: SeriesKey, minute: int, data: Minute) -> MetricRow:
    """A series' minute as the store keeps it."""
    namespace, name, dims, unit = series
    return MetricRow(
        namespace,
        name,
        dimensions_key(dims),
        unit,
        minute,
        data.count,
        data.sum,
        data.minimum,
        data.maximum,
        tuple(data.samples),
        float(data.sampled),
    )


# --- dimensions ---------------------------------------------------------------------------


def dimensions_key(dimensions: tuple[tuple[str, str], ...]) -> str:
    """The canonical text of a dimension set, as the store keys series by it."""
    return json.dumps([list(pair) for pair in dimensions], separators=(",", ":"), ensure_ascii=False)


def parse_dimensions_key(text: str) -> tuple[tuple[str, str], ...]:
    return tuple((name, value) for name, value in json.loads(text))


def dimension_pairs(dimensions: Dimensions) -> tuple[tuple[str, str], ...]:
    """Dimensions as a series has them: sorted (name, value) pairs."""
    if not dimensions:
        return ()
    items = dimensions.items() if isinstance(dimensions, Mapping) else dimensions
    return tuple(sorted((str(name), str(value)) for name, value in items))


_PAIRS_CACHE_SIZE = 10_000
_pairs_cache: dict[tuple, tuple[tuple[str, str], ...]] = {}


def cached_pairs(dimensions: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """dimension_pairs for the hot path: the engine puts the same few dicts over and over."""
    if not dimensions:
        return ()
    items = tuple(dimensions.items())
    pairs = _pairs_cache.get(items)
    if pairs is None:
        if len(_pairs_cache) >= _PAIRS_CACHE_SIZE:
            _pairs_cache.clear()
        pairs = _pairs_cache[items] = dimension_pairs(items)
    return pairs


# --- scopes -------------------------------------------------------------------------------


def stored_namespace(namespace: str, scope: Scope | None, default_scope: Scope) -> str:
    """The namespace as stored: bare in the default scope, prefixed in any other."""
    if scope is None or scope == default_scope:
        return namespace
    return f":{scope[1]}:{scope[0]}:{namespace}"


def split_namespace(stored: str) -> tuple[Scope | None, str]:
    """(the scope, or None for the default one; the namespace as callers know it)."""
    if stored.startswith(":"):
        _, account, region, namespace = stored.split(":", 3)
        return (region, account), namespace
    return None, stored


# --- time ---------------------------------------------------------------------------------


def epoch_seconds(moment: float | datetime | None) -> float:
    """Seconds since the epoch of a timestamp or datetime; now for None."""
    if moment is None:
        return time.time()
    if isinstance(moment, datetime):
        return moment.timestamp()
    return float(moment)


def minute_of(seconds: float) -> int:
    return int(seconds // 60) * 60
