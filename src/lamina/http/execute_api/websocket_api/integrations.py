"""Running a route's integration, and what comes of it.

    AWS_PROXY   a Lambda function gets the event (events.py); its result {statusCode, headers,
                body} is the answer (any other result: a 200 whose body is the result)
    AWS         a Lambda function gets the request template's output (the message by default);
                its result goes through the integration responses
    MOCK        the request template's output says the status ({"statusCode": 200}); the
                integration responses' templates make the body
    HTTP_PROXY  the message is sent to IntegrationUri (IntegrationMethod); the response is
                the answer
    HTTP        as HTTP_PROXY, through the request template and the integration responses

An Outcome is the status (a 2xx lets $connect's handshake through), the body a two-way route
sends back, the response headers ($connect: Sec-WebSocket-Protocol), and the kind of
failure: "integration" (the backend failed: the function raised, answered 5xx or nothing
valid, timed out) or "execution" (API Gateway could not call it: no permission, no such
function). Either sends the client AWS's "Internal server error" frame.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from ....errors import ServiceError
from ..functions import Functions, function_arn
from .selection import Sources, evaluate
from .templates import choose, render

log = logging.getLogger("lamina.websocket_api")

INTEGRATION, EXECUTION = "integration", "execution"


@dataclass
class Outcome:
    status: int
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    failure: str | None = None  # INTEGRATION, EXECUTION, or None


@dataclass(frozen=True)
class Call:
    """One integration call: the event (proxy) and what templates read (non-proxy)."""

    event: dict[str, Any]
    sources: Sources
    source_arn: str  # the route's execute-api ARN, which the function's policy names
    request_id: str


async def run(
    invoker: Functions, integration: dict[str, Any], responses: dict[str, dict[str, Any]], call: Call
) -> Outcome:
    """`responses`: the integration's integration responses, by id."""
    kind = integration.get("IntegrationType", "")
    timeout = min(int(integration.get("TimeoutInMillis") or 29000), 29000) / 1000
    try:
        if kind == "MOCK":
            return _respond(integration, responses, call, _mock_status(integration, call), "")
        if kind in ("AWS_PROXY", "AWS"):
            return await asyncio.wait_for(_lambda(invoker, integration, responses, call, kind == "AWS_PROXY"), timeout)
        if kind in ("HTTP_PROXY", "HTTP"):
            return await asyncio.wait_for(_http(integration, responses, call, kind == "HTTP_PROXY"), timeout)
    except asyncio.TimeoutError:
        return Outcome(504, failure=INTEGRATION)
    except ServiceError as error:
        log.info("integration of %s could not run: %s", call.source_arn, error.message)
        return Outcome(500, failure=EXECUTION)
    log.warning("integration type %s of %s is not served", kind, call.source_arn)
    return Outcome(500, failure=EXECUTION)


def _request_body(integration: dict[str, Any], call: Call) -> str:
    template = choose(integration.get("RequestTemplates"), integration.get("TemplateSelectionExpression"), call.sources)
    return render(template, call.sources) if template is not None else (call.sources.body or "")


def _mock_status(integration: dict[str, Any], call: Call) -> int:
    try:
        document = json.loads(_request_body(integration, call) or "{}")
        return int(document.get("statusCode", 200)) if isinstance(document, dict) else 200
    except (ValueError, TypeError):
        return 500


async def _lambda(invoker: Functions, integration: dict[str, Any], responses: dict, call: Call, proxy: bool) -> Outcome:
    function = function_arn(integration.get("IntegrationUri", ""))
    if function is None:
        return Outcome(500, failure=EXECUTION)
    payload = json.dumps(call.event) if proxy else _request_body(integration, call)
    invoked = await invoker.run(
        function,
        payload.encode(),
        source_arn=call.source_arn,
        request_id=call.request_id,
        credentials_arn=integration.get("CredentialsArn"),
    )
    text = invoked.payload.decode("utf-8", "replace")
    if invoked.function_error:
        return Outcome(502, failure=INTEGRATION)
    if not proxy:
        return _respond(integration, responses, call, 200, text)
    try:
        result = json.loads(text) if text else None
    except ValueError:
        return Outcome(200, text)
    if not isinstance(result, dict) or "statusCode" not in result:
        return Outcome(200, None if result is None else text)
    try:
        status = int(result["statusCode"])
    except (TypeError, ValueError):
        return Outcome(502, failure=INTEGRATION)
    body = result.get("body")
    headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
    return Outcome(status, body if body is None or isinstance(body, str) else json.dumps(body), headers)


async def _http(integration: dict[str, Any], responses: dict, call: Call, proxy: bool) -> Outcome:
    body = (call.sources.body or "") if proxy else _request_body(integration, call)
    request = urllib.request.Request(
        integration.get("IntegrationUri", ""),
        data=body.encode(),
        method=integration.get("IntegrationMethod") or "POST",
        headers={"content-type": "application/json"},
    )

    def send() -> tuple[int, str, dict[str, str]]:
        try:
            with urllib.request.urlopen(request, timeout=29) as response:
                return response.status, response.read().decode("utf-8", "replace"), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace"), dict(error.headers)

    try:
        status, text, headers = await asyncio.to_thread(send)
    except (OSError, ValueError) as error:
        log.info("HTTP integration of %s failed: %s", call.source_arn, error)
        return Outcome(500, failure=INTEGRATION)
    if proxy:
        return Outcome(status, text, headers, INTEGRATION if status >= 500 else None)
    return _respond(integration, responses, call, status, text)


def _respond(integration: dict[str, Any], responses: dict, call: Call, status: int, text: str) -> Outcome:
    """A non-proxy integration's answer through its integration responses: the one whose
    key the IntegrationResponseSelectionExpression selects ($default, an exact key or a
    /regex/ on the status), its response template applied to the backend's body."""
    sources = Sources(
        body=text,
        context=call.sources.context,
        stage_variables=call.sources.stage_variables,
        status=status,
    )
    expression = integration.get("IntegrationResponseSelectionExpression") or "${integration.response.statuscode}"
    selected = evaluate(expression, sources) or ""
    chosen = None
    for response in responses.values():
        key = response.get("IntegrationResponseKey", "")
        if key == selected or (len(key) > 1 and key[0] == key[-1] == "/" and re.fullmatch(key[1:-1], selected)):
            chosen = response
            break
    if chosen is None:
        chosen = next((r for r in responses.values() if r.get("IntegrationResponseKey") == "$default"), None)
    failure = INTEGRATION if status >= 500 else None
    if chosen is None:
        return Outcome(status, text or None, failure=failure)
    template = choose(chosen.get("ResponseTemplates"), chosen.get("TemplateSelectionExpression"), sources)
    return Outcome(status, render(template, sources) if template is not None else (text or None), failure=failure)
