"""Access control lists: GetBucketAcl, PutBucketAcl, GetObjectAcl, PutObjectAcl, and the
canned ACLs (x-amz-acl) CreateBucket, PutObject and CopyObject accept.

Kept as the grants beyond the owner's FULL_CONTROL (which every ACL here has). A bucket
whose ObjectOwnership is BucketOwnerEnforced (every new bucket's, since April 2023) has ACLs
disabled: only an ACL that grants the owner alone is accepted (AccessControlListNotSupported
otherwise), as AWS does. A public grant while the bucket blocks public ACLs is AccessDenied.
ACLs are recorded and answered; authorization does not read them."""

from __future__ import annotations

import hashlib
import re

from ..context import RequestContext
from .errors import access_denied, acl_not_supported, malformed_xml
from .state import Bucket, S3State, Version
from .versions import named, refuse_delete_marker, shown_version_id

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"
_PUBLIC = (ALL_USERS, AUTHENTICATED_USERS)


def canonical_id(account: str) -> str:
    """An account's canonical user id (64 hex digits, stable)."""
    return hashlib.sha256(f"lamina-canonical-user:{account}".encode()).hexdigest()


def owner(account: str) -> dict:
    return {"ID": canonical_id(account)}


def _group(uri: str, permission: str) -> dict:
    return {"Grantee": {"Type": "Group", "URI": uri}, "Permission": permission}


CANNED: dict[str, list[dict]] = {
    "private": [],
    "public-read": [_group(ALL_USERS, "READ")],
    "public-read-write": [_group(ALL_USERS, "READ"), _group(ALL_USERS, "WRITE")],
    "authenticated-read": [_group(AUTHENTICATED_USERS, "READ")],
    "aws-exec-read": [],
    "bucket-owner-read": [],
    "bucket-owner-full-control": [],
    "log-delivery-write": [_group(LOG_DELIVERY, "WRITE"), _group(LOG_DELIVERY, "READ_ACP")],
}

_GRANT_HEADERS = {
    "GrantFullControl": "FULL_CONTROL",
    "GrantRead": "READ",
    "GrantReadACP": "READ_ACP",
    "GrantWrite": "WRITE",
    "GrantWriteACP": "WRITE_ACP",
}
_GRANTEE = re.compile(r'\s*(id|uri|emailAddress)\s*=\s*"?([^",]+)"?\s*')


def _header_grants(params: dict) -> list[dict]:
    grants = []
    for member, permission in _GRANT_HEADERS.items():
        value = params.get(member)
        if not value:
            continue
        for part in value.split(","):
            match = _GRANTEE.fullmatch(part)
            if match is None:
                raise malformed_xml()
            kind, who = match.groups()
            if kind == "id":
                grantee = {"Type": "CanonicalUser", "ID": who}
            elif kind == "uri":
                grantee = {"Type": "Group", "URI": who}
            else:
                grantee = {"Type": "AmazonCustomerByEmail", "EmailAddress": who}
            grants.append({"Grantee": grantee, "Permission": permission})
    return grants


def requested_grants(params: dict, account: str, body: dict | None = None) -> list[dict] | None:
    """The grants beyond the owner's full control a request asks for: a canned ACL, Grant*
    headers, or an AccessControlPolicy document. None when it asks for nothing."""
    if params.get("ACL"):
        return [dict(grant) for grant in CANNED.get(params["ACL"], [])]
    grants = _header_grants(params)
    if grants:
        return _beyond_owner(grants, account)
    if body is not None:
        return _beyond_owner(body.get("Grants") or [], account)
    return None


def _beyond_owner(grants: list[dict], account: str) -> list[dict]:
    me = canonical_id(account)
    return [
        grant
        for grant in grants
        if not (grant.get("Grantee", {}).get("ID") == me and grant.get("Permission") == "FULL_CONTROL")
    ]


def admit(bucket: Bucket, grants: list[dict] | None) -> list[dict] | None:
    """The grants a bucket takes: refused when ACLs are disabled or public ones blocked."""
    if not grants:
        return None
    if bucket.ownership == "BucketOwnerEnforced":
        raise acl_not_supported()
    block = bucket.public_access_block or {}
    if block.get("BlockPublicAcls") and any(g.get("Grantee", {}).get("URI") in _PUBLIC for g in grants):
        raise access_denied()
    return grants


def policy(account: str, grants: list[dict] | None) -> dict:
    """The AccessControlPolicy answered: the owner, its full control, and the other grants."""
    me = owner(account)
    return {
        "Owner": me,
        "Grants": [{"Grantee": {"Type": "CanonicalUser", **me}, "Permission": "FULL_CONTROL"}, *(grants or [])],
    }


class AclApi:
    state: S3State

    async def get_bucket_acl(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        return policy(bucket.account, bucket.acl)

    async def put_bucket_acl(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        grants = requested_grants(params, bucket.account, params.get("AccessControlPolicy"))
        if grants is None:
            raise malformed_xml()
        bucket.acl = admit(bucket, grants)
        await self.state.save_bucket(bucket)
        return {}

    def _acl_version(self, params: dict, ctx: RequestContext) -> tuple[Bucket, Version]:
        bucket = self.state.find(params["Bucket"], ctx)
        version = named(bucket, params["Key"], params.get("VersionId"))
        if version.delete_marker:
            refuse_delete_marker(bucket, version, params, "GET" if "AccessControlPolicy" not in params else "PUT")
        return bucket, version

    async def get_object_acl(self, params: dict, ctx: RequestContext) -> dict:
        bucket, version = self._acl_version(params, ctx)
        return {**policy(version.owner, version.acl), "VersionId": shown_version_id(bucket, version)}

    async def put_object_acl(self, params: dict, ctx: RequestContext) -> dict:
        bucket, version = self._acl_version(params, ctx)
        grants = requested_grants(params, version.owner, params.get("AccessControlPolicy"))
        if grants is None:
            raise malformed_xml()
        admitted = admit(bucket, grants)
        await self.state.rewrite(bucket, version, acl=admitted)
        return {"VersionId": shown_version_id(bucket, version)}
