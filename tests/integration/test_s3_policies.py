"""Bucket policies and S3 in the authorizer, against a live server with boto3 (path-style):
Put/Get/DeleteBucketPolicy with S3's checks word for word, GetBucketPolicyStatus, Block
Public Access (BlockPublicPolicy refuses a public policy, RestrictPublicBuckets keeps
outsiders out), IAM users allowed or refused by the bucket policy and by their own policies
(S3's actions: s3:ListBucket with s3:prefix, s3:GetObjectVersion, the copy source's
s3:GetObject), another account let in by the bucket policy only, and unsigned requests
let in only by a policy granting everyone."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

OWNER, OTHER = "000000000000", "111111111111"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tests.conftest import LaminaServer

    server = LaminaServer(
        str(tmp_path_factory.mktemp("s3-policies")), env={"LAMINA_CREDENTIALS": f"alice:alice-secret:{OTHER}"}
    ).start()
    yield server
    server.stop()


def _client(server, service="s3", key="test", secret="test"):
    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
    )


def _policy(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _user(server, name, *statements) -> boto3.client:
    """An IAM user of the owner's account (with these identity statements), as an S3 client."""
    iam = _client(server, "iam")
    iam.create_user(UserName=name)
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=_policy(*statements))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return _client(server, key=key["AccessKeyId"], secret=key["SecretAccessKey"])


def _error(call, **kwargs) -> dict:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response = caught.value.response
    return {**response["Error"], "Status": response["ResponseMetadata"]["HTTPStatusCode"]}


def _denied(call, **kwargs) -> None:
    error = _error(call, **kwargs)
    assert (error["Code"], error["Message"], error["Status"]) == ("AccessDenied", "Access Denied", 403)


@pytest.fixture
def s3(server):
    return _client(server)


@pytest.fixture
def bucket(s3):
    name = f"pol-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="public/a.txt", Body=b"public a")
    s3.put_object(Bucket=name, Key="private/b.txt", Body=b"private b")
    return name


