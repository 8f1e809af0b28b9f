"""The S3 service's truth: its buckets and, per bucket, an index of its objects' versions,
in memory; every change in the store before it is answered; rebuilt from the store at start.

    kind "s3_bucket"   key "<bucket>"          the bucket's owner, region and settings
    kind "s3_object"   key "<bucket>/<uid>"    one version (or delete marker) of one key

Bucket names are one namespace across accounts and regions, as AWS's are. A version's uid
is its commit number (20 digits, increasing across the service): the name of its file
(storage.py), the order of a key's versions, and the source of AWS's sequencer.

Lookups other engineers build on: `bucket(name)` (None: no such bucket), `latest(bucket,
key)`, `version(bucket, key, version_id)`, `Bucket.keys` (sorted) and `Bucket.objects`
(key -> versions, oldest first)."""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from ...store.base import Delete, DeletePrefix, Put, Store
from ..context import RequestContext
from .errors import access_denied, no_such_bucket, no_such_key, no_such_version, permanent_redirect
from .storage import Files
from .uploads import UploadBook

log = logging.getLogger("lamina.s3")

KIND_BUCKET = "s3_bucket"
KIND_OBJECT = "s3_object"
NULL = "null"  # the version id of an object stored while versioning was never enabled, or suspended

# What a new bucket has (since April 2023): ACLs disabled, public access blocked, SSE-S3.
DEFAULT_OWNERSHIP = "BucketOwnerEnforced"
DEFAULT_PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
DEFAULT_ENCRYPTION = {
    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]
}


@dataclass(eq=False)
class Version:
    key: str
    version_id: str
    seq: int  # the commit number
    last_modified: float  # epoch seconds, millisecond precision
    owner: str  # the account that wrote it
    delete_marker: bool = False
    size: int = 0
    etag: str = ""  # quoted, as S3 answers it
    content: dict[str, str] = field(default_factory=dict)  # ContentType, CacheControl, Expires...
    metadata: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    storage_class: str = "STANDARD"
    checksum: dict[str, str] | None = None  # {algorithm, value, type}
    encryption: dict[str, Any] = field(default_factory=lambda: {"ServerSideEncryption": "AES256"})
    acl: list[dict] | None = None  # grants beyond the owner's full control (None: private)
    parts: list[dict] | None = None  # a multipart upload's parts: [{PartNumber, Size, Checksum*}] (composite.py)

    @classmethod
    def new(cls, key: str, owner: str, **fields: Any) -> Version:
        """A version not yet written: `Writes._write_version` gives it its id, its commit
        number and its time."""
        return cls(key=key, version_id="", seq=0, last_modified=0.0, owner=owner, **fields)

    @property
    def uid(self) -> str:
        return f"{self.seq:020d}"

    @property
    def sequencer(self) -> str:
        return f"{self.seq:018X}"

    def to_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "key": self.key,
            "version_id": self.version_id,
            "seq": self.seq,
            "last_modified": self.last_modified,
            "owner": self.owner,
        }
        if self.delete_marker:
            doc["delete_marker"] = True
            return doc
        doc.update(
            size=self.size,
            etag=self.etag,
            content=self.content,
            metadata=self.metadata,
            tags=self.tags,
            storage_class=self.storage_class,
            checksum=self.checksum,
            encryption=self.encryption,
            acl=self.acl,
        )
        if self.parts:
            doc["parts"] = self.parts
        return doc

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Version:
        return cls(
            key=doc["key"],
            version_id=doc["version_id"],
            seq=doc["seq"],
            last_modified=doc["last_modified"],
            owner=doc["owner"],
            delete_marker=doc.get("delete_marker", False),
            size=doc.get("size", 0),
            etag=doc.get("etag", ""),
            content=doc.get("content") or {},
            metadata=doc.get("metadata") or {},
            tags=doc.get("tags") or {},
            storage_class=doc.get("storage_class", "STANDARD"),
            checksum=doc.get("checksum"),
            encryption=doc.get("encryption") or {"ServerSideEncryption": "AES256"},
            acl=doc.get("acl"),
            parts=doc.get("parts"),
        )


