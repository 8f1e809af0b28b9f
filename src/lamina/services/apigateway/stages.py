"""Stages: CreateStage, GetStage, GetStages (by deploymentId), UpdateStage, DeleteStage,
FlushStageCache, FlushStageAuthorizersCache.

A stage points at a deployment and holds its live settings: variables, methodSettings
(keyed "<escaped resource path>/<method>", "*/*" for all; each as a whole MethodSetting
with AWS's defaults once touched), accessLogSettings, tracing, caching, canarySettings,
tags. UpdateStage's paths: /description, /deploymentId, /cacheClusterEnabled,
/cacheClusterSize, /clientCertificateId, /documentationVersion, /tracingEnabled,
/webAclArn, /variables/<name>, /accessLogSettings/format|destinationArn (remove
/accessLogSettings), /<path>/<method>/<setting> (metrics/enabled, logging/loglevel,
logging/dataTrace, throttling/burstLimit, throttling/rateLimit, caching/enabled,
caching/ttlInSeconds, caching/dataEncrypted, caching/requireAuthorizationForCacheControl,
caching/unauthorizedCacheControlHeaderStrategy; remove /<path>/<method>), and
/canarySettings/... (copy /canarySettings/deploymentId to /deploymentId promotes it).
"""

from __future__ import annotations

import copy
from typing import Any

from ..api_gateway_apis import now
from ..api_gateway_errors import bad_request, conflict, not_found
from ..context import RequestContext
from . import checks, patch
from .errors import DEPLOYMENT_NOT_FOUND, STAGE_NOT_FOUND
from .state import RestApi, RestApiState

DEFAULT_METHOD_SETTING: dict[str, Any] = {
    "metricsEnabled": False,
    "loggingLevel": "OFF",
    "dataTraceEnabled": False,
    "throttlingBurstLimit": 5000,
    "throttlingRateLimit": 10000.0,
    "cachingEnabled": False,
    "cacheTtlInSeconds": 300,
    "cacheDataEncrypted": False,
    "requireAuthorizationForCacheControl": True,
    "unauthorizedCacheControlHeaderStrategy": "SUCCEED_WITH_RESPONSE_HEADER",
}
CACHE_SIZES = ("0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237")
_STRATEGIES = ("FAIL_WITH_403", "SUCCEED_WITH_RESPONSE_HEADER", "SUCCEED_WITHOUT_RESPONSE_HEADER")


def new_stage(name: str, deployment_id: str, params: dict[str, Any]) -> dict[str, Any]:
    ms = now()
    stage: dict[str, Any] = {
        "stageName": name,
        "deploymentId": deployment_id,
        "cacheClusterEnabled": bool(params.get("cacheClusterEnabled")),
        "methodSettings": {},
        "tracingEnabled": bool(params.get("tracingEnabled")),
        "createdDate": ms,
        "lastUpdatedDate": ms,
    }
    if params.get("cacheClusterSize") is not None:
        stage["cacheClusterSize"] = params["cacheClusterSize"]
    if stage["cacheClusterEnabled"]:
        stage.setdefault("cacheClusterSize", "0.5")
    stage["cacheClusterStatus"] = "AVAILABLE" if stage["cacheClusterEnabled"] else "NOT_AVAILABLE"
    for member in ("description", "documentationVersion"):
        if params.get(member):
            stage[member] = params[member]
    if params.get("variables"):
        stage["variables"] = checks.variables(params["variables"])
    if params.get("canarySettings"):
        stage["canarySettings"] = copy.deepcopy(params["canarySettings"])
    if params.get("tags"):
        stage["tags"] = checks.tags(params["tags"])
    return stage


def point(stage: dict[str, Any], deployment_id: str) -> None:
    stage["deploymentId"] = deployment_id
    stage["lastUpdatedDate"] = now()


def stage_of(api: RestApi, name: str) -> dict[str, Any]:
    stage = api.stages.get(name)
    if stage is None:
        raise not_found(STAGE_NOT_FOUND)
    return stage


