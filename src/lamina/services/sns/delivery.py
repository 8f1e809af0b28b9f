"""Delivering published messages, off the request path and at least once, through the
engine's durable outbox (engine/delivery/outbox.py, kind "sns_outbox").

Publish puts one outbox item per (message, matched subscription) in the store batch that
accepts the message, before it answers (`items`), and then `schedule`s them. The outbox
delivers each in the background and removes it once delivered, or once given up on and
handed to the subscription's dead-letter queue (its RedrivePolicy). At startup whatever it
still holds is delivered again, with the attempts already made: a crash can duplicate a
delivery, never lose one.

    lambda      Destinations.send(function ARN, the SNS event) -> a durable async invoke
    sqs         Destinations.send(queue ARN, JSON envelope or raw message, attributes)
    http/https  POST with the envelope (or raw message) and the x-amz-sns-* headers
    application a mobile endpoint, sms a phone number: a delivery status log record (mobile.py);
                so is a Publish straight to an endpoint or a number (its target is the
                endpoint ARN or the number, the message carries its account and region)

The subscription is looked up at each attempt: what it receives follows its attributes at
that moment, and an unsubscribed one receives nothing more.

Retries are the subscription's RetryPolicy (engine/delivery/retry.py), asked at each
failure: HTTP/S follow the effective delivery policy (3 retries 20 s apart by default,
configurable per topic and subscription: attributes.retry_policy); Lambda and SQS follow
Lamina's schedule for AWS-managed endpoints (`retry_delays_s`). An HTTP answer that
retry.retryable refuses (a 4xx other than 429) is a client error and is not retried;
whatever Lambda or SQS answer is retried. Messages of a FIFO topic reach each subscription
one at a time, in order (an outbox lane per subscription).

Item: target (the subscription ARN), options {"message": the published message, as
publish.py keeps it}, created_ms, lane (FIFO topics). Keys sort in publish order: the
publish time (or a FIFO message's sequence number), the message id, the subscription's place.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import urllib.error
import urllib.request
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

from ...engine.delivery.destinations import DeliveryError
from ...engine.delivery.outbox import Outbox
from ...engine.delivery.retry import RetryPolicy, retryable
from ...errors import ServiceError
from ...store.base import Delete
from . import attributes as attrs
from . import data_protection, envelopes
from .mobile import MobileDelivery
from .signing import Signer
from .state import OUTBOX_KIND, SnsState, Subscription, now_ms

log = logging.getLogger("lamina.sns")

# AWS's policy for AWS-managed endpoints (Lambda, SQS) without its 23-day tail: 3 immediate
# retries, 2 one second apart, 10 backing off exponentially from 1 to 20 seconds.
MANAGED_RETRY_DELAYS_S = (0.0, 0.0, 0.0, 1.0, 1.0) + tuple(round(20 ** (step / 10), 2) for step in range(1, 11))
HTTP_TIMEOUT_S = 15.0
USER_AGENT = "Amazon Simple Notification Service Agent"

Send = Callable[[str, bytes, dict[str, str]], Awaitable[None]]


class PermanentFailure(Exception):
    """A delivery that retrying cannot fix (an HTTP client error)."""


class HttpStatusError(DeliveryError):
    """An HTTP/S endpoint answered something other than 2xx."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


def _retryable(error: Exception) -> bool:
    """Not a client error: an HTTP 4xx, a refusal by the endpoint's policy (AWS does not
    retry those; the message goes to the subscription's dead-letter queue)."""
    return not isinstance(error, PermanentFailure) and getattr(error, "status", None) != 403


def _pretty(document: dict) -> bytes:
    # AWS's envelopes are pretty-printed this way; consumers only parse them, but logs read better.
    return json.dumps(document, ensure_ascii=False, indent=2, separators=(",", " : ")).encode("utf-8")


