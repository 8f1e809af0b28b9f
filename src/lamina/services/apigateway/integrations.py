"""Integrations and integration responses: PutIntegration, GetIntegration,
UpdateIntegration, DeleteIntegration; PutIntegrationResponse, GetIntegrationResponse,
UpdateIntegrationResponse, DeleteIntegrationResponse.

Types: MOCK; HTTP and HTTP_PROXY (an http(s) URL, stage variables allowed); AWS and
AWS_PROXY (`arn:aws:apigateway:<region>:<service>:path/...` or `:action/<Action>`, a Lambda
function as `arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<arn>/invocations`;
AWS_PROXY only Lambda and Firehose). All but MOCK need an integrationHttpMethod. Defaults as
AWS's: passthroughBehavior WHEN_NO_MATCH, timeoutInMillis 29000 (50 to 29000),
cacheNamespace the resource's id, cacheKeyParameters [].
"""

from __future__ import annotations

import copy
import re
from typing import Any
from urllib.parse import urlsplit

from ..api_gateway_errors import bad_request, not_found
from ..context import RequestContext
from . import checks, patch
from .errors import INTEGRATION_NOT_FOUND, RESOURCE_NOT_FOUND, RESPONSE_NOT_FOUND
from .methods import method_of
from .state import RestApi, RestApiState

TYPES = ("HTTP", "HTTP_PROXY", "AWS", "AWS_PROXY", "MOCK")
PASSTHROUGH = ("WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER")
CONTENT_HANDLING = ("CONVERT_TO_BINARY", "CONVERT_TO_TEXT")
_STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.[A-Za-z0-9_]+\}")
_FIELDS = (
    "uri",
    "connectionType",
    "connectionId",
    "credentials",
    "contentHandling",
    "cacheNamespace",
    "tlsConfig",
    "responseTransferMode",
    "integrationTarget",
)


def check_integration(record: dict[str, Any]) -> None:
    kind = record.get("type")
    if kind not in TYPES:
        raise bad_request(f"Invalid integration type specified: {kind}")
    timeout = record.get("timeoutInMillis", 29000)
    if not 50 <= int(timeout) <= 29000:
        raise bad_request("Timeout should be between 50 ms and 29000 ms")
    if record.get("passthroughBehavior", "WHEN_NO_MATCH") not in PASSTHROUGH:
        raise bad_request(
            f"Invalid passthrough behavior specified: {record.get('passthroughBehavior')}. "
            "Valid options are WHEN_NO_MATCH, WHEN_NO_TEMPLATES, NEVER"
        )
    if record.get("contentHandling") is not None and record["contentHandling"] not in CONTENT_HANDLING:
        raise bad_request(f"Invalid content handling specified: {record['contentHandling']}")
    if kind == "MOCK":
        return
    if not record.get("httpMethod"):
        raise bad_request("Enumeration value for HttpMethod must be non-empty")
    uri = record.get("uri") or ""
    if kind in ("HTTP", "HTTP_PROXY"):
        parts = urlsplit(_STAGE_VARIABLE.sub("x", uri))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise bad_request("Invalid HTTP endpoint specified for URI")
        return
    pieces = _STAGE_VARIABLE.sub("x", uri).split(":", 5)
    if len(pieces) != 6 or pieces[0] != "arn" or pieces[2] != "apigateway":
        raise bad_request("Invalid ARN specified in the request")
    service, target = pieces[4], pieces[5]
    if not (target.startswith("path/") or target.startswith("action/")):
        raise bad_request("AWS ARN for integration must contain path or action")
    if kind == "AWS_PROXY" and service not in ("lambda", "firehose"):
        raise bad_request(
            "Integrations of type 'AWS_PROXY' currently only supports Lambda function and Firehose stream invocations."
        )


def integration_record(resource_id: str, params: dict[str, Any], kept: dict[str, Any] | None) -> dict[str, Any]:
    """An integration from PutIntegration's members (or an import's), checked."""
    record: dict[str, Any] = {"type": params["type"]}
    if params.get("integrationHttpMethod"):
        record["httpMethod"] = params["integrationHttpMethod"]
    for name in _FIELDS:
        if params.get(name) is not None:
            record[name] = copy.deepcopy(params[name])
    if params.get("requestParameters"):
        record["requestParameters"] = dict(params["requestParameters"])
    if params.get("requestTemplates"):
        record["requestTemplates"] = checks.template_content_types(params["requestTemplates"], "requestTemplates")
    record["passthroughBehavior"] = params.get("passthroughBehavior") or "WHEN_NO_MATCH"
    record["timeoutInMillis"] = params["timeoutInMillis"] if params.get("timeoutInMillis") is not None else 29000
    record.setdefault("cacheNamespace", resource_id)
    record["cacheKeyParameters"] = list(params.get("cacheKeyParameters") or [])
    check_integration(record)
    record["integrationResponses"] = copy.deepcopy((kept or {}).get("integrationResponses") or {})
    return record


