"""ListParts (PartNumberMarker, MaxParts) and ListMultipartUploads (KeyMarker with
UploadIdMarker, Prefix, Delimiter and CommonPrefixes, MaxUploads, EncodingType=url): the
uploads of a bucket in key order, a key's uploads in upload id order (which is the order
they were made: uploads.py)."""

from __future__ import annotations

from typing import Any

from ..context import RequestContext
from . import checksums
from .acl import owner
from .errors import invalid_argument
from .listing import _encoder
from .uploads import Upload, find_upload
from .writes import Writes

MAX_ENTRIES = 1000


def _limit(value: int | None, name: str) -> int:
    if value is None:
        return MAX_ENTRIES
    if value < 0:
        raise invalid_argument(f"Argument {name} must be an integer between 0 and 2147483647", name, str(value))
    return min(value, MAX_ENTRIES)


def _initiator(upload: Upload) -> dict[str, str]:
    if upload.initiator == upload.owner:
        return owner(upload.owner)
    return {"ID": upload.initiator, "DisplayName": upload.initiator.rsplit("/", 1)[-1]}


def _checksum_members(upload: Upload) -> dict[str, Any]:
    if upload.algorithm is None:
        return {}
    return {"ChecksumAlgorithm": upload.algorithm, "ChecksumType": upload.checksum_type}


class UploadListingApi(Writes):
    async def list_parts(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        upload = find_upload(self.state.uploads, bucket.name, params["Key"], params["UploadId"])
        marker = params.get("PartNumberMarker") or 0
        limit = _limit(params.get("MaxParts"), "max-parts")
        after = [upload.parts[n] for n in sorted(upload.parts) if n > marker]
        page = after[:limit]
        parts = []
        for part in page:
            entry: dict[str, Any] = {
                "PartNumber": part.number,
                "LastModified": part.last_modified,
                "ETag": part.etag,
                "Size": part.size,
            }
            if upload.algorithm is not None and part.checksum:
                entry[checksums.param(upload.algorithm)] = part.checksum
            parts.append(entry)
        answer: dict[str, Any] = {
            "Bucket": bucket.name,
            "Key": upload.key,
            "UploadId": upload.upload_id,
            "PartNumberMarker": marker,
            "MaxParts": limit,
            "IsTruncated": len(after) > len(page),
            "Parts": parts,
            "Initiator": _initiator(upload),
            "Owner": owner(upload.owner),
            "StorageClass": upload.storage_class,
            **_checksum_members(upload),
        }
        if page:
            answer["NextPartNumberMarker"] = page[-1].number
        return answer

    async def list_multipart_uploads(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        prefix = params.get("Prefix") or ""
        delimiter = params.get("Delimiter") or ""
        key_marker = params.get("KeyMarker") or ""
        id_marker = params.get("UploadIdMarker") or ""
        limit = _limit(params.get("MaxUploads"), "max-uploads")
        encode = _encoder(params)
        uploads = sorted(
            (upload for upload in self.state.uploads.of_bucket(bucket.name) if upload.key.startswith(prefix)),
            key=lambda upload: (upload.key, upload.upload_id),
        )
        entries: list[tuple[str, Any]] = []
        truncated = False
        seen_prefixes: set[str] = set()
        for upload in uploads:
            if key_marker:
                if upload.key < key_marker or (
                    upload.key == key_marker and (not id_marker or upload.upload_id <= id_marker)
                ):
                    continue
            common = None
            if delimiter:
                at = upload.key.find(delimiter, len(prefix))
                if at >= 0:
                    common = upload.key[: at + len(delimiter)]
            if common is not None and (common in seen_prefixes or (key_marker and common <= key_marker)):
                continue
            if len(entries) == limit:
                truncated = True
                break
            if common is not None:
                seen_prefixes.add(common)
                entries.append(("prefix", common))
            else:
                entries.append(("upload", upload))
        answer: dict[str, Any] = {
            "Bucket": bucket.name,
            "KeyMarker": encode(key_marker),
            "UploadIdMarker": id_marker,
            "Prefix": encode(prefix),
            "MaxUploads": limit,
            "IsTruncated": truncated,
            "Uploads": [
                {
                    "UploadId": upload.upload_id,
                    "Key": encode(upload.key),
                    "Initiated": upload.initiated,
                    "StorageClass": upload.storage_class,
                    "Owner": owner(upload.owner),
                    "Initiator": _initiator(upload),
                    **_checksum_members(upload),
                }
                for kind, upload in entries
                if kind == "upload"
            ],
            "CommonPrefixes": [{"Prefix": encode(value)} for kind, value in entries if kind == "prefix"],
        }
        if delimiter:
            answer["Delimiter"] = encode(delimiter)
        if params.get("EncodingType"):
            answer["EncodingType"] = params["EncodingType"]
        if entries:
            kind, last = entries[-1]
            if kind == "upload":
                answer["NextKeyMarker"] = encode(last.key)
                answer["NextUploadIdMarker"] = last.upload_id
            else:
                answer["NextKeyMarker"] = encode(last)
                answer["NextUploadIdMarker"] = ""
        return answer
