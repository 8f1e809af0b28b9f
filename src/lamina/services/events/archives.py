"""Archives: CreateArchive, DescribeArchive, ListArchives, UpdateArchive, DeleteArchive, and
keeping the events a bus accepts.

An archive belongs to one bus (EventSourceArn) and keeps every event put on it that matches
its EventPattern (every event without one), with the event's original text, for
RetentionDays days (0: forever). Events are kept by `PutEventsApi.accept`, in the same store
batch that commits the event's deliveries, so an accepted event is archived once it is
acknowledged. Replayed events are not archived again.

    kind "events_archive"   key <account>:<region>:<name>                       the archive
    kind "events_archived"  key <account>:<region>:<name>:<ms>-<boot>-<seq>     {"event": text}

<ms> is when the bus accepted the event (15 digits): a replay reads one archive's events in
the order they came, between its EventStartTime and EventEndTime. EventCount and SizeBytes
are counted in memory, rebuilt from the kept events at start; retention is applied at
start and every hour.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from ...errors import ServiceError
from ...patterns import InvalidPattern, Pattern, compile_pattern
from ...store.base import Delete, DeletePrefix, Put, Store
from ..context import RequestContext
from .state import BusKey, EventsState, now_ms, page, parse_bus_arn, validation

log = logging.getLogger("lamina.events")

ARCHIVE_KIND, ARCHIVED_KIND = "events_archive", "events_archived"
MAX_ARCHIVES = 200  # AWS's quota per account and region
RETENTION_SWEEP_S = 3600.0
_SCAN_PAGE = 1000

ArchiveKey = tuple[str, str, str]  # (account, region, archive name)


def archive_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:events:{region}:{account}:archive/{name}"


def archive_not_found(name: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"Archive {name} does not exist.", 400)


@dataclass
class Archive:
    account: str
    region: str
    name: str
    source: str  # the bus ARN
    bus: BusKey
    description: str | None = None
    pattern_text: str | None = None
    retention_days: int = 0
    created_ms: int = field(default_factory=now_ms)
    state: str = "ENABLED"
    event_count: int = 0
    size_bytes: int = 0
    pattern: Pattern | None = field(default=None, repr=False)

    @property
    def arn(self) -> str:
        return archive_arn(self.region, self.account, self.name)

    @property
    def key(self) -> str:
        return f"{self.account}:{self.region}:{self.name}"

    @property
    def events_prefix(self) -> str:
        return self.key + ":"

    def keeps(self, event: dict) -> bool:
        if self.pattern is None:
            return self.pattern_text is None
        try:
            return self.pattern.matches(event)
        except Exception:  # noqa: BLE001 - one archive's matcher must not fail PutEvents
            log.exception("matching archive %s", self.arn)
            return False

    def doc(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "region": self.region,
            "name": self.name,
            "source": self.source,
            "description": self.description,
            "pattern": self.pattern_text,
            "retention": self.retention_days,
            "created": self.created_ms,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Archive:
        bus = parse_bus_arn(doc["source"]) or (doc["account"], doc["region"], "default")
        archive = cls(
            doc["account"],
            doc["region"],
            doc["name"],
            doc["source"],
            bus,
            doc.get("description"),
            doc.get("pattern"),
            doc.get("retention") or 0,
            doc.get("created", 0),
        )
        if archive.pattern_text:
            try:
                archive.pattern = compile_pattern(archive.pattern_text)
            except InvalidPattern as error:
                log.warning("event pattern of archive %s no longer compiles: %s", archive.arn, error)
        return archive


class Archives:
    """Every archive, in memory, and per bus the archives that keep its events."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.all: dict[ArchiveKey, Archive] = {}
        self.by_bus: dict[BusKey, list[Archive]] = {}
        self._sweeper: asyncio.Task | None = None

    async def load(self) -> None:
        for _, doc in await self.store.scan(ARCHIVE_KIND):
            archive = Archive.from_doc(doc)
            await self._count(archive)
            self._add(archive)
        await self.sweep()
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
            self._sweeper = None

    def reset(self) -> None:
        self.all.clear()
        self.by_bus.clear()

    def _add(self, archive: Archive) -> None:
        self.all[(archive.account, archive.region, archive.name)] = archive
        self.by_bus.setdefault(archive.bus, []).append(archive)

    def _remove(self, archive: Archive) -> None:
        self.all.pop((archive.account, archive.region, archive.name), None)
        kept = [other for other in self.by_bus.get(archive.bus, []) if other is not archive]
        if kept:
            self.by_bus[archive.bus] = kept
        else:
            self.by_bus.pop(archive.bus, None)

    async def _count(self, archive: Archive) -> None:
        count = size = 0
        async for _, doc in self.events(archive):
            count += 1
            size += len(doc.get("event", "").encode("utf-8"))
        archive.event_count, archive.size_bytes = count, size

    async def events(self, archive: Archive, start_ms: int = 0, end_ms: int | None = None, after: str | None = None):
        """(key, document) of the archive's events accepted from start_ms to end_ms (inclusive),
        after the key `after` if given, in the order they were accepted; read in pages."""
        prefix = archive.events_prefix
        cursor = after or (f"{prefix}{start_ms - 1:015d}~" if start_ms > 0 else None)
        while True:
            batch = await self.store.scan(ARCHIVED_KIND, prefix, after=cursor, limit=_SCAN_PAGE)
            for key, doc in batch:
                if end_ms is not None and int(key[len(prefix) : len(prefix) + 15]) > end_ms:
                    return
                yield key, doc
            if len(batch) < _SCAN_PAGE:
                return
            cursor = batch[-1][0]

    async def sweep(self) -> None:
        """Forget the events older than their archive's retention."""
        now = now_ms()
        for archive in list(self.all.values()):
            if archive.retention_days <= 0:
                continue
            cutoff = now - archive.retention_days * 86_400_000
            old: list[Delete] = []
            forgotten = 0
            async for key, _ in self.events(archive, end_ms=cutoff):
                old.append(Delete(ARCHIVED_KIND, key))
                forgotten += 1
                if len(old) >= _SCAN_PAGE:
                    await self.store.write(old)
                    old = []
            if old:
                await self.store.write(old)
            if forgotten:
                await self._count(archive)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(RETENTION_SWEEP_S)
            try:
                await self.sweep()
            except Exception:  # noqa: BLE001 - try again in an hour
                log.exception("applying archive retention")

    def puts(self, bus: BusKey, event: dict, event_text: str, key_suffix: str) -> list[Put]:
        """The store operations archiving one accepted event (none when no archive keeps it);
        the counts are raised by `counted` once they are committed."""
        archives = self.by_bus.get(bus)
        if not archives:
            return []
        return [
            Put(ARCHIVED_KIND, archive.events_prefix + key_suffix, {"event": event_text})
            for archive in archives
            if archive.keeps(event)
        ]

    def counted(self, puts: list[Put]) -> None:
        for put in puts:
            account, region, name, _ = put.key.split(":", 3)
            archive = self.all.get((account, region, name))
            if archive is not None:
                archive.event_count += 1
                archive.size_bytes += len(put.doc["event"].encode("utf-8"))


