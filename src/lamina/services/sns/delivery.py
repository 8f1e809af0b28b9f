"""Delivering published messages, off the request path and at least once.

Publish writes the message and the subscriptions it matched to the outbox (kind
"sns_outbox") before it answers; this module then delivers it to each subscription in the
background and removes it from the outbox when every delivery has ended (delivered, or
given up on and handed to the subscription's dead-letter queue). At startup whatever is
still in the outbox is delivered again, so a crash can duplicate a delivery, never lose one.

    lambda      Destinations.send(function ARN, the SNS event) -> a durable async invoke
    sqs         Destinations.send(queue ARN, JSON envelope or raw message, attributes)
    http/https  POST with the envelope (or raw message) and the x-amz-sns-* headers

Retries: HTTP/S follow the effective delivery policy (3 retries 20 s apart by default,
configurable per topic and subscription); Lambda and SQS follow Lamina's schedule for
AWS-managed endpoints (`retry_delays_s`). A 4xx answer other than 429 is a client error
and is not retried. Messages of a FIFO topic are delivered one at a time, in order.
"""
from __future__ import annotations

import asyncio
import base64
import json
import logging
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Awaitable, Callable

from ...engine.delivery.destinations import DeliveryError
from ...errors import ServiceError
from ...store.base import Delete, Put
from . import attributes as attrs
from . import envelopes
from .state import SnsState, Subscription, now_ms

log = logging.getLogger("lamina.sns")

# AWS's policy for AWS-managed endpoints (Lambda, SQS) without its 23-day tail: 3 immediate
# retries, 2 one second apart, 10 backing off exponentially from 1 to 20 seconds.
MANAGED_RETRY_DELAYS_S = (0.0, 0.0, 0.0, 1.0, 1.0) + tuple(round(20 ** (step / 10), 2) for step in range(1, 11))
HTTP_TIMEOUT_S = 15.0
USER_AGENT = "Amazon Simple Notification Service Agent"

Send = Callable[[str, bytes, dict[str, str]], Awaitable[None]]


class PermanentFailure(Exception):
    """A delivery that retrying cannot fix (an HTTP client error)."""


def outbox_key(ms: int, message_id: str) -> str:
    return f"{ms:013d}:{message_id}"


def _pretty(document: dict) -> bytes:
    # AWS's envelopes are pretty-printed this way; consumers only parse them, but logs read better.
    return json.dumps(document, ensure_ascii=False, indent=2, separators=(",", " : ")).encode("utf-8")


