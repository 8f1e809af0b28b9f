"""HTTP APIs' CloudWatch metrics, namespace AWS/ApiGateway, as AWS publishes them: Count,
4xx, 5xx (0 or 1 per request), Latency, IntegrationLatency (milliseconds) and DataProcessed
(bytes), per ApiId and per ApiId+Stage, and per ApiId+Stage+Route when the route's
DetailedMetricsEnabled is on. Each API's metrics go to its owner's account and region.

On the request path this only adds to tallies; every second they become a few recorder puts
(every latency kept, for the percentiles), as the engine's Lambda telemetry does.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ....observability.recorder import MetricsRecorder

log = logging.getLogger("lamina.execute_api")

NAMESPACE = "AWS/ApiGateway"
FLUSH_S = 1.0


class Tally:
    __slots__ = ("client_errors", "count", "data", "integration", "latencies", "server_errors")

    def __init__(self) -> None:
        self.count = 0
        self.client_errors = 0
        self.server_errors = 0
        self.latencies: list[float] = []
        self.integration: list[float] = []
        self.data = 0


class ApiMetrics:
    def __init__(self, recorder: MetricsRecorder) -> None:
        self.recorder = recorder
        # (account, region, api, stage, route or None) -> Tally
        self._tallies: dict[tuple[str, str, str, str, str | None], Tally] = {}
        self._ticker: asyncio.Task | None = None

    def record(
        self,
        scope: tuple[str, str, str, str, str | None],
        status: int,
        latency_ms: float,
        integration_ms: float | None,
        data: int,
    ) -> None:
        tally = self._tallies.get(scope)
        if tally is None:
            tally = self._tallies[scope] = Tally()
            if self._ticker is None or self._ticker.done():
                self._ticker = asyncio.ensure_future(self._tick())
        tally.count += 1
        if 400 <= status < 500:
            tally.client_errors += 1
        elif status >= 500:
            tally.server_errors += 1
        tally.latencies.append(latency_ms)
        if integration_ms is not None:
            tally.integration.append(integration_ms)
        tally.data += data

    async def _tick(self) -> None:
        while self._tallies:
            await asyncio.sleep(FLUSH_S)
            try:
                self.flush()
            except Exception:
                log.exception("could not record API Gateway's metrics")

    def flush(self) -> None:
        tallies, self._tallies = self._tallies, {}
        merged: dict[tuple[str, str, tuple[tuple[str, str], ...]], list[Any]] = {}
        for (account, region, api_id, stage, route), tally in tallies.items():
            sets = [(("ApiId", api_id),), (("ApiId", api_id), ("Stage", stage))]
            if route is not None:
                sets.append((("ApiId", api_id), ("Route", route), ("Stage", stage)))
            for dimensions in sets:
                into = merged.setdefault((account, region, dimensions), [0, 0, 0, [], [], 0])
                into[0] += tally.count
                into[1] += tally.client_errors
                into[2] += tally.server_errors
                into[3].extend(tally.latencies)
                into[4].extend(tally.integration)
                into[5] += tally.data
        put, put_values = self.recorder.put, self.recorder.put_values
        for (account, region, pairs), (count, client, server, latencies, integration, data) in merged.items():
            scope = (region, account)
            named = dict(pairs)
            put(NAMESPACE, "Count", named, 1, "Count", count=count, scope=scope)
            for name, errors in (("4xx", client), ("5xx", server)):
                if errors:
                    put(NAMESPACE, name, named, 1, "Count", count=errors, scope=scope)
                if count - errors:
                    put(NAMESPACE, name, named, 0, "Count", count=count - errors, scope=scope)
            put_values(NAMESPACE, "Latency", named, latencies, "Milliseconds", scope=scope)
            if integration:
                put_values(NAMESPACE, "IntegrationLatency", named, integration, "Milliseconds", scope=scope)
            put(NAMESPACE, "DataProcessed", named, data, "Bytes", scope=scope)
