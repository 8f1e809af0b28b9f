"""S3's calls as IAM sees them, and the decision for each (Service Authorization Reference:
"Actions, resources, and condition keys for Amazon S3"; Amazon S3 User Guide: "How Amazon S3
authorizes a request", "Bucket policy examples", "Blocking public access").

    permissions(operation, params)  the (action, bucket, key) a call needs: s3:GetObject on
                                    arn:aws:s3:::bucket/key, s3:GetObjectVersion when it names a
                                    VersionId, s3:ListBucket on arn:aws:s3:::bucket for
                                    ListObjects(V2) and HeadBucket, s3:PutObject and the source's
                                    s3:GetObject for CopyObject...
    condition_keys(...)             s3:prefix, s3:delimiter, s3:max-keys, s3:x-amz-acl,
                                    s3:VersionId, s3:ExistingObjectTag/<key>,
                                    s3:RequestObjectTag/<key>, s3:x-amz-copy-source...
    S3Access.check                  the authorizer's S3 branch

S3 ARNs carry no account: the bucket's owner comes from the S3 service (`Buckets`). A call on
a bucket that does not exist is the service's to answer (NoSuchBucket). An unsigned request
(identity.principals.ANONYMOUS) is let in only by a bucket policy granting everyone; a bucket
whose policy is public and whose RestrictPublicBuckets is on lets in only its own account.
The root user of the bucket's account is still held by its policy's explicit Deny (but may
always manage the policy). Every refusal is S3's 403 AccessDenied "Access Denied"."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Protocol
from urllib.parse import parse_qsl, unquote

from ..errors import ServiceError
from ..identity.principals import ANONYMOUS, ROOT, Principal
from ..policy import PolicySet, RequestContext
from ..services.context import RequestContext as CallContext

if TYPE_CHECKING:
    from .authorizer import Authorizer

log = logging.getLogger("lamina.access")

ARN = "arn:aws:s3:::"

# Operations on a bucket: their action (s3:<name>) on arn:aws:s3:::bucket.
BUCKET = {
    "CreateBucket": "CreateBucket",
    "DeleteBucket": "DeleteBucket",
    "HeadBucket": "ListBucket",
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "ListMultipartUploads": "ListBucketMultipartUploads",
    "GetBucketLocation": "GetBucketLocation",
    "GetBucketCors": "GetBucketCORS",
    "PutBucketCors": "PutBucketCORS",
    "DeleteBucketCors": "PutBucketCORS",
    "GetBucketLifecycle": "GetLifecycleConfiguration",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "PutBucketLifecycle": "PutLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
    "DeleteBucketLifecycle": "PutLifecycleConfiguration",
    "DeleteBucketTagging": "PutBucketTagging",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeleteBucketOwnershipControls": "PutBucketOwnershipControls",
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "PutBucketEncryption": "PutEncryptionConfiguration",
    "DeleteBucketEncryption": "PutEncryptionConfiguration",
    "GetBucketNotification": "GetBucketNotification",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketNotification": "PutBucketNotification",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
    "GetBucketAccelerateConfiguration": "GetAccelerateConfiguration",
    "PutBucketAccelerateConfiguration": "PutAccelerateConfiguration",
    "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
    "PutObjectLockConfiguration": "PutBucketObjectLockConfiguration",
    "GetBucketReplication": "GetReplicationConfiguration",
    "PutBucketReplication": "PutReplicationConfiguration",
    "DeleteBucketReplication": "PutReplicationConfiguration",
    "GetBucketAnalyticsConfiguration": "GetAnalyticsConfiguration",
    "ListBucketAnalyticsConfigurations": "GetAnalyticsConfiguration",
    "PutBucketAnalyticsConfiguration": "PutAnalyticsConfiguration",
    "DeleteBucketAnalyticsConfiguration": "PutAnalyticsConfiguration",
    "GetBucketInventoryConfiguration": "GetInventoryConfiguration",
    "ListBucketInventoryConfigurations": "GetInventoryConfiguration",
    "PutBucketInventoryConfiguration": "PutInventoryConfiguration",
    "DeleteBucketInventoryConfiguration": "PutInventoryConfiguration",
    "GetBucketMetricsConfiguration": "GetMetricsConfiguration",
    "ListBucketMetricsConfigurations": "GetMetricsConfiguration",
    "PutBucketMetricsConfiguration": "PutMetricsConfiguration",
    "DeleteBucketMetricsConfiguration": "PutMetricsConfiguration",
    "GetBucketIntelligentTieringConfiguration": "GetIntelligentTieringConfiguration",
    "ListBucketIntelligentTieringConfigurations": "GetIntelligentTieringConfiguration",
    "PutBucketIntelligentTieringConfiguration": "PutIntelligentTieringConfiguration",
    "DeleteBucketIntelligentTieringConfiguration": "PutIntelligentTieringConfiguration",
}
# Operations on an object: (action, action when the call names a VersionId).
OBJECT = {
    "GetObject": ("GetObject", "GetObjectVersion"),
    "HeadObject": ("GetObject", "GetObjectVersion"),
    "SelectObjectContent": ("GetObject", "GetObject"),
    "GetObjectAttributes": ("GetObjectAttributes", "GetObjectVersionAttributes"),
    "PutObject": ("PutObject", "PutObject"),
    "PostObject": ("PutObject", "PutObject"),  # a browser's form upload (protocol/s3_post.py)
    "CopyObject": ("PutObject", "PutObject"),
    "CreateMultipartUpload": ("PutObject", "PutObject"),
    "UploadPart": ("PutObject", "PutObject"),
    "UploadPartCopy": ("PutObject", "PutObject"),
    "CompleteMultipartUpload": ("PutObject", "PutObject"),
    "AbortMultipartUpload": ("AbortMultipartUpload", "AbortMultipartUpload"),
    "ListParts": ("ListMultipartUploadParts", "ListMultipartUploadParts"),
    "DeleteObject": ("DeleteObject", "DeleteObjectVersion"),
    "GetObjectTagging": ("GetObjectTagging", "GetObjectVersionTagging"),
    "PutObjectTagging": ("PutObjectTagging", "PutObjectVersionTagging"),
    "DeleteObjectTagging": ("DeleteObjectTagging", "DeleteObjectVersionTagging"),
    "GetObjectAcl": ("GetObjectAcl", "GetObjectVersionAcl"),
    "PutObjectAcl": ("PutObjectAcl", "PutObjectVersionAcl"),
    "GetObjectRetention": ("GetObjectRetention", "GetObjectRetention"),
    "PutObjectRetention": ("PutObjectRetention", "PutObjectRetention"),
    "GetObjectLegalHold": ("GetObjectLegalHold", "GetObjectLegalHold"),
    "PutObjectLegalHold": ("PutObjectLegalHold", "PutObjectLegalHold"),
    "RestoreObject": ("RestoreObject", "RestoreObject"),
    "GetObjectTorrent": ("GetObjectTorrent", "GetObjectVersionTorrent"),
}
# Account-wide operations: their action on "*".
ACCOUNT = {"ListBuckets": "ListAllMyBuckets", "ListDirectoryBuckets": "ListAllMyDirectoryBuckets"}
# Calls that S3 answers without authorizing them: a CORS preflight is unsigned by nature.
UNCHECKED = frozenset({"Preflight"})
# Reads and writes of an object that exists: its tags are s3:ExistingObjectTag/<key>.
_EXISTING = frozenset(
    {
        "GetObject",
        "HeadObject",
        "GetObjectAcl",
        "PutObjectAcl",
        "GetObjectTagging",
        "PutObjectTagging",
        "DeleteObjectTagging",
        "GetObjectAttributes",
    }
)
_ACL_HEADERS = ("ACL", "GrantFullControl", "GrantRead", "GrantReadACP", "GrantWrite", "GrantWriteACP")

Permission = tuple[str, "str | None", "str | None"]  # (action, bucket, key)


class Buckets(Protocol):
    """What the authorizer reads of S3's buckets (services/s3/policies.py)."""

    def bucket_owner(self, name: str) -> str | None: ...  # None: no such bucket

    def bucket_policy(self, name: str) -> str | None: ...  # "" for none

    def restricts_public(self, name: str) -> bool: ...

    def object_tags(self, name: str, key: str, version_id: str | None) -> dict[str, str]: ...


