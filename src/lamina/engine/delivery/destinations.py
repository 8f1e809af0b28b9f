"""Where asynchronous results go: destinations (OnSuccess / OnFailure) and dead-letter
queues, by the service their ARN names.

A service that can receive registers a deliverer for its ARN prefix ("lambda", "sqs",
"sns", "events"); Lambda's is there from the start, the messaging services plug theirs
in when they land. A destination receives AWS's invocation record as JSON; a dead-letter
queue receives the original event with RequestID, ErrorCode and ErrorMessage attributes.

Attributes are a dict of name -> value: a str is a String attribute, a dict is a typed one
as SendMessage takes it ({"DataType": "Number", "StringValue": "429"}); typed() gives
every value the second form.

Senders that need more than a body and string attributes pass keyword options that
deliverers understand or ignore: `message_group_id` and `deduplication_id` (FIFO queues
and topics, e.g. an EventBridge target's SqsParameters).

A sender that is an AWS service acting on its own or through a role says so
(`source_service`, `source_arn`, `role_arn`, `source_account`): such a delivery passes the
`gate` first (access/deliveries.py, set by the composition root), which refuses what AWS
would (a queue whose policy does not let SNS send, a role the scheduler may not assume).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

# deliver(target ARN, body bytes, attributes, **options) -> None; raises on failure.
Deliver = Callable[..., Awaitable[None]]
# gate(target ARN, options) -> None; raises the target's access error if it may not be sent.
Gate = Callable[[str, dict], Awaitable[None]]
GATED = ("source_service", "source_arn", "role_arn", "source_account", "source_owner")
Attributes = dict[str, "str | dict[str, str]"]


def typed(attributes: Attributes) -> dict[str, dict[str, str]]:
    """Every attribute as {DataType, StringValue}: a plain str is a String."""
    return {
        name: value if isinstance(value, dict) else {"DataType": "String", "StringValue": value}
        for name, value in attributes.items()
    }


class DeliveryError(Exception):
    pass


class Destinations:
    def __init__(self) -> None:
        self._deliverers: dict[str, Deliver] = {}
        self.gate: Gate | None = None

    def register(self, service: str, deliver: Deliver) -> None:
        self._deliverers[service] = deliver

    def supports(self, arn: str) -> bool:
        return _service(arn) in self._deliverers

    async def send(self, arn: str, body: bytes, attributes: Attributes | None = None, **options: str | None) -> None:
        deliver = self._deliverers.get(_service(arn))
        if deliver is None:
            raise DeliveryError(f"no deliverer for {arn}")
        if self.gate is not None and any(options.get(name) for name in GATED):
            await self.gate(arn, options)
        await deliver(arn, body, attributes or {}, **options)


def _service(arn: str) -> str:
    parts = arn.split(":")
    return parts[2] if len(parts) > 2 and parts[0] == "arn" else ""


def invocation_record(
    *,
    timestamp: str,
    request_id: str,
    function_arn: str,
    condition: str,
    attempts: int,
    request_payload: bytes,
    status_code: int | None,
    executed_version: str | None,
    function_error: str | None,
    response_payload: bytes | None,
) -> bytes:
    """AWS's record for async invocation destinations (version 1.0)."""

    def decoded(raw: bytes | None):
        if raw is None:
            return None
        try:
            return json.loads(raw) if raw else None
        except (ValueError, UnicodeDecodeError):
            return raw.decode("utf-8", "replace")

    record = {
        "version": "1.0",
        "timestamp": timestamp,
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "requestPayload": decoded(request_payload),
        "responseContext": {"statusCode": status_code, "executedVersion": executed_version},
        "responsePayload": decoded(response_payload),
    }
    if function_error:
        record["responseContext"]["functionError"] = function_error
    if status_code is None:
        record["responseContext"] = {}
        record.pop("responsePayload")
    return json.dumps(record).encode()
