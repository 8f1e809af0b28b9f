"""Polling a stream for a function (a Kinesis event source mapping; DynamoDB streams later).

The stream is reached through a StreamSource that the stream's service hands over (see
services/kinesis/events.py); the function through an `invoke` callback. Neither is
imported here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Callable


@dataclass(frozen=True)
class Shard:
    shard_id: str
    parents: tuple[str, ...]  # ParentShardId and AdjacentParentShardId, where there are any
    closed: bool  # split or merged away: no record will be added to it again


@dataclass(frozen=True)
class StreamRecord:
    sequence_number: str  # decimal digits; within a shard a later record has a larger number
    partition_key: str
    data: bytes
    arrival_ms: int  # ApproximateArrivalTimestamp, ms since the epoch


@dataclass
class StreamSource:
    arn: str
    # Every shard of the stream that still holds records or may get some, parents before children.
    shards: Callable[[], list[Shard]]
    # (shard id, after: a sequence number (exclusive) or None for the trim horizon, limit)
    # -> the next records in order; [] when there are none yet (or the shard is gone).
    read: Callable[[str, "str | None", int], Awaitable[list[StreamRecord]]]
    # The shard's last sequence number now (where LATEST starts; None: the shard is empty).
    latest: Callable[[str], "str | None"]
    # (shard id, ms) -> the position just before the first record that arrived at or after
    # ms, as an exclusive `after` for read (None: from the trim horizon).
    at_timestamp: Callable[[str, int], "str | None"]
    # Returns when a record is added to the stream or a shard is split/merged, or after `timeout_s`.
    wait: Callable[[float], Awaitable[None]]
    # The record as a function receives it: AWS's Kinesis event record (shard id, record).
    event_record: Callable[[str, StreamRecord], dict]
