"""The Kinesis record a function receives from an event source mapping, checked against
aws-lambda-powertools' KinesisDataStreamModel (an independent reading of AWS's shape), and
the StreamSource contract on a real store."""

from __future__ import annotations

import asyncio
import base64

from aws_lambda_powertools.utilities.parser.models import KinesisDataStreamModel

from lamina.engine.pollers.stream import StreamRecord
from lamina.services.context import RequestContext
from lamina.services.kinesis import KinesisService
from lamina.services.kinesis.events import event_record
from lamina.services.kinesis.stream import Stream
from lamina.store.sqlite import SQLiteStore

CTX = RequestContext("000000000000", "us-east-1", "req", "http://localhost")


def test_event_record_is_what_powertools_expects():
    stream = Stream("000000000000:eu-west-1:orders", 10**23 + 5, 1_700_000_000_000)
    sequence = "49" + "0" * 54
    record = StreamRecord(sequence, "user-1", b'{"n": 1}', 1_700_000_000_123)
    event = {"Records": [event_record(stream, "shardId-000000000002", record)]}
    parsed = KinesisDataStreamModel(**event).Records[0]
    assert parsed.kinesis.data == b'{"n": 1}'
    assert parsed.kinesis.partitionKey == "user-1" and parsed.kinesis.sequenceNumber == sequence
    assert parsed.kinesis.approximateArrivalTimestamp == 1_700_000_000.123
    assert parsed.eventID == f"shardId-000000000002:{sequence}"
    assert parsed.eventSourceARN == "arn:aws:kinesis:eu-west-1:000000000000:stream/orders"
    assert parsed.awsRegion == "eu-west-1" and parsed.invokeIdentityArn.startswith("arn:aws:iam::000000000000:role/")
    assert base64.b64decode(event["Records"][0]["kinesis"]["data"]) == b'{"n": 1}'


def test_stream_source_reads_in_order_waits_and_follows_resharding(tmp_path):
    async def main():
        store = SQLiteStore(str(tmp_path / "lamina.db"))
        service = KinesisService(store)
        await service.start()
        await service.create_stream({"StreamName": "s", "ShardCount": 1}, CTX)
        arn = "arn:aws:kinesis:us-east-1:000000000000:stream/s"
        assert service.stream_source("arn:aws:kinesis:us-east-1:000000000000:stream/nope") is None
        source = service.stream_source(arn)
        [shard] = source.shards()
        assert shard.parents == () and not shard.closed and source.latest(shard.shard_id) is None

        waiter = asyncio.create_task(source.wait(5))
        await asyncio.sleep(0.01)
        await service.put_records(
            {"StreamName": "s", "Records": [{"Data": f"r{i}".encode(), "PartitionKey": f"k{i}"} for i in range(5)]}, CTX
        )
        await asyncio.wait_for(waiter, 1)  # woken by the write, not by the timeout

        records = await source.read(shard.shard_id, None, 3)
        assert [r.data for r in records] == [b"r0", b"r1", b"r2"]
        rest = await source.read(shard.shard_id, records[-1].sequence_number, 100)
        assert [r.data for r in rest] == [b"r3", b"r4"]
        assert source.latest(shard.shard_id) == rest[-1].sequence_number
        everything = records + rest
        ms = rest[0].arrival_ms
        [first] = await source.read(shard.shard_id, source.at_timestamp(shard.shard_id, ms), 1)
        assert first == next(r for r in everything if r.arrival_ms >= ms)
        assert source.at_timestamp(shard.shard_id, 0) is None  # before the shard began: the trim horizon

        await service.split_shard(
            {"StreamName": "s", "ShardToSplit": shard.shard_id, "NewStartingHashKey": str(2**127)}, CTX
        )
        shards = source.shards()
        assert shards[0].closed and [s.parents for s in shards[1:]] == [(shard.shard_id,), (shard.shard_id,)]
        event = source.event_record(shards[0].shard_id, records[0])
        assert KinesisDataStreamModel(Records=[event]).Records[0].kinesis.data == b"r0"

        await service.delete_stream({"StreamName": "s"}, CTX)
        assert source.shards() == [] and await source.read(shard.shard_id, None, 10) == []
        await service.stop()
        await store.close()

    asyncio.run(main())
