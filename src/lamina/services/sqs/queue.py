"""One SQS queue in memory: its messages, who may see them when, FIFO groups and dedup.

Pure state and rules, no I/O and no clock of its own (callers pass `now` in ms): every
mutating method says what changed so the service can write it to the store before it
answers. The store holds the truth; this is rebuilt from it at startup.

Standard queue: visible messages are handed out oldest first (best effort, as SQS);
a received message is invisible until its visibility deadline, then visible again.
FIFO queue: within a message group, strict order, and no message of a group is handed out
while an earlier one of that group is in flight; deduplication within 5 minutes by
MessageDeduplicationId (or the body's SHA-256 with ContentBasedDeduplication), per queue or
per message group (DeduplicationScope), in a window the store keeps (engine/dedup.py).
"""

from __future__ import annotations

import hashlib
import heapq
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ... import ids
from ...engine.delivery.dedup import DedupWindow

DEDUP_KIND = "sqs_dedup"


@dataclass
class Message:
    seq: int
    message_id: str
    body: str
    md5_body: str
    sent_ms: int
    visible_at: int
    attributes: dict[str, dict] = field(default_factory=dict)  # MessageAttributes, BinaryValue as base64
    md5_attributes: str | None = None
    system: dict[str, str] = field(default_factory=dict)  # AWSTraceHeader, DeadLetterQueueSourceArn, SenderId
    receives: int = 0
    first_receive_ms: int | None = None
    group_id: str | None = None
    dedup_id: str | None = None
    sequence_number: str | None = None
    receipt: str = ""  # nonce of the latest receive

    def doc(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("seq", "visible_at", "receives") and v is not None}

    @classmethod
    def from_row(cls, seq: int, doc: dict[str, Any], visible_at: int, receives: int) -> Message:
        return cls(seq=seq, visible_at=visible_at, receives=receives, **doc)


@dataclass
class Received:
    messages: list[Message]
    to_dead_letter: list[Message]  # over maxReceiveCount: leave this queue for its DLQ
    expired: list[Message]  # past the retention period: gone


