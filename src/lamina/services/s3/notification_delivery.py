"""Delivering a bucket's notifications: durable, at least once, retried, through the engine's
outbox (engine/delivery/outbox.py, kind "s3_outbox").

`on_event` is the S3 service's events hook (events.py; the composition root sets it): after
a committed change of an object it matches the bucket's configuration (notifications.py) and
writes one outbox item per destination (and one for EventBridge when it is on) in one store
batch, before the caller's answer; the outbox delivers them in the background, a restart
resumes what was not delivered yet. A crash between the object's commit and that batch (one
store write apart) loses the change's notifications; AWS promises at least once, and Lamina
keeps it but for that window.

    function  Destinations.send(function ARN, {"Records": [...]}) -> an asynchronous invoke;
              the function's policy must let s3.amazonaws.com invoke it for the bucket
              (aws:SourceArn the bucket's ARN, aws:SourceAccount its owner)
    queue     SendMessage of {"Records": [...]}; the queue policy must allow s3.amazonaws.com
    topic     Publish with Subject "Amazon S3 Notification"; the topic policy must allow it
    EventBridge  PutEvents on the bucket's account's and region's default bus: source
              "aws.s3", detail-type "Object Created"..., resources the bucket's ARN

Retries follow EventBridge's schedule (exponential with jitter from `retry_base_s`, up to 5
minutes, for 24 hours); a refusal (403) or a destination gone (4xx) is not retried.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ...engine.delivery.outbox import Outbox, new_key
from ...engine.delivery.retry import RetryPolicy, retryable
from ...errors import ServiceError
from ...store.base import Store
from ..context import RequestContext
from . import notification_events as events
from .events import ObjectEvent
from .notifications import LISTS, UNABLE, NotificationBook, matches
from .state import Bucket, S3State

log = logging.getLogger("lamina.s3")

OUTBOX_KIND = "s3_outbox"
S3_PRINCIPAL = "s3.amazonaws.com"
Send = Callable[..., Awaitable[None]]  # Destinations.send(arn, body, attributes, **options)
# check(arn, options) -> None if S3 may deliver there, "missing" (no such destination) or "denied".
Check = Callable[[str, dict], Awaitable["str | None"]]

_MISSING = {"sqs": "The destination queue does not exist", "sns": "The destination topic does not exist",
            "lambda": "The destination Lambda does not exist"}  # fmt: skip
_DENIED = {
    "sqs": "Permissions on the destination queue do not allow S3 to publish notifications from this bucket",
    "sns": "Permissions on the destination topic do not allow S3 to publish notifications from this bucket",
}


def _gated(bucket_arn: str, account: str) -> dict[str, str]:
    return {"source_service": S3_PRINCIPAL, "source_arn": bucket_arn, "source_account": account}


class Notifications:
    def __init__(self, store: Store, state: S3State) -> None:
        self.store = store
        self.state = state
        self.book = NotificationBook(store)
        self.send: Send | None = None  # set by the composition root (wire)
        self.check: Check | None = None
        self.outbox = Outbox(store, OUTBOX_KIND, self._send, policy=self.policy(1.0), is_retryable=retryable)

    @staticmethod
    def policy(base_s: float) -> RetryPolicy:
        return RetryPolicy.exponential(base_s, 300.0, jitter=0.2, max_retries=185, max_age_s=86400)

    def wire(self, send: Send, check: Check, retry_base_s: float = 1.0) -> None:
        self.send, self.check = send, check
        self.outbox.policy = self.policy(retry_base_s)

    async def start(self) -> None:
        await self.book.load()
        resumed = await self.outbox.start()
        if resumed:
            log.info("s3: resumed %d undelivered notifications", resumed)

    async def stop(self) -> None:
        await self.outbox.stop()

    def reset(self) -> None:
        self.book.reset()

    # --- configuring ------------------------------------------------------------------------

    async def validate(self, bucket: Bucket, config: dict, ctx: RequestContext, skip: bool = False) -> None:
        """What S3 checks of a new configuration's destinations, then its s3:TestEvent to
        each queue and topic."""
        if self.check is None or self.send is None:
            return
        gated = _gated(bucket.arn, bucket.account)
        targets = list(dict.fromkeys(item[arn] for name, (arn, _) in LISTS.items() for item in config.get(name, [])))
        if not skip:
            problems: list[tuple[str, str]] = []
            for target in targets:
                service = target.split(":")[2]
                verdict = await self.check(target, gated)
                if verdict == "missing":
                    problems.append((target, _MISSING[service]))
                elif verdict is not None:
                    problems.append((target, _DENIED.get(service, f"Not authorized to invoke function [{target}]")))
            if problems:
                raise _unable(problems)
        failed: list[tuple[str, str]] = []
        for target in targets:
            service = target.split(":")[2]
            if service == "lambda":
                continue
            body = events.test_event(bucket.name, ctx.request_id).encode()
            options: dict[str, Any] = dict(gated, subject=events.SUBJECT) if service == "sns" else dict(gated)
            try:
                await self.send(target, body, {}, **options)
            except (ServiceError, OSError, LookupError) as error:
                if not skip:
                    failed.append(
                        (target, _MISSING[service] if getattr(error, "status", 0) != 403 else _DENIED[service])
                    )
        if failed:
            raise _unable(failed)

    # --- delivering -------------------------------------------------------------------------

    async def on_event(self, event: ObjectEvent) -> None:
        bucket = self.state.bucket(event.bucket)
        if bucket is None:
            return
        config = self.book.of(bucket)
        if not config:
            return
        items = self._items(event, bucket, config)
        if not items:
            return
        await self.store.write(self.outbox.puts(items))
        for key, item in items:
            self.outbox.schedule(key, item)

    def _items(self, event: ObjectEvent, bucket: Bucket, config: dict) -> list[tuple[str, dict]]:
        now_ms = int(time.time() * 1000)
        key = events.encoded_key(event.key)
        gated = _gated(bucket.arn, bucket.account)
        out: list[tuple[str, dict]] = []
        for name, (arn_member, service) in LISTS.items():
            for item in config.get(name, []):
                if not matches(item, event.name, key):
                    continue
                options: dict[str, Any] = dict(gated, subject=events.SUBJECT) if service == "sns" else dict(gated)
                body = events.message(event, item["Id"])
                out.append((new_key(now_ms), {"target": item[arn_member], "body": body, "created_ms": now_ms,
                                              "options": options}))  # fmt: skip
        if "EventBridgeConfiguration" in config:
            shaped = events.eventbridge(event)
            if shaped is not None:
                detail_type, detail = shaped
                bus = f"arn:aws:events:{bucket.region}:{bucket.account}:event-bus/default"
                options = {"detail_type": detail_type, "source": "aws.s3", "resources": [bucket.arn]}
                out.append((new_key(now_ms), {"target": bus, "body": json.dumps(detail), "created_ms": now_ms,
                                              "options": options}))  # fmt: skip
        return out

    async def _send(self, arn: str, body: bytes, attributes: dict, **options: Any) -> None:
        if self.send is None:
            raise ServiceError("ServiceUnavailable", "S3's notifications are not wired to the other services", 503)
        await self.send(arn, body, attributes, **options)


def _unable(problems: list[tuple[str, str]]) -> ServiceError:
    members: dict[str, Any] = {}
    for number, (arn, why) in enumerate(problems, 1):
        members[f"ArgumentName{number}"] = arn
        members[f"ArgumentValue{number}"] = why
    return ServiceError("InvalidArgument", UNABLE, 400, **members)
