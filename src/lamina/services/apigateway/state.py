"""The REST APIs of API Gateway (v1) and the account-level records beside them: what they
hold, where they are kept, how they are found and changed.

    kind "apigw_rest_api"      key <account>:<region>:<restApiId>
                               the API and everything under it but its deployments:
                               resources (their methods, method responses, integrations,
                               integration responses), authorizers, request validators,
                               models, gateway responses, stages, tags
    kind "apigw_deployment"    key <account>:<region>:<restApiId>/<deploymentId>
                               a deployment: its description and the frozen snapshot it serves
    kind "apigw_api_key"       key <account>:<region>:<keyId>
    kind "apigw_usage_plan"    key <account>:<region>:<planId>      the plan and its keys
    kind "apigw_account"       key <account>:<region>               GetAccount's settings
    kind "apigw_usage"         key <account>:<region>:<planId>/<keyId>/<day>   (usage.py)

The owner is `RestApiState`, an `ApiOwner` (../api_gateway_apis.py: the APIs per account
and region and by id, unique across them; every change an edit of a copy, written with the
deployments it made or dropped before it is installed). Keys, usage plans and account
settings are changed under a lock per account and region, written, then installed.

The data plane reads `serving(api_id)` (served.py) and `grant(...)`: built once per change
and cached.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...store.base import Delete, Op, Put, Store
from ..api_gateway_apis import ApiOwner, ApiRecord
from ..api_gateway_errors import not_found
from .usage import UsageBook

API_KIND, DEPLOYMENT_KIND = "apigw_rest_api", "apigw_deployment"
KEY_KIND, PLAN_KIND, ACCOUNT_KIND = "apigw_api_key", "apigw_usage_plan", "apigw_account"
# What a deployment freezes of its API (resources carry their computed paths in the snapshot).
SNAPSHOT = ("resources", "authorizers", "validators", "models", "gateway_responses")
SNAPSHOT_SETTINGS = ("binaryMediaTypes", "minimumCompressionSize", "apiKeySource", "policy")


def api_arn(region: str, api_id: str) -> str:
    return f"arn:aws:apigateway:{region}::/restapis/{api_id}"


@dataclass(frozen=True)
class Deployment:
    deployment_id: str
    created: float
    description: str | None
    snapshot: dict[str, Any]  # SNAPSHOT's members and "settings", as the API held them

    def described(self, summary: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.deployment_id, "createdDate": self.created}
        if self.description is not None:
            out["description"] = self.description
        if summary:
            out["apiSummary"] = api_summary(self.snapshot.get("resources") or {})
        return out

    def doc(self) -> dict[str, Any]:
        return {"created": self.created, "description": self.description, "snapshot": self.snapshot}

    @classmethod
    def from_doc(cls, deployment_id: str, doc: dict[str, Any]) -> Deployment:
        return cls(deployment_id, doc["created"], doc.get("description"), doc["snapshot"])


def api_summary(resources: dict[str, dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """GetDeployment's apiSummary (embed=apisummary): path -> method -> its authorization."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for resource in resources.values():
        for verb, method in (resource.get("methods") or {}).items():
            out.setdefault(resource["path"], {})[verb] = {
                "authorizationType": method.get("authorizationType", "NONE"),
                "apiKeyRequired": bool(method.get("apiKeyRequired")),
            }
    return out


