"""Topic and subscription attributes: which can be set, how they are checked, what the
computed ones say, and the HTTP delivery policy (retries with backoff) as the RetryPolicy
(engine/delivery/retry.py) that delivery.py retries an HTTP/S subscription by."""

from __future__ import annotations

import json
import math
from typing import Any

from ...engine.delivery.retry import RetryPolicy
from ...patterns import SNS_SCOPES, InvalidPattern, compile_sns_policy
from .state import Subscription, Topic, invalid

MAX_MESSAGE_BYTES = 256 * 1024

_FEEDBACK = {
    f"{protocol}{kind}"
    for protocol in ("HTTP", "Lambda", "SQS", "Application", "Firehose")
    for kind in ("SuccessFeedbackRoleArn", "FailureFeedbackRoleArn", "SuccessFeedbackSampleRate")
}
TOPIC_SETTABLE = {
    "DisplayName",
    "Policy",
    "DeliveryPolicy",
    "KmsMasterKeyId",
    "SignatureVersion",
    "TracingConfig",
    "ContentBasedDeduplication",
    "FifoThroughputScope",
    "ArchivePolicy",
} | _FEEDBACK
TOPIC_CREATE_ONLY = {"FifoTopic"}
SUBSCRIPTION_SETTABLE = {
    "DeliveryPolicy",
    "FilterPolicy",
    "FilterPolicyScope",
    "RawMessageDelivery",
    "RedrivePolicy",
    "SubscriptionRoleArn",
    "ReplayPolicy",
}
RAW_PROTOCOLS = {"sqs", "http", "https", "firehose"}
HTTP_PROTOCOLS = {"http", "https"}

DEFAULT_RETRY_POLICY = {
    "minDelayTarget": 20,
    "maxDelayTarget": 20,
    "numRetries": 3,
    "numMaxDelayRetries": 0,
    "numNoDelayRetries": 0,
    "numMinDelayRetries": 0,
    "backoffFunction": "linear",
}
DEFAULT_REQUEST_POLICY = {"headerContentType": "text/plain; charset=UTF-8"}
_BACKOFF = ("linear", "arithmetic", "geometric", "exponential")
_CONTENT_TYPES = ("text/plain", "application/json", "application/xml")


def _json_object(name: str, value: str) -> dict:
    try:
        document = json.loads(value)
    except ValueError:
        raise invalid(f"{name}: the value is not valid JSON") from None
    if not isinstance(document, dict):
        raise invalid(f"{name}: the value must be a JSON object")
    return document


def _boolean(name: str, value: str) -> str:
    if value.lower() not in ("true", "false"):
        raise invalid(f"Attributes Reason: {name}: Invalid value [{value}]. Must be true or false.")
    return value.lower()


# --- topics -------------------------------------------------------------------------------------


def check_topic_attributes(given: dict[str, str], fifo: bool, creating: bool) -> dict[str, str]:
    out = {}
    for name, value in given.items():
        if name in TOPIC_CREATE_ONLY and not creating:
            raise invalid("AttributeName")
        if name not in TOPIC_SETTABLE and name not in TOPIC_CREATE_ONLY:
            raise invalid("AttributeName")
        if name == "FifoTopic":
            value = _boolean(name, value)
            if (value == "true") != fifo:
                raise invalid(
                    "Fifo Topic names must end with .fifo and must be made up of only uppercase and "
                    "lowercase ASCII letters, numbers, underscores, and hyphens, and must be between "
                    "1 and 256 characters long."
                )
        elif name == "ContentBasedDeduplication":
            value = _boolean(name, value)
            if not fifo:
                raise invalid("Attributes Reason: Content based deduplication can only be set for FIFO topics")
        elif name == "FifoThroughputScope":
            if not fifo:
                raise invalid("Attributes Reason: FifoThroughputScope can only be set for FIFO topics")
            if value not in ("Topic", "MessageGroup"):
                raise invalid(f"FifoThroughputScope: Invalid value [{value}]. Must be Topic or MessageGroup.")
        elif name == "DisplayName" and len(value) > 100:
            raise invalid("DisplayName")
        elif name == "Policy" and value:
            _json_object("Policy", value)
        elif name == "DeliveryPolicy" and value:
            check_topic_delivery_policy(value)
        elif name == "SignatureVersion" and value not in ("1", "2"):
            raise invalid("SignatureVersion: Invalid value. Valid values are 1 and 2.")
        elif name == "TracingConfig" and value not in ("PassThrough", "Active"):
            raise invalid("TracingConfig: Invalid value. Valid values are PassThrough and Active.")
        out[name] = value
    return out


