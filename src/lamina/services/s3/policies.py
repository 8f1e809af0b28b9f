"""Bucket policies: Put/Get/DeleteBucketPolicy, GetBucketPolicyStatus, and what the
authorizer reads of a bucket (access/s3.py's `Buckets`): its owner, its policy (the
service's `resource_policy(arn)`, for the bucket's ARN and its objects' alike), whether
Block Public Access restricts it, an object's tags (s3:ExistingObjectTag/...).

The root user of the bucket owner's account may always get, put and delete the policy
(even one denying it: policy/evaluation.py); another account never may (405), whatever the
policy grants. A public policy is refused while the bucket's BlockPublicPolicy is on."""

from __future__ import annotations

import json

from ...errors import ServiceError
from ..context import RequestContext
from .configs import POLICY, BucketConfigs
from .errors import access_denied
from .policy_rules import checked, is_public
from .state import Bucket, S3State

ARN_PREFIX = "arn:aws:s3:::"
_PUBLIC: dict[str, bool] = {}  # policy text -> whether it is public


def no_such_bucket_policy(bucket: str) -> ServiceError:
    return ServiceError("NoSuchBucketPolicy", "The bucket policy does not exist", 404, BucketName=bucket)


def method_not_allowed(method: str) -> ServiceError:
    return ServiceError(
        "MethodNotAllowed",
        "The specified method is not allowed against this resource.",
        405,
        Method=method,
        ResourceType="BUCKETPOLICY",
    )


class PoliciesApi:
    state: S3State
    configs: BucketConfigs

    def _policy_bucket(self, params: dict, ctx: RequestContext, method: str) -> Bucket:
        bucket = self.state.find(params["Bucket"], ctx)
        if bucket.account != ctx.account_id:
            raise method_not_allowed(method)
        return bucket

    async def put_bucket_policy(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self._policy_bucket(params, ctx, "PUT")
        text = params.get("Policy") or ""
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        document = checked(text, bucket.name)
        if (bucket.public_access_block or {}).get("BlockPublicPolicy") and is_public(document):
            raise access_denied()
        await self.configs.put(bucket, POLICY, text)
        return {}

    async def get_bucket_policy(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self._policy_bucket(params, ctx, "GET")
        text = self.configs.get(bucket, POLICY)
        if not text:
            raise no_such_bucket_policy(bucket.name)
        return {"Policy": text}

    async def delete_bucket_policy(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self._policy_bucket(params, ctx, "DELETE")
        await self.configs.delete(bucket, POLICY)
        return {}

    async def get_bucket_policy_status(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        text = self.configs.get(bucket, POLICY)
        if not text:
            raise no_such_bucket_policy(bucket.name)
        return {"PolicyStatus": {"IsPublic": self._is_public(text)}}

    # --- what the authorizer reads ----------------------------------------------------

    async def resource_policy(self, arn: str) -> str | None:
        """The policy of the bucket an ARN names (the bucket's or one of its objects'): its
        JSON, "" for none, None for no such bucket."""
        return self.bucket_policy(arn[len(ARN_PREFIX) :].split("/", 1)[0])

    def bucket_owner(self, name: str) -> str | None:
        bucket = self.state.bucket(name)
        return bucket.account if bucket is not None else None

    def bucket_policy(self, name: str) -> str | None:
        bucket = self.state.bucket(name)
        if bucket is None:
            return None
        return self.configs.get(bucket, POLICY) or ""

    def restricts_public(self, name: str) -> bool:
        """RestrictPublicBuckets on a bucket whose policy is public: only the owner's account
        (and AWS services) get in."""
        bucket = self.state.bucket(name)
        if bucket is None or not (bucket.public_access_block or {}).get("RestrictPublicBuckets"):
            return False
        text = self.configs.get(bucket, POLICY)
        return bool(text) and self._is_public(text)

    def object_tags(self, name: str, key: str, version_id: str | None) -> dict[str, str]:
        bucket = self.state.bucket(name)
        if bucket is None:
            return {}
        version = bucket.version(key, version_id) if version_id else bucket.latest(key)
        return dict(version.tags) if version is not None and not version.delete_marker else {}

    def _is_public(self, text: str) -> bool:
        known = _PUBLIC.get(text)
        if known is None:
            if len(_PUBLIC) > 1024:
                _PUBLIC.clear()
            known = _PUBLIC[text] = is_public(json.loads(text))
        return known
