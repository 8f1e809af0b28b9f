"""Provisioned concurrency: Put/Get/Delete/ListProvisionedConcurrencyConfig(s).

    kind "provisioned_config"  key "<function key>:<version or alias>"

Put answers at once with Status IN_PROGRESS; the engine starts that many instances of the
version (an alias's main version) in the background, and the record turns READY with
Allocated = Available = the count, or FAILED with the init error. Configs are applied
again when the server starts.
"""
from __future__ import annotations

import asyncio
import base64
import logging
from datetime import datetime, timezone

from ...errors import ServiceError, invalid_parameter
from ...store.base import Delete, Put
from ..context import RequestContext
from .arns import FunctionRef, function_arn, parse_function
from .state import LATEST, LambdaState

log = logging.getLogger("lamina.lambda")


def _now() -> str:
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+0000"


def _not_found(ref: FunctionRef) -> ServiceError:
    return ServiceError("ProvisionedConcurrencyConfigNotFoundException",
                        "No Provisioned Concurrency Config found for this function", 404)


class ProvisionedApi:
    state: LambdaState

    async def _version_of(self, ref: FunctionRef) -> tuple[str, dict]:
        """The published version a qualifier stands for, and its record."""
        qualifier = ref.qualifier
        if not qualifier or qualifier == LATEST:
            raise invalid_parameter("Provisioned Concurrency Configs cannot be applied to unpublished function versions.")
        version = qualifier
        if not qualifier.isdigit():
            alias = await self.state.find_alias(ref, qualifier)
            if alias is None:
                raise ServiceError("ResourceNotFoundException",
                                   f"Cannot find alias arn: {function_arn(ref.region, ref.account, ref.name, qualifier)}", 404)
            version = alias["FunctionVersion"]
            if version == LATEST:
                raise invalid_parameter("Provisioned Concurrency Configs cannot be applied to unpublished function versions.")
        record = await self.state.find_version(ref, version)
        if record is None:
            raise ServiceError("ResourceNotFoundException",
                               f"Function not found: {function_arn(ref.region, ref.account, ref.name, version)}", 404)
        return version, record

    async def put_provisioned_concurrency_config(self, params: dict, ctx: RequestContext) -> dict:
        ref = self._ref(params, ctx, params.get("Qualifier"))  # type: ignore[attr-defined]
        function = await self.state.function(ref)
        version, record = await self._version_of(ref)
        wanted = params["ProvisionedConcurrentExecutions"]
        others = sum(doc["RequestedProvisionedConcurrentExecutions"]
                     for key, doc in await self.state.store.scan("provisioned_config", prefix=ref.key + ":")
                     if key != f"{ref.key}:{ref.qualifier}")
        reserved = function.get("reserved_concurrency")
        concurrency = self.state.invoker.concurrency
        if reserved is not None and others + wanted > reserved:
            raise invalid_parameter(
                "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function")
        if reserved is None and others + wanted > concurrency.unreserved_limit - concurrency.min_unreserved:
            raise invalid_parameter(
                "Specified ConcurrentExecutions for function is greater than account's unreserved concurrency "
                f"[{concurrency.unreserved_limit}].")
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
        await self.state.store.write([Put("provisioned_config", key, doc)])
        spec = await self.state.spec(record, version)
        asyncio.ensure_future(self._allocate(key, spec, wanted))
        return doc

    async def _allocate(self, key: str, spec, wanted: int) -> None:
        try:
            allocated, error = await self.state.invoker.provision(spec, wanted)
        except Exception as failure:  # keep the record honest rather than IN_PROGRESS forever
            log.exception("provisioning %s failed", key)
            allocated, error = 0, {"errorMessage": str(failure)}
        doc = await self.state.store.get("provisioned_config", key)
        if doc is None or doc["RequestedProvisionedConcurrentExecutions"] != wanted:
            return  # deleted or changed meanwhile: the newer request decides
        doc = dict(doc, AllocatedProvisionedConcurrentExecutions=allocated,
                   AvailableProvisionedConcurrentExecutions=allocated, LastModified=_now())
        if error is not None and allocated < wanted:
            doc.update(Status="FAILED", StatusReason=f"FUNCTION_ERROR_INIT_FAILURE: {error.get('errorMessage', '')}")
        else:
            doc["Status"] = "READY"
            doc.pop("StatusReason", None)
        await self.state.store.write([Put("provisioned_config", key, doc)])

    async def get_provisioned_concurrency_config(self, params: dict, ctx: RequestContext) -> dict:
        ref = self._ref(params, ctx, params.get("Qualifier"))  # type: ignore[attr-defined]
        await self.state.function(ref)
        doc = await self.state.store.get("provisioned_config", f"{ref.key}:{ref.qualifier}")
        if doc is None:
            raise _not_found(ref)
        return doc

    async def delete_provisioned_concurrency_config(self, params: dict, ctx: RequestContext) -> dict:
        ref = self._ref(params, ctx, params.get("Qualifier"))  # type: ignore[attr-defined]
        await self.state.function(ref)
        key = f"{ref.key}:{ref.qualifier}"
        doc = await self.state.store.get("provisioned_config", key)
        if doc is None:
            raise _not_found(ref)
        await self.state.store.write([Delete("provisioned_config", key)])
        record = await self.state.find_version(ref, doc["version"])
        if record is not None:
            spec = await self.state.spec(record, doc["version"])
            await self.state.invoker.provision(spec, 0)
        return {}

    async def list_provisioned_concurrency_configs(self, params: dict, ctx: RequestContext) -> dict:
        ref = self._ref(params, ctx)  # type: ignore[attr-defined]
        await self.state.function(ref)
        configs = [doc for _, doc in await self.state.store.scan("provisioned_config", prefix=ref.key + ":")]
        limit = params.get("MaxItems") or 50
        start = 0
        if params.get("Marker"):
            try:
                start = int(base64.urlsafe_b64decode(params["Marker"].encode()).decode())
            except Exception:
                raise invalid_parameter("Invalid Marker.") from None
        result = {"ProvisionedConcurrencyConfigs": configs[start : start + limit]}
        if start + limit < len(configs):
            result["NextMarker"] = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
        return result

    async def restore_provisioned(self) -> None:
        """At startup: bring every provisioned config back to its count."""
        for key, doc in await self.state.store.scan("provisioned_config"):
            account, region, name, _qualifier = key.split(":", 3)
            ref = parse_function(name, account, region)
            record = await self.state.find_version(ref, doc["version"])
            if record is None:
                continue
            await self.state.store.write([Put("provisioned_config", key, dict(doc, Status="IN_PROGRESS"))])
            spec = await self.state.spec(record, doc["version"])
            asyncio.ensure_future(self._allocate(key, spec, doc["RequestedProvisionedConcurrentExecutions"]))