@dataclass
class RestApi(ApiRecord):
    """One REST API (api_gateway_apis.py keeps its spec, tags and deployments). Records are
    kept with AWS's member names (dates as epoch seconds). `resources`: id -> {id, parentId?,
    pathPart?, methods: {verb: method}}, a method holding its methodResponses and
    methodIntegration (with integrationResponses); `models` keyed by name,
    `gateway_responses` by type (only those put), `stages` by name."""

    TABLES = (*SNAPSHOT, "stages")

    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    authorizers: dict[str, dict[str, Any]] = field(default_factory=dict)
    validators: dict[str, dict[str, Any]] = field(default_factory=dict)
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    gateway_responses: dict[str, dict[str, Any]] = field(default_factory=dict)
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return api_arn(self.region, self.api_id)

    @property
    def root_id(self) -> str:
        return self.spec["rootResourceId"]

    # --- resources and their paths ------------------------------------------------------------

    def path_of(self, resource_id: str) -> str:
        parts = []
        seen = set()
        current = self.resources.get(resource_id)
        while current is not None and current.get("parentId") and current["id"] not in seen:
            seen.add(current["id"])
            parts.append(current["pathPart"])
            current = self.resources.get(current["parentId"])
        return "/" + "/".join(reversed(parts))

    def paths(self) -> dict[str, str]:
        """Every resource's path, by id."""
        return {rid: self.path_of(rid) for rid in self.resources}

    def children(self, resource_id: str) -> list[dict[str, Any]]:
        return [r for r in self.resources.values() if r.get("parentId") == resource_id]

    def descendants(self, resource_id: str) -> list[str]:
        out, todo = [], [resource_id]
        while todo:
            current = todo.pop()
            for child in self.children(current):
                out.append(child["id"])
                todo.append(child["id"])
        return out

    def snapshot(self) -> dict[str, Any]:
        resources = copy.deepcopy(self.resources)
        for rid, resource in resources.items():
            resource["path"] = self.path_of(rid)
        out: dict[str, Any] = {"resources": resources}
        for name in SNAPSHOT[1:]:
            out[name] = copy.deepcopy(getattr(self, name))
        out["settings"] = {k: copy.deepcopy(self.spec[k]) for k in SNAPSHOT_SETTINGS if self.spec.get(k) is not None}
        return out


