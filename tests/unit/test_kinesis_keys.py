"""Kinesis's pure parts: sequence numbers and positions (lamina.services.kinesis.sequence) and
the hash key space (lamina.services.kinesis.hashkeys)."""

from __future__ import annotations

import hashlib

from lamina.services.kinesis.hashkeys import KEY_SPACE, MAX_HASH_KEY, even_boundaries, even_ranges, hash_key
from lamina.services.kinesis.sequence import Clock, arrival_ms, decode, encode, first_position_at


def test_sequence_numbers_look_like_aws_and_decode_back():
    number = encode(1_700_000_000_123_456_789, 123456789012345678901234, 7)
    assert len(number) == 56 and number.isdigit() and number.startswith("49")
    decoded = decode(number)
    assert (decoded.position, decoded.stamp, decoded.shard_index) == (
        1_700_000_000_123_456_789,
        123456789012345678901234,
        7,
    )
    for foreign in ("49590338271490256608559692538361571095921575989136588898"[:-1], "5" * 56, "0", "abc"):
        assert decode(foreign) is None


def test_sequence_numbers_sort_by_position_across_shards():
    stamp = 10**23
    later_low_shard = encode(2_000, stamp, 0)
    earlier_high_shard = encode(1_999, stamp, 9)
    assert int(later_low_shard) > int(earlier_high_shard)


def test_clock_hands_out_rising_consecutive_positions_and_tells_arrival():
    clock = Clock()
    first = clock.take(500)
    assert clock.last == first + 499
    second = clock.take()
    assert second > clock.last - 1 and second > first + 499
    clock.last = 10**19  # a clock that ran ahead (restored from the store) is never gone back on
    assert clock.take() == 10**19 + 1
    assert arrival_ms(first_position_at(1_700_000_000_123)) == 1_700_000_000_123
    assert arrival_ms(first_position_at(1_700_000_000_123) - 1) == 1_700_000_000_122


def test_hash_key_is_the_md5_of_the_partition_key():
    assert hash_key("a") == int(hashlib.md5(b"a").hexdigest(), 16)
    assert hash_key("ü") == int(hashlib.md5("ü".encode()).hexdigest(), 16)
    assert 0 <= hash_key("anything") <= MAX_HASH_KEY


def test_even_ranges_are_aws_ranges():
    assert even_ranges(1) == [(0, MAX_HASH_KEY)]
    # What AWS reports for a 3-shard stream.
    assert even_ranges(3) == [
        (0, 113427455640312821154458202477256070484),
        (113427455640312821154458202477256070485, 226854911280625642308916404954512140969),
        (226854911280625642308916404954512140970, 340282366920938463463374607431768211455),
    ]
    ranges = even_ranges(7)
    assert ranges[0][0] == 0 and ranges[-1][1] == MAX_HASH_KEY
    assert all(ranges[i][1] + 1 == ranges[i + 1][0] for i in range(6))
    assert even_boundaries(4) == [KEY_SPACE // 4, KEY_SPACE // 2, 3 * KEY_SPACE // 4]
