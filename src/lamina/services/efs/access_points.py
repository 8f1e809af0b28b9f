"""CreateAccessPoint, DescribeAccessPoints, DeleteAccessPoint."""

from __future__ import annotations

from typing import Any

from ..context import RequestContext
from .state import ACCESS_POINT, EfsState, bad_request, efs_error, new_id, short_id

DEFAULT_PAGE = 100


def access_point_arn(region: str, account: str, ap_id: str) -> str:
    return f"arn:aws:elasticfilesystem:{region}:{account}:access-point/{ap_id}"


def shown(doc: dict) -> dict:
    """An access point as AWS describes it (its Name is its Name tag)."""
    result = dict(doc)
    name = next((tag["Value"] for tag in doc.get("Tags") or () if tag["Key"] == "Name"), None)
    if name is not None:
        result["Name"] = name
    return result


class AccessPointsApi:
    state: EfsState

    async def create_access_point(self, params: dict, ctx: RequestContext) -> dict:
        fs = self.state.file_system(ctx.account_id, ctx.region, params["FileSystemId"])
        fs_id = fs["description"]["FileSystemId"]
        if fs["description"]["LifeCycleState"] != "available":
            raise efs_error(
                "IncorrectFileSystemLifeCycleState", f"File system '{fs_id}' is not in the available state.", 409
            )
        book = self.state.book(ctx.account_id, ctx.region)
        token = params["ClientToken"]
        for existing in book.access_points.values():
            if existing["ClientToken"] == token:
                raise efs_error(
                    "AccessPointAlreadyExists",
                    f"Access point '{existing['AccessPointId']}' already exists with client token '{token}'",
                    409,
                    AccessPointId=existing["AccessPointId"],
                )
        root = dict(params.get("RootDirectory") or {})
        root.setdefault("Path", "/")
        if root["Path"] == "/" and root.get("CreationInfo"):
            raise bad_request("CreationInfo cannot be specified for the root directory of the file system ('/').")
        ap_id = new_id("fsap")
        doc: dict[str, Any] = {
            "ClientToken": token,
            "Tags": params.get("Tags") or [],
            "AccessPointId": ap_id,
            "AccessPointArn": access_point_arn(ctx.region, ctx.account_id, ap_id),
            "FileSystemId": fs_id,
            "RootDirectory": root,
            "OwnerId": ctx.account_id,
            "LifeCycleState": "available",
        }
        if params.get("PosixUser"):
            doc["PosixUser"] = params["PosixUser"]
        await self.state.save(ACCESS_POINT, ctx.account_id, ctx.region, ap_id, doc)
        # Its root directory is made when a client first mounts it, as EFS does (mounting.py).
        return dict(shown(doc), LifeCycleState="creating")

    async def describe_access_points(self, params: dict, ctx: RequestContext) -> dict:
        if params.get("AccessPointId") and params.get("FileSystemId"):
            raise bad_request("You can specify either AccessPointId or FileSystemId, but not both.")
        book = self.state.book(ctx.account_id, ctx.region)
        if params.get("AccessPointId"):
            docs = [self.state.access_point(ctx.account_id, ctx.region, params["AccessPointId"])]
        else:
            docs = list(book.access_points.values())
            if params.get("FileSystemId"):
                fs_id = self.state.file_system(ctx.account_id, ctx.region, params["FileSystemId"])["description"][
                    "FileSystemId"
                ]
                docs = [d for d in docs if d["FileSystemId"] == fs_id]
            docs.sort(key=lambda d: d["AccessPointId"])
        start = 0
        if params.get("NextToken"):
            ids = [d["AccessPointId"] for d in docs]
            if params["NextToken"] not in ids:
                raise bad_request("The NextToken is not valid.")
            start = ids.index(params["NextToken"])
        limit = params.get("MaxResults") or DEFAULT_PAGE
        result: dict[str, Any] = {"AccessPoints": [shown(d) for d in docs[start : start + limit]]}
        if start + limit < len(docs):
            result["NextToken"] = docs[start + limit]["AccessPointId"]
        return result

    async def delete_access_point(self, params: dict, ctx: RequestContext) -> dict:
        doc = self.state.access_point(ctx.account_id, ctx.region, params["AccessPointId"])
        # Its files stay: they belong to the file system.
        await self.state.drop(ACCESS_POINT, ctx.account_id, ctx.region, [doc["AccessPointId"]])
        return {}


__all__ = ["AccessPointsApi", "access_point_arn", "short_id"]
