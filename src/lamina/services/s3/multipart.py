"""Multipart uploads: CreateMultipartUpload (what the object will be: content headers,
metadata, tags, storage class, encryption, ACL, the checksum algorithm and type),
UploadPart (the body streamed to a part file; Content-MD5 and a checksum, in a header or
a trailer, checked), UploadPartCopy (a range of another object, under its
x-amz-copy-source-if-* conditions), AbortMultipartUpload. Completing is completion.py's,
the listings upload_listing.py's.

https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html"""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any

from ..context import RequestContext
from . import checksums, composite
from .acl import admit, requested_grants
from .completion import CompletionApi
from .conditions import check_read
from .copying import parse_copy_source
from .errors import access_denied, entity_too_large, invalid_request, no_such_bucket, no_such_key
from .names import check_key
from .objects import checked_metadata, content_of, encryption_of, storage_class
from .state import Bucket, Version
from .tagging import from_header
from .upload_errors import (
    bad_copy_range,
    bad_part_number,
    checksum_type_mismatch,
    copy_range_outside,
    no_such_upload,
)
from .upload_listing import UploadListingApi
from .uploads import Part, Upload, find_upload, new_upload_id
from .versions import named, shown_version_id
from .writes import Writes

MAX_PART_BYTES = 5 * 1024**3
MAX_PARTS = 10000
_COPY_RANGE = re.compile(r"^bytes=(\d+)-(\d+)$")


def initiator(ctx: RequestContext) -> str:
    return ctx.principal.arn if ctx.principal is not None and ctx.principal.kind != "root" else ctx.account_id


def part_number(params: dict) -> int:
    number = params.get("PartNumber")
    if not isinstance(number, int) or not 1 <= number <= MAX_PARTS:
        raise bad_part_number(number)
    return number


def checksum_choice(params: dict) -> tuple[str | None, str | None]:
    """CreateMultipartUpload's (algorithm, type)."""
    algorithm = params.get("ChecksumAlgorithm")
    checksum_type = params.get("ChecksumType")
    if algorithm is not None and algorithm not in checksums.ALGORITHMS:
        checksums.requested({"ChecksumAlgorithm": algorithm})  # S3's refusal of the algorithm
    if checksum_type is not None and algorithm is None:
        raise invalid_request(
            "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header."
        )
    if algorithm is None:
        return None, None
    checksum_type = checksum_type or composite.default_type(algorithm)
    if not composite.allows(algorithm, checksum_type):
        raise invalid_request(
            f"The {checksum_type} checksum type cannot be used with the {algorithm.lower()} checksum algorithm."
        )
    return algorithm, checksum_type


def part_hashers(upload: Upload, requested: str | None) -> dict[str, checksums.Hasher]:
    """The checksums a part is read with: CRC64NVME always (the object's default), the
    upload's algorithm, the one the request names."""
    hashers = {checksums.DEFAULT: checksums.Hasher(checksums.DEFAULT)}
    for algorithm in (upload.algorithm, requested):
        if algorithm is not None and algorithm not in hashers:
            hashers[algorithm] = checksums.Hasher(algorithm)
    return hashers


def part_answer(upload: Upload, part: Part, requested: str | None, hashers: dict) -> dict[str, Any]:
    """The checksum members of UploadPart's and UploadPartCopy's answers."""
    algorithm = upload.algorithm or requested
    if algorithm is None:
        return {}
    return {checksums.param(algorithm): hashers[algorithm].value()}


