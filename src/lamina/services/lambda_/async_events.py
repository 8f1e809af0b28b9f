"""Running accepted asynchronous invocations: each attempt, then what happens after the
last one — OnSuccess / OnFailure destinations with AWS's invocation record, the
function's dead-letter queue, and the async metrics.

The engine's AsyncQueue owns ordering, retries and durability; it calls back run() for
each attempt and finish() once an event is done (LambdaService hands it these two).
enqueue() is how an Event invoke, or a Lambda destination, commits an event to it.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from datetime import datetime, timezone

from ... import ids
from ...engine.concurrency import Throttled
from ...engine.delivery.async_queue import DROP, FUNCTION_ERROR, RETRY_LATER, SUCCESS, AsyncQueue, Attempt
from ...engine.delivery.destinations import DeliveryError, Destinations, invocation_record
from ...engine.pool import PoolExhausted
from ...errors import ServiceError
from .arns import FunctionRef, function_arn, parse_function
from .event_invoke import event_invoke_config
from .state import LATEST, LambdaState

log = logging.getLogger("lamina.lambda")

ZERO_RESERVED = "ZeroReservedConcurrency"  # the record's condition for an event dropped unrun
DLQ_MESSAGE_BYTES = 1024  # a dead-letter message carries the first 1 KB of the error message


def _stamp() -> str:
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _error_message(payload: bytes | None) -> str:
    """The errorMessage of a function's error payload (the payload itself if it has none)."""
    text = (payload or b"").decode("utf-8", "replace")
    try:
        document = json.loads(text)
    except ValueError:
        return text or "Function error"
    if isinstance(document, dict) and isinstance(document.get("errorMessage"), str):
        return document["errorMessage"]
    return text


def _ref_of(event: dict) -> FunctionRef:
    # The event's function is a full ARN, whose account and region parse_function takes (cached).
    return parse_function(event["function"], "", "", event.get("qualifier"))


async def enqueue(state: LambdaState, queue: AsyncQueue, ref: FunctionRef, payload: bytes, request_id: str) -> None:
    """Commit an Event invocation to the async queue (it is accepted once this returns)."""
    config = await event_invoke_config(state, ref, ref.qualifier)
    arn = function_arn(ref.region, ref.account, ref.name)
    await queue.enqueue(
        {
            "function": arn,
            "qualifier": ref.qualifier,
            "payload_b64": base64.b64encode(payload).decode("ascii"),
            "request_id": request_id,
            "max_retries": config.get("MaximumRetryAttempts", 2),
            "max_age_s": config.get("MaximumEventAgeInSeconds", 21600),
        }
    )
    state.engine.count("AsyncEventsReceived", arn, qualifier=ref.qualifier)


async def run(state: LambdaState, event: dict) -> Attempt:
    """One attempt of an accepted event."""
    ref = _ref_of(event)
    try:
        _, record = await state.resolve(ref, ref.qualifier)
    except ServiceError:
        log.warning("async event %s dropped: %s no longer exists", event["request_id"], event["function"])
        return Attempt(DROP)
    try:
        state.check_runnable(record)
    except ServiceError:
        return Attempt(RETRY_LATER)  # Failed: an update may fix it before the event's age runs out
    spec = await state.spec(record, record["config"]["Version"])
    engine = state.engine
    engine.count(
        "AsyncEventAge",
        event["function"],
        time.time() * 1000 - event["received_ms"],
        "Milliseconds",
        qualifier=ref.qualifier,
    )
    # Each retry is a new invocation with the same request id, as on AWS.
    try:
        result = await engine.invoke(
            spec,
            base64.b64decode(event["payload_b64"]),
            request_id=event["request_id"],
            invoked_arn=function_arn(ref.region, ref.account, ref.name, ref.qualifier),
        )
    except Throttled:
        if engine.reserved(spec.function_arn) == 0:
            # AWS does not retry an event of a function with reserved concurrency 0: it
            # goes to the OnFailure destination or dead-letter queue at once.
            return Attempt(DROP, status_code=429, condition=ZERO_RESERVED)
        return Attempt(RETRY_LATER)
    except PoolExhausted:
        return Attempt(RETRY_LATER)
    return Attempt(
        FUNCTION_ERROR if result.function_error else SUCCESS,
        result.payload,
        result.function_error,
        result.executed_version,
        200,
    )


