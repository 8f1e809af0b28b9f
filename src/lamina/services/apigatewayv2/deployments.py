"""CreateDeployment, GetDeployment(s), UpdateDeployment, DeleteDeployment.

A deployment is a snapshot of the API's routes, integrations, authorizers, models and
responses (state.py `Deployment`); a stage serves the one it points at. CreateDeployment
with a StageName points that stage at it. A deployment a stage points at cannot be deleted.
"""

from __future__ import annotations

from ..api_gateway_errors import bad_request
from ..context import RequestContext
from . import checks
from .errors import child_not_found, stage_not_found
from .paging import listed
from .state import ApiGatewayState, Deployment


class DeploymentsApi:
    state: ApiGatewayState

    async def create_deployment(self, params: dict, ctx: RequestContext) -> dict:
        checks.description(params.get("Description"))
        async with self.state.edit(ctx.account_id, ctx.region, params["ApiId"]) as api:
            name = params.get("StageName")
            stage = api.stages.get(name) if name else None
            if name and stage is None:
                raise stage_not_found(name)
            deployment = api.deploy(params.get("Description"), auto=False)
            if stage is not None:
                api.point(stage, deployment)
        return deployment.described()

    async def get_deployment(self, params: dict, ctx: RequestContext) -> dict:
        api = self.state.api(ctx.account_id, ctx.region, params["ApiId"])
        deployment = api.deployments.get(params["DeploymentId"])
        if deployment is None:
            raise child_not_found("Deployment", params["DeploymentId"])
        return deployment.described()

    async def get_deployments(self, params: dict, ctx: RequestContext) -> dict:
        api = self.state.api(ctx.account_id, ctx.region, params["ApiId"])
        return listed({k: d.described() for k, d in api.deployments.items()}, params)

    async def update_deployment(self, params: dict, ctx: RequestContext) -> dict:
        checks.description(params.get("Description"))
        async with self.state.edit(ctx.account_id, ctx.region, params["ApiId"]) as api:
            old = api.deployments.get(params["DeploymentId"])
            if old is None:
                raise child_not_found("Deployment", params["DeploymentId"])
            new = Deployment(
                old.deployment_id, old.created, params.get("Description", old.description), old.auto, old.snapshot
            )
            api.deployments[new.deployment_id] = new
            api.made.append(new)
        return new.described()

    async def delete_deployment(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["ApiId"]) as api:
            deployment_id = params["DeploymentId"]
            if deployment_id not in api.deployments:
                raise child_not_found("Deployment", deployment_id)
            if any(stage.get("DeploymentId") == deployment_id for stage in api.stages.values()):
                raise bad_request("Active stages pointing to this deployment must be moved or deleted")
            del api.deployments[deployment_id]
            api.dropped.append(deployment_id)
        return {}
