"""HTTP_PROXY integrations: the call forwarded to the integration's URL, its answer returned.

The URL is the IntegrationUri with `${stageVariables.x}` filled in and path variables of the
route (`{id}`, `{proxy+}` or `{proxy}`) replaced by the request's values; a `$default` route
appends the path called (the stage's segment aside), as AWS sends "the full request path".
The method is the integration's (ANY: the request's), the query string and body the
request's, the headers the request's with x-forwarded-for/-port/-proto added and the
hop-by-hop ones dropped; RequestParameters then change headers, query string and path.
Redirects are returned, not followed.

Past TimeoutInMillis the caller gets 503 {"message":"Service Unavailable"}; a backend that
cannot be reached, 500 {"message":"Internal Server Error"} (the sending: ../http_backend.py).
"""

from __future__ import annotations

from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from ..http_backend import Forwarded, forwarded_headers, send, with_path_values
from .calls import Call
from .events import integration_headers
from .mapping import Mapping, Template, apply_headers, apply_query, resolver


def target_url(uri: Template, call: Call, default_route: bool) -> str:
    url = uri.render(resolver(call)) if not uri.static else uri.parts[0][1] if uri.parts else ""
    url = with_path_values(url, call.path_parameters.get)
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
    headers = forwarded_headers(integration_headers(call))
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
    return await send(verb, final, headers, request.body, timeout_s)