class KeyLocks:
    """One lock per key, there only while someone holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, list[int]]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        entry = self._locks.get(key)
        if entry is None:
            entry = self._locks[key] = (asyncio.Lock(), [0])
        entry[1][0] += 1
        try:
            async with entry[0]:
                yield
        finally:
            entry[1][0] -= 1
            if entry[1][0] == 0:
                self._locks.pop(key, None)


@dataclass(eq=False)
class Bucket:
    name: str
    account: str
    region: str
    created: float
    versioning: str = ""  # "", "Enabled" or "Suspended"
    tags: dict[str, str] | None = None
    acl: list[dict] | None = None  # grants beyond the owner's full control
    ownership: str | None = DEFAULT_OWNERSHIP
    public_access_block: dict[str, bool] | None = field(default_factory=lambda: dict(DEFAULT_PUBLIC_ACCESS_BLOCK))
    encryption: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_ENCRYPTION))
    # In memory only: the index, rebuilt from the objects' documents.
    objects: dict[str, list[Version]] = field(default_factory=dict)  # key -> versions, oldest first
    keys: list[str] = field(default_factory=list)  # the keys of `objects`, sorted
    locks: KeyLocks = field(default_factory=KeyLocks)
    busy: int = 0  # changes of objects under way (a bucket with some is not empty)
    deleted: bool = False

    @property
    def arn(self) -> str:
        return f"arn:aws:s3:::{self.name}"

    def to_doc(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "region": self.region,
            "created": self.created,
            "versioning": self.versioning,
            "tags": self.tags,
            "acl": self.acl,
            "ownership": self.ownership,
            "public_access_block": self.public_access_block,
            "encryption": self.encryption,
        }

    @classmethod
    def from_doc(cls, name: str, doc: dict[str, Any]) -> Bucket:
        return cls(
            name=name,
            account=doc["account"],
            region=doc["region"],
            created=doc["created"],
            versioning=doc.get("versioning", ""),
            tags=doc.get("tags"),
            acl=doc.get("acl"),
            ownership=doc.get("ownership"),
            public_access_block=doc.get("public_access_block"),
            encryption=doc.get("encryption") or dict(DEFAULT_ENCRYPTION),
        )

    def latest(self, key: str) -> Version | None:
        versions = self.objects.get(key)
        return versions[-1] if versions else None

    def version(self, key: str, version_id: str) -> Version | None:
        for version in reversed(self.objects.get(key, ())):
            if version.version_id == version_id:
                return version
        return None

    def apply(self, key: str, added: Version | None, removed: list[Version]) -> None:
        """A committed change of one key's versions, into the index."""
        versions = self.objects.get(key)
        if versions is None:
            if added is None:
                return
            versions = self.objects[key] = []
            bisect.insort(self.keys, key)
        for version in removed:
            if version in versions:
                versions.remove(version)
        if added is not None:
            versions.append(added)
        if not versions:
            del self.objects[key]
            at = bisect.bisect_left(self.keys, key)
            if at < len(self.keys) and self.keys[at] == key:
                del self.keys[at]

    def empty(self) -> bool:
        return not self.objects and not self.busy


def doc_key(bucket: str, version: Version) -> str:
    return f"{bucket}/{version.uid}"


