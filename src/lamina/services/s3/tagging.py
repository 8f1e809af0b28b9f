"""Tags: a bucket's (Get/Put/DeleteBucketTagging) and an object version's (x-amz-tagging on
PutObject, Get/Put/DeleteObjectTagging), with S3's limits: 50 per bucket, 10 per object,
keys up to 128 characters and values up to 256, no key twice, none under aws:."""

from __future__ import annotations

from urllib.parse import parse_qsl

from ..context import RequestContext
from .errors import invalid_tag, no_such_tag_set
from .events import OBJECT_TAGGING_DELETE, OBJECT_TAGGING_PUT
from .state import Bucket, Version
from .versions import named, refuse_delete_marker, shown_version_id
from .writes import Writes

MAX_BUCKET_TAGS = 50
MAX_OBJECT_TAGS = 10


def checked(pairs: list[tuple[str, str]], limit: int, what: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for key, value in pairs:
        if key in tags:
            raise invalid_tag("Cannot provide multiple Tags with the same key")
        if not key:
            raise invalid_tag("The TagKey you have provided is invalid")
        if len(key) > 128:
            raise invalid_tag("The TagKey you have provided is too long, max 128")
        if len(value) > 256:
            raise invalid_tag("The TagValue you have provided is too long, max 256")
        if key.lower().startswith("aws:"):
            raise invalid_tag("Your TagKey cannot be prefixed with aws:")
        tags[key] = value
    if len(tags) > limit:
        raise invalid_tag(f"{what} tags cannot be greater than {limit}")
    return tags


def from_header(header: str | None) -> dict[str, str]:
    """x-amz-tagging: a URL query string of tags."""
    if not header:
        return {}
    return checked(parse_qsl(header, keep_blank_values=True), MAX_OBJECT_TAGS, "Object")


def from_tagging(tagging: dict | None, limit: int, what: str) -> dict[str, str]:
    pairs = [(tag.get("Key", ""), tag.get("Value", "")) for tag in (tagging or {}).get("TagSet") or []]
    return checked(pairs, limit, what)


def tag_set(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


class TaggingApi(Writes):
    async def get_bucket_tagging(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        if not bucket.tags:
            raise no_such_tag_set(bucket.name)
        return {"TagSet": tag_set(bucket.tags)}

    async def put_bucket_tagging(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        bucket.tags = from_tagging(params.get("Tagging"), MAX_BUCKET_TAGS, "Bucket") or None
        await self.state.save_bucket(bucket)
        return {}

    async def delete_bucket_tagging(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        bucket.tags = None
        await self.state.save_bucket(bucket)
        return {}

    def _tagged(self, params: dict, ctx: RequestContext) -> tuple[Bucket, Version]:
        bucket = self.state.find(params["Bucket"], ctx)
        version = named(bucket, params["Key"], params.get("VersionId"))
        if version.delete_marker:
            refuse_delete_marker(bucket, version, params, "GET")
        return bucket, version

    async def get_object_tagging(self, params: dict, ctx: RequestContext) -> dict:
        bucket, version = self._tagged(params, ctx)
        return {"TagSet": tag_set(version.tags), "VersionId": shown_version_id(bucket, version)}

    async def put_object_tagging(self, params: dict, ctx: RequestContext) -> dict:
        bucket, version = self._tagged(params, ctx)
        tags = from_tagging(params.get("Tagging"), MAX_OBJECT_TAGS, "Object")
        await self.state.rewrite(bucket, version, tags=tags)
        await self._emit(OBJECT_TAGGING_PUT, bucket, version, ctx)
        return {"VersionId": shown_version_id(bucket, version)}

    async def delete_object_tagging(self, params: dict, ctx: RequestContext) -> dict:
        bucket, version = self._tagged(params, ctx)
        await self.state.rewrite(bucket, version, tags={})
        await self._emit(OBJECT_TAGGING_DELETE, bucket, version, ctx)
        return {"VersionId": shown_version_id(bucket, version)}
