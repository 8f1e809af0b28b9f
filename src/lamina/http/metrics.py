"""GET /metrics: the recorder's series in the Prometheus text exposition format (0.0.4)."""
from __future__ import annotations

from typing import Awaitable, Callable

from ..observability.metrics import MetricsRecorder
from ..protocol.messages import Request, Response

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def prometheus_handler(recorder: MetricsRecorder) -> Callable[[Request], Awaitable[Response]]:
    async def metrics(request: Request) -> Response:
        if request.path.rstrip("/") != "/metrics":
            return Response(404, [("content-type", "text/plain")], b"not found")
        if request.method not in ("GET", "HEAD"):
            return Response(405, [("content-type", "text/plain"), ("allow", "GET, HEAD")], b"method not allowed")
        body = recorder.prometheus().encode("utf-8")
        return Response(200, [("content-type", CONTENT_TYPE)], b"" if request.method == "HEAD" else body)

    return metrics
