"""S3's checksums against a live server with boto3: each algorithm computed and kept
(ChecksumMode=ENABLED answers it), boto3's default CRC32, a wrong value refused with AWS's
BadDigest and nothing stored, Content-MD5 checked, malformed values refused."""

from __future__ import annotations

import base64
import hashlib
import itertools

import awscrt.checksums
import pytest
from botocore.exceptions import ClientError

_names = itertools.count(1)
BODY = b"The quick brown fox jumps over the lazy dog" * 100


def expected(algorithm: str, data: bytes) -> str:
    if algorithm == "CRC32":
        raw = awscrt.checksums.crc32(data).to_bytes(4, "big")
    elif algorithm == "CRC32C":
        raw = awscrt.checksums.crc32c(data).to_bytes(4, "big")
    elif algorithm == "CRC64NVME":
        raw = awscrt.checksums.crc64nvme(data).to_bytes(8, "big")
    else:
        raw = hashlib.new(algorithm.lower(), data).digest()
    return base64.b64encode(raw).decode()


@pytest.fixture(scope="module")
def s3(lamina):
    return lamina.client("s3", s3={"addressing_style": "path"})


@pytest.fixture(scope="module")
def bucket(s3):
    name = f"checksums-{next(_names)}-lamina"
    s3.create_bucket(Bucket=name)
    yield name
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=name, Key=item["Key"])
    s3.delete_bucket(Bucket=name)


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"])
def test_each_algorithm(s3, bucket, algorithm):
    key = f"sum-{algorithm}"
    put = s3.put_object(Bucket=bucket, Key=key, Body=BODY, ChecksumAlgorithm=algorithm)
    member = f"Checksum{algorithm}"
    assert put[member] == expected(algorithm, BODY)
    assert put["ChecksumType"] == "FULL_OBJECT"
    got = s3.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert got["Body"].read() == BODY  # botocore checks the checksum it is given, too
    assert got[member] == expected(algorithm, BODY) and got["ChecksumType"] == "FULL_OBJECT"
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert head[member] == expected(algorithm, BODY)
    assert member not in s3.head_object(Bucket=bucket, Key=key)
    # A range is not the object: no checksum with it.
    assert member not in s3.get_object(Bucket=bucket, Key=key, Range="bytes=0-9", ChecksumMode="ENABLED")
    # An explicit value, right.
    s3.put_object(Bucket=bucket, Key=key, Body=BODY, **{member: expected(algorithm, BODY)})


def test_boto3_sends_crc32_by_default(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="default", Body=BODY)
    assert put["ChecksumCRC32"] == expected("CRC32", BODY)
    attributes = s3.get_object_attributes(Bucket=bucket, Key="default", ObjectAttributes=["Checksum"])
    assert attributes["Checksum"] == {"ChecksumCRC32": expected("CRC32", BODY), "ChecksumType": "FULL_OBJECT"}


@pytest.mark.parametrize(
    ("algorithm", "name"),
    [("CRC32", "CRC32"), ("CRC32C", "CRC32C"), ("CRC64NVME", "CRC64NVME"), ("SHA1", "SHA1"), ("SHA256", "SHA256")],
)
def test_a_wrong_checksum_is_refused_and_nothing_stored(s3, bucket, algorithm, name):
    key = f"wrong-{algorithm}"
    wrong = expected(algorithm, b"something else")
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key=key, Body=BODY, **{f"Checksum{algorithm}": wrong})
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"] == {
        "Code": "BadDigest",
        "Message": f"The {name} you specified did not match the calculated checksum.",
    }
    with pytest.raises(ClientError) as caught:
        s3.head_object(Bucket=bucket, Key=key)
    assert caught.value.response["Error"]["Code"] == "404"


def test_content_md5(s3, bucket):
    good = base64.b64encode(hashlib.md5(BODY).digest()).decode()
    s3.put_object(Bucket=bucket, Key="md5", Body=BODY, ContentMD5=good)
    bad = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="md5-bad", Body=BODY, ContentMD5=bad)
    assert caught.value.response["Error"] == {
        "Code": "BadDigest",
        "Message": "The Content-MD5 you specified did not match what we received.",
        "ExpectedDigest": bad,
        "CalculatedDigest": good,
    }
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="md5-bad", Body=BODY, ContentMD5="not-base64!")
    assert caught.value.response["Error"]["Code"] == "InvalidDigest"
    assert caught.value.response["Error"]["Message"] == "The Content-MD5 you specified was invalid."
    with pytest.raises(ClientError) as caught:
        s3.head_object(Bucket=bucket, Key="md5-bad")
    assert caught.value.response["Error"]["Code"] == "404"


def test_malformed_or_several_checksums(s3, bucket):
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="m", Body=BODY, ChecksumCRC32="AAAA")
    assert caught.value.response["Error"] == {
        "Code": "InvalidRequest",
        "Message": "Value for x-amz-checksum-crc32 header is invalid.",
    }
    with pytest.raises(ClientError) as caught:
        s3.put_object(
            Bucket=bucket,
            Key="m",
            Body=BODY,
            ChecksumCRC32=expected("CRC32", BODY),
            ChecksumSHA256=expected("SHA256", BODY),
        )
    assert caught.value.response["Error"]["Message"] == (
        "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."
    )
