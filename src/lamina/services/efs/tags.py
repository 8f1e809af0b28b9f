"""Tags of file systems and access points: TagResource, UntagResource, ListTagsForResource,
and the file-system-only CreateTags, DescribeTags, DeleteTags of the first API."""

from __future__ import annotations

from typing import Any

from ..context import RequestContext
from .state import ACCESS_POINT, FILE_SYSTEM, EfsState, bad_request, short_id

DEFAULT_PAGE = 100


def merged(tags: list[dict], new: list[dict]) -> list[dict]:
    values = {tag["Key"]: tag["Value"] for tag in tags}
    values.update({tag["Key"]: tag["Value"] for tag in new})
    return [{"Key": key, "Value": value} for key, value in values.items()]


def without(tags: list[dict], keys: list[str]) -> list[dict]:
    gone = set(keys)
    return [tag for tag in tags if tag["Key"] not in gone]


def _page(tags: list[dict], start_key: str | None, limit: int | None) -> tuple[list[dict], str | None]:
    start = 0
    if start_key:
        keys = [tag["Key"] for tag in tags]
        if start_key not in keys:
            raise bad_request("The marker is not valid.")
        start = keys.index(start_key)
    size = limit or DEFAULT_PAGE
    following = tags[start + size]["Key"] if start + size < len(tags) else None
    return tags[start : start + size], following


class TagsApi:
    state: EfsState

    def _tagged(self, ctx: RequestContext, resource_id: str) -> tuple[str, str, dict, list[dict]]:
        """(kind, id, document, its tags) of a file system or access point, by id or ARN."""
        rid = short_id(resource_id)
        if rid.startswith("fsap-"):
            doc = self.state.access_point(ctx.account_id, ctx.region, rid)
            return ACCESS_POINT, rid, doc, doc.get("Tags") or []
        doc = self.state.file_system(ctx.account_id, ctx.region, rid)
        return FILE_SYSTEM, rid, doc, doc.get("tags") or []

    async def _retag(self, ctx: RequestContext, resource_id: str, change) -> None:
        kind, rid, doc, tags = self._tagged(ctx, resource_id)
        field = "Tags" if kind == ACCESS_POINT else "tags"
        await self.state.save(kind, ctx.account_id, ctx.region, rid, dict(doc, **{field: change(tags)}))

    async def tag_resource(self, params: dict, ctx: RequestContext) -> dict:
        await self._retag(ctx, params["ResourceId"], lambda tags: merged(tags, params["Tags"]))
        return {}

    async def untag_resource(self, params: dict, ctx: RequestContext) -> dict:
        await self._retag(ctx, params["ResourceId"], lambda tags: without(tags, params["TagKeys"]))
        return {}

    async def list_tags_for_resource(self, params: dict, ctx: RequestContext) -> dict:
        _, _, _, tags = self._tagged(ctx, params["ResourceId"])
        page, following = _page(tags, params.get("NextToken"), params.get("MaxResults"))
        result: dict[str, Any] = {"Tags": page}
        if following:
            result["NextToken"] = following
        return result

    async def create_tags(self, params: dict, ctx: RequestContext) -> dict:
        self.state.file_system(ctx.account_id, ctx.region, params["FileSystemId"])
        await self._retag(ctx, params["FileSystemId"], lambda tags: merged(tags, params["Tags"]))
        return {}

    async def delete_tags(self, params: dict, ctx: RequestContext) -> dict:
        self.state.file_system(ctx.account_id, ctx.region, params["FileSystemId"])
        await self._retag(ctx, params["FileSystemId"], lambda tags: without(tags, params["TagKeys"]))
        return {}

    async def describe_tags(self, params: dict, ctx: RequestContext) -> dict:
        doc = self.state.file_system(ctx.account_id, ctx.region, params["FileSystemId"])
        page, following = _page(doc.get("tags") or [], params.get("Marker"), params.get("MaxItems"))
        result: dict[str, Any] = {"Tags": page}
        if params.get("Marker"):
            result["Marker"] = params["Marker"]
        if following:
            result["NextMarker"] = following
        return result
