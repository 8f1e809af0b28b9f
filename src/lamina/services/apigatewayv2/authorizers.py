"""CreateAuthorizer, GetAuthorizer(s), UpdateAuthorizer, DeleteAuthorizer.

REQUEST authorizers call a Lambda function (AuthorizerUri: its invoke path
`arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<arn>/invocations`); on HTTP
APIs they say which payload they send (AuthorizerPayloadFormatVersion 1.0 or 2.0; simple
responses with 2.0 only) and identity sources are `$request.header.<name>`,
`$request.querystring.<name>`, `$context.<name>`, `$stageVariables.<name>`; on WebSocket
APIs `route.request.header.<name>`, `route.request.querystring.<name>`, `context.<name>`,
`stageVariables.<name>`. Results are cached for AuthorizerResultTtlInSeconds (0..3600).
JWT authorizers (HTTP APIs only) check a token from one header or query parameter against
JwtConfiguration's Issuer and Audience.
"""

from __future__ import annotations

import re
from typing import Any

from ..api_gateway_errors import bad_request
from ..context import RequestContext
from . import checks
from .ids import CHILD_ID_LENGTH, new_id
from .paging import listed
from .state import Api, ApiGatewayState

MAX_AUTHORIZERS = 10
_KEPT = (
    "AuthorizerCredentialsArn",
    "AuthorizerPayloadFormatVersion",
    "AuthorizerResultTtlInSeconds",
    "AuthorizerType",
    "AuthorizerUri",
    "EnableSimpleResponses",
    "IdentitySource",
    "IdentityValidationExpression",
    "JwtConfiguration",
    "Name",
)
_INVOKE_URI = re.compile(
    r"^arn:aws[a-zA-Z-]*:apigateway:[a-z0-9\-]+:lambda:path/2015-03-31/functions/"
    r"arn:aws[a-zA-Z-]*:lambda:[a-z0-9\-]+:[0-9]{12}:function:[A-Za-z0-9\-_]+(:[A-Za-z0-9\-_$]+)?/invocations$"
)
_HTTP_SOURCE = re.compile(
    r"^\$(request\.(header|querystring)\.[A-Za-z0-9!#$%&'*+\-.^_`|~]+|context\.[A-Za-z0-9._\-]+|stageVariables\.[A-Za-z0-9_]+)$"
)
_WS_SOURCE = re.compile(
    r"^(route\.request\.(header|querystring)\.[A-Za-z0-9!#$%&'*+\-.^_`|~]+|context\.[A-Za-z0-9._\-]+|stageVariables\.[A-Za-z0-9_]+)$"
)
_JWT_SOURCE = re.compile(r"^\$request\.(header|querystring)\.[A-Za-z0-9!#$%&'*+\-.^_`|~]+$")


