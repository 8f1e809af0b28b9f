"""What a WebSocket API reports: AWS/ApiGateway metrics and the stage's access log.

Metrics (dimensions ApiId and Stage, as AWS's WebSocket metrics):
    ConnectCount        each connection attempt that reached the $connect route
    MessageCount        each message, to or from the client
    IntegrationError    the integration answered an error (raised, 4xx/5xx, timed out)
    ClientError         API Gateway refused before the integration (authorization, no route,
                        too big)
    ExecutionError      the integration could not be called
    IntegrationLatency  milliseconds from calling the integration to its answer

Access logs: a stage with AccessLogSettings {DestinationArn, Format} gets one line per
connect, message and disconnect in that log group, the Format's $context variables filled
in ("-" for one with no value), as AWS writes them.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from ....observability.logsink import LogSink, group_key
from ....observability.recorder import MetricsRecorder
from .selection import json_path, text

log = logging.getLogger("lamina.websocket_api")

NAMESPACE = "AWS/ApiGateway"
_VARIABLE = re.compile(r"\$\{?context\.([\w.]+[\w])\}?")


class Telemetry:
    def __init__(self, metrics: MetricsRecorder | None, sink: LogSink | None) -> None:
        self.metrics = metrics
        self.sink = sink
        self._streams: set[tuple[str, str]] = set()

    def count(self, served: Any, stage: str, name: str, value: float = 1, unit: str = "Count") -> None:
        if self.metrics is not None:
            dimensions = {"ApiId": served.api_id, "Stage": stage}
            self.metrics.put(NAMESPACE, name, dimensions, value, unit, scope=(served.region, served.account))

    async def access_log(self, served: Any, stage: Any, context: dict[str, Any]) -> None:
        settings = stage.access_log_settings or {}
        destination, layout = settings.get("DestinationArn"), settings.get("Format")
        if self.sink is None or not destination or not layout:
            return
        parts = destination.split(":")
        if len(parts) < 7 or parts[5] != "log-group":
            return
        region, account, group = parts[3], parts[4], parts[6]
        stream = f"{served.api_id}-{stage.name}"
        key = group_key(account, region, group)
        try:
            if (key, stream) not in self._streams:
                await self.sink.ensure_stream(account, region, group, stream)
                self._streams.add((key, stream))
            line = _VARIABLE.sub(lambda match: text(json_path(context, match.group(1))) or "-", layout)
            self.sink.emit(key, stream, [(int(time.time() * 1000), line)])
        except Exception:
            log.exception("access log of %s/%s failed", served.api_id, stage.name)