def copy_source(value: str) -> tuple[str, str, str | None]:
    """(bucket, key, version id) of an x-amz-copy-source."""
    path, _, query = value.partition("?")
    bucket, _, key = unquote(path).lstrip("/").partition("/")
    version_id = dict(parse_qsl(query)).get("versionId")
    return bucket, key, version_id


def permissions(operation: str, params: dict) -> list[Permission]:
    """Each action a call needs and where (bucket None: "*")."""
    bucket = params.get("Bucket")
    if operation in ACCOUNT:
        return [(f"s3:{ACCOUNT[operation]}", None, None)]
    if operation in OBJECT:
        plain, versioned = OBJECT[operation]
        key = params.get("Key", "")
        needed = [(f"s3:{versioned if params.get('VersionId') else plain}", bucket, key)]
        if operation == "PutObject" and params.get("Tagging"):
            needed.append(("s3:PutObjectTagging", bucket, key))
        if operation in ("PutObject", "CopyObject") and any(params.get(h) for h in _ACL_HEADERS):
            needed.append(("s3:PutObjectAcl", bucket, key))
        if operation in ("CopyObject", "UploadPartCopy") and params.get("CopySource"):
            source_bucket, source_key, source_version = copy_source(params["CopySource"])
            action = "s3:GetObjectVersion" if source_version else "s3:GetObject"
            needed.append((action, source_bucket, source_key))
        return needed
    if operation == "DeleteObjects":
        objects = (params.get("Delete") or {}).get("Objects") or []
        return [
            ("s3:DeleteObjectVersion" if item.get("VersionId") else "s3:DeleteObject", bucket, item.get("Key", ""))
            for item in objects
        ] or [("s3:DeleteObject", bucket, "")]
    return [(f"s3:{BUCKET.get(operation, operation)}", bucket, None)]