def default_policy(topic: Topic) -> str:
    return json.dumps(
        {
            "Version": "2008-10-17",
            "Id": "__default_policy_ID",
            "Statement": [
                {
                    "Sid": "__default_statement_ID",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": [
                        "SNS:GetTopicAttributes",
                        "SNS:SetTopicAttributes",
                        "SNS:AddPermission",
                        "SNS:RemovePermission",
                        "SNS:DeleteTopic",
                        "SNS:Subscribe",
                        "SNS:ListSubscriptionsByTopic",
                        "SNS:Publish",
                    ],
                    "Resource": topic.arn,
                    "Condition": {"StringEquals": {"AWS:SourceOwner": topic.account}},
                }
            ],
        },
        separators=(",", ":"),
    )


def effective_topic_delivery_policy(topic: Topic) -> dict:
    policy = {
        "http": {
            "defaultHealthyRetryPolicy": dict(DEFAULT_RETRY_POLICY),
            "disableSubscriptionOverrides": False,
            "defaultRequestPolicy": dict(DEFAULT_REQUEST_POLICY),
        }
    }
    given = topic.attributes.get("DeliveryPolicy")
    if given:
        http = json.loads(given).get("http") or {}
        policy["http"]["defaultHealthyRetryPolicy"].update(http.get("defaultHealthyRetryPolicy") or {})
        policy["http"]["defaultRequestPolicy"].update(http.get("defaultRequestPolicy") or {})
        for key in ("disableSubscriptionOverrides", "defaultThrottlePolicy", "defaultSicklyRetryPolicy"):
            if key in http:
                policy["http"][key] = http[key]
    return policy


def topic_attributes(topic: Topic, subscriptions: list[Subscription]) -> dict[str, str]:
    confirmed = sum(1 for s in subscriptions if not s.pending)
    out = {
        "Policy": default_policy(topic),
        "Owner": topic.account,
        "SubscriptionsPending": str(len(subscriptions) - confirmed),
        "TopicArn": topic.arn,
        "EffectiveDeliveryPolicy": json.dumps(effective_topic_delivery_policy(topic), separators=(",", ":")),
        "SubscriptionsConfirmed": str(confirmed),
        "DisplayName": "",
        "SubscriptionsDeleted": "0",
    }
    if topic.fifo:
        out.update(FifoTopic="true", ContentBasedDeduplication="false")
    out.update({k: v for k, v in topic.attributes.items() if v != "" or k == "DisplayName"})
    return out


# --- subscriptions --------------------------------------------------------------------------------


def check_subscription_attributes(given: dict[str, str], subscription: Subscription) -> dict[str, str]:
    """Checked values for `subscription` (whose protocol is known); "" clears a policy."""
    out = {}
    scope = given.get("FilterPolicyScope", subscription.filter_scope)
    for name, value in given.items():
        if name not in SUBSCRIPTION_SETTABLE:
            raise invalid("AttributeName")
        if name == "RawMessageDelivery":
            value = _boolean(name, value)
            if subscription.protocol not in RAW_PROTOCOLS:
                raise invalid(
                    f"Attributes Reason: Delivery protocol [{subscription.protocol}] does not support "
                    "raw message delivery."
                )
        elif name == "FilterPolicyScope":
            if value not in SNS_SCOPES:
                raise invalid(
                    f"FilterPolicyScope: Invalid value [{value}]. Please use either MessageBody or MessageAttributes"
                )
        elif name == "FilterPolicy" and value:
            if len(value.encode("utf-8")) > MAX_MESSAGE_BYTES:
                raise invalid("FilterPolicy: policy is too large")
            try:
                compile_sns_policy(value, scope)
            except InvalidPattern as error:
                raise invalid(_policy_reason(error)) from None
        elif name == "RedrivePolicy" and value:
            target = _json_object("RedrivePolicy", value).get("deadLetterTargetArn")
            if not isinstance(target, str) or not target.startswith("arn:") or target.split(":")[2:3] != ["sqs"]:
                raise invalid("RedrivePolicy: deadLetterTargetArn is not a valid SQS queue ARN")
        elif name == "DeliveryPolicy" and value:
            if subscription.protocol not in HTTP_PROTOCOLS:
                raise invalid(
                    f"DeliveryPolicy: Delivery policy can only be set for HTTP/S subscriptions, not "
                    f"{subscription.protocol}"
                )
            check_subscription_delivery_policy(value)
        out[name] = value
    if "FilterPolicyScope" in given and "FilterPolicy" not in given and subscription.attributes.get("FilterPolicy"):
        try:  # the policy already set must hold in its new scope (a nested one needs MessageBody)
            compile_sns_policy(subscription.attributes["FilterPolicy"], scope)
        except InvalidPattern as error:
            raise invalid(_policy_reason(error)) from None
    return out


