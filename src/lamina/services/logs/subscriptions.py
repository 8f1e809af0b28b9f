"""PutSubscriptionFilter, DescribeSubscriptionFilters, DeleteSubscriptionFilter, and the
delivery of matching events to a filter's destination.

Destinations, as on AWS: a Lambda function of the same account (invoked asynchronously with
{"awslogs": {"data": <base64 of the gzipped message>}}; its policy must let
logs.amazonaws.com invoke it for the log group) or a Kinesis stream (the gzipped message is
the record's data; roleArn names the role CloudWatch Logs writes as, and PutSubscriptionFilter
sends the stream AWS's CONTROL_MESSAGE to check it). At most two filters per log group.

The message (messageType DATA_MESSAGE) holds the events of one log stream that matched one
filter. Events are collected per (log group, stream, filter) for BATCH_WINDOW_S, then the
messages are committed to the outbox (engine/delivery/outbox.py) and delivered from there
through Destinations, retried until delivered or given up on. PutLogEvents' events skip the
window: their messages are committed in the same store write as the events themselves.

A function's subscription filter on its own log group (/aws/lambda/<name>) is refused: every
invocation would log lines that invoke it again. A longer loop (A's group to B, B's to A) is
not detected; don't build one.

Filters are kept in memory (loaded at start) and in the store:

    kind "logs_subscription_filter"   key "<group key>:<filter name>"
    kind "logs_subscription_outbox"   outbox items (one per message to deliver)
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import itertools
import json
import logging
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ...engine.delivery.destinations import Destinations
from ...engine.delivery.outbox import Outbox, new_key
from ...errors import ServiceError
from ...observability.logsink import group_arn
from ...store.base import Delete, Put, Store
from ..context import RequestContext
from .filter_pattern import FilterPatternError, Matcher, compile_pattern
from .metric_filters import limit_exceeded
from .paging import decode_token, encode_token
from .resources import GroupRef, group_ref, invalid_parameter, load_group, not_found, now_ms

log = logging.getLogger("lamina.logs")

KIND = "logs_subscription_filter"
OUTBOX_KIND = "logs_subscription_outbox"
MAX_FILTERS_PER_GROUP = 2
DEFAULT_LIMIT = 50
SERVICE_PRINCIPAL = "logs.amazonaws.com"
BATCH_WINDOW_S = 0.2  # how long events wait for more of their stream before they are sent
MAX_BATCH_BYTES = 200_000  # messages per delivery, before compression (Lambda's async payload is 256 KB)
MAX_BATCH_EVENTS = 10_000

LAMBDA_DENIED = " ".join(
    (
        "Could not execute the lambda function.",
        "Make sure you have given CloudWatch Logs permission to execute your function.",
    )
)
KINESIS_FAILED = (
    "Could not deliver test message to specified Kinesis stream. Check if the given kinesis stream is in ACTIVE state."
)
KINESIS_NEEDS_ROLE = "destinationArn for vendor kinesis cannot be used without roleArn"
CONTROL_MESSAGE = "CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."

FunctionExists = Callable[[str], Awaitable[bool]]
_ids = itertools.count(secrets.randbelow(10**12))


def event_id(timestamp: int) -> str:
    """A 56-digit event id, as AWS's look: unique here, ordered by timestamp."""
    return f"{timestamp:020d}{next(_ids) % 10**36:036d}"


def subscription_key(group_key: str, name: str) -> str:
    return f"{group_key}:{name}"


def gzipped_message(
    account: str, group: str, stream: str, filters: list[str], events: list[dict], kind: str = "DATA_MESSAGE"
) -> bytes:
    message = {
        "messageType": kind,
        "owner": account,
        "logGroup": group,
        "logStream": stream,
        "subscriptionFilters": filters,
        "logEvents": events,
    }
    return gzip.compress(json.dumps(message, separators=(",", ":")).encode(), compresslevel=6)


@dataclass
class SubscriptionFilter:
    group_key: str
    doc: dict[str, Any]
    match: Matcher

    @classmethod
    def from_doc(cls, group_key: str, doc: dict[str, Any]) -> SubscriptionFilter:
        return cls(group_key, doc, compile_pattern(doc.get("filterPattern") or ""))

    @property
    def name(self) -> str:
        return self.doc["filterName"]

    @property
    def account(self) -> str:
        return self.group_key.split(":", 1)[0]

    @property
    def region(self) -> str:
        return self.group_key.split(":", 2)[1]

    def item(self, stream: str, events: list[dict]) -> dict:
        """The outbox item delivering these events (each {id, timestamp, message})."""
        doc = self.doc
        data = gzipped_message(self.account, doc["logGroupName"], stream, [doc["filterName"]], events)
        target = doc["destinationArn"]
        options: dict[str, Any] = {"source_service": SERVICE_PRINCIPAL}
        if target.split(":")[2] == "lambda":
            body = json.dumps({"awslogs": {"data": base64.b64encode(data).decode()}}).encode()
            options["source_arn"] = group_arn(self.account, self.region, doc["logGroupName"]) + ":*"
        else:
            body = data
            options["role_arn"] = doc.get("roleArn")
            random = doc.get("distribution") == "Random"
            options["partition_key"] = uuid.uuid4().hex if random else stream[:256]
        return {
            "target": target,
            "body": base64.b64encode(body).decode(),  # the outbox keeps text; bodies here are bytes
            "options": options,
            "created_ms": now_ms(),
            "filter": doc["filterName"],
        }


