"""CreateStage, GetStage(s), UpdateStage, DeleteStage, DeleteAccessLogSettings,
DeleteRouteSettings, ResetAuthorizersCache.

A stage serves a deployment (DeploymentId). With AutoDeploy it gets a new deployment on
every change of the API's configuration (state.py), and one when it is made or switched to
AutoDeploy. `$default` (HTTP APIs) is served at the root of the API's host; another stage
under /<stageName>. Stage variables, route settings (throttling, metrics, WebSocket's
logging) and access logging apply without a deployment.
"""

from __future__ import annotations

import re
from typing import Any

from ..api_gateway_apis import now
from ..api_gateway_errors import bad_request, conflict, not_found
from ..context import RequestContext
from . import checks
from .errors import child_not_found, stage_not_found
from .paging import listed
from .state import Api, ApiGatewayState

_STAGE_NAME = re.compile(r"^[a-zA-Z0-9_\-]{1,128}$")
_VARIABLE_NAME = re.compile(r"^[a-zA-Z0-9_]{1,64}$")
_VARIABLE_VALUE = re.compile(r"^[A-Za-z0-9\-._~:/?#&=,]{0,2048}$")
_LOG_GROUP = re.compile(r"^arn:aws[a-zA-Z-]*:logs:[a-z0-9\-]+:[0-9]{12}:log-group:[\w\-./#]{1,512}(:\*)?$")
MAX_STAGES = 10


def _stage_name(api: Api, name: str) -> None:
    if name == "$default":
        if api.websocket:
            raise bad_request("Stage name $default is supported only for HTTP APIs")
        return
    if not _STAGE_NAME.match(name):
        raise bad_request("Stage name only allows a-zA-Z0-9_-")


def _variables(given: dict[str, str]) -> dict[str, str]:
    for name, value in given.items():
        if not _VARIABLE_NAME.match(name):
            raise bad_request(
                f"Stage variable name {name} is invalid: it must be 1 to 64 letters, digits or underscores"
            )
        if not _VARIABLE_VALUE.match(value):
            raise bad_request(
                f"Stage variable value {value} is invalid: it must match [A-Za-z0-9-._~:/?#&=,]+ "
                "and be at most 2048 characters long"
            )
    return dict(given)


def _route_settings(api: Api, settings: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in settings.items() if v is not None}
    if not api.websocket and ("DataTraceEnabled" in out or "LoggingLevel" in out):
        if out.get("DataTraceEnabled") or out.get("LoggingLevel") not in (None, "OFF"):
            raise bad_request("Execution logs are not supported on protocolType HTTP")
    level = out.get("LoggingLevel")
    if level is not None and level not in ("ERROR", "INFO", "OFF"):
        raise bad_request(f"Invalid logging level specified: {level}")
    if out.get("ThrottlingBurstLimit", 0) < 0:
        raise bad_request("ThrottlingBurstLimit must be greater than or equal to 0")
    if out.get("ThrottlingRateLimit", 0) < 0:
        raise bad_request("ThrottlingRateLimit must be greater than or equal to 0")
    return out


