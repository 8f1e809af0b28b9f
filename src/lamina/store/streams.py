"""Stream records: the records of Kinesis data streams, one row each, appended in large
batches, read back by shard in position order and trimmed from the front (retention).
Too many, and too small, to be a document each.

What a backend must honour:
- A record is identified by (stream, shard, seq), and is written once: writing a record
  that is already there fails the whole batch it is in.
- `stream` is a stream's incarnation id (a stream deleted and created again under the same
  name gets a new one); `seq` is the record's position in the stream, ascending across its
  shards. Shards, and streams, are independent of each other.
- `data` is bytes, up to 10 MiB a record, read back byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Protocol


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
    stream: str  # every record of the stream, in all its shards


class StreamRecordStore(Protocol):
    """Reads of stream records. Writes are PutStreamRecords, TrimStreamRecords and
    DeleteStreamRecords given to Store.write."""

    async def read_stream_records(
        self,
        stream: str,
        shard: str,
        after_seq: int | None = None,
        before_seq: int | None = None,
        limit: int = 10000,
        newest: bool = False,
    ) -> list[StreamRecordRow]:
        """A shard's records with after_seq < seq < before_seq, in position order: the first
        `limit` of them, or the last `limit` when `newest` (still in ascending order)."""
        ...
