"""CopyObject: a version of one object (any bucket of the caller's, any region) copied to a
key, its metadata and tags copied or replaced (MetadataDirective, TaggingDirective), under
the source's x-amz-copy-source-if-* conditions and the destination's If-Match/If-None-Match.
The bytes are copied file to file in a thread, hashed on the way."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import unquote

from ..context import RequestContext
from . import checksums
from .acl import admit, requested_grants
from .conditions import check_read
from .errors import access_denied, invalid_argument, invalid_request, no_such_bucket, no_such_key
from .events import OBJECT_CREATED_COPY
from .names import check_key
from .objects import MAX_PUT_BYTES, checked_metadata, content_of, encryption_of, storage_class
from .state import Bucket, Version
from .tagging import from_header
from .versions import named, shown_version_id
from .writes import Writes


def parse_copy_source(source: str) -> tuple[str, str, str | None]:
    """x-amz-copy-source: "bucket/key" or "/bucket/key", URL-encoded, "?versionId=..." after."""
    path, _, query = source.partition("?")
    version_id = None
    if query.startswith("versionId="):
        version_id = unquote(query[len("versionId=") :])
    path = unquote(path).lstrip("/")
    bucket, _, key = path.partition("/")
    if not bucket or not key:
        raise invalid_argument(
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey", "x-amz-copy-source", source
        )
    return bucket, key, version_id


class CopyingApi(Writes):
    def _source_bucket(self, name: str, ctx: RequestContext) -> Bucket:
        bucket = self.state.bucket(name)
        if bucket is None:
            raise no_such_bucket(name)
        if bucket.account != ctx.account_id and not self.state.authorized:
            raise access_denied()
        return bucket

    async def copy_object(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        key = params["Key"]
        check_key(key)
        source_name, source_key, source_version_id = parse_copy_source(params["CopySource"])
        source_bucket = self._source_bucket(source_name, ctx)
        source = named(source_bucket, source_key, source_version_id)
        if source.delete_marker:
            if source_version_id is not None:
                raise invalid_request(
                    "The source of a copy request may not specifically refer to a delete marker by version id."
                )
            raise no_such_key(source_key)
        check_read(source, params, prefix="CopySourceIf", copy=True)
        storage_class(params)
        replace_metadata = params.get("MetadataDirective") == "REPLACE"
        if (
            source_bucket is bucket
            and source_key == key
            and source is bucket.latest(key)
            and not replace_metadata
            and not any(
                params.get(name)
                for name in ("StorageClass", "WebsiteRedirectLocation", "ServerSideEncryption", "SSEKMSKeyId")
            )
        ):
            raise invalid_request(
                "This copy request is illegal because it is trying to copy an object to itself without changing "
                "the object's metadata, storage class, website redirect location or encryption attributes."
            )
        if source.size > MAX_PUT_BYTES:
            raise invalid_request(
                "The specified copy source is larger than the maximum allowable size for a copy source: "
                f"{MAX_PUT_BYTES}"
            )
        if replace_metadata:
            content, metadata = content_of(params), checked_metadata(params.get("Metadata"))
        else:
            content, metadata = dict(source.content), dict(source.metadata)
        tags = from_header(params.get("Tagging")) if params.get("TaggingDirective") == "REPLACE" else dict(source.tags)
        grants = admit(bucket, requested_grants(params, ctx.account_id))
        algorithm = params.get("ChecksumAlgorithm") or (source.checksum or {}).get("algorithm") or checksums.DEFAULT
        if algorithm not in checksums.ALGORITHMS:
            checksums.requested({"ChecksumAlgorithm": algorithm})
        observed = bucket.latest(key)
        md5 = hashlib.md5()
        hasher = checksums.Hasher(algorithm)
        handle = self.files.open(source_bucket.name, source.uid)
        tmp = await self.files.copy(handle, 0, source.size, [md5, hasher])
        version = Version.new(
            key=key,
            owner=ctx.account_id,
            size=source.size,
            etag=f'"{md5.hexdigest()}"',
            content=content,
            metadata=metadata,
            tags=tags,
            storage_class=storage_class(params),
            checksum={"algorithm": algorithm, "value": hasher.value(), "type": checksums.FULL_OBJECT},
            encryption=encryption_of(params, bucket, ctx),
            acl=grants,
        )
        conditional = params.get("IfMatch") is not None or params.get("IfNoneMatch") is not None
        await self._write_version(
            bucket, version, tmp, ctx, OBJECT_CREATED_COPY, params if conditional else None, observed
        )
        result: dict[str, Any] = {"ETag": version.etag, "LastModified": version.last_modified}
        if params.get("ChecksumAlgorithm") or (source.checksum and source.checksum["algorithm"] != checksums.DEFAULT):
            result.update(checksums.answer(version.checksum))
        answer: dict[str, Any] = {"CopyObjectResult": result, **version.encryption}
        shown = shown_version_id(bucket, version)
        if shown is not None:
            answer["VersionId"] = shown
        source_shown = shown_version_id(source_bucket, source)
        if source_shown is not None:
            answer["CopySourceVersionId"] = source_shown
        return answer
