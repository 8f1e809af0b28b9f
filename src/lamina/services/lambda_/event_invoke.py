"""Asynchronous invocation settings per function, version or alias:
Put/Get/Update/Delete/ListFunctionEventInvokeConfig(s).

    kind "event_invoke_config"  key "<function key>:<qualifier or $LATEST>"
"""

from __future__ import annotations

import time

from ...errors import ServiceError, invalid_parameter, not_found
from ...store.base import Delete, Put
from ..context import RequestContext
from .arns import FunctionRef, function_arn, function_ref, parse_function
from .paging import page
from .state import LATEST, LambdaState

DEFAULT_RETRIES = 2
DEFAULT_MAX_AGE_S = 21600
DESTINATION_SERVICES = ("lambda", "sqs", "sns", "events")


def config_key(ref: FunctionRef, qualifier: str | None) -> str:
    return f"{ref.key}:{qualifier or LATEST}"


def _both_sides(config: dict) -> dict:
    """AWS always answers with both sides of DestinationConfig, empty when not set."""
    destinations = config.get("DestinationConfig") or {}
    return dict(config, DestinationConfig={side: destinations.get(side) or {} for side in ("OnSuccess", "OnFailure")})


async def event_invoke_config(state: LambdaState, ref: FunctionRef, qualifier: str | None) -> dict:
    """The settings in force for invocations of `qualifier` (AWS's defaults if none).
    Cached: every Event invoke asks, and only this module writes them."""
    key = config_key(ref, qualifier)
    cache = state.event_configs
    if key not in cache:
        cache[key] = await state.store.get("event_invoke_config", key)
    return cache[key] or {"MaximumRetryAttempts": DEFAULT_RETRIES, "MaximumEventAgeInSeconds": DEFAULT_MAX_AGE_S}


async def _target(state: LambdaState, params: dict, ctx: RequestContext) -> tuple[FunctionRef, str]:
    ref = function_ref(params, ctx, params.get("Qualifier"))
    await state.record(ref)  # the function and its qualifier exist
    return ref, config_key(ref, ref.qualifier)


def _missing(ref: FunctionRef) -> ServiceError:
    arn = function_arn(ref.region, ref.account, ref.name, ref.qualifier or LATEST)
    return not_found(f"The function {arn} doesn't have an EventInvokeConfig")


async def _check_destinations(state: LambdaState, ref: FunctionRef, config: dict | None) -> None:
    """As AWS checks them: a known service, and a Lambda destination that exists and is
    not the function itself."""
    for side in ("OnSuccess", "OnFailure"):
        arn = ((config or {}).get(side) or {}).get("Destination")
        if not arn:
            continue
        parts = arn.split(":")
        if len(parts) < 6 or parts[0] != "arn" or parts[2] not in DESTINATION_SERVICES:
            raise invalid_parameter(f"The destination ARN {arn} is invalid.")
        if parts[2] != "lambda":
            continue
        try:
            target = parse_function(arn, ref.account, ref.region)
        except ServiceError:
            raise invalid_parameter(f"The destination ARN {arn} is invalid.") from None
        if await state.find_function(target) is None:
            raise invalid_parameter(f"The destination ARN {arn} is invalid.")
        if target.key == ref.key:
            raise invalid_parameter("You can't specify the function as a destination for itself.")


async def _save(state: LambdaState, ref: FunctionRef, key: str, base: dict, params: dict) -> dict:
    if all(
        params.get(name) is None for name in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")
    ):
        raise invalid_parameter("You must specify at least one of error handling or destination setting.")
    config = dict(base)
    for name in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):
        if name in params:
            config[name] = params[name]
    if "DestinationConfig" in params:
        await _check_destinations(state, ref, params["DestinationConfig"])
        merged = dict(config.get("DestinationConfig") or {})
        merged.update(params["DestinationConfig"] or {})
        config["DestinationConfig"] = merged
    config["FunctionArn"] = function_arn(ref.region, ref.account, ref.name, ref.qualifier or LATEST)
    config["LastModified"] = time.time()
    config = _both_sides(config)
    await state.store.write([Put("event_invoke_config", key, config)])
    state.event_configs[key] = config
    return config


class EventInvokeConfigApi:
    state: LambdaState

    async def put_function_event_invoke_config(self, params: dict, ctx: RequestContext) -> dict:
        ref, key = await _target(self.state, params, ctx)
        return await _save(self.state, ref, key, {}, params)

    async def update_function_event_invoke_config(self, params: dict, ctx: RequestContext) -> dict:
        ref, key = await _target(self.state, params, ctx)
        existing = await self.state.store.get("event_invoke_config", key)
        if existing is None:  # AWS: Update changes a config, it does not create one
            raise _missing(ref)
        return await _save(self.state, ref, key, existing, params)

    async def get_function_event_invoke_config(self, params: dict, ctx: RequestContext) -> dict:
        ref, key = await _target(self.state, params, ctx)
        found = await self.state.store.get("event_invoke_config", key)
        if found is None:
            raise _missing(ref)
        return _both_sides(found)

    async def delete_function_event_invoke_config(self, params: dict, ctx: RequestContext) -> dict:
        ref, key = await _target(self.state, params, ctx)
        if await self.state.store.get("event_invoke_config", key) is None:
            raise _missing(ref)
        await self.state.store.write([Delete("event_invoke_config", key)])
        self.state.event_configs[key] = None
        return {}

    async def list_function_event_invoke_configs(self, params: dict, ctx: RequestContext) -> dict:
        ref = function_ref(params, ctx)
        await self.state.function(ref)
        configs = [
            _both_sides(doc) for _, doc in await self.state.store.scan("event_invoke_config", prefix=ref.key + ":")
        ]
        return page(configs, params, "FunctionEventInvokeConfigs")
