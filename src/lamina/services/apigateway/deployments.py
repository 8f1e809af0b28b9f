"""Deployments: CreateDeployment, GetDeployment (embed=apisummary), GetDeployments,
UpdateDeployment (/description), DeleteDeployment.

A deployment is a frozen snapshot of the API (state.py `RestApi.snapshot`: resources with
their methods, integrations and responses, authorizers, validators, models, gateway
responses, and the API-level settings binaryMediaTypes, minimumCompressionSize,
apiKeySource, policy); a stage serves the one it points at. An API with no method, or a
method with no integration, cannot be deployed. CreateDeployment with a stageName points
that stage at the new deployment, making the stage if needed. A deployment a stage points
at cannot be deleted.
"""

from __future__ import annotations

from typing import Any

from ..api_gateway_apis import now
from ..api_gateway_errors import bad_request, not_found
from ..context import RequestContext
from . import checks, patch
from .errors import DEPLOYMENT_NOT_FOUND
from .ids import new_id
from .paging import listed
from .stages import new_stage, point
from .state import Deployment, RestApi, RestApiState


def deploy(api: RestApi, description: str | None) -> Deployment:
    """A new deployment of what the API holds now (kept when the edit is written)."""
    methods = [m for r in api.resources.values() for m in (r.get("methods") or {}).values()]
    if not methods:
        raise bad_request("The REST API doesn't contain any methods")
    if any(m.get("methodIntegration") is None for m in methods):
        raise bad_request("No integration defined for method")
    deployment = Deployment(new_id(taken=api.deployments), now(), description, api.snapshot())
    api.deployments[deployment.deployment_id] = deployment
    api.made.append(deployment)
    return deployment


def deployment_of(api: RestApi, deployment_id: str) -> Deployment:
    deployment = api.deployments.get(deployment_id)
    if deployment is None:
        raise not_found(DEPLOYMENT_NOT_FOUND)
    return deployment


class DeploymentsApi:
    state: RestApiState

    async def create_deployment(self, params: dict, ctx: RequestContext) -> dict:
        checks.description(params.get("description"))
        name = params.get("stageName")
        if name:
            checks.stage_name(name)
        variables = checks.variables(params.get("variables"))
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"]) as api:
            deployment = deploy(api, params.get("description"))
            if name:
                stage = api.stages.get(name)
                if stage is None:
                    stage = new_stage(
                        name,
                        deployment.deployment_id,
                        {**params, "description": params.get("stageDescription"), "variables": variables},
                    )
                    api.stages[name] = stage
                else:
                    point(stage, deployment.deployment_id)
                    if variables:
                        stage["variables"] = {**(stage.get("variables") or {}), **variables}
        return deployment.described()

    async def get_deployment(self, params: dict, ctx: RequestContext) -> dict:
        api = self.state.api(ctx.account_id, ctx.region, params["restApiId"])
        embed = [e.lower() for e in params.get("embed") or []]
        return deployment_of(api, params["deploymentId"]).described(summary="apisummary" in embed)

    async def get_deployments(self, params: dict, ctx: RequestContext) -> dict:
        api = self.state.api(ctx.account_id, ctx.region, params["restApiId"])
        order = sorted(api.deployments, key=lambda d: (api.deployments[d].created, d))
        return listed(order, lambda d: api.deployments[d].described(), params)

    async def update_deployment(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"]) as api:
            old = deployment_of(api, params["deploymentId"])
            holder: dict[str, Any] = {"description": old.description}
            patch.apply(params.get("patchOperations"), [patch.field(holder, "description")])
            new = Deployment(old.deployment_id, old.created, holder.get("description"), old.snapshot)
            api.deployments[new.deployment_id] = new
            api.made.append(new)
        return new.described()

    async def delete_deployment(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"]) as api:
            deployment_id = params["deploymentId"]
            deployment_of(api, deployment_id)
            for stage in api.stages.values():
                canary = stage.get("canarySettings") or {}
                if stage.get("deploymentId") == deployment_id or canary.get("deploymentId") == deployment_id:
                    raise bad_request("Active stages pointing to this deployment must be moved or deleted")
            del api.deployments[deployment_id]
            api.dropped.append(deployment_id)
        return {}
