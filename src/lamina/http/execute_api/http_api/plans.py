"""What a stage serves, prepared once for the request path: per route its integration (kind,
function, URL, payload format, timeout, role, compiled parameter mappings), its authorizer,
its throttle bucket and whether it has detailed metrics; per stage its access log destination
and a cache of route selections by (method, path).

A plan is built from the control plane's ServedStage (services/apigatewayv2/served.py) and
kept while that object is the one served: any change of the API makes a new ServedStage, and
the next call a new plan (its buckets and selections start afresh).
"""

from __future__ import annotations

from typing import Any

from ....services.apigatewayv2.integrations import function_arn
from ....services.apigatewayv2.served import ServedApi, ServedRoute, ServedStage
from .access_logs import Destination
from .mapping import Mapping, Template
from .throttling import Bucket, route_bucket

LAMBDA, HTTP, SERVICE, NONE = "lambda", "http", "service", "none"
_SELECTIONS_KEPT = 4096
_MISSING = object()


class RoutePlan:
    __slots__ = (
        "authorizer",
        "bucket",
        "default",
        "detailed",
        "function",
        "integration",
        "kind",
        "method",
        "request_mapping",
        "response_mappings",
        "role",
        "route",
        "route_id",
        "route_key",
        "route_path",
        "timeout_s",
        "uri",
        "version",
    )

    def __init__(self, stage: ServedStage, route: ServedRoute) -> None:
        self.route = route
        self.route_id = route.route_id
        self.route_key = route.key.text
        self.default = route.key.is_default
        self.route_path: str | None = route.key.path
        integration = stage.integrations.get(route.integration_id or "")
        self.integration: dict[str, Any] = integration or {}
        kind = self.integration.get("IntegrationType")
        if integration is None:
            self.kind = NONE
        elif kind == "HTTP_PROXY":
            self.kind = HTTP
        elif self.integration.get("IntegrationSubtype"):
            self.kind = SERVICE
        else:
            self.kind = LAMBDA
        self.version = self.integration.get("PayloadFormatVersion", "1.0")
        self.timeout_s = int(self.integration.get("TimeoutInMillis") or 30000) / 1000
        self.method = (self.integration.get("IntegrationMethod") or "ANY").upper()
        self.uri = Template(self.integration.get("IntegrationUri") or "")
        # A function named outright is resolved now; one with ${stageVariables...} per call.
        self.function = function_arn(self.integration.get("IntegrationUri") or "") if self.uri.static else None
        self.role: str | None = self.integration.get("CredentialsArn")
        self.request_mapping = Mapping(self.integration.get("RequestParameters"))
        self.response_mappings = {
            status: Mapping(given) for status, given in (self.integration.get("ResponseParameters") or {}).items()
        }
        self.authorizer = stage.authorizers.get(route.authorizer_id or "")
        burst, rate = stage.throttling(self.route_key)
        self.bucket: Bucket | None = route_bucket(burst, rate)
        self.detailed = bool(stage.settings(self.route_key).get("DetailedMetricsEnabled"))

    def source_arn_tail(self, stage: str, method: str) -> str:
        """{stage}/{METHOD}/{route path} (the Lambda permission's SourceArn), $default for
        the $default route."""
        if self.default:
            return f"{stage}/$default"
        return f"{stage}/{method}{self.route_path}"


class StagePlan:
    __slots__ = ("access", "name", "routes", "selected", "served", "variables")

    def __init__(self, api: ServedApi, stage: ServedStage) -> None:
        self.served = stage
        self.name = stage.name
        self.routes = {route.route_id: RoutePlan(stage, route) for route in stage.routes}
        self.selected: dict[tuple[str, str], Any] = {}
        self.variables = stage.stage_variables
        settings = stage.access_log_settings
        self.access = (
            Destination(settings, api.api_id, stage.name) if settings and settings.get("DestinationArn") else None
        )

    def select(self, method: str, path: str) -> tuple[RoutePlan, dict[str, str]] | None:
        key = (method, path)
        hit = self.selected.get(key, _MISSING)
        if hit is _MISSING:
            found = self.served.select(method, path)
            hit = (self.routes[found[0].route_id], found[1]) if found is not None else None
            if len(self.selected) >= _SELECTIONS_KEPT:
                self.selected.clear()
            self.selected[key] = hit
        return hit
