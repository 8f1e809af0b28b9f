"""The APIs of API Gateway v2 (HTTP and WebSocket): what they hold, where they are kept, how
they are found and changed.

    kind "apigwv2_api"         key <account>:<region>:<apiId>
                               the API and everything under it but its deployments: routes,
                               integrations, authorizers, models, route and integration
                               responses, stages, tags
    kind "apigwv2_deployment"  key <account>:<region>:<apiId>/<deploymentId>
                               a deployment: its description and the snapshot it serves

The owner is `ApiGatewayState`, an `ApiOwner` (../api_gateway_apis.py: the APIs per
account and region and by id, unique across them; every change an edit of a copy, written
with the deployments it made or dropped before it is installed). A change to what a
deployment snapshots (routes, integrations, authorizers, models, responses) marks the copy
`changed`, and every AutoDeploy stage then gets a new deployment in the same write, as
AWS deploys them.

The data plane reads `serving(api_id)` (served.py): the configuration each stage serves,
built once per change of the API and cached.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from ..api_gateway_apis import ApiOwner, ApiRecord, now
from ..api_gateway_errors import bad_request
from .errors import child_not_found
from .ids import DEPLOYMENT_ID_LENGTH, new_id
from .served import ServedApi, served_api

API_KIND, DEPLOYMENT_KIND = "apigwv2_api", "apigwv2_deployment"
# What a deployment holds of its API.
SNAPSHOT = ("routes", "integrations", "authorizers", "models", "route_responses", "integration_responses")
AUTO_DESCRIPTION = "Automatic deployment triggered by changes to the Api configuration"


def api_arn(region: str, api_id: str) -> str:
    return f"arn:aws:apigateway:{region}::/apis/{api_id}"


def stage_arn(region: str, api_id: str, stage: str) -> str:
    return f"arn:aws:apigateway:{region}::/apis/{api_id}/stages/{stage}"


@dataclass(frozen=True)
class Deployment:
    deployment_id: str
    created: float
    description: str | None
    auto: bool
    snapshot: dict[str, Any]  # SNAPSHOT's members, as the API held them

    def described(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "DeploymentId": self.deployment_id,
            "CreatedDate": self.created,
            "DeploymentStatus": "DEPLOYED",
            "AutoDeployed": self.auto,
        }
        if self.description is not None:
            out["Description"] = self.description
        return out

    def doc(self) -> dict[str, Any]:
        return {"created": self.created, "description": self.description, "auto": self.auto, "snapshot": self.snapshot}

    @classmethod
    def from_doc(cls, deployment_id: str, doc: dict[str, Any]) -> Deployment:
        return cls(deployment_id, doc["created"], doc.get("description"), doc.get("auto", False), doc["snapshot"])


@dataclass
class Api(ApiRecord):
    """One API (api_gateway_apis.py keeps its spec, tags and deployments). Records are kept
    with AWS's member names (dates as epoch seconds); ids key them. `route_responses` and
    `integration_responses` are keyed by route / integration id."""

    TABLES = (*SNAPSHOT, "stages")

    routes: dict[str, dict[str, Any]] = field(default_factory=dict)
    integrations: dict[str, dict[str, Any]] = field(default_factory=dict)
    authorizers: dict[str, dict[str, Any]] = field(default_factory=dict)
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    route_responses: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    integration_responses: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)
    # --- an edit in progress (not stored) ---
    changed: bool = False  # something a deployment snapshots changed
    deploy_now: set[str] = field(default_factory=set)  # AutoDeploy stages to deploy now anyway

    @property
    def protocol(self) -> str:
        return self.spec["ProtocolType"]

    @property
    def websocket(self) -> bool:
        return self.protocol == "WEBSOCKET"

    @property
    def arn(self) -> str:
        return api_arn(self.region, self.api_id)

    def written(self) -> None:
        super().written()
        self.changed, self.deploy_now = False, set()

    # --- for the operations -------------------------------------------------------------------

    def child(self, table: str, what: str, identifier: str) -> dict[str, Any]:
        record = getattr(self, table).get(identifier)
        if record is None:
            raise child_not_found(what, identifier)
        return record

    def snapshot(self) -> dict[str, Any]:
        return copy.deepcopy({name: getattr(self, name) for name in SNAPSHOT})

    def deploy(self, description: str | None, auto: bool) -> Deployment:
        """A new deployment of what the API holds now (kept when the edit is written)."""
        if not self.routes:
            raise bad_request("Unable to deploy API because no routes exist in this API")
        deployment = Deployment(
            new_id(DEPLOYMENT_ID_LENGTH, self.deployments), now(), description, auto, self.snapshot()
        )
        self.deployments[deployment.deployment_id] = deployment
        self.made.append(deployment)
        return deployment

    def point(self, stage: dict[str, Any], deployment: Deployment) -> None:
        stage["DeploymentId"] = deployment.deployment_id
        stage["LastDeploymentStatusMessage"] = (
            f"Successfully deployed stage with deployment ID '{deployment.deployment_id}'"
        )
        stage["LastUpdatedDate"] = now()

    def auto_deploy(self) -> None:
        """Every AutoDeploy stage gets a deployment of the changed configuration."""
        for name, stage in self.stages.items():
            if stage.get("AutoDeploy") and (self.changed or name in self.deploy_now) and self.routes:
                self.point(stage, self.deploy(AUTO_DESCRIPTION, auto=True))


class ApiGatewayState(ApiOwner[Api]):
    """The owner of API Gateway v2's APIs (api_gateway_apis.py: finding, editing, caching
    what they serve); every write of an edit first deploys its AutoDeploy stages."""

    api_kind, deployment_kind = API_KIND, DEPLOYMENT_KIND
    record, deployment = Api, Deployment

    def _serve(self, api: Api) -> ServedApi:
        return served_api(api)

    async def save(self, draft: Api) -> None:
        draft.auto_deploy()
        await super().save(draft)
