"""AWS/ApiGateway metrics as the HTTP and REST planes publish them (http_api/metrics.py,
rest_api/telemetry.py name the dimensions and metrics of each): per request a count, 0 or
1 for each of the two error metrics (client 4xx, server 5xx), the latency and the
integration's latency (milliseconds), to the API owner's account and region.

On the request path this only adds to tallies; every second they become a few recorder puts
(every latency kept, for the percentiles), as the engine's Lambda telemetry does.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ...observability.recorder import MetricsRecorder

log = logging.getLogger("lamina.execute_api")

NAMESPACE = "AWS/ApiGateway"
FLUSH_S = 1.0
Dimensions = tuple[tuple[str, str], ...]


class Tally:
    __slots__ = ("client_errors", "count", "data", "integration", "latencies", "server_errors")

    def __init__(self) -> None:
        self.count = 0
        self.client_errors = 0
        self.server_errors = 0
        self.latencies: list[float] = []
        self.integration: list[float] = []
        self.data = 0


class ApiGatewayMetrics:
    """Tallies per scope, a tuple starting (account, region, ...); a plane names the
    dimension sets a scope counts under (`dimension_sets`) and its metrics."""

    errors: tuple[str, str]  # the client and server error metrics
    zero_counts: tuple[str, ...] = ()  # metrics always 0, once per request (a cache Lamina has not)
    data_processed = False  # DataProcessed: the bytes of the requests and answers

    def __init__(self, recorder: MetricsRecorder) -> None:
        self.recorder = recorder
        self._tallies: dict[tuple, Tally] = {}
        self._ticker: asyncio.Task | None = None

    def dimension_sets(self, scope: Any) -> list[Dimensions]:
        raise NotImplementedError

    def record(self, scope: Any, status: int, latency_ms: float, integration_ms: float | None, data: int = 0) -> None:
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
        merged: dict[tuple[str, str, Dimensions], list[Any]] = {}
        for scope, tally in tallies.items():
            account, region = scope[0], scope[1]
            for dimensions in self.dimension_sets(scope):
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
            for name, errors in zip(self.errors, (client, server), strict=True):
                if errors:
                    put(NAMESPACE, name, named, 1, "Count", count=errors, scope=scope)
                if count - errors:
                    put(NAMESPACE, name, named, 0, "Count", count=count - errors, scope=scope)
            for name in self.zero_counts:
                put(NAMESPACE, name, named, 0, "Count", count=count, scope=scope)
            put_values(NAMESPACE, "Latency", named, latencies, "Milliseconds", scope=scope)
            if integration:
                put_values(NAMESPACE, "IntegrationLatency", named, integration, "Milliseconds", scope=scope)
            if self.data_processed:
                put(NAMESPACE, "DataProcessed", named, data, "Bytes", scope=scope)
