"""Multipart uploads in progress: their owner (in memory, rebuilt from the store at start)
and their documents.

    kind "s3_upload"  key "<bucket>/<upload id>"                the upload: key, what the object will be
    kind "s3_part"    key "<bucket>/<upload id>/<part, 5 digits>" one part: size, ETag, checksums, file

An upload id begins with its commit number in hex, so that ids sort as they were made
(ListMultipartUploads orders a key's uploads by id). A part's document is committed after
its file is in place (parts.py); completing or aborting an upload removes its documents in
one batch (completing: the same batch as the object's version), then its files. Each upload
has its lock: a part stored, the upload completed or aborted, one at a time."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from ...store.base import Delete, DeletePrefix, Put, Store
from .parts import PartFiles

log = logging.getLogger("lamina.s3")

KIND_UPLOAD = "s3_upload"
KIND_PART = "s3_part"


@dataclass(eq=False)
class Part:
    number: int
    size: int
    etag: str  # quoted
    last_modified: float
    file: str  # its file's name in the upload's directory
    checksum: str | None = None  # base64, in the upload's algorithm (None: the upload has none)
    crc64: str | None = None  # its CRC64NVME: the object's checksum when the upload names no algorithm

    def to_doc(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "size": self.size,
            "etag": self.etag,
            "last_modified": self.last_modified,
            "file": self.file,
            "checksum": self.checksum,
            "crc64": self.crc64,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Part:
        return cls(
            number=doc["number"],
            size=doc["size"],
            etag=doc["etag"],
            last_modified=doc["last_modified"],
            file=doc["file"],
            checksum=doc.get("checksum"),
            crc64=doc.get("crc64"),
        )


@dataclass(eq=False)
class Upload:
    bucket: str
    key: str
    upload_id: str
    initiated: float
    owner: str  # the account
    initiator: str  # the principal's id (the account for its root)
    content: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    storage_class: str = "STANDARD"
    encryption: dict[str, Any] = field(default_factory=dict)
    acl: list[dict] | None = None
    algorithm: str | None = None  # the checksum algorithm named at creation
    checksum_type: str | None = None  # COMPOSITE or FULL_OBJECT, with an algorithm
    # In memory only.
    parts: dict[int, Part] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    gone: bool = False  # completed or aborted

    @property
    def doc_key(self) -> str:
        return f"{self.bucket}/{self.upload_id}"

    def to_doc(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "initiated": self.initiated,
            "owner": self.owner,
            "initiator": self.initiator,
            "content": self.content,
            "metadata": self.metadata,
            "tags": self.tags,
            "storage_class": self.storage_class,
            "encryption": self.encryption,
            "acl": self.acl,
            "algorithm": self.algorithm,
            "checksum_type": self.checksum_type,
        }

    @classmethod
    def from_doc(cls, bucket: str, upload_id: str, doc: dict[str, Any]) -> Upload:
        return cls(
            bucket=bucket,
            key=doc["key"],
            upload_id=upload_id,
            initiated=doc["initiated"],
            owner=doc["owner"],
            initiator=doc.get("initiator") or doc["owner"],
            content=doc.get("content") or {},
            metadata=doc.get("metadata") or {},
            tags=doc.get("tags") or {},
            storage_class=doc.get("storage_class", "STANDARD"),
            encryption=doc.get("encryption") or {},
            acl=doc.get("acl"),
            algorithm=doc.get("algorithm"),
            checksum_type=doc.get("checksum_type"),
        )

    def sorted_parts(self) -> list[Part]:
        return [self.parts[number] for number in sorted(self.parts)]


def new_upload_id(seq: int) -> str:
    """Sorts by creation (the commit number first), unguessable after it."""
    return f"{seq:016x}{secrets.token_hex(20)}"


def part_key(upload: Upload, number: int) -> str:
    return f"{upload.doc_key}/{number:05d}"


class UploadBook:
    def __init__(self, store: Store, root: str) -> None:
        self.store = store
        self.files = PartFiles(root)
        self.uploads: dict[str, dict[str, Upload]] = {}  # bucket -> upload id -> upload

    async def load(self, buckets: set[str]) -> None:
        for doc_key, doc in await self.store.scan(KIND_UPLOAD):
            bucket, _, upload_id = doc_key.partition("/")
            if bucket in buckets:
                self.uploads.setdefault(bucket, {})[upload_id] = Upload.from_doc(bucket, upload_id, doc)
        for doc_key, doc in await self.store.scan(KIND_PART):
            bucket, _, rest = doc_key.partition("/")
            upload = self.uploads.get(bucket, {}).get(rest.rpartition("/")[0])
            if upload is not None:
                part = Part.from_doc(doc)
                upload.parts[part.number] = part
        known = {
            bucket: {upload_id: {part.file for part in upload.parts.values()} for upload_id, upload in uploads.items()}
            for bucket, uploads in self.uploads.items()
        }
        removed = await asyncio.to_thread(self.files.sweep, known)
        if removed:
            log.info("s3: removed %d part files no upload names", removed)

    def reset(self) -> None:
        self.uploads.clear()

    def get(self, bucket: str, upload_id: str) -> Upload | None:
        return self.uploads.get(bucket, {}).get(upload_id)

    def of_bucket(self, bucket: str) -> list[Upload]:
        return list(self.uploads.get(bucket, {}).values())

    async def create(self, upload: Upload) -> None:
        await self.store.write([Put(KIND_UPLOAD, upload.doc_key, upload.to_doc())])
        self.uploads.setdefault(upload.bucket, {})[upload.upload_id] = upload

    async def put_part(self, upload: Upload, part: Part, tmp: str) -> bool:
        """A received part's file into place and its document committed, replacing the
        part of its number. The caller holds the upload's lock and saw it not gone."""
        await self.files.install(tmp, upload.bucket, upload.upload_id, part.file)
        try:
            await asyncio.shield(self.store.write([Put(KIND_PART, part_key(upload, part.number), part.to_doc())]))
        except asyncio.CancelledError:
            raise
        except BaseException:
            await self.files.remove(upload.bucket, upload.upload_id, [part.file])
            raise
        old = upload.parts.get(part.number)
        upload.parts[part.number] = part
        if old is not None:
            await self.files.remove(upload.bucket, upload.upload_id, [old.file])
        return True

    def removal(self, upload: Upload) -> list:
        """The store operations removing an upload (committed with what ends it)."""
        return [Delete(KIND_UPLOAD, upload.doc_key), DeletePrefix(KIND_PART, f"{upload.doc_key}/")]

    async def forget(self, upload: Upload) -> None:
        """An upload whose documents are gone (completed, aborted): out of memory, its files removed."""
        upload.gone = True
        uploads = self.uploads.get(upload.bucket)
        if uploads is not None:
            uploads.pop(upload.upload_id, None)
            if not uploads:
                del self.uploads[upload.bucket]
        await self.files.remove_upload(upload.bucket, upload.upload_id)

    async def abort(self, upload: Upload) -> None:
        """The caller holds the upload's lock."""
        await asyncio.shield(self.store.write(self.removal(upload)))
        await self.forget(upload)

    def bucket_removal(self, bucket: str) -> list:
        return [DeletePrefix(KIND_UPLOAD, f"{bucket}/"), DeletePrefix(KIND_PART, f"{bucket}/")]

    async def forget_bucket(self, bucket: str) -> None:
        for upload in self.uploads.pop(bucket, {}).values():
            upload.gone = True
        await self.files.remove_bucket(bucket)

    async def abort_older_than(self, bucket: str, days: int, prefix: str = "", now: float | None = None) -> list[str]:
        """Lifecycle's AbortIncompleteMultipartUpload: every upload of `bucket` under `prefix`
        initiated more than `days` days before `now`, aborted. Returns their upload ids."""
        cutoff = (time.time() if now is None else now) - days * 86400
        aborted = []
        for upload in self.of_bucket(bucket):
            if upload.initiated > cutoff or not upload.key.startswith(prefix):
                continue
            async with upload.lock:
                if upload.gone:
                    continue
                await self.abort(upload)
            aborted.append(upload.upload_id)
        return aborted


def find_upload(book: UploadBook, bucket: str, key: str, upload_id: str) -> Upload:
    """The upload a request names, or NoSuchUpload (an unknown id, or another key's)."""
    from .upload_errors import no_such_upload

    upload = book.get(bucket, upload_id)
    if upload is None or upload.key != key or upload.gone:
        raise no_such_upload(upload_id)
    return upload
