"""One Kinesis stream and its shards in memory (lamina.services.kinesis.stream, .shard,
.resharding's pure functions): routing, commit order, the record cache, lineage."""

from __future__ import annotations

from lamina.services.kinesis.hashkeys import MAX_HASH_KEY, even_ranges, hash_key
from lamina.services.kinesis.resharding import merge, rescale, split
from lamina.services.kinesis.shard import Shard
from lamina.services.kinesis.stream import Stream
from lamina.store.base import StreamRecordRow

T0 = 1_700_000_000_000


def make_stream(shards: int = 2) -> Stream:
    stream = Stream("000000000000:us-east-1:s", 10**23 + 1, T0)
    stream.create_shards(shards, T0)
    return stream


def put(stream: Stream, *keys: str):
    batch = stream.reserve(len(keys))
    for offset, key in enumerate(keys):
        shard = stream.route(hash_key(key))
        shard.add(StreamRecordRow(stream.store_id, shard.shard_id, batch.first + offset, key, key.encode()))
    return batch


def visible(stream: Stream, shard: Shard) -> list[str]:
    return [row.partition_key for row in shard.slice(-1, stream.settled - 1, 10_000)]


def test_a_key_always_routes_to_the_shard_that_holds_its_hash():
    stream = make_stream(4)
    for key in ("a", "b", "user-17", "ü"):
        shard = stream.route(hash_key(key))
        assert shard.holds(hash_key(key))
        assert stream.route(hash_key(key)) is shard
    assert stream.route(0).shard_id == "shardId-000000000000"
    assert stream.route(MAX_HASH_KEY).shard_id == "shardId-000000000003"


def test_records_are_visible_only_once_every_earlier_write_has_settled():
    stream = make_stream(1)
    [shard] = stream.shards.values()
    first = put(stream, "a", "b")
    second = put(stream, "c")
    stream.finish(second, committed=True)
    assert visible(stream, shard) == []  # "c" is committed, but "a" and "b" are not yet
    stream.finish(first, committed=True)
    assert visible(stream, shard) == ["a", "b", "c"]


def test_a_failed_write_is_taken_back_before_anyone_sees_it():
    stream = make_stream(1)
    [shard] = stream.shards.values()
    failed = put(stream, "a", "b")
    kept = put(stream, "c")
    stream.finish(failed, committed=False)
    stream.finish(kept, committed=True)
    assert visible(stream, shard) == ["c"]
    assert shard.cached_bytes == len("c") * 2


def test_the_cache_forgets_the_oldest_committed_records_first():
    stream = make_stream(1)
    [shard] = stream.shards.values()
    batch = put(stream, *[f"k{i}" for i in range(10)])
    shard.evict(stream.settled, max_records=3, max_bytes=10**9)
    assert shard.cached == 10  # nothing is committed yet: nothing may go
    stream.finish(batch, committed=True)
    shard.evict(stream.settled, max_records=3, max_bytes=10**9)
    assert visible(stream, shard) == ["k7", "k8", "k9"]
    assert shard.cached_from == shard.positions[shard.head]  # older ones: ask the store
    shard.evict(stream.settled, max_records=0, max_bytes=0)
    assert visible(stream, shard) == ["k9"]  # the newest always stays


def test_trim_drops_records_before_a_position():
    stream = make_stream(1)
    [shard] = stream.shards.values()
    batch = put(stream, "a", "b", "c")
    stream.finish(batch, committed=True)
    assert shard.trim(batch.first + 2) and visible(stream, shard) == ["c"]
    assert not shard.trim(batch.first + 2)


def test_split_closes_the_parent_below_its_children():
    stream = make_stream(1)
    [parent] = stream.shards.values()
    batch = put(stream, "a")
    low, high = split(stream, parent, 2**127, T0)
    assert parent.closed and (low.parent, high.parent) == (parent.shard_id, parent.shard_id)
    assert (low.start_hash, low.end_hash, high.start_hash, high.end_hash) == (0, 2**127 - 1, 2**127, MAX_HASH_KEY)
    assert parent.last_position < low.first_position and batch.last < parent.last_position
    assert [s.shard_id for s in stream.open_shards()] == [low.shard_id, high.shard_id]
    # The parent is sealed only once its last write settled (and the split with it).
    split_batch = stream.track(parent.last_position)
    assert not stream.sealed(parent)
    stream.finish(split_batch, committed=True)
    assert not stream.sealed(parent)
    stream.finish(batch, committed=True)
    assert stream.sealed(parent)


def test_merge_makes_one_child_with_two_parents():
    stream = make_stream(2)
    left, right = stream.open_shards()
    child = merge(stream, left, right, T0)
    assert (child.parent, child.adjacent_parent) == (left.shard_id, right.shard_id)
    assert (child.start_hash, child.end_hash) == (0, MAX_HASH_KEY)
    assert stream.children(left.shard_id) == [child] == stream.children(right.shard_id)


def test_rescale_reaches_the_even_layout_through_splits_and_merges():
    for before, after in ((1, 2), (2, 4), (3, 4), (4, 5), (4, 2), (5, 3), (3, 6), (6, 3), (10, 13)):
        stream = make_stream(before)
        rescale(stream, after, T0)
        assert [(s.start_hash, s.end_hash) for s in stream.open_shards()] == even_ranges(after)
        for shard in stream.shards.values():
            parents = [p for p in (shard.parent, shard.adjacent_parent) if p]
            assert len(parents) <= 2
            for parent_id in parents:  # a child's records sort after all of its parents'
                assert stream.shards[parent_id].last_position < shard.first_position


def test_a_stream_survives_its_document():
    stream = make_stream(2)
    split(stream, stream.open_shards()[0], 2**126, T0)
    stream.tags = {"team": "data"}
    again = Stream.from_doc(stream.key, stream.to_doc())
    assert [s.describe(again.stamp) for s in again.shards.values()] == [
        s.describe(stream.stamp) for s in stream.shards.values()
    ]
    assert again.tags == {"team": "data"} and again.clock.last == stream.clock.last
    assert [s.shard_id for s in again.open_shards()] == [s.shard_id for s in stream.open_shards()]
    assert again.settled == again.clock.last + 1
