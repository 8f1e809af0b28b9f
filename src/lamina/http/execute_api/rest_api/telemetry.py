"""REST APIs' CloudWatch metrics and access logs.

Metrics (api-gateway-metrics-and-dimensions), namespace AWS/ApiGateway, to the API owner's
account and region: Count, 4XXError and 5XXError (0 or 1 per request), Latency and
IntegrationLatency (milliseconds), CacheHitCount and CacheMissCount (0: Lamina has no stage
cache), per ApiName and per ApiName+Stage, and per ApiName+Method+Resource+Stage for methods
whose settings have metricsEnabled. On the request path this only adds to tallies; every
second they become a few recorder puts.

Access logs: a stage's accessLogSettings (destinationArn, format with $context variables)
are written as HTTP APIs' are (http_api/access_logs.py: the group must exist, "-" for a
variable without a value, the stream `{api id}_{stage}`).
"""

from __future__ import annotations

import asyncio
import logging

from ....observability.recorder import MetricsRecorder
from ..http_api.access_logs import Destination

log = logging.getLogger("lamina.execute_api")

NAMESPACE = "AWS/ApiGateway"
FLUSH_S = 1.0
Scope = tuple[str, str, str, str, "tuple[str, str] | None"]  # account, region, api name, stage, (method, resource)


class Tally:
    __slots__ = ("client", "count", "integration", "latencies", "server")

    def __init__(self) -> None:
        self.count = self.client = self.server = 0
        self.latencies: list[float] = []
        self.integration: list[float] = []


class RestMetrics:
    def __init__(self, recorder: MetricsRecorder) -> None:
        self.recorder = recorder
        self._tallies: dict[Scope, Tally] = {}
        self._ticker: asyncio.Task | None = None

    def record(self, scope: Scope, status: int, latency_ms: float, integration_ms: float | None) -> None:
        tally = self._tallies.get(scope)
        if tally is None:
            tally = self._tallies[scope] = Tally()
            if self._ticker is None or self._ticker.done():
                self._ticker = asyncio.ensure_future(self._tick())
        tally.count += 1
        tally.client += 400 <= status < 500
        tally.server += status >= 500
        tally.latencies.append(latency_ms)
        if integration_ms is not None:
            tally.integration.append(integration_ms)

    async def _tick(self) -> None:
        while self._tallies:
            await asyncio.sleep(FLUSH_S)
            try:
                self.flush()
            except Exception:
                log.exception("could not record API Gateway's metrics")

    def flush(self) -> None:
        tallies, self._tallies = self._tallies, {}
        merged: dict[tuple, list] = {}
        for (account, region, name, stage, detail), tally in tallies.items():
            sets = [(("ApiName", name),), (("ApiName", name), ("Stage", stage))]
            if detail is not None:
                sets.append((("ApiName", name), ("Method", detail[0]), ("Resource", detail[1]), ("Stage", stage)))
            for dimensions in sets:
                into = merged.setdefault((account, region, dimensions), [0, 0, 0, [], []])
                into[0] += tally.count
                into[1] += tally.client
                into[2] += tally.server
                into[3].extend(tally.latencies)
                into[4].extend(tally.integration)
        put, put_values = self.recorder.put, self.recorder.put_values
        for (account, region, pairs), (count, client, server, latencies, integration) in merged.items():
            scope = (region, account)
            named = dict(pairs)
            put(NAMESPACE, "Count", named, 1, "Count", count=count, scope=scope)
            for metric, errors in (("4XXError", client), ("5XXError", server)):
                if errors:
                    put(NAMESPACE, metric, named, 1, "Count", count=errors, scope=scope)
                if count - errors:
                    put(NAMESPACE, metric, named, 0, "Count", count=count - errors, scope=scope)
            put(NAMESPACE, "CacheHitCount", named, 0, "Count", count=count, scope=scope)
            put(NAMESPACE, "CacheMissCount", named, 0, "Count", count=count, scope=scope)
            put_values(NAMESPACE, "Latency", named, latencies, "Milliseconds", scope=scope)
            if integration:
                put_values(NAMESPACE, "IntegrationLatency", named, integration, "Milliseconds", scope=scope)


class Destinations:
    """A stage's access log settings compiled once (kept while the settings are the same)."""

    def __init__(self) -> None:
        self._kept: dict[tuple[str, str], tuple[dict, Destination | None]] = {}

    def of(self, api_id: str, stage: str, settings: dict | None) -> Destination | None:
        if not settings or not settings.get("destinationArn"):
            return None
        kept = self._kept.get((api_id, stage))
        if kept is not None and kept[0] is settings:
            return kept[1]
        try:
            destination: Destination | None = Destination(
                {"DestinationArn": settings["destinationArn"], "Format": settings.get("format") or ""}, api_id, stage
            )
        except (IndexError, KeyError):
            destination = None
        self._kept[(api_id, stage)] = (settings, destination)
        return destination