def _policy_reason(error: InvalidPattern) -> str:
    # AWS prefixes a malformed policy's reason with "FilterPolicy: ", but not the scope error.
    reason = str(error)
    return reason if reason.startswith("Filter policy scope") else f"FilterPolicy: {reason}"


def apply(attributes: dict[str, str], changes: dict[str, str]) -> None:
    for name, value in changes.items():
        if value == "" and name in ("FilterPolicy", "RedrivePolicy", "DeliveryPolicy", "Policy", "ReplayPolicy"):
            attributes.pop(name, None)
            if name == "FilterPolicy":
                attributes.pop("FilterPolicyScope", None)
        else:
            attributes[name] = value
    if attributes.get("FilterPolicy") and "FilterPolicyScope" not in attributes:
        attributes["FilterPolicyScope"] = "MessageAttributes"


def subscription_attributes(subscription: Subscription, topic: Topic | None) -> dict[str, str]:
    out = {
        "Owner": subscription.owner,
        "RawMessageDelivery": "false",
        "TopicArn": subscription.topic_arn,
        "Endpoint": subscription.endpoint,
        "Protocol": subscription.protocol,
        "PendingConfirmation": "true" if subscription.pending else "false",
        "ConfirmationWasAuthenticated": "true" if subscription.authenticated else "false",
        "SubscriptionArn": subscription.arn,
    }
    if subscription.principal:
        out["SubscriptionPrincipal"] = subscription.principal
    if subscription.protocol in HTTP_PROTOCOLS:
        out["EffectiveDeliveryPolicy"] = json.dumps(
            effective_subscription_delivery_policy(subscription, topic), separators=(",", ":")
        )
    out.update(subscription.attributes)
    return out


# --- HTTP delivery policy ---------------------------------------------------------------------------


