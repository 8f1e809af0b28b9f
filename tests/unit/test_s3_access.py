"""S3's calls as IAM sees them (access/s3.py's permissions: AWS's "Actions, resources, and
condition keys for Amazon S3") and what makes a bucket policy public (Block Public Access)."""

from __future__ import annotations

import pytest

from lamina.access.s3 import permissions
from lamina.services.s3.policy_rules import is_public

B = "bucket"


@pytest.mark.parametrize(
    ("operation", "params", "expected"),
    [
        ("GetObject", {"Key": "k"}, [("s3:GetObject", B, "k")]),
        ("HeadObject", {"Key": "k", "VersionId": "v"}, [("s3:GetObjectVersion", B, "k")]),
        ("ListObjectsV2", {}, [("s3:ListBucket", B, None)]),
        ("ListObjects", {}, [("s3:ListBucket", B, None)]),
        ("HeadBucket", {}, [("s3:ListBucket", B, None)]),
        ("ListObjectVersions", {}, [("s3:ListBucketVersions", B, None)]),
        ("DeleteObject", {"Key": "k", "VersionId": "v"}, [("s3:DeleteObjectVersion", B, "k")]),
        ("PutObject", {"Key": "k", "Tagging": "a=b"}, [("s3:PutObject", B, "k"), ("s3:PutObjectTagging", B, "k")]),
        ("PutObjectTagging", {"Key": "k"}, [("s3:PutObjectTagging", B, "k")]),
        ("DeleteObjectTagging", {"Key": "k", "VersionId": "v"}, [("s3:DeleteObjectVersionTagging", B, "k")]),
        (
            "CopyObject",
            {"Key": "k", "CopySource": "/src/a%20b?versionId=v1"},
            [("s3:PutObject", B, "k"), ("s3:GetObjectVersion", "src", "a b")],
        ),
        (
            "DeleteObjects",
            {"Delete": {"Objects": [{"Key": "a"}, {"Key": "b", "VersionId": "v"}]}},
            [("s3:DeleteObject", B, "a"), ("s3:DeleteObjectVersion", B, "b")],
        ),
        ("GetBucketPolicy", {}, [("s3:GetBucketPolicy", B, None)]),
        ("DeleteBucketCors", {}, [("s3:PutBucketCORS", B, None)]),
        ("GetBucketLifecycleConfiguration", {}, [("s3:GetLifecycleConfiguration", B, None)]),
        ("DeletePublicAccessBlock", {}, [("s3:PutBucketPublicAccessBlock", B, None)]),
        ("GetBucketEncryption", {}, [("s3:GetEncryptionConfiguration", B, None)]),
        ("CompleteMultipartUpload", {"Key": "k"}, [("s3:PutObject", B, "k")]),
        ("ListParts", {"Key": "k"}, [("s3:ListMultipartUploadParts", B, "k")]),
        ("ListBuckets", {}, [("s3:ListAllMyBuckets", None, None)]),
    ],
)
def test_each_operations_actions_and_resources(operation, params, expected):
    assert permissions(operation, {"Bucket": B, **params}) == expected


def _statement(**more) -> dict:
    return {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", **more}


@pytest.mark.parametrize(
    ("statement", "public"),
    [
        (_statement(Principal="*"), True),
        (_statement(Principal={"AWS": ["arn:aws:iam::111111111111:root", "*"]}), True),
        (_statement(Principal={"AWS": "111111111111"}), False),
        (_statement(Principal="*", Condition={"StringEquals": {"aws:SourceAccount": "111111111111"}}), False),
        (_statement(Principal="*", Condition={"StringLike": {"aws:SourceArn": "arn:aws:sns:*"}}), True),
        (_statement(Principal="*", Condition={"IpAddress": {"aws:SourceIp": "10.1.0.0/16"}}), False),
        (_statement(Principal="*", Condition={"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}), True),
        ({**_statement(Principal="*"), "Effect": "Deny"}, False),
    ],
)
def test_what_makes_a_policy_public(statement, public):
    assert is_public({"Version": "2012-10-17", "Statement": [statement]}) is public
