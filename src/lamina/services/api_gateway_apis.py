"""The APIs both API Gateway control planes keep (v1's REST APIs in services/apigateway/,
v2's HTTP and WebSocket APIs in services/apigatewayv2/): the record of one API and its
owner, which each version extends with what it holds.

    kind <api_kind>         key <account>:<region>:<apiId>
                            the API and everything under it but its deployments: its spec,
                            tags and the record's TABLES (stages among them)
    kind <deployment_kind>  key <account>:<region>:<apiId>/<deploymentId>
                            a deployment: its description and the snapshot it serves

The owner (`ApiOwner`) keeps per account and region (`scopes`) the APIs in memory, and one
index by API id (ids are unique on Lamina, whatever the account or region: an id names a
host of execute-api). A lookup with another account's or region's id is "Invalid API
identifier specified <account>:<id>" unless the caller names another error.

Every change goes through `edit()`: a copy of the API (`draft()`) is changed, written to
the store with the deployments it made or dropped, and only then installed, so that
readers never see half a change and a failed write changes nothing. What a stage serves,
for the data plane, is built once per change of the API and cached (`serving(api_id)`).
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from ..store.base import Delete, DeletePrefix, Op, Put, Store
from .api_gateway_errors import api_not_found


def now() -> float:
    return round(time.time(), 3)


class StoredDeployment(Protocol):
    """A deployment as the owner stores it (each version has its own dataclass)."""

    @property
    def deployment_id(self) -> str: ...

    def doc(self) -> dict[str, Any]: ...


@dataclass
class ApiRecord:
    """One API. Records are kept with AWS's member names (dates as epoch seconds); each
    version declares its tables (`TABLES`: the attribute names, dicts by id or name, kept in
    the API's document beside its spec and tags) as fields of its subclass."""

    TABLES: ClassVar[tuple[str, ...]] = ()

    account: str
    region: str
    api_id: str
    spec: dict[str, Any]
    tags: dict[str, str] = field(default_factory=dict)
    deployments: dict[str, Any] = field(default_factory=dict)  # id -> the version's Deployment
    # --- an edit in progress (not stored) ---
    made: list[Any] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.account}:{self.region}:{self.api_id}"

    def draft(self) -> Any:
        """A copy to change: the records deep-copied, the deployments (never changed in
        place) shared."""
        tables = {name: copy.deepcopy(getattr(self, name)) for name in self.TABLES}
        return type(self)(
            self.account,
            self.region,
            self.api_id,
            copy.deepcopy(self.spec),
            dict(self.tags),
            dict(self.deployments),
            **tables,
        )

    def written(self) -> None:
        """The edit is in the store: forget what it made and dropped."""
        self.made, self.dropped = [], []

    def doc(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in self.TABLES}
        return {"spec": self.spec, "tags": self.tags, **out}

    @classmethod
    def from_doc(cls, key: str, doc: dict[str, Any]) -> Any:
        account, region, api_id = key.split(":", 2)
        api = cls(account, region, api_id, doc["spec"], doc.get("tags") or {})
        for name in cls.TABLES:
            setattr(api, name, doc.get(name) or {})
        return api


A = TypeVar("A", bound=ApiRecord)


