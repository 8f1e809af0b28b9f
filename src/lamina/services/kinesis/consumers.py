"""Enhanced fan-out consumers: RegisterStreamConsumer, DescribeStreamConsumer,
ListStreamConsumers, DeregisterStreamConsumer.

Consumers are kept in their stream's document (consumer.py), so they survive a restart
and go with DeleteStream. A stream takes 20 consumers, and at most 5 may be CREATING at
once, as on AWS (On-demand Advantage streams' 50 is not modelled).
"""

from __future__ import annotations

from datetime import datetime

from ...errors import ServiceError
from ..context import RequestContext
from .consumer import CREATING, Consumer, parse_consumer_arn
from .errors import in_use, invalid_argument, limit_exceeded, stream_not_found
from .state import KinesisState, now_ms
from .stream import Stream
from .streams import TOKEN_TTL_MS, decode_token, encode_token
from .tags import MAX_TAGS, check_tag_keys

MAX_CONSUMERS = 20
MAX_CREATING = 5
LIST_LIMIT = 100


class ConsumersApi:
    state: KinesisState

    def _named_consumer(self, params: dict, ctx: RequestContext) -> tuple[Stream, Consumer]:
        """The consumer by ConsumerARN, or by StreamARN and ConsumerName."""
        arn, name, stream_arn = params.get("ConsumerARN"), params.get("ConsumerName"), params.get("StreamARN")
        if arn:
            if stream_arn and not arn.startswith(stream_arn + "/consumer/"):
                raise invalid_argument(f"ConsumerARN {arn} does not belong to stream {stream_arn}.")
            if name and parse_consumer_arn(arn)[1] != name:  # type: ignore[index]  # the model checked its form
                raise invalid_argument(f"ConsumerName {name} does not match ConsumerARN {arn}.")
            return self.state.find_consumer(arn, ctx)
        if not (name and stream_arn):
            raise invalid_argument("Either ConsumerARN or both ConsumerName and StreamARN must be provided.")
        stream = self.state.find({"StreamARN": stream_arn}, ctx)
        stream.live_consumers(now_ms())
        consumer = stream.consumers.get(name)
        if consumer is None:
            raise ServiceError(
                "ResourceNotFoundException",
                f"Consumer {name} under stream {stream.name}, account {stream.account} not found.",
                400,
            )
        return stream, consumer

    async def register_stream_consumer(self, params: dict, ctx: RequestContext) -> dict:
        stream = self.state.find({"StreamARN": params["StreamARN"]}, ctx)
        name = params["ConsumerName"]
        now = now_ms()
        live = stream.live_consumers(now)
        if name in stream.consumers:
            raise in_use(f"Consumer {name} under stream {stream.name} already exists for account {stream.account}.")
        if len(live) >= MAX_CONSUMERS:
            raise limit_exceeded(
                f"Stream {stream.name} under account {stream.account} has reached the limit of "
                f"{MAX_CONSUMERS} registered consumers."
            )
        if sum(1 for c in live if c.status(now) == CREATING) >= MAX_CREATING:
            raise limit_exceeded(
                f"Stream {stream.name} under account {stream.account} already has {MAX_CREATING} consumers "
                "in CREATING status; wait for one of them to become ACTIVE."
            )
        tags = dict(params.get("Tags") or {})
        check_tag_keys(tags)
        if len(tags) > MAX_TAGS:
            raise invalid_argument(
                f"Failed to register consumer {name} because a given consumer cannot have more than "
                f"{MAX_TAGS} tags associated with it."
            )
        consumer = Consumer(name, now, now + self.state.consumer_ms, tags)
        stream.consumers[name] = consumer
        try:
            await self.state.save(stream)
        except BaseException:
            stream.consumers.pop(name, None)
            raise
        return {"Consumer": consumer.describe(stream.arn, now)}

    async def describe_stream_consumer(self, params: dict, ctx: RequestContext) -> dict:
        stream, consumer = self._named_consumer(params, ctx)
        return {"ConsumerDescription": {**consumer.describe(stream.arn, now_ms()), "StreamARN": stream.arn}}

    async def list_stream_consumers(self, params: dict, ctx: RequestContext) -> dict:
        stream = self.state.find({"StreamARN": params["StreamARN"]}, ctx)
        created: datetime | None = params.get("StreamCreationTimestamp")
        if created is not None and int(created.timestamp()) != stream.created_ms // 1000:
            raise stream_not_found(stream.name, stream.account)  # another stream of that name
        limit = params.get("MaxResults") or LIST_LIMIT
        after = ""
        token = params.get("NextToken")
        if token is not None:
            made, key, stamp, after = decode_token(token, 4)
            if now_ms() - int(made) > TOKEN_TTL_MS:
                raise ServiceError("ExpiredNextTokenException", "The NextToken has expired.", 400)
            if key != stream.key or int(stamp) != stream.stamp:
                raise invalid_argument("Invalid NextToken.")
        now = now_ms()
        consumers = sorted((c for c in stream.live_consumers(now) if c.name > after), key=lambda c: c.name)
        page = consumers[:limit]
        out: dict = {"Consumers": [c.describe(stream.arn, now) for c in page]}
        if len(consumers) > limit:
            out["NextToken"] = encode_token(now, stream.key, stream.stamp, page[-1].name)
        return out

    async def deregister_stream_consumer(self, params: dict, ctx: RequestContext) -> dict:
        stream, consumer = self._named_consumer(params, ctx)
        if consumer.gone_ms is None:
            consumer.gone_ms = now_ms() + self.state.consumer_ms
            await self.state.save(stream)
        self.state.notify(stream)  # its subscriptions end
        return {}
