"""CreateAlias, GetAlias, UpdateAlias, DeleteAlias, ListAliases.

RoutingConfig.AdditionalVersionWeights sends that share of invocations of the alias to a
second version (LambdaState.resolve draws the version at invoke time).
"""

from __future__ import annotations

from ...errors import conflict, invalid_parameter, not_found
from ...store.base import Delete, Put
from ..context import RequestContext
from .arns import FunctionRef, function_arn, function_ref
from .function_urls import UrlIndex, drop_alias_url
from .paging import page
from .provisioned import Provisioning, drop_provisioned_configs, follow_alias
from .state import LATEST, LambdaState, check_revision, new_revision


async def _check_target(state: LambdaState, ref: FunctionRef, version: str, routing: dict | None) -> None:
    if version != LATEST and await state.find_version(ref, version) is None:
        raise not_found(f"Function not found: {function_arn(ref.region, ref.account, ref.name, version)}")
    weights = (routing or {}).get("AdditionalVersionWeights") or {}
    if len(weights) > 1:
        raise invalid_parameter("Number of items in AdditionalVersionWeights cannot be greater than 1")
    for extra, weight in weights.items():
        if not 0.0 <= weight <= 1.0:
            raise invalid_parameter("Routing weights must be between 0.0 and 1.0")
        if extra == version:
            raise invalid_parameter(
                "Invalid function version "
                f"{extra}. Function version {extra} is already included in routing configuration."
            )
        if version == LATEST or extra == LATEST:
            raise invalid_parameter("$LATEST is not supported for an alias pointing to more than 1 version")
        if await state.find_version(ref, extra) is None:
            raise not_found(f"Function not found: {function_arn(ref.region, ref.account, ref.name, extra)}")


async def _alias(state: LambdaState, ref: FunctionRef, name: str) -> dict:
    await state.function(ref)
    alias = await state.find_alias(ref, name)
    if alias is None:
        raise not_found(f"Cannot find alias arn: {function_arn(ref.region, ref.account, ref.name, name)}")
    return alias


class AliasesApi:
    state: LambdaState
    urls: UrlIndex
    provisioning: Provisioning

    async def create_alias(self, params: dict, ctx: RequestContext) -> dict:
        ref = function_ref(params, ctx)
        await self.state.function(ref)
        name = params["Name"]
        if await self.state.find_alias(ref, name) is not None:
            raise conflict(f"Alias already exists: {function_arn(ref.region, ref.account, ref.name, name)}")
        await _check_target(self.state, ref, params["FunctionVersion"], params.get("RoutingConfig"))
        alias = {
            "AliasArn": function_arn(ref.region, ref.account, ref.name, name),
            "Name": name,
            "FunctionVersion": params["FunctionVersion"],
            "Description": params.get("Description", ""),
            "RevisionId": new_revision(),
        }
        if params.get("RoutingConfig"):
            alias["RoutingConfig"] = params["RoutingConfig"]
        await self.state.write([Put("function_alias", f"{ref.key}:{name}", alias)])
        return alias

    async def get_alias(self, params: dict, ctx: RequestContext) -> dict:
        return await _alias(self.state, function_ref(params, ctx), params["Name"])

    async def update_alias(self, params: dict, ctx: RequestContext) -> dict:
        ref = function_ref(params, ctx)
        alias = dict(await _alias(self.state, ref, params["Name"]))
        check_revision(alias, params.get("RevisionId"))
        version = params.get("FunctionVersion", alias["FunctionVersion"])
        routing = params.get("RoutingConfig", alias.get("RoutingConfig"))
        await _check_target(self.state, ref, version, routing)
        previous = alias["FunctionVersion"]
        alias["FunctionVersion"] = version
        if "Description" in params:
            alias["Description"] = params["Description"]
        if "RoutingConfig" in params:
            if (params["RoutingConfig"] or {}).get("AdditionalVersionWeights"):
                alias["RoutingConfig"] = params["RoutingConfig"]
            else:
                alias.pop("RoutingConfig", None)
        alias["RevisionId"] = new_revision()
        await self.state.write([Put("function_alias", f"{ref.key}:{alias['Name']}", alias)])
        if previous != version:
            await follow_alias(self.provisioning, ref, alias["Name"], previous, version)
        return alias

    async def delete_alias(self, params: dict, ctx: RequestContext) -> dict:
        ref = function_ref(params, ctx)
        await self.state.function(ref)
        await self.state.write([Delete("function_alias", f"{ref.key}:{params['Name']}")])
        # As on AWS, the alias's provisioned concurrency and its function URL go with it.
        await drop_provisioned_configs(self.provisioning, ref, [params["Name"]])
        await drop_alias_url(self.state, self.urls, ref, params["Name"])
        return {}

    async def list_aliases(self, params: dict, ctx: RequestContext) -> dict:
        ref = function_ref(params, ctx)
        await self.state.function(ref)
        aliases = await self.state.aliases(ref)
        if params.get("FunctionVersion"):
            aliases = [a for a in aliases if a["FunctionVersion"] == params["FunctionVersion"]]
        return page(aliases, params, "Aliases")
