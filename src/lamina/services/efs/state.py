"""EFS's file systems, access points and mount targets: the owner of their truth, per
account and region, and where each file system's files are.

    kind "efs_file_system"   key <account>:<region>:<fs-id>     the description as kept, its
                                                                 tags, policies, lifecycle
    kind "efs_access_point"  key <account>:<region>:<fsap-id>   the access point as created
    kind "efs_mount_target"  key <account>:<region>:<fsmt-id>   the mount target as created

A file system's files are the directory `<data dir>/efs/<fs-id>/` (ids are unique across
accounts and regions). Every change is written to the store before the caller hears of it;
the books are rebuilt from the store at start.
"""

from __future__ import annotations

import os
import random
import shutil
import time
from dataclasses import dataclass, field
from typing import Any

from ...errors import ServiceError
from ...store.base import Delete, Put, Store

FILE_SYSTEM, ACCESS_POINT, MOUNT_TARGET = "efs_file_system", "efs_access_point", "efs_mount_target"
_random = random.SystemRandom()


def new_id(prefix: str) -> str:
    """AWS's shape of an EFS id: fs-, fsap-, fsmt-, eni- and 17 hex digits."""
    return f"{prefix}-{_random.getrandbits(68):017x}"


def now_s() -> float:
    return round(time.time(), 3)


def efs_error(code: str, message: str, status: int, **fields: Any) -> ServiceError:
    """EFS's errors carry their code again as ErrorCode, beside the message."""
    return ServiceError(code, message, status, ErrorCode=code, **fields)


def bad_request(message: str) -> ServiceError:
    return efs_error("BadRequest", message, 400)


def file_system_not_found(fs_id: str) -> ServiceError:
    return efs_error("FileSystemNotFound", f"File system '{fs_id}' does not exist.", 404)


def access_point_not_found(ap_id: str) -> ServiceError:
    return efs_error("AccessPointNotFound", f"Access point '{ap_id}' does not exist.", 404)


def mount_target_not_found(mt_id: str) -> ServiceError:
    return efs_error("MountTargetNotFound", f"Mount target '{mt_id}' does not exist.", 404)


def short_id(value: str) -> str:
    """An id as given, or the id at the end of its ARN (both are accepted)."""
    return value.rsplit("/", 1)[-1] if value.startswith("arn:") else value


@dataclass
class Book:
    """One account and region's resources, by id."""

    file_systems: dict[str, dict] = field(default_factory=dict)
    access_points: dict[str, dict] = field(default_factory=dict)
    mount_targets: dict[str, dict] = field(default_factory=dict)


class EfsState:
    def __init__(self, store: Store, root: str) -> None:
        self.store = store
        self.root = root  # <data dir>/efs
        self.books: dict[tuple[str, str], Book] = {}

    async def load(self) -> None:
        self.books.clear()
        for kind, attribute in (
            (FILE_SYSTEM, "file_systems"),
            (ACCESS_POINT, "access_points"),
            (MOUNT_TARGET, "mount_targets"),
        ):
            for key, doc in await self.store.scan(kind):
                account, region, resource_id = key.split(":", 2)
                getattr(self.book(account, region), attribute)[resource_id] = doc

    def reset(self) -> None:
        """Lamina's reset: every file system's files go with the records."""
        self.books.clear()
        shutil.rmtree(self.root, ignore_errors=True)

    def book(self, account: str, region: str) -> Book:
        book = self.books.get((account, region))
        if book is None:
            book = self.books[(account, region)] = Book()
        return book

    def directory(self, fs_id: str) -> str:
        return os.path.join(self.root, fs_id)

    def file_system(self, account: str, region: str, fs_id: str) -> dict:
        found = self.book(account, region).file_systems.get(short_id(fs_id))
        if found is None:
            raise file_system_not_found(short_id(fs_id))
        return found

    def access_point(self, account: str, region: str, ap_id: str) -> dict:
        found = self.book(account, region).access_points.get(short_id(ap_id))
        if found is None:
            raise access_point_not_found(short_id(ap_id))
        return found

    def mount_target(self, account: str, region: str, mt_id: str) -> dict:
        found = self.book(account, region).mount_targets.get(mt_id)
        if found is None:
            raise mount_target_not_found(mt_id)
        return found

    async def save(self, kind: str, account: str, region: str, resource_id: str, doc: dict) -> None:
        await self.store.write([Put(kind, f"{account}:{region}:{resource_id}", doc)])
        book = self.book(account, region)
        {FILE_SYSTEM: book.file_systems, ACCESS_POINT: book.access_points, MOUNT_TARGET: book.mount_targets}[kind][
            resource_id
        ] = doc

    async def drop(self, kind: str, account: str, region: str, ids: list[str]) -> None:
        await self.store.write([Delete(kind, f"{account}:{region}:{resource_id}") for resource_id in ids])
        book = self.book(account, region)
        kept = {FILE_SYSTEM: book.file_systems, ACCESS_POINT: book.access_points, MOUNT_TARGET: book.mount_targets}[
            kind
        ]
        for resource_id in ids:
            kept.pop(resource_id, None)
