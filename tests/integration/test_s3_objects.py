"""S3 objects against a live server with boto3 (path-style): PutObject's headers and what
GET and HEAD answer, ranges, conditional reads and writes, response overrides, PartNumber,
GetObjectAttributes, tags, deletes (one and many), and the errors word for word."""

from __future__ import annotations

import hashlib
import itertools
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from tests.conftest import remove_bucket

_names = itertools.count(1)


@pytest.fixture(scope="module")
def s3(lamina):
    return lamina.client("s3", s3={"addressing_style": "path"})


@pytest.fixture
def bucket(s3):
    name = f"objects-{next(_names)}-lamina"
    s3.create_bucket(Bucket=name)
    yield name
    remove_bucket(s3, name)


def refused(call, **kwargs) -> dict:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response


def test_put_and_get_with_its_headers(s3, bucket):
    body = b"hello, lamina"
    expires = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    put = s3.put_object(
        Bucket=bucket,
        Key="dir/hello.txt",
        Body=body,
        ContentType="text/plain",
        ContentEncoding="identity",
        ContentDisposition="attachment; filename=hello.txt",
        ContentLanguage="en",
        CacheControl="max-age=60",
        Expires=expires,
        Metadata={"Owner": "ann", "purpose": "test"},
        Tagging="a=1&b=two",
    )
    etag = f'"{hashlib.md5(body).hexdigest()}"'
    assert put["ETag"] == etag
    assert put["ServerSideEncryption"] == "AES256"
    assert "VersionId" not in put
    got = s3.get_object(Bucket=bucket, Key="dir/hello.txt")
    assert got["Body"].read() == body
    assert got["ETag"] == etag and got["ContentLength"] == len(body)
    assert got["ContentType"] == "text/plain" and got["ContentEncoding"] == "identity"
    assert got["ContentDisposition"] == "attachment; filename=hello.txt" and got["ContentLanguage"] == "en"
    assert got["CacheControl"] == "max-age=60" and got["Expires"] == expires
    assert got["Metadata"] == {"owner": "ann", "purpose": "test"}
    assert got["TagCount"] == 2 and got["AcceptRanges"] == "bytes"
    assert got["ServerSideEncryption"] == "AES256"
    assert "StorageClass" not in got and "VersionId" not in got
    assert abs(got["LastModified"] - datetime.now(timezone.utc)) < timedelta(seconds=30)
    head = s3.head_object(Bucket=bucket, Key="dir/hello.txt")
    assert head["ContentLength"] == len(body) and head["ETag"] == etag and "TagCount" not in head
    assert head["Metadata"] == got["Metadata"] and head["LastModified"] == got["LastModified"]