class UploadsApi(Writes):
    async def create_multipart_upload(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        key = params["Key"]
        check_key(key)
        algorithm, checksum_type = checksum_choice(params)
        upload = Upload(
            bucket=bucket.name,
            key=key,
            upload_id=new_upload_id(self.state.next_seq()),
            initiated=round(time.time(), 3),
            owner=ctx.account_id,
            initiator=initiator(ctx),
            content=content_of(params),
            metadata=checked_metadata(params.get("Metadata")),
            tags=from_header(params.get("Tagging")),
            storage_class=storage_class(params),
            encryption=encryption_of(params, bucket, ctx),
            acl=admit(bucket, requested_grants(params, ctx.account_id)),
            algorithm=algorithm,
            checksum_type=checksum_type,
        )
        await self.state.uploads.create(upload)
        answer: dict[str, Any] = {"Bucket": bucket.name, "Key": key, "UploadId": upload.upload_id, **upload.encryption}
        if algorithm is not None:
            answer["ChecksumAlgorithm"] = algorithm
            answer["ChecksumType"] = checksum_type
        return answer

    async def upload_part(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        number = part_number(params)
        upload = find_upload(self.state.uploads, bucket.name, params["Key"], params["UploadId"])
        body = params.get("Body")
        declared = params.get("ContentLength")
        if declared is None:
            declared = getattr(body, "length", None)
        if declared is not None and declared > MAX_PART_BYTES:
            raise entity_too_large(declared, MAX_PART_BYTES)
        requested, expected = checksums.requested(params)
        if upload.algorithm is not None and requested != upload.algorithm:
            raise checksum_type_mismatch(upload.algorithm, requested)
        checksums.check_md5_form(params.get("ContentMD5"))
        md5 = hashlib.md5()
        hashers = part_hashers(upload, requested)
        tmp, size = await self._receive(body, [md5, *hashers.values()], MAX_PART_BYTES)
        with self.files.discarded_on_error(tmp):
            checksums.check_md5(params.get("ContentMD5"), md5.digest())
            if requested is not None:
                given = expected or checksums.trailer_value(requested, getattr(body, "trailers", None) or {})
                checksums.check(requested, given, hashers[requested].value())
        part = await self._store_part(upload, number, size, md5.hexdigest(), hashers, tmp)
        return {"ETag": part.etag, **upload.encryption, **part_answer(upload, part, requested, hashers)}

    async def _store_part(
        self, upload: Upload, number: int, size: int, md5: str, hashers: dict[str, checksums.Hasher], tmp: str
    ) -> Part:
        part = Part(
            number=number,
            size=size,
            etag=f'"{md5}"',
            last_modified=round(time.time(), 3),
            file=f"{number:05d}.{self.state.next_seq()}",
            checksum=hashers[upload.algorithm].value() if upload.algorithm is not None else None,
            crc64=hashers[checksums.DEFAULT].value(),
        )
        async with upload.lock:
            if upload.gone:
                self.files.discard(tmp)
                raise no_such_upload(upload.upload_id)
            with self.files.discarded_on_error(tmp):
                await self.state.uploads.put_part(upload, part, tmp)
        return part

    def _copy_source(self, params: dict, ctx: RequestContext) -> tuple[Bucket, Version, str | None]:
        name, key, version_id = parse_copy_source(params["CopySource"])
        source_bucket = self.state.bucket(name)
        if source_bucket is None:
            raise no_such_bucket(name)
        if source_bucket.account != ctx.account_id:
            raise access_denied()
        source = named(source_bucket, key, version_id)
        if source.delete_marker:
            if version_id is not None:
                raise invalid_request(
                    "The source of a copy request may not specifically refer to a delete marker by version id."
                )
            raise no_such_key(key)
        return source_bucket, source, version_id

    async def upload_part_copy(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        number = part_number(params)
        upload = find_upload(self.state.uploads, bucket.name, params["Key"], params["UploadId"])
        source_bucket, source, _ = self._copy_source(params, ctx)
        check_read(source, params, prefix="CopySourceIf", copy=True)
        first, length = 0, source.size
        wanted = params.get("CopySourceRange")
        if wanted is not None:
            match = _COPY_RANGE.match(wanted.strip())
            if match is None:
                raise bad_copy_range()
            first, last = int(match.group(1)), int(match.group(2))
            if last < first or last >= source.size:
                raise copy_range_outside(source.size)
            length = last - first + 1
        if length > MAX_PART_BYTES:
            raise entity_too_large(length, MAX_PART_BYTES)
        md5 = hashlib.md5()
        hashers = part_hashers(upload, None)
        handle = self.files.open(source_bucket.name, source.uid)
        tmp = await self.files.copy(handle, first, length, [md5, *hashers.values()])
        part = await self._store_part(upload, number, length, md5.hexdigest(), hashers, tmp)
        result: dict[str, Any] = {
            "ETag": part.etag,
            "LastModified": part.last_modified,
            **part_answer(upload, part, None, hashers),
        }
        answer: dict[str, Any] = {"CopyPartResult": result, **upload.encryption}
        shown = shown_version_id(source_bucket, source)
        if shown is not None:
            answer["CopySourceVersionId"] = shown
        return answer

    async def abort_multipart_upload(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        upload = find_upload(self.state.uploads, bucket.name, params["Key"], params["UploadId"])
        async with upload.lock:
            if upload.gone:
                raise no_such_upload(upload.upload_id)
            await self.state.uploads.abort(upload)
        return {}

    async def abort_incomplete_uploads(self, bucket: str, days: int, prefix: str = "") -> list[str]:
        """For lifecycle's AbortIncompleteMultipartUpload (DaysAfterInitiation): every upload
        of `bucket` whose key starts with `prefix`, initiated more than `days` days ago,
        aborted (its parts gone). Returns the upload ids aborted."""
        return await self.state.uploads.abort_older_than(bucket, days, prefix)


class MultipartApi(UploadsApi, CompletionApi, UploadListingApi):
    """Every multipart operation (the S3 service's mixin)."""
