"""SubscribeToShard: an enhanced fan-out consumer's push subscription to one shard.

The answer is an event stream (protocol/eventstream.py): its `EventStream` member is an
async iterator of `{"SubscribeToShardEvent": {...}}`. The first event comes at once, with
what the shard holds from the starting position; after that an event goes out as soon as
records are committed, and an empty one after HEARTBEAT_S of quiet, so that the consumer
sees the subscription is alive. Each event's ContinuationSequenceNumber is where an
AFTER_SEQUENCE_NUMBER subscription would go on from. A subscription lasts five minutes,
then the stream ends and the consumer subscribes again, as on AWS. At the end of a closed
shard the last event names the ChildShards and has no ContinuationSequenceNumber.

One consumer holds one subscription per shard: subscribing again within five seconds of
the last successful call is ResourceInUseException (whether or not that one is still
open); later, the new subscription takes over and the old one ends with
ResourceInUseException. Deregistering the consumer, or deleting
the stream, ends its subscriptions with ResourceNotFoundException.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from ...errors import ServiceError
from ..context import RequestContext
from .consumer import ACTIVE
from .errors import consumer_not_found, in_use, shard_not_found
from .iterators import find_shard, start_after
from .records import child_shards, millis_behind, record_list
from .sequence import encode
from .state import KinesisState, now_ms

SUBSCRIPTION_S = 300.0  # how long one subscription lasts (AWS: 5 minutes)
TAKEOVER_S = 5.0  # a second subscription within this is refused; after it, it takes over
HEARTBEAT_S = 5.0  # an empty event after this long without records
EVENT_RECORDS = 10_000
EVENT_BYTES = 2 * 1024 * 1024  # a shard's enhanced fan-out rate per second


@dataclass
class Subscription:
    started: float  # time.monotonic() of the successful call
    ended: bool = False
    taken_over: bool = False


@dataclass
class Subscriptions:
    """The latest subscription of each (consumer ARN, shard id): live, or ended less than
    TAKEOVER_S after it was made (a call within that is refused even so, as on AWS)."""

    active: dict[tuple[str, str], Subscription] = field(default_factory=dict)
    lifetime_s: float = SUBSCRIPTION_S
    heartbeat_s: float = HEARTBEAT_S

    def latest(self, key: tuple[str, str], now: float) -> Subscription | None:
        for old in [k for k, s in self.active.items() if s.ended and now - s.started >= TAKEOVER_S]:
            del self.active[old]
        return self.active.get(key)


class SubscriptionsApi:
    state: KinesisState
    subscriptions: Subscriptions

    async def subscribe_to_shard(self, params: dict, ctx: RequestContext) -> dict:
        consumer_arn = params["ConsumerARN"]
        stream, consumer = self.state.find_consumer(consumer_arn, ctx)
        if consumer.status(now_ms()) != ACTIVE:
            raise in_use(
                f"Consumer {consumer.name} with creation timestamp {consumer.created_s} under stream "
                f"{stream.name} and account {stream.account} is not in ACTIVE status."
            )
        shard = find_shard(stream, params["ShardId"])
        start = params["StartingPosition"]
        after = start_after(
            stream, shard, start["Type"], start.get("SequenceNumber"), start.get("Timestamp"), "SubscribeToShard"
        )
        if params.get("DryRun"):
            raise ServiceError(
                "DryRunOperationException",
                "The request would have succeeded, but the DryRun parameter was specified.",
                400,
            )
        key = (consumer_arn, shard.shard_id)
        now = time.monotonic()
        previous = self.subscriptions.latest(key, now)
        if previous is not None:
            if now - previous.started < TAKEOVER_S:
                raise in_use(
                    "Another active subscription exists for this consumer: "
                    f"{stream.account}:{stream.name}:{shard.shard_id}:{consumer.name}"
                )
            if not previous.ended:
                previous.taken_over = True
                self.state.notify(stream)
        subscription = self.subscriptions.active[key] = Subscription(now)
        events = self._events(consumer_arn, stream.key, stream.stamp, shard.shard_id, after, subscription)
        return {"EventStream": events}

    async def _events(
        self,
        consumer_arn: str,
        key: str,
        stamp: int,
        shard_id: str,
        after: int,
        subscription: Subscription,
    ) -> AsyncIterator[dict]:
        state, lifetime, heartbeat = self.state, self.subscriptions.lifetime_s, self.subscriptions.heartbeat_s
        ends = subscription.started + lifetime
        sent: float | None = None  # when the last event went out
        try:
            while True:
                if subscription.taken_over:
                    raise in_use(f"Another subscription to {shard_id} by {consumer_arn} has taken over this one.")
                stream = state.current(key, stamp)
                found = state.consumer_by_arn(consumer_arn)
                if stream is None or found is None or found[1].gone_ms is not None:
                    parts = consumer_arn.split(":")
                    raise consumer_not_found(consumer_arn, parts[4])
                shard = stream.shards.get(shard_id)
                if shard is None:  # past retention after it closed
                    raise shard_not_found(shard_id, stream.name, stream.account)
                settled = stream.settled
                rows, at_end = await state.read(stream, shard, after, EVENT_RECORDS, EVENT_BYTES)
                finished = at_end and stream.sealed(shard)
                now = time.monotonic()
                if rows or finished or sent is None or now - sent >= heartbeat:
                    if rows:
                        after = rows[-1].seq
                    event: dict = {
                        "Records": record_list(stream, shard, rows),
                        "MillisBehindLatest": millis_behind(rows, at_end),
                    }
                    if finished:
                        event["ChildShards"] = child_shards(stream, shard)
                    else:
                        event["ContinuationSequenceNumber"] = encode(after, stamp, shard.index)
                    yield {"SubscribeToShardEvent": event}
                    sent = now = time.monotonic()
                if finished or now >= ends:
                    return
                # Wait for a write, unless one settled while this read (or the consumer of the
                # last event) was busy: its notice has gone by already.
                if at_end and stream.settled == settled and not subscription.taken_over:
                    await state.wait(key, min(ends - now, heartbeat - (now - sent)))
        finally:
            subscription.ended = True
