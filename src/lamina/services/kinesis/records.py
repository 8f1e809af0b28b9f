"""Record operations: PutRecord, PutRecords, GetRecords.

A put is checked whole first (sizes, hash keys), then its records take consecutive
positions, go to the shards that own their hash keys, and are written to the store in one
operation; the answer waits for the commit. Per record the work is a hash, a bisect and a
row: no store operation or task of its own, so a busy stream costs little more than its
bytes.

Kinesis reports per-record failures in PutRecords only for throttling and internal errors.
Lamina does not throttle shards (no ProvisionedThroughputExceededException: a shard takes
what the machine can write), so FailedRecordCount is always 0; what AWS refuses outright
(an oversized record, a hash key outside the key space) fails the whole request, as there.
"""

from __future__ import annotations

import hashlib

from ...errors import validation_error
from ...store.base import PutStreamRecords, StreamRecordRow
from ..context import RequestContext
from .errors import invalid_argument, shard_not_found, too_long
from .hashkeys import MAX_HASH_KEY, hash_key
from .iterators import check_fresh, make, parse
from .sequence import arrival_ms, decode, encode_with, tail
from .shard import Shard
from .state import KinesisState, now_ms
from .stream import Stream

MAX_REQUEST_BYTES = 5 * 1024 * 1024  # PutRecords, partition keys included
MAX_LARGE_REQUEST_BYTES = 10 * 1024 * 1024  # ... for a stream that takes records over 1 MiB
MAX_GET_LIMIT = 10_000


def _size(entry: dict) -> int:
    key = entry.get("PartitionKey") or ""
    return len(entry["Data"]) + (len(key) if key.isascii() else len(key.encode("utf-8")))


def _hash_key_of(entry: dict, path: str) -> int:
    explicit = entry.get("ExplicitHashKey")
    if explicit is not None:
        value = int(explicit)  # the model's pattern has made sure it is digits
        if value > MAX_HASH_KEY:
            raise invalid_argument(
                "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
                f"Specified value was {explicit}"
            )
        return value
    key = entry.get("PartitionKey")
    if key is None:
        raise validation_error(
            [f"Value null at '{path}partitionKey' failed to satisfy constraint: Member must not be null"]
        )
    return hash_key(key)


def record_list(stream: Stream, shard: Shard, rows: list[StreamRecordRow]) -> list[dict]:
    """The Record shapes of GetRecords and SubscribeToShard's events."""
    shard_tail, kms = tail(stream.stamp, shard.index), stream.encryption == "KMS"
    records = []
    for row in rows:
        record = {
            "SequenceNumber": encode_with(row.seq, shard_tail),
            "ApproximateArrivalTimestamp": arrival_ms(row.seq) / 1000,
            "Data": row.data,
            "PartitionKey": row.partition_key,
        }
        if kms:
            record["EncryptionType"] = "KMS"
        records.append(record)
    return records


def millis_behind(rows: list[StreamRecordRow], at_end: bool) -> int:
    return 0 if at_end or not rows else max(0, now_ms() - arrival_ms(rows[-1].seq))


def child_shards(stream: Stream, shard: Shard) -> list[dict]:
    """What a reader at the end of a closed shard goes on with."""
    return [
        {
            "ShardId": child.shard_id,
            "ParentShards": [p for p in (child.parent, child.adjacent_parent) if p],
            "HashKeyRange": child.hash_range(),
        }
        for child in stream.children(shard.shard_id)
    ]


