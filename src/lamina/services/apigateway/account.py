"""GetAccount, UpdateAccount: the account's API Gateway settings in a region. The throttle
is AWS's default account throttle (5000 burst, 10000 per second); cloudwatchRoleArn is the
role API Gateway would log through (UpdateAccount's /cloudwatchRoleArn)."""

from __future__ import annotations

import re
from typing import Any

from ..api_gateway_errors import bad_request
from ..context import RequestContext
from . import patch
from .state import RestApiState

_ROLE = re.compile(r"^arn:aws[a-zA-Z-]*:iam::\d{12}:role/.+$")


def shown_account(settings: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if settings.get("cloudwatchRoleArn"):
        out["cloudwatchRoleArn"] = settings["cloudwatchRoleArn"]
    out["throttleSettings"] = {"burstLimit": 5000, "rateLimit": 10000.0}
    out["features"] = list(settings.get("features") or ["UsagePlans"])
    out["apiKeyVersion"] = "4"
    return out


class AccountApi:
    state: RestApiState

    async def get_account(self, params: dict, ctx: RequestContext) -> dict:
        return shown_account(self.state.account_settings(ctx.account_id, ctx.region))

    async def update_account(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.scope_lock(ctx.account_id, ctx.region):
            settings = dict(self.state.account_settings(ctx.account_id, ctx.region))

            def role(change: patch.Change) -> None:
                if change.op == "remove" or not change.value:
                    settings.pop("cloudwatchRoleArn", None)
                    return
                if not _ROLE.match(change.value):
                    raise bad_request("The role ARN is not well formed")
                settings["cloudwatchRoleArn"] = change.value

            patch.apply(params.get("patchOperations"), [patch.Rule("/cloudwatchRoleArn", ("replace", "remove"), role)])
            await self.state.save_account(ctx.account_id, ctx.region, settings)
        return shown_account(settings)
