"""What S3 checks of a bucket policy before it takes it, in S3's words (MalformedPolicy), and
whether a policy is public (Block Public Access, "The meaning of 'public'": a statement
granting everyone, unless a condition pins it to fixed values).

S3's IAM actions are named here by the kind of resource they act on (Service Authorization
Reference, "Actions defined by Amazon S3"): an object action on arn:aws:s3:::bucket/key, a
bucket action on arn:aws:s3:::bucket; the account's own actions on neither (they have no
place in a bucket policy)."""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

from ...errors import ServiceError
from ...policy import RESOURCE, MalformedPolicy, parse_policy

MAX_POLICY_BYTES = 20 * 1024

OBJECT_ACTIONS = frozenset(
    a.lower()
    for a in (
        "AbortMultipartUpload BypassGovernanceRetention DeleteObject DeleteObjectTagging DeleteObjectVersion "
        "DeleteObjectVersionTagging GetObject GetObjectAcl GetObjectAttributes GetObjectLegalHold "
        "GetObjectRetention GetObjectTagging GetObjectTorrent GetObjectVersion GetObjectVersionAcl "
        "GetObjectVersionAttributes GetObjectVersionForReplication GetObjectVersionTagging "
        "GetObjectVersionTorrent InitiateReplication ListMultipartUploadParts ObjectOwnerOverrideToBucketOwner "
        "PutObject PutObjectAcl PutObjectLegalHold PutObjectRetention PutObjectTagging PutObjectVersionAcl "
        "PutObjectVersionTagging ReplicateDelete ReplicateObject ReplicateTags RestoreObject"
    ).split()
)
BUCKET_ACTIONS = frozenset(
    a.lower()
    for a in (
        "CreateBucket DeleteBucket DeleteBucketOwnershipControls DeleteBucketPolicy DeleteBucketWebsite "
        "GetAccelerateConfiguration GetAnalyticsConfiguration GetBucketAcl GetBucketCORS GetBucketLocation "
        "GetBucketLogging GetBucketNotification GetBucketObjectLockConfiguration GetBucketOwnershipControls "
        "GetBucketPolicy GetBucketPolicyStatus GetBucketPublicAccessBlock GetBucketRequestPayment "
        "GetBucketTagging GetBucketVersioning GetBucketWebsite GetEncryptionConfiguration "
        "GetIntelligentTieringConfiguration GetInventoryConfiguration GetLifecycleConfiguration "
        "GetMetricsConfiguration GetReplicationConfiguration ListBucket ListBucketMultipartUploads "
        "ListBucketVersions PutAccelerateConfiguration PutAnalyticsConfiguration PutBucketAcl PutBucketCORS "
        "PutBucketLogging PutBucketNotification PutBucketObjectLockConfiguration PutBucketOwnershipControls "
        "PutBucketPolicy PutBucketPublicAccessBlock PutBucketRequestPayment PutBucketTagging "
        "PutBucketVersioning PutBucketWebsite PutEncryptionConfiguration PutIntelligentTieringConfiguration "
        "PutInventoryConfiguration PutLifecycleConfiguration PutMetricsConfiguration "
        "PutReplicationConfiguration"
    ).split()
)
ACCOUNT_ACTIONS = frozenset(
    a.lower()
    for a in (
        "ListAllMyBuckets GetAccountPublicAccessBlock PutAccountPublicAccessBlock CreateJob ListJobs "
        "ListAccessPoints ListStorageLensConfigurations"
    ).split()
)
KNOWN = OBJECT_ACTIONS | BUCKET_ACTIONS | ACCOUNT_ACTIONS

NOT_JSON = "Policies must be valid JSON and the first byte must be '{'"
INVALID_PRINCIPAL = "Invalid principal in policy"
INVALID_RESOURCE = "Policy has invalid resource"
INVALID_ACTION = "Policy has invalid action"
NOT_APPLICABLE = "Action does not apply to any resource(s) in statement"
MISSING_RESOURCE = "Missing required field Resource"
TOO_LARGE = "Policy exceeds the maximum allowed document size."

