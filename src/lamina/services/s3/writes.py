"""The one path by which a key's versions change (PutObject, CopyObject, the deletes):
under the key's lock, the bucket still there, the write's conditions held, the file moved
into place, the documents committed, the index updated; then the files of what it replaced
removed and the listeners told (events.py)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from ...errors import ServiceError
from ..context import RequestContext
from .conditions import check_write
from .errors import conditional_conflict, entity_too_large, no_such_bucket
from .events import Listener, ObjectEvent
from .state import Bucket, S3State, Version
from .storage import Files, Hashing, TooLarge
from .versions import new_version_id, replaced_by, shown_version_id

log = logging.getLogger("lamina.s3")


class Writes:
    state: S3State
    files: Files
    events: Listener | None

    async def _receive(self, body: Any, hashers: list[Hashing], limit: int) -> tuple[str, int]:
        """A request's body received to a temporary file through `hashers`: (its path, its
        size); S3's EntityTooLarge past `limit` bytes."""
        try:
            return await self.files.receive(body, hashers, limit)
        except TooLarge as error:
            raise entity_too_large(error.size, limit) from None

    async def _write_version(
        self,
        bucket: Bucket,
        version: Version,
        tmp: str | None,
        ctx: RequestContext,
        event: str | None,
        conditions: dict | None = None,
        observed: Version | None = None,
        version_id: str | None = None,
        removing: list[Version] | None = None,
        also: list | None = None,
    ) -> list[Version]:
        """Commits `version` (its id, number and time given here unless `version_id` is) with
        its received file `tmp` (None: a delete marker, or no new version at all when the
        version is None...). `conditions`: the request's If-Match/If-None-Match, checked
        against the key as it is now; `observed` is what the key's latest was when the
        request began: a condition that held then and fails now lost to a concurrent write
        (409 ConditionalRequestConflict). `also`: store operations committed with it (a
        completed multipart upload's removal). Returns the versions it replaced."""
        key = version.key
        bucket.busy += 1
        try:
            async with bucket.locks.hold(key):
                if bucket.deleted:
                    raise no_such_bucket(bucket.name)
                current = bucket.latest(key)
                if conditions is not None:
                    try:
                        check_write(current, key, conditions)
                    except ServiceError as error:
                        if current is not observed and error.status in (404, 412):
                            raise conditional_conflict() from None
                        raise
                version.seq = self.state.next_seq()
                version.last_modified = round(time.time(), 3)
                version.version_id = version_id or new_version_id(bucket)
                replaced = replaced_by(bucket, key, version.version_id) + list(removing or ())
                if tmp is not None:
                    await self.files.install(tmp, bucket.name, version.uid)
                    tmp = None
                try:
                    await asyncio.shield(self.state.commit(bucket, key, version, replaced, also))
                except asyncio.CancelledError:
                    raise
                except BaseException:
                    if not version.delete_marker:
                        self.files.discard(self.files.path(bucket.name, version.uid))
                    raise
        finally:
            bucket.busy -= 1
            if tmp is not None:
                self.files.discard(tmp)
        await self.files.remove(bucket.name, [old.uid for old in replaced if not old.delete_marker])
        if event is not None:
            await self._emit(event, bucket, version, ctx)
        return replaced

    async def _remove_version(self, bucket: Bucket, version: Version, ctx: RequestContext, event: str | None) -> bool:
        """A version (or delete marker) removed for good; False if it was already gone."""
        key = version.key
        bucket.busy += 1
        try:
            async with bucket.locks.hold(key):
                if bucket.deleted or version not in bucket.objects.get(key, ()):
                    return False
                await asyncio.shield(self.state.commit(bucket, key, None, [version]))
        finally:
            bucket.busy -= 1
        if not version.delete_marker:
            await self.files.remove(bucket.name, [version.uid])
        if event is not None:
            await self._emit(event, bucket, version, ctx, removal=True)
        return True

    async def _emit(
        self, name: str, bucket: Bucket, version: Version, ctx: RequestContext, removal: bool = False
    ) -> None:
        listener = self.events
        if listener is None:
            return
        principal = ctx.principal.user_id if ctx.principal is not None else ctx.account_id
        event = ObjectEvent(
            name=name,
            bucket=bucket.name,
            account=bucket.account,
            region=bucket.region,
            key=version.key,
            size=0 if removal or version.delete_marker else version.size,
            etag="" if removal or version.delete_marker else version.etag.strip('"'),
            version_id=shown_version_id(bucket, version),
            sequencer=version.sequencer if not removal else f"{self.state.next_seq():018X}",
            principal_id=f"AWS:{principal}",
            source_ip=ctx.source_ip,
            request_id=ctx.request_id,
            event_time=time.time(),
        )
        try:
            await listener(event)
        except Exception:
            log.exception("s3: a listener of %s failed", name)
