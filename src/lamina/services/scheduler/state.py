"""EventBridge Scheduler's schedules and groups: what they are, where they are kept, how they
are found.

    kind "scheduler_group"     key <account>:<region>:<group>          tags, dates
    kind "scheduler_schedule"  key <account>:<region>:<group>/<name>   the schedule as set
    kind "scheduler_outbox"    key outbox.new_key()                    a fired occurrence not yet delivered

Every change is written to the store before the caller hears of it; the maps here are
rebuilt from the store at startup. Each account and region has a `default` group, made
(and kept) the first time it is needed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ...errors import ServiceError
from ...store.base import Delete, Op, Put, Store

GROUP_KIND, SCHEDULE_KIND, OUTBOX_KIND = "scheduler_group", "scheduler_schedule", "scheduler_outbox"
DEFAULT_GROUP = "default"


def now_ms() -> int:
    return int(time.time() * 1000)


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message, 400)


def conflict(message: str) -> ServiceError:
    return ServiceError("ConflictException", message, 409)


def schedule_not_found(name: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"Schedule {name} does not exist.", 404)


def group_not_found(name: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"Schedule group {name} does not exist.", 404)


def group_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:scheduler:{region}:{account}:schedule-group/{name}"


def schedule_arn(region: str, account: str, group: str, name: str) -> str:
    return f"arn:aws:scheduler:{region}:{account}:schedule/{group}/{name}"


@dataclass
class Group:
    account: str
    region: str
    name: str
    tags: dict[str, str]
    created_ms: int
    modified_ms: int

    @property
    def key(self) -> str:
        return f"{self.account}:{self.region}:{self.name}"

    @property
    def arn(self) -> str:
        return group_arn(self.region, self.account, self.name)

    def doc(self) -> dict[str, Any]:
        return {"tags": self.tags, "created": self.created_ms, "modified": self.modified_ms}


@dataclass
class ScheduleRecord:
    """A schedule as CreateSchedule / UpdateSchedule set it (`spec`: the request's members,
    defaults filled in, dates as epoch seconds) plus what Lamina tracks about it."""

    account: str
    region: str
    group: str
    name: str
    spec: dict[str, Any]
    created_ms: int
    modified_ms: int
    anchor_s: float  # rate schedules without a StartDate count their periods from here
    client_token: str | None = None
    request_hash: str | None = None
    fired: bool = False  # a one-time schedule that has fired

    @property
    def key(self) -> str:
        return f"{self.account}:{self.region}:{self.group}/{self.name}"

    @property
    def arn(self) -> str:
        return schedule_arn(self.region, self.account, self.group, self.name)

    @property
    def enabled(self) -> bool:
        return self.spec.get("State", "ENABLED") == "ENABLED"

    def doc(self) -> dict[str, Any]:
        return {
            "spec": self.spec,
            "created": self.created_ms,
            "modified": self.modified_ms,
            "anchor": self.anchor_s,
            "token": self.client_token,
            "hash": self.request_hash,
            "fired": self.fired,
        }

    @classmethod
    def from_doc(cls, key: str, doc: dict[str, Any]) -> ScheduleRecord:
        account, region, rest = key.split(":", 2)
        group, name = rest.split("/", 1)
        return cls(
            account,
            region,
            group,
            name,
            doc["spec"],
            doc.get("created", 0),
            doc.get("modified", 0),
            doc.get("anchor", doc.get("created", 0) / 1000),
            doc.get("token"),
            doc.get("hash"),
            doc.get("fired", False),
        )


class SchedulerState:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.groups: dict[str, Group] = {}  # key -> group
        self.schedules: dict[str, ScheduleRecord] = {}  # key -> schedule

    async def load(self) -> None:
        for key, doc in await self.store.scan(GROUP_KIND):
            account, region, name = key.split(":", 2)
            self.groups[key] = Group(
                account, region, name, doc.get("tags") or {}, doc.get("created", 0), doc.get("modified", 0)
            )
        for key, doc in await self.store.scan(SCHEDULE_KIND):
            self.schedules[key] = ScheduleRecord.from_doc(key, doc)

    def reset(self) -> None:
        """Lamina's reset: no group or schedule (the default group comes back when asked for)."""
        self.groups.clear()
        self.schedules.clear()

    # --- finding ----------------------------------------------------------------------------------

    async def group(self, account: str, region: str, name: str | None) -> Group:
        """The named group (the default one when no name is given); ResourceNotFoundException."""
        name = name or DEFAULT_GROUP
        group = self.groups.get(f"{account}:{region}:{name}")
        if group is None and name == DEFAULT_GROUP:
            group = await self.ensure_default(account, region)
        if group is None:
            raise group_not_found(name)
        return group

    async def ensure_default(self, account: str, region: str) -> Group:
        key = f"{account}:{region}:{DEFAULT_GROUP}"
        if key not in self.groups:
            ms = now_ms()
            group = Group(account, region, DEFAULT_GROUP, {}, ms, ms)
            await self.store.write([Put(GROUP_KIND, key, group.doc())])
            self.groups.setdefault(key, group)
        return self.groups[key]

    def schedule(self, account: str, region: str, group: str | None, name: str) -> ScheduleRecord:
        record = self.schedules.get(f"{account}:{region}:{group or DEFAULT_GROUP}/{name}")
        if record is None:
            raise schedule_not_found(name)
        return record

    def schedules_of(self, group: Group) -> list[ScheduleRecord]:
        prefix = f"{group.key}/"
        return [record for key, record in self.schedules.items() if key.startswith(prefix)]

    def group_by_arn(self, arn: str) -> Group:
        # arn:aws:scheduler:<region>:<account>:schedule-group/<name> (the model checked the shape)
        parts = arn.split(":", 5)
        name = parts[5].split("/", 1)[1] if len(parts) == 6 and "/" in parts[5] else arn
        group = self.groups.get(f"{parts[4]}:{parts[3]}:{name}") if len(parts) == 6 else None
        if group is None:
            raise group_not_found(name)
        return group

    # --- persisting ---------------------------------------------------------------------------------

    async def save_group(self, group: Group) -> None:
        await self.store.write([Put(GROUP_KIND, group.key, group.doc())])
        self.groups[group.key] = group

    async def delete_group(self, group: Group) -> list[ScheduleRecord]:
        gone = self.schedules_of(group)
        await self.store.write([Delete(GROUP_KIND, group.key)] + [Delete(SCHEDULE_KIND, r.key) for r in gone])
        self.groups.pop(group.key, None)
        for record in gone:
            self.schedules.pop(record.key, None)
        return gone

    def put_schedule_op(self, record: ScheduleRecord) -> Op:
        return Put(SCHEDULE_KIND, record.key, record.doc())

    async def save_schedule(self, record: ScheduleRecord, also: list[Op] | None = None) -> None:
        await self.store.write([self.put_schedule_op(record)] + (also or []))
        self.schedules[record.key] = record

    async def delete_schedule(self, record: ScheduleRecord, also: list[Op] | None = None) -> None:
        await self.store.write([Delete(SCHEDULE_KIND, record.key)] + (also or []))
        if self.schedules.get(record.key) is record:
            del self.schedules[record.key]
