"""CreateMountTarget, DescribeMountTargets, DeleteMountTarget, and their security groups.

Lamina has no VPC: a mount target is a record (its subnet, address and security groups as
given) that DeleteFileSystem respects; functions reach a file system's files whatever the
mount targets are (see the manual's EFS section)."""

from __future__ import annotations

from typing import Any

from ..context import RequestContext
from .state import MOUNT_TARGET, EfsState, bad_request, efs_error, new_id

DEFAULT_PAGE = 100
MAX_SECURITY_GROUPS = 5


class MountTargetsApi:
    state: EfsState

    async def create_mount_target(self, params: dict, ctx: RequestContext) -> dict:
        fs = self.state.file_system(ctx.account_id, ctx.region, params["FileSystemId"])
        fs_id = fs["description"]["FileSystemId"]
        book = self.state.book(ctx.account_id, ctx.region)
        subnet = params["SubnetId"]
        if any(mt["FileSystemId"] == fs_id and mt["SubnetId"] == subnet for mt in book.mount_targets.values()):
            raise efs_error("MountTargetConflict", "mount target already exists in this AZ", 409)
        groups = params.get("SecurityGroups") or []
        if len(groups) > MAX_SECURITY_GROUPS:
            raise efs_error(
                "SecurityGroupLimitExceeded",
                f"A mount target can have at most {MAX_SECURITY_GROUPS} security groups.",
                400,
            )
        mt_id = new_id("fsmt")
        doc: dict[str, Any] = {
            "OwnerId": ctx.account_id,
            "MountTargetId": mt_id,
            "FileSystemId": fs_id,
            "SubnetId": subnet,
            "LifeCycleState": "available",
            # The file system's files are on this host: that is where a mount target leads.
            "IpAddress": params.get("IpAddress") or "127.0.0.1",
            "NetworkInterfaceId": new_id("eni"),
            "AvailabilityZoneName": fs["description"].get("AvailabilityZoneName") or f"{ctx.region}a",
            "SecurityGroups": groups,
        }
        if params.get("Ipv6Address"):
            doc["Ipv6Address"] = params["Ipv6Address"]
        await self.state.save(MOUNT_TARGET, ctx.account_id, ctx.region, mt_id, doc)
        return _shown(doc)

    async def describe_mount_targets(self, params: dict, ctx: RequestContext) -> dict:
        account, region = ctx.account_id, ctx.region
        book = self.state.book(account, region)
        if params.get("MountTargetId"):
            docs = [self.state.mount_target(account, region, params["MountTargetId"])]
        elif params.get("FileSystemId"):
            fs_id = self.state.file_system(account, region, params["FileSystemId"])["description"]["FileSystemId"]
            docs = [mt for mt in book.mount_targets.values() if mt["FileSystemId"] == fs_id]
        elif params.get("AccessPointId"):
            fs_id = self.state.access_point(account, region, params["AccessPointId"])["FileSystemId"]
            docs = [mt for mt in book.mount_targets.values() if mt["FileSystemId"] == fs_id]
        else:
            raise bad_request("Must specify exactly one mutually exclusive parameter.")
        docs.sort(key=lambda d: d["MountTargetId"])
        start = 0
        if params.get("Marker"):
            ids = [d["MountTargetId"] for d in docs]
            if params["Marker"] not in ids:
                raise bad_request("The marker is not valid.")
            start = ids.index(params["Marker"])
        limit = params.get("MaxItems") or DEFAULT_PAGE
        result: dict[str, Any] = {"MountTargets": [_shown(d) for d in docs[start : start + limit]]}
        if params.get("Marker"):
            result["Marker"] = params["Marker"]
        if start + limit < len(docs):
            result["NextMarker"] = docs[start + limit]["MountTargetId"]
        return result

    async def delete_mount_target(self, params: dict, ctx: RequestContext) -> dict:
        doc = self.state.mount_target(ctx.account_id, ctx.region, params["MountTargetId"])
        await self.state.drop(MOUNT_TARGET, ctx.account_id, ctx.region, [doc["MountTargetId"]])
        return {}

    async def describe_mount_target_security_groups(self, params: dict, ctx: RequestContext) -> dict:
        doc = self.state.mount_target(ctx.account_id, ctx.region, params["MountTargetId"])
        return {"SecurityGroups": list(doc["SecurityGroups"])}

    async def modify_mount_target_security_groups(self, params: dict, ctx: RequestContext) -> dict:
        doc = self.state.mount_target(ctx.account_id, ctx.region, params["MountTargetId"])
        groups = params.get("SecurityGroups") or []
        if len(groups) > MAX_SECURITY_GROUPS:
            raise efs_error(
                "SecurityGroupLimitExceeded",
                f"A mount target can have at most {MAX_SECURITY_GROUPS} security groups.",
                400,
            )
        await self.state.save(
            MOUNT_TARGET, ctx.account_id, ctx.region, doc["MountTargetId"], dict(doc, SecurityGroups=groups)
        )
        return {}


def _shown(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k != "SecurityGroups"}
