"""POST /_lamina/reset: every resource and message gone, as on a server started on an empty
data dir (for tests); POST /_localstack/state/reset answers the same, so that scripts and
test fixtures written for LocalStack work. Settings (credentials, ports) are untouched.

The reset itself is the composition root's (app.py): it holds AWS calls at the gateway
while it runs, so none sees half of it. The answer comes once it is done.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable

from ..protocol.messages import Request, Response

Handler = Callable[[Request], Awaitable[Response]]


def reset_handler(reset: Callable[[], Awaitable[None]]) -> Handler:
    """`reset()` empties the server and returns once it is as new."""

    async def handle(request: Request) -> Response:
        if request.method != "POST":
            body = json.dumps({"error": "use POST to reset"}).encode()
            return Response(405, [("content-type", "application/json"), ("allow", "POST")], body)
        started = time.monotonic()
        await reset()
        answer = {"status": "reset", "ms": round((time.monotonic() - started) * 1000)}
        return Response(200, [("content-type", "application/json")], json.dumps(answer).encode())

    return handle
