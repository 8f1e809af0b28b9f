"""Positions and sequence numbers: where a record sits in its stream, and how that looks
on the wire.

A stream hands out positions from one clock: nanoseconds since the epoch, bumped by one
where two records would otherwise share a nanosecond. So positions
- rise across all the shards of a stream: a child shard's records sort after its parents';
- keep rising across restarts, because the wall clock has moved on meanwhile;
- tell the arrival time (position // 10**6 ms), so AT_TIMESTAMP needs no index of its own.

On the wire a position is a 56-digit decimal string, as AWS's sequence numbers are:

    "49" + position (20 digits) + stream stamp (24 digits) + shard index (10 digits)

Numeric order of the string is the order of positions (they are unique in a stream); the
stamp and shard index let GetShardIterator say which stream or shard a number came from.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

_PREFIX = "49"
_LENGTH = 56
NS_PER_MS = 1_000_000


def encode(position: int, stamp: int, shard_index: int) -> str:
    return f"{_PREFIX}{position:020d}{stamp:024d}{shard_index:010d}"


def tail(stamp: int, shard_index: int) -> str:
    """What every sequence number of one shard ends with: for loops that number many records."""
    return f"{stamp:024d}{shard_index:010d}"


def encode_with(position: int, shard_tail: str) -> str:
    return f"{_PREFIX}{position:020d}{shard_tail}"


@dataclass(frozen=True)
class Decoded:
    position: int
    stamp: int
    shard_index: int


def decode(text: str) -> Decoded | None:
    """The parts of a sequence number Lamina made, or None for anything else."""
    if len(text) != _LENGTH or not text.startswith(_PREFIX) or not text.isdigit():
        return None
    return Decoded(int(text[2:22]), int(text[22:46]), int(text[46:56]))


def arrival_ms(position: int) -> int:
    return position // NS_PER_MS


def first_position_at(ms: int) -> int:
    """The smallest position a record arriving at `ms` can have."""
    return ms * NS_PER_MS


@dataclass
class Clock:
    """A stream's source of positions. `last` is the highest one handed out."""

    last: int = 0

    def take(self, count: int = 1) -> int:
        """Reserve `count` consecutive positions; returns the first."""
        first = max(self.last + 1, time.time_ns())
        self.last = first + count - 1
        return first
