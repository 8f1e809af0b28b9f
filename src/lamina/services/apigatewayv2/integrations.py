"""CreateIntegration, GetIntegration(s), UpdateIntegration, DeleteIntegration.

HTTP APIs take proxy integrations only: AWS_PROXY (a Lambda function, by ARN or by its
invoke path `arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<arn>/invocations`;
or, with an IntegrationSubtype, an AWS service action) and HTTP_PROXY (a URL). WebSocket
APIs take AWS_PROXY, AWS, HTTP_PROXY, HTTP and MOCK. PayloadFormatVersion: 1.0 or 2.0 for
an HTTP API's Lambda integration (which must say which), 1.0 for everything else (the
default). TimeoutInMillis: 50..30000 (HTTP APIs), 50..29000 (WebSocket), the maximum by
default.
"""

from __future__ import annotations

import re
from typing import Any

from ..api_gateway_errors import bad_request
from ..context import RequestContext
from . import checks, mappings
from .ids import CHILD_ID_LENGTH, new_id
from .paging import listed
from .state import Api, ApiGatewayState

HTTP_TYPES = ("AWS_PROXY", "HTTP_PROXY")
WEBSOCKET_TYPES = ("AWS_PROXY", "AWS", "HTTP_PROXY", "HTTP", "MOCK")
_INVOKE_PATH = re.compile(
    r"^arn:aws[a-zA-Z-]*:apigateway:[a-z0-9\-]+:lambda:path/2015-03-31/functions/(arn:aws[a-zA-Z-]*:lambda:[^/]+)/invocations$"
)
# A function's name or qualifier may be (or hold) a stage variable: `...:function:f:${stageVariables.alias}`.
_STAGE_VARIABLE = r"\$\{stageVariables\.[A-Za-z0-9_]+\}"
_FUNCTION_ARN = re.compile(
    r"^arn:aws[a-zA-Z-]*:lambda:[a-z0-9\-]+:[0-9]{12}:function:"
    rf"(?:[A-Za-z0-9\-_]|{_STAGE_VARIABLE})+(:(?:[A-Za-z0-9\-_$]|{_STAGE_VARIABLE})+)?$"
)
_URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")
_HTTP_METHODS = ("ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
# Members of CreateIntegration kept as given.
_KEPT = (
    "ConnectionId",
    "ConnectionType",
    "ContentHandlingStrategy",
    "CredentialsArn",
    "Description",
    "IntegrationMethod",
    "IntegrationSubtype",
    "IntegrationType",
    "IntegrationUri",
    "PassthroughBehavior",
    "PayloadFormatVersion",
    "RequestParameters",
    "RequestTemplates",
    "ResponseParameters",
    "TemplateSelectionExpression",
    "TimeoutInMillis",
    "TlsConfig",
)


def function_arn(uri: str) -> str | None:
    """The function ARN an AWS_PROXY integration's URI names (plain or the invoke path)."""
    match = _INVOKE_PATH.match(uri)
    arn = match.group(1) if match else uri
    return arn if _FUNCTION_ARN.match(arn) else None


def _check(api: Api, record: dict[str, Any]) -> None:
    """The whole record, after a create or an update (AWS's rules; BadRequestException)."""
    kind = record["IntegrationType"]
    uri = record.get("IntegrationUri")
    subtype = record.get("IntegrationSubtype")
    if api.websocket:
        if kind not in WEBSOCKET_TYPES:
            raise bad_request(f"Invalid integration type specified: {kind}")
    elif kind not in HTTP_TYPES:
        raise bad_request(
            "Currently, an API with a protocol type of HTTP may only be associated with proxy integrations "
            "(AWS_PROXY, HTTP_PROXY)"
        )
    checks.description(record.get("Description"))
    checks.role_arn(record.get("CredentialsArn"))
    connection = record.setdefault("ConnectionType", "INTERNET")
    if connection not in ("INTERNET", "VPC_LINK"):
        raise bad_request(f"Invalid connection type specified: {connection}")
    if connection == "VPC_LINK" and not record.get("ConnectionId"):
        raise bad_request("ConnectionId must be specified for connection type VPC_LINK")
    if subtype is not None:
        if api.websocket or kind != "AWS_PROXY":
            raise bad_request("IntegrationSubtype is supported only for AWS_PROXY integrations of HTTP APIs")
        if subtype not in mappings.SUBTYPES:
            raise bad_request(f"Unsupported integration subtype: {subtype}")
        if uri is not None:
            raise bad_request("IntegrationUri must not be specified for integrations with an IntegrationSubtype")
        if not record.get("CredentialsArn"):
            raise bad_request(f"CredentialsArn is required for integration subtype {subtype}")
        mappings.service(subtype, record.get("RequestParameters") or {})
    elif kind in ("AWS_PROXY", "AWS"):
        if not uri:
            raise bad_request(f"IntegrationUri is required for integration type {kind}")
        if kind == "AWS_PROXY" and function_arn(uri) is None:
            raise bad_request(
                f"Invalid integration URI specified: {uri}. It must be a Lambda function ARN or invocation URI"
            )
        if kind == "AWS" and not uri.startswith("arn:"):
            raise bad_request(f"Invalid integration URI specified: {uri}")
    elif kind in ("HTTP_PROXY", "HTTP"):
        if not uri:
            raise bad_request(f"IntegrationUri is required for integration type {kind}")
        if connection == "INTERNET" and not _URL.match(uri):
            raise bad_request(f"Invalid HTTP endpoint specified for URI: {uri}")
        if not record.get("IntegrationMethod"):
            raise bad_request(f"IntegrationMethod is required for integration type {kind}")
    elif kind == "MOCK" and uri is not None:
        raise bad_request("IntegrationUri must not be specified for MOCK integrations")
    method = record.get("IntegrationMethod")
    if method is not None:
        if method.upper() not in _HTTP_METHODS:
            raise bad_request(f"Invalid integration method specified: {method}")
        record["IntegrationMethod"] = method.upper()
    lambda_proxy = kind == "AWS_PROXY" and subtype is None
    version = record.get("PayloadFormatVersion")
    if version is None:
        if lambda_proxy and not api.websocket:
            raise bad_request("PayloadFormatVersion must be specified for AWS_PROXY integrations of HTTP APIs")
        record["PayloadFormatVersion"] = "1.0"
    elif version not in ("1.0", "2.0") or (version == "2.0" and (api.websocket or not lambda_proxy)):
        raise bad_request(
            f"Invalid payload format version specified: {version}. "
            + (
                "Supported values are 1.0 and 2.0"
                if lambda_proxy and not api.websocket
                else "The only supported value is 1.0"
            )
        )
    ceiling = 29000 if api.websocket else 30000
    timeout = record.setdefault("TimeoutInMillis", ceiling)
    if not 50 <= timeout <= ceiling:
        raise bad_request(f"Timeout must be between 50 ms and {ceiling} ms")
    if api.websocket:
        for name in (
            "RequestTemplates",
            "TemplateSelectionExpression",
            "PassthroughBehavior",
            "ContentHandlingStrategy",
        ):
            if (
                record.get(name) is not None
                and kind in ("AWS_PROXY", "HTTP_PROXY")
                and name != "ContentHandlingStrategy"
            ):
                raise bad_request(f"{name} is not supported for proxy integrations")
        if kind not in ("AWS_PROXY", "HTTP_PROXY"):
            record.setdefault("PassthroughBehavior", "WHEN_NO_MATCH")
        passthrough = record.get("PassthroughBehavior")
        if passthrough is not None and passthrough not in ("WHEN_NO_MATCH", "NEVER", "WHEN_NO_TEMPLATES"):
            raise bad_request(f"Invalid passthrough behavior specified: {passthrough}")
        mappings.websocket_request(record.get("RequestParameters") or {})
        if record.get("ResponseParameters"):
            raise bad_request("ResponseParameters are supported only for HTTP APIs")
    else:
        for name in (
            "RequestTemplates",
            "TemplateSelectionExpression",
            "PassthroughBehavior",
            "ContentHandlingStrategy",
        ):
            if record.get(name) is not None:
                raise bad_request(f"{name} is supported only for WebSocket APIs")
        if subtype is None:
            mappings.http_request(record.get("RequestParameters") or {})
        mappings.http_response(record.get("ResponseParameters") or {})


def described(record: dict[str, Any]) -> dict[str, Any]:
    return dict(record)


def new_integration(api: Api, given: dict[str, Any], managed: bool = False) -> dict[str, Any]:
    record = {name: given[name] for name in _KEPT if given.get(name) is not None}
    record["IntegrationId"] = new_id(CHILD_ID_LENGTH, api.integrations)
    if managed:
        record["ApiGatewayManaged"] = True
    if record.get("IntegrationType") == "AWS_PROXY" and "IntegrationSubtype" not in record:
        record.setdefault("IntegrationMethod", "POST")
    _check(api, record)
    if api.websocket and record["IntegrationType"] in ("AWS", "HTTP", "MOCK"):
        record.setdefault("IntegrationResponseSelectionExpression", "${integration.response.statuscode}")
    return record


def quick_target(api: Api, target: str, credentials: str | None) -> dict[str, Any]:
    """Quick create's integration: a Lambda function (AWS_PROXY, payload 2.0) or a URL (HTTP_PROXY, ANY)."""
    if target.startswith("arn:"):
        given = {"IntegrationType": "AWS_PROXY", "IntegrationUri": target, "PayloadFormatVersion": "2.0"}
    else:
        given = {"IntegrationType": "HTTP_PROXY", "IntegrationUri": target, "IntegrationMethod": "ANY"}
    if credentials:
        given["CredentialsArn"] = credentials
    return new_integration(api, given, managed=True)


class IntegrationsApi:
    state: ApiGatewayState

    async def create_integration(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["ApiId"]) as api:
            record = new_integration(api, params)
            api.integrations[record["IntegrationId"]] = record
            api.changed = True
        return described(record)

    async def get_integration(self, params: dict, ctx: RequestContext) -> dict:
        api = self.state.api(ctx.account_id, ctx.region, params["ApiId"])
        return described(api.child("integrations", "Integration", params["IntegrationId"]))

    async def get_integrations(self, params: dict, ctx: RequestContext) -> dict:
        api = self.state.api(ctx.account_id, ctx.region, params["ApiId"])
        return listed(api.integrations, params, described)

    async def update_integration(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["ApiId"]) as api:
            record = api.child("integrations", "Integration", params["IntegrationId"])
            for name in _KEPT:
                if params.get(name) is not None:
                    record[name] = params[name]
            if "IntegrationSubtype" in record and params.get("IntegrationType") not in (None, "AWS_PROXY"):
                record.pop("IntegrationSubtype")
            _check(api, record)
            api.changed = True
        return described(record)

    async def delete_integration(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["ApiId"]) as api:
            integration_id = params["IntegrationId"]
            api.child("integrations", "Integration", integration_id)
            using = [r["RouteKey"] for r in api.routes.values() if r.get("Target") == f"integrations/{integration_id}"]
            if using:
                raise bad_request(
                    f"Cannot delete Integration {integration_id}: it is the target of route(s) {', '.join(using)}"
                )
            del api.integrations[integration_id]
            api.integration_responses.pop(integration_id, None)
            api.changed = True
        return {}
