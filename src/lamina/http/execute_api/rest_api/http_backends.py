"""HTTP and HTTP_PROXY integrations: the call sent to the integration's URL (its
`${stageVariables.x}` filled in, its `{name}` path variables from the mapped
`integration.request.path.name` or, failing that, the method's path parameter of that name).

HTTP_PROXY sends the request's method (an ANY integration method) or the integration's,
its query string and headers (hop-by-hop ones dropped, the Host the backend's), its body,
plus what requestParameters map; the backend's answer is the method's answer. HTTP sends
only what is mapped and the integration request's body (templates, passthrough), and its
answer goes through the integration responses, selected by its status code.

Past timeoutInMillis: 504 "Endpoint request timed out"; a backend that cannot be reached:
500 "Internal server error". Redirects are answered, not followed. The calls run on a
thread pool (urllib), never on the event loop.
"""

from __future__ import annotations

import asyncio
import re
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from ....protocol.messages import Response
from . import events
from .calls import RestCall
from .integration_responses import respond
from .lambdas import timeout_s, with_stage_variables
from .mapping import IntegrationRequest, integration_request
from .refusals import configuration, timed_out

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "host",
    }
)
_VARIABLE = re.compile(r"\{([A-Za-z0-9_.\-]+)\+?\}")
_pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="rest-api-http")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _send(method: str, url: str, headers: dict[str, str], body: bytes, timeout: float) -> Response:
    request = urllib.request.Request(url, data=body or None, method=method, headers=headers)
    try:
        with _opener.open(request, timeout=timeout) as answer:
            return Response(answer.status, _kept(answer.headers.items()), answer.read())
    except urllib.error.HTTPError as answer:  # any status but 2xx: still the backend's answer
        with answer:
            return Response(answer.code, _kept(answer.headers.items()), answer.read())


def _kept(headers) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP]


def target_url(
    call: RestCall, integration: dict[str, Any], mapped: IntegrationRequest, query: list[tuple[str, str]]
) -> str:
    url = with_stage_variables(integration.get("uri", ""), call.stage_variables)

    def value(match: re.Match) -> str:
        name = match.group(1)
        found = mapped.path.get(name, call.path_parameters.get(name))
        return quote(found, safe="/") if found is not None else match.group(0)

    parts = urlsplit(_VARIABLE.sub(value, url))
    query_string = urlencode(query)
    if parts.query:
        query_string = f"{parts.query}&{query_string}" if query_string else parts.query
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query_string, ""))


async def _call(
    call: RestCall, method: str, url: str, headers: dict[str, str], body: bytes, timeout: float
) -> Response:
    loop = asyncio.get_running_loop()
    began = time.perf_counter()
    try:
        answer = await asyncio.wait_for(
            loop.run_in_executor(_pool, _send, method, url, headers, body, timeout), timeout + 0.5
        )
    except (asyncio.TimeoutError, TimeoutError):
        call.integration_error = "Integration timeout"
        raise timed_out() from None
    except OSError as error:
        reason = getattr(error, "reason", None) or error
        if isinstance(reason, TimeoutError) or "timed out" in str(reason):
            call.integration_error = "Integration timeout"
            raise timed_out() from None
        call.integration_error = f"Could not reach {urlsplit(url).netloc}: {reason}"
        raise configuration() from None
    finally:
        call.integration_latency = (time.perf_counter() - began) * 1000
    call.integration_status = answer.status
    return answer


async def http_proxy(call: RestCall, integration: dict[str, Any], body: bytes) -> Response:
    passthrough = {**integration, "requestTemplates": {}, "passthroughBehavior": "WHEN_NO_MATCH"}
    mapped = integration_request(call, passthrough, body, ())
    headers = {k: v for k, v in events.headers(call).items() if k not in HOP_BY_HOP}
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
