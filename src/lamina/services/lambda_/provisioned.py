"""Provisioned concurrency: Put/Get/Delete/ListProvisionedConcurrencyConfig(s).

    kind "provisioned_config"  key "<function key>:<version or alias>"

Put answers at once with Status IN_PROGRESS; the engine starts that many instances of the
version (an alias's main version) in the background, and the record turns READY with
Allocated = Available = the count, or FAILED with the init error. Configs are applied
again when the server starts.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone

from ...engine.spec import FunctionSpec
from ...errors import ServiceError, conflict, invalid_parameter
from ...store.base import Delete, Put
from ..context import RequestContext
from .arns import FunctionRef, function_arn, function_ref, parse_function
from .paging import page
from .state import LATEST, LambdaState

log = logging.getLogger("lamina.lambda")


def _now() -> str:
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+0000"


def _not_found(ref: FunctionRef) -> ServiceError:
    return ServiceError(
        "ProvisionedConcurrencyConfigNotFoundException",
        "No Provisioned Concurrency Config found for this function",
        404,
    )


def _check_published(ref: FunctionRef) -> None:
    # AWS answers Get and Delete on $LATEST with this, not with "config not found".
    if not ref.qualifier or ref.qualifier == LATEST:
        raise invalid_parameter("The function resource provided must be an alias or a published version.")


@dataclass
class Provisioning:
    """What the functions below share: the Lambda state, and the locks that make changes to
    one function's configs, and the engine calls for one version, happen one at a time."""

    state: LambdaState
    config_locks: dict[str, asyncio.Lock] = field(default_factory=dict)  # by function key
    version_locks: dict[str, asyncio.Lock] = field(default_factory=dict)  # by the version's pool key


class ProvisionedApi:
    state: LambdaState
    provisioning: Provisioning

    async def put_provisioned_concurrency_config(self, params: dict, ctx: RequestContext) -> dict:
        ref = function_ref(params, ctx, params.get("Qualifier"))
        # One change to a function's configs at a time: each checks the others' total.
        async with self.provisioning.config_locks.setdefault(ref.key, asyncio.Lock()):
            return await _put_config(self.provisioning, ref, params["ProvisionedConcurrentExecutions"])

    async def get_provisioned_concurrency_config(self, params: dict, ctx: RequestContext) -> dict:
        ref = function_ref(params, ctx, params.get("Qualifier"))
        await self.state.function(ref)
        _check_published(ref)
        doc = await self.state.store.get("provisioned_config", f"{ref.key}:{ref.qualifier}")
        if doc is None:
            raise _not_found(ref)
        return doc

    async def delete_provisioned_concurrency_config(self, params: dict, ctx: RequestContext) -> dict:
        ref = function_ref(params, ctx, params.get("Qualifier"))
        await self.state.function(ref)
        _check_published(ref)
        key = f"{ref.key}:{ref.qualifier}"
        doc = await self.state.store.get("provisioned_config", key)
        if doc is None:
            raise _not_found(ref)
        await drop_provisioned_configs(self.provisioning, ref, [ref.qualifier])
        return {}

    async def list_provisioned_concurrency_configs(self, params: dict, ctx: RequestContext) -> dict:
        ref = function_ref(params, ctx)
        await self.state.function(ref)
        configs = [doc for _, doc in await self.state.store.scan("provisioned_config", prefix=ref.key + ":")]
        return page(configs, params, "ProvisionedConcurrencyConfigs")


async def _version_of(state: LambdaState, ref: FunctionRef) -> tuple[str, dict]:
    """The published version a qualifier stands for, and its record."""
    qualifier = ref.qualifier
    if not qualifier or qualifier == LATEST:
        raise invalid_parameter("Provisioned Concurrency Configs cannot be applied to unpublished function versions.")
    version = qualifier
    if not qualifier.isdigit():
        alias = await state.find_alias(ref, qualifier)
        if alias is None:
            raise ServiceError(
                "ResourceNotFoundException",
                f"Cannot find alias arn: {function_arn(ref.region, ref.account, ref.name, qualifier)}",
                404,
            )
        version = alias["FunctionVersion"]
        if version == LATEST:
            raise invalid_parameter(
                "Provisioned Concurrency Configs cannot be applied to unpublished function versions."
            )
    record = await state.find_version(ref, version)
    if record is None:
        raise ServiceError(
            "ResourceNotFoundException",
            f"Function not found: {function_arn(ref.region, ref.account, ref.name, version)}",
            404,
        )
    return version, record


