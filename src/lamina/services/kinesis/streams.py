"""Stream operations: CreateStream, DeleteStream, DescribeStream, DescribeStreamSummary,
ListStreams, ListShards.

Streams are ACTIVE as soon as CreateStream answers (AWS passes through CREATING for a
while; nothing waits on that here), and a deleted stream is gone at once.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from datetime import datetime

from ...errors import ServiceError
from ...store.base import Delete, DeleteStreamRecords
from ..context import RequestContext
from .errors import in_use, invalid_argument, stream_not_found
from .limits import check_shard_limit
from .sequence import first_position_at
from .shard import Shard
from .state import KIND, KinesisState, now_ms, stream_key
from .stream import DEFAULT_MAX_RECORD_KIB, DEFAULT_RETENTION_HOURS, ON_DEMAND_SHARDS, Stream
from .tags import MAX_TAGS

TOKEN_TTL_MS = 300_000
DESCRIBE_LIMIT = 100
LIST_STREAMS_LIMIT = 100
LIST_SHARDS_LIMIT = 1000


def mode_details(stream: Stream) -> dict:
    return {"StreamMode": stream.mode}


def monitoring(stream: Stream) -> list[dict]:
    return [{"ShardLevelMetrics": list(stream.metrics)}]


def encode_token(*parts: object) -> str:
    return base64.b64encode("|".join(str(p) for p in parts).encode()).decode()


def decode_token(token: str, fields: int) -> list[str]:
    try:
        parts = base64.b64decode(token, validate=True).decode().split("|")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        parts = []
    if len(parts) != fields:
        raise invalid_argument("Invalid NextToken.")
    return parts


class StreamsApi:
    state: KinesisState

    async def create_stream(self, params: dict, ctx: RequestContext) -> dict:
        name = params["StreamName"]
        key = stream_key(ctx.account_id, ctx.region, name)
        if key in self.state.streams:
            raise in_use(f"Stream {name} under account {ctx.account_id} already exists.")
        given_mode = (params.get("StreamModeDetails") or {}).get("StreamMode")
        count = params.get("ShardCount")
        # Without a ShardCount or a mode, AWS creates an on-demand stream.
        mode = given_mode or ("PROVISIONED" if count is not None else "ON_DEMAND")
        if mode == "PROVISIONED":
            if count is None:
                raise invalid_argument("ShardCount is required for streams in PROVISIONED mode.")
            check_shard_limit(self.state, ctx.account_id, ctx.region, count)
        else:
            count = ON_DEMAND_SHARDS
        tags = dict(params.get("Tags") or {})
        if len(tags) > MAX_TAGS:
            raise invalid_argument(
                f"Failed to create stream {name} under account {ctx.account_id} because a given "
                f"stream cannot have more than {MAX_TAGS} tags associated with it."
            )
        now = now_ms()
        stream = Stream(
            key,
            secrets.randbelow(10**24 - 10**23) + 10**23,
            now,
            mode,
            DEFAULT_RETENTION_HOURS,
            max_record_kib=params.get("MaxRecordSizeInKiB") or DEFAULT_MAX_RECORD_KIB,
            distribution=params.get("RecordDistributionStrategy"),
            tags=tags,
        )
        stream.create_shards(count, now)
        # In memory first, so that a second CreateStream of the name is refused at once.
        self.state.streams[key] = stream
        try:
            await self.state.save(stream)
        except BaseException:
            self.state.streams.pop(key, None)
            raise
        return {}

    async def delete_stream(self, params: dict, ctx: RequestContext) -> dict:
        stream = self.state.find(params, ctx)
        if stream.live_consumers(now_ms()) and not params.get("EnforceConsumerDeletion"):
            raise in_use(
                f"Stream {stream.name} under account {stream.account} has registered consumers. Deregister "
                "them first, or set EnforceConsumerDeletion to delete them with the stream."
            )
        self.state.streams.pop(stream.key, None)
        self.state.notify(stream)
        await self.state.store.write([Delete(KIND, stream.key), DeleteStreamRecords(stream.store_id)])
        return {}

    async def describe_stream(self, params: dict, ctx: RequestContext) -> dict:
        stream = self.state.find(params, ctx)
        limit = min(params.get("Limit") or DESCRIBE_LIMIT, DESCRIBE_LIMIT)
        start = params.get("ExclusiveStartShardId")
        shards = [s for s in stream.shards.values() if start is None or s.shard_id > start]
        description = {
            "StreamName": stream.name,
            "StreamARN": stream.arn,
            "StreamStatus": stream.status,
            "StreamModeDetails": mode_details(stream),
            "Shards": [s.describe(stream.stamp) for s in shards[:limit]],
            "HasMoreShards": len(shards) > limit,
            "RetentionPeriodHours": stream.retention_hours,
            "StreamCreationTimestamp": stream.created_ms / 1000,
            "EnhancedMonitoring": monitoring(stream),
            "EncryptionType": stream.encryption,
        }
        if stream.key_id:
            description["KeyId"] = stream.key_id
        return {"StreamDescription": description}

    async def describe_stream_summary(self, params: dict, ctx: RequestContext) -> dict:
        stream = self.state.find(params, ctx)
        summary = {
            "StreamName": stream.name,
            "StreamARN": stream.arn,
            "StreamStatus": stream.status,
            "StreamModeDetails": mode_details(stream),
            "RetentionPeriodHours": stream.retention_hours,
            "StreamCreationTimestamp": stream.created_ms / 1000,
            "EnhancedMonitoring": monitoring(stream),
            "EncryptionType": stream.encryption,
            "OpenShardCount": len(stream.open_shards()),
            "ConsumerCount": len(stream.live_consumers(now_ms())),
            "MaxRecordSizeInKiB": stream.max_record_kib,
        }
        if stream.key_id:
            summary["KeyId"] = stream.key_id
        if stream.distribution:
            summary["RecordDistributionStrategy"] = stream.distribution
        if stream.warm_mibps is not None:
            summary["WarmThroughput"] = {"TargetMiBps": stream.warm_mibps, "CurrentMiBps": stream.warm_mibps}
        return {"StreamDescriptionSummary": summary}

    async def list_streams(self, params: dict, ctx: RequestContext) -> dict:
        limit = min(params.get("Limit") or LIST_STREAMS_LIMIT, LIST_STREAMS_LIMIT)
        after = params.get("ExclusiveStartStreamName")
        token = params.get("NextToken")
        if token is not None:
            if after is not None:
                raise invalid_argument("NextToken and ExclusiveStartStreamName cannot be provided together.")
            _, after = decode_token(token, 2)
        prefix = f"{ctx.account_id}:{ctx.region}:"
        streams = sorted((s for k, s in self.state.streams.items() if k.startswith(prefix)), key=lambda s: s.name)
        if after:
            streams = [s for s in streams if s.name > after]
        page, more = streams[:limit], len(streams) > limit
        out = {
            "StreamNames": [s.name for s in page],
            "HasMoreStreams": more,
            "StreamSummaries": [
                {
                    "StreamName": s.name,
                    "StreamARN": s.arn,
                    "StreamStatus": s.status,
                    "StreamModeDetails": mode_details(s),
                    "StreamCreationTimestamp": s.created_ms / 1000,
                }
                for s in page
            ],
        }
        if more:
            out["NextToken"] = encode_token("streams", page[-1].name)
        return out

    async def list_shards(self, params: dict, ctx: RequestContext) -> dict:
        limit = min(params.get("MaxResults") or LIST_SHARDS_LIMIT, LIST_SHARDS_LIMIT)
        token = params.get("NextToken")
        if token is not None:
            if params.get("StreamName") is not None:
                raise invalid_argument("NextToken and StreamName cannot be provided together.")
            if params.get("ExclusiveStartShardId") is not None or params.get("StreamCreationTimestamp") is not None:
                raise invalid_argument(
                    "NextToken cannot be provided together with ExclusiveStartShardId or StreamCreationTimestamp."
                )
            created, key, stamp, after, shard_filter = decode_token(token, 5)
            if now_ms() - int(created) > TOKEN_TTL_MS:
                raise ServiceError("ExpiredNextTokenException", "The NextToken has expired.", 400)
            stream = self.state.current(key, int(stamp))
            if stream is None:
                account, _, name = key.split(":", 2)
                raise stream_not_found(name, account)
            filter_doc = json.loads(shard_filter) if shard_filter else None
        else:
            if params.get("StreamName") is None and params.get("StreamARN") is None:
                raise invalid_argument("Either NextToken or StreamName should be provided.")
            stream = self.state.find(params, ctx)
            after = params.get("ExclusiveStartShardId") or ""
            filter_doc = _filter_doc(params.get("ShardFilter"))
        shards = _filtered(stream, filter_doc, self.state.hour_ms)
        if after:
            shards = [s for s in shards if s.shard_id > after]
        page = shards[:limit]
        out: dict = {"Shards": [s.describe(stream.stamp) for s in page]}
        if len(shards) > limit:
            out["NextToken"] = encode_token(
                now_ms(), stream.key, stream.stamp, page[-1].shard_id, json.dumps(filter_doc) if filter_doc else ""
            )
        return out


def _filter_doc(shard_filter: dict | None) -> dict | None:
    """ListShards' ShardFilter, checked, as plain JSON (it travels inside NextToken)."""
    if not shard_filter:
        return None
    kind = shard_filter["Type"]
    doc: dict = {"type": kind}
    if kind == "AFTER_SHARD_ID":
        if not shard_filter.get("ShardId"):
            raise invalid_argument("ShardId must be supplied in a ShardFilter with a Type of AFTER_SHARD_ID.")
        doc["shard"] = shard_filter["ShardId"]
    elif kind in ("AT_TIMESTAMP", "FROM_TIMESTAMP"):
        timestamp: datetime | None = shard_filter.get("Timestamp")
        if timestamp is None:
            raise invalid_argument(f"Timestamp must be supplied in a ShardFilter with a Type of {kind}.")
        doc["ms"] = int(timestamp.timestamp() * 1000)
    return doc


def _open_at(shard: Shard, position: int) -> bool:
    return shard.first_position <= position and (shard.last_position is None or shard.last_position >= position)


def _filtered(stream: Stream, doc: dict | None, hour_ms: float) -> list[Shard]:
    shards = list(stream.shards.values())
    if doc is None or doc["type"] == "FROM_TRIM_HORIZON":
        return shards
    kind = doc["type"]
    if kind == "AFTER_SHARD_ID":
        return [s for s in shards if s.shard_id > doc["shard"]]
    if kind == "AT_LATEST":
        return [s for s in shards if not s.closed]
    earliest = min((s.first_position for s in shards), default=0)
    if kind == "AT_TRIM_HORIZON":
        point = max(stream.horizon(now_ms(), hour_ms), earliest)
        return [s for s in shards if _open_at(s, point)]
    point = max(first_position_at(doc["ms"]), earliest)
    if kind == "AT_TIMESTAMP":
        return [s for s in shards if _open_at(s, point)]
    return [s for s in shards if s.last_position is None or s.last_position >= point]  # FROM_TIMESTAMP