def resource_of(bucket: str | None, key: str | None) -> str:
    if bucket is None:
        return "*"
    return f"{ARN}{bucket}" if key is None else f"{ARN}{bucket}/{key}"


def condition_keys(operation: str, params: dict, buckets: Buckets, bucket: str | None, key: str | None) -> dict:
    """S3's own context keys for one (action, resource) of a call."""
    keys: dict[str, object] = {"s3:signatureversion": "AWS4-HMAC-SHA256"}
    if operation in ("ListObjects", "ListObjectsV2", "ListObjectVersions"):
        for name, member in (("s3:prefix", "Prefix"), ("s3:delimiter", "Delimiter"), ("s3:max-keys", "MaxKeys")):
            if params.get(member) is not None:
                keys[name] = str(params[member])
    if params.get("ACL"):
        keys["s3:x-amz-acl"] = params["ACL"]
    if params.get("VersionId") and key is not None:
        keys["s3:VersionId"] = params["VersionId"]
    for name, member in (
        ("s3:x-amz-server-side-encryption", "ServerSideEncryption"),
        ("s3:x-amz-storage-class", "StorageClass"),
        ("s3:x-amz-copy-source", "CopySource"),
        ("s3:x-amz-metadata-directive", "MetadataDirective"),
    ):
        if params.get(member):
            keys[name] = params[member]
    if operation == "PutObject" and params.get("Tagging"):
        tags = dict(parse_qsl(params["Tagging"], keep_blank_values=True))
        keys["s3:RequestObjectTagKeys"] = list(tags)
        for name, value in tags.items():
            keys[f"s3:RequestObjectTag/{name}"] = value
    if operation in _EXISTING and bucket is not None and key:
        for name, value in buckets.object_tags(bucket, key, params.get("VersionId")).items():
            keys[f"s3:ExistingObjectTag/{name}"] = value
    return keys