class _Pending:
    __slots__ = ("events", "size")

    def __init__(self) -> None:
        self.events: list[dict] = []
        self.size = 0


class Deliveries:
    """Matching events on their way to subscription filters' destinations: batched per
    (group, stream, filter) for BATCH_WINDOW_S, then committed to the outbox and sent."""

    def __init__(self, store: Store, destinations: Destinations) -> None:
        self.store = store
        self.destinations = destinations
        self.outbox = Outbox(store, OUTBOX_KIND, self._send)
        self._pending: dict[tuple[str, str, str], _Pending] = {}
        self._filters: dict[tuple[str, str, str], SubscriptionFilter] = {}
        self._task: asyncio.Task | None = None
        self._flushing: set[asyncio.Task] = set()

    async def _send(self, target: str, body: bytes, attributes: dict, **options: Any) -> None:
        await self.destinations.send(target, base64.b64decode(body), attributes, **options)

    def items(self, record: SubscriptionFilter, stream: str, events: list[tuple[int, str]]) -> list[tuple[str, dict]]:
        """Outbox items for these events of a stream, those that match (for the caller to commit)."""
        items = []
        batch = _Pending()
        for timestamp, message in events:
            if record.match(message):
                self._add(batch, timestamp, message)
                if batch.size >= MAX_BATCH_BYTES or len(batch.events) >= MAX_BATCH_EVENTS:
                    items.append((new_key(), record.item(stream, batch.events)))
                    batch = _Pending()
        if batch.events:
            items.append((new_key(), record.item(stream, batch.events)))
        return items

    @staticmethod
    def _add(batch: _Pending, timestamp: int, message: str) -> None:
        batch.events.append({"id": event_id(timestamp), "timestamp": timestamp, "message": message})
        batch.size += len(message) + 26

    def add(self, record: SubscriptionFilter, stream: str, events: list[tuple[int, str]]) -> None:
        """Queue the matching events for the next batch (no I/O; never raises)."""
        key = (record.group_key, stream, record.name)
        batch = None
        for timestamp, message in events:
            if not record.match(message):
                continue
            if batch is None:
                batch = self._pending.get(key)
                if batch is None:
                    batch = self._pending[key] = _Pending()
                self._filters[key] = record
            self._add(batch, timestamp, message)
        if batch is not None and (self._task is None or self._task.done()):
            self._task = asyncio.ensure_future(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(BATCH_WINDOW_S)
        await self.flush()

    async def flush(self) -> None:
        """Commit what is queued to the outbox and start delivering it."""
        pending, filters = self._pending, self._filters
        self._pending, self._filters = {}, {}
        items: list[tuple[str, dict]] = []
        for key, batch in pending.items():
            record = filters[key]
            events = batch.events
            while events:
                size = count = 0
                while count < len(events) and count < MAX_BATCH_EVENTS and size < MAX_BATCH_BYTES:
                    size += len(events[count]["message"]) + 26
                    count += 1
                items.append((new_key(), record.item(key[1], events[:count])))
                events = events[count:]
        if not items:
            return
        try:
            await self.store.write(self.outbox.puts(items))
        except Exception:  # the log path must not fail because of a subscriber
            log.exception("could not queue %d subscription deliveries", len(items))
            return
        for key, item in items:
            self.outbox.schedule(key, item)

    async def start(self) -> None:
        await self.outbox.start()

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.flush()
        await self.outbox.stop()

    def reset(self) -> None:
        self._pending.clear()
        self._filters.clear()


class SubscriptionsApi:
    store: Store
    destinations: Destinations
    function_exists: FunctionExists | None
    subscription_filters: dict[str, dict[str, SubscriptionFilter]]  # group key -> name -> filter

    async def put_subscription_filter(self, params: dict, ctx: RequestContext) -> dict:
        group = group_ref(ctx, params["logGroupName"])
        pattern = params["filterPattern"]
        try:
            compile_pattern(pattern)
        except FilterPatternError:
            raise invalid_parameter("Invalid filter pattern") from None
        await load_group(self.store, group)
        name = params["filterName"]
        current = self.subscription_filters.get(group.key, {})
        if name not in current and len(current) >= MAX_FILTERS_PER_GROUP:
            raise limit_exceeded()
        target = params["destinationArn"]
        role = params.get("roleArn")
        parts = target.split(":")
        service = parts[2] if len(parts) > 5 and parts[0] == "arn" else ""
        doc: dict[str, Any] = {
            "filterName": name,
            "logGroupName": group.name,
            "filterPattern": pattern,
            "destinationArn": target,
            "distribution": params.get("distribution") or "ByLogStream",
            "creationTime": now_ms(),
        }
        if role:
            doc["roleArn"] = role
        if params.get("applyOnTransformedLogs"):
            doc["applyOnTransformedLogs"] = True
        if service == "lambda":
            await self._check_function(group, target, ctx)
        elif service == "kinesis":
            if not role:
                raise invalid_parameter(KINESIS_NEEDS_ROLE)
            await self._check_stream(group, doc, ctx)
        elif service == "firehose":
            raise invalid_parameter(
                "Could not deliver test message to specified Firehose stream. "
                "Check if the given Firehose stream is in ACTIVE state."
            )
        else:
            raise invalid_parameter(f"Invalid destinationArn: {target}")
        await self.store.write([Put(KIND, subscription_key(group.key, name), doc)])
        self.subscription_filters.setdefault(group.key, {})[name] = SubscriptionFilter.from_doc(group.key, doc)
        return {}

    async def _check_function(self, group: GroupRef, target: str, ctx: RequestContext) -> None:
        parts = target.split(":")
        if parts[4] != ctx.account_id or parts[3] != ctx.region:
            raise invalid_parameter(LAMBDA_DENIED)  # same-account delivery only, as AWS
        if group.name == f"/aws/lambda/{parts[6]}":
            raise invalid_parameter(
                f"A subscription filter on {group.name} cannot deliver to the function that writes it: "
                "each delivery would log lines that are delivered again."
            )
        if self.function_exists is not None and not await self.function_exists(target):
            raise invalid_parameter(LAMBDA_DENIED)
        if self.destinations.gate is not None:
            try:
                await self.destinations.gate(
                    target,
                    {
                        "source_service": SERVICE_PRINCIPAL,
                        "source_arn": group_arn(ctx.account_id, ctx.region, group.name) + ":*",
                    },
                )
            except ServiceError:
                raise invalid_parameter(LAMBDA_DENIED) from None

    async def _check_stream(self, group: GroupRef, doc: dict, ctx: RequestContext) -> None:
        """AWS's CONTROL_MESSAGE, sent now, as the role: the stream must take it."""
        now = int(time.time() * 1000)
        data = gzipped_message(
            "CloudwatchLogs",
            "",
            "",
            [],
            [{"id": "", "timestamp": now, "message": CONTROL_MESSAGE}],
            kind="CONTROL_MESSAGE",
        )
        try:
            await self.destinations.send(
                doc["destinationArn"],
                data,
                {},
                role_arn=doc["roleArn"],
                source_service=SERVICE_PRINCIPAL,
                partition_key=uuid.uuid4().hex,
            )
        except Exception:  # noqa: BLE001 - whatever refused it, AWS says this
            raise invalid_parameter(KINESIS_FAILED) from None

    async def delete_subscription_filter(self, params: dict, ctx: RequestContext) -> dict:
        group = group_ref(ctx, params["logGroupName"])
        await load_group(self.store, group)
        name = params["filterName"]
        filters = self.subscription_filters.get(group.key, {})
        if name not in filters:
            raise not_found("The specified subscription filter does not exist.")
        await self.store.write([Delete(KIND, subscription_key(group.key, name))])
        filters.pop(name, None)
        if not filters:
            self.subscription_filters.pop(group.key, None)
        return {}

    async def describe_subscription_filters(self, params: dict, ctx: RequestContext) -> dict:
        group = group_ref(ctx, params["logGroupName"])
        await load_group(self.store, group)
        prefix = params.get("filterNamePrefix") or ""
        limit = params.get("limit") or DEFAULT_LIMIT
        cursor = decode_token(params.get("nextToken"), "after")
        after = cursor["after"] if cursor else None
        if after is not None and not isinstance(after, str):
            raise invalid_parameter("The specified nextToken is invalid.")
        docs = sorted(
            (
                record.doc
                for record in self.subscription_filters.get(group.key, {}).values()
                if record.name.startswith(prefix) and (after is None or record.name > after)
            ),
            key=lambda doc: doc["filterName"],
        )
        page = docs[:limit]
        result: dict[str, Any] = {"subscriptionFilters": [dict(doc) for doc in page]}
        if len(docs) > limit:
            result["nextToken"] = encode_token({"after": page[-1]["filterName"]})
        return result
