"""The lifecycle sweep: what the buckets' lifecycle rules expire, done. AWS runs it once a day
(the objects of a rule expire from the midnight UTC it names on); Lamina runs it every
LAMINA_S3_LIFECYCLE_INTERVAL seconds on the engine's timers (engine/timers/scheduler.py),
with the scheduler's clock, so that LAMINA_SCHEDULER_SPEEDUP moves lifecycle time too. The
clock is injectable (`clock`): tests move time and call `run()`.

Each expiry goes through writes.py like any delete, its event named for lifecycle:
    Expiration (Days, Date)        the current version: removed in a bucket never versioned
                                   (LifecycleExpiration:Delete), a delete marker added in a
                                   versioned one (LifecycleExpiration:DeleteMarkerCreated)
    ExpiredObjectDeleteMarker      a delete marker with no version left behind it: removed
    NoncurrentVersionExpiration    a noncurrent version NoncurrentDays after it became
                                   noncurrent, past the NewerNoncurrentVersions newest kept
    AbortIncompleteMultipartUpload the uploads initiated DaysAfterInitiation days before
                                   (multipart's UploadBook.abort_older_than)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from ... import ids
from ...engine.timers.expressions import Schedule
from ...engine.timers.scheduler import Scheduler
from ..context import RequestContext
from .configs import LIFECYCLE, BucketConfigs
from .lifecycle import applies, enabled_rules, expires_at, filter_of, midnight_after
from .state import Bucket, S3State, Version

log = logging.getLogger("lamina.s3")

JOB_ID = "s3-lifecycle"
EXPIRED_DELETE = "LifecycleExpiration:Delete"
EXPIRED_MARKER = "LifecycleExpiration:DeleteMarkerCreated"


class LifecycleSweep:
    def __init__(self, service: Any, configs: BucketConfigs, state: S3State) -> None:
        """`service`: the S3 service (its writes: `_write_version`, `_remove_version`)."""
        self.service = service
        self.configs = configs
        self.state = state
        self.clock: Callable[[], float] = time.time
        self.scheduler: Scheduler | None = None
        self.interval_s = 3600.0

    def use(self, scheduler: Scheduler, interval_s: float) -> None:
        """Run on `scheduler`'s timers every `interval_s`, on its clock."""
        self.scheduler = scheduler
        self.interval_s = interval_s
        self.clock = lambda: scheduler.now().timestamp()

    def start(self) -> None:
        if self.scheduler is None:
            return
        period = timedelta(seconds=self.interval_s)
        schedule = Schedule(f"rate({self.interval_s:g} seconds)", "rate", period=period)
        self.scheduler.add(JOB_ID, schedule, self._fire, start=self.scheduler.now() + period)

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.remove(JOB_ID)

    async def _fire(self, _: datetime) -> None:
        await self.run()

    async def run(self, now: float | None = None) -> int:
        """One sweep of every bucket with lifecycle rules; the number of changes made."""
        now = self.clock() if now is None else now
        changes = 0
        for name, _ in self.configs.with_config(LIFECYCLE):
            bucket = self.state.bucket(name)
            if bucket is None or bucket.deleted:
                continue
            rules = enabled_rules(self.configs, bucket)
            if not rules:
                continue
            try:
                changes += await self._sweep(bucket, rules, now)
            except Exception:
                log.exception("s3: the lifecycle sweep of %s failed", name)
        return changes

    async def _sweep(self, bucket: Bucket, rules: list[dict], now: float) -> int:
        ctx = RequestContext(bucket.account, bucket.region, ids.uuid4(), "")
        changes = 0
        for key in list(bucket.keys):
            versions = list(bucket.objects.get(key, ()))
            if not versions:
                continue
            changes += await self._current(bucket, versions, rules, now, ctx)
            changes += await self._noncurrent(bucket, list(bucket.objects.get(key, ())), rules, now, ctx)
        for rule in rules:
            abort = rule.get("AbortIncompleteMultipartUpload")
            if abort:
                prefix, days = filter_of(rule)[0], abort["DaysAfterInitiation"]
                aborted = await self.state.uploads.abort_older_than(bucket.name, days, prefix, now=now)
                changes += len(aborted)
        return changes

    async def _current(self, bucket: Bucket, versions: list[Version], rules: list[dict], now: float, ctx) -> int:
        current = versions[-1]
        if current.delete_marker:
            if len(versions) == 1 and any(
                (rule.get("Expiration") or {}).get("ExpiredObjectDeleteMarker") and applies(rule, current)
                for rule in rules
            ):
                await self.service._remove_version(bucket, current, ctx, EXPIRED_DELETE)
                return 1
            return 0
        due = [m for rule in rules if applies(rule, current) and (m := expires_at(rule, current)) is not None]
        if not due or now < min(due):
            return 0
        if not bucket.versioning:
            removed = await self.service._remove_version(bucket, current, ctx, EXPIRED_DELETE)
            return 1 if removed else 0
        marker = Version.new(current.key, bucket.account, delete_marker=True)
        await self.service._write_version(bucket, marker, None, ctx, EXPIRED_MARKER)
        return 1

    async def _noncurrent(self, bucket: Bucket, versions: list[Version], rules: list[dict], now: float, ctx) -> int:
        changes = 0
        noncurrent = versions[:-1]  # oldest first; each became noncurrent when the next was made
        became = {id(version): versions[at + 1].last_modified for at, version in enumerate(noncurrent)}
        for rule in rules:
            expiration = rule.get("NoncurrentVersionExpiration")
            if not expiration:
                continue
            keep = expiration.get("NewerNoncurrentVersions") or 0
            eligible = noncurrent[: max(0, len(noncurrent) - keep)]
            for version in eligible:
                if not applies(rule, version):
                    continue
                if now >= midnight_after(became[id(version)], expiration["NoncurrentDays"]):
                    if await self.service._remove_version(bucket, version, ctx, EXPIRED_DELETE):
                        changes += 1
            noncurrent = [v for v in noncurrent if v in bucket.objects.get(v.key, ())]
        return changes