def _public_read(bucket: str) -> str:
    return _policy(
        {
            "Sid": "read",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/public/*",
        }
    )


def test_put_get_delete_and_status(s3, bucket):
    assert _error(s3.get_bucket_policy, Bucket=bucket) == {
        "Code": "NoSuchBucketPolicy",
        "Message": "The bucket policy does not exist",
        "BucketName": bucket,
        "Status": 404,
    }
    assert _error(s3.get_bucket_policy_status, Bucket=bucket)["Code"] == "NoSuchBucketPolicy"
    private = _policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
            "Action": ["s3:GetObject"],
            "Resource": f"arn:aws:s3:::{bucket}/*",
        }  # fmt: skip
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=private)
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == private
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"] == {"IsPublic": False}
    assert s3.delete_bucket_policy(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert _error(s3.get_bucket_policy, Bucket=bucket)["Code"] == "NoSuchBucketPolicy"
    # A new bucket of the same name does not inherit the old one's policy.
    s3.put_bucket_policy(Bucket=bucket, Policy=private)
    for item in s3.list_objects_v2(Bucket=bucket)["Contents"]:
        s3.delete_object(Bucket=bucket, Key=item["Key"])
    s3.delete_bucket(Bucket=bucket)
    s3.create_bucket(Bucket=bucket)
    assert _error(s3.get_bucket_policy, Bucket=bucket)["Code"] == "NoSuchBucketPolicy"


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ("not json", "Policies must be valid JSON and the first byte must be '{'"),
        ('  ["a"]', "Policies must be valid JSON and the first byte must be '{'"),
        (
            _policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::{b}"}),
            "Action does not apply to any resource(s) in statement",
        ),
        (
            _policy({"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::{b}/*"}),
            "Action does not apply to any resource(s) in statement",
        ),
        (
            _policy(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "nobody"},
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::{b}/*",
                }
            ),  # fmt: skip
            "Invalid principal in policy",
        ),
        (
            _policy(
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::another-bucket/*",
                }
            ),  # fmt: skip
            "Policy has invalid resource",
        ),
        (
            _policy(
                {"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "arn:aws:s3:::{b}/*"}
            ),  # fmt: skip
            "Policy has invalid action",
        ),
        (
            _policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObjekt", "Resource": "arn:aws:s3:::{b}/*"}),
            "Policy has invalid action",
        ),
        (_policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}), "Missing required field Resource"),
        (
            _policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::{b}/*"}),
            "Missing required field Principal",
        ),
    ],
)
def test_malformed_policies_refused_in_s3s_words(s3, bucket, policy, message):
    s3.delete_public_access_block(Bucket=bucket)
    error = _error(s3.put_bucket_policy, Bucket=bucket, Policy=policy.replace("{b}", bucket))
    assert (error["Code"], error["Message"], error["Status"]) == ("MalformedPolicy", message, 400)


def test_block_public_policy_refuses_a_public_policy(s3, bucket):
    # A new bucket blocks public access (every setting on).
    _denied(s3.put_bucket_policy, Bucket=bucket, Policy=_public_read(bucket))
    # A policy pinned to an account through a condition is not public.
    pinned = _policy(
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/*",
            "Condition": {"StringEquals": {"aws:PrincipalAccount": OTHER}},
        }  # fmt: skip
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=pinned)
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={"BlockPublicPolicy": False, "RestrictPublicBuckets": False},
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=_public_read(bucket))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_anonymous_requests_need_a_public_policy(server, s3, bucket):
    url = f"{server.url}/{bucket}/public/a.txt"
    status, body = _get(url)
    assert status == 403 and b"<Code>AccessDenied</Code><Message>Access Denied</Message>" in body
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=_public_read(bucket))
    assert _get(url) == (200, b"public a")
    # Only what the policy grants: another prefix, listing, writing stay refused.
    assert _get(f"{server.url}/{bucket}/private/b.txt")[0] == 403
    assert _get(f"{server.url}/{bucket}?list-type=2")[0] == 403
    put = urllib.request.Request(f"{server.url}/{bucket}/public/new.txt", data=b"x", method="PUT")
    assert _get_request(put)[0] == 403
    # A bucket that does not exist is S3's NoSuchBucket, for anyone.
    assert _get(f"{server.url}/no-such-{bucket}/x")[0] == 404
    # RestrictPublicBuckets: the public policy no longer lets outsiders in; the owner still is.
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"RestrictPublicBuckets": True})
    assert _get(url)[0] == 403
    assert s3.get_object(Bucket=bucket, Key="public/a.txt")["Body"].read() == b"public a"


def _get_request(request: urllib.request.Request) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_an_iam_user_by_bucket_policy_and_by_its_own(server, s3, bucket):
    name = f"u-{uuid.uuid4().hex[:8]}"
    user = _user(server, name)
    user_arn = f"arn:aws:iam::{OWNER}:user/{name}"
    # No policy allows it yet.
    _denied(user.get_object, Bucket=bucket, Key="private/b.txt")
    _denied(user.list_objects_v2, Bucket=bucket)
    # The bucket policy grants this very user reads: enough within the account.
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=_policy(
            {
                "Sid": "user-reads",
                "Effect": "Allow",
                "Principal": {"AWS": user_arn},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            },  # fmt: skip
            {
                "Sid": "no-secrets",
                "Effect": "Deny",
                "Principal": {"AWS": user_arn},
                "Action": "s3:*",
                "Resource": f"arn:aws:s3:::{bucket}/private/secret*",
            },  # fmt: skip
        ),
    )
    assert user.get_object(Bucket=bucket, Key="private/b.txt")["Body"].read() == b"private b"
    assert user.head_object(Bucket=bucket, Key="public/a.txt")["ContentLength"] == 8
    _denied(user.put_object, Bucket=bucket, Key="private/c.txt", Body=b"c")
    # Its own policy grants writes; the bucket policy's explicit Deny still wins.
    _client(server, "iam").put_user_policy(
        UserName=name,
        PolicyName="writes",
        PolicyDocument=_policy({"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*"}),
    )
    user.put_object(Bucket=bucket, Key="private/c.txt", Body=b"c")
    _denied(user.put_object, Bucket=bucket, Key="private/secret.txt", Body=b"s")


def test_s3s_actions_and_condition_keys(server, s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    version = s3.put_object(Bucket=bucket, Key="public/a.txt", Body=b"v2")["VersionId"]
    name = f"u-{uuid.uuid4().hex[:8]}"
    user = _user(
        server,
        name,
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": f"arn:aws:s3:::{bucket}",
            "Condition": {"StringEquals": {"s3:prefix": "public/"}},
        },  # fmt: skip
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": f"arn:aws:s3:::{bucket}/public/*"},
    )
    # s3:ListBucket, for ListObjectsV2 and ListObjects, within the prefix the condition names.
    assert [o["Key"] for o in user.list_objects_v2(Bucket=bucket, Prefix="public/")["Contents"]] == ["public/a.txt"]
    assert user.list_objects(Bucket=bucket, Prefix="public/")["Contents"][0]["Key"] == "public/a.txt"
    _denied(user.list_objects_v2, Bucket=bucket)
    _denied(user.list_objects_v2, Bucket=bucket, Prefix="private/")
    # ListObjectVersions is s3:ListBucketVersions; a read naming a version s3:GetObjectVersion.
    _denied(user.list_object_versions, Bucket=bucket, Prefix="public/")
    assert user.get_object(Bucket=bucket, Key="public/a.txt")["Body"].read() == b"v2"
    _denied(user.get_object, Bucket=bucket, Key="public/a.txt", VersionId=version)
    # A copy needs s3:PutObject on the destination and s3:GetObject on the source.
    user.copy_object(Bucket=bucket, Key="public/copy.txt", CopySource=f"{bucket}/public/a.txt")
    _denied(user.copy_object, Bucket=bucket, Key="public/copy2.txt", CopySource=f"{bucket}/private/b.txt")
    # Tagging is its own action (s3:PutObjectTagging), and so is deleting.
    _denied(user.put_object_tagging, Bucket=bucket, Key="public/a.txt", Tagging={"TagSet": []})
    _denied(user.delete_object, Bucket=bucket, Key="public/a.txt")
    _denied(user.get_bucket_policy, Bucket=bucket)


def test_existing_object_tags_in_a_condition(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="tagged/open.txt", Body=b"o", Tagging="class=open")
    s3.put_object(Bucket=bucket, Key="tagged/closed.txt", Body=b"c", Tagging="class=closed")
    user = _user(
        server,
        f"u-{uuid.uuid4().hex[:8]}",
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/*",
            "Condition": {"StringEquals": {"s3:ExistingObjectTag/class": "open"}},
        },  # fmt: skip
    )
    assert user.get_object(Bucket=bucket, Key="tagged/open.txt")["Body"].read() == b"o"
    _denied(user.get_object, Bucket=bucket, Key="tagged/closed.txt")


def test_another_account_only_by_the_bucket_policy(server, s3, bucket):
    alice = _client(server, key="alice", secret="alice-secret")
    _denied(alice.get_object, Bucket=bucket, Key="public/a.txt")
    _denied(alice.list_objects_v2, Bucket=bucket)
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=_policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": OTHER},
                "Action": ["s3:ListBucket", "s3:GetBucketPolicy"],
                "Resource": f"arn:aws:s3:::{bucket}",
            },  # fmt: skip
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/public/*",
            },  # fmt: skip
        ),
    )
    assert alice.get_object(Bucket=bucket, Key="public/a.txt")["Body"].read() == b"public a"
    assert len(alice.list_objects_v2(Bucket=bucket)["Contents"]) == 2
    alice.head_bucket(Bucket=bucket)
    _denied(alice.get_object, Bucket=bucket, Key="private/b.txt")
    _denied(alice.put_object, Bucket=bucket, Key="public/x.txt", Body=b"x")
    # The policy itself is the owner account's alone, whatever the policy grants.
    error = _error(alice.get_bucket_policy, Bucket=bucket)
    assert (error["Code"], error["Status"]) == ("MethodNotAllowed", 405)
    # Another account's bucket is not in alice's ListBuckets.
    assert bucket not in [b["Name"] for b in alice.list_buckets()["Buckets"]]


def test_the_owners_root_is_held_by_an_explicit_deny_but_keeps_the_policy(s3, bucket):
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=_policy(
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            }  # fmt: skip
        ),
    )
    _denied(s3.get_object, Bucket=bucket, Key="public/a.txt")
    s3.get_bucket_policy(Bucket=bucket)
    s3.delete_bucket_policy(Bucket=bucket)
    assert s3.get_object(Bucket=bucket, Key="public/a.txt")["Body"].read() == b"public a"