def test_defaults_storage_class_and_empty_objects(s3, bucket):
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    got = s3.get_object(Bucket=bucket, Key="empty")
    assert got["Body"].read() == b"" and got["ContentLength"] == 0
    assert got["ContentType"] == "binary/octet-stream"
    assert got["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
    s3.put_object(Bucket=bucket, Key="cold", Body=b"x", StorageClass="STANDARD_IA")
    assert s3.head_object(Bucket=bucket, Key="cold")["StorageClass"] == "STANDARD_IA"
    error = refused(s3.put_object, Bucket=bucket, Key="bad", Body=b"x", StorageClass="NOPE")["Error"]
    assert error == {"Code": "InvalidStorageClass", "Message": "The storage class you specified is not valid"}


def test_ranges(s3, bucket):
    body = bytes(range(256)) * 4
    s3.put_object(Bucket=bucket, Key="r", Body=body)
    cases = {
        "bytes=0-9": (0, 9),
        "bytes=1000-": (1000, 1023),
        "bytes=-24": (1000, 1023),
        "bytes=1020-5000": (1020, 1023),
    }
    for header, (first, last) in cases.items():
        got = s3.get_object(Bucket=bucket, Key="r", Range=header)
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert got["ContentRange"] == f"bytes {first}-{last}/1024"
        assert got["ContentLength"] == last - first + 1
        assert got["Body"].read() == body[first : last + 1]
    head = s3.head_object(Bucket=bucket, Key="r", Range="bytes=10-19")
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 206 and head["ContentLength"] == 10
    # Not a range S3 serves: the whole object.
    whole = s3.get_object(Bucket=bucket, Key="r", Range="bytes=0-1,5-6")
    assert whole["ResponseMetadata"]["HTTPStatusCode"] == 200 and len(whole["Body"].read()) == 1024
    error = refused(s3.get_object, Bucket=bucket, Key="r", Range="bytes=1024-")
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 416
    assert error["Error"] == {
        "Code": "InvalidRange",
        "Message": "The requested range is not satisfiable",
        "RangeRequested": "bytes=1024-",
        "ActualObjectSize": "1024",
    }
    part = s3.get_object(Bucket=bucket, Key="r", PartNumber=1)
    assert part["ContentRange"] == "bytes 0-1023/1024" and len(part["Body"].read()) == 1024
    error = refused(s3.get_object, Bucket=bucket, Key="r", PartNumber=2)
    assert error["Error"]["Code"] == "InvalidPartNumber"
    assert error["Error"]["Message"] == "The requested partnumber is not satisfiable"


def test_conditional_reads(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="c", Body=b"conditional")
    etag = put["ETag"]
    modified = s3.head_object(Bucket=bucket, Key="c")["LastModified"]
    before, after = modified - timedelta(hours=1), modified  # a date to come would be ignored
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == b"conditional"
    error = refused(s3.get_object, Bucket=bucket, Key="c", IfMatch='"0000"')
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert error["Error"] == {
        "Code": "PreconditionFailed",
        "Message": "At least one of the pre-conditions you specified did not hold",
        "Condition": "If-Match",
    }
    error = refused(s3.get_object, Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 304
    assert error["Error"] == {"Code": "304", "Message": "Not Modified"}
    assert error["ResponseMetadata"]["HTTPHeaders"]["etag"] == etag
    assert refused(s3.head_object, Bucket=bucket, Key="c", IfNoneMatch="*")["Error"]["Code"] == "304"
    error = refused(s3.get_object, Bucket=bucket, Key="c", IfUnmodifiedSince=before)["Error"]
    assert error["Condition"] == "If-Unmodified-Since"
    assert refused(s3.get_object, Bucket=bucket, Key="c", IfModifiedSince=after)["Error"]["Code"] == "304"
    assert s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=before)["ETag"] == etag
    # AWS's precedence: If-Match true wins over If-Unmodified-Since false; If-None-Match
    # false (no match) with If-Modified-Since true is a 304 only when If-None-Match matches.
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag, IfUnmodifiedSince=before)["ETag"] == etag
    assert s3.get_object(Bucket=bucket, Key="c", IfNoneMatch='"other"', IfModifiedSince=after)["ETag"] == etag
    error = refused(s3.head_object, Bucket=bucket, Key="c", IfMatch='"0000"')
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 412


def test_response_overrides(s3, bucket):
    s3.put_object(Bucket=bucket, Key="o", Body=b"x", ContentType="text/plain")
    got = s3.get_object(
        Bucket=bucket,
        Key="o",
        ResponseContentType="application/json",
        ResponseContentDisposition="inline",
        ResponseCacheControl="no-cache",
        ResponseContentLanguage="fr",
        ResponseContentEncoding="gzip",
        ResponseExpires=datetime(2031, 1, 1, tzinfo=timezone.utc),
    )
    assert got["ContentType"] == "application/json" and got["ContentDisposition"] == "inline"
    assert got["CacheControl"] == "no-cache" and got["ContentLanguage"] == "fr"
    assert got["ContentEncoding"] == "gzip" and got["Expires"] == datetime(2031, 1, 1, tzinfo=timezone.utc)


def test_conditional_writes(s3, bucket):
    first = s3.put_object(Bucket=bucket, Key="w", Body=b"one", IfNoneMatch="*")
    error = refused(s3.put_object, Bucket=bucket, Key="w", Body=b"two", IfNoneMatch="*")
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert error["Error"]["Condition"] == "If-None-Match"
    assert s3.get_object(Bucket=bucket, Key="w")["Body"].read() == b"one"
    error = refused(s3.put_object, Bucket=bucket, Key="w", Body=b"two", IfMatch='"nope"')
    assert error["Error"]["Code"] == "PreconditionFailed" and error["Error"]["Condition"] == "If-Match"
    second = s3.put_object(Bucket=bucket, Key="w", Body=b"two", IfMatch=first["ETag"])
    assert s3.get_object(Bucket=bucket, Key="w")["ETag"] == second["ETag"]
    error = refused(s3.put_object, Bucket=bucket, Key="absent", Body=b"x", IfMatch=first["ETag"])
    assert error["Error"]["Code"] == "NoSuchKey"


def test_object_tagging(s3, bucket):
    s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging="k=v")
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == [{"Key": "k", "Value": "v"}]
    tags = [{"Key": f"k{i}", "Value": str(i)} for i in range(3)]
    s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": tags})
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == tags
    assert s3.get_object(Bucket=bucket, Key="t")["TagCount"] == 3
    eleven = [{"Key": f"k{i}", "Value": "v"} for i in range(11)]
    error = refused(s3.put_object_tagging, Bucket=bucket, Key="t", Tagging={"TagSet": eleven})["Error"]
    assert error == {"Code": "InvalidTag", "Message": "Object tags cannot be greater than 10"}
    s3.delete_object_tagging(Bucket=bucket, Key="t")
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == []
    assert "TagCount" not in s3.get_object(Bucket=bucket, Key="t")


