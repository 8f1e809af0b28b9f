"""Log events: CloudWatch Logs events, append-only, read back by group, stream and time.

What a backend must honour:
- Every event appended gets an `event_id`, unique in the store and never reused (not even
  after its group is deleted). Ids grow in append order: the events of one AppendLogs in
  the order given, the events of a later batch after those of an earlier one. Readers
  page with them (GetLogEvents' and FilterLogEvents' tokens), so the order of ids, not
  of timestamps, is the order in which `read_logs` returns events. ("Later" is in
  real time: a batch whose write began after another's write returned. Of two batches
  written concurrently, either's events may come first.) And no event becomes visible
  after one with a higher id: a reader paging forward by id never skips an event.
- A producer's timestamp is kept as given (events need not arrive in time order); the
  ingestion time is the AppendLogs' own, or the time of the write when that is 0.
- A group is "<account>:<region>:<log group name>"; groups, and streams within a group,
  are independent of each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class LogEvent:
    timestamp: int  # ms since epoch, as the producer stamped it
    message: str


@dataclass(frozen=True)
class AppendLogs:
    """Append events to a stream of a group, in the order given."""

    group: str  # "<account>:<region>:<log group name>"
    stream: str
    events: tuple[LogEvent, ...]
    ingestion_time: int = 0  # ms since epoch; 0: the time of the write


@dataclass(frozen=True)
class DeleteLogs:
    """Drop the events of one stream of a group, or of the whole group."""

    group: str
    stream: str | None = None  # None: the whole group


@dataclass
class StoredLogEvent:
    event_id: int
    stream: str
    timestamp: int
    ingestion_time: int
    message: str


@dataclass
class LogQuery:
    """Which events of a group `read_logs` returns: every condition given must hold."""

    group: str
    streams: list[str] | None = None  # these streams only; None or empty: every stream
    stream_prefix: str | None = None  # streams whose name starts with this ("" or None: any)
    start_time: int | None = None  # timestamp >= start_time
    end_time: int | None = None  # timestamp < end_time
    after_id: int | None = None  # forward paging cursor: event_id > after_id
    before_id: int | None = None  # backward paging cursor: event_id < before_id
    limit: int = 10000
    forward: bool = True  # ascending event_id; False: descending (the newest first)
    extra: dict[str, Any] = field(default_factory=dict)  # not read by any store


class LogStore(Protocol):
    """Reads of log events. Writes are AppendLogs and DeleteLogs given to Store.write."""

    async def read_logs(self, query: LogQuery) -> list[StoredLogEvent]:
        """The first `query.limit` events matching `query`, by event_id: ascending when
        `query.forward`, else descending."""
        ...