async def finish(
    state: LambdaState, destinations: Destinations, event: dict, attempt: Attempt | None, condition: str | None
) -> None:
    """After the last attempt: destinations, dead-letter queue, metrics."""
    ref = _ref_of(event)
    # The event's log lines are still in the log sink's buffer: the async queue commits
    # them in the batch that removes the event (AsyncQueue.pending_logs).
    engine = state.engine
    if condition != "Success":
        engine.count("AsyncEventsDropped", event["function"], qualifier=ref.qualifier)
    if condition is None:
        return
    config = await event_invoke_config(state, ref, ref.qualifier)
    side = "OnSuccess" if condition == "Success" else "OnFailure"
    destination = ((config.get("DestinationConfig") or {}).get(side) or {}).get("Destination")
    payload = base64.b64decode(event["payload_b64"])
    if destination:
        ran = attempt is not None and condition != ZERO_RESERVED
        executed = attempt.executed_version if ran else None
        record = invocation_record(
            timestamp=_stamp(),
            request_id=event["request_id"],
            function_arn=function_arn(ref.region, ref.account, ref.name, ref.qualifier or LATEST),
            condition=condition,
            attempts=event["attempts"],
            request_payload=payload,
            status_code=attempt.status_code if ran else None,
            executed_version=executed,
            function_error=attempt.function_error if ran else None,
            response_payload=attempt.payload if ran else None,
        )
        try:
            await destinations.send(destination, record, **await _as_role(state, ref))
        except (DeliveryError, ServiceError, OSError) as error:
            log.warning("destination %s failed for %s: %s", destination, event["request_id"], error)
            engine.count("DestinationDeliveryFailures", event["function"], qualifier=ref.qualifier)
    if condition != "Success":
        await _dead_letter(state, destinations, ref, event, attempt, payload)


def _role_options(config: dict) -> dict[str, str]:
    """Lambda sends to a destination or dead-letter queue as the function's execution role
    (Destinations' gate: the role must allow sqs:SendMessage, sns:Publish...)."""
    role = config.get("Role")
    return {"role_arn": role, "source_service": "lambda.amazonaws.com"} if role else {}


async def _as_role(state: LambdaState, ref: FunctionRef) -> dict[str, str]:
    try:
        _, record = await state.resolve(ref, ref.qualifier)
    except ServiceError:
        return {}
    return _role_options(record["config"])


async def _dead_letter(
    state: LambdaState,
    destinations: Destinations,
    ref: FunctionRef,
    event: dict,
    attempt: Attempt | None,
    payload: bytes,
) -> None:
    try:
        _, record = await state.resolve(ref, ref.qualifier)
    except ServiceError:
        return
    target = (record["config"].get("DeadLetterConfig") or {}).get("TargetArn")
    if not target:
        return
    # As on AWS: ErrorCode is the HTTP status of the last attempt (a Number attribute:
    # 200 for a function error, 429 for a throttle), ErrorMessage the first 1 KB of
    # the error message.
    if attempt is None:
        code, message = 429, "Event age exceeded"
    elif attempt.condition == ZERO_RESERVED:
        code, message = 429, "Function not invoked. Function is configured with zero reserved concurrent executions"
    else:
        code, message = attempt.status_code or 200, _error_message(attempt.payload)
    attributes = {
        "RequestID": event["request_id"],
        "ErrorCode": {"DataType": "Number", "StringValue": str(code)},
        "ErrorMessage": message.encode("utf-8")[:DLQ_MESSAGE_BYTES].decode("utf-8", "ignore"),
    }
    try:
        await destinations.send(target, payload, attributes, **_role_options(record["config"]))
    except (DeliveryError, ServiceError, OSError) as error:
        log.warning("dead-letter queue %s failed for %s: %s", target, event["request_id"], error)
        state.engine.count("DeadLetterErrors", event["function"], qualifier=ref.qualifier)


async def deliver_to_function(state: LambdaState, queue: AsyncQueue, arn: str, body: bytes) -> None:
    """A Lambda function as a destination: invoked asynchronously with the record."""
    _, _, _, region, account, _, name, *qualifier = arn.split(":")
    ref = parse_function(name, account, region, qualifier[0] if qualifier else None)
    await state.resolve(ref, ref.qualifier)  # raises if it does not exist
    await enqueue(state, queue, ref, body, ids.uuid4())
