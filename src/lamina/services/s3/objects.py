"""PutObject, GetObject, HeadObject, GetObjectAttributes: an object's bytes and what S3
keeps beside them (content headers, user metadata, tags, storage class, checksum,
encryption), and the reads with their ranges, conditions and response overrides."""

from __future__ import annotations

import hashlib
from typing import Any

from ..context import RequestContext
from . import checksums, composite
from .acl import admit, requested_grants
from .conditions import check_read
from .errors import (
    entity_too_large,
    invalid_storage_class,
    metadata_too_large,
)
from .events import OBJECT_CREATED_PUT
from .names import check_key
from .ranges import byte_range, content_range
from .state import Bucket, Version
from .storage import FileReader
from .tagging import from_header
from .versions import named, refuse_delete_marker, shown_version_id
from .writes import Writes

MAX_PUT_BYTES = 5 * 1024**3  # a single PUT: 5 GB
MAX_METADATA_BYTES = 2048  # user-defined metadata, keys and values
CONTENT = ("ContentType", "CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage", "Expires",
           "WebsiteRedirectLocation")  # fmt: skip
DEFAULT_CONTENT_TYPE = "binary/octet-stream"
STORAGE_CLASSES = frozenset(
    {"STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER",
     "DEEP_ARCHIVE", "GLACIER_IR", "OUTPOSTS", "SNOW", "EXPRESS_ONEZONE"}
)  # fmt: skip


def storage_class(params: dict) -> str:
    value = params.get("StorageClass") or "STANDARD"
    if value not in STORAGE_CLASSES:
        raise invalid_storage_class()
    return value


_OVERRIDES = {
    "ResponseCacheControl": "CacheControl",
    "ResponseContentDisposition": "ContentDisposition",
    "ResponseContentEncoding": "ContentEncoding",
    "ResponseContentLanguage": "ContentLanguage",
    "ResponseContentType": "ContentType",
    "ResponseExpires": "Expires",
}


def content_of(params: dict) -> dict[str, Any]:
    content: dict[str, Any] = {}
    for name in CONTENT:
        value = params.get(name)
        if value is None:
            continue
        if name == "Expires":
            value = value.timestamp() if hasattr(value, "timestamp") else value
        if name == "ContentEncoding":  # the transfer's own encoding is not the object's
            value = ",".join(part for part in (p.strip() for p in value.split(",")) if part and part != "aws-chunked")
            if not value:
                continue
        content[name] = value
    return content


def checked_metadata(metadata: dict[str, str] | None) -> dict[str, str]:
    metadata = {key.lower(): value for key, value in (metadata or {}).items()}
    size = sum(len(key.encode()) + len(value.encode()) for key, value in metadata.items())
    if size > MAX_METADATA_BYTES:
        raise metadata_too_large(size, MAX_METADATA_BYTES)
    return metadata


def encryption_of(params: dict, bucket: Bucket, ctx: RequestContext) -> dict[str, Any]:
    """What an object is encrypted with, as S3 answers it: the request's, else the bucket's
    default (SSE-S3 unless configured)."""
    algorithm = params.get("ServerSideEncryption")
    key_id = params.get("SSEKMSKeyId")
    bucket_key = params.get("BucketKeyEnabled")
    if algorithm is None:
        rule = (bucket.encryption.get("Rules") or [{}])[0]
        default = rule.get("ApplyServerSideEncryptionByDefault") or {}
        algorithm = default.get("SSEAlgorithm", "AES256")
        key_id = key_id or default.get("KMSMasterKeyID")
        if bucket_key is None and rule.get("BucketKeyEnabled"):
            bucket_key = True
    encryption: dict[str, Any] = {"ServerSideEncryption": algorithm}
    if algorithm.startswith("aws:kms"):
        encryption["SSEKMSKeyId"] = key_id or f"arn:aws:kms:{bucket.region}:{bucket.account}:alias/aws/s3"
        if bucket_key:
            encryption["BucketKeyEnabled"] = True
    if params.get("SSECustomerAlgorithm"):
        encryption = {
            "SSECustomerAlgorithm": params["SSECustomerAlgorithm"],
            "SSECustomerKeyMD5": params.get("SSECustomerKeyMD5"),
        }
    return encryption


def described(bucket: Bucket, version: Version, params: dict) -> dict[str, Any]:
    """The headers of a GET or HEAD of a version."""
    answer: dict[str, Any] = {
        "AcceptRanges": "bytes",
        "LastModified": version.last_modified,
        "ContentLength": version.size,
        "ETag": version.etag,
        "ContentType": DEFAULT_CONTENT_TYPE,
        **version.content,
        "Metadata": version.metadata,
        **version.encryption,
    }
    shown = shown_version_id(bucket, version)
    if shown is not None:
        answer["VersionId"] = shown
    if version.storage_class != "STANDARD":
        answer["StorageClass"] = version.storage_class
    for override, member in _OVERRIDES.items():
        if params.get(override) is not None:
            value = params[override]
            answer[member] = value.timestamp() if hasattr(value, "timestamp") else value
    return answer


