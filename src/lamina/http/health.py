"""GET /_lamina/health: is the server up, and what it holds (tests and benches read it)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from ..protocol.messages import Request, Response

Handler = Callable[[Request], Awaitable[Response]]


def health_handler(status: Callable[[], dict]) -> Handler:
    """`status()` is the server's answer of the moment: services, instances, queue depth, fronts."""

    async def health(request: Request) -> Response:
        body = {"status": "running", **status()}
        return Response(200, [("content-type", "application/json")], json.dumps(body).encode())

    return health
