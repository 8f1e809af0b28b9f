"""HTTP and HTTP_PROXY integrations: the call sent to the integration's URL (its
`${stageVariables.x}` filled in, its `{name}` path variables from the mapped
`integration.request.path.name` or, failing that, the method's path parameter of that name).

HTTP_PROXY sends the request's method (an ANY integration method) or the integration's,
its query string and headers (hop-by-hop ones dropped, the Host the backend's), its body,
plus what requestParameters map; the backend's answer is the method's answer. HTTP sends
only what is mapped and the integration request's body (templates, passthrough), and its
answer goes through the integration responses, selected by its status code.

Past timeoutInMillis: 504 "Endpoint request timed out"; a backend that cannot be reached:
500 "Internal server error" (the sending: ../http_backend.py).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from ....protocol.messages import Response
from ..http_backend import forwarded_headers, send, with_path_values
from . import events
from .calls import RestCall
from .integration_responses import respond
from .lambdas import timeout_s, with_stage_variables
from .mapping import IntegrationRequest, integration_request
from .refusals import configuration, timed_out


def target_url(
    call: RestCall, integration: dict[str, Any], mapped: IntegrationRequest, query: list[tuple[str, str]]
) -> str:
    url = with_stage_variables(integration.get("uri", ""), call.stage_variables)
    parts = urlsplit(with_path_values(url, lambda name: mapped.path.get(name, call.path_parameters.get(name))))
    query_string = urlencode(query)
    if parts.query:
        query_string = f"{parts.query}&{query_string}" if query_string else parts.query
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query_string, ""))


async def _call(
    call: RestCall, method: str, url: str, headers: dict[str, str], body: bytes, timeout: float
) -> Response:
    began = time.perf_counter()
    try:
        forwarded = await send(method, url, headers, body, timeout)
    finally:
        call.integration_latency = (time.perf_counter() - began) * 1000
    if forwarded.response is None:
        call.integration_error = forwarded.error
        raise timed_out() if forwarded.timed_out else configuration()
    call.integration_status = forwarded.response.status
    return forwarded.response


async def http_proxy(call: RestCall, integration: dict[str, Any], body: bytes) -> Response:
    passthrough = {**integration, "requestTemplates": {}, "passthroughBehavior": "WHEN_NO_MATCH"}
    mapped = integration_request(call, passthrough, body, ())
    headers = forwarded_headers(events.headers(call))
    headers.update(mapped.headers)
    query = list(call.request.query) + mapped.query
    verb = integration.get("httpMethod") or "ANY"
    method = call.method if verb == "ANY" else verb
    url = target_url(call, integration, mapped, query)
    return await _call(call, method, url, headers, body, timeout_s(integration))


async def http(
    call: RestCall,
    integration: dict[str, Any],
    responses: dict[str, dict[str, Any]],
    body: bytes,
    binary_types: tuple[str, ...],
) -> Response:
    mapped = integration_request(call, integration, body, binary_types)
    headers = dict(mapped.headers)
    if mapped.body and not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = call.request.headers.get("content-type", "application/json")
    verb = integration.get("httpMethod") or "ANY"
    method = call.method if verb == "ANY" else verb
    url = target_url(call, integration, mapped, mapped.query)
    answer = await _call(call, method, url, headers, mapped.body, timeout_s(integration))
    return respond(call, responses, str(answer.status), answer, binary_types)