def shown_integration(record: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(record)
    if not out.get("integrationResponses"):
        out.pop("integrationResponses", None)
    return out


def integration_response_record(params: dict[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {"statusCode": params["statusCode"]}
    if params.get("selectionPattern") is not None:
        record["selectionPattern"] = params["selectionPattern"]
    if params.get("responseParameters"):
        record["responseParameters"] = dict(params["responseParameters"])
    if params.get("responseTemplates") is not None:
        templates = checks.template_content_types(params["responseTemplates"], "responseTemplates")
        record["responseTemplates"] = {k: (v if v else None) for k, v in templates.items()}
    if params.get("contentHandling") is not None:
        if params["contentHandling"] not in CONTENT_HANDLING:
            raise bad_request(f"Invalid content handling specified: {params['contentHandling']}")
        record["contentHandling"] = params["contentHandling"]
    return record


def integration_of(api: RestApi, resource_id: str, verb: str) -> dict[str, Any]:
    integration = method_of(api, resource_id, verb).get("methodIntegration")
    if integration is None:
        raise not_found(INTEGRATION_NOT_FOUND)
    return integration


class IntegrationsApi:
    state: RestApiState

    async def put_integration(self, params: dict, ctx: RequestContext) -> dict:
        missing = not_found(RESOURCE_NOT_FOUND)
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"], missing) as api:
            method = method_of(api, params["resourceId"], params["httpMethod"])
            record = integration_record(params["resourceId"], params, method.get("methodIntegration"))
            method["methodIntegration"] = record
            return shown_integration(record)

    async def get_integration(self, params: dict, ctx: RequestContext) -> dict:
        api = self.state.api(ctx.account_id, ctx.region, params["restApiId"], not_found(RESOURCE_NOT_FOUND))
        return shown_integration(integration_of(api, params["resourceId"], params["httpMethod"]))

    async def update_integration(self, params: dict, ctx: RequestContext) -> dict:
        missing = not_found(RESOURCE_NOT_FOUND)
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"], missing) as api:
            record = integration_of(api, params["resourceId"], params["httpMethod"])

            def keys(change: patch.Change) -> None:
                current = record.setdefault("cacheKeyParameters", [])
                name = change.names[0]
                if change.op == "remove":
                    record["cacheKeyParameters"] = [k for k in current if k != name]
                elif name not in current:
                    current.append(name)

            def tls(change: patch.Change) -> None:
                record.setdefault("tlsConfig", {})["insecureSkipVerification"] = change.flag()

            rules = [
                patch.field(record, "uri"),
                patch.field(record, "httpMethod"),
                patch.field(record, "credentials"),
                patch.field(record, "passthroughBehavior"),
                patch.field(record, "contentHandling"),
                patch.field(record, "cacheNamespace"),
                patch.field(record, "connectionType"),
                patch.field(record, "connectionId"),
                patch.field(
                    record, "timeoutInMillis", lambda c: c.integer("Timeout should be between 50 ms and 29000 ms")
                ),
                patch.entry(record, "requestParameters"),
                patch.entry(record, "requestTemplates"),
                patch.Rule("/cacheKeyParameters/*", ("add", "remove"), keys),
                patch.Rule("/tlsConfig/insecureSkipVerification", ("replace",), tls),
            ]
            patch.apply(params.get("patchOperations"), rules)
            for name in ("requestParameters", "requestTemplates"):
                if name in record and not record[name]:
                    del record[name]
            check_integration(record)
            return shown_integration(record)

    async def delete_integration(self, params: dict, ctx: RequestContext) -> dict:
        missing = not_found(RESOURCE_NOT_FOUND)
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"], missing) as api:
            integration_of(api, params["resourceId"], params["httpMethod"])
            del method_of(api, params["resourceId"], params["httpMethod"])["methodIntegration"]
        return {}

    # --- integration responses ---------------------------------------------------------------

    def _integration_response(self, api: RestApi, params: dict) -> dict[str, Any]:
        record = (
            integration_of(api, params["resourceId"], params["httpMethod"]).get("integrationResponses") or {}
        ).get(params["statusCode"])
        if record is None:
            raise not_found(RESPONSE_NOT_FOUND)
        return record

    async def put_integration_response(self, params: dict, ctx: RequestContext) -> dict:
        checks.status_code(params["statusCode"])
        missing = not_found(RESOURCE_NOT_FOUND)
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"], missing) as api:
            integration = integration_of(api, params["resourceId"], params["httpMethod"])
            record = integration_response_record(params)
            integration.setdefault("integrationResponses", {})[params["statusCode"]] = record
            return copy.deepcopy(record)

    async def get_integration_response(self, params: dict, ctx: RequestContext) -> dict:
        checks.status_code(params["statusCode"])
        api = self.state.api(ctx.account_id, ctx.region, params["restApiId"], not_found(RESOURCE_NOT_FOUND))
        return copy.deepcopy(self._integration_response(api, params))

    async def update_integration_response(self, params: dict, ctx: RequestContext) -> dict:
        checks.status_code(params["statusCode"])
        missing = not_found(RESOURCE_NOT_FOUND)
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"], missing) as api:
            record = self._integration_response(api, params)
            rules = [
                patch.field(record, "selectionPattern"),
                patch.field(record, "contentHandling"),
                patch.entry(record, "responseParameters"),
                patch.entry(record, "responseTemplates"),
            ]
            patch.apply(params.get("patchOperations"), rules)
            return copy.deepcopy(record)

    async def delete_integration_response(self, params: dict, ctx: RequestContext) -> dict:
        checks.status_code(params["statusCode"])
        missing = not_found(RESOURCE_NOT_FOUND)
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"], missing) as api:
            self._integration_response(api, params)
            del integration_of(api, params["resourceId"], params["httpMethod"])["integrationResponses"][
                params["statusCode"]
            ]
        return {}
