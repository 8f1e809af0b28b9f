"""The APIs of API Gateway v2 (HTTP and WebSocket): what they hold, where they are kept, how
they are found and changed.

    kind "apigwv2_api"         key <account>:<region>:<apiId>
                               the API and everything under it but its deployments: routes,
                               integrations, authorizers, models, route and integration
                               responses, stages, tags
    kind "apigwv2_deployment"  key <account>:<region>:<apiId>/<deploymentId>
                               a deployment: its description and the snapshot it serves

The owner is `ApiGatewayState`: per account and region (`scopes`) the APIs in memory, and
one index by API id (ids are unique on Lamina, whatever the account or region: an id names
a host of execute-api). A lookup with another account's or region's id is "Invalid API
identifier specified".

Every change goes through `edit()`: a copy of the API is changed, written to the store
(with the deployments it made or dropped) and only then installed, so that readers never
see a half-made change and a failed write changes nothing. A change to what a deployment
snapshots (routes, integrations, authorizers, models, responses) marks the copy
`changed`, and every AutoDeploy stage then gets a new deployment in the same write, as
AWS deploys them.

The data plane reads `serving(api_id)` (served.py): the configuration each stage serves,
built once per change of the API and cached.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from ...store.base import Delete, DeletePrefix, Op, Put, Store
from .errors import api_not_found, bad_request, child_not_found
from .ids import DEPLOYMENT_ID_LENGTH, new_id
from .served import ServedApi, served_api

API_KIND, DEPLOYMENT_KIND = "apigwv2_api", "apigwv2_deployment"
# What a deployment holds of its API.
SNAPSHOT = ("routes", "integrations", "authorizers", "models", "route_responses", "integration_responses")
AUTO_DESCRIPTION = "Automatic deployment triggered by changes to the Api configuration"


def now() -> float:
    return round(time.time(), 3)


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
class Api:
    """One API. Records are kept with AWS's member names (dates as epoch seconds); ids key
    them. `route_responses` and `integration_responses` are keyed by route / integration id."""

    account: str
    region: str
    api_id: str
    spec: dict[str, Any]  # Name, ProtocolType, RouteSelectionExpression, CreatedDate, ...
    tags: dict[str, str] = field(default_factory=dict)
    routes: dict[str, dict[str, Any]] = field(default_factory=dict)
    integrations: dict[str, dict[str, Any]] = field(default_factory=dict)
    authorizers: dict[str, dict[str, Any]] = field(default_factory=dict)
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    route_responses: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    integration_responses: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)
    deployments: dict[str, Deployment] = field(default_factory=dict)
    # --- an edit in progress (not stored) ---
    changed: bool = False  # something a deployment snapshots changed
    deploy_now: set[str] = field(default_factory=set)  # AutoDeploy stages to deploy now anyway
    made: list[Deployment] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.account}:{self.region}:{self.api_id}"

    @property
    def protocol(self) -> str:
        return self.spec["ProtocolType"]

    @property
    def websocket(self) -> bool:
        return self.protocol == "WEBSOCKET"

    @property
    def arn(self) -> str:
        return api_arn(self.region, self.api_id)

    def draft(self) -> Api:
        """A copy to change: the records deep-copied, the deployments (never changed in
        place) shared."""
        return Api(
            self.account,
            self.region,
            self.api_id,
            copy.deepcopy(self.spec),
            dict(self.tags),
            *(copy.deepcopy(getattr(self, name)) for name in (*SNAPSHOT, "stages")),
            dict(self.deployments),
        )

    def doc(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in (*SNAPSHOT, "stages")}
        return {"spec": self.spec, "tags": self.tags, **out}

    @classmethod
    def from_doc(cls, key: str, doc: dict[str, Any]) -> Api:
        account, region, api_id = key.split(":", 2)
        api = cls(account, region, api_id, doc["spec"], doc.get("tags") or {})
        for name in (*SNAPSHOT, "stages"):
            setattr(api, name, doc.get(name) or {})
        return api

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


class ApiGatewayState:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.scopes: dict[tuple[str, str], dict[str, Api]] = {}  # (account, region) -> id -> API
        self.by_id: dict[str, Api] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._served: dict[str, ServedApi | None] = {}
        self._cache_resets: dict[tuple[str, str], int] = {}

    async def load(self) -> None:
        for key, doc in await self.store.scan(API_KIND):
            self._install(Api.from_doc(key, doc))
        for key, doc in await self.store.scan(DEPLOYMENT_KIND):
            scope, deployment_id = key.rsplit("/", 1)
            api = self.by_id.get(scope.rsplit(":", 1)[1])
            if api is not None:
                api.deployments[deployment_id] = Deployment.from_doc(deployment_id, doc)
        self._served.clear()

    def reset(self) -> None:
        self.scopes.clear()
        self.by_id.clear()
        self._locks.clear()
        self._served.clear()
        self._cache_resets.clear()

    # --- finding -----------------------------------------------------------------------------

    def api(self, account: str, region: str, api_id: str) -> Api:
        api = self.by_id.get(api_id)
        if api is None or (api.account, api.region) != (account, region):
            raise api_not_found(account, api_id)
        return api

    def apis_of(self, account: str, region: str) -> dict[str, Api]:
        return self.scopes.get((account, region), {})

    def serving(self, api_id: str) -> ServedApi | None:
        """What the API with this id serves now, whoever owns it (None: no such API). Built
        once per change and cached: cheap to ask on every request."""
        if api_id in self._served:
            return self._served[api_id]
        api = self.by_id.get(api_id)
        served = served_api(api) if api is not None else None
        self._served[api_id] = served
        return served

    def reset_authorizer_cache(self, api_id: str, stage: str) -> None:
        """ResetAuthorizersCache: the data plane drops the stage's cached authorizer results
        when this epoch moves."""
        self._cache_resets[(api_id, stage)] = self._cache_resets.get((api_id, stage), 0) + 1

    def authorizer_cache_epoch(self, api_id: str, stage: str) -> int:
        return self._cache_resets.get((api_id, stage), 0)

    # --- changing ----------------------------------------------------------------------------

    @asynccontextmanager
    async def edit(self, account: str, region: str, api_id: str) -> AsyncIterator[Api]:
        """A draft of the API to change; written (auto-deployments made) and installed when
        the block ends without an error."""
        self.api(account, region, api_id)
        lock = self._locks.setdefault(api_id, asyncio.Lock())
        async with lock:
            draft = self.api(account, region, api_id).draft()
            yield draft
            await self.save(draft)

    async def create(self, api: Api) -> None:
        if api.api_id in self.by_id:
            raise RuntimeError("API id taken")
        await self.save(api)

    async def save(self, draft: Api) -> None:
        draft.auto_deploy()
        ops: list[Op] = [Put(API_KIND, draft.key, draft.doc())]
        ops += [Put(DEPLOYMENT_KIND, f"{draft.key}/{d.deployment_id}", d.doc()) for d in draft.made]
        ops += [Delete(DEPLOYMENT_KIND, f"{draft.key}/{gone}") for gone in draft.dropped]
        await self.store.write(ops)
        draft.changed, draft.made, draft.dropped, draft.deploy_now = False, [], [], set()
        self._install(draft)

    async def delete(self, api: Api) -> None:
        async with self._locks.setdefault(api.api_id, asyncio.Lock()):
            await self.store.write([Delete(API_KIND, api.key), DeletePrefix(DEPLOYMENT_KIND, f"{api.key}/")])
            self.scopes.get((api.account, api.region), {}).pop(api.api_id, None)
            self.by_id.pop(api.api_id, None)
            self._served.pop(api.api_id, None)
        self._locks.pop(api.api_id, None)

    def _install(self, api: Api) -> None:
        self.scopes.setdefault((api.account, api.region), {})[api.api_id] = api
        self.by_id[api.api_id] = api
        self._served.pop(api.api_id, None)
