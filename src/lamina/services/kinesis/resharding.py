"""Resharding: SplitShard, MergeShards, UpdateShardCount (UNIFORM_SCALING).

A split closes a shard and opens two children over its halves of the key range; a merge
closes two adjacent shards and opens one child over both. A closed shard gets an
EndingSequenceNumber below every position its children will hand out, so a reader that
finishes the parents before starting the children keeps each partition key in order.

UpdateShardCount does what AWS says it does: a series of splits and merges. First every
boundary of the even target layout that is not yet a shard boundary is split at, then the
shards inside each target range are merged pairwise, left to right. Short-lived
intermediate shards can result, as on AWS. The stream passes through UPDATING instantly.
"""

from __future__ import annotations

from ..context import RequestContext
from .errors import in_use, invalid_argument, limit_exceeded, no_such_shard, validation
from .hashkeys import even_boundaries, even_ranges
from .iterators import resolve_shard_id
from .limits import check_shard_limit
from .shard import Shard
from .state import KinesisState, now_ms
from .stream import Stream

MAX_SHARDS_PER_STREAM = 10_000


def split(stream: Stream, shard: Shard, new_start: int, now: int) -> tuple[Shard, Shard]:
    position = stream.clock.take()
    shard.last_position, shard.closed_ms = position, now
    low = stream.add_shard(shard.start_hash, new_start - 1, position + 1, now, parent=shard.shard_id)
    high = stream.add_shard(new_start, shard.end_hash, position + 1, now, parent=shard.shard_id)
    stream.reindex()
    return low, high


def merge(stream: Stream, shard: Shard, adjacent: Shard, now: int) -> Shard:
    position = stream.clock.take()
    for parent in (shard, adjacent):
        parent.last_position, parent.closed_ms = position, now
    child = stream.add_shard(
        min(shard.start_hash, adjacent.start_hash),
        max(shard.end_hash, adjacent.end_hash),
        position + 1,
        now,
        parent=shard.shard_id,
        adjacent=adjacent.shard_id,
    )
    stream.reindex()
    return child


def rescale(stream: Stream, target: int, now: int) -> None:
    """Splits and merges until the open shards are the `target` even ranges of the key space."""
    for boundary in even_boundaries(target):
        shard = stream.route(boundary)
        if shard.start_hash != boundary:
            split(stream, shard, boundary, now)
    for start, end in even_ranges(target):
        inside = [s for s in stream.open_shards() if start <= s.start_hash <= end]
        while len(inside) > 1:
            inside = [merge(stream, inside[0], inside[1], now)] + inside[2:]


def _open_shard(stream: Stream, given: str) -> Shard:
    shard_id = resolve_shard_id(given)
    shard = stream.shards.get(shard_id) if shard_id else None
    if shard is None:
        raise no_such_shard(given, stream.name, stream.account)
    if shard.closed:
        raise invalid_argument(
            f"Shard {shard.shard_id} in stream {stream.name} under account {stream.account} has "
            "already been merged or split, and thus is not eligible for merging or splitting."
        )
    return shard


def _check_active(stream: Stream) -> None:
    if stream.status != "ACTIVE":
        raise in_use(
            f"Stream {stream.name} under account {stream.account} not ACTIVE, instead in state {stream.status}"
        )


class ReshardingApi:
    state: KinesisState

    async def _apply(self, stream: Stream, change) -> None:
        """Make the change in memory (no await in between, so no record can slip into a
        closed shard), then write it; the positions it took settle with the write."""
        first = stream.clock.last + 1
        change()
        batch = stream.track(first)
        await self.state.save(stream, batch)

    async def split_shard(self, params: dict, ctx: RequestContext) -> dict:
        stream = self.state.find(params, ctx)
        shard = _open_shard(stream, params["ShardToSplit"])
        new_start = int(params["NewStartingHashKey"])
        if not shard.start_hash + 1 < new_start < shard.end_hash:
            raise invalid_argument(
                f"NewStartingHashKey {params['NewStartingHashKey']} used in SplitShard() on shard {shard.shard_id} "
                f"in stream {stream.name} under account {stream.account} is not both greater than one plus the "
                f"shard's StartingHashKey {shard.start_hash} and less than the shard's EndingHashKey {shard.end_hash}."
            )
        _check_active(stream)
        if stream.mode == "PROVISIONED":
            check_shard_limit(self.state, stream.account, stream.region, 1)
        await self._apply(stream, lambda: split(stream, shard, new_start, now_ms()))
        return {}

    async def merge_shards(self, params: dict, ctx: RequestContext) -> dict:
        stream = self.state.find(params, ctx)
        shard = _open_shard(stream, params["ShardToMerge"])
        adjacent = _open_shard(stream, params["AdjacentShardToMerge"])
        if shard.end_hash + 1 != adjacent.start_hash and adjacent.end_hash + 1 != shard.start_hash:
            raise invalid_argument(
                f"Shards {shard.shard_id} and {adjacent.shard_id} in stream {stream.name} under "
                f"account {stream.account} are not an adjacent pair of shards eligible for merging"
            )
        _check_active(stream)
        await self._apply(stream, lambda: merge(stream, shard, adjacent, now_ms()))
        return {}

    async def update_shard_count(self, params: dict, ctx: RequestContext) -> dict:
        stream = self.state.find(params, ctx)
        target = params["TargetShardCount"]
        if stream.mode == "ON_DEMAND":
            raise validation(
                f"Request is invalid. Stream {stream.name} under account {stream.account} is in On-Demand mode."
            )
        _check_active(stream)
        current = len(stream.open_shards())
        counts = f"Current open shard count: {current}, Target shard count: {target}"
        if target > min(MAX_SHARDS_PER_STREAM, self.state.shard_limit):
            raise limit_exceeded(
                f"Target shard count or number of open shards cannot be greater than "
                f"{min(MAX_SHARDS_PER_STREAM, self.state.shard_limit)}. {counts}"
            )
        if target > current * 2:
            raise limit_exceeded(
                f"UpdateShardCount cannot scale up over double your current open shard count. {counts}"
            )
        if target * 2 < current:
            raise limit_exceeded(
                f"UpdateShardCount cannot scale down below half your current open shard count. {counts}"
            )
        if target > current:
            check_shard_limit(self.state, stream.account, stream.region, target - current)
        if target != current:
            await self._apply(stream, lambda: rescale(stream, target, now_ms()))
        return {
            "StreamName": stream.name,
            "StreamARN": stream.arn,
            "CurrentShardCount": current,
            "TargetShardCount": target,
        }
