"""Resources: CreateResource, GetResource, GetResources (embed=methods), UpdateResource
(/parentId, /pathPart), DeleteResource (with everything under it).

A path part is a name (a-zA-Z0-9._-), `{param}` or a greedy `{param+}`. Under one parent,
names are unique ("Another resource with the same parent already has this name: x"), one
variable part of each kind at most (one at all under the root), and a greedy part has no
children.
"""

from __future__ import annotations

import re
from typing import Any

from ..api_gateway_errors import bad_request, conflict, not_found
from ..context import RequestContext
from . import patch
from .errors import RESOURCE_NOT_FOUND
from .ids import new_id
from .methods import shown_method
from .paging import listed
from .state import RestApi, RestApiState

_PART = re.compile(r"^(?:[A-Za-z0-9._-]+|\{[A-Za-z0-9._-]+\+?\})$")


def resource_of(api: RestApi, resource_id: str) -> dict[str, Any]:
    resource = api.resources.get(resource_id)
    if resource is None:
        raise not_found(RESOURCE_NOT_FOUND)
    return resource


def shown(api: RestApi, resource: dict[str, Any], embed: bool, path: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": resource["id"]}
    if resource.get("parentId"):
        out["parentId"] = resource["parentId"]
        out["pathPart"] = resource["pathPart"]
    out["path"] = path if path is not None else api.path_of(resource["id"])
    methods = resource.get("methods") or {}
    if methods:
        out["resourceMethods"] = {verb: (shown_method(m) if embed else {}) for verb, m in methods.items()}
    return out


def variable(part: str) -> bool:
    return part.startswith("{")


def greedy(part: str) -> bool:
    return part.endswith("+}")


def check_place(api: RestApi, parent_id: str, part: str, moving: str | None = None) -> None:
    """May a resource named `part` live under `parent_id` (`moving`: the resource being
    moved or renamed, not its own sibling)?"""
    if not _PART.match(part or ""):
        raise bad_request(
            "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an "
            "optional plus sign before the closing brace."
        )
    parent = resource_of(api, parent_id)
    if parent.get("pathPart") and greedy(parent["pathPart"]):
        raise bad_request(f"Cannot create a child of a resource with a greedy path variable: {parent['pathPart']}")
    for sibling in api.children(parent_id):
        if sibling["id"] == moving:
            continue
        if sibling["pathPart"] == part:
            raise conflict(f"Another resource with the same parent already has this name: {part}")
        # AWS allows {x} beside {y+} except at the root (as recorded against AWS).
        same_kind = greedy(part) == greedy(sibling["pathPart"]) or parent_id == api.root_id
        if variable(part) and variable(sibling["pathPart"]) and same_kind:
            raise bad_request(
                f"A sibling ({sibling['pathPart']}) of this resource already has a variable path part -- "
                "only one is allowed"
            )


def add_resource(api: RestApi, parent_id: str, part: str) -> dict[str, Any]:
    check_place(api, parent_id, part)
    resource = {"id": new_id(taken=api.resources), "parentId": parent_id, "pathPart": part, "methods": {}}
    api.resources[resource["id"]] = resource
    return resource


class ResourcesApi:
    state: RestApiState

    async def create_resource(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"]) as api:
            resource = add_resource(api, params["parentId"], params["pathPart"])
            return shown(api, resource, embed=False)

    async def get_resource(self, params: dict, ctx: RequestContext) -> dict:
        api = self.state.api(ctx.account_id, ctx.region, params["restApiId"], not_found(RESOURCE_NOT_FOUND))
        embed = "methods" in (params.get("embed") or [])
        return shown(api, resource_of(api, params["resourceId"]), embed)

    async def get_resources(self, params: dict, ctx: RequestContext) -> dict:
        api = self.state.api(ctx.account_id, ctx.region, params["restApiId"])
        embed = "methods" in (params.get("embed") or [])
        paths = api.paths()
        order = sorted(paths, key=lambda rid: (paths[rid], rid))
        return listed(order, lambda rid: shown(api, api.resources[rid], embed, paths[rid]), params)

    async def update_resource(self, params: dict, ctx: RequestContext) -> dict:
        missing = not_found(RESOURCE_NOT_FOUND)
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"], missing) as api:
            resource = resource_of(api, params["resourceId"])
            root = resource["id"] == api.root_id

            def parent(change: patch.Change) -> None:
                if root:
                    raise bad_request("Root resource cannot update its parentId.")
                new_parent = change.text()
                resource_of(api, new_parent)
                if new_parent == resource["id"] or new_parent in api.descendants(resource["id"]):
                    raise bad_request("Resources cannot be cyclical.")
                check_place(api, new_parent, resource["pathPart"], moving=resource["id"])
                resource["parentId"] = new_parent

            def part(change: patch.Change) -> None:
                if root:
                    raise bad_request("Root resource cannot update its pathPart.")
                check_place(api, resource["parentId"], change.text(), moving=resource["id"])
                resource["pathPart"] = change.text()

            rules = [patch.Rule("/parentId", ("replace",), parent), patch.Rule("/pathPart", ("replace",), part)]
            patch.apply(params.get("patchOperations"), rules, style="listed")
            return shown(api, resource, embed=False)

    async def delete_resource(self, params: dict, ctx: RequestContext) -> dict:
        missing = not_found(RESOURCE_NOT_FOUND)
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"], missing) as api:
            resource = resource_of(api, params["resourceId"])
            if resource["id"] == api.root_id:
                raise bad_request("Cannot delete root resource")
            for gone in [resource["id"], *api.descendants(resource["id"])]:
                del api.resources[gone]
        return {}
