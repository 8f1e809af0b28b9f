"""Reading a Kinesis shard where memory and the store meet (lamina.services.kinesis.state),
and shard iterator tokens (lamina.services.kinesis.iterators), on a real SQLite file."""

from __future__ import annotations

import asyncio

import pytest

from lamina.errors import ServiceError
from lamina.services.context import RequestContext
from lamina.services.kinesis import KinesisService
from lamina.services.kinesis.iterators import ITERATOR_TTL_MS, check_fresh, make, parse, resolve_shard_id
from lamina.services.kinesis.stream import Stream
from lamina.store.sqlite import SQLiteStore

CTX = RequestContext("000000000000", "us-east-1", "req", "http://localhost")


def test_reads_cross_from_the_store_into_memory_in_order(tmp_path):
    async def main():
        store = SQLiteStore(str(tmp_path / "lamina.db"))
        service = KinesisService(store)
        service.state.cache_records = 10  # memory keeps the newest ten of each shard
        await service.start()
        await service.create_stream({"StreamName": "s", "ShardCount": 1}, CTX)
        for start in range(0, 100, 25):
            await service.put_records(
                {
                    "StreamName": "s",
                    "Records": [{"Data": b"%03d" % i, "PartitionKey": "k"} for i in range(start, start + 25)],
                },
                CTX,
            )
        stream = service.state.streams["000000000000:us-east-1:s"]
        [shard] = stream.shards.values()
        assert shard.cached == 10 and shard.cached_from == shard.positions[shard.head]

        async def read(after: int, limit: int):
            rows, at_end = await service.state.read(stream, shard, after, limit)
            return [int(row.data) for row in rows], at_end

        assert await read(0, 30) == (list(range(30)), False)  # all from the store
        assert await read(0, 1000) == (list(range(100)), True)  # store, then memory
        rows, _ = await service.state.read(stream, shard, 0, 85)
        assert await read(rows[-1].seq, 1000) == (list(range(85, 100)), True)  # from memory alone
        rows, _ = await service.state.read(stream, shard, 0, 88)
        assert await read(rows[-2].seq, 5) == ([87, 88, 89, 90, 91], False)  # across the seam (at 90)
        # One GetRecords answer stays under the byte limit (but always holds a record).
        small, _ = await service.state.read(stream, shard, 0, 1000, max_bytes=7)
        assert [int(row.data) for row in small] == [0, 1]

        # After a restart memory holds the newest ten again; the rest comes from the store.
        await service.stop()
        again = KinesisService(store)
        again.state.cache_records = 10
        await again.start()
        stream = again.state.streams["000000000000:us-east-1:s"]
        [shard] = stream.shards.values()
        assert shard.cached == 10
        rows, at_end = await again.state.read(stream, shard, 0, 1000)
        assert [int(row.data) for row in rows] == list(range(100)) and at_end
        await again.stop()
        await store.close()

    asyncio.run(main())


def test_iterator_tokens_round_trip_and_expire():
    stream = Stream("000000000000:us-east-1:s", 10**23 + 7, 0)
    stream.create_shards(2, 0)
    shard = stream.shards["shardId-000000000001"]
    token = make(stream, shard, 12345, created_ms=1_000_000)
    iterator = parse(token)
    assert (iterator.stream_key, iterator.stamp, iterator.shard_id, iterator.after) == (
        stream.key,
        stream.stamp,
        "shardId-000000000001",
        12345,
    )
    assert len(token) <= 512
    check_fresh(iterator, now=1_000_000 + ITERATOR_TTL_MS)
    with pytest.raises(ServiceError) as excinfo:
        check_fresh(iterator, now=1_000_000 + ITERATOR_TTL_MS + 1)
    assert excinfo.value.code == "ExpiredIteratorException"
    assert excinfo.value.message == (
        "Iterator expired. The iterator was created at time Thu Jan 01 00:16:40 UTC 1970 while right now it is "
        "Thu Jan 01 00:21:40 UTC 1970 which is further in the future than the tolerated delay of 300000 milliseconds."
    )
    for garbage in ("", "abc", "bm90IGFuIGl0ZXJhdG9y", token[:-3]):
        with pytest.raises(ServiceError) as excinfo:
            parse(garbage)
        assert (excinfo.value.code, excinfo.value.message) == ("InvalidArgumentException", "Invalid ShardIterator.")


def test_shard_ids_are_read_as_aws_reads_them():
    assert resolve_shard_id("shardId-000000000003") == "shardId-000000000003"
    assert resolve_shard_id("shardId-3") == resolve_shard_id("3") == resolve_shard_id("x-y-3") == "shardId-000000000003"
    assert resolve_shard_id("2147483647") == "shardId-002147483647"
    for bad in ("2147483648", "bogus", "shardId-", "2.14E4"):
        assert resolve_shard_id(bad) is None
