"""Account settings: DescribeAccountSettings, UpdateAccountSettings, per account and region.

The one setting is the minimum throughput billing commitment, and it is kept as AWS keeps
it: enabling starts a commitment of at least 24 hours; disabling it before then leaves it
ENABLED_UNTIL_EARLIEST_ALLOWED_END, when it ends by itself; enabling it again meanwhile
cancels the end. Nothing is billed here, so it changes nothing else. An account that never
enabled it has no commitment (DISABLED).

    kind "kinesis_account"   key "<account>:<region>"   {"started": ms, "ended": ms}
"""

from __future__ import annotations

from ...store.base import Put
from ..context import RequestContext
from .state import KinesisState, now_ms

KIND = "kinesis_account"
MIN_COMMITMENT_MS = 24 * 3600 * 1000


def _commitment(doc: dict | None, now: int) -> dict:
    if not doc or doc.get("started") is None:
        return {"Status": "DISABLED"}
    started, ended = doc["started"], doc.get("ended")
    earliest = started + MIN_COMMITMENT_MS
    out = {"StartedAt": started / 1000, "EarliestAllowedEndAt": earliest / 1000}
    if ended is None:
        return {"Status": "ENABLED", **out}
    out["EndedAt"] = ended / 1000
    return {"Status": "ENABLED_UNTIL_EARLIEST_ALLOWED_END" if now < ended else "DISABLED", **out}


class AccountsApi:
    state: KinesisState

    async def describe_account_settings(self, params: dict, ctx: RequestContext) -> dict:
        doc = self.state.accounts.get(f"{ctx.account_id}:{ctx.region}")
        return {"MinimumThroughputBillingCommitment": _commitment(doc, now_ms())}

    async def update_account_settings(self, params: dict, ctx: RequestContext) -> dict:
        key = f"{ctx.account_id}:{ctx.region}"
        now = now_ms()
        doc = dict(self.state.accounts.get(key) or {})
        current = _commitment(doc, now)["Status"]
        wanted = params["MinimumThroughputBillingCommitment"]["Status"]
        if wanted == "ENABLED":
            if current == "DISABLED":
                doc = {"started": now, "ended": None}
            else:
                doc["ended"] = None  # a scheduled end is cancelled
        elif current == "ENABLED":
            doc["ended"] = max(now, doc["started"] + MIN_COMMITMENT_MS)
        await self.state.store.write([Put(KIND, key, doc)])
        self.state.accounts[key] = doc
        return {"MinimumThroughputBillingCommitment": _commitment(doc, now)}
