"""CopyObject against a live server with boto3: metadata and tagging directives, versions as
sources, copy-source conditions, copying onto itself, across buckets."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from tests.conftest import remove_bucket

_names = itertools.count(1)


@pytest.fixture(scope="module")
def s3(lamina):
    return lamina.client("s3", s3={"addressing_style": "path"})


@pytest.fixture
def bucket(s3):
    name = f"copy-{next(_names)}-lamina"
    s3.create_bucket(Bucket=name)
    yield name
    remove_bucket(s3, name)


def refused(call, **kwargs) -> dict:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response


def test_copy_keeps_metadata_and_tags_by_default(s3, bucket):
    put = s3.put_object(
        Bucket=bucket, Key="src", Body=b"payload", ContentType="text/csv", Metadata={"m": "1"}, Tagging="t=1"
    )
    copied = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert copied["CopyObjectResult"]["ETag"] == put["ETag"]
    assert copied["CopyObjectResult"]["LastModified"]
    got = s3.get_object(Bucket=bucket, Key="dst")
    assert got["Body"].read() == b"payload" and got["ContentType"] == "text/csv" and got["Metadata"] == {"m": "1"}
    assert s3.get_object_tagging(Bucket=bucket, Key="dst")["TagSet"] == [{"Key": "t", "Value": "1"}]


def test_replace_directives(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"x", ContentType="text/csv", Metadata={"m": "1"}, Tagging="t=1")
    s3.copy_object(
        Bucket=bucket,
        Key="dst",
        CopySource=f"{bucket}/src",
        MetadataDirective="REPLACE",
        ContentType="application/json",
        Metadata={"n": "2"},
        TaggingDirective="REPLACE",
        Tagging="u=2",
    )
    head = s3.head_object(Bucket=bucket, Key="dst")
    assert head["ContentType"] == "application/json" and head["Metadata"] == {"n": "2"}
    assert s3.get_object_tagging(Bucket=bucket, Key="dst")["TagSet"] == [{"Key": "u", "Value": "2"}]


def test_copy_onto_itself(s3, bucket):
    s3.put_object(Bucket=bucket, Key="self", Body=b"x", Metadata={"m": "1"})
    error = refused(s3.copy_object, Bucket=bucket, Key="self", CopySource=f"{bucket}/self")
    assert error["Error"] == {
        "Code": "InvalidRequest",
        "Message": "This copy request is illegal because it is trying to copy an object to itself without changing "
        "the object's metadata, storage class, website redirect location or encryption attributes.",
    }
    s3.copy_object(
        Bucket=bucket, Key="self", CopySource=f"{bucket}/self", MetadataDirective="REPLACE", Metadata={"m": "2"}
    )
    assert s3.head_object(Bucket=bucket, Key="self")["Metadata"] == {"m": "2"}
    s3.copy_object(Bucket=bucket, Key="self", CopySource=f"{bucket}/self", StorageClass="STANDARD_IA")
    assert s3.head_object(Bucket=bucket, Key="self")["StorageClass"] == "STANDARD_IA"


def test_copy_a_version_across_buckets(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    old = s3.put_object(Bucket=bucket, Key="v", Body=b"old")["VersionId"]
    s3.put_object(Bucket=bucket, Key="v", Body=b"new")
    other = f"copy-target-{next(_names)}-lamina"
    s3.create_bucket(Bucket=other)
    try:
        copied = s3.copy_object(
            Bucket=other, Key="restored", CopySource={"Bucket": bucket, "Key": "v", "VersionId": old}
        )
        assert copied["CopySourceVersionId"] == old and "VersionId" not in copied
        assert s3.get_object(Bucket=other, Key="restored")["Body"].read() == b"old"
        marker = s3.delete_object(Bucket=bucket, Key="v")["VersionId"]
        error = refused(s3.copy_object, Bucket=other, Key="x", CopySource={"Bucket": bucket, "Key": "v"})
        assert error["Error"]["Code"] == "NoSuchKey"
        error = refused(
            s3.copy_object, Bucket=other, Key="x", CopySource={"Bucket": bucket, "Key": "v", "VersionId": marker}
        )
        assert error["Error"] == {
            "Code": "InvalidRequest",
            "Message": "The source of a copy request may not specifically refer to a delete marker by version id.",
        }
        # Restoring a version in place makes it the latest again.
        restored = s3.copy_object(Bucket=bucket, Key="v", CopySource={"Bucket": bucket, "Key": "v", "VersionId": old})
        assert s3.get_object(Bucket=bucket, Key="v")["VersionId"] == restored["VersionId"]
        error = refused(s3.copy_object, Bucket=other, Key="x", CopySource={"Bucket": "no-such-lamina", "Key": "v"})
        assert error["Error"]["Code"] == "NoSuchBucket"
    finally:
        s3.delete_object(Bucket=other, Key="restored")
        s3.delete_bucket(Bucket=other)


def test_copy_source_conditions(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="c", Body=b"x")["ETag"]
    modified = s3.head_object(Bucket=bucket, Key="c")["LastModified"]
    source = f"{bucket}/c"
    s3.copy_object(Bucket=bucket, Key="ok", CopySource=source, CopySourceIfMatch=etag)
    for condition, value, name in [
        ("CopySourceIfMatch", '"other"', "x-amz-copy-source-If-Match"),
        ("CopySourceIfNoneMatch", etag, "x-amz-copy-source-If-None-Match"),
        ("CopySourceIfUnmodifiedSince", modified - timedelta(hours=1), "x-amz-copy-source-If-Unmodified-Since"),
        ("CopySourceIfModifiedSince", modified, "x-amz-copy-source-If-Modified-Since"),
    ]:
        error = refused(s3.copy_object, Bucket=bucket, Key="no", CopySource=source, **{condition: value})
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 412
        assert error["Error"]["Code"] == "PreconditionFailed" and error["Error"]["Condition"] == name
    # If-Match true overrides If-Unmodified-Since false, as AWS documents.
    s3.copy_object(
        Bucket=bucket,
        Key="ok2",
        CopySource=source,
        CopySourceIfMatch=etag,
        CopySourceIfUnmodifiedSince=modified - timedelta(hours=1),
    )
    # The destination's own condition.
    error = refused(s3.copy_object, Bucket=bucket, Key="ok", CopySource=source, IfNoneMatch="*")
    assert error["Error"]["Condition"] == "If-None-Match"