def shown(stage: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(stage)


def _setting_rules(stage: dict[str, Any]) -> list[patch.Rule]:
    def setter(member: str, convert):
        def run(change: patch.Change) -> None:
            key = f"{change.raw[0]}/{change.raw[1]}"
            settings = stage.setdefault("methodSettings", {})
            settings.setdefault(key, dict(DEFAULT_METHOD_SETTING))[member] = convert(change)

        return run

    def level(change: patch.Change) -> str:
        value = change.text().upper()
        if value not in ("OFF", "ERROR", "INFO"):
            raise bad_request(f"Invalid logging level specified: {change.text()}. Valid values are OFF, ERROR, INFO")
        return value

    def strategy(change: patch.Change) -> str:
        if change.text() not in _STRATEGIES:
            raise bad_request(f"Invalid unauthorized cache control header strategy: {change.text()}")
        return change.text()

    def remove(change: patch.Change) -> None:
        stage.setdefault("methodSettings", {}).pop(f"{change.raw[0]}/{change.raw[1]}", None)

    table = {
        "metrics/enabled": ("metricsEnabled", lambda c: c.flag()),
        "logging/loglevel": ("loggingLevel", level),
        "logging/dataTrace": ("dataTraceEnabled", lambda c: c.flag()),
        "throttling/burstLimit": ("throttlingBurstLimit", lambda c: c.integer()),
        "throttling/rateLimit": ("throttlingRateLimit", lambda c: c.number()),
        "caching/enabled": ("cachingEnabled", lambda c: c.flag()),
        "caching/ttlInSeconds": ("cacheTtlInSeconds", lambda c: c.integer()),
        "caching/dataEncrypted": ("cacheDataEncrypted", lambda c: c.flag()),
        "caching/requireAuthorizationForCacheControl": ("requireAuthorizationForCacheControl", lambda c: c.flag()),
        "caching/unauthorizedCacheControlHeaderStrategy": ("unauthorizedCacheControlHeaderStrategy", strategy),
    }
    rules = [patch.Rule(f"/*/*/{suffix}", ("replace",), setter(*spec)) for suffix, spec in table.items()]
    rules.append(patch.Rule("/*/*", ("remove",), remove))
    return rules


def update_rules(api: RestApi, stage: dict[str, Any]) -> list[patch.Rule]:
    def deployment(change: patch.Change) -> None:
        if change.op == "copy":
            if change.source != "/canarySettings/deploymentId":
                raise bad_request(f"Invalid copy source {change.source}")
            target = (stage.get("canarySettings") or {}).get("deploymentId")
        else:
            target = change.text()
        if target not in api.deployments:
            raise bad_request(DEPLOYMENT_NOT_FOUND)
        point(stage, target)

    def variable(change: patch.Change) -> None:
        table = stage.setdefault("variables", {})
        if change.op == "remove":
            table.pop(change.names[0], None)
        else:
            table.update(checks.variables({change.names[0]: change.text()}))
        if not table:
            stage.pop("variables")

    def variables_copy(change: patch.Change) -> None:
        if change.source != "/canarySettings/stageVariableOverrides":
            raise bad_request(f"Invalid copy source {change.source}")
        overrides = (stage.get("canarySettings") or {}).get("stageVariableOverrides") or {}
        stage["variables"] = {**(stage.get("variables") or {}), **overrides}

    def access_log(member: str):
        def run(change: patch.Change) -> None:
            stage.setdefault("accessLogSettings", {})[member] = change.text()

        return run

    def cache_enabled(change: patch.Change) -> None:
        stage["cacheClusterEnabled"] = change.flag()
        stage["cacheClusterStatus"] = "AVAILABLE" if change.flag() else "NOT_AVAILABLE"
        if change.flag():
            stage.setdefault("cacheClusterSize", "0.5")

    def cache_size(change: patch.Change) -> None:
        if change.text() not in CACHE_SIZES:
            raise bad_request(f"Invalid cache cluster size specified: {change.text()}")
        stage["cacheClusterSize"] = change.text()

    def canary(member: str, convert):
        def run(change: patch.Change) -> None:
            settings = stage.setdefault("canarySettings", {})
            if change.op == "remove":
                settings.pop(member, None)
            else:
                settings[member] = convert(change)

        return run

    def canary_override(change: patch.Change) -> None:
        table = stage.setdefault("canarySettings", {}).setdefault("stageVariableOverrides", {})
        if change.op == "remove":
            table.pop(change.names[0], None)
        else:
            table[change.names[0]] = change.text()

    return [
        patch.field(stage, "description"),
        patch.Rule("/deploymentId", ("replace", "copy"), deployment),
        patch.Rule("/cacheClusterEnabled", ("replace",), cache_enabled),
        patch.Rule("/cacheClusterSize", ("replace",), cache_size),
        patch.field(stage, "clientCertificateId"),
        patch.field(stage, "documentationVersion"),
        patch.Rule("/tracingEnabled", ("replace",), lambda c: stage.__setitem__("tracingEnabled", c.flag())),
        patch.field(stage, "webAclArn"),
        patch.Rule("/variables/*", ("add", "remove", "replace"), variable),
        patch.Rule("/variables", ("copy",), variables_copy),
        patch.Rule("/accessLogSettings/format", ("replace",), access_log("format")),
        patch.Rule("/accessLogSettings/destinationArn", ("replace",), access_log("destinationArn")),
        patch.Rule("/accessLogSettings", ("remove",), lambda c: stage.pop("accessLogSettings", None)),
        patch.Rule("/canarySettings", ("remove",), lambda c: stage.pop("canarySettings", None)),
        patch.Rule("/canarySettings/percentTraffic", ("replace",), canary("percentTraffic", lambda c: c.number())),
        patch.Rule("/canarySettings/deploymentId", ("replace",), canary("deploymentId", lambda c: c.text())),
        patch.Rule("/canarySettings/useStageCache", ("replace",), canary("useStageCache", lambda c: c.flag())),
        patch.Rule("/canarySettings/stageVariableOverrides/*", ("add", "remove", "replace"), canary_override),
        *_setting_rules(stage),
    ]


class StagesApi:
    state: RestApiState

    async def create_stage(self, params: dict, ctx: RequestContext) -> dict:
        name = params["stageName"]
        checks.stage_name(name)
        checks.description(params.get("description"))
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"]) as api:
            if params["deploymentId"] not in api.deployments:
                raise bad_request(DEPLOYMENT_NOT_FOUND)
            if name in api.stages:
                raise conflict("Stage already exists")
            stage = new_stage(name, params["deploymentId"], params)
            api.stages[name] = stage
            return shown(stage)

    async def get_stage(self, params: dict, ctx: RequestContext) -> dict:
        api = self.state.api(ctx.account_id, ctx.region, params["restApiId"])
        return shown(stage_of(api, params["stageName"]))

    async def get_stages(self, params: dict, ctx: RequestContext) -> dict:
        api = self.state.api(ctx.account_id, ctx.region, params["restApiId"])
        wanted = params.get("deploymentId")
        stages = [shown(s) for _, s in sorted(api.stages.items()) if not wanted or s["deploymentId"] == wanted]
        return {"item": stages}

    async def update_stage(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"]) as api:
            stage = stage_of(api, params["stageName"])
            patch.apply(params.get("patchOperations"), update_rules(api, stage))
            if stage.get("accessLogSettings") is not None and not stage["accessLogSettings"]:
                del stage["accessLogSettings"]
            stage["lastUpdatedDate"] = now()
            return shown(stage)

    async def delete_stage(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"]) as api:
            stage_of(api, params["stageName"])
            del api.stages[params["stageName"]]
        return {}

    async def flush_stage_cache(self, params: dict, ctx: RequestContext) -> dict:
        stage_of(self.state.api(ctx.account_id, ctx.region, params["restApiId"]), params["stageName"])
        return {}

    async def flush_stage_authorizers_cache(self, params: dict, ctx: RequestContext) -> dict:
        stage_of(self.state.api(ctx.account_id, ctx.region, params["restApiId"]), params["stageName"])
        self.state.drop_authorizer_cache(params["restApiId"], params["stageName"])
        return {}
