"""Authorizers: CreateAuthorizer, GetAuthorizer(s), UpdateAuthorizer, DeleteAuthorizer.

TOKEN and REQUEST authorizers call a Lambda function (authorizerUri
`arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<arn>/invocations`) with the
identity the identitySource names (`method.request.header.Authorization`; REQUEST: a comma
separated list, stage variables and context allowed) checked against
identityValidationExpression (TOKEN); COGNITO_USER_POOLS checks a user pool's tokens
(providerARNs). Results are cached authorizerResultTtlInSeconds (default 300, 0 to 3600).
TestInvokeAuthorizer is not served (501).
"""

from __future__ import annotations

import re
from typing import Any

from ..api_gateway_errors import bad_request, conflict, not_found
from ..context import RequestContext
from . import patch
from .errors import AUTHORIZER_NOT_FOUND
from .ids import new_id
from .paging import listed
from .state import RestApi, RestApiState

TYPES = ("TOKEN", "REQUEST", "COGNITO_USER_POOLS")
_HEADER_SOURCE = re.compile(r"^method\.request\.header\.[^\s,]+$")
_FIELDS = (
    "authType",
    "authorizerUri",
    "authorizerCredentials",
    "identitySource",
    "identityValidationExpression",
)


def check_authorizer(record: dict[str, Any]) -> None:
    kind = record.get("type")
    if kind not in TYPES:
        raise bad_request(
            f"Invalid authorizer type specified: {kind}. Valid values are TOKEN, REQUEST, COGNITO_USER_POOLS"
        )
    if not record.get("name"):
        raise bad_request("Authorizer name must be non-empty")
    if kind == "COGNITO_USER_POOLS":
        if not record.get("providerARNs"):
            raise bad_request("ProviderARNs need to be specified for COGNITO_USER_POOLS authorizers")
    elif not record.get("authorizerUri"):
        raise bad_request(f"Authorizer URI must be specified for {kind} authorizers")
    source = record.get("identitySource")
    if kind in ("TOKEN", "COGNITO_USER_POOLS"):
        if not source or not _HEADER_SOURCE.match(source):
            raise bad_request(f"Invalid identity source specified: {source}. Must be a method request header")
    ttl = record.get("authorizerResultTtlInSeconds", 300)
    if not 0 <= int(ttl) <= 3600:
        raise bad_request("Invalid TTL specified. TTL must be between 0 and 3600 seconds")
    if record.get("identityValidationExpression"):
        try:
            re.compile(record["identityValidationExpression"])
        except re.error:
            raise bad_request("Invalid identity validation expression specified") from None


def authorizer_record(api: RestApi, params: dict[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": new_id(taken=api.authorizers),
        "name": params.get("name"),
        "type": params.get("type"),
    }
    for name in _FIELDS:
        if params.get(name) is not None:
            record[name] = params[name]
    if params.get("providerARNs"):
        record["providerARNs"] = list(params["providerARNs"])
    ttl = params.get("authorizerResultTtlInSeconds")
    record["authorizerResultTtlInSeconds"] = 300 if ttl is None else ttl
    check_authorizer(record)
    return record


def authorizer_of(api: RestApi, authorizer_id: str) -> dict[str, Any]:
    record = api.authorizers.get(authorizer_id)
    if record is None:
        raise not_found(AUTHORIZER_NOT_FOUND)
    return record


class AuthorizersApi:
    state: RestApiState

    async def create_authorizer(self, params: dict, ctx: RequestContext) -> dict:
        # AWS answers an unknown API here with this ConflictException (recorded against AWS).
        missing = conflict("Unable to complete operation due to concurrent modification. Please try again later.")
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"], missing) as api:
            record = authorizer_record(api, params)
            api.authorizers[record["id"]] = record
            return dict(record)

    async def get_authorizer(self, params: dict, ctx: RequestContext) -> dict:
        api = self.state.api(ctx.account_id, ctx.region, params["restApiId"])
        return dict(authorizer_of(api, params["authorizerId"]))

    async def get_authorizers(self, params: dict, ctx: RequestContext) -> dict:
        api = self.state.api(ctx.account_id, ctx.region, params["restApiId"])
        return listed(sorted(api.authorizers), lambda i: dict(api.authorizers[i]), params)

    async def update_authorizer(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"]) as api:
            record = authorizer_of(api, params["authorizerId"])

            def providers(change: patch.Change) -> None:
                current = record.setdefault("providerARNs", [])
                if change.op == "remove":
                    record["providerARNs"] = [a for a in current if a != change.text()]
                elif change.op == "replace":
                    record["providerARNs"] = [a.strip() for a in change.text().split(",") if a.strip()]
                elif change.text() not in current:
                    current.append(change.text())

            rules = [
                patch.field(record, "name"),
                patch.field(record, "type"),
                *(patch.field(record, name) for name in _FIELDS),
                patch.field(record, "authorizerResultTtlInSeconds", lambda c: c.integer()),
                patch.Rule("/providerARNs", ("add", "remove", "replace"), providers),
            ]
            patch.apply(params.get("patchOperations"), rules)
            check_authorizer(record)
            return dict(record)

    async def delete_authorizer(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"]) as api:
            record = authorizer_of(api, params["authorizerId"])
            for rid in sorted(api.resources, key=api.path_of):
                for verb, method in (api.resources[rid].get("methods") or {}).items():
                    if method.get("authorizerId") == record["id"]:
                        raise conflict(
                            f"Cannot delete authorizer '{record['name']}', is referenced in method: "
                            f"{api.path_of(rid)}/{verb}"
                        )
            del api.authorizers[record["id"]]
        return {}
