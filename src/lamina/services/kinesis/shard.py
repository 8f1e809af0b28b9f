"""One shard in memory: its place in the key space and in the lineage, and its recent records.

A shard keeps its newest records in memory (rows in position order, with a parallel list of
positions to bisect), bounded by a record count and a byte budget. Older ones are only in
the store: `cached_from` is the position from which memory holds every record the shard
has; anything before it must be read from the store. No I/O here.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

from ...store.base import StreamRecordRow
from .sequence import encode

_COMPACT_AT = 4096  # dropped rows at the head before the lists are shifted down


def shard_name(index: int) -> str:
    return f"shardId-{index:012d}"


@dataclass
class Shard:
    shard_id: str
    index: int
    start_hash: int
    end_hash: int
    first_position: int  # StartingSequenceNumber: no record of the shard sorts before it
    created_ms: int
    parent: str | None = None
    adjacent_parent: str | None = None
    last_position: int | None = None  # EndingSequenceNumber, once split or merged away
    closed_ms: int | None = None
    rows: list[StreamRecordRow] = field(default_factory=list, repr=False)
    positions: list[int] = field(default_factory=list, repr=False)
    head: int = 0  # rows before it are dropped (lazily, to keep appends and drops O(1))
    cached_from: int = 0
    cached_bytes: int = 0

    @property
    def closed(self) -> bool:
        return self.last_position is not None

    @property
    def cached(self) -> int:
        return len(self.positions) - self.head

    def holds(self, hash_key: int) -> bool:
        return self.start_hash <= hash_key <= self.end_hash

    # --- records ----------------------------------------------------------------------------

    def add(self, row: StreamRecordRow) -> None:
        self.positions.append(row.seq)
        self.rows.append(row)
        self.cached_bytes += len(row.data) + len(row.partition_key)

    def slice(self, after: int, upto: int, limit: int) -> list[StreamRecordRow]:
        """Rows in memory with after < position <= upto, at most `limit` of them."""
        start = bisect_right(self.positions, after, self.head)
        end = bisect_right(self.positions, upto, start)
        return self.rows[start : min(end, start + limit)]

    def newest(self, upto: int) -> StreamRecordRow | None:
        """The last row in memory at or before `upto`."""
        index = bisect_right(self.positions, upto, self.head) - 1
        return self.rows[index] if index >= self.head else None

    def evict(self, settled: int, max_records: int, max_bytes: int) -> None:
        """Forget the oldest rows beyond the budget (they stay in the store). Only rows below
        `settled` (committed) go, and the newest row always stays."""
        positions = self.positions
        while (
            (self.cached > max_records or self.cached_bytes > max_bytes)
            and self.cached > 1
            and positions[self.head] < settled
        ):
            self._drop_head()
            self.cached_from = positions[self.head - 1] + 1
        self._compact()

    def trim(self, before: int) -> bool:
        """Forget rows before `before` (past retention). True if any went."""
        dropped = False
        while self.head < len(self.positions) and self.positions[self.head] < before:
            self._drop_head()
            dropped = True
        self._compact()
        return dropped

    def discard(self, first: int, last: int) -> None:
        """Take out the rows first <= position <= last: a write that failed."""
        start = bisect_left(self.positions, first, self.head)
        end = bisect_right(self.positions, last, start)
        if start == end:
            return
        self.cached_bytes -= sum(len(row.data) + len(row.partition_key) for row in self.rows[start:end])
        del self.positions[start:end]
        del self.rows[start:end]

    def _drop_head(self) -> None:
        row = self.rows[self.head]
        self.cached_bytes -= len(row.data) + len(row.partition_key)
        self.rows[self.head] = None  # type: ignore[call-overload]  # let the data go now
        self.head += 1

    def _compact(self) -> None:
        if self.head >= _COMPACT_AT and self.head * 2 >= len(self.positions):
            del self.positions[: self.head]
            del self.rows[: self.head]
            self.head = 0

    # --- description ------------------------------------------------------------------------

    def describe(self, stamp: int) -> dict:
        """The Shard shape of DescribeStream and ListShards."""
        numbers = {"StartingSequenceNumber": encode(self.first_position, stamp, self.index)}
        if self.last_position is not None:
            numbers["EndingSequenceNumber"] = encode(self.last_position, stamp, self.index)
        out = {"ShardId": self.shard_id}
        if self.parent:
            out["ParentShardId"] = self.parent
        if self.adjacent_parent:
            out["AdjacentParentShardId"] = self.adjacent_parent
        out["HashKeyRange"] = self.hash_range()
        out["SequenceNumberRange"] = numbers
        return out

    def hash_range(self) -> dict:
        return {"StartingHashKey": str(self.start_hash), "EndingHashKey": str(self.end_hash)}

    def to_doc(self) -> dict:
        # Hash keys are 128-bit: kept as strings so that any JSON reader takes them whole.
        return {
            "id": self.shard_id,
            "index": self.index,
            "start": str(self.start_hash),
            "end": str(self.end_hash),
            "first": self.first_position,
            "created": self.created_ms,
            "parent": self.parent,
            "adjacent": self.adjacent_parent,
            "last": self.last_position,
            "closed": self.closed_ms,
        }

    @classmethod
    def from_doc(cls, doc: dict) -> Shard:
        return cls(
            doc["id"],
            doc["index"],
            int(doc["start"]),
            int(doc["end"]),
            doc["first"],
            doc["created"],
            doc.get("parent"),
            doc.get("adjacent"),
            doc.get("last"),
            doc.get("closed"),
        )