class RecordsApi:
    state: KinesisState

    async def _append(self, stream: Stream, entries: list[dict], hash_keys: list[int]) -> list[dict]:
        """Place the records, write them, and return their (ShardId, SequenceNumber)s."""
        batch = stream.reserve(len(entries))
        stamp, store_id, route = stream.stamp, stream.store_id, stream.route
        tails: dict[int, str] = {}
        rows: list[StreamRecordRow] = []
        results: list[dict] = []
        position = batch.first
        try:
            for entry, key in zip(entries, hash_keys, strict=True):
                shard = route(key)
                row = StreamRecordRow(
                    store_id, shard.shard_id, position, entry.get("PartitionKey") or "", entry["Data"]
                )
                shard.add(row)
                rows.append(row)
                shard_tail = tails.get(shard.index) or tails.setdefault(shard.index, tail(stamp, shard.index))
                results.append({"ShardId": shard.shard_id, "SequenceNumber": encode_with(position, shard_tail)})
                position += 1
        except BaseException:
            stream.finish(batch, committed=False)  # an unsettled batch would hold every reader back
            raise
        await self.state.commit(stream, batch, [PutStreamRecords(rows)])
        if stream.encryption == "KMS":
            for result in results:
                result["EncryptionType"] = "KMS"
        return results

    async def deliver(
        self, arn: str, body: bytes, attributes: dict[str, str], *, partition_key: str | None = None, **_options
    ) -> None:
        """A stream as a target (EventBridge, engine/destinations.py): one PutRecord."""
        parts = arn.split(":")
        ctx = RequestContext(
            account_id=parts[4] if len(parts) > 4 else "",
            region=parts[3] if len(parts) > 3 else "",
            request_id="",
            endpoint_url="",
        )
        await self.put_record({"StreamARN": arn, "Data": body, "PartitionKey": (partition_key or "lamina")[:256]}, ctx)

    async def put_record(self, params: dict, ctx: RequestContext) -> dict:
        stream = self.state.find(params, ctx)
        limit = stream.max_record_kib * 1024
        if _size(params) > limit:
            raise too_long("data", limit)
        key = _hash_key_of(params, "")
        ordering = params.get("SequenceNumberForOrdering")
        if ordering is not None and decode(ordering) is None:
            # Positions only ever rise, so a valid one needs no further action.
            raise invalid_argument(
                f"ExclusiveMinimumSequenceNumber {ordering} used in PutRecord on stream "
                f"{stream.name} under account {stream.account} is invalid."
            )
        [result] = await self._append(stream, [params], [key])
        return result

    async def put_records(self, params: dict, ctx: RequestContext) -> dict:
        stream = self.state.find(params, ctx)
        entries = params["Records"]
        limit = stream.max_record_kib * 1024
        total = 0
        hash_keys = []
        md5, from_bytes = hashlib.md5, int.from_bytes
        for number, entry in enumerate(entries, 1):
            size = _size(entry)
            if size > limit:
                raise too_long(f"records.{number}.member.data", limit)
            total += size
            key = entry.get("PartitionKey")
            if key is not None and entry.get("ExplicitHashKey") is None:  # the common case, inline
                hash_keys.append(from_bytes(md5(key.encode("utf-8")).digest(), "big"))
            else:
                hash_keys.append(_hash_key_of(entry, f"records.{number}.member."))
        request_limit = MAX_REQUEST_BYTES if limit <= 1024 * 1024 else MAX_LARGE_REQUEST_BYTES
        if total > request_limit:
            raise invalid_argument(f"Records size exceeds {request_limit // (1024 * 1024)} MB limit")
        results = await self._append(stream, entries, hash_keys)
        out = {"FailedRecordCount": 0, "Records": results}
        if stream.encryption == "KMS":
            out["EncryptionType"] = "KMS"
        return out

    async def get_records(self, params: dict, ctx: RequestContext) -> dict:
        iterator = parse(params["ShardIterator"])
        check_fresh(iterator)
        stream = self.state.current(iterator.stream_key, iterator.stamp)
        account, _, name = iterator.stream_key.split(":", 2)
        shard = stream.shards.get(iterator.shard_id) if stream is not None else None
        if stream is None or shard is None:
            raise shard_not_found(iterator.shard_id, name, account)
        limit = min(params.get("Limit") or MAX_GET_LIMIT, MAX_GET_LIMIT)
        rows, at_end = await self.state.read(stream, shard, iterator.after, limit)
        records = record_list(stream, shard, rows)
        out: dict = {"Records": records, "MillisBehindLatest": millis_behind(rows, at_end)}
        if at_end and stream.sealed(shard):
            out["ChildShards"] = child_shards(stream, shard)  # the end of a closed shard: no next iterator
        else:
            out["NextShardIterator"] = make(stream, shard, rows[-1].seq if rows else iterator.after)
        return out
