"""The store interface: everything Lamina keeps, behind one small contract.

Two kinds of state live here:
- documents: control-plane records (functions, versions, aliases, log groups, ...), a JSON
  object under (kind, key), listed in key order;
- log events: append-only CloudWatch Logs events, read back by group, stream and time.

Writes are batches of operations (Put, Delete, AppendLogs) applied atomically. A batch
returns only after it is committed to disk ("committed before acknowledged"); backends
commit many concurrent batches in one transaction (group commit) for throughput.
Reads see every batch that has returned.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


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


Op = Put | Delete | DeletePrefix | AppendLogs | DeleteLogs


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


class Store(Protocol):
    async def get(self, kind: str, key: str) -> dict[str, Any] | None: ...

    async def scan(
        self, kind: str, prefix: str = "", after: str | None = None, limit: int | None = None
    ) -> list[tuple[str, dict[str, Any]]]: ...

    async def write(self, ops: list[Op]) -> None: ...

    async def read_logs(self, query: LogQuery) -> list[StoredLogEvent]: ...

    async def close(self) -> None: ...