class RestApiState(ApiOwner[RestApi]):
    """The owner of the REST APIs (api_gateway_apis.py: finding, editing, caching what they
    serve) and of the account-level records beside them."""

    api_kind, deployment_kind = API_KIND, DEPLOYMENT_KIND
    record, deployment = RestApi, Deployment

    def __init__(
        self,
        store: Store,
        serve: Callable[[RestApi, RestApiState], Any],
        grant: Callable[[RestApiState, str, str, str], Any],
    ) -> None:
        super().__init__(store)
        # What the data plane reads, built by served.py (handed in, so that this module, which
        # served.py reads, does not read it back): a stage's serving, a key's grant.
        self._build_served = serve
        self._build_grant = grant
        self.keys: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}  # scope -> id -> ApiKey record
        self.key_values: dict[str, tuple[str, str, str]] = {}  # value -> (account, region, id)
        self.plans: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}  # scope -> id -> {plan, keys}
        self.accounts: dict[tuple[str, str], dict[str, Any]] = {}
        self.usage = UsageBook(store)
        self._scope_locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._grants: dict[tuple[str, str, str], Any] = {}
        # Usage plans may also cover the stages of WebSocket APIs, which API Gateway v2 keeps:
        # its lookup, api id -> (account, region, stage names) or None, given by app.py.
        self.other_apis: Callable[[str], tuple[str, str, frozenset[str]] | None] = lambda api_id: None

    def owner_and_stages(self, api_id: str) -> tuple[str, str, frozenset[str]] | None:
        """Who has an API (a REST API here, or another kind a usage plan may cover) and its
        stages, or None: no API has this id."""
        api = self.by_id.get(api_id)
        if api is not None:
            return api.account, api.region, frozenset(api.stages)
        return self.other_apis(api_id)

    async def load(self) -> None:
        await super().load()
        for key, doc in await self.store.scan(KEY_KIND):
            account, region, key_id = key.split(":", 2)
            self._install_key(account, region, doc)
        for key, doc in await self.store.scan(PLAN_KIND):
            account, region, plan_id = key.split(":", 2)
            self.plans.setdefault((account, region), {})[plan_id] = doc
        for key, doc in await self.store.scan(ACCOUNT_KIND):
            account, region = key.split(":", 1)
            self.accounts[(account, region)] = doc
        await self.usage.load()
        self._grants.clear()

    def reset(self) -> None:
        super().reset()
        self.keys.clear()
        self.key_values.clear()
        self.plans.clear()
        self.accounts.clear()
        self.usage.reset()
        self._scope_locks.clear()
        self._grants.clear()

    def _changed(self, api_id: str) -> None:
        super()._changed(api_id)
        self._grants.clear()

    # --- account-level records: API keys, usage plans, the account's settings ----------------

    def scope_lock(self, account: str, region: str) -> asyncio.Lock:
        return self._scope_locks.setdefault((account, region), asyncio.Lock())

    def key(self, account: str, region: str, key_id: str) -> dict[str, Any]:
        from .errors import API_KEY_NOT_FOUND

        record = self.keys.get((account, region), {}).get(key_id)
        if record is None:
            raise not_found(API_KEY_NOT_FOUND)
        return record

    async def save_key(self, account: str, region: str, record: dict[str, Any]) -> None:
        await self.store.write([Put(KEY_KIND, f"{account}:{region}:{record['id']}", record)])
        old = self.keys.get((account, region), {}).get(record["id"])
        if old is not None:
            self.key_values.pop(old["value"], None)
        self._install_key(account, region, record)

    async def delete_key(self, account: str, region: str, key_id: str) -> None:
        """The key, and its place in every usage plan of the account and region."""
        ops: list[Op] = [Delete(KEY_KIND, f"{account}:{region}:{key_id}")]
        changed = []
        for plan_id, held in self.plans.get((account, region), {}).items():
            if key_id in held["keys"]:
                new = {**held, "keys": [k for k in held["keys"] if k != key_id]}
                ops.append(Put(PLAN_KIND, f"{account}:{region}:{plan_id}", new))
                changed.append((plan_id, new))
        await self.store.write(ops)
        record = self.keys.get((account, region), {}).pop(key_id, None)
        if record is not None:
            self.key_values.pop(record["value"], None)
        for plan_id, new in changed:
            self.plans[(account, region)][plan_id] = new
        self._grants.clear()

    def _install_key(self, account: str, region: str, record: dict[str, Any]) -> None:
        self.keys.setdefault((account, region), {})[record["id"]] = record
        self.key_values[record["value"]] = (account, region, record["id"])
        self._grants.clear()

    def plan(self, account: str, region: str, plan_id: str) -> dict[str, Any]:
        """{"plan": the UsagePlan as AWS shows it, "keys": [key ids]}."""
        from .errors import USAGE_PLAN_NOT_FOUND

        held = self.plans.get((account, region), {}).get(plan_id)
        if held is None:
            raise not_found(USAGE_PLAN_NOT_FOUND)
        return held

    async def save_plan(self, account: str, region: str, held: dict[str, Any]) -> None:
        await self.store.write([Put(PLAN_KIND, f"{account}:{region}:{held['plan']['id']}", held)])
        self.plans.setdefault((account, region), {})[held["plan"]["id"]] = held
        self._grants.clear()

    async def delete_plan(self, account: str, region: str, plan_id: str) -> None:
        await self.store.write([Delete(PLAN_KIND, f"{account}:{region}:{plan_id}")])
        self.plans.get((account, region), {}).pop(plan_id, None)
        self._grants.clear()

    def account_settings(self, account: str, region: str) -> dict[str, Any]:
        return self.accounts.get((account, region), {})

    async def save_account(self, account: str, region: str, settings: dict[str, Any]) -> None:
        await self.store.write([Put(ACCOUNT_KIND, f"{account}:{region}", settings)])
        self.accounts[(account, region)] = settings

    # --- for the data plane ------------------------------------------------------------------

    def _serve(self, api: RestApi):
        return self._build_served(api, self)

    def grant(self, api_id: str, stage: str, key_value: str):
        """What an API key value is granted on a stage (served.py `KeyGrant`), or None: no
        enabled key of the API's account and region has this value, or no usage plan of the
        key covers the stage. Cached until a key or plan changes."""
        cache_key = (api_id, stage, key_value)
        if cache_key in self._grants:
            return self._grants[cache_key]
        found = self._build_grant(self, api_id, stage, key_value)
        if len(self._grants) > 10000:
            self._grants.clear()
        self._grants[cache_key] = found
        return found