class ObjectsApi(Writes):
    async def put_object(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        key = params["Key"]
        check_key(key)
        body = params.get("Body")
        declared = params.get("ContentLength")
        if declared is None:
            declared = getattr(body, "length", None)  # the decoded length of an aws-chunked body
        if declared is not None and declared > MAX_PUT_BYTES:
            raise entity_too_large(declared, MAX_PUT_BYTES)
        metadata = checked_metadata(params.get("Metadata"))
        storage_class(params)
        tags = from_header(params.get("Tagging"))
        grants = admit(bucket, requested_grants(params, ctx.account_id))
        algorithm, expected = checksums.requested(params)
        checksums.check_md5_form(params.get("ContentMD5"))
        observed = bucket.latest(key)
        md5 = hashlib.md5()
        hasher = checksums.Hasher(algorithm or checksums.DEFAULT)
        tmp, size = await self._receive(body, [md5, hasher], MAX_PUT_BYTES)
        with self.files.discarded_on_error(tmp):
            checksums.check_md5(params.get("ContentMD5"), md5.digest())
            computed = hasher.value()
            if algorithm is not None:
                given = expected or checksums.trailer_value(algorithm, getattr(body, "trailers", None) or {})
                checksums.check(algorithm, given, computed)
        version = Version.new(
            key=key,
            owner=ctx.account_id,
            size=size,
            etag=f'"{md5.hexdigest()}"',
            content=content_of(params),
            metadata=metadata,
            tags=tags,
            storage_class=storage_class(params),
            checksum={"algorithm": hasher.algorithm, "value": computed, "type": checksums.FULL_OBJECT},
            encryption=encryption_of(params, bucket, ctx),
            acl=grants,
        )
        conditional = params.get("IfMatch") is not None or params.get("IfNoneMatch") is not None
        await self._write_version(
            bucket, version, tmp, ctx, OBJECT_CREATED_PUT, params if conditional else None, observed
        )
        answer: dict[str, Any] = {"ETag": version.etag, **version.encryption}
        shown = shown_version_id(bucket, version)
        if shown is not None:
            answer["VersionId"] = shown
        if algorithm is not None:
            answer.update(checksums.answer(version.checksum))
        return answer

    def _readable(self, params: dict, ctx: RequestContext, method: str) -> tuple[Bucket, Version]:
        bucket = self.state.find(params["Bucket"], ctx)
        version = named(bucket, params["Key"], params.get("VersionId"))
        if version.delete_marker:
            refuse_delete_marker(bucket, version, params, method)
        check_read(version, params)
        return bucket, version

    def _read(self, params: dict, ctx: RequestContext, method: str) -> tuple[Bucket, Version, dict, int, int]:
        """(bucket, version, answer, first byte, length) of a GET or HEAD."""
        bucket, version = self._readable(params, ctx, method)
        answer = described(bucket, version, params)
        size = version.size
        part = params.get("PartNumber")
        whole = True
        if part is not None:
            first, length, count = composite.part_span(version.parts, size, part)
            span = (first, first + length - 1) if length else None
            if version.parts:
                answer["PartsCount"] = count
        else:
            span = byte_range(params.get("Range"), size)
            whole = span is None
        first, length = 0, size
        if span is not None:
            first, last = span
            length = last - first + 1
            answer["ContentRange"] = content_range(first, last, size)
        answer["ContentLength"] = length
        if whole and params.get("ChecksumMode") == "ENABLED":
            answer.update(checksums.answer(version.checksum))
        return bucket, version, answer, first, length

    async def get_object(self, params: dict, ctx: RequestContext) -> dict:
        bucket, version, answer, first, length = self._read(params, ctx, "GET")
        if version.tags:
            answer["TagCount"] = len(version.tags)
        handle = self.files.open(bucket.name, version.uid)
        answer["Body"] = FileReader(handle, first, length)
        return answer

    async def head_object(self, params: dict, ctx: RequestContext) -> dict:
        return self._read(params, ctx, "HEAD")[2]

    async def get_object_attributes(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        version = named(bucket, params["Key"], params.get("VersionId"))
        if version.delete_marker:
            refuse_delete_marker(bucket, version, params, "GET")
        wanted = set(params.get("ObjectAttributes") or [])
        answer: dict[str, Any] = {"LastModified": version.last_modified}
        shown = shown_version_id(bucket, version)
        if shown is not None:
            answer["VersionId"] = shown
        if "ETag" in wanted:
            answer["ETag"] = version.etag.strip('"')
        if "Checksum" in wanted and version.checksum:
            answer["Checksum"] = checksums.answer(version.checksum)
        if "StorageClass" in wanted:
            answer["StorageClass"] = version.storage_class
        if "ObjectSize" in wanted:
            answer["ObjectSize"] = version.size
        if "ObjectParts" in wanted:
            parts = composite.object_parts(version.parts, params)
            if parts is not None:
                answer["ObjectParts"] = parts
        return answer