def check(api: Api, record: dict[str, Any]) -> None:
    kind = record["AuthorizerType"]
    checks.length("Name", record["Name"], 1, 128)
    checks.role_arn(record.get("AuthorizerCredentialsArn"), "authorizer credentials")
    sources = record.get("IdentitySource") or []
    ttl = record.get("AuthorizerResultTtlInSeconds")
    if ttl is not None and not 0 <= ttl <= 3600:
        raise bad_request("AuthorizerResultTtlInSeconds must be between 0 and 3600")
    if kind == "JWT":
        if api.websocket:
            raise bad_request("JWT authorizers are supported only for HTTP APIs")
        jwt = record.get("JwtConfiguration")
        if not jwt or not jwt.get("Issuer"):
            raise bad_request("JwtConfiguration with an Issuer is required for JWT authorizers")
        if not re.match(r"^https://\S+$", jwt["Issuer"]):
            raise bad_request(f"Invalid issuer specified: {jwt['Issuer']}. The issuer must be an HTTPS URL")
        if not jwt.get("Audience"):
            raise bad_request("At least one audience is required for JWT authorizers")
        if len(sources) != 1 or not _JWT_SOURCE.match(sources[0]):
            raise bad_request(
                "A JWT authorizer takes exactly one identity source, of the form $request.header.<name> "
                "or $request.querystring.<name>"
            )
        for name in (
            "AuthorizerUri",
            "AuthorizerCredentialsArn",
            "AuthorizerPayloadFormatVersion",
            "EnableSimpleResponses",
        ):
            if record.get(name) is not None:
                raise bad_request(f"{name} is not supported for JWT authorizers")
        if ttl:
            raise bad_request("Authorizer caching is not supported for JWT authorizers")
        return
    if kind != "REQUEST":
        raise bad_request(f"Invalid authorizer type specified: {kind}. Supported types are REQUEST and JWT")
    if record.get("JwtConfiguration") is not None:
        raise bad_request("JwtConfiguration is supported only for JWT authorizers")
    uri = record.get("AuthorizerUri")
    if not uri:
        raise bad_request("AuthorizerUri is required for REQUEST authorizers")
    if not _INVOKE_URI.match(uri):
        raise bad_request(f"Invalid Authorizer URI specified: {uri}")
    pattern = _WS_SOURCE if api.websocket else _HTTP_SOURCE
    for source in sources:
        if not pattern.match(source):
            raise bad_request(f"Invalid identity source specified: {source}")
    if ttl and not sources:
        raise bad_request("Identity sources are required when authorizer caching is enabled")
    record.setdefault("AuthorizerResultTtlInSeconds", 0)
    if api.websocket:
        for name in ("AuthorizerPayloadFormatVersion", "EnableSimpleResponses"):
            if record.get(name) is not None:
                raise bad_request(f"{name} is supported only for HTTP APIs")
        return
    version = record.get("AuthorizerPayloadFormatVersion")
    if version is None:
        raise bad_request("AuthorizerPayloadFormatVersion is required for REQUEST authorizers of HTTP APIs")
    if version not in ("1.0", "2.0"):
        raise bad_request(
            f"Invalid authorizer payload format version specified: {version}. Supported values are 1.0 and 2.0"
        )
    if record.get("EnableSimpleResponses") and version != "2.0":
        raise bad_request("Simple responses are supported only for authorizer payload format version 2.0")
    record.setdefault("EnableSimpleResponses", False)


class AuthorizersApi:
    state: ApiGatewayState

    async def create_authorizer(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["ApiId"]) as api:
            if len(api.authorizers) >= MAX_AUTHORIZERS:
                raise bad_request(f"The maximum number of authorizers per API ({MAX_AUTHORIZERS}) has been reached")
            record = {name: params[name] for name in _KEPT if params.get(name) is not None}
            record["AuthorizerId"] = new_id(CHILD_ID_LENGTH, api.authorizers)
            check(api, record)
            api.authorizers[record["AuthorizerId"]] = record
            api.changed = True
        return dict(record)

    async def get_authorizer(self, params: dict, ctx: RequestContext) -> dict:
        api = self.state.api(ctx.account_id, ctx.region, params["ApiId"])
        return dict(api.child("authorizers", "Authorizer", params["AuthorizerId"]))

    async def get_authorizers(self, params: dict, ctx: RequestContext) -> dict:
        return listed(self.state.api(ctx.account_id, ctx.region, params["ApiId"]).authorizers, params)

    async def update_authorizer(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["ApiId"]) as api:
            record = api.child("authorizers", "Authorizer", params["AuthorizerId"])
            for name in _KEPT:
                if params.get(name) is not None:
                    record[name] = params[name]
            check(api, record)
            for route in api.routes.values():
                if route.get("AuthorizerId") == record["AuthorizerId"]:
                    wanted = "JWT" if record["AuthorizerType"] == "JWT" else "CUSTOM"
                    if route.get("AuthorizationType") != wanted:
                        raise bad_request(
                            f"Authorizer {record['AuthorizerId']} is used by route {route['RouteKey']} "
                            f"with authorization type {route.get('AuthorizationType')}"
                        )
            api.changed = True
        return dict(record)

    async def delete_authorizer(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["ApiId"]) as api:
            authorizer_id = params["AuthorizerId"]
            api.child("authorizers", "Authorizer", authorizer_id)
            using = [r["RouteKey"] for r in api.routes.values() if r.get("AuthorizerId") == authorizer_id]
            if using:
                raise bad_request(f"Cannot delete authorizer {authorizer_id}, is referenced in route: {using[0]}")
            del api.authorizers[authorizer_id]
            api.changed = True
        return {}
