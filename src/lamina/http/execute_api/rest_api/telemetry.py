"""REST APIs' CloudWatch metrics and access logs.

Metrics (api-gateway-metrics-and-dimensions), namespace AWS/ApiGateway, to the API owner's
account and region: Count, 4XXError and 5XXError (0 or 1 per request), Latency and
IntegrationLatency (milliseconds), CacheHitCount and CacheMissCount (0: Lamina has no stage
cache), per ApiName and per ApiName+Stage, and per ApiName+Method+Resource+Stage for methods
whose settings have metricsEnabled. On the request path this only adds to tallies; every
second they become a few recorder puts (../api_metrics.py).

Access logs: a stage's accessLogSettings (destinationArn, format with $context variables)
are written as HTTP APIs' are (http_api/access_logs.py: the group must exist, "-" for a
variable without a value, the stream `{api id}_{stage}`).
"""

from __future__ import annotations

from ..api_metrics import ApiGatewayMetrics, Dimensions
from ..http_api.access_logs import Destination

Scope = tuple[str, str, str, str, "tuple[str, str] | None"]  # account, region, api name, stage, (method, resource)


class RestMetrics(ApiGatewayMetrics):
    errors = ("4XXError", "5XXError")
    zero_counts = ("CacheHitCount", "CacheMissCount")

    def dimension_sets(self, scope: Scope) -> list[Dimensions]:
        _, _, name, stage, detail = scope
        sets: list[Dimensions] = [(("ApiName", name),), (("ApiName", name), ("Stage", stage))]
        if detail is not None:
            sets.append((("ApiName", name), ("Method", detail[0]), ("Resource", detail[1]), ("Stage", stage)))
        return sets


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
