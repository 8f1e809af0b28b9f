"""The 128-bit hash key space that shards divide between them.

A record's hash key is the MD5 of its partition key (UTF-8) read as an unsigned big-endian
integer, unless the producer gives an ExplicitHashKey. The shard whose HashKeyRange holds
the key takes the record, so a partition key always lands on the same open shard.
"""

from __future__ import annotations

import hashlib

KEY_SPACE = 2**128
MAX_HASH_KEY = KEY_SPACE - 1


def hash_key(partition_key: str) -> int:
    return int.from_bytes(hashlib.md5(partition_key.encode("utf-8")).digest(), "big")


def even_ranges(count: int) -> list[tuple[int, int]]:
    """The key space cut into `count` (start, end) ranges, inclusive, as AWS cuts it for
    CreateStream: range i starts at floor(i * 2**128 / count)."""
    starts = [i * KEY_SPACE // count for i in range(count)]
    return [(start, (starts[i + 1] - 1) if i + 1 < count else MAX_HASH_KEY) for i, start in enumerate(starts)]


def even_boundaries(count: int) -> list[int]:
    """Where the ranges of even_ranges(count) start, without the leading 0."""
    return [i * KEY_SPACE // count for i in range(1, count)]