def denied() -> ServiceError:
    return ServiceError("AccessDenied", "Access Denied", 403)


class S3Access:
    def __init__(self, authorizer: Authorizer, buckets: Buckets) -> None:
        self.authorizer = authorizer
        self.buckets = buckets

    def check(self, operation: str, params: dict, ctx: CallContext) -> Awaitable[None] | None:
        """None when no decision is needed (the hot path: an account's root on its own
        buckets, none of them with a policy; or a bucket that does not exist); else the
        decision, a coroutine raising AccessDenied."""
        principal = ctx.principal
        if principal is None or operation in UNCHECKED:
            return None
        needed = permissions(operation, params)
        if principal.kind == ROOT:
            mine = True
            for _, bucket, _ in needed:
                if bucket is None:
                    continue
                owner = self.buckets.bucket_owner(bucket)
                if owner is not None and (owner != principal.account or self.buckets.bucket_policy(bucket)):
                    mine = False
                    break
            if mine:
                return None
        return self._decide(operation, params, ctx, principal, needed)

    async def _decide(
        self, operation: str, params: dict, ctx: CallContext, principal: Principal, needed: list[Permission]
    ) -> None:
        base: dict[str, object] = {
            "aws:RequestedRegion": ctx.region,
            "aws:SecureTransport": "true" if ctx.endpoint_url.startswith("https") else "false",
        }
        if ctx.source_ip:
            base["aws:SourceIp"] = ctx.source_ip
        for action, bucket, key in needed:
            if bucket is None or operation == "CreateBucket":
                # Creating is the caller's own act: another account's bucket of that name is
                # the service's BucketAlreadyExists, not its policy's to refuse.
                owner = principal.account
                resource = resource_of(bucket, key)
                context = {**base, "s3:ResourceAccount": owner}
                context.update(condition_keys(operation, params, self.buckets, bucket, key))
                if await self._refused(principal, action, resource, None, owner, context):
                    raise denied()
                continue
            found = self.buckets.bucket_owner(bucket)
            if found is None:
                continue  # NoSuchBucket, from the service
            owner = found
            resource = resource_of(bucket, key)
            context = {**base, "s3:ResourceAccount": owner}
            context.update(condition_keys(operation, params, self.buckets, bucket, key))
            if await self._refused(principal, action, resource, bucket, owner, context):
                raise denied()

    async def _refused(
        self, principal: Principal, action: str, resource: str, bucket: str | None, owner: str, context: dict
    ) -> bool:
        authorizer = self.authorizer
        policy_text = self.buckets.bucket_policy(bucket) if bucket is not None else ""
        outsider = principal.kind == ANONYMOUS or principal.account != owner
        if outsider and bucket is not None and self.buckets.restricts_public(bucket):
            return self._audited(True, principal, action, resource, "RestrictPublicBuckets")
        if principal.kind == ANONYMOUS or (principal.kind == ROOT and not outsider):
            # No identity policies: the bucket policy alone decides (the owner's root passes
            # unless it denies it).
            policy = authorizer._parse_resource(policy_text) if policy_text else None
            if principal.kind == ANONYMOUS and policy is None:
                return self._audited(True, principal, action, resource, "no bucket policy")
            request = RequestContext(
                principal_arn=principal.arn if principal.kind != ANONYMOUS else "*",
                principal_type="Anonymous" if principal.kind == ANONYMOUS else "AWS",
                action=action,
                resource=resource,
                principal_account=principal.account if principal.kind != ANONYMOUS else None,
                resource_account=owner,
                context_keys=context,
            )
            decision = authorizer._decisions.evaluate(request, PolicySet(resource=policy))
            return self._audited(not decision.allowed, principal, action, resource, decision.reason or "")
        message = await authorizer.denial(principal, "s3", action, resource, owner, context)
        return message is not None

    def _audited(self, refused: bool, principal: Principal, action: str, resource: str, why: str) -> bool:
        if refused and self.authorizer.mode == "audit":
            log.warning("IAM audit: would deny %s %s on %s (%s)", principal.arn, action, resource, why)
            return False
        return refused
