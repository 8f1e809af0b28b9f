"""What an API serves, for the data plane (http/execute_api/): `ApiGatewayState.serving(api_id)`.

    served = state.serving(api_id)        # None: no API has this id (in any account/region)
    served.account, served.region         # who owns it (API ids are unique on Lamina)
    served.protocol_type                  # "HTTP" or "WEBSOCKET"
    served.disable_execute_api_endpoint   # True: the execute-api host must answer 404/403
    served.cors                           # the API's CorsConfiguration (HTTP), or None
    served.route_selection_expression, served.api_key_selection_expression
    stage = served.stages.get(name)       # "$default" too; None: no such stage
    stage.deployment_id                   # None: the stage was never deployed (nothing served)
    stage.select(method, path)            # HTTP: (ServedRoute, path parameters) or None
    stage.route_for(key)                  # WebSocket: the route of a key ($connect, ...), or None
    stage.integrations[id], stage.authorizers[id], stage.models[id]   # records, AWS's names
    stage.integration_responses[integration_id][response_id]          # WebSocket
    stage.stage_variables, stage.access_log_settings
    stage.throttling(route_key)           # (burst, rate) after RouteSettings over DefaultRouteSettings
    stage.settings(route_key)             # the merged RouteSettings dict of a route

Routes, integrations and authorizers are those of the stage's deployment (a snapshot taken
when it was made); stage variables, throttling, access logging and CORS are the live
settings, as AWS applies them without a deployment. The objects are built once per change of
the API (state.py drops the cached one on every write) and must be treated as read-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .route_keys import RouteKey, parse, select

if TYPE_CHECKING:
    from .state import Api


@dataclass(frozen=True)
class ServedRoute:
    route_id: str
    key: RouteKey
    integration_id: str | None  # from Target "integrations/<id>"; None: no integration
    authorization_type: str  # NONE, JWT, AWS_IAM, CUSTOM
    authorizer_id: str | None
    authorization_scopes: tuple[str, ...]
    api_key_required: bool
    record: dict[str, Any]  # the route as GetRoute shows it
    responses: dict[str, dict[str, Any]]  # its route responses (WebSocket), by id


@dataclass(frozen=True)
class ServedStage:
    name: str
    deployment_id: str | None
    routes: tuple[ServedRoute, ...]
    integrations: dict[str, dict[str, Any]]
    integration_responses: dict[str, dict[str, dict[str, Any]]]
    authorizers: dict[str, dict[str, Any]]
    models: dict[str, dict[str, Any]]
    stage_variables: dict[str, str]
    default_route_settings: dict[str, Any]
    route_settings: dict[str, dict[str, Any]]
    access_log_settings: dict[str, Any] | None
    by_key: dict[str, ServedRoute] = field(default_factory=dict)

    def select(self, method: str, path: str) -> tuple[ServedRoute, dict[str, str]] | None:
        return select(((route.key, route) for route in self.routes), method, path)

    def route_for(self, key: str) -> ServedRoute | None:
        return self.by_key.get(key)

    def settings(self, route_key: str) -> dict[str, Any]:
        return {**self.default_route_settings, **self.route_settings.get(route_key, {})}

    def throttling(self, route_key: str) -> tuple[int | None, float | None]:
        merged = self.settings(route_key)
        return merged.get("ThrottlingBurstLimit"), merged.get("ThrottlingRateLimit")


@dataclass(frozen=True)
class ServedApi:
    api_id: str
    account: str
    region: str
    protocol_type: str
    route_selection_expression: str
    api_key_selection_expression: str | None
    disable_execute_api_endpoint: bool
    cors: dict[str, Any] | None
    stages: dict[str, ServedStage]


def _route(protocol: str, record: dict[str, Any], responses: dict[str, dict[str, Any]]) -> ServedRoute:
    target = record.get("Target") or ""
    return ServedRoute(
        record["RouteId"],
        parse(protocol, record["RouteKey"]),
        target.split("/", 1)[1] if target.startswith("integrations/") else None,
        record.get("AuthorizationType", "NONE"),
        record.get("AuthorizerId"),
        tuple(record.get("AuthorizationScopes") or ()),
        bool(record.get("ApiKeyRequired")),
        record,
        responses,
    )


def _stage(api: Api, stage: dict[str, Any]) -> ServedStage:
    deployment = api.deployments.get(stage.get("DeploymentId") or "")
    snapshot = deployment.snapshot if deployment is not None else {}
    route_responses = snapshot.get("route_responses", {})
    routes = tuple(
        _route(api.protocol, record, route_responses.get(route_id, {}))
        for route_id, record in (snapshot.get("routes") or {}).items()
    )
    return ServedStage(
        stage["StageName"],
        deployment.deployment_id if deployment is not None else None,
        routes,
        snapshot.get("integrations", {}),
        snapshot.get("integration_responses", {}),
        snapshot.get("authorizers", {}),
        snapshot.get("models", {}),
        dict(stage.get("StageVariables") or {}),
        dict(stage.get("DefaultRouteSettings") or {}),
        dict(stage.get("RouteSettings") or {}),
        stage.get("AccessLogSettings"),
        {route.key.text: route for route in routes},
    )


def served_api(api: Api) -> ServedApi:
    spec = api.spec
    return ServedApi(
        api.api_id,
        api.account,
        api.region,
        api.protocol,
        spec.get("RouteSelectionExpression", ""),
        spec.get("ApiKeySelectionExpression"),
        bool(spec.get("DisableExecuteApiEndpoint")),
        spec.get("CorsConfiguration"),
        {name: _stage(api, stage) for name, stage in api.stages.items()},
    )
