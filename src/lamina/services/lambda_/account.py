"""GetAccountSettings: the account's limits and what it uses of them."""

from __future__ import annotations

from ..context import RequestContext
from .state import LambdaState


class AccountApi:
    state: LambdaState

    async def get_account_settings(self, params: dict, ctx: RequestContext) -> dict:
        limits = self.state.limits
        functions = await self.state.store.scan("function", prefix=f"{ctx.account_id}:{ctx.region}:")
        versions = await self.state.store.scan("function_version", prefix=f"{ctx.account_id}:{ctx.region}:")
        code_bytes = sum(doc["code"]["size"] for _, doc in functions) + sum(doc["code"]["size"] for _, doc in versions)
        engine = self.state.engine
        return {
            "AccountLimit": {
                "TotalCodeSize": limits.total_code_size,
                "CodeSizeUnzipped": limits.code_size_unzipped,
                "CodeSizeZipped": limits.code_size_zipped,
                "ConcurrentExecutions": engine.account_limit,
                "UnreservedConcurrentExecutions": engine.unreserved_limit((ctx.region, ctx.account_id)),
            },
            "AccountUsage": {"TotalCodeSize": code_bytes, "FunctionCount": len(functions)},
        }
