"""PutScheduledAction, DescribeScheduledActions, DeleteScheduledAction, and firing them.

Each action is a job on the engine's Scheduler (at(), rate() and cron() with a Timezone,
between StartTime and EndTime). A fire sets the target's MinCapacity/MaxCapacity to the
action's ScalableTargetAction and brings the capacity inside them, as AWS does. The last
occurrence fired is kept in the action's record, so that after a restart an occurrence
missed while the server was down fires once (the scheduler's rule for a start in the past)
and one already fired does not fire again.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone

from ... import ids
from ...engine.timers.expressions import InvalidSchedule, Schedule, parse
from ...engine.timers.scheduler import Scheduler
from ..context import RequestContext
from .capacity import Scaler
from .checks import check_capacity, check_namespace, target_ref
from .paging import page
from .state import AutoScalingState, TargetRef, object_not_found, ref_of, scheduled_arn, validation

log = logging.getLogger("lamina.autoscaling")

_PUBLIC = (
    "ScheduledActionName",
    "ScheduledActionARN",
    "ServiceNamespace",
    "Schedule",
    "Timezone",
    "ResourceId",
    "ScalableDimension",
    "StartTime",
    "EndTime",
    "ScalableTargetAction",
    "CreationTime",
)


def _moment(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, timezone.utc)


def _seconds(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


def schedule_of(record: dict) -> Schedule:
    schedule = parse(record["Schedule"], record.get("Timezone") or "UTC")
    if schedule.kind == "rate":
        # rate() counts from the action's start (or its creation), as AWS's does.
        anchor = record.get("StartTime") or record["CreationTime"]
        schedule = schedule.with_anchor(_moment(anchor))  # type: ignore[arg-type]
    return schedule


class Firing:
    """The scheduled actions' jobs on the Scheduler."""

    def __init__(self, state: AutoScalingState, scaler: Scaler, scheduler: Scheduler | None) -> None:
        self.state = state
        self.scaler = scaler
        self.scheduler = scheduler

    def start(self) -> None:
        for key, record in self.state.scheduled.items():
            self.arm(key, record)

    def stop(self) -> None:
        if self.scheduler is not None:
            for key in self.state.scheduled:
                self.scheduler.remove(_job(key))

    def arm(self, key: str, record: dict) -> None:
        if self.scheduler is None:
            return
        fired = record.get("_fired")
        start = _moment(fired + 0.001) if fired is not None else _moment(record.get("StartTime"))
        if start is None and record["Schedule"].startswith("at("):
            start = _moment(record["CreationTime"])  # an at() missed while down still fires once
        schedule = schedule_of(record)

        async def fire(scheduled: datetime) -> None:
            await self._fire(key, scheduled)

        self.scheduler.add(_job(key), schedule, fire, start=start, end=_moment(record.get("EndTime")))

    def disarm(self, key: str) -> None:
        if self.scheduler is not None:
            self.scheduler.remove(_job(key))

    def disarm_target(self, ref: TargetRef) -> None:
        for key in [k for k in self.state.scheduled if k.startswith(ref.key + "|")]:
            self.disarm(key)

    async def _fire(self, key: str, scheduled: datetime) -> None:
        record = self.state.scheduled.get(key)
        if record is None:
            return
        ref = ref_of(key.split("|", 1)[0])
        name = record["ScheduledActionName"]
        await self.state.put_scheduled(ref, name, dict(record, _fired=scheduled.timestamp()))
        target = self.state.target(ref)
        if target is None or target["SuspendedState"].get("ScheduledScalingSuspended"):
            return
        action = record.get("ScalableTargetAction") or {}
        target = dict(target)
        for member in ("MinCapacity", "MaxCapacity"):
            if action.get(member) is not None:
                target[member] = action[member]
        if target["MinCapacity"] > target["MaxCapacity"]:
            # The action's one bound crosses the target's other: AWS moves that one too.
            if action.get("MinCapacity") is not None:
                target["MaxCapacity"] = target["MinCapacity"]
            else:
                target["MinCapacity"] = target["MaxCapacity"]
        await self.state.put_target(ref, target)
        await self.scaler.within_bounds(ref, target, f"scheduled action name {name} was triggered")


def _job(key: str) -> str:
    return f"application-autoscaling:{key}"


class ScheduledApi:
    state: AutoScalingState
    firing: Firing

    async def put_scheduled_action(self, params: dict, ctx: RequestContext) -> dict:
        ref = target_ref(params, ctx)
        name = params["ScheduledActionName"]
        if self.state.target(ref) is None:
            raise object_not_found(f"No scalable target registered for {ref.describe()}")
        key = f"{ref.key}|{name}"
        existing = self.state.scheduled.get(key)
        if existing is None and not params.get("Schedule"):
            raise validation("Schedule is required when creating a scheduled action")
        action = params.get("ScalableTargetAction")
        if action is not None:
            check_capacity("MinCapacity", action.get("MinCapacity"))
            check_capacity("MaxCapacity", action.get("MaxCapacity"))
            low, high = action.get("MinCapacity"), action.get("MaxCapacity")
            if low is not None and high is not None and low > high:
                raise validation("Minimum capacity cannot be greater than maximum capacity")
        record = (
            dict(existing)
            if existing
            else {
                "ScheduledActionName": name,
                "ScheduledActionARN": scheduled_arn(ref, ids.uuid4(), name),
                "ServiceNamespace": ref.namespace,
                "ResourceId": ref.resource_id,
                "ScalableDimension": ref.dimension,
                "CreationTime": time.time(),
            }
        )
        for member in ("Schedule", "Timezone", "ScalableTargetAction"):
            if params.get(member) is not None:
                record[member] = params[member]
        for member in ("StartTime", "EndTime"):
            if params.get(member) is not None:
                record[member] = _seconds(params[member])
        if record.get("StartTime") and record.get("EndTime") and record["StartTime"] > record["EndTime"]:
            raise validation("The EndTime must be later than the StartTime")
        try:
            schedule_of(record)
        except InvalidSchedule as error:
            raise validation(f"Invalid schedule expression: {record['Schedule']}. {error.reason}") from None
        record.pop("_fired", None)  # a changed action starts afresh
        await self.state.put_scheduled(ref, name, record)
        self.firing.arm(key, record)
        return {}

    async def describe_scheduled_actions(self, params: dict, ctx: RequestContext) -> dict:
        check_namespace(params["ServiceNamespace"])
        names = set(params.get("ScheduledActionNames") or ())
        prefix = f"{ctx.account_id}:{ctx.region}:{params['ServiceNamespace']}:"
        found = [
            public_action(record)
            for key, record in sorted(self.state.scheduled.items())
            if key.startswith(prefix)
            and (not names or record["ScheduledActionName"] in names)
            and (not params.get("ResourceId") or record["ResourceId"] == params["ResourceId"])
            and (not params.get("ScalableDimension") or record["ScalableDimension"] == params["ScalableDimension"])
        ]
        return page(found, params, "ScheduledActions")

    async def delete_scheduled_action(self, params: dict, ctx: RequestContext) -> dict:
        ref = target_ref(params, ctx)
        name = params["ScheduledActionName"]
        key = f"{ref.key}|{name}"
        if key not in self.state.scheduled:
            raise object_not_found(f"No scheduled action found for {ref.describe()}, scheduled action name: {name}")
        self.firing.disarm(key)
        await self.state.delete_scheduled(ref, name)
        return {}


def public_action(record: dict) -> dict:
    return {k: record[k] for k in _PUBLIC if k in record}
