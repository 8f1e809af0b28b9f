"""Gateway responses: PutGatewayResponse, GetGatewayResponse(s), UpdateGatewayResponse,
DeleteGatewayResponse.

Every API has all the types, with AWS's defaults (`DEFAULTS`: status code, the template
`{"message":$context.error.messageString}`, no parameters; DEFAULT_4XX and DEFAULT_5XX have
no status code). A type that was put answers defaultResponse false. A type left at its
default takes what DEFAULT_4XX or DEFAULT_5XX (by its status family) was given, status code
included, as AWS does.
"""

from __future__ import annotations

import copy
from typing import Any

from ..api_gateway_errors import bad_request, not_found
from ..context import RequestContext
from . import patch
from .paging import listed
from .state import RestApiState

TEMPLATE = '{"message":$context.error.messageString}'
DEFAULTS: dict[str, str | None] = {
    "ACCESS_DENIED": "403",
    "API_CONFIGURATION_ERROR": "500",
    "AUTHORIZER_CONFIGURATION_ERROR": "500",
    "AUTHORIZER_FAILURE": "500",
    "BAD_REQUEST_BODY": "400",
    "BAD_REQUEST_PARAMETERS": "400",
    "DEFAULT_4XX": None,
    "DEFAULT_5XX": None,
    "EXPIRED_TOKEN": "403",
    "INTEGRATION_FAILURE": "504",
    "INTEGRATION_TIMEOUT": "504",
    "INVALID_API_KEY": "403",
    "INVALID_SIGNATURE": "403",
    "MISSING_AUTHENTICATION_TOKEN": "403",
    "QUOTA_EXCEEDED": "429",
    "REQUEST_TOO_LARGE": "413",
    "RESOURCE_NOT_FOUND": "404",
    "THROTTLED": "429",
    "UNAUTHORIZED": "401",
    "UNSUPPORTED_MEDIA_TYPE": "415",
    "WAF_FILTERED": "403",
}


def family(response_type: str) -> str:
    status = DEFAULTS.get(response_type)
    return "DEFAULT_5XX" if status and status.startswith("5") else "DEFAULT_4XX"


def effective(put: dict[str, dict[str, Any]], response_type: str) -> dict[str, Any]:
    """The gateway response of a type, as GetGatewayResponse shows it."""
    if response_type in put:
        return {"responseType": response_type, **copy.deepcopy(put[response_type]), "defaultResponse": False}
    out: dict[str, Any] = {
        "responseType": response_type,
        "defaultResponse": True,
        "responseParameters": {},
        "responseTemplates": {"application/json": TEMPLATE},
    }
    if DEFAULTS.get(response_type) is not None:
        out["statusCode"] = DEFAULTS[response_type]
    parent = put.get(family(response_type)) if response_type not in ("DEFAULT_4XX", "DEFAULT_5XX") else None
    if parent is not None:
        for name in ("statusCode", "responseParameters", "responseTemplates"):
            if parent.get(name) is not None:
                out[name] = copy.deepcopy(parent[name])
    return out


def all_effective(put: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {response_type: effective(put, response_type) for response_type in DEFAULTS}


def _record(params: dict[str, Any], response_type: str) -> dict[str, Any]:
    record: dict[str, Any] = {
        "responseParameters": dict(params.get("responseParameters") or {}),
        "responseTemplates": dict(params.get("responseTemplates") or {"application/json": TEMPLATE}),
    }
    status = params.get("statusCode") or DEFAULTS.get(response_type)
    if status is not None:
        record["statusCode"] = status
    return record


def _not_blank(change: patch.Change, what: str) -> str:
    if change.value in (None, ""):
        raise bad_request(f"Invalid null or empty value in {what}")
    return change.text()


class GatewayResponsesApi:
    state: RestApiState

    async def put_gateway_response(self, params: dict, ctx: RequestContext) -> dict:
        response_type = params["responseType"]
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"]) as api:
            api.gateway_responses[response_type] = _record(params, response_type)
            return effective(api.gateway_responses, response_type)

    async def get_gateway_response(self, params: dict, ctx: RequestContext) -> dict:
        api = self.state.api(ctx.account_id, ctx.region, params["restApiId"])
        return effective(api.gateway_responses, params["responseType"])

    async def get_gateway_responses(self, params: dict, ctx: RequestContext) -> dict:
        api = self.state.api(ctx.account_id, ctx.region, params["restApiId"])
        shown = all_effective(api.gateway_responses)
        return listed(sorted(shown), shown.__getitem__, params)

    async def update_gateway_response(self, params: dict, ctx: RequestContext) -> dict:
        response_type = params["responseType"]
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"]) as api:
            record = api.gateway_responses.get(response_type)
            if record is None:
                current = effective(api.gateway_responses, response_type)
                record = {
                    k: current[k] for k in ("statusCode", "responseParameters", "responseTemplates") if k in current
                }
            rules = [
                patch.Rule("/statusCode", ("replace",), lambda c: record.__setitem__("statusCode", c.text())),
                patch.entry(
                    record,
                    "responseParameters",
                    lambda c: _not_blank(c, "responseParameters"),
                    missing="Invalid parameter name specified",
                ),
                patch.entry(record, "responseTemplates", lambda c: _not_blank(c, "responseTemplates")),
            ]
            patch.apply(params.get("patchOperations"), rules)
            api.gateway_responses[response_type] = record
            return effective(api.gateway_responses, response_type)

    async def delete_gateway_response(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"]) as api:
            if api.gateway_responses.pop(params["responseType"], None) is None:
                raise not_found("Gateway response type not defined on api")
        return {}
