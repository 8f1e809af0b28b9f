"""S3 buckets against a live server with boto3 (path-style): creating under AWS's name and
region rules, one namespace across accounts, heads, lists with paging, deletes, location,
versioning, tags, ACLs, ownership controls, public access block and default encryption, and
region and account scoping."""

from __future__ import annotations

import itertools

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

OTHER = "111111111111"
_names = itertools.count(1)


def s3_client(server, region: str = "us-east-1", key: str = "test", secret: str = "test"):
    return boto3.client(
        "s3",
        endpoint_url=server.url,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tests.conftest import LaminaServer

    server = LaminaServer(
        str(tmp_path_factory.mktemp("s3buckets")), env={"LAMINA_CREDENTIALS": f"alice:alice-secret:{OTHER}"}
    ).start()
    yield server
    server.stop()


@pytest.fixture
def s3(server):
    return s3_client(server)


def name(prefix: str = "bkt") -> str:
    return f"{prefix}-{next(_names)}-lamina"


def refused(call, *args, **kwargs) -> dict:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return caught.value.response


def test_create_head_and_delete(s3):
    bucket = name()
    made = s3.create_bucket(Bucket=bucket)
    assert made["Location"] == f"/{bucket}"
    head = s3.head_bucket(Bucket=bucket)
    assert head["BucketRegion"] == "us-east-1"
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-east-1"
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] is None
    s3.delete_bucket(Bucket=bucket)
    error = refused(s3.head_bucket, Bucket=bucket)
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 404
    error = refused(s3.delete_bucket, Bucket=bucket)["Error"]
    assert error == {"Code": "NoSuchBucket", "Message": "The specified bucket does not exist", "BucketName": bucket}


@pytest.mark.parametrize(
    "bad",
    ["ab", "a" * 64, "Upper-case", "under_score", "-leading", "trailing-", "two..dots", "192.168.5.4",
     "xn--punycode", "sthree-x", "amzn-s3-demo-x", "name-s3alias", "name--ol-s3", "name.mrap"],
)  # fmt: skip
def test_bucket_name_rules(s3, bad):
    error = refused(s3.create_bucket, Bucket=bad)["Error"]
    assert error == {"Code": "InvalidBucketName", "Message": "The specified bucket is not valid.", "BucketName": bad}


def test_names_at_the_limits_are_fine(s3):
    for good in ("abc", "a" * 63, "with.dots.1", "0-digits-9"):
        s3.create_bucket(Bucket=good)
        s3.delete_bucket(Bucket=good)


def test_location_constraints(server, s3):
    europe = s3_client(server, "eu-west-1")
    bucket = name("eu")
    made = europe.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert made["Location"] == f"http://{bucket}.s3.amazonaws.com/"
    assert europe.get_bucket_location(Bucket=bucket)["LocationConstraint"] == "eu-west-1"
    assert europe.head_bucket(Bucket=bucket)["BucketRegion"] == "eu-west-1"
    # Another region's endpoint, none given, or us-east-1 named there: AWS's refusals.
    error = refused(europe.create_bucket, Bucket=name())["Error"]
    assert error["Code"] == "IllegalLocationConstraintException"
    assert error["Message"] == (
        "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to."
    )
    error = refused(
        europe.create_bucket, Bucket=name(), CreateBucketConfiguration={"LocationConstraint": "ap-south-1"}
    )["Error"]
    assert error["Message"] == (
        "The ap-south-1 location constraint is incompatible for the region specific endpoint this request was sent to."
    )
    error = refused(s3.create_bucket, Bucket=name(), CreateBucketConfiguration={"LocationConstraint": "us-east-1"})
    assert error["Error"]["Code"] == "InvalidLocationConstraint"
    assert error["Error"]["Message"] == "The specified location-constraint is not valid"
    # Owned already: 409 outside North Virginia, AWS's legacy 200 in it.
    error = refused(europe.create_bucket, Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert error["Error"]["Code"] == "BucketAlreadyOwnedByYou"
    assert error["Error"]["Message"] == (
        "Your previous request to create the named bucket succeeded and you already own it."
    )
    here = name()
    s3.create_bucket(Bucket=here)
    assert s3.create_bucket(Bucket=here)["ResponseMetadata"]["HTTPStatusCode"] == 200
    europe.delete_bucket(Bucket=bucket)
    s3.delete_bucket(Bucket=here)


def test_one_namespace_across_accounts(server, s3):
    bucket = name()
    s3.create_bucket(Bucket=bucket)
    alice = s3_client(server, key="alice", secret="alice-secret")
    error = refused(alice.create_bucket, Bucket=bucket)
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert error["Error"]["Code"] == "BucketAlreadyExists"
    assert error["Error"]["Message"] == (
        "The requested bucket name is not available. The bucket namespace is shared by all users of the system. "
        "Please select a different name and try again."
    )
    # Another account's bucket is not alice's to use (no bucket policy grants it).
    assert refused(alice.list_objects_v2, Bucket=bucket)["Error"]["Code"] == "AccessDenied"
    assert refused(alice.put_object, Bucket=bucket, Key="k", Body=b"x")["Error"]["Message"] == "Access Denied"
    assert bucket not in [b["Name"] for b in alice.list_buckets()["Buckets"]]
    s3.delete_bucket(Bucket=bucket)


def test_another_regions_bucket_redirects_as_aws_does(server, s3):
    bucket = name("redirect")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"hello")
    europe = s3_client(server, "eu-west-1")
    # botocore follows S3's 301 PermanentRedirect to the region x-amz-bucket-region names.
    got = europe.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"hello"
    assert got["ResponseMetadata"]["RetryAttempts"] == 1
    # What the first answer was: S3's 301 naming the bucket's region.
    seen = []
    watcher = s3_client(server, "eu-west-1")

    def record(response, **kwargs):
        if response is not None and response[0] is not None:
            seen.append((response[0].status_code, response[0].headers.get("x-amz-bucket-region")))

    watcher.meta.events.register_first("needs-retry.s3.HeadObject", record)
    watcher.head_object(Bucket=bucket, Key="k")
    assert seen == [(301, "us-east-1"), (200, None)]
    s3.delete_object(Bucket=bucket, Key="k")
    s3.delete_bucket(Bucket=bucket)


