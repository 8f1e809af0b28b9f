"""Delivering matched events to targets through the durable outbox (engine/delivery/outbox.py).

PutEvents puts one outbox item per (event, matched target) in the same store batch that
accepts the events, then schedules them; the outbox retries by the target's RetryPolicy
(MaximumRetryAttempts and MaximumEventAgeInSeconds, kept in the item; 185 retries within
24 hours by default) with the delays of `policy` (engine/delivery/retry.py: exponential
with jitter, from LAMINA_EVENTS_RETRY_BASE up to 5 minutes; whether an error is worth a
retry is retry.retryable) and, when it gives up, calls `dead_letter`, which
sends the original event to the target's DeadLetterConfig queue with AWS's attributes:

    RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE, RETRY_ATTEMPTS, and
    EXHAUSTED_RETRY_CONDITION (MaximumRetryAttemptsExceeded / MaximumEventAgeExceeded)
    when retries ran out rather than the error being one retrying cannot fix.

Item fields beyond the outbox's own: rule (rule ARN), target_id, dlq (queue ARN or absent),
event (the original event text, kept only when there is a DLQ and the target got other
text). Targets of FIFO queues and topics get a lane per rule and target, so one rule's
events reach them in order.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from ...engine.delivery.destinations import DeliveryError, Destinations
from ...engine.delivery.outbox import NOT_RETRYABLE, Outbox
from ...engine.delivery.retry import RetryPolicy, retryable
from ...errors import ServiceError
from ...store.base import Store
from . import transform
from .state import OUTBOX_KIND

log = logging.getLogger("lamina.events")

DEFAULT_MAX_RETRIES = 185
DEFAULT_MAX_AGE_S = 86400
_NOT_FOUND = {
    "ResourceNotFoundException",
    "QueueDoesNotExist",
    "AWS.SimpleQueueService.NonExistentQueue",
    "NotFound",
    "ResourceNotFound",
}


def unsupported_target(arn: str) -> ServiceError:
    service = arn.split(":")[2] if arn.count(":") >= 2 else arn
    names = {"states": "Step Functions state machines", "events": "EventBridge resources other than event buses"}
    return ServiceError(
        "UnsupportedTarget", f"Lamina does not deliver to {names.get(service, service)} targets yet ({arn}).", 400
    )


def error_code(error: Exception) -> str:
    """AWS's ERROR_CODE for a failed delivery."""
    code = getattr(error, "code", "") or ""
    status = getattr(error, "status", None)
    if code == "UnsupportedTarget":
        return "SDK_CLIENT_ERROR"
    if code in _NOT_FOUND or status == 404:
        return "NO_RESOURCE"
    if status == 403 or code.startswith("AccessDenied"):
        return "NO_PERMISSIONS"
    if status == 429 or "Throttl" in code or "TooManyRequests" in code:
        return "THROTTLING"
    if isinstance(error, (DeliveryError, OSError)) or status is None:
        return "CONNECTION_FAILURE"
    if status >= 500:
        return "INTERNAL_ERROR"
    return "INVALID_PARAMETER"


def error_message(error: Exception) -> str:
    text = getattr(error, "message", None) or str(error) or type(error).__name__
    return text[:256]


def _retryable(error: Exception) -> bool:
    """retry.retryable, except where the error says itself (an API destination's answer:
    EventBridge retries 401, 407, 409, 429 and 5xx there)."""
    decided = getattr(error, "retry", None)
    return decided if isinstance(decided, bool) else retryable(error)


def retry_policy(base_delay_s: float = 1.0, max_delay_s: float = 300.0) -> RetryPolicy:
    """EventBridge's retries: exponential with jitter, and AWS's defaults for a target
    without a RetryPolicy of its own."""
    return RetryPolicy.exponential(
        base_delay_s, max_delay_s, jitter=0.2, max_retries=DEFAULT_MAX_RETRIES, max_age_s=DEFAULT_MAX_AGE_S
    )


