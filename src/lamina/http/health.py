"""GET /_lamina/health: is the server up, and what it holds (tests and benches read it);
GET /_localstack/health: the same news in LocalStack's shape, for the scripts and test
fixtures that wait on LocalStack's endpoint."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from ..protocol.messages import Request, Response

Handler = Callable[[Request], Awaitable[Response]]


def _json(body: dict) -> Response:
    return Response(200, [("content-type", "application/json")], json.dumps(body).encode())


def health_handler(status: Callable[[], dict], version: str) -> Handler:
    """`status()` is the server's answer of the moment: services, instances, queue depth, fronts."""

    async def health(request: Request) -> Response:
        return _json({"status": "running", "version": version, **status()})

    return health


def localstack_health_handler(services: list[str], version: str) -> Handler:
    """LocalStack's answer: {"services": {name: "running"}, "edition": ..., "version": ...}.
    Every service Lamina serves is started before the port answers, so all are running."""
    body = {"services": {name: "running" for name in services}, "edition": "community", "version": version}

    async def health(request: Request) -> Response:
        return _json(body)

    return health
