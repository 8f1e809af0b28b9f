"""DeleteObject and DeleteObjects (up to 1000 keys, Quiet, an error per key that failed).

What a delete leaves depends on the bucket's versioning (versions.py): nothing, a delete
marker, or (naming a version id) the other versions. Deleting what is not there succeeds."""

from __future__ import annotations

from typing import Any

from ...errors import ServiceError
from ..context import RequestContext
from .conditions import etag_matches
from .errors import malformed_xml, no_such_key, precondition_failed
from .events import OBJECT_REMOVED_DELETE, OBJECT_REMOVED_DELETE_MARKER
from .state import Bucket, Version
from .versions import check_version_id, shown_version_id
from .writes import Writes

MAX_DELETE_KEYS = 1000


class DeletesApi(Writes):
    async def delete_object(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        key = params["Key"]
        if_match = params.get("IfMatch")
        if if_match is not None:
            latest = bucket.latest(key)
            if latest is None or latest.delete_marker:
                raise no_such_key(key)
            if not etag_matches(if_match, latest.etag):
                raise precondition_failed("If-Match")
        return await self._delete(bucket, key, params.get("VersionId"), ctx)

    async def _delete(self, bucket: Bucket, key: str, version_id: str | None, ctx: RequestContext) -> dict[str, Any]:
        if version_id is not None:
            check_version_id(version_id)
            version = bucket.version(key, version_id)
            answer: dict[str, Any] = {"VersionId": version_id}
            if version is None:
                return answer
            await self._remove_version(bucket, version, ctx, OBJECT_REMOVED_DELETE)
            if version.delete_marker:
                answer["DeleteMarker"] = True
            return answer
        if not bucket.versioning:
            latest = bucket.latest(key)
            if latest is not None:
                await self._remove_version(bucket, latest, ctx, OBJECT_REMOVED_DELETE)
            return {}
        marker = Version.new(key, ctx.account_id, delete_marker=True)
        await self._write_version(bucket, marker, None, ctx, OBJECT_REMOVED_DELETE_MARKER)
        return {"DeleteMarker": True, "VersionId": shown_version_id(bucket, marker) or marker.version_id}

    async def delete_objects(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        request = params.get("Delete") or {}
        objects = request.get("Objects") or []
        if not objects or len(objects) > MAX_DELETE_KEYS:
            raise malformed_xml()
        quiet = bool(request.get("Quiet"))
        deleted: list[dict] = []
        errors: list[dict] = []
        for item in objects:
            key = item.get("Key", "")
            version_id = item.get("VersionId")
            try:
                answer = await self._delete(bucket, key, version_id, ctx)
            except ServiceError as error:
                failed = {"Key": key, "Code": error.code, "Message": error.message}
                if version_id is not None:
                    failed["VersionId"] = version_id
                errors.append(failed)
                continue
            if quiet:
                continue
            entry: dict[str, Any] = {"Key": key}
            if version_id is not None:
                entry["VersionId"] = version_id
            if answer.get("DeleteMarker"):
                entry["DeleteMarker"] = True
                entry["DeleteMarkerVersionId"] = answer["VersionId"]
            deleted.append(entry)
        result: dict[str, Any] = {}
        if deleted:
            result["Deleted"] = deleted
        if errors:
            result["Errors"] = errors
        return result