def _shown(archive: Archive, full: bool) -> dict:
    shown: dict[str, Any] = {
        "ArchiveName": archive.name,
        "EventSourceArn": archive.source,
        "State": archive.state,
        "RetentionDays": archive.retention_days,
        "SizeBytes": archive.size_bytes,
        "EventCount": archive.event_count,
        "CreationTime": archive.created_ms / 1000,
    }
    if full:
        shown["ArchiveArn"] = archive.arn
        if archive.description is not None:
            shown["Description"] = archive.description
        if archive.pattern_text is not None:
            shown["EventPattern"] = archive.pattern_text
    return shown


class ArchivesApi:
    state: EventsState
    archives: Archives

    def _archive(self, name: str, ctx: RequestContext) -> Archive:
        archive = self.archives.all.get((ctx.account_id, ctx.region, name))
        if archive is None:
            raise archive_not_found(name)
        return archive

    async def create_archive(self, params: dict, ctx: RequestContext) -> dict:
        from .rules import compile_or_refuse

        name = params["ArchiveName"]
        if (ctx.account_id, ctx.region, name) in self.archives.all:
            raise ServiceError("ResourceAlreadyExistsException", f"Archive {name} already exists.", 400)
        source = params["EventSourceArn"]
        bus = parse_bus_arn(source)
        if bus is None:
            raise validation(f"Parameter EventSourceArn is not valid. Reason: {source} is not a valid event bus ARN.")
        self.state.existing_bus(bus)
        text = params.get("EventPattern") or None
        pattern = compile_or_refuse(text) if text is not None else None
        if sum(1 for key in self.archives.all if key[:2] == (ctx.account_id, ctx.region)) >= MAX_ARCHIVES:
            raise ServiceError(
                "LimitExceededException", "The requested resource exceeds the maximum number allowed.", 400
            )
        archive = Archive(
            ctx.account_id,
            ctx.region,
            name,
            source,
            bus,
            params.get("Description"),
            text,
            params.get("RetentionDays") or 0,
            pattern=pattern,
        )
        await self.state.store.write([Put(ARCHIVE_KIND, archive.key, archive.doc())])
        self.archives._add(archive)
        return {"ArchiveArn": archive.arn, "State": archive.state, "CreationTime": archive.created_ms / 1000}

    async def describe_archive(self, params: dict, ctx: RequestContext) -> dict:
        return _shown(self._archive(params["ArchiveName"], ctx), full=True)

    async def list_archives(self, params: dict, ctx: RequestContext) -> dict:
        prefix = params.get("NamePrefix") or ""
        source, state = params.get("EventSourceArn"), params.get("State")
        if source:
            bus = parse_bus_arn(source)
            if bus is None:
                raise validation(
                    f"Parameter EventSourceArn is not valid. Reason: {source} is not a valid event bus ARN."
                )
            self.state.existing_bus(bus)
        chosen_archives = {
            archive.name: archive
            for (account, region, name), archive in self.archives.all.items()
            if account == ctx.account_id
            and region == ctx.region
            and name.startswith(prefix)
            and (not source or archive.source == source)
            and (not state or archive.state == state)
        }
        names, token = page(sorted(chosen_archives), params.get("NextToken"), params.get("Limit"))
        result: dict = {"Archives": [_shown(chosen_archives[name], full=False) for name in names]}
        if token:
            result["NextToken"] = token
        return result

    async def update_archive(self, params: dict, ctx: RequestContext) -> dict:
        from .rules import compile_or_refuse

        archive = self._archive(params["ArchiveName"], ctx)
        if "EventPattern" in params:
            text = params.get("EventPattern") or None
            archive.pattern = compile_or_refuse(text) if text is not None else None
            archive.pattern_text = text
        if "Description" in params:
            archive.description = params["Description"]
        if "RetentionDays" in params:
            archive.retention_days = params["RetentionDays"] or 0
        await self.state.store.write([Put(ARCHIVE_KIND, archive.key, archive.doc())])
        return {"ArchiveArn": archive.arn, "State": archive.state, "CreationTime": archive.created_ms / 1000}

    async def delete_archive(self, params: dict, ctx: RequestContext) -> dict:
        archive = self._archive(params["ArchiveName"], ctx)
        await self.state.store.write(
            [Delete(ARCHIVE_KIND, archive.key), DeletePrefix(ARCHIVED_KIND, archive.events_prefix)]
        )
        self.archives._remove(archive)
        return {}
