"""Route responses and integration responses (WebSocket APIs): Create/Get/Gets/Update/
Delete of each. A route response's key is `$default` (what a two-way route answers); an
integration response's key is `$default` or a status-code pattern (`/2\\d\\d/`) matched
against the integration's answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Kind:
    """Route responses or integration responses: under which records they are kept (by the
    parent's id), what they are called, the members they keep and their checks."""

    parent_table: str  # "routes"
    parent: str  # "Route": AWS's word, and the parent's id member without "Id"
    table: str  # "route_responses"
    what: str  # "RouteResponse": AWS's word, and the id member without "Id"
    plural: str  # "Route responses"
    kept: tuple[str, ...]
    check: Callable[[dict[str, dict[str, Any]], dict[str, Any]], None]

    @property
    def parent_id(self) -> str:
        return f"{self.parent}Id"

    @property
    def id_member(self) -> str:
        return f"{self.what}Id"

    def of(self, api: Api, parent_id: str) -> dict[str, dict[str, Any]]:
        api.child(self.parent_table, self.parent, parent_id)
        return getattr(api, self.table).setdefault(parent_id, {})

    def find(self, api: Api, params: dict) -> dict[str, Any]:
        record = self.of(api, params[self.parent_id]).get(params[self.id_member])
        if record is None:
            raise child_not_found(self.what, params[self.id_member])
        return record


ROUTE_RESPONSES = _Kind(
    "routes", "Route", "route_responses", "RouteResponse", "Route responses", _ROUTE_KEPT, _check_route_response
)
INTEGRATION_RESPONSES = _Kind(
    "integrations",
    "Integration",
    "integration_responses",
    "IntegrationResponse",
    "Integration responses",
    _INTEGRATION_KEPT,
    _check_integration_response,
)


class ResponsesApi:
    state: ApiGatewayState

    async def create_route_response(self, params: dict, ctx: RequestContext) -> dict:
        return await self._create(ROUTE_RESPONSES, params, ctx)

    async def get_route_response(self, params: dict, ctx: RequestContext) -> dict:
        return self._get(ROUTE_RESPONSES, params, ctx)

    async def get_route_responses(self, params: dict, ctx: RequestContext) -> dict:
        return self._list(ROUTE_RESPONSES, params, ctx)

    async def update_route_response(self, params: dict, ctx: RequestContext) -> dict:
        return await self._update(ROUTE_RESPONSES, params, ctx)

    async def delete_route_response(self, params: dict, ctx: RequestContext) -> dict:
        return await self._delete(ROUTE_RESPONSES, params, ctx)

    async def create_integration_response(self, params: dict, ctx: RequestContext) -> dict:
        return await self._create(INTEGRATION_RESPONSES, params, ctx)

    async def get_integration_response(self, params: dict, ctx: RequestContext) -> dict:
        return self._get(INTEGRATION_RESPONSES, params, ctx)

    async def get_integration_responses(self, params: dict, ctx: RequestContext) -> dict:
        return self._list(INTEGRATION_RESPONSES, params, ctx)

    async def update_integration_response(self, params: dict, ctx: RequestContext) -> dict:
        return await self._update(INTEGRATION_RESPONSES, params, ctx)

    async def delete_integration_response(self, params: dict, ctx: RequestContext) -> dict:
        return await self._delete(INTEGRATION_RESPONSES, params, ctx)

    # --- either kind ---------------------------------------------------------------------------

    async def _create(self, kind: _Kind, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["ApiId"]) as api:
            _websocket(api, kind.plural)
            table = kind.of(api, params[kind.parent_id])
            record = {name: params[name] for name in kind.kept if params.get(name) is not None}
            record[kind.id_member] = new_id(CHILD_ID_LENGTH, table)
            kind.check(table, record)
            table[record[kind.id_member]] = record
            api.changed = True
        return dict(record)

    def _get(self, kind: _Kind, params: dict, ctx: RequestContext) -> dict:
        api = self.state.api(ctx.account_id, ctx.region, params["ApiId"])
        return dict(kind.find(api, params))

    def _list(self, kind: _Kind, params: dict, ctx: RequestContext) -> dict:
        api = self.state.api(ctx.account_id, ctx.region, params["ApiId"])
        api.child(kind.parent_table, kind.parent, params[kind.parent_id])
        return listed(getattr(api, kind.table).get(params[kind.parent_id], {}), params)

    async def _update(self, kind: _Kind, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["ApiId"]) as api:
            record = kind.find(api, params)
            for name in kind.kept:
                if params.get(name) is not None:
                    record[name] = params[name]
            kind.check(getattr(api, kind.table)[params[kind.parent_id]], record)
            api.changed = True
        return dict(record)

    async def _delete(self, kind: _Kind, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["ApiId"]) as api:
            record = kind.find(api, params)
            del getattr(api, kind.table)[params[kind.parent_id]][record[kind.id_member]]
            api.changed = True
        return {}
