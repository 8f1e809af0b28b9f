"""Queued messages: the messages of SQS queues (and any other durable queue of Lamina's), one
row each. The queue's owner keeps the queue in memory and writes every change here before
acknowledging it; at startup it rebuilds the queue from `read_messages`.

What a backend must honour:
- A message is identified by (queue, seq). `PutMessages` creates it, or replaces the whole
  row of one that is there. The message itself is stored as JSON and read back as its
  JSON round trip.
- `MarkReceived` changes only the visibility and the receive count, and only of messages
  that are still there: one already deleted stays deleted (no error).
- `DeleteMessages` of seqs that are not there is a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class QueuedMessage:
    queue: str  # "<account>:<region>:<queue name>"
    seq: int  # order of arrival within the queue
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


class MessageStore(Protocol):
    """Reads of queued messages. Writes are PutMessages, MarkReceived and DeleteMessages
    given to Store.write."""

    async def read_messages(self, queue: str | None = None) -> list[QueuedMessage]:
        """The messages of `queue` (None: of every queue), by queue then seq."""
        ...
