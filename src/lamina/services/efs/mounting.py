"""What a function's FileSystemConfigs resolve to: an access point's root directory on the
host and its PosixUser, mounted by the engine (sandbox/host.py, guest/isolation.py). The
Lambda service gets this as a callable from the composition root; it never imports EFS.

The file system policy, when there is one, decides as EFS does for a client mounting with
IAM authorization: the function's execution role needs elasticfilesystem:ClientMount to
mount, and ClientWrite to write (without it the mount is read-only). A grant comes from the
file system policy or, when that neither allows nor denies, from the role's own policies
(`role_denies`, from the composition root). Without a policy, any client may mount and
write (EFS's default policy)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable

from ...engine.spec import FileSystemMount
from ...errors import ServiceError
from ...policy import EXPLICIT_DENY, RESOURCE, PolicySet, RequestContext, evaluate, parse_policy
from .disk import root_directory
from .state import EfsState

CLIENT_MOUNT, CLIENT_WRITE = "elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"
RoleDenies = Callable[[str, tuple[str, ...], str], Awaitable[str | None]]


def mount_failure(message: str) -> ServiceError:
    """Lambda's error for a file system it cannot mount (Invoke answers it)."""
    return ServiceError("EFSMountFailureException", message, 403)


class Mounting:
    def __init__(self, state: EfsState) -> None:
        self.state = state
        self.role_denies: RoleDenies | None = None

    def exists(self, arn: str) -> bool:
        """Whether an access point ARN names an access point (CreateFunction's check)."""
        return self._find(arn) is not None

    def _find(self, arn: str) -> tuple[dict, dict] | None:
        parts = arn.split(":", 5)
        if len(parts) != 6 or not parts[5].startswith("access-point/"):
            return None
        region, account, ap_id = parts[3], parts[4], parts[5].split("/", 1)[1]
        book = self.state.books.get((account, region))
        point = book.access_points.get(ap_id) if book else None
        fs = book.file_systems.get(point["FileSystemId"]) if book and point else None
        return (point, fs) if point and fs else None

    async def mount(self, arn: str, role: str, target: str, session: str) -> FileSystemMount:
        found = self._find(arn)
        if found is None:
            raise mount_failure(f"The access point {arn} does not exist.")
        point, fs = found
        fs_arn = fs["description"]["FileSystemArn"]
        read_only = False
        if fs.get("policy"):
            if not await self._granted(fs["policy"], CLIENT_MOUNT, fs_arn, arn, role, session):
                raise mount_failure(
                    f"The function's execution role {role} is not allowed {CLIENT_MOUNT} on {fs_arn} "
                    "by the file system's policy."
                )
            read_only = not await self._granted(fs["policy"], CLIENT_WRITE, fs_arn, arn, role, session)
        root = point.get("RootDirectory") or {}
        directory = await asyncio.to_thread(
            root_directory,
            self.state.directory(point["FileSystemId"]),
            root.get("Path", "/"),
            root.get("CreationInfo"),
        )
        if not os.path.isdir(directory):
            raise mount_failure(
                f"The root directory {root.get('Path')} of access point {arn} does not exist, "
                "and the access point has no CreationInfo to make it with."
            )
        user = point.get("PosixUser") or {}
        return FileSystemMount(
            source=directory,
            target=target,
            uid=int(user["Uid"]) if "Uid" in user else None,
            gid=int(user["Gid"]) if "Gid" in user else None,
            read_only=read_only,
        )

    async def _granted(self, text: str, action: str, fs_arn: str, ap_arn: str, role: str, session: str) -> bool:
        account = role.split(":")[4] if role.count(":") >= 5 else ""
        request = RequestContext(
            principal_arn=f"arn:aws:sts::{account}:assumed-role/{role.rsplit('/', 1)[-1]}/{session}",
            action=action,
            resource=fs_arn,
            session_issuer_arn=role,
            # Lambda mounts through a mount target, over TLS, by the access point.
            context_keys={
                "aws:SecureTransport": True,
                "elasticfilesystem:AccessPointArn": ap_arn,
                "elasticfilesystem:AccessedViaMountTarget": True,
            },
        )
        decision = evaluate(request, PolicySet(resource=parse_policy(text, kind=RESOURCE)))
        if decision.allowed or decision.reason == EXPLICIT_DENY:
            return decision.allowed
        return self.role_denies is not None and await self.role_denies(role, (action,), fs_arn) is None
