"""Methods and method responses: PutMethod, GetMethod, UpdateMethod, DeleteMethod;
PutMethodResponse, GetMethodResponse, UpdateMethodResponse, DeleteMethodResponse.

A method is kept in its resource's record under `methods`, in AWS's shape: its
methodResponses by status code and its methodIntegration (integrations.py). An unknown API
is "Invalid Resource identifier specified" here, as AWS answers it.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from ..api_gateway_errors import bad_request, conflict, not_found
from ..context import RequestContext
from . import checks, patch
from .errors import (
    CONTENT_TYPE_NOT_FOUND,
    METHOD_NOT_FOUND,
    PARAMETER_NOT_FOUND,
    RESOURCE_NOT_FOUND,
    RESPONSE_NOT_FOUND,
    VALIDATOR_NOT_FOUND,
)
from .state import RestApi, RestApiState

VERBS = ("GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "HEAD", "ANY")
AUTHORIZATION_TYPES = ("NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS")
_REQUEST_PARAMETER = re.compile(
    r"^method\.request\.(querystring|path|header|multivaluequerystring|multivalueheader)\.(.+)$"
)
_NO_AUTHORIZER = (
    "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS "
    "requires a valid authorizer."
)


def shown_method(method: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(method)
    if not out.get("methodResponses"):
        out.pop("methodResponses", None)
    integration = out.get("methodIntegration")
    if integration is not None and not integration.get("integrationResponses"):
        integration.pop("integrationResponses", None)
    return out


def method_of(api: RestApi, resource_id: str, verb: str) -> dict[str, Any]:
    resource = api.resources.get(resource_id)
    if resource is None:
        raise not_found(RESOURCE_NOT_FOUND)
    method = (resource.get("methods") or {}).get(verb)
    if method is None:
        raise not_found(METHOD_NOT_FOUND)
    return method


def request_parameters(given: dict[str, bool] | None) -> dict[str, bool]:
    seen: dict[str, str] = {}
    for key in given or {}:
        match = _REQUEST_PARAMETER.match(key)
        if match is None:
            raise bad_request(
                "Invalid mapping expression specified: Validation Result: warnings : [], errors : "
                f"[Invalid mapping expression specified: {key}]"
            )
        location, name = match.groups()
        location = location.replace("multivalue", "")
        if name in seen and seen[name] != location:
            raise bad_request("Parameter names must be unique across querystring, header and path")
        seen[name] = location
    return {k: bool(v) for k, v in (given or {}).items()}


def check_method(api: RestApi, method: dict[str, Any]) -> None:
    """The rules that hold whatever set the method: its authorizer, validator and models."""
    kind = method.get("authorizationType")
    if kind not in AUTHORIZATION_TYPES:
        raise bad_request(f"Invalid authorization type specified: {kind}")
    if kind in ("CUSTOM", "COGNITO_USER_POOLS"):
        authorizer = api.authorizers.get(method.get("authorizerId") or "")
        wanted = ("COGNITO_USER_POOLS",) if kind == "COGNITO_USER_POOLS" else ("TOKEN", "REQUEST")
        if authorizer is None or authorizer.get("type") not in wanted:
            raise bad_request(_NO_AUTHORIZER)
    else:
        method.pop("authorizerId", None)
    validator = method.get("requestValidatorId")
    if validator and validator not in api.validators:
        raise bad_request(VALIDATOR_NOT_FOUND)
    for model in (method.get("requestModels") or {}).values():
        if model not in api.models:
            raise bad_request(f"Invalid model identifier specified: {model}")


def put_method_record(api: RestApi, resource_id: str, verb: str, params: dict[str, Any]) -> dict[str, Any]:
    """A new method from PutMethod's members (or an import's), checked; not yet installed."""
    if verb not in VERBS:
        raise bad_request("Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY")
    method: dict[str, Any] = {
        "httpMethod": verb,
        "authorizationType": params.get("authorizationType") or "NONE",
        "apiKeyRequired": bool(params.get("apiKeyRequired")),
    }
    for name in ("authorizerId", "requestValidatorId", "operationName"):
        if params.get(name):
            method[name] = params[name]
    if params.get("requestParameters"):
        method["requestParameters"] = request_parameters(params["requestParameters"])
    if params.get("requestModels"):
        method["requestModels"] = dict(params["requestModels"])
    if params.get("authorizationScopes"):
        method["authorizationScopes"] = list(params["authorizationScopes"])
    check_method(api, method)
    return method


def response_record(params: dict[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {"statusCode": params["statusCode"]}
    if params.get("responseParameters") is not None:
        record["responseParameters"] = {k: bool(v) for k, v in params["responseParameters"].items()}
    if params.get("responseModels") is not None:
        record["responseModels"] = dict(params["responseModels"])
    return record


class MethodsApi:
    state: RestApiState

    def _method_missing(self):
        return not_found(RESOURCE_NOT_FOUND)

    async def put_method(self, params: dict, ctx: RequestContext) -> dict:
        verb = params["httpMethod"]
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"], self._method_missing()) as api:
            resource = api.resources.get(params["resourceId"])
            if resource is None:
                raise not_found(RESOURCE_NOT_FOUND)
            method = put_method_record(api, resource["id"], verb, params)
            if verb in (resource.get("methods") or {}):
                raise conflict("Method already exists for this resource")
            resource.setdefault("methods", {})[verb] = method
            return shown_method(method)

    async def get_method(self, params: dict, ctx: RequestContext) -> dict:
        api = self.state.api(ctx.account_id, ctx.region, params["restApiId"], self._method_missing())
        return shown_method(method_of(api, params["resourceId"], params["httpMethod"]))

    async def update_method(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"], self._method_missing()) as api:
            method = method_of(api, params["resourceId"], params["httpMethod"])

            def scopes(change: patch.Change) -> None:
                current = method.setdefault("authorizationScopes", [])
                if change.op == "add" and change.text() not in current:
                    current.append(change.text())
                elif change.op == "remove":
                    method["authorizationScopes"] = [s for s in current if s != change.text()] if change.value else []
                if not method["authorizationScopes"]:
                    method.pop("authorizationScopes")

            def parameter(change: patch.Change) -> None:
                request_parameters({change.names[0]: True})
                table = method.setdefault("requestParameters", {})
                if change.op == "remove":
                    table.pop(change.names[0], None)
                else:
                    table[change.names[0]] = change.flag()
                if not table:
                    method.pop("requestParameters")

            def model(change: patch.Change) -> None:
                table = method.setdefault("requestModels", {})
                if change.op == "remove":
                    table.pop(change.names[0], None)
                else:
                    table[change.names[0]] = change.text()
                if not table:
                    method.pop("requestModels")

            rules = [
                patch.field(method, "authorizationType"),
                patch.field(method, "authorizerId"),
                patch.Rule("/apiKeyRequired", ("replace",), lambda c: method.__setitem__("apiKeyRequired", c.flag())),
                patch.field(method, "operationName"),
                patch.field(method, "requestValidatorId"),
                patch.Rule("/authorizationScopes", ("add", "remove"), scopes),
                patch.Rule("/requestParameters/*", ("add", "remove", "replace"), parameter),
                patch.Rule("/requestModels/*", ("add", "remove", "replace"), model),
            ]
            patch.apply(params.get("patchOperations"), rules)
            check_method(api, method)
            return shown_method(method)

    async def delete_method(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"], self._method_missing()) as api:
            method_of(api, params["resourceId"], params["httpMethod"])
            del api.resources[params["resourceId"]]["methods"][params["httpMethod"]]
        return {}

    # --- method responses --------------------------------------------------------------------

    async def put_method_response(self, params: dict, ctx: RequestContext) -> dict:
        checks.status_code(params["statusCode"])
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"], self._method_missing()) as api:
            method = method_of(api, params["resourceId"], params["httpMethod"])
            for name in (params.get("responseModels") or {}).values():
                if name not in api.models:
                    raise bad_request(f"Invalid model identifier specified: {name}")
            record = response_record(params)
            method.setdefault("methodResponses", {})[params["statusCode"]] = record
            return copy.deepcopy(record)

    def _method_response(self, api: RestApi, params: dict) -> dict[str, Any]:
        method = method_of(api, params["resourceId"], params["httpMethod"])
        record = (method.get("methodResponses") or {}).get(params["statusCode"])
        if record is None:
            raise not_found(RESPONSE_NOT_FOUND)
        return record

    async def get_method_response(self, params: dict, ctx: RequestContext) -> dict:
        checks.status_code(params["statusCode"])
        api = self.state.api(ctx.account_id, ctx.region, params["restApiId"], self._method_missing())
        return copy.deepcopy(self._method_response(api, params))

    async def update_method_response(self, params: dict, ctx: RequestContext) -> dict:
        checks.status_code(params["statusCode"])
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"], self._method_missing()) as api:
            record = self._method_response(api, params)
            rules = [
                patch.entry(record, "responseParameters", lambda c: c.flag(), missing=PARAMETER_NOT_FOUND),
                patch.entry(record, "responseModels", missing=CONTENT_TYPE_NOT_FOUND),
            ]
            patch.apply(params.get("patchOperations"), rules)
            for name in (record.get("responseModels") or {}).values():
                if name not in api.models:
                    raise bad_request(f"Invalid model identifier specified: {name}")
            return copy.deepcopy(record)

    async def delete_method_response(self, params: dict, ctx: RequestContext) -> dict:
        checks.status_code(params["statusCode"])
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"], self._method_missing()) as api:
            self._method_response(api, params)
            method = method_of(api, params["resourceId"], params["httpMethod"])
            del method["methodResponses"][params["statusCode"]]
        return {}
