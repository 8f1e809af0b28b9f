"""CreateFileSystem, DescribeFileSystems, UpdateFileSystem, DeleteFileSystem."""

from __future__ import annotations

import asyncio
import shutil
from typing import Any

from ..context import RequestContext
from .disk import make_file_system, size_in_bytes
from .state import ACCESS_POINT, FILE_SYSTEM, EfsState, bad_request, efs_error, new_id, now_s, short_id

DEFAULT_PAGE = 100


def file_system_arn(region: str, account: str, fs_id: str) -> str:
    return f"arn:aws:elasticfilesystem:{region}:{account}:file-system/{fs_id}"


def _check_throughput(mode: str, provisioned: float | None) -> None:
    if mode == "provisioned" and provisioned is None:
        raise bad_request("ProvisionedThroughputInMibps is required when ThroughputMode is provisioned.")
    if mode != "provisioned" and provisioned is not None:
        raise bad_request("ProvisionedThroughputInMibps can only be set when ThroughputMode is provisioned.")


class FileSystemsApi:
    state: EfsState

    async def describe(self, doc: dict) -> dict:
        """A file system as AWS describes it: its Name tag, mount targets and real size."""
        description = dict(doc["description"])
        fs_id = description["FileSystemId"]
        size = await asyncio.to_thread(size_in_bytes, self.state.directory(fs_id))
        account, region = description["OwnerId"], description["FileSystemArn"].split(":")[3]
        book = self.state.book(account, region)
        tags = doc.get("tags") or []
        name = next((tag["Value"] for tag in tags if tag["Key"] == "Name"), None)
        if name is not None:
            description["Name"] = name
        description.update(
            Tags=tags,
            NumberOfMountTargets=sum(1 for mt in book.mount_targets.values() if mt["FileSystemId"] == fs_id),
            SizeInBytes={
                "Value": size,
                "Timestamp": now_s(),
                "ValueInStandard": size,
                "ValueInIA": 0,
                "ValueInArchive": 0,
            },
        )
        return description

    async def create_file_system(self, params: dict, ctx: RequestContext) -> dict:
        book = self.state.book(ctx.account_id, ctx.region)
        token = params["CreationToken"]
        for doc in book.file_systems.values():
            if doc["description"]["CreationToken"] == token:
                fs_id = doc["description"]["FileSystemId"]
                raise efs_error(
                    "FileSystemAlreadyExists",
                    f"File system '{fs_id}' already exists with creation token '{token}'",
                    409,
                    FileSystemId=fs_id,
                )
        throughput = params.get("ThroughputMode", "bursting")
        _check_throughput(throughput, params.get("ProvisionedThroughputInMibps"))
        performance = params.get("PerformanceMode", "generalPurpose")
        if performance == "maxIO" and throughput == "elastic":
            raise bad_request("Performance mode maxIO is not supported with throughput mode elastic.")
        encrypted = bool(params.get("Encrypted", False))
        if params.get("KmsKeyId") and not encrypted:
            raise bad_request("KmsKeyId can only be specified when Encrypted is true.")
        fs_id = new_id("fs")
        description: dict[str, Any] = {
            "OwnerId": ctx.account_id,
            "CreationToken": token,
            "FileSystemId": fs_id,
            "FileSystemArn": file_system_arn(ctx.region, ctx.account_id, fs_id),
            "CreationTime": now_s(),
            "LifeCycleState": "available",
            "PerformanceMode": performance,
            "Encrypted": encrypted,
            "ThroughputMode": throughput,
            "FileSystemProtection": {"ReplicationOverwriteProtection": "ENABLED"},
        }
        if encrypted:
            description["KmsKeyId"] = params.get("KmsKeyId") or (
                f"arn:aws:kms:{ctx.region}:{ctx.account_id}:alias/aws/elasticfilesystem"
            )
        if params.get("ProvisionedThroughputInMibps") is not None:
            description["ProvisionedThroughputInMibps"] = params["ProvisionedThroughputInMibps"]
        if params.get("AvailabilityZoneName"):
            description["AvailabilityZoneName"] = params["AvailabilityZoneName"]
        # The directory first: a file system the store knows of always has its files.
        await asyncio.to_thread(make_file_system, self.state.directory(fs_id))
        doc = {
            "description": description,
            "tags": params.get("Tags") or [],
            "lifecycle": [],
            "backup": "ENABLED" if params.get("Backup") else None,
            "policy": None,
        }
        await self.state.save(FILE_SYSTEM, ctx.account_id, ctx.region, fs_id, doc)
        # AWS answers while the file system is still being made; Lamina's is ready at once
        # (DescribeFileSystems says available).
        return dict(await self.describe(doc), LifeCycleState="creating")

    async def describe_file_systems(self, params: dict, ctx: RequestContext) -> dict:
        book = self.state.book(ctx.account_id, ctx.region)
        if params.get("FileSystemId"):
            docs = [self.state.file_system(ctx.account_id, ctx.region, params["FileSystemId"])]
        else:
            docs = sorted(
                book.file_systems.values(),
                key=lambda d: (d["description"]["CreationTime"], d["description"]["FileSystemId"]),
            )
        if params.get("CreationToken"):
            docs = [d for d in docs if d["description"]["CreationToken"] == params["CreationToken"]]
        start = 0
        if params.get("Marker"):
            ids = [d["description"]["FileSystemId"] for d in docs]
            if params["Marker"] not in ids:
                raise bad_request("The marker is not valid.")
            start = ids.index(params["Marker"])
        limit = params.get("MaxItems") or DEFAULT_PAGE
        page = docs[start : start + limit]
        result: dict[str, Any] = {"FileSystems": [await self.describe(d) for d in page]}
        if params.get("Marker"):
            result["Marker"] = params["Marker"]
        if start + limit < len(docs):
            result["NextMarker"] = docs[start + limit]["description"]["FileSystemId"]
        return result

    async def update_file_system(self, params: dict, ctx: RequestContext) -> dict:
        doc = self.state.file_system(ctx.account_id, ctx.region, params["FileSystemId"])
        description = dict(doc["description"])
        mode: str = params.get("ThroughputMode") or description["ThroughputMode"]
        provisioned = params.get("ProvisionedThroughputInMibps")
        if mode == "provisioned" and provisioned is None:
            provisioned = description.get("ProvisionedThroughputInMibps")
        _check_throughput(mode, provisioned)
        description["ThroughputMode"] = mode
        description.pop("ProvisionedThroughputInMibps", None)
        if provisioned is not None:
            description["ProvisionedThroughputInMibps"] = provisioned
        doc = dict(doc, description=description)
        await self.state.save(FILE_SYSTEM, ctx.account_id, ctx.region, description["FileSystemId"], doc)
        return await self.describe(doc)

    async def delete_file_system(self, params: dict, ctx: RequestContext) -> dict:
        doc = self.state.file_system(ctx.account_id, ctx.region, params["FileSystemId"])
        fs_id = doc["description"]["FileSystemId"]
        book = self.state.book(ctx.account_id, ctx.region)
        if any(mt["FileSystemId"] == fs_id for mt in book.mount_targets.values()):
            raise efs_error(
                "FileSystemInUse",
                f"The file system '{fs_id}' cannot be deleted because it has mount targets. "
                "You must delete the mount targets, and then try again.",
                409,
            )
        # Its access points go with it; then its files.
        points = [ap_id for ap_id, ap in book.access_points.items() if ap["FileSystemId"] == fs_id]
        if points:
            await self.state.drop(ACCESS_POINT, ctx.account_id, ctx.region, points)
        await self.state.drop(FILE_SYSTEM, ctx.account_id, ctx.region, [fs_id])
        await asyncio.to_thread(shutil.rmtree, self.state.directory(fs_id), True)
        return {}


__all__ = ["FileSystemsApi", "file_system_arn", "short_id"]
