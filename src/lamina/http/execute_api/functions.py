"""Invoking a Lambda function as API Gateway does, for an integration or an authorizer.

API Gateway calls a function as the service principal apigateway.amazonaws.com: the function's
resource policy must allow it (`lambda add-permission --principal apigateway.amazonaws.com
--source-arn arn:aws:execute-api:{region}:{account}:{api}/{stage}/{route}`), unless the
integration names a role (CredentialsArn, an authorizer's AuthorizerCredentialsArn), which
then must trust apigateway.amazonaws.com and be allowed lambda:InvokeFunction. That is the
delivery gate's rule (access/deliveries.py); the invocation itself goes through the gateway
like any Lambda Invoke (so the reset gate and Lambda's own checks apply), as the function's
account root, since the gate has decided who may.

Shared by the execute-api planes (WebSocket; HTTP and REST may use it too).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ...identity.principals import root
from ...services.context import RequestContext

SERVICE_PRINCIPAL = "apigateway.amazonaws.com"

# arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function ARN}/invocations
_INVOCATION_URI = re.compile(r"^arn:aws[\w-]*:apigateway:[\w-]+:lambda:path/[\d-]+/functions/(arn:[^/]+)/invocations$")

Call = Callable[[str, str, dict, RequestContext], Awaitable[dict]]  # Gateway.call_here
Gate = Callable[[str, dict], Awaitable[None]]  # DeliveryGate.check


def function_arn(uri: str) -> str | None:
    """The function an integration URI invokes (the apigateway invocation form, or a bare
    function ARN as HTTP APIs take), or None if it names no function."""
    match = _INVOCATION_URI.match(uri or "")
    if match:
        return match.group(1)
    parts = (uri or "").split(":")
    return uri if len(parts) >= 7 and parts[2] == "lambda" and parts[5] == "function" else None


@dataclass(frozen=True)
class Invoked:
    payload: bytes
    function_error: str | None  # "Unhandled" when the function raised


class FunctionInvoker:
    def __init__(self, call: Call, gate: Gate | None, endpoint_url: str) -> None:
        self.call = call
        self.gate = gate  # None: no permission check (tests, LAMINA_IAM=off is the gate's own)
        self.endpoint_url = endpoint_url

    async def invoke(
        self, function: str, payload: bytes, *, source_arn: str, request_id: str, credentials_arn: str | None = None
    ) -> Invoked:
        """Runs `function` (its ARN) synchronously. Raises the ServiceError of a refusal (the
        function's policy or the role does not allow it) or of Lambda (no such function,
        throttled)."""
        if self.gate is not None:
            options = {"source_service": SERVICE_PRINCIPAL, "source_arn": source_arn}
            if credentials_arn and credentials_arn != "arn:aws:iam::*:user/*":
                options["role_arn"] = credentials_arn
            await self.gate(function, options)
        parts = function.split(":")
        account, region = parts[4], parts[3]
        ctx = RequestContext(account, region, request_id, self.endpoint_url, principal=root(account))
        result = await self.call("lambda", "Invoke", {"FunctionName": function, "Payload": payload}, ctx)
        body = result.get("Payload") or b""
        return Invoked(body if isinstance(body, bytes) else bytes(body), result.get("FunctionError"))
