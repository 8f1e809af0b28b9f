"""AWS service integrations (an AWS_PROXY integration with an IntegrationSubtype): the call
becomes one action of an AWS service, its parameters the integration's RequestParameters
(static values and mapped ones: $request.body.x, $request.header.x, $context.x...), run as
the integration's role (CredentialsArn: it must trust apigateway.amazonaws.com, and its
policies must allow the action: the gateway's authorization decides, as for any caller).

The action goes through the gateway by service name (Gateway.call_here), with each value
turned into the type the service's model wants (numbers, booleans, JSON lists and maps,
blobs from base64); `Region` picks the region to call. The answer is the service's, as API
Gateway returns it: 200 with the action's JSON (SQS's in the JSON form of its query API:
{"SendMessageResponse": {"SendMessageResult": {...}, "ResponseMetadata": {...}}}); an error
the service answers with a 4xx is passed on with its status; a service that fails (or one
Lamina does not serve, such as Step Functions and AppConfig) is 500 {"message":"Internal
Server Error"}.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from .... import ids
from ....errors import ServiceError
from ....identity.principals import role_session
from ....protocol.messages import Response
from ....services.context import RequestContext
from ..functions import SERVICE_PRINCIPAL
from ..functions import Call as CallService
from . import replies
from .calls import Call
from .mapping import Mapping, resolver

# subtype -> (service, operation)
ACTIONS = {
    "SQS-SendMessage": ("sqs", "SendMessage"),
    "SQS-ReceiveMessage": ("sqs", "ReceiveMessage"),
    "SQS-DeleteMessage": ("sqs", "DeleteMessage"),
    "SQS-PurgeQueue": ("sqs", "PurgeQueue"),
    "EventBridge-PutEvents": ("events", "PutEvents"),
    "Kinesis-PutRecord": ("kinesis", "PutRecord"),
    "StepFunctions-StartExecution": ("stepfunctions", "StartExecution"),
    "StepFunctions-StartSyncExecution": ("stepfunctions", "StartSyncExecution"),
    "StepFunctions-StopExecution": ("stepfunctions", "StopExecution"),
    "AppConfig-GetConfiguration": ("appconfig", "GetConfiguration"),
}
_EVENT_ENTRY = ("Detail", "DetailType", "Source", "Time", "EventBusName", "Resources", "TraceHeader")


def _typed(shape: Any, value: str) -> Any:
    kind = getattr(shape, "type_name", "string")
    if kind in ("integer", "long"):
        return int(value)
    if kind == "boolean":
        return value.strip().lower() == "true"
    if kind == "blob":
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return value.encode()
    if kind == "list":
        text = value.strip()
        return json.loads(text) if text.startswith("[") else [part.strip() for part in text.split(",") if part.strip()]
    if kind in ("map", "structure"):
        return json.loads(value)
    return value


def _plain(value: Any) -> Any:
    """A service's answer as JSON can hold it."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "timestamp"):
        return value.timestamp()
    return value


class AwsServices:
    def __init__(self, call: CallService, specs: dict[str, Any], roles, may_assume, endpoint_url: str) -> None:
        self.call = call
        self.specs = specs  # botocore's models of the served services, by name
        self.roles = roles  # (account, role ARN) -> the IAM role, or None
        self.may_assume = may_assume  # (service principal, role) -> bool
        self.endpoint_url = endpoint_url

    def _params(self, service: str, operation: str, given: dict[str, str]) -> dict[str, Any]:
        spec = self.specs.get(service)
        members = spec.model.operation_model(operation).input_shape.members if spec is not None else {}
        if operation == "PutEvents":
            entry_shape = members["Entries"].member.members
            entry = {k: _typed(entry_shape[k], v) for k, v in given.items() if k in _EVENT_ENTRY}
            return {"Entries": [entry]}
        return {k: _typed(members[k], v) if k in members else v for k, v in given.items()}

    async def run(self, call: Call, integration: dict[str, Any], mapping: Mapping) -> tuple[Response, str | None]:
        """The answer, and the integration error message for the access log (None: fine)."""
        service, operation = ACTIONS[integration["IntegrationSubtype"]]
        given = {name: value for _, _, name, value in mapping.rendered(resolver(call))}
        region = given.pop("Region", None) or call.region
        role_arn = integration.get("CredentialsArn") or ""
        account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else call.account
        role = self.roles(account, role_arn)
        if role is None or not self.may_assume(SERVICE_PRINCIPAL, role):
            return replies.internal_error(), f"API Gateway cannot assume the role {role_arn}"
        if service not in self.specs:
            return replies.internal_error(), f"Lamina does not serve {service} yet"
        try:
            params = self._params(service, operation, given)
        except (ValueError, KeyError, TypeError) as error:
            return replies.message(400, f"Invalid parameter: {error}"), str(error)
        ctx = RequestContext(
            account_id=account,
            region=region,
            request_id=ids.uuid4(),
            endpoint_url=self.endpoint_url,
            principal=role_session(account, role, "apigateway"),
            source_ip=call.source_ip,
        )
        call.aws_request_id = ctx.request_id
        try:
            result = await self.call(service, operation, params, ctx)
        except ServiceError as error:
            status = error.status or 500
            call.backend_status = status
            if status >= 500:
                return replies.internal_error(), error.message
            return Response(status, [replies.JSON], self._error_body(service, error, ctx.request_id)), error.message
        call.backend_status = 200
        body = self._answer(service, operation, _plain(result), ctx.request_id)
        return Response(200, [replies.JSON], json.dumps(body, separators=(",", ":")).encode()), None

    def _answer(self, service: str, operation: str, result: dict[str, Any], request_id: str) -> dict[str, Any]:
        if service != "sqs":
            return result
        # SQS answers API Gateway in the JSON form of its query API: every member named,
        # null when absent; ReceiveMessage's list as "messages".
        wrapper: dict[str, Any] = {"ResponseMetadata": {"RequestId": request_id}}
        shape = self.specs["sqs"].model.operation_model(operation).output_shape
        if shape is not None and shape.members:
            if operation == "ReceiveMessage":
                messages = result.get("Messages")
                wrapper[f"{operation}Result"] = {"messages": messages if messages else None}
            else:
                wrapper[f"{operation}Result"] = {name: result.get(name) for name in shape.members}
        return {f"{operation}Response": wrapper}

    @staticmethod
    def _error_body(service: str, error: ServiceError, request_id: str) -> bytes:
        if service == "sqs":
            body: dict[str, Any] = {
                "Error": {"Code": error.code, "Message": error.message, "Type": "Sender"},
                "RequestId": request_id,
            }
        else:
            body = {"__type": error.code, "message": error.message}
        return json.dumps(body, separators=(",", ":")).encode()