class Delivery:
    def __init__(
        self,
        store: Store,
        destinations: Destinations,
        base_delay_s: float = 1.0,
        max_delay_s: float = 300.0,
        policy: RetryPolicy | None = None,
    ) -> None:
        """`base_delay_s` and `max_delay_s` are the shorthand for `policy`."""
        self.destinations = destinations
        self.outbox = Outbox(
            store,
            OUTBOX_KIND,
            self._send,
            dead_letter=self._dead_letter,
            policy=policy or retry_policy(base_delay_s, max_delay_s),
            is_retryable=_retryable,
        )

    async def start(self) -> int:
        return await self.outbox.start()

    async def stop(self) -> None:
        await self.outbox.stop()

    async def _send(self, arn: str, body: bytes, attributes: dict[str, str], **options: Any) -> None:
        if not self.destinations.supports(arn):
            raise unsupported_target(arn)
        await self.destinations.send(arn, body, attributes, **options)

    async def _dead_letter(self, item: dict, error: Exception, condition: str) -> None:
        dlq = item.get("dlq")
        if not dlq:
            log.warning("event for %s dropped after %s: %s", item["target"], condition, error_message(error))
            return
        attributes = {
            "RULE_ARN": item.get("rule", ""),
            "TARGET_ARN": item["target"],
            "ERROR_CODE": error_code(error),
            "ERROR_MESSAGE": error_message(error),
            "RETRY_ATTEMPTS": str(max(0, item.get("attempts", 1) - 1)),
        }
        if condition != NOT_RETRYABLE:
            attributes["EXHAUSTED_RETRY_CONDITION"] = condition
        body = item.get("event") or item["body"]
        # The dead-letter queue's policy must let EventBridge send to it for the rule.
        gated = {"source_service": "events.amazonaws.com", "source_arn": item["rule"]} if item.get("rule") else {}
        try:
            await self.destinations.send(dlq, body.encode("utf-8"), attributes, **gated)
        except (ServiceError, DeliveryError, OSError) as failure:
            log.warning("dead-letter queue %s refused the event for %s: %s", dlq, item["target"], failure)


def outbox_item(
    target: dict, body: str, event_id: str, event_text: str, rule_arn: str, created_ms: int, hops: int = 0
) -> dict:
    """The outbox item for one matched target (`hops`: how many buses the event has crossed)."""
    arn = target["Arn"]
    retry = target.get("RetryPolicy") or {}
    item: dict[str, Any] = {
        "target": arn,
        "body": body,
        "attributes": {},
        "created_ms": created_ms,
        "max_retries": retry.get("MaximumRetryAttempts", DEFAULT_MAX_RETRIES),
        "max_age_s": retry.get("MaximumEventAgeInSeconds", DEFAULT_MAX_AGE_S),
        "rule": rule_arn,
        "target_id": target["Id"],
    }
    # Who delivers: EventBridge itself, to a function, queue, topic or log group whose policy must allow
    # events.amazonaws.com for the rule; through the target's RoleArn where it has one (a
    # stream, another bus); else a bus in another account is sent to as the rule's account.
    options: dict[str, Any] = {"source_arn": rule_arn}
    role = target.get("RoleArn")
    service = arn.split(":")[2] if arn.count(":") >= 5 else ""
    if role and service not in ("lambda", "sqs", "sns", "logs"):
        options.update(role_arn=role, source_service="events.amazonaws.com")
    elif service in ("lambda", "sqs", "sns", "logs"):
        options["source_service"] = "events.amazonaws.com"
    if arn.endswith(".fifo"):
        group = (target.get("SqsParameters") or {}).get("MessageGroupId")
        # The event id is the deduplication id: a redelivery after a crash is dropped by the queue.
        options.update(message_group_id=group, deduplication_id=event_id)
        item["lane"] = f"{rule_arn}|{target['Id']}"
    if service == "events":
        if ":api-destination/" in arn:
            # PathParameterValues, HeaderParameters, QueryStringParameters (http_target.py).
            options["http"] = target.get("HttpParameters") or {}
        else:
            options["hops"] = hops + 1
    if service == "kinesis":
        # KinesisParameters.PartitionKeyPath picks the key out of the event; the event id by default.
        path = (target.get("KinesisParameters") or {}).get("PartitionKeyPath")
        key = transform.extract(json.loads(event_text), path) if path else event_id
        options["partition_key"] = key if isinstance(key, str) and key else event_id
    item["options"] = options
    dlq = (target.get("DeadLetterConfig") or {}).get("Arn")
    if dlq:
        item["dlq"] = dlq
        if body is not event_text:
            item["event"] = event_text
    return item
