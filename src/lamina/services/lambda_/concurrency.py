"""Reserved concurrency: PutFunctionConcurrency, GetFunctionConcurrency,
DeleteFunctionConcurrency. The reservation lives on the function's record and in the
engine's Concurrency, which enforces it."""

from __future__ import annotations

from ...errors import ServiceError, invalid_parameter
from ...store.base import Put
from ..context import RequestContext
from .arns import function_ref
from .state import LambdaState


def throttled(reason: str, message: str = "Rate Exceeded.") -> ServiceError:
    """A 429 the way Lambda sends it: Type and Reason in the body, Retry-After in a header."""
    return ServiceError(
        "TooManyRequestsException", message, 429, headers={"Retry-After": "1"}, Type="User", Reason=reason
    )


class ConcurrencyApi:
    state: LambdaState

    async def put_function_concurrency(self, params: dict, ctx: RequestContext) -> dict:
        ref = function_ref(params, ctx)
        if ref.qualifier:
            raise invalid_parameter("Reserved concurrency applies to the function, not to a version or alias.")
        function = dict(await self.state.function(ref))
        value = params["ReservedConcurrentExecutions"]
        engine = self.state.engine
        if not engine.can_reserve(ref.arn, value):
            raise invalid_parameter(
                "Specified ReservedConcurrentExecutions for function decreases account's "
                f"UnreservedConcurrentExecution below its minimum value of [{engine.min_unreserved}]."
            )
        provisioned = sum(
            doc["RequestedProvisionedConcurrentExecutions"]
            for _, doc in await self.state.store.scan("provisioned_config", prefix=ref.key + ":")
        )
        if value < provisioned:
            # Provisioned instances run within the reservation: it cannot shrink below them.
            raise invalid_parameter(
                "Specified ReservedConcurrentExecutions for function is less than function's "
                f"total provisioned concurrency [{provisioned}]."
            )
        function["reserved_concurrency"] = value
        await self.state.write([Put("function", ref.key, function)])
        engine.set_reserved(ref.arn, value)
        return {"ReservedConcurrentExecutions": value}

    async def get_function_concurrency(self, params: dict, ctx: RequestContext) -> dict:
        ref = function_ref(params, ctx)
        function = await self.state.function(ref)
        value = function.get("reserved_concurrency")
        return {} if value is None else {"ReservedConcurrentExecutions": value}

    async def delete_function_concurrency(self, params: dict, ctx: RequestContext) -> dict:
        ref = function_ref(params, ctx)
        function = dict(await self.state.function(ref))
        function.pop("reserved_concurrency", None)
        await self.state.write([Put("function", ref.key, function)])
        self.state.engine.set_reserved(ref.arn, None)
        return {}