class Queue:
    def __init__(
        self,
        key: str,
        name: str,
        arn: str,
        attributes: dict[str, str],
        created: int,
        tags: dict[str, str] | None = None,
    ) -> None:
        self.key = key
        self.name = name
        self.purged_at: float | None = None  # monotonic time of the last PurgeQueue (one a minute)
        self.arn = arn
        self.attributes = attributes
        self.created = created
        self.modified = created
        self.tags = tags or {}
        self.fifo = name.endswith(".fifo")
        self.messages: dict[int, Message] = {}
        self.next_seq = 1
        self._ready: deque[int] = deque()  # standard: visible messages, oldest first
        self._pending: list[tuple[int, int]] = []  # (visible_at, seq): delayed or in flight
        self._groups: dict[str, deque[int]] = {}  # FIFO: group -> its messages in order
        self.dedup = DedupWindow(DEDUP_KIND, key)
        self._sequence = 0

    # --- settings -------------------------------------------------------------------------

    def setting(self, name: str, default: int = 0) -> int:
        try:
            return int(self.attributes.get(name, default))
        except ValueError:
            return default

    @property
    def visibility_timeout_s(self) -> int:
        return self.setting("VisibilityTimeout", 30)

    @property
    def redrive(self) -> tuple[str, int] | None:
        import json

        raw = self.attributes.get("RedrivePolicy")
        if not raw:
            return None
        policy = json.loads(raw)
        return policy["deadLetterTargetArn"], int(policy["maxReceiveCount"])

    # --- sending --------------------------------------------------------------------------

    def dedup_key(self, group_id: str | None, dedup_id: str) -> str:
        """What the window is keyed by: the id, or the group and the id when
        DeduplicationScope is messageGroup (the same id in two groups is two messages)."""
        if self.attributes.get("DeduplicationScope") == "messageGroup":
            group = group_id or ""
            return f"{len(group)}:{group}{dedup_id}"
        return dedup_id

    def duplicate_of(self, group_id: str | None, dedup_id: str, now: int) -> tuple[str, str | None] | None:
        return self.dedup.find(self.dedup_key(group_id, dedup_id), now)

    def dedup_id_for(self, body: str, given: str | None) -> str | None:
        if not self.fifo:
            return None
        if given:
            return given
        if self.attributes.get("ContentBasedDeduplication") == "true":
            return hashlib.sha256(body.encode("utf-8")).hexdigest()
        return None

    def new_message(
        self,
        body: str,
        md5_body: str,
        now: int,
        delay_s: int,
        attributes: dict,
        md5_attributes,
        system: dict,
        group_id: str | None,
        dedup_id: str | None,
    ) -> Message:
        seq = self.next_seq
        self.next_seq += 1
        sequence_number = None
        if self.fifo:
            self._sequence += 1
            sequence_number = f"{now:013d}{self._sequence:07d}"
        message = Message(
            seq,
            ids.uuid4(),
            body,
            md5_body,
            now,
            now + delay_s * 1000,
            attributes,
            md5_attributes,
            system,
            group_id=group_id,
            dedup_id=dedup_id,
            sequence_number=sequence_number,
        )
        if dedup_id:
            self.dedup.remember(self.dedup_key(group_id, dedup_id), now, message.message_id, sequence_number)
        return message

    def add(self, message: Message, now: int) -> None:
        """A message (new, moved in from another queue, or loaded at startup) joins the queue."""
        self.messages[message.seq] = message
        self.next_seq = max(self.next_seq, message.seq + 1)
        if self.fifo:
            self._groups.setdefault(message.group_id or "", deque()).append(message.seq)
            if message.dedup_id and message.sent_ms + self.dedup.window_ms > now:
                self.dedup.restore(
                    self.dedup_key(message.group_id, message.dedup_id),
                    {
                        "expires": message.sent_ms + self.dedup.window_ms,
                        "id": message.message_id,
                        "sequence": message.sequence_number,
                    },
                )
            if message.sequence_number:
                self._sequence = max(self._sequence, int(message.sequence_number[13:] or 0))
        elif message.visible_at <= now:
            self._ready.append(message.seq)
        else:
            heapq.heappush(self._pending, (message.visible_at, message.seq))

    # --- receiving ------------------------------------------------------------------------

    def receive(self, limit: int, visibility_s: int, now: int) -> Received:
        result = Received([], [], [])
        retention_ms = self.setting("MessageRetentionPeriod", 345600) * 1000
        redrive = self.redrive
        for message in self._candidates(limit, now):
            if message.sent_ms + retention_ms <= now:
                self._forget(message)
                result.expired.append(message)
                continue
            if redrive and message.receives >= redrive[1]:
                self._forget(message)
                result.to_dead_letter.append(message)
                continue
            message.receives += 1
            message.first_receive_ms = message.first_receive_ms or now
            message.visible_at = now + visibility_s * 1000
            message.receipt = ids.hex32()
            if not self.fifo:
                heapq.heappush(self._pending, (message.visible_at, message.seq))
            result.messages.append(message)
        return result

    def _candidates(self, limit: int, now: int):
        if self.fifo:
            yield from self._fifo_candidates(limit, now)
            return
        while self._pending and self._pending[0][0] <= now:
            _, seq = heapq.heappop(self._pending)
            message = self.messages.get(seq)
            if message is not None and message.visible_at <= now:
                self._ready.append(seq)
        given = 0
        while self._ready and given < limit:
            seq = self._ready.popleft()
            message = self.messages.get(seq)
            if message is None or message.visible_at > now:
                continue  # deleted, or a stale entry of a message in flight again
            given += 1
            yield message

    def _fifo_candidates(self, limit: int, now: int):
        given = 0
        for group, seqs in list(self._groups.items()):
            if given >= limit:
                return
            while seqs and seqs[0] not in self.messages:
                seqs.popleft()
            if not seqs:
                del self._groups[group]
                continue
            head = self.messages[seqs[0]]
            if head.visible_at > now:
                continue  # in flight (or delayed): the whole group waits
            taken = 0
            for seq in list(seqs):
                message = self.messages.get(seq)
                if message is None:
                    continue
                if message.visible_at > now or given >= limit:
                    break
                given += 1
                taken += 1
                yield message
            if taken:
                # SQS hands out one group per receive where it can; the rest next time.
                continue

    def next_visible_at(self, now: int) -> int | None:
        """When the next message that is not visible now becomes visible (for long polls)."""
        if self.fifo:
            # Only future deadlines: a visible message queued behind an in-flight head of its
            # group is not receivable, and counting its past deadline made long polls spin
            # without ever yielding to the event loop (the whole server froze for WaitTimeSeconds).
            times = [m.visible_at for m in self.messages.values() if m.visible_at > now]
            return min(times) if times else None
        while self._pending and self._pending[0][1] not in self.messages:
            heapq.heappop(self._pending)
        return self._pending[0][0] if self._pending else None

    # --- deleting and visibility ------------------------------------------------------------

    def _forget(self, message: Message) -> None:
        self.messages.pop(message.seq, None)

    def delete(self, seq: int) -> Message | None:
        return self.messages.pop(seq, None)

    def change_visibility(self, message: Message, timeout_s: int, now: int) -> None:
        message.visible_at = now + timeout_s * 1000
        if not self.fifo:
            if timeout_s == 0:
                self._ready.appendleft(message.seq)
            else:
                heapq.heappush(self._pending, (message.visible_at, message.seq))

    def purge(self) -> list[int]:
        seqs = list(self.messages)
        self.messages.clear()
        self._ready.clear()
        self._pending.clear()
        self._groups.clear()
        return seqs

    # --- counts -----------------------------------------------------------------------------

    def backlog(self, now: int) -> int:
        """Roughly how many messages are receivable now, cheaply (pollers ask often)."""
        if self.fifo:
            return sum(len(seqs) for seqs in self._groups.values())
        due = sum(1 for visible_at, _ in self._pending[:64] if visible_at <= now)
        return len(self._ready) + due

    def counts(self, now: int) -> tuple[int, int, int]:
        """(visible, in flight, delayed), as ApproximateNumberOfMessages* report them."""
        visible = in_flight = delayed = 0
        for message in self.messages.values():
            if message.visible_at <= now:
                visible += 1
            elif message.receives:
                in_flight += 1
            else:
                delayed += 1
        return visible, in_flight, delayed
