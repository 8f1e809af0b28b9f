"""Usage plans, their keys and usage: CreateUsagePlan, GetUsagePlan, GetUsagePlans (keyId),
UpdateUsagePlan, DeleteUsagePlan; CreateUsagePlanKey, GetUsagePlanKey, GetUsagePlanKeys,
DeleteUsagePlanKey; GetUsage, UpdateUsage.

A plan names the API stages it covers (apiStages: apiId, stage, per-method throttle keyed
"<resource path>/<METHOD>"), a throttle {burstLimit, rateLimit} and a quota {limit, offset,
period DAY|WEEK|MONTH}. UpdateUsagePlan's paths: /name, /description, /productCode,
/throttle/burstLimit, /throttle/rateLimit, /quota/limit, /quota/offset, /quota/period
(remove /throttle, /quota), add and remove /apiStages (value "<apiId>:<stage>"),
/apiStages/<apiId>:<stage>/throttle/<escaped path>/<METHOD>/burstLimit|rateLimit.
Usage is what the data plane recorded (usage.py); GetUsage answers each key's
[used, remaining] per day.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from ..api_gateway_errors import bad_request, conflict, not_found
from ..context import RequestContext
from . import checks, patch
from .errors import API_KEY_NOT_FOUND, STAGE_NOT_FOUND
from .ids import new_id
from .paging import listed
from .state import RestApiState
from .usage import period_start, today

PERIODS = ("DAY", "WEEK", "MONTH")


def shown_plan(held: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(held["plan"])
    if not out.get("tags"):
        out.pop("tags", None)
    return out


def check_quota(quota: dict[str, Any] | None) -> None:
    if not quota:
        return
    if quota.get("period") not in PERIODS:
        raise bad_request(f"Invalid quota period specified: {quota.get('period')}. Valid values are DAY, WEEK, MONTH")
    offset = int(quota.get("offset") or 0)
    top = {"DAY": 0, "WEEK": 6, "MONTH": 27}[quota["period"]]
    if not 0 <= offset <= top:
        raise bad_request(
            f"Invalid quota offset specified: {offset}. Must be between 0 and {top} for period {quota['period']}"
        )
    if int(quota.get("limit") or 0) < 0:
        raise bad_request("Invalid quota limit specified: must not be negative")


def check_stages(state: RestApiState, ctx: RequestContext, stages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for given in stages:
        owned = state.owner_and_stages(given.get("apiId") or "")
        if owned is None or owned[:2] != (ctx.account_id, ctx.region):
            state.api(ctx.account_id, ctx.region, given.get("apiId") or "")  # AWS's not-found answer
        elif given.get("stage") not in owned[2]:
            raise bad_request(STAGE_NOT_FOUND)
        entry = {"apiId": given["apiId"], "stage": given["stage"]}
        if given.get("throttle"):
            entry["throttle"] = copy.deepcopy(given["throttle"])
        out.append(entry)
    return out


def day_of(text: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise bad_request(f"Invalid {what}: {text}. The date format must be yyyy-MM-dd") from None


class UsagePlansApi:
    state: RestApiState

    async def create_usage_plan(self, params: dict, ctx: RequestContext) -> dict:
        checks.description(params.get("description"))
        check_quota(params.get("quota"))
        stages = check_stages(self.state, ctx, params.get("apiStages") or [])
        plan: dict[str, Any] = {
            "id": new_id(taken=self.state.plans.get((ctx.account_id, ctx.region), {})),
            "name": params["name"],
            "apiStages": stages,
        }
        for name in ("description", "throttle", "quota", "productCode"):
            if params.get(name) is not None:
                plan[name] = copy.deepcopy(params[name])
        if plan.get("quota") is not None:
            plan["quota"].setdefault("offset", 0)
        if params.get("tags"):
            plan["tags"] = checks.tags(params["tags"])
        async with self.state.scope_lock(ctx.account_id, ctx.region):
            await self.state.save_plan(ctx.account_id, ctx.region, {"plan": plan, "keys": []})
        return shown_plan({"plan": plan})

    async def get_usage_plan(self, params: dict, ctx: RequestContext) -> dict:
        return shown_plan(self.state.plan(ctx.account_id, ctx.region, params["usagePlanId"]))

    async def get_usage_plans(self, params: dict, ctx: RequestContext) -> dict:
        plans = self.state.plans.get((ctx.account_id, ctx.region), {})
        key_id = params.get("keyId")
        chosen = sorted(p for p, held in plans.items() if not key_id or key_id in held["keys"])
        return listed(chosen, lambda p: shown_plan(plans[p]), params)

    async def update_usage_plan(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.scope_lock(ctx.account_id, ctx.region):
            held = copy.deepcopy(self.state.plan(ctx.account_id, ctx.region, params["usagePlanId"]))
            plan = held["plan"]

            def limit(member: str, key: str, convert):
                def run(change: patch.Change) -> None:
                    if change.op == "remove":
                        plan.get(member, {}).pop(key, None)
                    else:
                        plan.setdefault(member, {})[key] = convert(change)

                return run

            def stages(change: patch.Change) -> None:
                api_id, _, stage = change.text().partition(":")
                if change.op == "add":
                    if not any(s["apiId"] == api_id and s["stage"] == stage for s in plan["apiStages"]):
                        plan["apiStages"] += check_stages(self.state, ctx, [{"apiId": api_id, "stage": stage}])
                else:
                    plan["apiStages"] = [s for s in plan["apiStages"] if (s["apiId"], s["stage"]) != (api_id, stage)]

            def method_throttle(member: str, convert):
                def run(change: patch.Change) -> None:
                    api_id, _, stage = change.names[0].partition(":")
                    entry = next((s for s in plan["apiStages"] if (s["apiId"], s["stage"]) == (api_id, stage)), None)
                    if entry is None:
                        raise not_found(f"Invalid API Stage {change.names[0]} specified for this usage plan")
                    key = f"{change.names[1]}/{change.names[2]}"
                    table = entry.setdefault("throttle", {})
                    if change.op == "remove":
                        table.pop(key, None)
                    else:
                        table.setdefault(key, {})[member] = convert(change)

                return run

            def whole_method_throttle(change: patch.Change) -> None:
                api_id, _, stage = change.names[0].partition(":")
                for entry in plan["apiStages"]:
                    if (entry["apiId"], entry["stage"]) == (api_id, stage):
                        entry.get("throttle", {}).pop(f"{change.names[1]}/{change.names[2]}", None)

            rules = [
                patch.field(plan, "name"),
                patch.field(plan, "description"),
                patch.field(plan, "productCode"),
                patch.Rule(
                    "/throttle/burstLimit", ("replace", "add"), limit("throttle", "burstLimit", lambda c: c.integer())
                ),
                patch.Rule(
                    "/throttle/rateLimit", ("replace", "add"), limit("throttle", "rateLimit", lambda c: c.number())
                ),
                patch.Rule("/throttle", ("remove",), lambda c: plan.pop("throttle", None)),
                patch.Rule("/quota/limit", ("replace", "add"), limit("quota", "limit", lambda c: c.integer())),
                patch.Rule("/quota/offset", ("replace", "add"), limit("quota", "offset", lambda c: c.integer())),
                patch.Rule("/quota/period", ("replace", "add"), limit("quota", "period", lambda c: c.text())),
                patch.Rule("/quota", ("remove",), lambda c: plan.pop("quota", None)),
                patch.Rule("/apiStages", ("add", "remove"), stages),
                patch.Rule(
                    "/apiStages/*/throttle/*/*/burstLimit",
                    ("add", "replace", "remove"),
                    method_throttle("burstLimit", lambda c: c.integer()),
                ),
                patch.Rule(
                    "/apiStages/*/throttle/*/*/rateLimit",
                    ("add", "replace", "remove"),
                    method_throttle("rateLimit", lambda c: c.number()),
                ),
                patch.Rule("/apiStages/*/throttle/*/*", ("remove",), whole_method_throttle),
            ]
            patch.apply(params.get("patchOperations"), rules)
            if plan.get("quota") is not None:
                plan["quota"].setdefault("offset", 0)
                check_quota(plan["quota"])
            await self.state.save_plan(ctx.account_id, ctx.region, held)
        return shown_plan(held)

    async def delete_usage_plan(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.scope_lock(ctx.account_id, ctx.region):
            self.state.plan(ctx.account_id, ctx.region, params["usagePlanId"])
            await self.state.delete_plan(ctx.account_id, ctx.region, params["usagePlanId"])
        return {}

    # --- the keys of a plan ------------------------------------------------------------------

    def _plan_key(self, key_id: str, ctx: RequestContext) -> dict[str, Any]:
        record = self.state.key(ctx.account_id, ctx.region, key_id)
        out = {"id": record["id"], "type": "API_KEY", "value": record["value"]}
        if record.get("name"):
            out["name"] = record["name"]
        return out

    async def create_usage_plan_key(self, params: dict, ctx: RequestContext) -> dict:
        if params.get("keyType") != "API_KEY":
            raise bad_request(f"Invalid key type specified: {params.get('keyType')}. Valid values are API_KEY")
        async with self.state.scope_lock(ctx.account_id, ctx.region):
            held = self.state.plan(ctx.account_id, ctx.region, params["usagePlanId"])
            shown = self._plan_key(params["keyId"], ctx)
            if params["keyId"] in held["keys"]:
                raise conflict(
                    f"Usage Plan {params['usagePlanId']} cannot be added because API Key {params['keyId']} "
                    "already exists in it"
                )
            await self.state.save_plan(ctx.account_id, ctx.region, {**held, "keys": [*held["keys"], params["keyId"]]})
        return shown

    async def get_usage_plan_key(self, params: dict, ctx: RequestContext) -> dict:
        held = self.state.plan(ctx.account_id, ctx.region, params["usagePlanId"])
        if params["keyId"] not in held["keys"]:
            raise not_found(API_KEY_NOT_FOUND)
        return self._plan_key(params["keyId"], ctx)

    async def get_usage_plan_keys(self, params: dict, ctx: RequestContext) -> dict:
        held = self.state.plan(ctx.account_id, ctx.region, params["usagePlanId"])
        prefix = params.get("nameQuery")
        shown = {k: self._plan_key(k, ctx) for k in held["keys"]}
        chosen = sorted(k for k, v in shown.items() if not prefix or (v.get("name") or "").startswith(prefix))
        return listed(chosen, shown.__getitem__, params)

    async def delete_usage_plan_key(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.scope_lock(ctx.account_id, ctx.region):
            held = self.state.plan(ctx.account_id, ctx.region, params["usagePlanId"])
            if params["keyId"] not in held["keys"]:
                raise not_found(API_KEY_NOT_FOUND)
            await self.state.save_plan(
                ctx.account_id, ctx.region, {**held, "keys": [k for k in held["keys"] if k != params["keyId"]]}
            )
        return {}

    # --- usage -------------------------------------------------------------------------------

    def _usage(self, ctx: RequestContext, held: dict[str, Any], keys: list[str], first: dt.date, last: dt.date) -> dict:
        plan = held["plan"]
        quota = plan.get("quota")
        items: dict[str, list[list[int]]] = {}
        for key_id in keys:
            counts = self.state.usage.days(ctx.account_id, ctx.region, plan["id"], key_id)
            rows = []
            day = first
            while day <= last:
                used = counts.get(day.isoformat(), 0)
                if quota:
                    spent = self.state.usage.used_between(
                        ctx.account_id, ctx.region, plan["id"], key_id, period_start(quota, day), day
                    )
                    remaining = max(0, int(quota.get("limit", 0)) - spent)
                else:
                    remaining = 0
                rows.append([used, remaining])
                day += dt.timedelta(days=1)
            items[key_id] = rows
        return {"usagePlanId": plan["id"], "startDate": first.isoformat(), "endDate": last.isoformat(), "items": items}

    async def get_usage(self, params: dict, ctx: RequestContext) -> dict:
        held = self.state.plan(ctx.account_id, ctx.region, params["usagePlanId"])
        first = day_of(params["startDate"], "startDate")
        last = day_of(params["endDate"], "endDate")
        if last < first:
            raise bad_request("The end date must not be before the start date")
        if (last - first).days > 90:
            raise bad_request("The usage data can be retrieved for at most 90 days")
        keys = held["keys"]
        if params.get("keyId"):
            if params["keyId"] not in keys:
                raise not_found(API_KEY_NOT_FOUND)
            keys = [params["keyId"]]
        return self._usage(ctx, held, sorted(keys), first, last)

    async def update_usage(self, params: dict, ctx: RequestContext) -> dict:
        held = self.state.plan(ctx.account_id, ctx.region, params["usagePlanId"])
        key_id = params["keyId"]
        if key_id not in held["keys"]:
            raise not_found(API_KEY_NOT_FOUND)
        quota = held["plan"].get("quota")
        if not quota:
            raise bad_request("Usage plan has no quota: there is no remaining usage to update")
        day = today()
        start = period_start(quota, day)
        remaining: list[int] = []

        def grant(change: patch.Change) -> None:
            remaining.append(change.integer())

        patch.apply(params.get("patchOperations"), [patch.Rule("/remaining", ("replace",), grant)])
        if remaining:
            before = self.state.usage.used_between(
                ctx.account_id, ctx.region, held["plan"]["id"], key_id, start, day - dt.timedelta(days=1)
            )
            wanted = int(quota.get("limit", 0)) - remaining[-1] - before
            await self.state.usage.set(ctx.account_id, ctx.region, held["plan"]["id"], key_id, day, max(0, wanted))
        return self._usage(ctx, held, [key_id], start, day)