class ApiOwner(Generic[A]):
    """The owner of one version's APIs. A subclass names its store kinds, its record and
    deployment classes, and what a stage serves (`_serve`)."""

    api_kind: ClassVar[str]
    deployment_kind: ClassVar[str]
    record: ClassVar[type[ApiRecord]]
    deployment: ClassVar[Any]  # the Deployment class: from_doc(deployment_id, doc)

    def __init__(self, store: Store) -> None:
        self.store = store
        self.scopes: dict[tuple[str, str], dict[str, A]] = {}  # (account, region) -> id -> API
        self.by_id: dict[str, A] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._served: dict[str, Any] = {}
        self._authorizer_epochs: dict[tuple[str, str], int] = {}

    async def load(self) -> None:
        for key, doc in await self.store.scan(self.api_kind):
            self._install(self.record.from_doc(key, doc))
        for key, doc in await self.store.scan(self.deployment_kind):
            scope, deployment_id = key.rsplit("/", 1)
            api = self.by_id.get(scope.rsplit(":", 1)[1])
            if api is not None:
                api.deployments[deployment_id] = self.deployment.from_doc(deployment_id, doc)
        self._served.clear()

    def reset(self) -> None:
        self.scopes.clear()
        self.by_id.clear()
        self._locks.clear()
        self._served.clear()
        self._authorizer_epochs.clear()

    # --- finding -----------------------------------------------------------------------------

    def api(self, account: str, region: str, api_id: str, missing: Exception | None = None) -> A:
        """The API; `missing` is the error for an unknown one (AWS's "Invalid API identifier
        specified <account>:<id>" unless the operation answers otherwise)."""
        api = self.by_id.get(api_id)
        if api is None or (api.account, api.region) != (account, region):
            raise missing if missing is not None else api_not_found(account, api_id)
        return api

    def apis_of(self, account: str, region: str) -> dict[str, A]:
        return self.scopes.get((account, region), {})

    # --- for the data plane ------------------------------------------------------------------

    def serving(self, api_id: str) -> Any:
        """What the API with this id serves now, whoever owns it (None: no such API). Built
        once per change and cached: cheap to ask on every request."""
        if api_id in self._served:
            return self._served[api_id]
        api = self.by_id.get(api_id)
        served = self._serve(api) if api is not None else None
        self._served[api_id] = served
        return served

    def _serve(self, api: A) -> Any:
        raise NotImplementedError

    def drop_authorizer_cache(self, api_id: str, stage: str) -> None:
        """ResetAuthorizersCache (v2), FlushStageAuthorizersCache (v1): the data plane drops
        the stage's cached authorizer results when this epoch moves."""
        self._authorizer_epochs[(api_id, stage)] = self._authorizer_epochs.get((api_id, stage), 0) + 1

    def authorizer_cache_epoch(self, api_id: str, stage: str) -> int:
        return self._authorizer_epochs.get((api_id, stage), 0)

    # --- changing ----------------------------------------------------------------------------

    @asynccontextmanager
    async def edit(self, account: str, region: str, api_id: str, missing: Exception | None = None) -> AsyncIterator[A]:
        """A draft of the API to change; written and installed when the block ends without
        an error."""
        self.api(account, region, api_id, missing)
        lock = self._locks.setdefault(api_id, asyncio.Lock())
        async with lock:
            draft = self.api(account, region, api_id, missing).draft()
            yield draft
            await self.save(draft)

    async def create(self, api: A) -> None:
        if api.api_id in self.by_id:
            raise RuntimeError("API id taken")
        await self.save(api)

    async def save(self, draft: A) -> None:
        made: list[StoredDeployment] = draft.made
        ops: list[Op] = [Put(self.api_kind, draft.key, draft.doc())]
        ops += [Put(self.deployment_kind, f"{draft.key}/{d.deployment_id}", d.doc()) for d in made]
        ops += [Delete(self.deployment_kind, f"{draft.key}/{gone}") for gone in draft.dropped]
        await self.store.write(ops)
        draft.written()
        self._install(draft)

    async def delete(self, api: A) -> None:
        async with self._locks.setdefault(api.api_id, asyncio.Lock()):
            await self.store.write([Delete(self.api_kind, api.key), DeletePrefix(self.deployment_kind, f"{api.key}/")])
            self.scopes.get((api.account, api.region), {}).pop(api.api_id, None)
            self.by_id.pop(api.api_id, None)
            self._changed(api.api_id)
        self._locks.pop(api.api_id, None)

    def _install(self, api: A) -> None:
        self.scopes.setdefault((api.account, api.region), {})[api.api_id] = api
        self.by_id[api.api_id] = api
        self._changed(api.api_id)

    def _changed(self, api_id: str) -> None:
        """The API was installed or deleted: what it served is built again when asked."""
        self._served.pop(api_id, None)
