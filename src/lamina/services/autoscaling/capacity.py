"""Changing a target's capacity: Lambda's provisioned concurrency, through Lambda's own API.

This service never imports Lambda: the composition root hands it `call(service, operation,
params, ctx)` (the gateway's), and it calls Put/Get/DeleteProvisionedConcurrencyConfig as
any client would, acting as its service-linked role (no principal: not authorized again).

Every change is a scaling activity, as AWS shows them: InProgress while Lambda allocates,
then Successful once the config is READY, or Failed with Lambda's reason.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from ... import ids
from ...errors import ServiceError
from ..context import RequestContext
from .state import AutoScalingState, TargetRef, new_activity

log = logging.getLogger("lamina.autoscaling")

Call = Callable[[str, str, dict, RequestContext], Awaitable[dict]]
READY_TIMEOUT_S = 300.0
FULFILLED = (
    "Change successfully fulfilled by lambda."  # how long an activity waits for Lambda's allocation before it fails
)


class Scaler:
    def __init__(self, state: AutoScalingState) -> None:
        self.state = state
        self.call: Call | None = None  # set by the composition root
        self._locks: dict[str, asyncio.Lock] = {}  # one change of a target's capacity at a time
        self._watches: set[asyncio.Task] = set()

    def lock(self, ref: TargetRef) -> asyncio.Lock:
        return self._locks.setdefault(ref.key, asyncio.Lock())

    async def stop(self) -> None:
        for task in list(self._watches):
            task.cancel()
        if self._watches:
            await asyncio.gather(*self._watches, return_exceptions=True)
        self._watches.clear()

    def reset(self) -> None:
        self._locks.clear()

    async def call_service(self, ref: TargetRef, service: str, operation: str, params: dict) -> dict:
        """Another service's operation, in the target's account and region."""
        if self.call is None:
            raise ServiceError(
                "InternalServiceException", f"{service} is not reachable from Application Auto Scaling", 500
            )
        ctx = RequestContext(ref.account, ref.region, ids.uuid4(), "")
        return await self.call(service, operation, params, ctx)

    async def _lambda(self, ref: TargetRef, operation: str, **params) -> dict:
        params = {"FunctionName": ref.function_name, "Qualifier": ref.qualifier, **params}
        return await self.call_service(ref, "lambda", operation, params)

    async def current(self, ref: TargetRef) -> int:
        """The provisioned concurrency the qualifier asks for now (0 without a config)."""
        try:
            config = await self._lambda(ref, "GetProvisionedConcurrencyConfig")
        except ServiceError as error:
            if error.code == "ProvisionedConcurrencyConfigNotFoundException":
                return 0
            raise
        return int(config["RequestedProvisionedConcurrentExecutions"])

    async def check_exists(self, ref: TargetRef) -> None:
        """RegisterScalableTarget's check: the function's version or alias must exist."""
        try:
            await self._lambda(ref, "GetFunctionConfiguration")
        except ServiceError as error:
            if error.code == "ResourceNotFoundException":
                raise ServiceError(
                    "ValidationException", f"Function {ref.function_name}:{ref.qualifier} does not exist.", 400
                ) from None
            raise

    async def within_bounds(self, ref: TargetRef, target: dict, cause: str) -> dict | None:
        """Bring the capacity inside the target's Min/Max (registration, a scheduled action),
        unless scheduled scaling is suspended; the activity, if there was a change."""
        async with self.lock(ref):
            current = await self.current(ref)
            desired = min(max(current, target["MinCapacity"]), target["MaxCapacity"])
            if desired == current:
                return None
            return await self._set(ref, current, desired, cause)

    async def set(self, ref: TargetRef, desired: int, cause: str) -> dict | None:
        async with self.lock(ref):
            current = await self.current(ref)
            if desired == current:
                return None
            return await self._set(ref, current, desired, cause)

    async def _set(self, ref: TargetRef, current: int, desired: int, cause: str) -> dict:
        activity = new_activity(ref, f"Setting provisioned concurrency to {desired}.", cause)
        try:
            if desired == 0:
                await self._lambda(ref, "DeleteProvisionedConcurrencyConfig")
            else:
                await self._lambda(ref, "PutProvisionedConcurrencyConfig", ProvisionedConcurrentExecutions=desired)
        except ServiceError as error:
            _finish(activity, "Failed", f"Failed to set provisioned concurrency to {desired}. {error.message}")
            await self.state.put_activity(ref, activity)
            return activity
        if desired == 0:
            _finish(
                activity,
                "Successful",
                "Successfully set provisioned concurrency to 0. Change successfully fulfilled by lambda.",
            )
            await self.state.put_activity(ref, activity)
            return activity
        await self.state.put_activity(ref, activity)
        task = asyncio.ensure_future(self._watch(ref, activity, desired))
        self._watches.add(task)
        task.add_done_callback(self._watches.discard)
        return activity

    async def _watch(self, ref: TargetRef, activity: dict, desired: int) -> None:
        """Follow Lambda's allocation to its end: the activity's outcome."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        status, message = "Failed", f"Failed to set provisioned concurrency to {desired}. Timed out."
        while time.monotonic() < deadline:
            try:
                config = await self._lambda(ref, "GetProvisionedConcurrencyConfig")
            except ServiceError as error:
                status, message = "Failed", f"Failed to set provisioned concurrency to {desired}. {error.message}"
                break
            if config["RequestedProvisionedConcurrentExecutions"] != desired:
                status, message = "Overridden", "Overridden by a later change of the provisioned concurrency."
                break
            if config["Status"] == "READY":
                status = "Successful"
                message = f"Successfully set provisioned concurrency to {desired}. {FULFILLED}"
                break
            if config["Status"] == "FAILED":
                message = f"Failed to set provisioned concurrency to {desired}. {config.get('StatusReason', '')}"
                break
            await asyncio.sleep(0.25)
        _finish(activity, status, message)
        try:
            await self.state.put_activity(ref, activity)
        except Exception:
            log.exception("recording a scaling activity of %s failed", ref.resource_id)


def _finish(activity: dict, status: str, message: str) -> None:
    activity.update(StatusCode=status, StatusMessage=message, EndTime=time.time())
