"""CreateRestApi, GetRestApi, GetRestApis, UpdateRestApi, DeleteRestApi.

A new API has its root resource "/" (an id of 10 characters), the models Empty and Error,
endpointConfiguration EDGE/ipv4 unless given (PRIVATE: dualstack), apiKeySource HEADER.
The policy is shown as AWS shows it: its JSON with the quotes backslash-escaped.
"""

from __future__ import annotations

import copy
from typing import Any

from ..api_gateway_apis import now
from ..api_gateway_errors import bad_request
from ..context import RequestContext
from . import checks, patch
from .ids import LONG, SHORT, new_id
from .models import default_models
from .paging import listed
from .state import RestApi, RestApiState

_ENDPOINT_TYPES = ("REGIONAL", "EDGE", "PRIVATE")


def described(api: RestApi, always_tags: bool = False) -> dict[str, Any]:
    spec = api.spec
    out: dict[str, Any] = {"id": api.api_id, "name": spec["name"], "createdDate": spec["createdDate"]}
    for name in ("description", "version", "warnings", "binaryMediaTypes", "minimumCompressionSize"):
        if spec.get(name) is not None and spec.get(name) != []:
            out[name] = copy.deepcopy(spec[name])
    out["apiKeySource"] = spec.get("apiKeySource", "HEADER")
    out["endpointConfiguration"] = copy.deepcopy(spec["endpointConfiguration"])
    if spec.get("policy"):
        out["policy"] = checks.shown_policy(spec["policy"])
    if api.tags or always_tags:
        out["tags"] = dict(api.tags)
    out["disableExecuteApiEndpoint"] = bool(spec.get("disableExecuteApiEndpoint"))
    out["rootResourceId"] = api.root_id
    return out


def endpoint_configuration(given: dict[str, Any] | None) -> dict[str, Any]:
    config = copy.deepcopy(given) if given else {}
    types = config.get("types")
    if types is None:
        types = ["EDGE"]
    if not types:
        raise bad_request("REGIONAL Configuration and EDGE Configuration cannot be both DISABLED.")
    if len(types) > 1:
        raise bad_request("Cannot create an api with multiple Endpoint Types.")
    if types[0] not in _ENDPOINT_TYPES:
        raise bad_request("Invalid EndpointTypes specified. Valid options are REGIONAL,EDGE,PRIVATE")
    config["types"] = list(types)
    private = types[0] == "PRIVATE"
    address = config.get("ipAddressType") or ("dualstack" if private else "ipv4")
    if address not in ("ipv4", "dualstack"):
        raise bad_request("ipAddressType must be either ipv4 or dualstack.")
    if private and address != "dualstack":
        raise bad_request("Only dualstack ipAddressType is supported for Private APIs.")
    config["ipAddressType"] = address
    if not config.get("vpcEndpointIds"):
        config.pop("vpcEndpointIds", None)
    return config


def new_spec(params: dict[str, Any]) -> dict[str, Any]:
    """The API-level settings of a CreateRestApi (or an import), checked."""
    checks.description(params.get("description"))
    spec: dict[str, Any] = {"name": params["name"], "createdDate": now()}
    for name in ("description", "version"):
        if params.get(name) is not None:
            spec[name] = params[name]
    if params.get("binaryMediaTypes"):
        spec["binaryMediaTypes"] = list(params["binaryMediaTypes"])
    if params.get("minimumCompressionSize") is not None:
        spec["minimumCompressionSize"] = checks.compression(params["minimumCompressionSize"])
    spec["apiKeySource"] = checks.api_key_source(params.get("apiKeySource") or "HEADER")
    spec["endpointConfiguration"] = endpoint_configuration(params.get("endpointConfiguration"))
    spec["policy"] = checks.policy(params.get("policy"))
    spec["disableExecuteApiEndpoint"] = bool(params.get("disableExecuteApiEndpoint"))
    return spec


def new_api(state: RestApiState, ctx: RequestContext, spec: dict[str, Any], tags: dict[str, str]) -> RestApi:
    """An API with its root resource and default models (not yet stored)."""
    root = new_id(LONG)
    spec["rootResourceId"] = root
    api = RestApi(ctx.account_id, ctx.region, new_id(LONG, state.by_id), spec, tags)
    api.resources[root] = {"id": root, "methods": {}}
    api.models = default_models(api)
    return api


def clone_into(api: RestApi, source: RestApi) -> None:
    """cloneFrom: the source's resources (fresh ids), authorizers, validators, models and
    gateway responses."""
    ids = {source.root_id: api.root_id}
    for rid in source.resources:
        ids.setdefault(rid, new_id(SHORT, ids.values()))
    resources = {}
    for rid, resource in copy.deepcopy(source.resources).items():
        resource["id"] = ids[rid]
        if resource.get("parentId"):
            resource["parentId"] = ids[resource["parentId"]]
        for method in (resource.get("methods") or {}).values():
            integration = method.get("methodIntegration")
            if integration and integration.get("cacheNamespace") == rid:
                integration["cacheNamespace"] = ids[rid]
        resources[ids[rid]] = resource
    api.resources = resources
    api.authorizers = copy.deepcopy(source.authorizers)
    api.validators = copy.deepcopy(source.validators)
    api.models = copy.deepcopy(source.models)
    api.gateway_responses = copy.deepcopy(source.gateway_responses)


