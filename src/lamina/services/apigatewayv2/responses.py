"""Route responses and integration responses (WebSocket APIs): Create/Get/Gets/Update/
Delete of each. A route response's key is `$default` (what a two-way route answers); an
integration response's key is `$default` or a status-code pattern (`/2\\d\\d/`) matched
against the integration's answer.
"""

from __future__ import annotations

import re
from typing import Any

from ..api_gateway_errors import bad_request, conflict
from ..context import RequestContext
from .errors import child_not_found
from .ids import CHILD_ID_LENGTH, new_id
from .paging import listed
from .state import Api, ApiGatewayState

_ROUTE_KEPT = ("ModelSelectionExpression", "ResponseModels", "ResponseParameters", "RouteResponseKey")
_INTEGRATION_KEPT = (
    "ContentHandlingStrategy",
    "IntegrationResponseKey",
    "ResponseParameters",
    "ResponseTemplates",
    "TemplateSelectionExpression",
)


def _websocket(api: Api, what: str) -> None:
    if not api.websocket:
        raise bad_request(f"{what} are supported only for WebSocket APIs")


def _route_responses(api: Api, route_id: str) -> dict[str, dict[str, Any]]:
    api.child("routes", "Route", route_id)
    return api.route_responses.setdefault(route_id, {})


def _integration_responses(api: Api, integration_id: str) -> dict[str, dict[str, Any]]:
    api.child("integrations", "Integration", integration_id)
    return api.integration_responses.setdefault(integration_id, {})


def _check_route_response(table: dict[str, dict[str, Any]], record: dict[str, Any]) -> None:
    if record["RouteResponseKey"] != "$default":
        raise bad_request(
            f"Invalid route response key specified: {record['RouteResponseKey']}. Supported value is $default"
        )
    for other in table.values():
        if (
            other["RouteResponseKey"] == record["RouteResponseKey"]
            and other["RouteResponseId"] != record["RouteResponseId"]
        ):
            raise conflict(f"RouteResponse with key {record['RouteResponseKey']} already exists for this route")


def _check_integration_response(table: dict[str, dict[str, Any]], record: dict[str, Any]) -> None:
    key = record["IntegrationResponseKey"]
    if key != "$default":
        if not (key.startswith("/") and key.endswith("/") and len(key) > 2):
            raise bad_request(f"Invalid integration response key specified: {key}")
        try:
            re.compile(key[1:-1])
        except re.error:
            raise bad_request(f"Invalid integration response key specified: {key}") from None
    strategy = record.get("ContentHandlingStrategy")
    if strategy is not None and strategy not in ("CONVERT_TO_BINARY", "CONVERT_TO_TEXT"):
        raise bad_request(f"Invalid content handling strategy specified: {strategy}")
    for other in table.values():
        if other["IntegrationResponseKey"] == key and other["IntegrationResponseId"] != record["IntegrationResponseId"]:
            raise conflict(f"IntegrationResponse with key {key} already exists for this integration")


class ResponsesApi:
    state: ApiGatewayState

    # --- route responses ---------------------------------------------------------------------

    async def create_route_response(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["ApiId"]) as api:
            _websocket(api, "Route responses")
            table = _route_responses(api, params["RouteId"])
            record = {name: params[name] for name in _ROUTE_KEPT if params.get(name) is not None}
            record["RouteResponseId"] = new_id(CHILD_ID_LENGTH, table)
            _check_route_response(table, record)
            table[record["RouteResponseId"]] = record
            api.changed = True
        return dict(record)

    async def get_route_response(self, params: dict, ctx: RequestContext) -> dict:
        api = self.state.api(ctx.account_id, ctx.region, params["ApiId"])
        return dict(self._route_response(api, params))

    async def get_route_responses(self, params: dict, ctx: RequestContext) -> dict:
        api = self.state.api(ctx.account_id, ctx.region, params["ApiId"])
        api.child("routes", "Route", params["RouteId"])
        return listed(api.route_responses.get(params["RouteId"], {}), params)

    async def update_route_response(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["ApiId"]) as api:
            record = self._route_response(api, params)
            for name in _ROUTE_KEPT:
                if params.get(name) is not None:
                    record[name] = params[name]
            _check_route_response(api.route_responses[params["RouteId"]], record)
            api.changed = True
        return dict(record)

    async def delete_route_response(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["ApiId"]) as api:
            record = self._route_response(api, params)
            del api.route_responses[params["RouteId"]][record["RouteResponseId"]]
            api.changed = True
        return {}

    @staticmethod
    def _route_response(api: Api, params: dict) -> dict[str, Any]:
        table = _route_responses(api, params["RouteId"])
        record = table.get(params["RouteResponseId"])
        if record is None:
            raise child_not_found("RouteResponse", params["RouteResponseId"])
        return record

    # --- integration responses ---------------------------------------------------------------

    async def create_integration_response(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["ApiId"]) as api:
            _websocket(api, "Integration responses")
            table = _integration_responses(api, params["IntegrationId"])
            record = {name: params[name] for name in _INTEGRATION_KEPT if params.get(name) is not None}
            record["IntegrationResponseId"] = new_id(CHILD_ID_LENGTH, table)
            _check_integration_response(table, record)
            table[record["IntegrationResponseId"]] = record
            api.changed = True
        return dict(record)

    async def get_integration_response(self, params: dict, ctx: RequestContext) -> dict:
        api = self.state.api(ctx.account_id, ctx.region, params["ApiId"])
        return dict(self._integration_response(api, params))

    async def get_integration_responses(self, params: dict, ctx: RequestContext) -> dict:
        api = self.state.api(ctx.account_id, ctx.region, params["ApiId"])
        api.child("integrations", "Integration", params["IntegrationId"])
        return listed(api.integration_responses.get(params["IntegrationId"], {}), params)

    async def update_integration_response(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["ApiId"]) as api:
            record = self._integration_response(api, params)
            for name in _INTEGRATION_KEPT:
                if params.get(name) is not None:
                    record[name] = params[name]
            _check_integration_response(api.integration_responses[params["IntegrationId"]], record)
            api.changed = True
        return dict(record)

    async def delete_integration_response(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["ApiId"]) as api:
            record = self._integration_response(api, params)
            del api.integration_responses[params["IntegrationId"]][record["IntegrationResponseId"]]
            api.changed = True
        return {}

    @staticmethod
    def _integration_response(api: Api, params: dict) -> dict[str, Any]:
        table = _integration_responses(api, params["IntegrationId"])
        record = table.get(params["IntegrationResponseId"])
        if record is None:
            raise child_not_found("IntegrationResponse", params["IntegrationResponseId"])
        return record