# Condition keys whose fixed values make an "everyone" statement non-public.
_FIXING_KEYS = frozenset(
    k.lower()
    for k in (
        "aws:SourceArn",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "aws:SourceAccount",
        "aws:SourceOwner",
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
        "aws:PrincipalOrgID",
        "aws:userid",
        "s3:DataAccessPointArn",
        "s3:DataAccessPointAccount",
    )
)


def malformed(message: str) -> ServiceError:
    return ServiceError("MalformedPolicy", message, 400)


def checked(text: Any, bucket: str) -> dict:
    """The policy document, parsed, if S3 takes it for `bucket`; else MalformedPolicy."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = text or ""
    if len(text.encode()) > MAX_POLICY_BYTES:
        raise malformed(TOO_LARGE)
    try:
        if not text.lstrip().startswith("{"):
            raise ValueError
        document = json.loads(text)
    except ValueError:
        raise malformed(NOT_JSON) from None
    if not isinstance(document, dict):
        raise malformed(NOT_JSON)
    try:
        parse_policy(document, kind=RESOURCE)
    except MalformedPolicy as error:
        message = error.message
        if message.startswith(INVALID_PRINCIPAL):
            message = INVALID_PRINCIPAL
        elif message.startswith("Resource ") and message.endswith('must be in ARN format or "*".'):
            message = INVALID_RESOURCE
        raise malformed(message) from None
    statements = document["Statement"] if isinstance(document["Statement"], list) else [document["Statement"]]
    for statement in statements:
        _check_statement(statement, bucket)
    return document


def _check_statement(statement: dict, bucket: str) -> None:
    if "Resource" not in statement and "NotResource" not in statement:
        raise malformed(MISSING_RESOURCE)
    resources = _listed(statement.get("Resource", statement.get("NotResource")))
    on_bucket = on_objects = False
    for resource in resources:
        if resource == "*":
            on_bucket = on_objects = True
            continue
        if not resource.startswith("arn:aws:s3:::"):
            raise malformed(INVALID_RESOURCE)
        name, slash, _ = resource[len("arn:aws:s3:::") :].partition("/")
        if not _wildcard(name).fullmatch(bucket):
            raise malformed(INVALID_RESOURCE)
        if slash:
            on_objects = True
        else:
            on_bucket = True
            on_objects = on_objects or name.endswith("*")
    actions = _listed(statement.get("Action", statement.get("NotAction")))
    for action in actions:
        if action == "*":
            continue
        vendor, _, name = action.partition(":")
        if vendor.lower() != "s3":
            raise malformed(INVALID_ACTION)
        name = name.lower()
        if "*" in name or "?" in name:
            if not any(_wildcard(name).fullmatch(known) for known in KNOWN):
                raise malformed(INVALID_ACTION)
            continue
        if name not in KNOWN:
            raise malformed(INVALID_ACTION)
        if "NotAction" in statement or "NotResource" in statement:
            continue
        if (name in OBJECT_ACTIONS and not on_objects) or (name in BUCKET_ACTIONS and not on_bucket):
            raise malformed(NOT_APPLICABLE)
        if name in ACCOUNT_ACTIONS:
            raise malformed(NOT_APPLICABLE)


def _listed(value: Any) -> list[str]:
    return [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]


def _wildcard(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern))


def is_public(document: dict) -> bool:
    """Whether a (valid) bucket policy grants access to everyone."""
    raw = document.get("Statement")
    for statement in raw if isinstance(raw, list) else [raw]:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        if "NotPrincipal" in statement or _everyone(statement.get("Principal")):
            if not _pinned(statement.get("Condition") or {}):
                return True
    return False


def _everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return any("*" in _listed(value) for value in principal.values())
    return False


def _pinned(conditions: dict) -> bool:
    """Whether a statement's conditions tie it to fixed principals or sources."""
    for operator, tests in conditions.items():
        if not isinstance(tests, dict) or "Not" in operator or operator.startswith("ForAllValues"):
            continue
        for key, values in tests.items():
            listed = _listed(values)
            if not listed or any("*" in v or "?" in v for v in listed):
                continue
            if key.lower() in _FIXING_KEYS:
                return True
            if key.lower() == "aws:sourceip" and all(_narrow(v) for v in listed):
                return True
    return False


def _narrow(cidr: str) -> bool:
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    return network.prefixlen >= (8 if network.version == 4 else 32)
