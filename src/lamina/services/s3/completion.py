"""CompleteMultipartUpload: the parts list checked (ascending, each part there with its
ETag and, for an upload with a checksum algorithm, its checksum; every part but the last at
least 5 MiB), the object's ETag and checksum made from the parts' (composite.py), the
parts' files concatenated into one file, and that committed as the key's new version
through writes.py, under the request's If-Match/If-None-Match, in the same store batch as
the removal of the upload's documents: after a crash there is either the upload or the
object, never both, never half of one."""

from __future__ import annotations

import os
import uuid
from typing import Any
from urllib.parse import quote

from ...errors import ServiceError
from ..context import RequestContext
from . import checksums, composite
from .errors import bad_digest_checksum, invalid_request, malformed_xml
from .events import OBJECT_CREATED_COMPLETE_MULTIPART
from .state import Version
from .upload_errors import (
    MIN_PART_BYTES,
    checksum_mode_mismatch,
    invalid_part,
    invalid_part_order,
    missing_part_checksum,
    no_parts,
    no_such_upload,
    part_too_small,
)
from .uploads import Part, Upload, find_upload
from .versions import shown_version_id
from .writes import Writes


def _given_checksum(entry: dict) -> tuple[str, str] | None:
    for algorithm in checksums.ALGORITHMS:
        value = entry.get(checksums.param(algorithm))
        if value:
            return algorithm, value
    return None


def chosen_parts(upload: Upload, listed: list[dict]) -> list[Part]:
    """The parts the request lists, checked against what was uploaded."""
    if not listed:
        raise no_parts()
    numbers = [entry.get("PartNumber") for entry in listed]
    for before, after in zip(numbers, numbers[1:], strict=False):
        if before is None or after is None or after <= before:
            raise invalid_part_order()
    chosen = []
    for index, entry in enumerate(listed):
        number = entry.get("PartNumber") or 0
        etag = entry.get("ETag") or ""
        part = upload.parts.get(number)
        if part is None or part.etag.strip('"') != etag.strip('"'):
            raise invalid_part(upload.upload_id, number, etag)
        given = _given_checksum(entry)
        if upload.algorithm is None:
            if given is not None:
                raise invalid_part(upload.upload_id, number, etag)
        elif given is None:
            if upload.checksum_type == composite.COMPOSITE:
                raise missing_part_checksum(upload.algorithm, number)
        elif given[0] != upload.algorithm:
            message = f"The {given[0].lower()} you specified for part {number} did not match what we received."
            raise ServiceError("BadDigest", message, 400)
        elif given[1] != part.checksum:
            raise invalid_part(upload.upload_id, number, etag)
        if index < len(listed) - 1 and part.size < MIN_PART_BYTES:
            raise part_too_small(part.size, number, part.etag)
        chosen.append(part)
    return chosen


def object_checksum(upload: Upload, parts: list[Part]) -> dict[str, str]:
    """{algorithm, value, type} of the completed object."""
    if upload.algorithm is None:
        value = composite.combined(checksums.DEFAULT, [(part.crc64 or "", part.size) for part in parts])
        return {"algorithm": checksums.DEFAULT, "value": value, "type": composite.FULL_OBJECT}
    values = [part.checksum or "" for part in parts]
    if upload.checksum_type == composite.COMPOSITE:
        value = composite.composite(upload.algorithm, values)
    else:
        value = composite.combined(upload.algorithm, list(zip(values, [part.size for part in parts], strict=True)))
    return {"algorithm": upload.algorithm, "value": value, "type": upload.checksum_type or composite.FULL_OBJECT}


def kept_parts(upload: Upload, parts: list[Part]) -> list[dict]:
    """What the version keeps of its parts (composite.py reads it)."""
    kept = []
    for part in parts:
        entry: dict[str, Any] = {"PartNumber": part.number, "Size": part.size}
        if upload.algorithm is not None and upload.checksum_type == composite.COMPOSITE:
            entry[checksums.param(upload.algorithm)] = part.checksum
        kept.append(entry)
    return kept


class CompletionApi(Writes):
    async def complete_multipart_upload(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        key = params["Key"]
        upload = find_upload(self.state.uploads, bucket.name, key, params["UploadId"])
        document = params.get("MultipartUpload")
        if document is None:
            raise malformed_xml()
        wanted_type = params.get("ChecksumType")
        if wanted_type is not None and upload.checksum_type is not None and wanted_type != upload.checksum_type:
            raise checksum_mode_mismatch(upload.checksum_type)
        observed = bucket.latest(key)
        async with upload.lock:
            if upload.gone:
                raise no_such_upload(upload.upload_id)
            parts = chosen_parts(upload, document.get("Parts") or [])
            size = sum(part.size for part in parts)
            declared = params.get("MpuObjectSize")
            if declared is not None and declared != size:
                raise invalid_request(
                    f"The provided 'x-amz-mp-object-size' header value {declared} does not match what was computed: "
                    f"{size}"
                )
            checksum = object_checksum(upload, parts)
            expected = params.get(checksums.param(checksum["algorithm"]))
            if expected is not None and upload.algorithm is not None and expected != checksum["value"]:
                raise bad_digest_checksum(checksum["algorithm"])
            tmp = os.path.join(self.files.tmp, uuid.uuid4().hex)
            with self.files.discarded_on_error(tmp):
                sources = [self.state.uploads.files.path(bucket.name, upload.upload_id, part.file) for part in parts]
                await self.state.uploads.files.assemble(sources, tmp)
            version = Version.new(
                key=key,
                owner=upload.owner,
                size=size,
                etag=composite.etag([part.etag for part in parts]),
                content=dict(upload.content),
                metadata=dict(upload.metadata),
                tags=dict(upload.tags),
                storage_class=upload.storage_class,
                checksum=checksum,
                encryption=dict(upload.encryption),
                acl=upload.acl,
                parts=kept_parts(upload, parts),
            )
            conditional = params.get("IfMatch") is not None or params.get("IfNoneMatch") is not None
            await self._write_version(
                bucket,
                version,
                tmp,
                ctx,
                OBJECT_CREATED_COMPLETE_MULTIPART,
                params if conditional else None,
                observed,
                also=self.state.uploads.removal(upload),
            )
            await self.state.uploads.forget(upload)
        answer: dict[str, Any] = {
            "Location": f"{ctx.endpoint_url}/{bucket.name}/{quote(key, safe='/')}",
            "Bucket": bucket.name,
            "Key": key,
            "ETag": version.etag,
            **version.encryption,
        }
        if upload.algorithm is not None:
            answer.update(checksums.answer(checksum))
        shown = shown_version_id(bucket, version)
        if shown is not None:
            answer["VersionId"] = shown
        return answer
