"""Enhanced fan-out consumers on a real store, with the clock held still: the five
CREATING at once a stream takes (on a live server the transition is too quick to catch),
the status following the clock, and the consumer ARN's parts."""

from __future__ import annotations

import asyncio

import pytest

from lamina.errors import ServiceError
from lamina.services.context import RequestContext
from lamina.services.kinesis import KinesisService
from lamina.services.kinesis.consumer import Consumer, parse_consumer_arn
from lamina.services.kinesis.state import KinesisConfig
from lamina.store.sqlite import SQLiteStore

CTX = RequestContext("000000000000", "us-east-1", "req", "http://localhost")
ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/s"


def test_only_five_consumers_may_be_creating_at_once(tmp_path):
    async def main():
        store = SQLiteStore(str(tmp_path / "lamina.db"))
        service = KinesisService(store, KinesisConfig(consumer_s=3600))  # CREATING for an hour
        await service.start()
        try:
            await service.create_stream({"StreamName": "s", "ShardCount": 1}, CTX)
            for i in range(5):
                await service.register_stream_consumer({"StreamARN": ARN, "ConsumerName": f"c{i}"}, CTX)
            with pytest.raises(ServiceError) as caught:
                await service.register_stream_consumer({"StreamARN": ARN, "ConsumerName": "sixth"}, CTX)
            assert caught.value.code == "LimitExceededException"
            listed = await service.list_stream_consumers({"StreamARN": ARN}, CTX)
            assert {c["ConsumerStatus"] for c in listed["Consumers"]} == {"CREATING"}
        finally:
            await service.stop()
            await store.close()

    asyncio.run(main())


def test_status_follows_the_clock_and_the_arn_parses():
    consumer = Consumer("reader", 1_700_000_000_500, 1_700_000_001_000)
    assert consumer.status(1_700_000_000_999) == "CREATING" and consumer.status(1_700_000_001_000) == "ACTIVE"
    consumer.gone_ms = 1_700_000_002_000
    assert consumer.status(1_700_000_001_500) == "DELETING" and not consumer.gone(1_700_000_001_999)
    assert consumer.gone(1_700_000_002_000)
    arn = consumer.arn(ARN)
    assert arn == f"{ARN}/consumer/reader:1700000000"
    assert parse_consumer_arn(arn) == (ARN, "reader", 1_700_000_000)
    assert parse_consumer_arn(ARN) is None and parse_consumer_arn(f"{ARN}/consumer/x:abc") is None
    assert Consumer.from_doc(consumer.to_doc()) == consumer
