"""The store interface: everything Lamina keeps, behind one small contract.

Two kinds of state live here:
- documents: control-plane records (functions, versions, aliases, log groups, ...), a JSON
  object under (kind, key), listed in key order;
- log events: append-only CloudWatch Logs events, read back by group, stream and time;
- metric rows: CloudWatch metrics aggregated per series and minute (count, sum, min, max
  and a bounded sample of the values for percentiles), merged when a minute is written twice;
- queued messages: SQS messages, one row each, with their visibility and receive count;
- stream records: Kinesis records, one row each, read back by shard in position order and
  trimmed from the front (too many, and too small, to be a document each).

Writes are batches of operations (Put, Delete, AppendLogs) applied atomically. A batch
returns only after it is committed to disk ("committed before acknowledged"); backends
commit many concurrent batches in one transaction (group commit) for throughput.
Reads see every batch that has returned.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol


@dataclass(frozen=True)
class Put:
    kind: str
    key: str
    doc: dict[str, Any]


@dataclass(frozen=True)
class Delete:
    kind: str
    key: str


@dataclass(frozen=True)
class DeletePrefix:
    kind: str
    prefix: str


@dataclass(frozen=True)
class LogEvent:
    timestamp: int  # ms since epoch, as the producer stamped it
    message: str


@dataclass(frozen=True)
class AppendLogs:
    group: str  # "<account>:<region>:<log group name>"
    stream: str
    events: tuple[LogEvent, ...]
    ingestion_time: int = 0


@dataclass(frozen=True)
class DeleteLogs:
    group: str
    stream: str | None = None  # None: the whole group


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


@dataclass(frozen=True)
class QueuedMessage:
    queue: str
    seq: int
    message: dict[str, Any]  # the message itself, as the queue's owner lays it out
    visible_at: int = 0  # ms since epoch
    receives: int = 0


@dataclass(frozen=True)
class PutMessages:
    messages: tuple[QueuedMessage, ...]


@dataclass(frozen=True)
class MarkReceived:
    """A message's new visibility deadline and receive count (rows that are gone are skipped)."""

    queue: str
    changes: tuple[tuple[int, int, int], ...]  # (seq, visible_at, receives)


@dataclass(frozen=True)
class DeleteMessages:
    queue: str
    seqs: tuple[int, ...] | None = None  # None: every message of the queue


class StreamRecordRow(NamedTuple):
    """One record of a data stream. A NamedTuple rather than a dataclass: a busy stream
    makes tens of thousands a second, and the same object is the row written, the row read
    back and the entry a stream keeps in memory."""

    stream: str  # the stream's incarnation id
    shard: str
    seq: int  # position in the stream: ascending across its shards, unique within it
    partition_key: str
    data: bytes


@dataclass(frozen=True)
class PutStreamRecords:
    rows: tuple[StreamRecordRow, ...] | list[StreamRecordRow]


@dataclass(frozen=True)
class TrimStreamRecords:
    """Drop a shard's records before a position (retention)."""

    stream: str
    shard: str
    before_seq: int


@dataclass(frozen=True)
class DeleteStreamRecords:
    stream: str  # every record of the stream


Op = (Put | Delete | DeletePrefix | AppendLogs | DeleteLogs | PutMetricData | PutMessages | MarkReceived
      | DeleteMessages | PutStreamRecords | TrimStreamRecords | DeleteStreamRecords)


@dataclass
class StoredLogEvent:
    event_id: int
    stream: str
    timestamp: int
    ingestion_time: int
    message: str


@dataclass
class LogQuery:
    group: str
    streams: list[str] | None = None
    stream_prefix: str | None = None
    start_time: int | None = None
    end_time: int | None = None
    after_id: int | None = None  # forward paging cursor
    before_id: int | None = None  # backward paging cursor
    limit: int = 10000
    forward: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


def merge_metric_rows(old: MetricRow, new: MetricRow, max_samples: int = 1000) -> MetricRow:
    """Two aggregates of one series and minute -> one. Samples are kept proportional to the
    values they stand for: when the union is too large, it is resampled by weight."""
    samples = old.samples + new.samples
    sampled = old.sampled + new.sampled
    if len(samples) > max_samples:
        samples = _resample((old, new), max_samples)
    return MetricRow(
        old.namespace, old.name, old.dimensions, old.unit, old.minute,
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
    weighted = sorted(
        (value, row.sampled / len(row.samples)) for row in rows if row.samples for value in row.samples
    )
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


class Store(Protocol):
    async def get(self, kind: str, key: str) -> dict[str, Any] | None: ...

    async def scan(
        self, kind: str, prefix: str = "", after: str | None = None, limit: int | None = None
    ) -> list[tuple[str, dict[str, Any]]]: ...

    async def write(self, ops: list[Op]) -> None: ...

    async def read_logs(self, query: LogQuery) -> list[StoredLogEvent]: ...

    async def read_metrics(
        self, namespace: str, name: str, dimensions: str, start_minute: int, end_minute: int,
        unit: str | None = None, with_samples: bool = True,
    ) -> list[MetricRow]:
        """The rows of one series with start_minute <= minute < end_minute, by minute; without
        their samples (empty) unless with_samples, as only percentiles need them."""
        ...

    async def list_metric_series(
        self, namespace: str | None = None, name: str | None = None, since_minute: int | None = None
    ) -> list[tuple[str, str, str]]:
        """Distinct (namespace, name, dimensions) with a row at or after since_minute, sorted."""
        ...

    async def read_messages(self, queue: str | None = None) -> list[QueuedMessage]: ...

    async def read_stream_records(
        self, stream: str, shard: str, after_seq: int | None = None, before_seq: int | None = None,
        limit: int = 10000, newest: bool = False,
    ) -> list[StreamRecordRow]:
        """A shard's records with after_seq < seq < before_seq, in position order: the first
        `limit` of them, or the last `limit` when `newest`."""
        ...

    async def close(self) -> None: ...
