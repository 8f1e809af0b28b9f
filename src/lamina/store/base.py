"""The store interface: everything Lamina keeps, behind one small contract.

Five kinds of state, each with its write operations and its reads in a module of its own:
- documents.py: control-plane records (functions, versions, aliases, log groups, ...), a
  JSON object under (kind, key), listed in key order;
- logs.py: append-only CloudWatch Logs events, read back by group, stream and time;
- metrics.py: CloudWatch metrics aggregated per series and minute, merged when a minute
  is written twice;
- messages.py: SQS messages, one row each, with their visibility and receive count;
- streams.py: Kinesis records, one row each, read back by shard in position order and
  trimmed from the front.

One operation spans every domain: `DeleteEverything` (defined here) removes every
document, log event, metric, message and stream record, leaving the store as if new
(Lamina's reset, POST /_lamina/reset). Like any operation it takes effect at its place in
its batch: what the batch writes after it is kept.

`Store` is all five plus `write` and `close`; every backend (sqlite.py, the embedded
default; PostgreSQL to scale out) implements all of it, and tests/store/ holds the
conformance suite that every backend passes. Every name of the contract is importable
from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from .documents import Delete, DeletePrefix, DocumentStore, Put
from .logs import AppendLogs, DeleteLogs, LogEvent, LogQuery, LogStore, StoredLogEvent
from .messages import DeleteMessages, MarkReceived, MessageStore, PutMessages, QueuedMessage
from .metrics import MetricRow, MetricStore, PutMetricData, merge_metric_rows
from .streams import (
    DeleteStreamRecords,
    PutStreamRecords,
    StreamRecordRow,
    StreamRecordStore,
    TrimStreamRecords,
)

__all__ = [
    "AppendLogs",
    "Delete",
    "DeleteLogs",
    "DeleteMessages",
    "DeletePrefix",
    "DeleteEverything",
    "DeleteStreamRecords",
    "DocumentStore",
    "LogEvent",
    "LogQuery",
    "LogStore",
    "MarkReceived",
    "MessageStore",
    "MetricRow",
    "MetricStore",
    "Op",
    "Put",
    "PutMessages",
    "PutMetricData",
    "PutStreamRecords",
    "QueuedMessage",
    "Store",
    "StoredLogEvent",
    "StreamRecordRow",
    "StreamRecordStore",
    "TrimStreamRecords",
    "merge_metric_rows",
]


@dataclass(frozen=True, slots=True)
class DeleteEverything:
    """Every domain emptied: no document, log event, metric, message or stream record left."""


Op = (
    Put
    | Delete
    | DeletePrefix
    | AppendLogs
    | DeleteLogs
    | PutMetricData
    | PutMessages
    | MarkReceived
    | DeleteMessages
    | PutStreamRecords
    | TrimStreamRecords
    | DeleteStreamRecords
    | DeleteEverything
)


@runtime_checkable  # isinstance() checks only that the methods are there (the conformance suite)
class Store(DocumentStore, LogStore, MetricStore, MessageStore, StreamRecordStore, Protocol):
    """Durable state. Each owner of a resource (one writer per resource) appends its changes
    here with `write` before it acknowledges them, and rebuilds from the reads at startup.

    What every backend must honour:
    - `write(ops)` applies one batch: all of it or nothing, whichever domains its operations
      touch. Its operations take effect in the order given (a Put then a Delete of the same
      key leaves nothing). An empty batch is a no-op.
    - Committed before acknowledged: `write` returns only once the batch is durable, so a
      batch that returned survives a crash of the process and is there when the store is
      opened again. A batch that fails raises its error from `write` and leaves no trace;
      it does not fail the batches written concurrently with it (a backend that commits
      many batches in one transaction, group commit, must isolate a failing one). An
      object that is not an Op fails its batch with TypeError.
    - Reads see every batch whose `write` has returned, from any task or thread, and never
      part of a batch. A read concurrent with a write sees it wholly or not at all.
    - Concurrent writes from many tasks are all applied; between batches written
      concurrently there is no promised order.
    """

    async def write(self, ops: Sequence[Op]) -> None: ...

    async def close(self) -> None:
        """Finish the writes already handed to `write`, then let go of the database."""
        ...