def test_list_buckets_pages_and_filters(server, s3):
    base = f"page-{next(_names)}"
    made = [f"{base}-{i}" for i in range(5)]
    for bucket in made:
        s3.create_bucket(Bucket=bucket)
    europe = s3_client(server, "eu-west-1")
    european = f"{base}-eu"
    europe.create_bucket(Bucket=european, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    listed = s3.list_buckets(Prefix=base)
    assert [b["Name"] for b in listed["Buckets"]] == sorted([*made, european])
    assert listed["Prefix"] == base and "ContinuationToken" not in listed
    assert listed["Owner"]["ID"] and all(b["CreationDate"] for b in listed["Buckets"])
    regions = {b["Name"]: b["BucketRegion"] for b in listed["Buckets"]}
    assert regions[european] == "eu-west-1" and regions[made[0]] == "us-east-1"
    assert [b["Name"] for b in s3.list_buckets(Prefix=base, BucketRegion="eu-west-1")["Buckets"]] == [european]
    seen, token = [], None
    while True:
        page = s3.list_buckets(Prefix=base, MaxBuckets=2, **({"ContinuationToken": token} if token else {}))
        seen += [b["Name"] for b in page["Buckets"]]
        token = page.get("ContinuationToken")
        if not token:
            break
    assert seen == sorted([*made, european])
    paged = [
        b["Name"] for p in s3.get_paginator("list_buckets").paginate(Prefix=base, MaxBuckets=4) for b in p["Buckets"]
    ]
    assert paged == seen
    for bucket in made:
        s3.delete_bucket(Bucket=bucket)
    europe.delete_bucket(Bucket=european)


def test_a_bucket_with_objects_is_not_deleted(s3):
    bucket = name()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    error = refused(s3.delete_bucket, Bucket=bucket)
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert error["Error"] == {
        "Code": "BucketNotEmpty",
        "Message": "The bucket you tried to delete is not empty",
        "BucketName": bucket,
    }
    s3.delete_object(Bucket=bucket, Key="k")
    s3.delete_bucket(Bucket=bucket)


def test_versioning_configuration(s3):
    bucket = name()
    s3.create_bucket(Bucket=bucket)
    got = s3.get_bucket_versioning(Bucket=bucket)
    assert "Status" not in got
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    s3.delete_bucket(Bucket=bucket)


def test_bucket_tagging(s3):
    bucket = name()
    s3.create_bucket(Bucket=bucket)
    error = refused(s3.get_bucket_tagging, Bucket=bucket)
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert error["Error"] == {"Code": "NoSuchTagSet", "Message": "The TagSet does not exist", "BucketName": bucket}
    tags = [{"Key": "team", "Value": "data"}, {"Key": "cost", "Value": "42"}]
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == tags
    error = refused(
        s3.put_bucket_tagging,
        Bucket=bucket,
        Tagging={"TagSet": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]},
    )["Error"]
    assert error == {"Code": "InvalidTag", "Message": "Cannot provide multiple Tags with the same key"}
    s3.delete_bucket_tagging(Bucket=bucket)
    assert refused(s3.get_bucket_tagging, Bucket=bucket)["Error"]["Code"] == "NoSuchTagSet"
    s3.delete_bucket(Bucket=bucket)