class S3State:
    def __init__(self, store: Store, files: Files) -> None:
        self.store = store
        self.files = files
        self.buckets: dict[str, Bucket] = {}
        self._last_seq = 0
        self.uploads = UploadBook(store, files.root)  # multipart uploads in progress

    # --- lifecycle --------------------------------------------------------------------

    async def load(self) -> None:
        await asyncio.to_thread(self.files.prepare)
        for name, doc in await self.store.scan(KIND_BUCKET):
            self.buckets[name] = Bucket.from_doc(name, doc)
        for doc_id, doc in await self.store.scan(KIND_OBJECT):  # key order: per bucket, commit order
            name = doc_id.split("/", 1)[0]
            bucket = self.buckets.get(name)
            if bucket is None:
                continue
            version = Version.from_doc(doc)
            versions = bucket.objects.get(version.key)
            if versions is None:
                versions = bucket.objects[version.key] = []
            versions.append(version)
            self._last_seq = max(self._last_seq, version.seq)
        known: dict[str, set[str]] = {}
        for bucket in self.buckets.values():
            bucket.keys = sorted(bucket.objects)
            known[bucket.name] = {v.uid for vs in bucket.objects.values() for v in vs if not v.delete_marker}
        removed = await asyncio.to_thread(self.files.sweep, known)
        if removed:
            log.info("s3: removed %d files no object names (an interrupted write or delete)", removed)
        await self.uploads.load(set(self.buckets))

    def reset(self) -> None:
        self.buckets.clear()
        self.uploads.reset()
        self.files.reset()

    def next_seq(self) -> int:
        """A commit number: increasing, near the time in nanoseconds."""
        self._last_seq = max(self._last_seq + 1, time.time_ns())
        return self._last_seq

    # --- finding ----------------------------------------------------------------------

    def bucket(self, name: str) -> Bucket | None:
        return self.buckets.get(name)

    # Whether the gateway's authorizer decides who may use a bucket (access/s3.py: another
    # account's caller gets in when the bucket's policy allows it). Set by the composition
    # root; without an authorizer (tests, tools) only the bucket's own account may.
    authorized = False

    def find(self, name: str, ctx: RequestContext) -> Bucket:
        """The caller's bucket: NoSuchBucket, another region's (a redirect there, as S3's
        regional endpoints answer), another account's when no authorizer decided
        (AccessDenied)."""
        bucket = self.buckets.get(name)
        if bucket is None:
            raise no_such_bucket(name)
        if bucket.region != ctx.region:
            raise permanent_redirect(name, bucket.region)
        if bucket.account != ctx.account_id and not self.authorized:
            raise access_denied()
        return bucket

    # --- changes ----------------------------------------------------------------------

    async def save_bucket(self, bucket: Bucket) -> None:
        await self.store.write([Put(KIND_BUCKET, bucket.name, bucket.to_doc())])

    async def delete_bucket(self, bucket: Bucket) -> None:
        await self.store.write(
            [
                Delete(KIND_BUCKET, bucket.name),
                DeletePrefix(KIND_OBJECT, f"{bucket.name}/"),
                *self.uploads.bucket_removal(bucket.name),
            ]
        )
        await self.uploads.forget_bucket(bucket.name)

    async def rewrite(self, bucket: Bucket, version: Version, **changes: Any) -> None:
        """A version's tags or ACL changed: its document rewritten, then the version in memory.
        NoSuchKey/NoSuchVersion when it went meanwhile."""
        async with bucket.locks.hold(version.key):
            if version not in bucket.objects.get(version.key, ()):
                raise (
                    no_such_key(version.key)
                    if version.version_id == NULL
                    else no_such_version(version.key, version.version_id)
                )
            doc = version.to_doc()
            doc.update(changes)
            await self.store.write([Put(KIND_OBJECT, doc_key(bucket.name, version), doc)])
            for name, value in changes.items():
                setattr(version, name, value)

    async def commit(
        self, bucket: Bucket, key: str, added: Version | None, removed: list[Version], also: list | None = None
    ) -> None:
        """One change of a key's versions: in the store, then in the index. The caller holds
        the key's lock. `also`: store operations committed in the same batch (a completed
        multipart upload's removal)."""
        ops: list = [Delete(KIND_OBJECT, doc_key(bucket.name, version)) for version in removed]
        if added is not None:
            ops.append(Put(KIND_OBJECT, doc_key(bucket.name, added), added.to_doc()))
        ops.extend(also or ())
        await self.store.write(ops)
        bucket.apply(key, added, removed)
