"""CreateApi, GetApi, GetApis, UpdateApi, DeleteApi, DeleteCorsConfiguration.

ApiEndpoint: AWS's is https://<apiId>.execute-api.<region>.amazonaws.com (wss:// for
WebSocket). Lamina answers `http://<apiId>.execute-api.localhost:<port>` (`ws://` for
WebSocket), the port being the one the caller reached Lamina on: `*.localhost` resolves to
the loopback address without any DNS set-up, and the execute-api front door is served by
Host on Lamina's own port.

Quick create (HTTP APIs): a Target (a Lambda function ARN or an HTTP URL) makes a managed
integration (AWS_PROXY with payload 2.0, or HTTP_PROXY), a route on RouteKey (`$default`
unless given) and the `$default` stage with AutoDeploy, deployed at once.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ..api_gateway_apis import now
from ..api_gateway_errors import bad_request
from ..context import RequestContext
from . import checks, integrations, routes, stages
from .ids import API_ID_LENGTH, new_id
from .paging import page
from .state import Api, ApiGatewayState

_SPEC = (
    "ApiKeySelectionExpression",
    "CorsConfiguration",
    "Description",
    "DisableSchemaValidation",
    "DisableExecuteApiEndpoint",
    "IpAddressType",
    "Name",
    "RouteSelectionExpression",
    "Version",
)


def endpoint(api_id: str, websocket: bool, endpoint_url: str) -> str:
    parts = urlsplit(endpoint_url)
    port = f":{parts.port}" if parts.port else ""
    return f"{'ws' if websocket else 'http'}://{api_id}.execute-api.localhost{port}"


def described(api: Api, ctx: RequestContext) -> dict[str, Any]:
    out = {name: api.spec[name] for name in _SPEC if api.spec.get(name) is not None}
    out.update(
        ApiEndpoint=endpoint(api.api_id, api.websocket, ctx.endpoint_url),
        ApiId=api.api_id,
        CreatedDate=api.spec["CreatedDate"],
        ProtocolType=api.protocol,
        Tags=dict(api.tags),
    )
    if api.spec.get("ApiGatewayManaged"):
        out["ApiGatewayManaged"] = True
    if api.spec.get("ImportInfo"):
        out["ImportInfo"] = api.spec["ImportInfo"]
    if api.spec.get("Warnings"):
        out["Warnings"] = api.spec["Warnings"]
    return out


def _check_spec(spec: dict[str, Any], protocol: str) -> None:
    checks.api_name(spec["Name"])
    checks.description(spec.get("Description"))
    checks.length("Version", spec.get("Version"), 1, 64)
    spec["RouteSelectionExpression"] = checks.route_selection(protocol, spec.get("RouteSelectionExpression"))
    spec["ApiKeySelectionExpression"] = checks.api_key_selection(spec.get("ApiKeySelectionExpression"))
    if spec.get("CorsConfiguration") is not None:
        if protocol == "WEBSOCKET":
            raise bad_request("CORS is not supported for WebSocket APIs")
        spec["CorsConfiguration"] = checks.cors(spec["CorsConfiguration"])
    address = spec.setdefault("IpAddressType", "ipv4")
    if address not in ("ipv4", "dualstack"):
        raise bad_request(f"Invalid IpAddressType specified: {address}")
    spec.setdefault("DisableExecuteApiEndpoint", False)


def quick_create(api: Api, target: str, route_key: str | None, credentials: str | None) -> None:
    """The managed integration, route and `$default` stage of quick create (or, on an
    update, the managed integration's new target)."""
    if api.websocket:
        raise bad_request("Quick create is supported only for HTTP APIs")
    checks.role_arn(credentials)
    managed = next((i for i in api.integrations.values() if i.get("ApiGatewayManaged")), None)
    if managed is not None:
        managed.update(integrations.quick_target(api, target, credentials), IntegrationId=managed["IntegrationId"])
        route = next((r for r in api.routes.values() if r.get("ApiGatewayManaged")), None)
        if route is not None and route_key:
            route["RouteKey"] = route_key
            routes.check(api, route)
        api.changed = True
        return
    integration = integrations.quick_target(api, target, credentials)
    api.integrations[integration["IntegrationId"]] = integration
    route = routes.new_route(
        api,
        {"RouteKey": route_key or "$default", "Target": f"integrations/{integration['IntegrationId']}"},
        managed=True,
    )
    api.routes[route["RouteId"]] = route
    if "$default" not in api.stages:
        stage = stages.stage_record(api, "$default", managed=True)
        stage["AutoDeploy"] = True
        api.stages["$default"] = stage
    api.changed = True


class ApisApi:
    state: ApiGatewayState

    async def create_api(self, params: dict, ctx: RequestContext) -> dict:
        protocol = params["ProtocolType"]
        if protocol not in ("HTTP", "WEBSOCKET"):
            raise bad_request("Invalid protocol specified. Must be one of [HTTP, WEBSOCKET]")
        spec = {name: params[name] for name in _SPEC if params.get(name) is not None}
        spec["ProtocolType"] = protocol
        spec["CreatedDate"] = now()
        _check_spec(spec, protocol)
        tags = checks.tags(params.get("Tags"))
        quick = params.get("Target")
        if quick is None and (params.get("RouteKey") or params.get("CredentialsArn")):
            raise bad_request("RouteKey and CredentialsArn are supported only with a Target (quick create)")
        api = Api(ctx.account_id, ctx.region, new_id(API_ID_LENGTH, self.state.by_id), spec, tags)
        if quick is not None:
            quick_create(api, quick, params.get("RouteKey"), params.get("CredentialsArn"))
        await self.state.create(api)
        return described(api, ctx)

    async def get_api(self, params: dict, ctx: RequestContext) -> dict:
        return described(self.state.api(ctx.account_id, ctx.region, params["ApiId"]), ctx)

    async def get_apis(self, params: dict, ctx: RequestContext) -> dict:
        apis = self.state.apis_of(ctx.account_id, ctx.region)
        chosen, token = page(sorted(apis), params)
        result: dict[str, Any] = {"Items": [described(apis[api_id], ctx) for api_id in chosen]}
        if token:
            result["NextToken"] = token
        return result

    async def update_api(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["ApiId"]) as api:
            for name in _SPEC:
                if params.get(name) is not None:
                    api.spec[name] = params[name]
            _check_spec(api.spec, api.protocol)
            if params.get("Target") is not None:
                quick_create(api, params["Target"], params.get("RouteKey"), params.get("CredentialsArn"))
        return described(self.state.api(ctx.account_id, ctx.region, params["ApiId"]), ctx)

    async def delete_api(self, params: dict, ctx: RequestContext) -> dict:
        await self.state.delete(self.state.api(ctx.account_id, ctx.region, params["ApiId"]))
        return {}

    async def delete_cors_configuration(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["ApiId"]) as api:
            api.spec.pop("CorsConfiguration", None)
        return {}
