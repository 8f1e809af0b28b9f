"""Shard iterators: GetShardIterator, and the opaque token GetRecords reads its place from.

A token says which stream incarnation and shard, the position the next read starts after
(exclusive), and when the token was made: like AWS's, it expires five minutes later.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime, timezone

from ...errors import ServiceError
from ..context import RequestContext
from .errors import invalid_argument, no_such_shard, shard_not_found
from .sequence import decode, first_position_at
from .shard import Shard, shard_name
from .state import KinesisState, now_ms
from .stream import Stream

ITERATOR_TTL_MS = 300_000
_VERSION = "1"
_MAX_SHARD_NUMBER = 2**31 - 1


@dataclass(frozen=True)
class Iterator:
    created_ms: int
    stream_key: str
    stamp: int
    shard_id: str
    after: int  # the next read returns records after this position


def make(stream: Stream, shard: Shard, after: int, created_ms: int | None = None) -> str:
    created = now_ms() if created_ms is None else created_ms
    raw = f"{_VERSION}|{created}|{stream.key}|{stream.stamp}|{shard.shard_id}|{after}"
    return base64.b64encode(raw.encode()).decode()


def parse(token: str) -> Iterator:
    try:
        version, created, key, stamp, shard_id, after = base64.b64decode(token, validate=True).decode().split("|")
        if version != _VERSION:
            raise ValueError(version)
        return Iterator(int(created), key, int(stamp), shard_id, int(after))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid_argument("Invalid ShardIterator.") from None


def check_fresh(iterator: Iterator, now: int | None = None) -> None:
    now = now_ms() if now is None else now
    if now - iterator.created_ms > ITERATOR_TTL_MS:
        raise ServiceError(
            "ExpiredIteratorException",
            f"Iterator expired. The iterator was created at time {_amz_time(iterator.created_ms)} while right now "
            f"it is {_amz_time(now)} which is further in the future than the tolerated delay of "
            f"{ITERATOR_TTL_MS} milliseconds.",
            400,
        )


def _amz_time(ms: int) -> str:
    # As AWS prints it: "Thu Jan 22 01:22:02 UTC 2015".
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%a %b %d %H:%M:%S UTC %Y")


def resolve_shard_id(given: str) -> str | None:
    """AWS accepts "shardId-000000000001", "shardId-1", "1" or "anything-1" for shard 1."""
    number = given.rsplit("-", 1)[-1]
    if not number.isdigit() or int(number) > _MAX_SHARD_NUMBER:
        return None
    return shard_name(int(number))


def find_shard(stream: Stream, given: str) -> Shard:
    shard_id = resolve_shard_id(given)
    if shard_id is None:
        raise no_such_shard(given, stream.name, stream.account)
    shard = stream.shards.get(shard_id)
    if shard is None:
        raise shard_not_found(shard_id, stream.name, stream.account)
    return shard


def _both_or_neither(kind: str, given: bool) -> ServiceError:
    return invalid_argument(
        "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or "
        "(2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. "
        f"Request specified {kind} and {'also a' if given else 'no'} StartingSequenceNumber."
    )


class IteratorsApi:
    state: KinesisState

    async def get_shard_iterator(self, params: dict, ctx: RequestContext) -> dict:
        name, account, stream = self.state.lookup(params, ctx)
        if stream is None:  # AWS words this as the shard's absence
            shard_id = resolve_shard_id(params["ShardId"])
            raise (
                shard_not_found(shard_id, name, account)
                if shard_id
                else no_such_shard(params["ShardId"], name, account)
            )
        shard = find_shard(stream, params["ShardId"])
        after = start_after(
            stream,
            shard,
            params["ShardIteratorType"],
            params.get("StartingSequenceNumber"),
            params.get("Timestamp"),
            "GetShardIterator",
        )
        return {"ShardIterator": make(stream, shard, after)}


def start_after(
    stream: Stream, shard: Shard, kind: str, number: str | None, timestamp: datetime | None, operation: str
) -> int:
    """The position a reader starting as asked (ShardIteratorType or StartingPosition) reads after."""
    if kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
        if number is None:
            raise _both_or_neither(kind, False)
        position = _position_of(stream, shard, number, operation)
        return position - 1 if kind == "AT_SEQUENCE_NUMBER" else position
    if number is not None and kind in ("TRIM_HORIZON", "LATEST"):
        raise _both_or_neither(kind, True)
    if kind == "TRIM_HORIZON":
        return shard.first_position - 1
    if kind == "LATEST":
        return stream.settled - 1
    return _before_timestamp(timestamp)  # AT_TIMESTAMP


def _position_of(stream: Stream, shard: Shard, number: str, operation: str) -> int:
    decoded = decode(number)
    where = (
        f"used in {operation} on shard {shard.shard_id} in stream {stream.name} under account "
        f"{stream.account} is invalid"
    )
    if decoded is None:
        raise invalid_argument(f"StartingSequenceNumber {number} {where}.")
    if decoded.stamp != stream.stamp:
        raise invalid_argument(f"StartingSequenceNumber {number} {where} because it did not come from this stream.")
    if decoded.shard_index != shard.index:
        raise invalid_argument(
            f"Invalid StartingSequenceNumber. It encodes {shard_name(decoded.shard_index)}, "
            f"while it was used in a call to a shard with {shard.shard_id}"
        )
    return decoded.position


def _before_timestamp(timestamp: datetime | None) -> int:
    if timestamp is None:
        raise invalid_argument(
            "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. "
            "Current request has no timestamp parameter."
        )
    ms = int(timestamp.timestamp() * 1000)
    now = now_ms()
    if ms > now:
        raise invalid_argument(
            "The timestampInMillis parameter cannot be greater than the "
            "currentTimestampInMillis. "
            f"timestampInMillis: {ms}, currentTimestampInMillis: {now}"
        )
    return first_position_at(ms) - 1
