"""A file system's settings kept beside it: its file system policy (evaluated when a
function mounts it, mounting.py), lifecycle configuration and backup policy (recorded:
Lamina moves no files between storage classes and takes no backups)."""

from __future__ import annotations

import json

from ...policy import RESOURCE, MalformedPolicy, parse_policy
from ..context import RequestContext
from .state import FILE_SYSTEM, EfsState, efs_error

BACKUP_STATES = ("ENABLED", "DISABLED")


class PoliciesApi:
    state: EfsState

    async def _change(self, ctx: RequestContext, fs_id: str, **changes) -> dict:
        doc = self.state.file_system(ctx.account_id, ctx.region, fs_id)
        doc = dict(doc, **changes)
        await self.state.save(FILE_SYSTEM, ctx.account_id, ctx.region, doc["description"]["FileSystemId"], doc)
        return doc

    async def put_file_system_policy(self, params: dict, ctx: RequestContext) -> dict:
        self.state.file_system(ctx.account_id, ctx.region, params["FileSystemId"])
        try:
            json.loads(params["Policy"])
            parse_policy(params["Policy"], kind=RESOURCE)
        except (ValueError, MalformedPolicy) as error:
            raise efs_error("InvalidPolicyException", f"Policy contains invalid syntax: {error}", 400) from None
        doc = await self._change(ctx, params["FileSystemId"], policy=params["Policy"])
        return {"FileSystemId": doc["description"]["FileSystemId"], "Policy": params["Policy"]}

    async def describe_file_system_policy(self, params: dict, ctx: RequestContext) -> dict:
        doc = self.state.file_system(ctx.account_id, ctx.region, params["FileSystemId"])
        fs_id = doc["description"]["FileSystemId"]
        if not doc.get("policy"):
            raise efs_error("PolicyNotFound", f"File System Policy for file system '{fs_id}' does not exist.", 404)
        return {"FileSystemId": fs_id, "Policy": doc["policy"]}

    async def delete_file_system_policy(self, params: dict, ctx: RequestContext) -> dict:
        await self._change(ctx, params["FileSystemId"], policy=None)
        return {}

    async def put_lifecycle_configuration(self, params: dict, ctx: RequestContext) -> dict:
        await self._change(ctx, params["FileSystemId"], lifecycle=params["LifecyclePolicies"])
        return {"LifecyclePolicies": params["LifecyclePolicies"]}

    async def describe_lifecycle_configuration(self, params: dict, ctx: RequestContext) -> dict:
        doc = self.state.file_system(ctx.account_id, ctx.region, params["FileSystemId"])
        return {"LifecyclePolicies": doc.get("lifecycle") or []}

    async def put_backup_policy(self, params: dict, ctx: RequestContext) -> dict:
        status = params["BackupPolicy"]["Status"]
        if status not in BACKUP_STATES:
            raise efs_error(
                "ValidationException", f"Backup policy status must be one of {', '.join(BACKUP_STATES)}.", 400
            )
        await self._change(ctx, params["FileSystemId"], backup=status)
        return {"BackupPolicy": {"Status": status}}

    async def describe_backup_policy(self, params: dict, ctx: RequestContext) -> dict:
        doc = self.state.file_system(ctx.account_id, ctx.region, params["FileSystemId"])
        if not doc.get("backup"):
            fs_id = doc["description"]["FileSystemId"]
            raise efs_error("PolicyNotFound", f"Backup policy for file system '{fs_id}' does not exist.", 404)
        return {"BackupPolicy": {"Status": doc["backup"]}}
