"""CreateRoute, GetRoute(s), UpdateRoute, DeleteRoute, DeleteRouteRequestParameter.

A route key is unique within its API (ConflictException); its Target is
`integrations/<id>` of one of the API's integrations. AuthorizationType: NONE (the
default), AWS_IAM, JWT (HTTP APIs; a JWT authorizer, AuthorizationScopes allowed) or
CUSTOM (a REQUEST authorizer). ApiKeyRequired, RequestParameters and route responses are
WebSocket's.
"""

from __future__ import annotations

from typing import Any

from ..api_gateway_errors import bad_request, conflict, not_found
from ..context import RequestContext
from . import mappings, route_keys
from .ids import CHILD_ID_LENGTH, new_id
from .paging import listed
from .state import Api, ApiGatewayState

_KEPT = (
    "ApiKeyRequired",
    "AuthorizationScopes",
    "AuthorizationType",
    "AuthorizerId",
    "ModelSelectionExpression",
    "OperationName",
    "RequestModels",
    "RequestParameters",
    "RouteKey",
    "RouteResponseSelectionExpression",
    "Target",
)
AUTHORIZATION_TYPES = ("NONE", "AWS_IAM", "JWT", "CUSTOM")


def check(api: Api, record: dict[str, Any]) -> None:
    key = record["RouteKey"]
    route_keys.parse(api.protocol, key)
    for other in api.routes.values():
        if other["RouteKey"] == key and other["RouteId"] != record["RouteId"]:
            raise conflict(f"Route with key {key} already exists for this API")
    target = record.get("Target")
    if target is not None:
        integration_id = target[len("integrations/") :] if target.startswith("integrations/") else None
        if not integration_id:
            raise bad_request(
                f"Invalid target specified: {target}. A target must be of the form integrations/<integrationId>"
            )
        if integration_id not in api.integrations:
            raise not_found(f"Invalid Integration identifier specified {integration_id}")
    kind = record.setdefault("AuthorizationType", "NONE")
    if kind not in AUTHORIZATION_TYPES:
        raise bad_request(f"Invalid authorization type specified: {kind}")
    authorizer_id = record.get("AuthorizerId")
    if kind in ("JWT", "CUSTOM"):
        if not authorizer_id:
            raise bad_request(f"AuthorizerId is required for authorization type {kind}")
        authorizer = api.authorizers.get(authorizer_id)
        if authorizer is None:
            raise not_found(f"Invalid Authorizer identifier specified {authorizer_id}")
        wanted = "JWT" if kind == "JWT" else "REQUEST"
        if authorizer["AuthorizerType"] != wanted:
            raise bad_request(
                f"Authorization type {kind} requires an authorizer of type {wanted}; "
                f"authorizer {authorizer_id} is of type {authorizer['AuthorizerType']}"
            )
    elif authorizer_id:
        raise bad_request(f"AuthorizerId cannot be specified for authorization type {kind}")
    if kind == "JWT" and api.websocket:
        raise bad_request("JWT authorization is not supported for WebSocket APIs")
    if kind == "CUSTOM" and api.websocket and key != "$connect":
        raise bad_request("Currently, authorization is restricted to the $connect route only")
    if kind == "AWS_IAM" and api.websocket and key != "$connect":
        raise bad_request("Currently, authorization is restricted to the $connect route only")
    if record.get("AuthorizationScopes") and kind not in ("JWT", "CUSTOM"):
        raise bad_request("AuthorizationScopes are supported only for JWT authorization")
    if not api.websocket:
        for name in ("ApiKeyRequired", "RouteResponseSelectionExpression", "RequestModels", "ModelSelectionExpression"):
            if record.get(name):
                raise bad_request(f"{name} is supported only for WebSocket APIs")
        if record.get("RequestParameters"):
            raise bad_request("RequestParameters are supported only for WebSocket APIs")
    else:
        if record.get("ApiKeyRequired") and key != "$connect":
            raise bad_request("API keys can only be required on the $connect route")
        mappings.route_request(record.get("RequestParameters") or {})
        selection = record.get("RouteResponseSelectionExpression")
        if selection is not None and selection != "$default":
            raise bad_request(
                f"Invalid route response selection expression specified: {selection}. Supported value is $default"
            )
    if record.get("ApiKeyRequired") is None:
        record["ApiKeyRequired"] = False


def new_route(api: Api, given: dict[str, Any], managed: bool = False) -> dict[str, Any]:
    record = {name: given[name] for name in _KEPT if given.get(name) is not None}
    record["RouteId"] = new_id(CHILD_ID_LENGTH, api.routes)
    if managed:
        record["ApiGatewayManaged"] = True
    check(api, record)
    return record


class RoutesApi:
    state: ApiGatewayState

    async def create_route(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["ApiId"]) as api:
            record = new_route(api, params)
            api.routes[record["RouteId"]] = record
            api.changed = True
        return dict(record)

    async def get_route(self, params: dict, ctx: RequestContext) -> dict:
        api = self.state.api(ctx.account_id, ctx.region, params["ApiId"])
        return dict(api.child("routes", "Route", params["RouteId"]))

    async def get_routes(self, params: dict, ctx: RequestContext) -> dict:
        return listed(self.state.api(ctx.account_id, ctx.region, params["ApiId"]).routes, params)

    async def update_route(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["ApiId"]) as api:
            record = api.child("routes", "Route", params["RouteId"])
            old_key = record["RouteKey"]
            for name in _KEPT:
                if params.get(name) is not None:
                    record[name] = params[name]
            if params.get("AuthorizationType") in ("NONE", "AWS_IAM") and params.get("AuthorizerId") is None:
                record.pop("AuthorizerId", None)
                record.pop("AuthorizationScopes", None)
            if params.get("Target") == "":
                record.pop("Target")
            check(api, record)
            if old_key != record["RouteKey"]:
                for stage in api.stages.values():
                    settings = stage.get("RouteSettings") or {}
                    if old_key in settings:
                        settings[record["RouteKey"]] = settings.pop(old_key)
            api.changed = True
        return dict(record)

    async def delete_route(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["ApiId"]) as api:
            record = api.child("routes", "Route", params["RouteId"])
            del api.routes[record["RouteId"]]
            api.route_responses.pop(record["RouteId"], None)
            for stage in api.stages.values():
                (stage.get("RouteSettings") or {}).pop(record["RouteKey"], None)
            api.changed = True
        return {}

    async def delete_route_request_parameter(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["ApiId"]) as api:
            record = api.child("routes", "Route", params["RouteId"])
            key = params["RequestParameterKey"]
            if key not in (record.get("RequestParameters") or {}):
                raise not_found(f"Invalid request parameter key specified {key}")
            del record["RequestParameters"][key]
            api.changed = True
        return {}