def test_acls_are_disabled_by_default_as_on_aws(s3):
    bucket = name()
    s3.create_bucket(Bucket=bucket, ACL="private")
    acl = s3.get_bucket_acl(Bucket=bucket)
    owner = acl["Owner"]["ID"]
    assert len(owner) == 64
    assert acl["Grants"] == [{"Grantee": {"ID": owner, "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}]
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    error = refused(s3.put_bucket_acl, Bucket=bucket, ACL="public-read")["Error"]
    assert error == {"Code": "AccessControlListNotSupported", "Message": "The bucket does not allow ACLs"}
    error = refused(s3.create_bucket, Bucket=name(), ACL="public-read")["Error"]
    assert error == {
        "Code": "InvalidBucketAclWithObjectOwnership",
        "Message": "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
    }
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="bucket-owner-full-control")
    assert s3.get_object_acl(Bucket=bucket, Key="k")["Grants"] == acl["Grants"]
    s3.delete_object(Bucket=bucket, Key="k")
    s3.delete_bucket(Bucket=bucket)


def test_acls_once_enabled(s3):
    bucket = name()
    s3.create_bucket(Bucket=bucket, ObjectOwnership="ObjectWriter")
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "ObjectWriter"}
    ]
    # Public ACLs are still blocked until the public access block allows them.
    assert refused(s3.put_bucket_acl, Bucket=bucket, ACL="public-read")["Error"]["Code"] == "AccessDenied"
    s3.delete_public_access_block(Bucket=bucket)
    error = refused(s3.get_public_access_block, Bucket=bucket)["Error"]
    assert error == {
        "Code": "NoSuchPublicAccessBlockConfiguration",
        "Message": "The public access block configuration was not found",
        "BucketName": bucket,
    }
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    grants = s3.get_bucket_acl(Bucket=bucket)["Grants"]
    assert grants[1] == {
        "Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
        "Permission": "READ",
    }
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.put_object_acl(Bucket=bucket, Key="k", ACL="authenticated-read")
    object_grants = s3.get_object_acl(Bucket=bucket, Key="k")["Grants"]
    assert object_grants[1]["Grantee"]["URI"] == "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
    error = refused(
        s3.put_bucket_ownership_controls,
        Bucket=bucket,
        OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
    )["Error"]
    assert error["Code"] == "InvalidBucketAclWithObjectOwnership"
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    s3.delete_bucket_ownership_controls(Bucket=bucket)
    error = refused(s3.get_bucket_ownership_controls, Bucket=bucket)["Error"]
    assert error == {
        "Code": "OwnershipControlsNotFoundError",
        "Message": "The bucket ownership controls were not found",
        "BucketName": bucket,
    }
    s3.delete_object(Bucket=bucket, Key="k")
    s3.delete_bucket(Bucket=bucket)


def test_public_access_block_and_encryption(s3):
    bucket = name()
    s3.create_bucket(Bucket=bucket)
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    s3.put_public_access_block(
        Bucket=bucket, PublicAccessBlockConfiguration={"BlockPublicAcls": True, "IgnorePublicAcls": False}
    )
    config = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert config == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": False,
        "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False,
    }
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules == [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]
    kms = [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}, "BucketKeyEnabled": True}]
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": kms})
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"] == kms
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert put["ServerSideEncryption"] == "aws:kms" and put["BucketKeyEnabled"] is True
    assert put["SSEKMSKeyId"].startswith("arn:aws:kms:us-east-1:")
    s3.delete_bucket_encryption(Bucket=bucket)
    assert s3.put_object(Bucket=bucket, Key="k", Body=b"x")["ServerSideEncryption"] == "AES256"
    s3.delete_object(Bucket=bucket, Key="k")
    s3.delete_bucket(Bucket=bucket)
