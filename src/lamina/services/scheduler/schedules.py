"""Schedule operations: CreateSchedule, GetSchedule, UpdateSchedule (a full replace, as on
AWS: what the request leaves out goes back to its default), DeleteSchedule, ListSchedules."""

from __future__ import annotations

from typing import Any

from ...engine.timers.scheduler import Scheduler
from ..context import RequestContext
from .checks import schedule_spec
from .firing import Firing
from .paging import page
from .state import DEFAULT_GROUP, ScheduleRecord, SchedulerState, conflict, group_not_found, now_ms, schedule_not_found
from .tokens import RecentTokens, digest


class SchedulesApi:
    state: SchedulerState
    firing: Firing
    scheduler: Scheduler
    tokens: RecentTokens

    async def create_schedule(self, params: dict, ctx: RequestContext) -> dict:
        group = await self.state.group(ctx.account_id, ctx.region, params.get("GroupName"))
        spec = schedule_spec(params)
        name, token, request = params["Name"], params.get("ClientToken"), digest(params)
        key = f"{group.key}/{name}"
        async with self.firing.lock(key):
            if group.key not in self.state.groups:
                raise group_not_found(group.name)  # deleted while we waited
            existing = self.state.schedules.get(key)
            if existing is not None:
                if token and existing.client_token == token and existing.request_hash == request:
                    return {"ScheduleArn": existing.arn}  # a retry of the call that made it
                raise conflict(f"Schedule {name} already exists.")
            ms = now_ms()
            record = ScheduleRecord(
                ctx.account_id,
                ctx.region,
                group.name,
                name,
                spec,
                ms,
                ms,
                self.scheduler.now().timestamp(),
                token,
                request,
            )
            await self.state.save_schedule(record)
            self.firing.arm(record, fresh=True)
        return {"ScheduleArn": record.arn}

    async def update_schedule(self, params: dict, ctx: RequestContext) -> dict:
        group_name = params.get("GroupName") or DEFAULT_GROUP
        current = self.state.schedule(ctx.account_id, ctx.region, group_name, params["Name"])
        spec = schedule_spec(params)
        async with self.firing.lock(current.key):
            current = self.state.schedule(ctx.account_id, ctx.region, group_name, params["Name"])
            record = ScheduleRecord(
                current.account,
                current.region,
                current.group,
                current.name,
                spec,
                current.created_ms,
                now_ms(),
                self.scheduler.now().timestamp(),
                current.client_token,
                current.request_hash,
            )
            await self.state.save_schedule(record)
            self.firing.arm(record, fresh=True)
        return {"ScheduleArn": record.arn}

    async def get_schedule(self, params: dict, ctx: RequestContext) -> dict:
        record = self.state.schedule(ctx.account_id, ctx.region, params.get("GroupName"), params["Name"])
        return {
            "Arn": record.arn,
            "Name": record.name,
            "GroupName": record.group,
            **record.spec,
            "CreationDate": record.created_ms / 1000,
            "LastModificationDate": record.modified_ms / 1000,
        }

    async def delete_schedule(self, params: dict, ctx: RequestContext) -> dict:
        group_name, name, token = params.get("GroupName") or DEFAULT_GROUP, params["Name"], params.get("ClientToken")
        where = (ctx.account_id, ctx.region, group_name, name)
        if token and self.tokens.seen("DeleteSchedule", *where, token):
            return {}
        record = self.state.schedule(*where)
        async with self.firing.lock(record.key):
            if self.state.schedules.get(record.key) is not record:
                raise schedule_not_found(name)  # deleted (or replaced) while we waited
            self.firing.disarm(record)
            await self.state.delete_schedule(record)
        self.firing.locks.pop(record.key, None)
        if token:
            self.tokens.remember("DeleteSchedule", *where, token)
        return {}

    async def list_schedules(self, params: dict, ctx: RequestContext) -> dict:
        prefix = f"{ctx.account_id}:{ctx.region}:"
        if params.get("GroupName"):
            group = await self.state.group(ctx.account_id, ctx.region, params["GroupName"])
            prefix = f"{group.key}/"
        name_prefix, state = params.get("NamePrefix") or "", params.get("State")
        keys = sorted(
            key
            for key, record in self.state.schedules.items()
            if key.startswith(prefix)
            and record.name.startswith(name_prefix)
            and (state is None or record.spec.get("State") == state)
        )
        chosen, token = page(keys, params.get("NextToken"), params.get("MaxResults"))
        result: dict[str, Any] = {"Schedules": [_summary(self.state.schedules[key]) for key in chosen]}
        if token:
            result["NextToken"] = token
        return result


def _summary(record: ScheduleRecord) -> dict[str, Any]:
    return {
        "Arn": record.arn,
        "Name": record.name,
        "GroupName": record.group,
        "State": record.spec["State"],
        "CreationDate": record.created_ms / 1000,
        "LastModificationDate": record.modified_ms / 1000,
        "Target": {"Arn": record.spec["Target"]["Arn"]},
    }
