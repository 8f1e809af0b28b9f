"""SubscribeToShard's event iterator on a real store, driven directly: a subscription ends
when its lifetime is over (five minutes on AWS, shortened here), sends an empty event
after a quiet spell, and a later subscription takes over from an open one."""

from __future__ import annotations

import asyncio

import pytest

from lamina.errors import ServiceError
from lamina.services.context import RequestContext
from lamina.services.kinesis import KinesisService
from lamina.services.kinesis.state import KinesisConfig
from lamina.services.kinesis.subscriptions import TAKEOVER_S
from lamina.store.sqlite import SQLiteStore

CTX = RequestContext("000000000000", "us-east-1", "req", "http://localhost")
ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/s"
START = {"ShardId": "shardId-000000000000", "StartingPosition": {"Type": "TRIM_HORIZON"}}


async def _service(tmp_path) -> tuple[KinesisService, SQLiteStore, str]:
    store = SQLiteStore(str(tmp_path / "lamina.db"))
    service = KinesisService(store, KinesisConfig(consumer_s=0))  # ACTIVE at once
    await service.start()
    await service.create_stream({"StreamName": "s", "ShardCount": 1}, CTX)
    made = await service.register_stream_consumer({"StreamARN": ARN, "ConsumerName": "c"}, CTX)
    return service, store, made["Consumer"]["ConsumerARN"]


def test_a_subscription_ends_with_its_lifetime_and_beats_when_quiet(tmp_path):
    async def main():
        service, store, consumer = await _service(tmp_path)
        service.subscriptions.lifetime_s, service.subscriptions.heartbeat_s = 0.3, 0.05
        try:
            await service.put_record({"StreamARN": ARN, "Data": b"x", "PartitionKey": "k"}, CTX)
            answer = await service.subscribe_to_shard({"ConsumerARN": consumer, **START}, CTX)
            events = [event["SubscribeToShardEvent"] async for event in answer["EventStream"]]
            assert [r["Data"] for r in events[0]["Records"]] == [b"x"]
            assert len(events) > 1 and all(e["Records"] == [] for e in events[1:])  # the beats
            assert len({e["ContinuationSequenceNumber"] for e in events}) == 1
        finally:
            await service.stop()
            await store.close()

    asyncio.run(main())


def test_a_later_subscription_takes_over(tmp_path):
    async def main():
        service, store, consumer = await _service(tmp_path)
        try:
            first = (await service.subscribe_to_shard({"ConsumerARN": consumer, **START}, CTX))["EventStream"]
            assert (await first.__anext__())["SubscribeToShardEvent"]["Records"] == []
            with pytest.raises(ServiceError) as caught:
                await service.subscribe_to_shard({"ConsumerARN": consumer, **START}, CTX)
            assert caught.value.code == "ResourceInUseException"
            # Five seconds on: the new one takes over, and the old one ends saying so.
            for subscription in service.subscriptions.active.values():
                subscription.started -= TAKEOVER_S
            second = (await service.subscribe_to_shard({"ConsumerARN": consumer, **START}, CTX))["EventStream"]
            with pytest.raises(ServiceError) as caught:
                await first.__anext__()
            assert caught.value.code == "ResourceInUseException"
            assert "SubscribeToShardEvent" in await second.__anext__()
            await second.aclose()
        finally:
            await service.stop()
            await store.close()

    asyncio.run(main())