def test_object_attributes(s3, bucket):
    body = b"attributes"
    put = s3.put_object(Bucket=bucket, Key="a", Body=body, ChecksumAlgorithm="SHA256", StorageClass="GLACIER_IR")
    got = s3.get_object_attributes(
        Bucket=bucket, Key="a", ObjectAttributes=["ETag", "Checksum", "ObjectSize", "StorageClass", "ObjectParts"]
    )
    assert got["ETag"] == put["ETag"].strip('"')
    assert got["ObjectSize"] == len(body) and got["StorageClass"] == "GLACIER_IR"
    assert got["Checksum"]["ChecksumSHA256"] == put["ChecksumSHA256"]
    assert got["Checksum"]["ChecksumType"] == "FULL_OBJECT"
    assert "ObjectParts" not in got and got["LastModified"]


def test_delete_object_and_errors_word_for_word(s3, bucket):
    s3.put_object(Bucket=bucket, Key="d", Body=b"x")
    deleted = s3.delete_object(Bucket=bucket, Key="d")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.delete_object(Bucket=bucket, Key="d")["ResponseMetadata"]["HTTPStatusCode"] == 204
    error = refused(s3.get_object, Bucket=bucket, Key="d")
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert error["Error"] == {"Code": "NoSuchKey", "Message": "The specified key does not exist.", "Key": "d"}
    head = refused(s3.head_object, Bucket=bucket, Key="d")
    assert head["Error"] == {"Code": "404", "Message": "Not Found"}
    error = refused(s3.get_object, Bucket="no-such-bucket-lamina", Key="d")["Error"]
    assert error == {
        "Code": "NoSuchBucket",
        "Message": "The specified bucket does not exist",
        "BucketName": "no-such-bucket-lamina",
    }
    error = refused(s3.put_object, Bucket=bucket, Key="k" * 1025, Body=b"x")["Error"]
    assert error == {
        "Code": "KeyTooLongError",
        "Message": "Your key is too long",
        "Size": "1025",
        "MaxSizeAllowed": "1024",
    }
    s3.put_object(Bucket=bucket, Key="k" * 1024, Body=b"x")
    error = refused(s3.get_object, Bucket=bucket, Key="k" * 1024, VersionId="not-a-version")["Error"]
    assert error == {
        "Code": "InvalidArgument",
        "Message": "Invalid version id specified",
        "ArgumentName": "versionId",
        "ArgumentValue": "not-a-version",
    }
    error = refused(s3.put_object, Bucket=bucket, Key="m", Body=b"x", Metadata={"big": "v" * 2048})["Error"]
    assert error["Code"] == "MetadataTooLarge"
    assert error["Message"] == "Your metadata headers exceed the maximum allowed metadata size"
    etag = s3.put_object(Bucket=bucket, Key="cd", Body=b"x")["ETag"]
    error = refused(s3.delete_object, Bucket=bucket, Key="cd", IfMatch='"other"')["Error"]
    assert error["Code"] == "PreconditionFailed"
    s3.delete_object(Bucket=bucket, Key="cd", IfMatch=etag)


def test_delete_objects(s3, bucket):
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"many/{i}", Body=b"x")
    answer = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": f"many/{i}"} for i in range(3)] + [{"Key": "never-there"}]}
    )
    assert sorted(d["Key"] for d in answer["Deleted"]) == ["many/0", "many/1", "many/2", "never-there"]
    assert "Errors" not in answer
    quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "many/3"}], "Quiet": True})
    assert "Deleted" not in quiet
    bad = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "many/4", "VersionId": "bad-id"}]})
    assert bad["Errors"] == [
        {"Key": "many/4", "VersionId": "bad-id", "Code": "InvalidArgument", "Message": "Invalid version id specified"}
    ]
    keys = [obj["Key"] for obj in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["many/4"]
    error = refused(s3.delete_objects, Bucket=bucket, Delete={"Objects": [{"Key": f"k{i}"} for i in range(1001)]})[
        "Error"
    ]
    assert error == {
        "Code": "MalformedXML",
        "Message": "The XML you provided was not well-formed or did not validate against our published schema",
    }


def test_keys_with_unusual_characters(s3, bucket):
    keys = ["a b+c", "üñî/çødé", "q?x=1&y", "pct%20", "tab\tkey", "/leading", "trailing/", "a//b"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    for key in keys:
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()
    listed = [obj["Key"] for obj in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert listed == sorted(keys)
    assert [obj["Key"] for obj in s3.list_objects(Bucket=bucket)["Contents"]] == sorted(keys)
