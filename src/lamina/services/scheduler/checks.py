"""What CreateSchedule and UpdateSchedule accept beyond the model's own constraints (the
gateway has already checked required members, lengths, ranges, patterns and enums).

`schedule_spec(params)` returns the schedule as it is kept and answered by GetSchedule:
defaults filled in (State ENABLED, ScheduleExpressionTimezone UTC, ActionAfterCompletion
NONE, RetryPolicy 185 retries / 86,400 s), dates as epoch seconds.

Targets: Lamina invokes the templated targets for Lambda (async invoke), SQS, SNS and
EventBridge PutEvents. Universal targets (arn:aws:scheduler:::aws-sdk:service:action) and
other services are refused with a ValidationException that says so.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ...engine.timers.expressions import InvalidSchedule, Schedule, parse
from .state import validation

DEFAULT_RETRY = {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}
SERVICES = {"lambda": "Lambda", "sqs": "SQS", "sns": "SNS", "events": "EventBridge"}
# Parameters of a templated target, and the target service each belongs to (None: none Lamina serves).
_PARAMETERS = {
    "SqsParameters": "sqs",
    "EventBridgeParameters": "events",
    "EcsParameters": None,
    "KinesisParameters": None,
    "SageMakerPipelineParameters": None,
    "EventBridgePutEventsV2Parameters": None,
    "EventBridgePutRawEventsParameters": None,
}
UNIVERSAL_PREFIX = "arn:aws:scheduler:::aws-sdk:"
# AWS accepts a StartDate up to five minutes in the past (a request takes time to arrive).
START_GRACE_S = 300


def expression_of(spec: dict[str, Any]) -> Schedule:
    """The parsed ScheduleExpression of a checked spec."""
    return parse(spec["ScheduleExpression"], spec.get("ScheduleExpressionTimezone") or "UTC")


def schedule_spec(params: dict[str, Any]) -> dict[str, Any]:
    expression = params["ScheduleExpression"]
    zone = params.get("ScheduleExpressionTimezone") or "UTC"
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise validation(f"Invalid time zone {zone}.") from None
    try:
        schedule = parse(expression, zone)
    except InvalidSchedule as error:
        raise validation(
            f"Invalid Schedule Expression {expression}. {error.reason[:1].upper()}{error.reason[1:]}."
        ) from None
    spec: dict[str, Any] = {
        "ScheduleExpression": expression,
        "ScheduleExpressionTimezone": zone,
        "State": params.get("State") or "ENABLED",
        "FlexibleTimeWindow": _window(params["FlexibleTimeWindow"]),
        "Target": _target(params["Target"]),
        "ActionAfterCompletion": params.get("ActionAfterCompletion") or "NONE",
    }
    for name in ("Description", "KmsKeyArn"):
        if params.get(name) is not None:
            spec[name] = params[name]
    spec.update(_dates(params, schedule))
    return spec


def _dates(params: dict[str, Any], schedule: Schedule) -> dict[str, float]:
    dates = {name: _seconds(params[name]) for name in ("StartDate", "EndDate") if params.get(name) is not None}
    if schedule.one_time:
        return dates  # kept and answered, but a one-time schedule ignores them, as on AWS
    now = time.time()
    start, end = dates.get("StartDate"), dates.get("EndDate")
    if start is not None and start < now - START_GRACE_S:
        raise validation("The StartDate you specify cannot be earlier than 5 minutes prior to the current date.")
    if end is not None and end <= now:
        raise validation("The EndDate you specify cannot be earlier than the current date.")
    if start is not None and end is not None and end <= start:
        raise validation("The StartDate must come before the EndDate.")
    return dates


def _seconds(moment: datetime | float) -> float:
    if isinstance(moment, datetime):
        return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()
    return float(moment)


def _window(window: dict[str, Any]) -> dict[str, Any]:
    mode, minutes = window["Mode"], window.get("MaximumWindowInMinutes")
    if mode == "FLEXIBLE" and minutes is None:
        raise validation("MaximumWindowInMinutes is required when the FlexibleTimeWindow Mode is FLEXIBLE.")
    if mode == "OFF" and minutes is not None:
        raise validation("MaximumWindowInMinutes is only allowed when the FlexibleTimeWindow Mode is FLEXIBLE.")
    return {"Mode": mode, **({"MaximumWindowInMinutes": minutes} if minutes is not None else {})}


def target_service(arn: str) -> str:
    parts = arn.split(":")
    return parts[2] if len(parts) >= 6 and parts[0] == "arn" else ""


def _target(target: dict[str, Any]) -> dict[str, Any]:
    arn = target["Arn"]
    if arn.startswith(UNIVERSAL_PREFIX):
        raise validation(
            f"Universal targets ({arn}) are not supported by Lamina: use a templated target "
            "(a Lambda function, an SQS queue, an SNS topic or an EventBridge event bus)."
        )
    service = target_service(arn)
    if not service or not arn.split(":", 5)[5]:
        raise validation(f"Invalid target ARN {arn}.")
    if service not in SERVICES:
        raise validation(
            f"Lamina does not invoke {service} targets ({arn}); templated targets for Lambda, SQS, "
            "SNS and EventBridge are supported."
        )
    for name, owner in _PARAMETERS.items():
        if target.get(name) is not None and owner != service:
            raise validation(f"{name} cannot be used with a {SERVICES[service]} target.")
    if service == "events":
        if not arn.split(":", 5)[5].startswith("event-bus/"):
            raise validation(f"The EventBridge target {arn} must be an event bus ARN.")
        if target.get("EventBridgeParameters") is None:
            raise validation("EventBridgeParameters (DetailType and Source) are required for an EventBridge target.")
    if service == "sqs" and arn.endswith(".fifo") and not (target.get("SqsParameters") or {}).get("MessageGroupId"):
        raise validation("SqsParameters.MessageGroupId is required for a FIFO queue target.")
    checked = {k: v for k, v in target.items() if v is not None}
    checked["RetryPolicy"] = {**DEFAULT_RETRY, **(target.get("RetryPolicy") or {})}
    return checked
