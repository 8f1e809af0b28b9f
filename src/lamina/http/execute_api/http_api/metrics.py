"""HTTP APIs' CloudWatch metrics, namespace AWS/ApiGateway, as AWS publishes them: Count,
4xx, 5xx (0 or 1 per request), Latency, IntegrationLatency (milliseconds) and DataProcessed
(bytes), per ApiId and per ApiId+Stage, and per ApiId+Stage+Route when the route's
DetailedMetricsEnabled is on. Each API's metrics go to its owner's account and region
(tallied and flushed each second by ../api_metrics.py).
"""

from __future__ import annotations

from ..api_metrics import ApiGatewayMetrics, Dimensions

# account, region, api id, stage, route (None: no detailed metrics)
Scope = tuple[str, str, str, str, "str | None"]


class ApiMetrics(ApiGatewayMetrics):
    errors = ("4xx", "5xx")
    data_processed = True

    def dimension_sets(self, scope: Scope) -> list[Dimensions]:
        _, _, api_id, stage, route = scope
        sets: list[Dimensions] = [(("ApiId", api_id),), (("ApiId", api_id), ("Stage", stage))]
        if route is not None:
            sets.append((("ApiId", api_id), ("Route", route), ("Stage", stage)))
        return sets
