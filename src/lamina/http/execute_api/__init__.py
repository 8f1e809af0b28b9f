"""API Gateway's execute-api endpoint: calling the APIs users built, over HTTP and WebSocket.

The control planes (services/apigatewayv2/ for HTTP and WebSocket APIs, services/apigateway/
for REST APIs) keep the APIs; this package serves them. A request reaches it by Host or by
the path form (addresses.py); ExecuteApi finds which API the id names and hands the call to
the data plane of that kind of API:

    http_api/       HTTP APIs (apigatewayv2, ProtocolType HTTP)
    websocket_api/  WebSocket APIs (apigatewayv2, ProtocolType WEBSOCKET) and @connections
    rest_api/       REST APIs (apigateway)

Each is a plane with `handle(served, address, request) -> Response`; the WebSocket plane is
also the connection endpoint (http/websocket.py's Endpoint) of the execute-api hosts. An id no API has answers AWS's
404 {"message":"Not Found"}.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from ...protocol.messages import Request, Response
from .addresses import HOST_SUFFIX, PATH_PREFIX, Address, address


class Plane(Protocol):
    async def handle(self, served: Any, where: Address, request: Request) -> Response: ...


Lookup = Callable[[str], Any]  # an API id -> what that API serves now, or None


def message(status: int, text: str) -> Response:
    """An answer of API Gateway's own, in its shape: {"message":"..."} (compact, as AWS's)."""
    body = json.dumps({"message": text}, separators=(",", ":")).encode()
    return Response(status, [("content-type", "application/json")], body)


NOT_FOUND = message(404, "Not Found")


class ExecuteApi:
    """The endpoint of HTTP requests. WebSocket upgrades go straight to the WebSocket plane
    (mounted as the hosts' endpoint), which finds its API the same way (find)."""

    def __init__(self, v2: Lookup, planes: dict[str, Plane], rest: Lookup | None = None) -> None:
        self.v2 = v2  # apigatewayv2's: state.serving(api_id) -> ServedApi
        self.rest = rest  # apigateway's: state.serving(api_id) -> ServedRestApi
        self.planes = planes  # by kind: "HTTP", "WEBSOCKET", "REST"

    async def handle(self, request: Request) -> Response:
        where = address(request)
        if where is None:
            return NOT_FOUND
        served, kind = self.find(where.api_id)
        if served is None:
            return NOT_FOUND
        plane = self.planes.get(kind)
        if plane is None:  # a kind of API whose calls Lamina does not serve yet
            return message(501, f"Lamina does not serve calls of {kind} APIs yet")
        return await plane.handle(served, where, request)

    def find(self, api_id: str) -> tuple[Any, str]:
        served = self.v2(api_id)
        if served is not None:
            return served, served.protocol_type
        if self.rest is not None:
            served = self.rest(api_id)
            if served is not None:
                return served, "REST"
        return None, ""


__all__ = ["HOST_SUFFIX", "NOT_FOUND", "PATH_PREFIX", "Address", "ExecuteApi", "Plane", "address", "message"]
