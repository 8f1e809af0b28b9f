"""HTTP_PROXY integrations: the call forwarded to the integration's URL, its answer returned.

The URL is the IntegrationUri with `${stageVariables.x}` filled in and path variables of the
route (`{id}`, `{proxy+}` or `{proxy}`) replaced by the request's values; a `$default` route
appends the path called (the stage's segment aside), as AWS sends "the full request path".
The method is the integration's (ANY: the request's), the query string and body the
request's, the headers the request's with x-forwarded-for/-port/-proto added and the
hop-by-hop ones dropped; RequestParameters then change headers, query string and path.
Redirects are returned, not followed.

Past TimeoutInMillis the caller gets 503 {"message":"Service Unavailable"}; a backend that
cannot be reached, 500 {"message":"Internal Server Error"}. The calls run on a thread pool
(urllib, as EventBridge's API destinations do), never on the event loop.
"""

from __future__ import annotations

import asyncio
import re
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from ....protocol.messages import Response
from .calls import Call
from .events import integration_headers
from .mapping import Mapping, Template, apply_headers, apply_query, resolver

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
_pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="execute-api-http")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # the client gets the 3xx itself
        return None


_opener = urllib.request.build_opener(_NoRedirects)


@dataclass
class Forwarded:
    response: Response | None
    error: str | None = None
    timed_out: bool = False


def _send(method: str, url: str, headers: dict[str, str], body: bytes, timeout_s: float) -> Response:
    request = urllib.request.Request(url, data=body or None, method=method, headers=headers)
    try:
        with _opener.open(request, timeout=timeout_s) as answer:
            return Response(answer.status, _kept(answer.headers.items()), answer.read())
    except urllib.error.HTTPError as answer:  # any status but 2xx: still the backend's answer
        with answer:
            return Response(answer.code, _kept(answer.headers.items()), answer.read())


def _kept(headers) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP]


def target_url(uri: Template, call: Call, default_route: bool) -> str:
    url = uri.render(resolver(call)) if not uri.static else uri.parts[0][1] if uri.parts else ""

    def value(match: re.Match) -> str:
        found = call.path_parameters.get(match.group(1))
        return quote(found, safe="/") if found is not None else match.group(0)

    url = _VARIABLE.sub(value, url)
    if default_route:
        url = url.rstrip("/") + quote(call.api_path, safe="/")
    return url


async def forward(
    call: Call,
    uri: Template,
    method: str,
    default_route: bool,
    request_mapping: Mapping,
    timeout_s: float,
) -> Forwarded:
    request = call.request
    url = target_url(uri, call, default_route)
    headers = {k: v for k, v in integration_headers(call).items() if k not in HOP_BY_HOP}
    cookie = request.headers.get("cookie")
    if cookie:
        headers["cookie"] = cookie
    query = list(request.query)
    parts = urlsplit(url)
    path = parts.path or "/"
    if request_mapping:
        operations = request_mapping.rendered(resolver(call))
        apply_headers(headers, operations)
        query = apply_query(query, operations)
        for action, where, _, rendered in operations:
            if where == "path" and action == "overwrite":
                path = rendered if rendered.startswith("/") else "/" + rendered
        query_string = urlencode(query)
    else:
        query_string = request.query_string
    if parts.query:
        query_string = f"{parts.query}&{query_string}" if query_string else parts.query
    final = urlunsplit((parts.scheme, parts.netloc, path, query_string, ""))
    verb = request.method if method == "ANY" else method
    loop = asyncio.get_running_loop()
    try:
        response = await asyncio.wait_for(
            loop.run_in_executor(_pool, _send, verb, final, headers, request.body, timeout_s), timeout_s + 0.5
        )
    except (asyncio.TimeoutError, TimeoutError):
        return Forwarded(None, "Integration timeout", timed_out=True)
    except OSError as error:
        reason = getattr(error, "reason", None) or error
        if isinstance(reason, TimeoutError) or "timed out" in str(reason):
            return Forwarded(None, "Integration timeout", timed_out=True)
        return Forwarded(None, f"Could not reach {parts.netloc}: {reason}")
    return Forwarded(response)
