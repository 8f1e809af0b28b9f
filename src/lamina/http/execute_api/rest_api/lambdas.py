"""Lambda integrations: AWS_PROXY (the proxy event in, the proxy response out) and AWS
(the integration request's payload in, the result through the integration responses).

API Gateway invokes as apigateway.amazonaws.com for the method's ARN
(`arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}/{resource path}`, `*` for
ANY), which the function's resource policy must allow, or as the integration's credentials
role (../functions.py's Functions: the delivery gate decides, decisions kept per
policy). Failures, as AWS answers them:

    no permission, no such function          500 "Internal server error"
    past timeoutInMillis (29 s by default)   504 "Endpoint request timed out"
    proxy: the function raised, or its result is malformed   502 "Internal server error"
    non-proxy: the function raised           its errorMessage selects the integration response
"""

from __future__ import annotations

import json
import re
from typing import Any

from ....protocol.messages import Response
from ..functions import CALLER_CREDENTIALS, Functions, Invoked, function_arn
from . import events, media, proxy
from .calls import RestCall
from .integration_responses import respond
from .mapping import integration_request
from .refusals import Refusal, configuration, internal, timed_out

_STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.([A-Za-z0-9_]+)\}")


def with_stage_variables(text: str, variables: dict[str, str]) -> str:
    return _STAGE_VARIABLE.sub(lambda m: variables.get(m.group(1), ""), text or "")


def timeout_s(integration: dict[str, Any]) -> float:
    return int(integration.get("timeoutInMillis") or 29000) / 1000.0


def source_arn(call: RestCall, verb: str) -> str:
    return call.arn(f"{call.stage}/{'*' if verb == 'ANY' else verb}{call.resource_path}")


def role_of(integration: dict[str, Any]) -> str | None:
    role = integration.get("credentials")
    return role if role and role != CALLER_CREDENTIALS else None


class Lambdas:
    def __init__(self, functions: Functions) -> None:
        self.functions = functions

    async def _invoke(self, call: RestCall, verb: str, integration: dict[str, Any], payload: bytes) -> Invoked:
        function = function_arn(with_stage_variables(integration.get("uri", ""), call.stage_variables))
        if function is None:
            call.integration_error = "the integration names no Lambda function"
            raise configuration()
        invoked = await self.functions.invoke(
            function, payload, source_arn(call, verb), role_of(integration), timeout_s(integration)
        )
        call.integration_latency = invoked.latency_ms
        call.aws_request_id = invoked.request_id or None
        if invoked.timed_out:
            call.integration_error = invoked.error
            raise timed_out()
        if invoked.error is not None:
            call.integration_error = invoked.error
            call.integration_status = invoked.status
            raise configuration() if invoked.status in (403, 404) else internal()
        call.integration_status = invoked.status
        return invoked

    async def proxy(
        self, call: RestCall, verb: str, integration: dict[str, Any], body: bytes, binary_types: tuple[str, ...]
    ) -> Response:
        is_binary = media.matches(binary_types, call.request.headers.get("content-type"))
        event = events.proxy(call, body, is_binary)
        invoked = await self._invoke(call, verb, integration, json.dumps(event, separators=(",", ":")).encode())
        if invoked.function_error:
            call.integration_error = _error_message(invoked.payload) or invoked.function_error
            raise internal(502)
        try:
            return proxy.response(invoked.payload, binary_types, call.request)
        except proxy.Malformed as error:
            call.integration_error = f"Malformed Lambda proxy response: {error}"
            raise internal(502) from None

    async def custom(
        self,
        call: RestCall,
        verb: str,
        integration: dict[str, Any],
        responses: dict[str, dict[str, Any]],
        body: bytes,
        binary_types: tuple[str, ...],
    ) -> Response:
        request = integration_request(call, integration, body, binary_types)
        invoked = await self._invoke(call, verb, integration, request.body or b"{}")
        key = None
        if invoked.function_error:
            key = _error_message(invoked.payload) or ""
            call.integration_error = key
        answer = Response(200, [("content-type", "application/json")], invoked.payload)
        return respond(call, responses, key, answer, binary_types)


def _error_message(payload: bytes) -> str | None:
    try:
        document = json.loads(payload)
    except ValueError:
        return None
    if isinstance(document, dict) and document.get("errorMessage") is not None:
        return str(document["errorMessage"])
    return None


__all__ = ["Lambdas", "Refusal", "source_arn", "timeout_s", "with_stage_variables"]
