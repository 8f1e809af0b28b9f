"""Where a call of an API users built is addressed: which API, and the path it asks for.

Two forms reach the same API:

- by Host, as on AWS: `http://{api-id}.execute-api.localhost:4566/{stage}/path` (AWS's is
  `https://{api-id}.execute-api.{region}.amazonaws.com/...`; `*.localhost` names resolve to
  the loopback address in browsers and many resolvers, and any client can send the Host header);
- by path, for clients that can set neither: `http://localhost:4566/_aws/execute-api/{api-id}/{stage}/path`
  (the form LocalStack also accepts), which the API sees as `/{stage}/path`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...protocol.messages import Request

HOST_SUFFIX = ".execute-api.localhost"
PATH_PREFIX = "/_aws/execute-api/"


@dataclass(frozen=True)
class Address:
    api_id: str
    path: str  # decoded, what the API matches: "/{stage}/..." or "/..." for $default
    raw_path: str  # as sent (percent-encoded)
    host: str  # the host the client used, for the event's domainName


def address(request: Request) -> Address | None:
    """The API and path a request is for, or None when it names no API."""
    host = request.headers.get("host", "")
    name = host.rsplit(":", 1)[0] if host[-1:].isdigit() else host
    if name.endswith(HOST_SUFFIX):
        api_id = name[: -len(HOST_SUFFIX)]
        return Address(api_id, request.path or "/", request.raw_path or "/", name) if api_id else None
    if request.path.startswith(PATH_PREFIX):
        api_id, _, rest = request.path[len(PATH_PREFIX) :].partition("/")
        _, _, raw_rest = request.raw_path[len(PATH_PREFIX) :].partition("/")
        if not api_id:
            return None
        return Address(api_id, "/" + rest, "/" + raw_rest, f"{api_id}{HOST_SUFFIX}")
    return None