class Deliverer:
    def __init__(
        self,
        state: SnsState,
        send: Send,
        retry_delays_s: tuple[float, ...] = MANAGED_RETRY_DELAYS_S,
        http_timeout_s: float = HTTP_TIMEOUT_S,
        http_threads: int = 32,
        policy: RetryPolicy | None = None,
        signer: Signer | None = None,
    ) -> None:
        self.state = state
        # Every message and confirmation is signed with it (the data dir's key: signing.py).
        self.signer = signer or Signer.generate()
        self.send = send  # Destinations.send
        # Lambda and SQS subscriptions' (retry_delays_s is its shorthand); HTTP/S ones have theirs.
        self.policy = policy or RetryPolicy.fixed(retry_delays_s)
        self.outbox = Outbox(
            state.store,
            OUTBOX_KIND,
            self._deliver,
            dead_letter=self._dead_letter,
            policy=self.policy,
            policy_of=self._policy_of,
            is_retryable=_retryable,
        )
        self.http_timeout_s = http_timeout_s
        self._http = ThreadPoolExecutor(max_workers=http_threads, thread_name_prefix="sns-http")
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._tasks: set[asyncio.Task] = set()  # confirmations being sent
        # Mobile endpoints and phone numbers (mobile.py), set by the service.
        self.mobile: MobileDelivery | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> int:
        """Deliver what the outbox still holds (published, not yet delivered before a stop)."""
        # A message kept whole by an older Lamina (one document naming its subscriptions)
        # becomes one item per subscription first.
        legacy = [(key, doc) for key, doc in await self.state.store.scan(OUTBOX_KIND) if "subscriptions" in doc]
        if legacy:
            items = self.items([doc for _, doc in legacy])
            await self.state.store.write([Delete(OUTBOX_KIND, key) for key, _ in legacy] + self.outbox.puts(items))
        return await self.outbox.start()

    async def stop(self) -> None:
        await self.outbox.stop()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._http.shutdown(wait=False, cancel_futures=True)

    # --- publishing -------------------------------------------------------------------------------

    @staticmethod
    def items(messages: list[dict]) -> list[tuple[str, dict]]:
        """The outbox items (key, item) that deliver `messages` to the subscriptions they matched."""
        out = []
        for message in messages:
            # A FIFO message's sequence number orders it within its topic also within a millisecond.
            order = message.get("sequence") or f"{message['ms']:013d}"
            for place, arn in enumerate(message["subscriptions"]):
                item = {"target": arn, "options": {"message": message}, "created_ms": message["ms"]}
                if message.get("fifo"):
                    item["lane"] = arn
                out.append((f"{order}:{message['id']}:{place}", item))
        return out

    def schedule(self, items: list[tuple[str, dict]]) -> None:
        """Deliver items whose Puts are committed (in order: a lane keeps it)."""
        for key, item in items:
            self.outbox.schedule(key, item)

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- one subscription -------------------------------------------------------------------------

    async def _deliver(self, subscription_arn: str, body: bytes, attributes: dict, *, message: dict) -> None:
        """One attempt (the outbox's send): raises when it failed."""
        if self.mobile is not None and not self.state.is_subscription_arn(subscription_arn):
            # A Publish straight to a mobile endpoint (its ARN) or a phone number.
            if subscription_arn.startswith("+"):
                await self.mobile.to_number(subscription_arn, message, message["account"], message["region"], None)
            else:
                await self.mobile.to_endpoint(subscription_arn, message)
            return
        subscription = self.state.subscriptions.get(subscription_arn)
        if subscription is None or subscription.pending:
            return  # unsubscribed meanwhile: nothing more to deliver
        await self._attempt(subscription, message)

    def policy_for(self, subscription: Subscription) -> RetryPolicy:
        if subscription.protocol in attrs.HTTP_PROTOCOLS:
            topic = self.state.topics.get(subscription.topic_arn)
            policy = attrs.effective_subscription_delivery_policy(subscription, topic)["healthyRetryPolicy"]
            return attrs.retry_policy(policy)
        return self.policy

    def _policy_of(self, item: dict) -> RetryPolicy:
        subscription = self.state.subscriptions.get(item["target"])
        return self.policy if subscription is None else self.policy_for(subscription)

    def _payload(self, subscription: Subscription, message: dict) -> tuple[bytes, dict]:
        """(body, send options) for SQS and HTTP/S: the raw message, whose attributes go to a
        queue with their types as AWS hands them over, or the JSON envelope, which holds them."""
        if subscription.raw:
            text = envelopes.message_for(subscription.protocol, message)
            return text.encode("utf-8"), {"message_attributes": _sqs_attributes(message.get("attributes") or {})}
        return _pretty(envelopes.notification(message, subscription, self.signer)), {}

    def audit(self, group_arn: str, record: dict) -> None:
        """Write a data protection audit finding to its log group, in the background."""
        self._spawn(self._write_audit(group_arn, record))

    async def _write_audit(self, group_arn: str, record: dict) -> None:
        try:
            await self.send(group_arn, json.dumps(record).encode("utf-8"), {}, create_log_group="true")
        except Exception as error:  # an audit never fails a publish
            log.warning("SNS data protection audit to %s not written: %s", group_arn, error)

    async def _attempt(self, subscription: Subscription, message: dict) -> None:
        topic = self.state.topics.get(subscription.topic_arn)
        if topic is not None and data_protection.has_outbound(topic.protection):
            protected = _outbound(topic, subscription, message)
            if protected is None:
                log.info("data protection of %s denies %s message %s", topic.arn, subscription.arn, message["id"])
                return
            message = protected
        protocol = subscription.protocol
        if protocol == "lambda":
            event = envelopes.lambda_event(message, subscription, self.signer)
            # SNS invokes as sns.amazonaws.com: the function's policy must allow it for the topic.
            await self.send(
                subscription.endpoint,
                envelopes.dumps(event),
                {},
                source_service="sns.amazonaws.com",
                source_arn=subscription.topic_arn,
            )
        elif protocol == "sqs":
            body, options = self._payload(subscription, message)
            if message.get("fifo"):  # a FIFO topic's message keeps its group and dedup id in the queue
                options.update(message_group_id=message.get("group"), deduplication_id=message.get("dedup"))
            # As sns.amazonaws.com: the queue's policy must allow it for the topic.
            options.update(source_service="sns.amazonaws.com", source_arn=subscription.topic_arn)
            await self.send(subscription.endpoint, body, {}, **options)
        elif protocol in attrs.HTTP_PROTOCOLS:
            body, _ = self._payload(subscription, message)
            headers = {
                "x-amz-sns-message-type": "Notification",
                "x-amz-sns-message-id": message["id"],
                "x-amz-sns-topic-arn": message["topic"],
                "x-amz-sns-subscription-arn": subscription.arn,
            }
            if subscription.raw:
                headers["x-amz-sns-rawdelivery"] = "true"
            await self.post(subscription, body, headers)
        elif protocol == "application" and self.mobile is not None:
            await self.mobile.to_endpoint(subscription.endpoint, message)
        elif protocol == "sms" and self.mobile is not None:
            topic = self.state.topics.get(subscription.topic_arn)
            _, _, _, region, account, _ = subscription.topic_arn.split(":", 5)
            await self.mobile.to_number(subscription.endpoint, message, account, region, topic)
        else:
            raise PermanentFailure(f"protocol {protocol} is not delivered by Lamina")

    async def _dead_letter(self, item: dict, error: Exception, condition: str) -> None:
        subscription = self.state.subscriptions.get(item["target"])
        redrive = subscription.attributes.get("RedrivePolicy") if subscription is not None else None
        if not redrive:
            return
        message = item["options"]["message"]
        target = json.loads(redrive).get("deadLetterTargetArn")
        body, options = self._payload(subscription, message)
        # The dead-letter queue's policy must let SNS send to it, as for a subscribed queue.
        options.update(source_service="sns.amazonaws.com", source_arn=subscription.topic_arn)
        try:
            await self.send(target, body, {}, **options)
        except (ServiceError, DeliveryError, OSError) as failure:
            log.warning("SNS dead-letter queue %s refused message %s: %s", target, message["id"], failure)

    # --- HTTP/S -------------------------------------------------------------------------------------

    async def post(self, subscription: Subscription, body: bytes, headers: dict[str, str]) -> None:
        topic = self.state.topics.get(subscription.topic_arn)
        policy = attrs.effective_subscription_delivery_policy(subscription, topic)
        content_type = (
            policy["requestPolicy"].get("headerContentType") or attrs.DEFAULT_REQUEST_POLICY["headerContentType"]
        )
        headers = {"Content-Type": content_type, "User-Agent": USER_AGENT, **headers}
        loop = asyncio.get_running_loop()
        status = await loop.run_in_executor(self._http, self._post, subscription.endpoint, body, headers)
        if 200 <= status < 300:
            return
        error = HttpStatusError(status)
        if retryable(error):
            raise error
        raise PermanentFailure(str(error)) from error

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with self._opener.open(request, timeout=self.http_timeout_s) as response:
                response.read()
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def confirm_by_http(
        self, subscription: Subscription, endpoint: str, kind: str = "SubscriptionConfirmation"
    ) -> None:
        """Send a SubscriptionConfirmation (or UnsubscribeConfirmation) in the background,
        retried by the subscription's delivery policy."""
        self._spawn(self._send_confirmation(subscription, endpoint, kind))

    async def _send_confirmation(self, subscription: Subscription, endpoint: str, kind: str) -> None:
        message_id = str(uuid.uuid4())
        topic = self.state.topics.get(subscription.topic_arn)
        version = topic.attributes.get("SignatureVersion", "1") if topic is not None else "1"
        body = _pretty(
            envelopes.confirmation(
                kind, subscription, endpoint, message_id, now_ms(), self.signer, signature_version=version
            )
        )
        headers = {
            "x-amz-sns-message-type": kind,
            "x-amz-sns-message-id": message_id,
            "x-amz-sns-topic-arn": subscription.topic_arn,
        }
        if kind != "SubscriptionConfirmation":
            headers["x-amz-sns-subscription-arn"] = subscription.arn
        # Not kept in the store (subscribing again sends another one), so not through the
        # outbox; retried by the same policy as the subscription's notifications.
        policy = self.policy_for(subscription)
        retry = 0
        while True:
            if retry:
                await asyncio.sleep(policy.delay_s(retry))
                current = self.state.subscriptions.get(subscription.arn)
                if kind == "SubscriptionConfirmation" and (current is None or not current.pending):
                    return  # confirmed (or gone) meanwhile
            try:
                await self.post(subscription, body, headers)
                return
            except PermanentFailure:
                break
            except (DeliveryError, OSError, urllib.error.URLError, TimeoutError):
                retry += 1
                if policy.exhausted(retry):
                    break
        log.warning("%s for %s not delivered to %s", kind, subscription.arn, subscription.endpoint)


def _outbound(topic, subscription: Subscription, message: dict) -> dict | None:
    """The message as the topic's Outbound statements let this subscription's principal see
    it: de-identified, or None (denied)."""
    policy = topic.protection
    principal = subscription.principal or f"arn:aws:iam::{topic.account}:root"
    text = data_protection.outbound(policy, message["message"], principal)
    if text is None:
        return None
    changed = dict(message, message=text)
    if message.get("structure"):
        structure = {}
        for key, value in message["structure"].items():
            protected = data_protection.outbound(policy, value, principal)
            if protected is None:
                return None
            structure[key] = protected
        changed["structure"] = structure
    return changed


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