class Deliverer:
    def __init__(self, state: SnsState, send: Send, retry_delays_s: tuple[float, ...] = MANAGED_RETRY_DELAYS_S,
                 http_timeout_s: float = HTTP_TIMEOUT_S, http_threads: int = 32) -> None:
        self.state = state
        self.send = send  # Destinations.send
        self.retry_delays_s = tuple(retry_delays_s)
        self.http_timeout_s = http_timeout_s
        self._http = ThreadPoolExecutor(max_workers=http_threads, thread_name_prefix="sns-http")
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._tasks: set[asyncio.Task] = set()
        self._ordered: dict[str, asyncio.Lock] = {}  # FIFO topic ARN -> one delivery at a time

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> int:
        """Deliver what the outbox still holds (published, not yet delivered before a stop)."""
        pending = await self.state.store.scan("sns_outbox")
        for key, message in pending:
            self.schedule(key, message)
        return len(pending)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._http.shutdown(wait=False, cancel_futures=True)

    # --- publishing -------------------------------------------------------------------------------

    @staticmethod
    def outbox_ops(messages: list[dict]) -> list[Put]:
        return [Put("sns_outbox", outbox_key(m["ms"], m["id"]), m) for m in messages]

    def schedule(self, key: str, message: dict) -> None:
        """Deliver a message whose outbox entry is committed (tasks start in call order)."""
        task = asyncio.get_running_loop().create_task(self._deliver_message(key, message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver_message(self, key: str, message: dict) -> None:
        try:
            if message.get("fifo"):
                lock = self._ordered.setdefault(message["topic"], asyncio.Lock())
                async with lock:
                    await self._fan_out(message)
            else:
                await self._fan_out(message)
            await self.state.store.write([Delete("sns_outbox", key)])
        except asyncio.CancelledError:
            raise  # stopping: the outbox keeps it for the next start
        except Exception:
            log.exception("delivering SNS message %s failed", message.get("id"))

    async def _fan_out(self, message: dict) -> None:
        await asyncio.gather(*(self._deliver(arn, message) for arn in message["subscriptions"]))

    # --- one subscription -------------------------------------------------------------------------

    async def _deliver(self, subscription_arn: str, message: dict) -> None:
        subscription = self.state.subscriptions.get(subscription_arn)
        if subscription is None or subscription.pending:
            return
        delays = self._delays_for(subscription)
        error: Exception | None = None
        for attempt in range(len(delays) + 1):
            if attempt:
                await asyncio.sleep(delays[attempt - 1])
                subscription = self.state.subscriptions.get(subscription_arn)
                if subscription is None:
                    return  # unsubscribed meanwhile
            try:
                await self._attempt(subscription, message)
                return
            except PermanentFailure as failure:
                error = failure
                break
            except (ServiceError, DeliveryError, OSError, urllib.error.URLError, TimeoutError) as failure:
                error = failure
        log.warning("SNS message %s not delivered to %s (%s): %s", message["id"], subscription.endpoint,
                    subscription.arn, error)
        await self._dead_letter(subscription, message)

    def _delays_for(self, subscription: Subscription) -> list[float]:
        if subscription.protocol in attrs.HTTP_PROTOCOLS:
            topic = self.state.topics.get(subscription.topic_arn)
            policy = attrs.effective_subscription_delivery_policy(subscription, topic)["healthyRetryPolicy"]
            return attrs.retry_delays(policy)
        return list(self.retry_delays_s)

    def _payload(self, subscription: Subscription, message: dict) -> tuple[bytes, dict]:
        """(body, send options) for SQS and HTTP/S: the raw message, whose attributes go to a
        queue with their types as AWS hands them over, or the JSON envelope, which holds them."""
        if subscription.raw:
            text = envelopes.message_for(subscription.protocol, message)
            return text.encode("utf-8"), {"message_attributes": _sqs_attributes(message.get("attributes") or {})}
        return _pretty(envelopes.notification(message, subscription)), {}

    async def _attempt(self, subscription: Subscription, message: dict) -> None:
        protocol = subscription.protocol
        if protocol == "lambda":
            event = envelopes.lambda_event(message, subscription)
            await self.send(subscription.endpoint, envelopes.dumps(event), {})
        elif protocol == "sqs":
            body, options = self._payload(subscription, message)
            if message.get("fifo"):  # a FIFO topic's message keeps its group and dedup id in the queue
                options.update(message_group_id=message.get("group"), deduplication_id=message.get("dedup"))
            await self.send(subscription.endpoint, body, {}, **options)
        elif protocol in attrs.HTTP_PROTOCOLS:
            body, _ = self._payload(subscription, message)
            headers = {"x-amz-sns-message-type": "Notification", "x-amz-sns-message-id": message["id"],
                       "x-amz-sns-topic-arn": message["topic"], "x-amz-sns-subscription-arn": subscription.arn}
            if subscription.raw:
                headers["x-amz-sns-rawdelivery"] = "true"
            await self.post(subscription, body, headers)
        else:
            raise PermanentFailure(f"protocol {protocol} is not delivered by Lamina")

    async def _dead_letter(self, subscription: Subscription, message: dict) -> None:
        redrive = subscription.attributes.get("RedrivePolicy")
        if not redrive:
            return
        target = json.loads(redrive).get("deadLetterTargetArn")
        body, options = self._payload(subscription, message)
        try:
            await self.send(target, body, {}, **options)
        except (ServiceError, DeliveryError, OSError) as error:
            log.warning("SNS dead-letter queue %s refused message %s: %s", target, message["id"], error)

    # --- HTTP/S -------------------------------------------------------------------------------------

    async def post(self, subscription: Subscription, body: bytes, headers: dict[str, str]) -> None:
        topic = self.state.topics.get(subscription.topic_arn)
        policy = attrs.effective_subscription_delivery_policy(subscription, topic)
        content_type = policy["requestPolicy"].get("headerContentType") or attrs.DEFAULT_REQUEST_POLICY[
            "headerContentType"]
        headers = {"Content-Type": content_type, "User-Agent": USER_AGENT, **headers}
        loop = asyncio.get_running_loop()
        status = await loop.run_in_executor(self._http, self._post, subscription.endpoint, body, headers)
        if 200 <= status < 300:
            return
        if status == 429 or status >= 500:
            raise DeliveryError(f"HTTP {status}")
        raise PermanentFailure(f"HTTP {status}")

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with self._opener.open(request, timeout=self.http_timeout_s) as response:
                response.read()
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def confirm_by_http(self, subscription: Subscription, endpoint: str, kind: str = "SubscriptionConfirmation") -> None:
        """Send a SubscriptionConfirmation (or UnsubscribeConfirmation) in the background,
        retried by the subscription's delivery policy."""
        self._spawn(self._send_confirmation(subscription, endpoint, kind))

    async def _send_confirmation(self, subscription: Subscription, endpoint: str, kind: str) -> None:
        message_id = str(uuid.uuid4())
        body = _pretty(envelopes.confirmation(kind, subscription, endpoint, message_id, now_ms()))
        headers = {"x-amz-sns-message-type": kind, "x-amz-sns-message-id": message_id,
                   "x-amz-sns-topic-arn": subscription.topic_arn}
        if kind != "SubscriptionConfirmation":
            headers["x-amz-sns-subscription-arn"] = subscription.arn
        delays = self._delays_for(subscription)
        for attempt in range(len(delays) + 1):
            if attempt:
                await asyncio.sleep(delays[attempt - 1])
                current = self.state.subscriptions.get(subscription.arn)
                if kind == "SubscriptionConfirmation" and (current is None or not current.pending):
                    return  # confirmed (or gone) meanwhile
            try:
                await self.post(subscription, body, headers)
                return
            except PermanentFailure:
                break
            except (DeliveryError, OSError, urllib.error.URLError, TimeoutError):
                continue
        log.warning("%s for %s not delivered to %s", kind, subscription.arn, subscription.endpoint)


def _sqs_attributes(attributes: dict[str, dict[str, str]]) -> dict[str, dict]:
    """SNS's {name: {Type, Value}} (binary in base64) as SQS's SendMessage attributes."""
    out: dict[str, dict] = {}
    for name, attribute in attributes.items():
        data_type, value = attribute["Type"], attribute["Value"]
        if data_type.startswith("Binary"):
            out[name] = {"DataType": data_type, "BinaryValue": base64.b64decode(value)}
        else:
            out[name] = {"DataType": data_type, "StringValue": value}
    return out
