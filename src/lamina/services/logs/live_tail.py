"""StartLiveTail: log events streamed as they arrive.

The answer's responseStream is an async iterator (protocol/eventstream.py frames it): one
sessionStart, then a sessionUpdate every second holding the events that arrived since the
last one (at most 500: beyond that the update is a sample and says sampled=true, as AWS's).
Events reach sessions through Ingest (ingest.py), which sees every event entering a log
group: function output from the log sink as it is emitted, PutLogEvents and deliveries to
a group as they are committed. A session ends after 3 hours with SessionTimeoutException,
with SessionStreamingException when its log group is deleted, or when the client leaves.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from ...errors import ServiceError
from ...store.base import Store
from ..context import RequestContext
from .filter_pattern import FilterPatternError, compile_pattern
from .resources import GROUP_KIND, group_from_identifier, invalid_parameter, not_found, now_ms

MAX_GROUPS = 10
MAX_STREAM_NAMES = 100
MAX_SESSIONS = 15  # concurrent sessions per account and region
MAX_EVENTS_PER_UPDATE = 500
UPDATE_INTERVAL_S = 1.0
MAX_SESSION_S = 3 * 3600
BUFFER_LIMIT = 10 * MAX_EVENTS_PER_UPDATE  # events held between updates; beyond it, sampled


@dataclass
class Session:
    session_id: str
    scope: tuple[str, str]
    groups: dict[str, str]  # group store key -> the identifier the client gave
    names: frozenset[str]
    prefixes: tuple[str, ...]
    matcher: Any
    pending: list[dict] = field(default_factory=list)
    seen: int = 0  # events matched since the last update (more than pending when sampled)
    ended: ServiceError | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def wants(self, stream: str) -> bool:
        if self.names and stream not in self.names:
            return False
        return not self.prefixes or stream.startswith(self.prefixes)

    def offer(self, group: str, stream: str, events: list[tuple[int, str]], ingestion: int) -> None:
        if not self.wants(stream):
            return
        identifier = self.groups[group]
        for timestamp, message in events:
            if not self.matcher(message):
                continue
            self.seen += 1
            event = {
                "logStreamName": stream,
                "logGroupIdentifier": identifier,
                "message": message,
                "timestamp": timestamp,
                "ingestionTime": ingestion,
            }
            if len(self.pending) < BUFFER_LIMIT:
                self.pending.append(event)
            else:  # reservoir sampling keeps a fair sample of a flood
                slot = random.randrange(self.seen)
                if slot < BUFFER_LIMIT:
                    self.pending[slot] = event

    def take(self) -> tuple[list[dict], bool]:
        pending, seen = self.pending, self.seen
        self.pending, self.seen = [], 0
        if seen <= MAX_EVENTS_PER_UPDATE:
            return pending, False
        chosen = sorted(random.sample(range(len(pending)), min(MAX_EVENTS_PER_UPDATE, len(pending))))
        return [pending[index] for index in chosen], True


class LiveTails:
    """The open sessions, by the group keys they watch."""

    def __init__(self, max_session_s: float = MAX_SESSION_S, interval_s: float = UPDATE_INTERVAL_S) -> None:
        self.by_group: dict[str, list[Session]] = {}
        self.max_session_s = max_session_s
        self.interval_s = interval_s

    def publish(self, group: str, stream: str, events: list[tuple[int, str]]) -> None:
        """Events entering a group (no I/O, never raises; a dictionary lookup when nobody tails)."""
        sessions = self.by_group.get(group)
        if not sessions:
            return
        ingestion = now_ms()
        for session in list(sessions):
            session.offer(group, stream, events, ingestion)

    def count(self, scope: tuple[str, str]) -> int:
        return len({id(s) for sessions in self.by_group.values() for s in sessions if s.scope == scope})

    def add(self, session: Session) -> None:
        for group in session.groups:
            self.by_group.setdefault(group, []).append(session)

    def remove(self, session: Session) -> None:
        for group in session.groups:
            sessions = self.by_group.get(group, [])
            if session in sessions:
                sessions.remove(session)
            if not sessions:
                self.by_group.pop(group, None)

    def group_deleted(self, group: str, name: str) -> None:
        for session in list(self.by_group.get(group, [])):
            session.ended = ServiceError(
                "SessionStreamingException", f"The log group {name} was deleted; the session ended.", 400
            )
            session.wake.set()

    def end_all(self) -> None:
        for sessions in list(self.by_group.values()):
            for session in sessions:
                session.ended = ServiceError("SessionStreamingException", "The service is stopping.", 400)
                session.wake.set()

    async def stream(self, session: Session, start: dict) -> AsyncIterator[dict]:
        deadline = time.monotonic() + self.max_session_s
        try:
            yield {"sessionStart": start}
            while True:
                try:
                    await asyncio.wait_for(session.wake.wait(), self.interval_s)
                except TimeoutError:
                    pass
                if session.ended is not None:
                    raise session.ended
                events, sampled = session.take()
                yield {"sessionUpdate": {"sessionMetadata": {"sampled": sampled}, "sessionResults": events}}
                if time.monotonic() >= deadline:
                    raise ServiceError(
                        "SessionTimeoutException", "Session timed out: a Live Tail session lasts at most 3 hours.", 400
                    )
        finally:
            self.remove(session)


class LiveTailApi:
    store: Store
    live_tails: LiveTails

    async def start_live_tail(self, params: dict, ctx: RequestContext) -> dict:
        identifiers = params["logGroupIdentifiers"]
        names = params.get("logStreamNames") or []
        prefixes = params.get("logStreamNamePrefixes") or []
        if not identifiers or len(identifiers) > MAX_GROUPS:
            raise invalid_parameter(f"logGroupIdentifiers must name between 1 and {MAX_GROUPS} log groups.")
        if names and prefixes:
            raise invalid_parameter("logStreamNames and logStreamNamePrefixes are mutually exclusive parameters.")
        if (names or prefixes) and len(identifiers) != 1:
            raise invalid_parameter(
                "logStreamNames and logStreamNamePrefixes can be specified only with exactly one log group."
            )
        if len(names) > MAX_STREAM_NAMES or len(prefixes) > MAX_STREAM_NAMES:
            raise invalid_parameter(f"At most {MAX_STREAM_NAMES} log stream names or prefixes can be given.")
        pattern = params.get("logEventFilterPattern")
        try:
            matcher = compile_pattern(pattern)
        except FilterPatternError:
            raise invalid_parameter("Invalid filter pattern") from None
        groups: dict[str, str] = {}
        for identifier in identifiers:
            ref = group_from_identifier(identifier, ctx)
            if await self.store.get(GROUP_KIND, ref.key) is None:
                raise not_found("The specified log group does not exist.")
            groups[ref.key] = identifier
        scope = (ctx.account_id, ctx.region)
        if self.live_tails.count(scope) >= MAX_SESSIONS:
            raise ServiceError(
                "LimitExceededException", f"You have reached the maximum of {MAX_SESSIONS} Live Tail sessions.", 400
            )
        session = Session(str(uuid.uuid4()), scope, groups, frozenset(names), tuple(prefixes), matcher)
        self.live_tails.add(session)  # from now on, nothing that arrives is missed
        start: dict[str, Any] = {
            "requestId": ctx.request_id,
            "sessionId": session.session_id,
            "logGroupIdentifiers": list(identifiers),
            "logStreamNames": list(names),
            "logStreamNamePrefixes": list(prefixes),
            "logEventFilterPattern": pattern or "",
        }
        return {"responseStream": self.live_tails.stream(session, start)}
