"""Asynchronous invocation settings per function, version or alias:
Put/Get/Update/Delete/ListFunctionEventInvokeConfig(s).

    kind "event_invoke_config"  key "<function key>:<qualifier or $LATEST>"
"""
from __future__ import annotations

import base64
import time

from ...errors import invalid_parameter, not_found
from ...store.base import Delete, Put
from ..context import RequestContext
from .arns import FunctionRef, function_arn
from .state import LATEST, LambdaState

DEFAULT_RETRIES = 2
DEFAULT_MAX_AGE_S = 21600
DESTINATION_SERVICES = ("lambda", "sqs", "sns", "events")


def config_key(ref: FunctionRef, qualifier: str | None) -> str:
    return f"{ref.key}:{qualifier or LATEST}"


def _check_destinations(config: dict | None) -> None:
    for side in ("OnSuccess", "OnFailure"):
        arn = ((config or {}).get(side) or {}).get("Destination")
        if not arn:
            continue
        parts = arn.split(":")
        if len(parts) < 6 or parts[0] != "arn" or parts[2] not in DESTINATION_SERVICES:
            raise invalid_parameter(f"The destination ARN {arn} is invalid.")


class EventInvokeConfigApi:
    state: LambdaState

    async def _target(self, params: dict, ctx: RequestContext) -> tuple[FunctionRef, str]:
        ref = self._ref(params, ctx, params.get("Qualifier"))  # type: ignore[attr-defined]
        await self._record(ref)  # type: ignore[attr-defined]  # the function and its qualifier exist
        return ref, config_key(ref, ref.qualifier)

    async def event_invoke_config(self, ref: FunctionRef, qualifier: str | None) -> dict:
        """The settings in force for invocations of `qualifier` (AWS's defaults if none).
        Cached: every Event invoke asks, and only this module writes them."""
        key = config_key(ref, qualifier)
        cache = self.state.event_configs
        if key not in cache:
            cache[key] = await self.state.store.get("event_invoke_config", key)
        return cache[key] or {"MaximumRetryAttempts": DEFAULT_RETRIES, "MaximumEventAgeInSeconds": DEFAULT_MAX_AGE_S}

    async def put_function_event_invoke_config(self, params: dict, ctx: RequestContext) -> dict:
        ref, key = await self._target(params, ctx)
        return await self._save(ref, key, {}, params)

    async def update_function_event_invoke_config(self, params: dict, ctx: RequestContext) -> dict:
        ref, key = await self._target(params, ctx)
        existing = await self.state.store.get("event_invoke_config", key) or {}
        return await self._save(ref, key, existing, params)

    async def _save(self, ref: FunctionRef, key: str, base: dict, params: dict) -> dict:
        config = dict(base)
        for name in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):
            if name in params:
                config[name] = params[name]
        if "DestinationConfig" in params:
            _check_destinations(params["DestinationConfig"])
            merged = dict(config.get("DestinationConfig") or {})
            merged.update(params["DestinationConfig"] or {})
            config["DestinationConfig"] = merged
        config["FunctionArn"] = function_arn(ref.region, ref.account, ref.name, ref.qualifier or LATEST)
        config["LastModified"] = time.time()
        config.setdefault("DestinationConfig", {})
        await self.state.store.write([Put("event_invoke_config", key, config)])
        self.state.event_configs[key] = config
        return config

    async def get_function_event_invoke_config(self, params: dict, ctx: RequestContext) -> dict:
        ref, key = await self._target(params, ctx)
        found = await self.state.store.get("event_invoke_config", key)
        if found is None:
            arn = function_arn(ref.region, ref.account, ref.name, ref.qualifier or LATEST)
            raise not_found(f"The function {arn} doesn't have an EventInvokeConfig")
        return found

    async def delete_function_event_invoke_config(self, params: dict, ctx: RequestContext) -> dict:
        ref, key = await self._target(params, ctx)
        if await self.state.store.get("event_invoke_config", key) is None:
            arn = function_arn(ref.region, ref.account, ref.name, ref.qualifier or LATEST)
            raise not_found(f"The function {arn} doesn't have an EventInvokeConfig")
        await self.state.store.write([Delete("event_invoke_config", key)])
        self.state.event_configs[key] = None
        return {}

    async def list_function_event_invoke_configs(self, params: dict, ctx: RequestContext) -> dict:
        ref = self._ref(params, ctx)  # type: ignore[attr-defined]
        await self.state.function(ref)
        configs = [doc for _, doc in await self.state.store.scan("event_invoke_config", prefix=ref.key + ":")]
        limit = params.get("MaxItems") or 50
        start = 0
        if params.get("Marker"):
            try:
                start = int(base64.urlsafe_b64decode(params["Marker"].encode()).decode())
            except Exception:
                raise invalid_parameter("Invalid Marker.") from None
        result = {"FunctionEventInvokeConfigs": configs[start : start + limit]}
        if start + limit < len(configs):
            result["NextMarker"] = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
        return result