async def _put_config(provisioning: Provisioning, ref: FunctionRef, wanted: int) -> dict:
    state = provisioning.state
    function = await state.function(ref)
    version, record = await _version_of(state, ref)
    assert ref.qualifier is not None  # _version_of refuses an unqualified ref
    existing = [
        (key[len(ref.key) + 1 :], doc)
        for key, doc in await state.store.scan("provisioned_config", prefix=ref.key + ":")
    ]
    # As on AWS: an alias and the version it points to cannot both have a config. Both
    # would provision the same instances, and each config's count would be wrong.
    for qualifier, doc in existing:
        if qualifier == ref.qualifier or doc["version"] != version:
            continue
        if not ref.qualifier.isdigit() and qualifier.isdigit():
            raise conflict(
                "Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version"
            )
        if ref.qualifier.isdigit() and not qualifier.isdigit():
            raise conflict("Version is pointed by a Provisioned Concurrency alias")
    others = sum(
        doc["RequestedProvisionedConcurrentExecutions"] for qualifier, doc in existing if qualifier != ref.qualifier
    )
    reserved = function.get("reserved_concurrency")
    engine = state.engine
    if reserved is not None and others + wanted > reserved:
        raise invalid_parameter(
            "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function"
        )
    if reserved is None and not engine.can_provision(ref.arn, others + wanted):
        # Provisioned concurrency of a function without a reservation is carved out of
        # the account's unreserved pool, which keeps its minimum.
        raise invalid_parameter(
            "Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution "
            f"below its minimum value of [{engine.min_unreserved}]."
        )
    doc = {
        "FunctionArn": function_arn(ref.region, ref.account, ref.name, ref.qualifier),
        "RequestedProvisionedConcurrentExecutions": wanted,
        "AvailableProvisionedConcurrentExecutions": 0,
        "AllocatedProvisionedConcurrentExecutions": 0,
        "Status": "IN_PROGRESS",
        "LastModified": _now(),
        "version": version,
    }
    key = f"{ref.key}:{ref.qualifier}"
    await state.store.write([Put("provisioned_config", key, doc)])
    await _carve_out(state, ref)
    spec = await state.spec(record, version)
    asyncio.ensure_future(_allocate(provisioning, key, spec, wanted))
    return doc


async def _provision(
    provisioning: Provisioning, function_key: str, version: str, spec: FunctionSpec
) -> tuple[int, int, dict | None]:
    """Bring the version's provisioned instances to what its configs ask for in total:
    (that total, how many are allocated, the init error if some could not start).

    The engine counts provisioned instances per version, so it is given the sum over
    every config of the version (two aliases may point to it), and calls for one
    version are made one at a time: two at once (a Put right after another, or the
    restore at startup) would each launch the missing instances and overshoot."""
    state = provisioning.state
    async with provisioning.version_locks.setdefault(spec.pool_key, asyncio.Lock()):
        configs = [
            (key[len(function_key) + 1 :], doc)
            for key, doc in await state.store.scan("provisioned_config", prefix=function_key + ":")
            if doc["version"] == version
        ]
        total = sum(doc["RequestedProvisionedConcurrentExecutions"] for _, doc in configs)
        allocated, error = await state.engine.provision(spec, total, tuple(q for q, _ in configs))
    return total, allocated, error


