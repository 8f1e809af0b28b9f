"""A bucket's protective settings: object ownership (Get/Put/DeleteBucketOwnershipControls),
the public access block (Get/Put/DeletePublicAccessBlock) and default encryption
(Get/Put/DeleteBucketEncryption). A new bucket has ACLs disabled (BucketOwnerEnforced),
every public access blocked and SSE-S3, as AWS's new buckets do."""

from __future__ import annotations

from ..context import RequestContext
from .errors import acl_with_object_ownership, malformed_xml, not_found_config
from .state import DEFAULT_ENCRYPTION, S3State

_BLOCKS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


class ControlsApi:
    state: S3State

    async def get_bucket_ownership_controls(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        if bucket.ownership is None:
            raise not_found_config(
                "OwnershipControlsNotFoundError", "The bucket ownership controls were not found", bucket.name
            )
        return {"OwnershipControls": {"Rules": [{"ObjectOwnership": bucket.ownership}]}}

    async def put_bucket_ownership_controls(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        rules = (params.get("OwnershipControls") or {}).get("Rules") or []
        if len(rules) != 1 or not rules[0].get("ObjectOwnership"):
            raise malformed_xml()
        ownership = rules[0]["ObjectOwnership"]
        if ownership == "BucketOwnerEnforced" and bucket.acl:
            raise acl_with_object_ownership()
        bucket.ownership = ownership
        await self.state.save_bucket(bucket)
        return {}

    async def delete_bucket_ownership_controls(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        bucket.ownership = None
        await self.state.save_bucket(bucket)
        return {}

    async def get_public_access_block(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        if bucket.public_access_block is None:
            raise not_found_config(
                "NoSuchPublicAccessBlockConfiguration",
                "The public access block configuration was not found",
                bucket.name,
            )
        return {"PublicAccessBlockConfiguration": dict(bucket.public_access_block)}

    async def put_public_access_block(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        given = params.get("PublicAccessBlockConfiguration") or {}
        bucket.public_access_block = {name: bool(given.get(name, False)) for name in _BLOCKS}
        await self.state.save_bucket(bucket)
        return {}

    async def delete_public_access_block(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        bucket.public_access_block = None
        await self.state.save_bucket(bucket)
        return {}

    async def get_bucket_encryption(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        return {"ServerSideEncryptionConfiguration": bucket.encryption}

    async def put_bucket_encryption(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        config = params.get("ServerSideEncryptionConfiguration") or {}
        rules = config.get("Rules") or []
        if not rules:
            raise malformed_xml()
        bucket.encryption = {"Rules": rules}
        await self.state.save_bucket(bucket)
        return {}

    async def delete_bucket_encryption(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        bucket.encryption = dict(DEFAULT_ENCRYPTION)
        await self.state.save_bucket(bucket)
        return {}