def _check_retry_policy(policy: Any, where: str) -> None:
    if not isinstance(policy, dict):
        raise invalid(f"DeliveryPolicy: {where} must be a JSON object")
    merged = dict(DEFAULT_RETRY_POLICY, **policy)
    for key in (
        "minDelayTarget",
        "maxDelayTarget",
        "numRetries",
        "numMaxDelayRetries",
        "numNoDelayRetries",
        "numMinDelayRetries",
    ):
        value = merged[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise invalid(f"DeliveryPolicy: {where}.{key} must be a non-negative integer")
    if merged["numRetries"] > 100:
        raise invalid(f"DeliveryPolicy: {where}.numRetries must be at most 100")
    if not 1 <= merged["minDelayTarget"] <= merged["maxDelayTarget"] <= 3600:
        raise invalid(
            f"DeliveryPolicy: {where}: minDelayTarget and maxDelayTarget must satisfy "
            "1 <= minDelayTarget <= maxDelayTarget <= 3600"
        )
    if merged["numNoDelayRetries"] + merged["numMinDelayRetries"] + merged["numMaxDelayRetries"] > merged["numRetries"]:
        raise invalid(
            f"DeliveryPolicy: {where}: numNoDelayRetries + numMinDelayRetries + numMaxDelayRetries "
            "must not exceed numRetries"
        )
    if merged["backoffFunction"] not in _BACKOFF:
        raise invalid(f"DeliveryPolicy: {where}.backoffFunction must be one of {', '.join(_BACKOFF)}")
    if sum(retry_delays(merged)) > 3600:
        raise invalid(f"DeliveryPolicy: {where}: the retries must fit in 3600 seconds")


def _check_request_policy(policy: Any, where: str) -> None:
    if not isinstance(policy, dict):
        raise invalid(f"DeliveryPolicy: {where} must be a JSON object")
    content_type = policy.get("headerContentType")
    if content_type is not None and (
        not isinstance(content_type, str) or content_type.split(";")[0].strip() not in _CONTENT_TYPES
    ):
        raise invalid(f"DeliveryPolicy: {where}.headerContentType must be one of {', '.join(_CONTENT_TYPES)}")


def check_topic_delivery_policy(value: str) -> None:
    http = _json_object("DeliveryPolicy", value).get("http")
    if http is None:
        return
    if not isinstance(http, dict):
        raise invalid("DeliveryPolicy: http must be a JSON object")
    if "defaultHealthyRetryPolicy" in http:
        _check_retry_policy(http["defaultHealthyRetryPolicy"], "http.defaultHealthyRetryPolicy")
    if "defaultRequestPolicy" in http:
        _check_request_policy(http["defaultRequestPolicy"], "http.defaultRequestPolicy")


def check_subscription_delivery_policy(value: str) -> None:
    policy = _json_object("DeliveryPolicy", value)
    if "healthyRetryPolicy" in policy:
        _check_retry_policy(policy["healthyRetryPolicy"], "healthyRetryPolicy")
    if "requestPolicy" in policy:
        _check_request_policy(policy["requestPolicy"], "requestPolicy")


def effective_subscription_delivery_policy(subscription: Subscription, topic: Topic | None) -> dict:
    http = (
        effective_topic_delivery_policy(topic)["http"]
        if topic is not None
        else {
            "defaultHealthyRetryPolicy": dict(DEFAULT_RETRY_POLICY),
            "defaultRequestPolicy": dict(DEFAULT_REQUEST_POLICY),
        }
    )
    retry = dict(http["defaultHealthyRetryPolicy"])
    request = dict(http["defaultRequestPolicy"])
    own = subscription.attributes.get("DeliveryPolicy")
    if own and not http.get("disableSubscriptionOverrides"):
        document = json.loads(own)
        retry.update(document.get("healthyRetryPolicy") or {})
        request.update(document.get("requestPolicy") or {})
    return {
        "healthyRetryPolicy": retry,
        "sicklyRetryPolicy": None,
        "throttlePolicy": None,
        "requestPolicy": request,
        "guaranteed": False,
    }


def retry_delays(policy: dict) -> list[float]:
    """Seconds to wait before each retry: the immediate ones, those at minDelayTarget, a
    backoff phase from min to max shaped by backoffFunction, then those at maxDelayTarget."""
    low, high = policy["minDelayTarget"], policy["maxDelayTarget"]
    total = policy["numRetries"]
    no_delay, at_min, at_max = policy["numNoDelayRetries"], policy["numMinDelayRetries"], policy["numMaxDelayRetries"]
    steps = max(0, total - no_delay - at_min - at_max)
    shape = policy.get("backoffFunction", "linear")
    backoff = []
    for step in range(1, steps + 1):
        fraction = step / steps
        if shape == "exponential":
            delay = low * math.pow(high / low, fraction)
        elif shape == "geometric":
            delay = low + (high - low) * fraction**2
        elif shape == "arithmetic":
            delay = low + (high - low) * (step * (step + 1)) / (steps * (steps + 1))
        else:
            delay = low + (high - low) * fraction
        backoff.append(delay)
    return ([0.0] * no_delay + [float(low)] * at_min + backoff + [float(high)] * at_max)[:total]


def retry_policy(policy: dict) -> RetryPolicy:
    """An effective healthyRetryPolicy as a RetryPolicy: numRetries retries after retry_delays."""
    return RetryPolicy.fixed(retry_delays(policy), max_retries=policy["numRetries"])