async def _allocate(provisioning: Provisioning, key: str, spec: FunctionSpec, wanted: int) -> None:
    state = provisioning.state
    function_key = key.rsplit(":", 1)[0]
    try:
        total, allocated, error = await _provision(provisioning, function_key, spec.version, spec)
        # This config's share of the version's instances (the others' come first).
        allocated = max(0, min(wanted, allocated - (total - wanted)))
    except Exception as failure:  # keep the record honest rather than IN_PROGRESS forever
        log.exception("provisioning %s failed", key)
        allocated, error = 0, {"errorMessage": str(failure)}
    # Read, check and write under the function's config lock, which a Put holds while it
    # writes: a Put landing between this read and this write would otherwise be overwritten
    # by the older count's READY (seen under load: Requested 1 after a Put of 2).
    async with provisioning.config_locks.setdefault(function_key, asyncio.Lock()):
        doc = await state.store.get("provisioned_config", key)
        if doc is None or doc["RequestedProvisionedConcurrentExecutions"] != wanted:
            return  # deleted or changed meanwhile: the newer request decides
        doc = dict(
            doc,
            AllocatedProvisionedConcurrentExecutions=allocated,
            AvailableProvisionedConcurrentExecutions=allocated,
            LastModified=_now(),
        )
        if error is not None and allocated < wanted:
            reason = f"FUNCTION_ERROR_INIT_FAILURE: {error.get('errorMessage', '')}"
            doc.update(Status="FAILED", StatusReason=reason)
        else:
            doc["Status"] = "READY"
            doc.pop("StatusReason", None)
        await state.store.write([Put("provisioned_config", key, doc)])


async def drop_provisioned_configs(provisioning: Provisioning, ref: FunctionRef, qualifiers: list[str]) -> None:
    """The configs of these versions or aliases are gone (deleted, or their alias or
    version is): out of the carve-out, and their versions keep only what the remaining
    configs ask for."""
    state = provisioning.state
    versions = []
    for qualifier in qualifiers:
        doc = await state.store.get("provisioned_config", f"{ref.key}:{qualifier}")
        if doc is not None:
            await state.store.write([Delete("provisioned_config", f"{ref.key}:{qualifier}")])
            versions.append(doc["version"])
    await _carve_out(state, ref)
    for version in versions:
        record = await state.find_version(ref, version)
        if record is not None:
            spec = await state.spec(record, version)
            await _provision(provisioning, ref.key, version, spec)  # what the version's other configs still want


async def follow_alias(
    provisioning: Provisioning, ref: FunctionRef, alias: str, old_version: str, new_version: str
) -> None:
    """An alias with provisioned concurrency now points elsewhere: its instances move to
    the new version (IN_PROGRESS until they are up), the old version keeps only what its
    other configs ask for."""
    state = provisioning.state
    key = f"{ref.key}:{alias}"
    doc = await state.store.get("provisioned_config", key)
    if doc is None:
        return
    doc = dict(
        doc,
        version=new_version,
        Status="IN_PROGRESS",
        AllocatedProvisionedConcurrentExecutions=0,
        AvailableProvisionedConcurrentExecutions=0,
        LastModified=_now(),
    )
    await state.store.write([Put("provisioned_config", key, doc)])
    await _carve_out(state, ref)
    old = await state.find_version(ref, old_version)
    if old is not None:
        await _provision(provisioning, ref.key, old_version, await state.spec(old, old_version))
    new = await state.find_version(ref, new_version)
    if new is not None:
        spec = await state.spec(new, new_version)
        asyncio.ensure_future(_allocate(provisioning, key, spec, doc["RequestedProvisionedConcurrentExecutions"]))


async def _carve_out(state: LambdaState, ref: FunctionRef) -> None:
    """Tell the engine the function's provisioned concurrency per version."""
    per_version: dict[str, int] = {}
    for _, doc in await state.store.scan("provisioned_config", prefix=ref.key + ":"):
        per_version[doc["version"]] = (
            per_version.get(doc["version"], 0) + doc["RequestedProvisionedConcurrentExecutions"]
        )
    state.engine.set_provisioned(ref.arn, per_version)


async def restore_provisioned(provisioning: Provisioning) -> None:
    """At startup: bring every provisioned config back to its count."""
    state = provisioning.state
    for key, doc in await state.store.scan("provisioned_config"):
        account, region, name, _qualifier = key.split(":", 3)
        ref = parse_function(name, account, region)
        await _carve_out(state, ref)
        record = await state.find_version(ref, doc["version"])
        if record is None:
            continue
        await state.store.write([Put("provisioned_config", key, dict(doc, Status="IN_PROGRESS"))])
        spec = await state.spec(record, doc["version"])
        asyncio.ensure_future(_allocate(provisioning, key, spec, doc["RequestedProvisionedConcurrentExecutions"]))