def update_rules(api: RestApi) -> list[patch.Rule]:
    spec = api.spec
    config = spec["endpointConfiguration"]

    def name(change: patch.Change) -> None:
        if not change.value:
            raise bad_request("Name cannot be empty")
        spec["name"] = change.value

    def description(change: patch.Change) -> None:
        if change.value:
            spec["description"] = change.value
        else:
            spec.pop("description", None)

    def compression(change: patch.Change) -> None:
        if change.value in (None, ""):
            spec.pop("minimumCompressionSize", None)
        else:
            spec["minimumCompressionSize"] = checks.compression(change.value)

    def media_type(change: patch.Change) -> None:
        types = spec.setdefault("binaryMediaTypes", [])
        target = change.names[0]
        if change.op == "add":
            if target not in types:
                types.append(target)
        elif change.op == "remove":
            if target in types:
                types.remove(target)
        else:
            new = patch.unescape(change.text())
            spec["binaryMediaTypes"] = [new if t == target else t for t in types]
            if target not in types and new not in types:
                spec["binaryMediaTypes"].append(new)
        if not spec["binaryMediaTypes"]:
            spec.pop("binaryMediaTypes")

    def endpoint_type(change: patch.Change) -> None:
        if change.text() not in _ENDPOINT_TYPES:
            raise bad_request("Invalid EndpointTypes specified. Valid options are REGIONAL,EDGE,PRIVATE")
        config["types"] = [change.text()]
        if change.text() == "PRIVATE":
            config["ipAddressType"] = "dualstack"

    def address(change: patch.Change) -> None:
        if change.text() not in ("ipv4", "dualstack"):
            raise bad_request("ipAddressType must be either ipv4 or dualstack.")
        if config["types"] == ["PRIVATE"] and change.text() != "dualstack":
            raise bad_request("Only dualstack ipAddressType is supported for Private APIs.")
        config["ipAddressType"] = change.text()

    def vpc_endpoint(change: patch.Change) -> None:
        ids = config.setdefault("vpcEndpointIds", [])
        if change.op == "remove":
            config["vpcEndpointIds"] = [i for i in ids if i != change.text()]
        elif change.text() not in ids:
            ids.append(change.text())
        if not config["vpcEndpointIds"]:
            config.pop("vpcEndpointIds")

    return [
        patch.Rule("/name", ("replace",), name),
        patch.Rule("/description", ("replace",), description),
        patch.Rule("/version", ("replace",), lambda c: spec.__setitem__("version", c.text())),
        patch.Rule("/policy", ("replace",), lambda c: spec.__setitem__("policy", checks.policy(c.value))),
        patch.Rule(
            "/apiKeySource", ("replace",), lambda c: spec.__setitem__("apiKeySource", checks.api_key_source(c.text()))
        ),
        patch.Rule("/minimumCompressionSize", ("replace",), compression),
        patch.Rule(
            "/disableExecuteApiEndpoint",
            ("replace",),
            lambda c: spec.__setitem__("disableExecuteApiEndpoint", c.flag()),
        ),
        patch.Rule("/binaryMediaTypes/*", ("add", "remove", "replace"), media_type),
        patch.Rule(
            "/endpointConfiguration/types/*",
            ("replace",),
            endpoint_type,
            op_error="Invalid patch operation specified. Must be 'add'|'remove'|'replace'",
        ),
        patch.Rule("/endpointConfiguration/ipAddressType", ("replace",), address),
        patch.Rule("/endpointConfiguration/vpcEndpointIds", ("add", "remove", "replace"), vpc_endpoint),
    ]


class RestApisApi:
    state: RestApiState

    async def create_rest_api(self, params: dict, ctx: RequestContext) -> dict:
        spec = new_spec(params)
        api = new_api(self.state, ctx, spec, checks.tags(params.get("tags")))
        if params.get("cloneFrom"):
            clone_into(api, self.state.api(ctx.account_id, ctx.region, params["cloneFrom"]))
        await self.state.create(api)
        return described(api)

    async def get_rest_api(self, params: dict, ctx: RequestContext) -> dict:
        return described(self.state.api(ctx.account_id, ctx.region, params["restApiId"]))

    async def get_rest_apis(self, params: dict, ctx: RequestContext) -> dict:
        apis = self.state.apis_of(ctx.account_id, ctx.region)
        order = sorted(apis, key=lambda i: (apis[i].spec["createdDate"], i))
        return listed(order, lambda i: described(apis[i]), params)

    async def update_rest_api(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"]) as api:
            patch.apply(params.get("patchOperations"), update_rules(api))
        return described(self.state.api(ctx.account_id, ctx.region, params["restApiId"]), always_tags=True)

    async def delete_rest_api(self, params: dict, ctx: RequestContext) -> dict:
        await self.state.delete(self.state.api(ctx.account_id, ctx.region, params["restApiId"]))
        return {}
