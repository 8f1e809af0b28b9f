"""Replays: StartReplay, DescribeReplay, ListReplays, CancelReplay.

A replay sends an archive's events accepted between EventStartTime and EventEndTime back to
the archive's bus, to its rules (only those named in Destination.FilterArns, when given), each
event whole as it was archived (its id and time) with "replay-name" added, as AWS does.
Replayed events are not archived again.

States, as AWS has them: STARTING (accepted) -> RUNNING -> COMPLETED; CancelReplay of a
STARTING or RUNNING replay -> CANCELLING -> CANCELLED; FAILED (the archive or the bus went
away) with a StateReason. Anything else cannot be cancelled (IllegalStatusException).

    kind "events_replay"  key <account>:<region>:<name>   the replay, with `position`: the
                                                          archive key of the last event sent

A replay sends its events in batches; each batch's deliveries are committed in the same
store write that moves the replay's position, so a replay interrupted by a stop or a crash
resumes after its last committed batch when the server starts again (a CANCELLING one ends
CANCELLED).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ...errors import ServiceError
from ...store.base import Put
from ..context import RequestContext
from .archives import Archive, Archives
from .state import Bus, EventsState, listed, now_ms, parse_bus_arn, parse_rule_arn, validation

log = logging.getLogger("lamina.events")

REPLAY_KIND = "events_replay"
BATCH = 100
MAX_ACTIVE = 10  # AWS's quota of concurrent replays per account and region
ACTIVE = ("STARTING", "RUNNING", "CANCELLING")


def replay_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:events:{region}:{account}:replay/{name}"


def _ms(value: Any) -> int:
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    return int(float(value) * 1000)


@dataclass
class Replay:
    account: str
    region: str
    name: str
    source: str  # the archive ARN
    destination: dict
    start_ms: int
    end_ms: int
    description: str | None = None
    state: str = "STARTING"
    reason: str | None = None
    started_ms: int = field(default_factory=now_ms)
    ended_ms: int | None = None
    last_replayed_ms: int | None = None
    position: str | None = None

    @property
    def arn(self) -> str:
        return replay_arn(self.region, self.account, self.name)

    @property
    def key(self) -> str:
        return f"{self.account}:{self.region}:{self.name}"

    def doc(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "region": self.region,
            "name": self.name,
            "source": self.source,
            "destination": self.destination,
            "start": self.start_ms,
            "end": self.end_ms,
            "description": self.description,
            "state": self.state,
            "reason": self.reason,
            "started": self.started_ms,
            "ended": self.ended_ms,
            "last": self.last_replayed_ms,
            "position": self.position,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Replay:
        return cls(
            doc["account"],
            doc["region"],
            doc["name"],
            doc["source"],
            doc.get("destination") or {},
            doc.get("start", 0),
            doc.get("end", 0),
            doc.get("description"),
            doc.get("state") or "STARTING",
            doc.get("reason"),
            doc.get("started", 0),
            doc.get("ended"),
            doc.get("last"),
            doc.get("position"),
        )

    def put(self) -> Put:
        return Put(REPLAY_KIND, self.key, self.doc())

    def shown(self, full: bool) -> dict:
        shown: dict[str, Any] = {
            "ReplayName": self.name,
            "EventSourceArn": self.source,
            "State": self.state,
            "EventStartTime": self.start_ms / 1000,
            "EventEndTime": self.end_ms / 1000,
            "ReplayStartTime": self.started_ms / 1000,
        }
        if self.reason:
            shown["StateReason"] = self.reason
        if self.last_replayed_ms is not None:
            shown["EventLastReplayedTime"] = self.last_replayed_ms / 1000
        if self.ended_ms is not None:
            shown["ReplayEndTime"] = self.ended_ms / 1000
        if full:
            shown["ReplayArn"] = self.arn
            shown["Destination"] = self.destination
            if self.description is not None:
                shown["Description"] = self.description
        return shown


class ReplaysApi:
    state: EventsState
    archives: Archives
    replays: dict[tuple[str, str, str], Replay]
    _replay_tasks: dict[str, asyncio.Task]
    accept: Callable[..., Awaitable[int]]  # PutEventsApi.accept

    # --- lifecycle ------------------------------------------------------------------------------

    async def load_replays(self) -> None:
        for _, doc in await self.state.store.scan(REPLAY_KIND):
            replay = Replay.from_doc(doc)
            self.replays[(replay.account, replay.region, replay.name)] = replay
            if replay.state in ACTIVE:
                self._spawn_replay(replay)

    async def stop_replays(self) -> None:
        tasks = list(self._replay_tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._replay_tasks.clear()

    def _spawn_replay(self, replay: Replay) -> None:
        task = asyncio.get_running_loop().create_task(self._run_replay(replay))
        self._replay_tasks[replay.key] = task
        task.add_done_callback(lambda _: self._replay_tasks.pop(replay.key, None))

    # --- running ----------------------------------------------------------------------------------

    async def _run_replay(self, replay: Replay) -> None:
        try:
            await self._replay(replay)
        except asyncio.CancelledError:
            raise  # the server stops: the store keeps the replay where its last batch left it
        except Exception as error:  # noqa: BLE001 - the replay fails, the server goes on
            log.exception("replay %s failed", replay.arn)
            await self._finish(replay, "FAILED", str(error)[:256] or type(error).__name__)

    async def _replay(self, replay: Replay) -> None:
        archive = self._archive_of(replay)
        if archive is None:
            await self._finish(replay, "FAILED", f"Archive {replay.source.rsplit('/', 1)[-1]} does not exist.")
            return
        bus = self.state.bus(archive.bus)
        if bus is None:
            await self._finish(replay, "FAILED", f"Event bus {archive.bus[2]} does not exist.")
            return
        if replay.state == "CANCELLING":
            await self._finish(replay, "CANCELLED")
            return
        if replay.state == "STARTING":
            replay.state = "RUNNING"
            await self.state.store.write([replay.put()])
        rules = frozenset(replay.destination.get("FilterArns") or ()) or None
        batch: list[tuple[str, dict]] = []
        async for key, doc in self.archives.events(archive, replay.start_ms, replay.end_ms, after=replay.position):
            if replay.state == "CANCELLING":
                break
            try:
                event = json.loads(doc["event"])
            except (ValueError, KeyError):
                continue
            event["replay-name"] = replay.name
            batch.append((key, event))
            if len(batch) >= BATCH:
                await self._send_batch(replay, bus, archive, batch, rules)
                batch = []
                await asyncio.sleep(0)  # let the API and other work in between batches
        if batch and replay.state != "CANCELLING":
            await self._send_batch(replay, bus, archive, batch, rules)
        await self._finish(replay, "CANCELLED" if replay.state == "CANCELLING" else "COMPLETED")

    async def _send_batch(
        self, replay: Replay, bus: Bus, archive: Archive, batch: list[tuple[str, dict]], rules: frozenset | None
    ) -> None:
        last_key = batch[-1][0]
        replay.position = last_key
        prefix = archive.events_prefix
        replay.last_replayed_ms = int(last_key[len(prefix) : len(prefix) + 15])
        await self.accept([(bus, event) for _, event in batch], rules=rules, replayed=True, extra=[replay.put()])

    async def _finish(self, replay: Replay, state: str, reason: str | None = None) -> None:
        replay.state = state
        replay.reason = reason
        replay.ended_ms = now_ms()
        await self.state.store.write([replay.put()])

    def _archive_of(self, replay: Replay) -> Archive | None:
        name = replay.source.rsplit("/", 1)[-1]
        return self.archives.all.get((replay.account, replay.region, name))

    # --- the API ----------------------------------------------------------------------------------

    def _replay_named(self, name: str, ctx: RequestContext) -> Replay:
        replay = self.replays.get((ctx.account_id, ctx.region, name))
        if replay is None:
            raise ServiceError("ResourceNotFoundException", f"Replay {name} does not exist.", 400)
        return replay

    async def start_replay(self, params: dict, ctx: RequestContext) -> dict:
        name = params["ReplayName"]
        if (ctx.account_id, ctx.region, name) in self.replays:
            raise ServiceError("ResourceAlreadyExistsException", f"Replay {name} already exists.", 400)
        start_ms, end_ms = _ms(params["EventStartTime"]), _ms(params["EventEndTime"])
        if end_ms <= start_ms:
            raise validation("Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.")
        source = params["EventSourceArn"]
        archive_name = source.rsplit("/", 1)[-1]
        archive = self.archives.all.get((ctx.account_id, ctx.region, archive_name))
        if archive is None or archive.arn != source:
            raise validation(f"Parameter EventSourceArn is not valid. Reason: Archive {archive_name} does not exist.")
        destination = params["Destination"]
        target = destination["Arn"]
        if target != archive.source:
            key = parse_bus_arn(target)
            if key is not None and self.state.bus(key) is not None:
                raise validation(
                    "Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted."
                )
            raise ServiceError(
                "ResourceNotFoundException", f"Event bus {key[2] if key else target} does not exist.", 400
            )
        bus = self.state.existing_bus(archive.bus)
        for rule_arn in destination.get("FilterArns") or []:
            parsed = parse_rule_arn(rule_arn)
            if parsed is None or parsed[0] != archive.bus:
                raise validation(
                    f"Parameter Destination.FilterArns is not valid. Reason: {rule_arn} is not a rule of event bus "
                    f"{bus.name}."
                )
            if parsed[1] not in bus.rules:
                raise ServiceError(
                    "ResourceNotFoundException", f"Rule {parsed[1]} does not exist on EventBus {bus.name}.", 400
                )
        active = sum(
            1
            for (account, region, _), other in self.replays.items()
            if account == ctx.account_id and region == ctx.region and other.state in ACTIVE
        )
        if active >= MAX_ACTIVE:
            raise ServiceError(
                "LimitExceededException", "The requested resource exceeds the maximum number allowed.", 400
            )
        shown_destination = {"Arn": target}
        if destination.get("FilterArns"):
            shown_destination["FilterArns"] = list(destination["FilterArns"])
        replay = Replay(
            ctx.account_id,
            ctx.region,
            name,
            source,
            shown_destination,
            start_ms,
            end_ms,
            params.get("Description"),
        )
        await self.state.store.write([replay.put()])
        self.replays[(replay.account, replay.region, replay.name)] = replay
        self._spawn_replay(replay)
        return {"ReplayArn": replay.arn, "State": "STARTING", "ReplayStartTime": replay.started_ms / 1000}

    async def describe_replay(self, params: dict, ctx: RequestContext) -> dict:
        return self._replay_named(params["ReplayName"], ctx).shown(full=True)

    async def list_replays(self, params: dict, ctx: RequestContext) -> dict:
        source, state = params.get("EventSourceArn"), params.get("State")
        return listed(
            self.replays,
            params,
            ctx,
            "Replays",
            lambda replay: replay.shown(full=False),
            lambda replay: (not source or replay.source == source) and (not state or replay.state == state),
        )

    async def cancel_replay(self, params: dict, ctx: RequestContext) -> dict:
        replay = self._replay_named(params["ReplayName"], ctx)
        if replay.state not in ("STARTING", "RUNNING"):
            raise ServiceError(
                "IllegalStatusException", f"Replay {replay.name} is not in a valid state for this operation.", 400
            )
        replay.state = "CANCELLING"
        await self.state.store.write([replay.put()])
        if replay.key not in self._replay_tasks:
            self._spawn_replay(replay)
        return {"ReplayArn": replay.arn, "State": "CANCELLING"}