def _per_route(api: Api, given: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    keys = {route["RouteKey"] for route in api.routes.values()}
    for key in given:
        if key not in keys:
            raise not_found(f"Unable to find Route by key {key} within the provided RouteSettings")
    return {key: _route_settings(api, settings) for key, settings in given.items()}


def _access_logs(given: dict[str, Any]) -> dict[str, Any]:
    destination, fmt = given.get("DestinationArn"), given.get("Format")
    if destination is None or fmt is None:
        raise bad_request("Access log destination and format must both be specified")
    if not _LOG_GROUP.match(destination):
        raise bad_request(f"Invalid CloudWatch Logs log group ARN specified: {destination}")
    if "$context.requestId" not in fmt and "$context.extendedRequestId" not in fmt:
        raise bad_request("Access Log format must contain either $context.requestId or $context.extendedRequestId")
    return {"DestinationArn": destination.removesuffix(":*"), "Format": fmt}


def _apply(api: Api, stage: dict[str, Any], params: dict[str, Any]) -> None:
    """The members of Create/UpdateStage given, checked, onto the stage."""
    if params.get("Description") is not None:
        checks.description(params["Description"])
        stage["Description"] = params["Description"]
    if params.get("ClientCertificateId") is not None:
        stage["ClientCertificateId"] = params["ClientCertificateId"]
    if params.get("StageVariables") is not None:
        stage["StageVariables"] = _variables(params["StageVariables"])
    if params.get("DefaultRouteSettings") is not None:
        stage["DefaultRouteSettings"] = _route_settings(api, params["DefaultRouteSettings"])
    if params.get("RouteSettings") is not None:
        stage["RouteSettings"] = {**stage.get("RouteSettings", {}), **_per_route(api, params["RouteSettings"])}
    if params.get("AccessLogSettings") is not None:
        stage["AccessLogSettings"] = _access_logs(params["AccessLogSettings"])
    if params.get("AutoDeploy") is not None:
        if params["AutoDeploy"] and not stage.get("AutoDeploy"):
            api.deploy_now.add(stage["StageName"])
        stage["AutoDeploy"] = params["AutoDeploy"]
    deployment_id = params.get("DeploymentId")
    if deployment_id is not None:
        deployment = api.deployments.get(deployment_id)
        if deployment is None:
            raise child_not_found("Deployment", deployment_id)
        api.point(stage, deployment)


def stage_record(api: Api, name: str, managed: bool = False) -> dict[str, Any]:
    moment = now()
    stage: dict[str, Any] = {
        "StageName": name,
        "AutoDeploy": False,
        "CreatedDate": moment,
        "LastUpdatedDate": moment,
        "DefaultRouteSettings": {"DetailedMetricsEnabled": False},
        "RouteSettings": {},
        "StageVariables": {},
        "Tags": {},
    }
    if api.websocket:
        stage["DefaultRouteSettings"] = {
            "DataTraceEnabled": False,
            "DetailedMetricsEnabled": False,
            "LoggingLevel": "OFF",
        }
    if managed:
        stage["ApiGatewayManaged"] = True
    return stage


class StagesApi:
    state: ApiGatewayState

    async def create_stage(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["ApiId"]) as api:
            name = params["StageName"]
            _stage_name(api, name)
            if name in api.stages:
                raise conflict(f"Stage {name} already exists")
            if len(api.stages) >= MAX_STAGES:
                raise bad_request(f"The maximum number of stages per API ({MAX_STAGES}) has been reached")
            stage = stage_record(api, name)
            stage["Tags"] = checks.tags(params.get("Tags"))
            _apply(api, stage, params)
            api.stages[name] = stage
        return dict(self.state.api(ctx.account_id, ctx.region, params["ApiId"]).stages[name])

    async def get_stage(self, params: dict, ctx: RequestContext) -> dict:
        api = self.state.api(ctx.account_id, ctx.region, params["ApiId"])
        stage = api.stages.get(params["StageName"])
        if stage is None:
            raise stage_not_found(params["StageName"])
        return dict(stage)

    async def get_stages(self, params: dict, ctx: RequestContext) -> dict:
        return listed(self.state.api(ctx.account_id, ctx.region, params["ApiId"]).stages, params)

    async def update_stage(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["ApiId"]) as api:
            stage = self._stage(api, params["StageName"])
            _apply(api, stage, params)
            stage["LastUpdatedDate"] = now()
        return dict(self.state.api(ctx.account_id, ctx.region, params["ApiId"]).stages[params["StageName"]])

    async def delete_stage(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["ApiId"]) as api:
            self._stage(api, params["StageName"])
            del api.stages[params["StageName"]]
        return {}

    async def delete_access_log_settings(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["ApiId"]) as api:
            self._stage(api, params["StageName"]).pop("AccessLogSettings", None)
        return {}

    async def delete_route_settings(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["ApiId"]) as api:
            settings = self._stage(api, params["StageName"]).get("RouteSettings") or {}
            if params["RouteKey"] not in settings:
                raise not_found(f"Unable to find Route by key {params['RouteKey']} within the provided RouteSettings")
            del settings[params["RouteKey"]]
        return {}

    async def reset_authorizers_cache(self, params: dict, ctx: RequestContext) -> dict:
        api = self.state.api(ctx.account_id, ctx.region, params["ApiId"])
        self._stage(api, params["StageName"])
        self.state.drop_authorizer_cache(api.api_id, params["StageName"])
        return {}

    @staticmethod
    def _stage(api: Api, name: str) -> dict[str, Any]:
        stage = api.stages.get(name)
        if stage is None:
            raise stage_not_found(name)
        return stage
