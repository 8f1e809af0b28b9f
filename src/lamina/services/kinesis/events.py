"""Streams as Lambda event sources: the StreamSource an event source mapping's poller
drives (engine/pollers/stream.py), and the record a function receives, in AWS's Kinesis
event shape (as aws-lambda-powertools' KinesisDataStreamModel reads it).

A source holds on to one incarnation of the stream: if the stream is deleted (or deleted
and created again), the source sees no shards and reads nothing.

A mapping may name an enhanced fan-out consumer's ARN instead of the stream's: it then
reads the stream through that consumer (as long as the consumer is registered), and its
records name the stream (eventSourceARN), as AWS's do; the mapping keeps the consumer's ARN.
"""

from __future__ import annotations

import asyncio
import base64

from ...engine.pollers.stream import Shard as SourceShard
from ...engine.pollers.stream import StreamRecord, StreamSource
from .consumer import is_consumer_arn
from .sequence import arrival_ms, decode, encode, encode_with, first_position_at, tail
from .state import KinesisState
from .stream import Stream

ROLE_NAME = "lambda-role"


def event_record(stream: Stream, shard_id: str, record: StreamRecord) -> dict:
    return event_record_of(stream.arn, stream.account, stream.region, shard_id, record)


def event_record_of(arn: str, account: str, region: str, shard_id: str, record: StreamRecord) -> dict:
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record.partition_key,
            "sequenceNumber": record.sequence_number,
            "data": base64.b64encode(record.data).decode("ascii"),
            "approximateArrivalTimestamp": record.arrival_ms / 1000,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{record.sequence_number}",
        "eventName": "aws:kinesis:record",
        # The mapping's function role is not known here; AWS puts the execution role's ARN.
        "invokeIdentityArn": f"arn:aws:iam::{account}:role/{ROLE_NAME}",
        "awsRegion": region,
        "eventSourceARN": arn,
    }


class EventSourcesApi:
    state: KinesisState

    def stream_source(self, arn: str) -> StreamSource | None:
        """What an event source mapping polls, or None if there is no such stream (or no such
        consumer, for a consumer's ARN)."""
        through = self.state.consumer_by_arn(arn) if is_consumer_arn(arn) else None
        found = through[0] if through is not None else None if is_consumer_arn(arn) else self.state.by_arn(arn)
        if found is None:
            return None
        state, key, stamp = self.state, found.key, found.stamp

        def current() -> Stream | None:
            stream = state.current(key, stamp)
            if stream is None or through is None:
                return stream
            consumer = stream.consumers.get(through[1].name)
            return stream if consumer is through[1] and consumer.gone_ms is None else None

        def shards() -> list[SourceShard]:
            stream = current()
            if stream is None:
                return []
            return [
                SourceShard(s.shard_id, tuple(p for p in (s.parent, s.adjacent_parent) if p), stream.sealed(s))
                for s in stream.shards.values()
            ]

        def closed(shard_id: str) -> bool:
            stream = current()
            shard = stream.shards.get(shard_id) if stream is not None else None
            return shard is not None and stream.sealed(shard)

        async def read(shard_id: str, after: str | None, limit: int) -> list[StreamRecord]:
            stream = current()
            shard = stream.shards.get(shard_id) if stream is not None else None
            if stream is None or shard is None:
                await asyncio.sleep(0)  # never answer a polling loop without yielding
                return []
            decoded = decode(after) if after else None
            position = decoded.position if decoded else shard.first_position - 1
            rows, _ = await state.read(stream, shard, position, limit)
            shard_tail = tail(stamp, shard.index)
            return [
                StreamRecord(encode_with(row.seq, shard_tail), row.partition_key, row.data, arrival_ms(row.seq))
                for row in rows
            ]

        def latest(shard_id: str) -> str | None:
            stream = current()
            shard = stream.shards.get(shard_id) if stream is not None else None
            if stream is None or shard is None:
                return None
            position = state.newest_position(stream, shard)
            return None if position is None else encode(position, stamp, shard.index)

        def at_timestamp(shard_id: str, ms: int) -> str | None:
            stream = current()
            shard = stream.shards.get(shard_id) if stream is not None else None
            if stream is None or shard is None:
                return None
            position = first_position_at(ms) - 1
            return None if position < shard.first_position else encode(position, stamp, shard.index)

        async def wait(timeout_s: float) -> None:
            if current() is None:
                await asyncio.sleep(timeout_s)
                return
            await state.wait(key, timeout_s)

        arn, account, region = found.arn, found.account, found.region

        def to_event(shard_id: str, record: StreamRecord) -> dict:
            return event_record_of(arn, account, region, shard_id, record)

        return StreamSource(
            arn=arn,
            shards=shards,
            read=read,
            latest=latest,
            at_timestamp=at_timestamp,
            wait=wait,
            event_record=to_event,
            closed=closed,
        )
