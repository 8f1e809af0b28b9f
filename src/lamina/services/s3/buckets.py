"""CreateBucket, HeadBucket, ListBuckets, DeleteBucket, GetBucketLocation and the bucket's
versioning (Get/PutBucketVersioning).

A bucket belongs to its account and its region: its name is one namespace across every
account and region (BucketAlreadyExists), created where the request is sent (a
LocationConstraint must name that region; us-east-1 takes none), and another region's
endpoint redirects to it (state.find)."""

from __future__ import annotations

import base64
import binascii
import time
from typing import Any

from ...errors import ServiceError
from ..context import RequestContext
from .acl import owner, requested_grants
from .errors import (
    acl_with_object_ownership,
    bucket_already_exists,
    bucket_already_owned,
    bucket_not_empty,
    illegal_location_constraint,
    invalid_argument,
    invalid_location_constraint,
    no_such_bucket,
)
from .names import check_bucket_name
from .state import Bucket, S3State

US_EAST_1 = "us-east-1"
MAX_BUCKETS_PAGE = 10000


def _location(bucket: Bucket) -> str:
    if bucket.region == US_EAST_1:
        return f"/{bucket.name}"
    return f"http://{bucket.name}.s3.amazonaws.com/"


class BucketsApi:
    state: S3State
    _creating: set[str]

    async def create_bucket(self, params: dict, ctx: RequestContext) -> dict:
        name = params["Bucket"]
        check_bucket_name(name)
        constraint = (params.get("CreateBucketConfiguration") or {}).get("LocationConstraint") or None
        if constraint == "EU":
            constraint = "eu-west-1"
        if constraint is None:
            if ctx.region != US_EAST_1:
                raise illegal_location_constraint("unspecified")
        elif constraint == US_EAST_1:
            raise invalid_location_constraint()
        elif constraint != ctx.region:
            raise illegal_location_constraint(constraint)
        existing = self.state.bucket(name)
        if existing is not None or name in self._creating:
            if existing is None:
                raise ServiceError(
                    "OperationAborted",
                    "A conflicting conditional operation is currently in progress against this resource. "
                    "Please try again.",
                    409,
                )
            if existing.account != ctx.account_id:
                raise bucket_already_exists(name)
            if existing.region == US_EAST_1 and ctx.region == US_EAST_1:
                # AWS's legacy answer in North Virginia: 200, the bucket's ACL reset.
                existing.acl = None
                await self.state.save_bucket(existing)
                return {"Location": _location(existing), "BucketArn": existing.arn}
            raise bucket_already_owned(name)
        ownership = params.get("ObjectOwnership") or "BucketOwnerEnforced"
        grants = requested_grants(params, ctx.account_id)
        if grants and ownership == "BucketOwnerEnforced":
            raise acl_with_object_ownership()
        bucket = Bucket(
            name=name,
            account=ctx.account_id,
            region=ctx.region,
            created=round(time.time(), 3),
            acl=grants or None,
            ownership=ownership,
            versioning="Enabled" if params.get("ObjectLockEnabledForBucket") else "",
        )
        self._creating.add(name)
        try:
            await self.state.save_bucket(bucket)
            self.state.buckets[name] = bucket
        finally:
            self._creating.discard(name)
        return {"Location": _location(bucket), "BucketArn": bucket.arn}

    async def head_bucket(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        return {"BucketRegion": bucket.region, "AccessPointAlias": False, "BucketArn": bucket.arn}

    async def list_buckets(self, params: dict, ctx: RequestContext) -> dict:
        prefix = params.get("Prefix") or ""
        region = params.get("BucketRegion")
        limit = params.get("MaxBuckets")
        if limit is not None and not 1 <= limit <= MAX_BUCKETS_PAGE:
            raise invalid_argument(
                "Argument max-buckets must be an integer between 1 and 10000", "max-buckets", str(limit)
            )
        token = params.get("ContinuationToken")
        after = _bucket_after(token) if token else None
        mine = sorted(
            (
                bucket
                for bucket in self.state.buckets.values()
                if bucket.account == ctx.account_id
                and bucket.name.startswith(prefix)
                and (region is None or bucket.region == region)
                and (after is None or bucket.name > after)
            ),
            key=lambda bucket: bucket.name,
        )
        page = mine if limit is None else mine[:limit]
        answer: dict[str, Any] = {
            "Buckets": [
                {"Name": b.name, "CreationDate": b.created, "BucketRegion": b.region, "BucketArn": b.arn} for b in page
            ],
            "Owner": owner(ctx.account_id),
        }
        if params.get("Prefix") is not None:
            answer["Prefix"] = prefix
        if limit is not None and len(mine) > limit:
            answer["ContinuationToken"] = base64.urlsafe_b64encode(page[-1].name.encode()).decode()
        return answer

    async def delete_bucket(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        if not bucket.empty():
            raise bucket_not_empty(bucket.name)
        bucket.deleted = True  # writes under way from here on find it gone
        del self.state.buckets[bucket.name]
        try:
            await self.state.delete_bucket(bucket)
        except BaseException:
            bucket.deleted = False
            self.state.buckets.setdefault(bucket.name, bucket)
            raise
        await self.state.files.remove_bucket(bucket.name)
        return {}

    async def get_bucket_location(self, params: dict, ctx: RequestContext) -> dict:
        # Answered from any region's endpoint (how clients find a bucket's region).
        bucket = self.state.bucket(params["Bucket"])
        if bucket is None:
            raise no_such_bucket(params["Bucket"])
        if bucket.account != ctx.account_id:
            self.state.find(params["Bucket"], ctx)
        return {"LocationConstraint": None if bucket.region == US_EAST_1 else bucket.region}

    async def get_bucket_versioning(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        return {"Status": bucket.versioning} if bucket.versioning else {}

    async def put_bucket_versioning(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        status = (params.get("VersioningConfiguration") or {}).get("Status")
        if status not in ("Enabled", "Suspended"):
            from .errors import malformed_xml

            raise malformed_xml()
        bucket.versioning = status
        await self.state.save_bucket(bucket)
        return {}


def _bucket_after(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid_argument("The continuation token provided is incorrect", "continuation-token", token) from None
