"""One stream in memory: its settings, its shards, routing by hash key, and which of its
positions are committed. No I/O here.

Commit order. Positions are handed out in request order, and a request's rows go into the
shards' memory at once; but a reader may only see a record once it is in the store, and
must never see a later record before an earlier one it could miss. So each write is a
Batch of positions, kept in a queue in the order taken; `settled` is the first position
whose batch has not finished (every position below it is committed, or was taken back
after a failed write), and readers stop just before it. Resharding takes positions too (a
closed shard's EndingSequenceNumber), so a parent counts as finished (`sealed`) only once
every record written to it before the split is committed.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from dataclasses import dataclass, field

from .consumer import Consumer
from .hashkeys import even_ranges
from .sequence import Clock, first_position_at
from .shard import Shard, shard_name

DEFAULT_RETENTION_HOURS = 24
DEFAULT_MAX_RECORD_KIB = 1024
ON_DEMAND_SHARDS = 4  # what an ON_DEMAND stream starts with (AWS starts it at 4 MiB/s of writes)


@dataclass
class Batch:
    first: int
    last: int
    done: bool = False


@dataclass
class Stream:
    key: str  # "<account>:<region>:<name>"
    stamp: int  # this incarnation of the name: in sequence numbers, iterators and the store's rows
    created_ms: int
    mode: str = "PROVISIONED"
    retention_hours: int = DEFAULT_RETENTION_HOURS
    status: str = "ACTIVE"
    max_record_kib: int = DEFAULT_MAX_RECORD_KIB
    distribution: str | None = None  # RecordDistributionStrategy, recorded only
    encryption: str = "NONE"
    key_id: str | None = None
    metrics: list[str] = field(default_factory=list)  # enhanced monitoring, recorded only
    tags: dict[str, str] = field(default_factory=dict)
    next_index: int = 0
    policy: str | None = None  # the resource-based policy (policies.py), as given
    shards: dict[str, Shard] = field(default_factory=dict)  # in creation order: parents first
    consumers: dict[str, Consumer] = field(default_factory=dict)  # enhanced fan-out, by name
    warm_mibps: int | None = None  # UpdateStreamWarmThroughput's target, recorded only
    clock: Clock = field(default_factory=Clock)
    pending: deque[Batch] = field(default_factory=deque)
    settled: int = 0
    trimmed_to: int = 0  # the store holds nothing of it before this position
    _starts: list[int] = field(default_factory=list, repr=False)
    _open: list[Shard] = field(default_factory=list, repr=False)

    @property
    def account(self) -> str:
        return self.key.split(":", 2)[0]

    @property
    def region(self) -> str:
        return self.key.split(":", 2)[1]

    @property
    def name(self) -> str:
        return self.key.split(":", 2)[2]

    @property
    def arn(self) -> str:
        return f"arn:aws:kinesis:{self.region}:{self.account}:stream/{self.name}"

    @property
    def store_id(self) -> str:
        return str(self.stamp)

    # --- shards -----------------------------------------------------------------------------

    def open_shards(self) -> list[Shard]:
        """The open shards in key order."""
        return list(self._open)

    def route(self, hash_key: int) -> Shard:
        """The open shard whose range holds `hash_key` (open shards tile the key space)."""
        return self._open[bisect_right(self._starts, hash_key) - 1]

    def reindex(self) -> None:
        self._open = sorted((s for s in self.shards.values() if not s.closed), key=lambda s: s.start_hash)
        self._starts = [s.start_hash for s in self._open]

    def add_shard(
        self,
        start: int,
        end: int,
        first_position: int,
        now_ms: int,
        parent: str | None = None,
        adjacent: str | None = None,
    ) -> Shard:
        index = self.next_index
        shard = Shard(shard_name(index), index, start, end, first_position, now_ms, parent, adjacent)
        self.next_index += 1
        self.shards[shard.shard_id] = shard
        return shard

    def create_shards(self, count: int, now_ms: int) -> None:
        position = self.clock.take()
        for start, end in even_ranges(count):
            self.add_shard(start, end, position, now_ms)
        self.settled = self.clock.last + 1
        self.reindex()

    def sealed(self, shard: Shard) -> bool:
        """Closed, and every record it will ever hold committed: its readers may move on."""
        return shard.last_position is not None and self.settled > shard.last_position

    def children(self, shard_id: str) -> list[Shard]:
        return [s for s in self.shards.values() if shard_id in (s.parent, s.adjacent_parent)]

    # --- consumers --------------------------------------------------------------------------

    def live_consumers(self, now_ms: int) -> list[Consumer]:
        """The consumers not yet gone (ACTIVE, CREATING or DELETING), forgetting those gone."""
        for name in [n for n, c in self.consumers.items() if c.gone(now_ms)]:
            del self.consumers[name]
        return list(self.consumers.values())

    # --- commit order -----------------------------------------------------------------------

    def reserve(self, count: int) -> Batch:
        first = self.clock.take(count)
        return self.track(first)

    def track(self, first: int) -> Batch:
        """A batch for the positions from `first` to the last one taken."""
        batch = Batch(first, self.clock.last)
        self.pending.append(batch)
        return batch

    def finish(self, batch: Batch, committed: bool) -> None:
        if not committed:
            for shard in self.shards.values():
                shard.discard(batch.first, batch.last)
        batch.done = True
        while self.pending and self.pending[0].done:
            self.pending.popleft()
        self.settled = self.pending[0].first if self.pending else self.clock.last + 1

    def horizon(self, now_ms: int, hour_ms: float) -> int:
        """The trim horizon: records before this position are past retention."""
        return max(0, first_position_at(int(now_ms - self.retention_hours * hour_ms)))

    # --- persistence ------------------------------------------------------------------------

    def to_doc(self) -> dict:
        return {
            "stamp": self.stamp,
            "created": self.created_ms,
            "mode": self.mode,
            "retention": self.retention_hours,
            "status": self.status,
            "max_record_kib": self.max_record_kib,
            "distribution": self.distribution,
            "encryption": self.encryption,
            "key_id": self.key_id,
            "metrics": self.metrics,
            "tags": self.tags,
            "next_index": self.next_index,
            "last_position": self.clock.last,
            "shards": [s.to_doc() for s in self.shards.values()],
            "policy": self.policy,
            "consumers": [c.to_doc() for c in self.consumers.values()],
            "warm_mibps": self.warm_mibps,
        }

    @classmethod
    def from_doc(cls, key: str, doc: dict) -> Stream:
        stream = cls(
            key,
            doc["stamp"],
            doc["created"],
            doc.get("mode", "PROVISIONED"),
            doc.get("retention", DEFAULT_RETENTION_HOURS),
            doc.get("status", "ACTIVE"),
            doc.get("max_record_kib", DEFAULT_MAX_RECORD_KIB),
            doc.get("distribution"),
            doc.get("encryption", "NONE"),
            doc.get("key_id"),
            list(doc.get("metrics") or []),
            dict(doc.get("tags") or {}),
            doc.get("next_index", 0),
            doc.get("policy"),
        )
        for shard_doc in doc.get("shards", []):
            shard = Shard.from_doc(shard_doc)
            stream.shards[shard.shard_id] = shard
        for consumer_doc in doc.get("consumers") or []:
            consumer = Consumer.from_doc(consumer_doc)
            stream.consumers[consumer.name] = consumer
        stream.warm_mibps = doc.get("warm_mibps")
        stream.clock.last = doc.get("last_position", 0)
        stream.settled = stream.clock.last + 1
        stream.reindex()
        return stream
