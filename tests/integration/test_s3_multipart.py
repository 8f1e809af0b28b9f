"""S3's multipart uploads against a live server with boto3 and the AWS CLI: explicit
create/upload_part/complete with CRC32 and SHA256 (composite checksums, the "-N" ETag),
FULL_OBJECT CRCs combined, boto3's upload_fileobj with trailing checksums, `aws s3 cp` of
20 MB both ways, UploadPartCopy ranges and conditions, AWS's refusals, conditional
completion, listing uploads and parts with paging, PartNumber reads, and durability: an
upload survives kill -9 with its parts, and a completion cut by kill -9 leaves the upload or
the whole object."""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import os
import subprocess
import sys
import threading
import time

import awscrt.checksums
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from tests.conftest import remove_bucket

MiB = 1024 * 1024
_names = itertools.count(1)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def digest(algorithm: str, data: bytes) -> bytes:
    if algorithm == "CRC32":
        return awscrt.checksums.crc32(data).to_bytes(4, "big")
    if algorithm == "CRC32C":
        return awscrt.checksums.crc32c(data).to_bytes(4, "big")
    if algorithm == "CRC64NVME":
        return awscrt.checksums.crc64nvme(data).to_bytes(8, "big")
    return hashlib.new(algorithm.lower(), data).digest()


def composite(algorithm: str, parts: list[bytes]) -> str:
    return f"{b64(digest(algorithm, b''.join(digest(algorithm, p) for p in parts)))}-{len(parts)}"


def multipart_etag(parts: list[bytes]) -> str:
    return f'"{hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()}-{len(parts)}"'


def s3_of(server):
    return server.client("s3", s3={"addressing_style": "path"})


@pytest.fixture(scope="module")
def s3(lamina):
    return s3_of(lamina)


@pytest.fixture
def bucket(s3):
    name = f"multipart-{next(_names)}-lamina"
    s3.create_bucket(Bucket=name)
    yield name
    for upload in s3.list_multipart_uploads(Bucket=name).get("Uploads", []):
        s3.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
    remove_bucket(s3, name)


def error_of(caught) -> dict:
    return caught.value.response["Error"]


@pytest.mark.parametrize("algorithm", ["CRC32", "SHA256"])
def test_create_upload_complete_with_a_composite_checksum(s3, bucket, algorithm):
    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(123)]
    created = s3.create_multipart_upload(
        Bucket=bucket,
        Key="obj",
        ChecksumAlgorithm=algorithm,
        Metadata={"color": "blue"},
        ContentType="text/plain",
        Tagging="a=1&b=2",
    )
    assert created["ChecksumAlgorithm"] == algorithm and created["ChecksumType"] == "COMPOSITE"
    assert created["ServerSideEncryption"] == "AES256"
    upload_id = created["UploadId"]
    listed = []
    for number, data in enumerate(parts, 1):
        answer = s3.upload_part(
            Bucket=bucket, Key="obj", UploadId=upload_id, PartNumber=number, Body=data, ChecksumAlgorithm=algorithm
        )
        assert answer["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
        assert answer[f"Checksum{algorithm}"] == b64(digest(algorithm, data))
        listed.append(
            {"PartNumber": number, "ETag": answer["ETag"], f"Checksum{algorithm}": b64(digest(algorithm, data))}
        )
    done = s3.complete_multipart_upload(Bucket=bucket, Key="obj", UploadId=upload_id, MultipartUpload={"Parts": listed})
    assert done["ETag"] == multipart_etag(parts)
    assert done[f"Checksum{algorithm}"] == composite(algorithm, parts)
    assert done["ChecksumType"] == "COMPOSITE"
    assert done["Bucket"] == bucket and done["Key"] == "obj" and done["Location"].endswith(f"/{bucket}/obj")
    got = s3.get_object(Bucket=bucket, Key="obj", ChecksumMode="ENABLED")
    assert got["Body"].read() == b"".join(parts)
    assert got["ETag"] == multipart_etag(parts) and got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"color": "blue"} and got["TagCount"] == 2
    assert got[f"Checksum{algorithm}"] == composite(algorithm, parts) and got["ChecksumType"] == "COMPOSITE"
    # A part of it: its range, and how many parts there are.
    second = s3.get_object(Bucket=bucket, Key="obj", PartNumber=2)
    assert second["Body"].read() == parts[1]
    assert second["PartsCount"] == 3 and second["ContentRange"] == f"bytes {5 * MiB}-{10 * MiB - 1}/{10 * MiB + 123}"
    assert second["ResponseMetadata"]["HTTPStatusCode"] == 206
    head = s3.head_object(Bucket=bucket, Key="obj", PartNumber=3)
    assert head["ContentLength"] == 123 and head["PartsCount"] == 3
    with pytest.raises(ClientError) as caught:
        s3.head_object(Bucket=bucket, Key="obj", PartNumber=4)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416
    attributes = s3.get_object_attributes(
        Bucket=bucket, Key="obj", ObjectAttributes=["ObjectParts", "ETag", "Checksum", "ObjectSize"], MaxParts=2
    )
    assert attributes["ETag"] == multipart_etag(parts).strip('"')
    assert attributes["ObjectSize"] == 10 * MiB + 123
    object_parts = attributes["ObjectParts"]
    assert object_parts["TotalPartsCount"] == 3 and object_parts["IsTruncated"] is True
    assert [(p["PartNumber"], p["Size"]) for p in object_parts["Parts"]] == [(1, 5 * MiB), (2, 5 * MiB)]
    assert object_parts["Parts"][0][f"Checksum{algorithm}"] == b64(digest(algorithm, parts[0]))
    # The upload is gone with its completion.
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME"])
def test_full_object_checksums_are_the_whole_objects_crc(s3, bucket, algorithm):
    parts = [os.urandom(5 * MiB), os.urandom(777)]
    upload_id = s3.create_multipart_upload(
        Bucket=bucket, Key="full", ChecksumAlgorithm=algorithm, ChecksumType="FULL_OBJECT"
    )["UploadId"]
    listed = []
    for number, data in enumerate(parts, 1):
        answer = s3.upload_part(
            Bucket=bucket, Key="full", UploadId=upload_id, PartNumber=number, Body=data, ChecksumAlgorithm=algorithm
        )
        listed.append({"PartNumber": number, "ETag": answer["ETag"]})
    whole = b64(digest(algorithm, b"".join(parts)))
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="full", UploadId=upload_id, MultipartUpload={"Parts": listed}, ChecksumType="FULL_OBJECT"
    )
    assert done[f"Checksum{algorithm}"] == whole and done["ChecksumType"] == "FULL_OBJECT"
    got = s3.get_object(Bucket=bucket, Key="full", ChecksumMode="ENABLED")
    assert got["Body"].read() == b"".join(parts)  # botocore checks the full-object checksum too
    assert got[f"Checksum{algorithm}"] == whole


def test_upload_fileobj_with_trailing_checksums(s3, bucket):
    data = os.urandom(12 * MiB + 5)
    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=3)
    s3.upload_fileobj(io.BytesIO(data), bucket, "dir/transfer.bin", Config=config)
    head = s3.head_object(Bucket=bucket, Key="dir/transfer.bin", ChecksumMode="ENABLED")
    assert head["ContentLength"] == len(data) and head["ETag"].endswith('-3"')
    assert head["ChecksumType"] in ("COMPOSITE", "FULL_OBJECT")
    out = io.BytesIO()
    s3.download_fileobj(bucket, "dir/transfer.bin", out, Config=config)
    assert out.getvalue() == data


def test_aws_cli_copies_20_mb_both_ways(lamina, s3, bucket, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        HOME=str(home),
        AWS_CONFIG_FILE=str(home / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_PAGER="",
    )
    aws = os.path.join(os.path.dirname(sys.executable), "aws")
    local = tmp_path / "twenty.bin"
    local.write_bytes(os.urandom(20 * 1000 * 1000))
    up = subprocess.run(
        [aws, "--endpoint-url", lamina.url, "s3", "cp", str(local), f"s3://{bucket}/twenty.bin"],
        capture_output=True,
        env=env,
        timeout=300,
    )
    assert up.returncode == 0, up.stderr.decode()
    head = s3.head_object(Bucket=bucket, Key="twenty.bin")
    assert head["ContentLength"] == 20 * 1000 * 1000
    assert head["ETag"].endswith('-3"')  # the CLI's 8 MiB parts
    back = tmp_path / "back.bin"
    down = subprocess.run(
        [aws, "--endpoint-url", lamina.url, "s3", "cp", f"s3://{bucket}/twenty.bin", str(back)],
        capture_output=True,
        env=env,
        timeout=300,
    )
    assert down.returncode == 0, down.stderr.decode()
    assert back.read_bytes() == local.read_bytes()


def test_upload_part_copy_ranges_and_conditions(s3, bucket):
    source = os.urandom(6 * MiB + 100)
    etag = s3.put_object(Bucket=bucket, Key="source", Body=source)["ETag"]
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="copied")["UploadId"]
    first = s3.upload_part_copy(
        Bucket=bucket,
        Key="copied",
        UploadId=upload_id,
        PartNumber=1,
        CopySource={"Bucket": bucket, "Key": "source"},
        CopySourceRange=f"bytes=0-{5 * MiB - 1}",
        CopySourceIfMatch=etag,
    )["CopyPartResult"]
    assert first["ETag"] == f'"{hashlib.md5(source[: 5 * MiB]).hexdigest()}"'
    second = s3.upload_part_copy(
        Bucket=bucket,
        Key="copied",
        UploadId=upload_id,
        PartNumber=2,
        CopySource=f"{bucket}/source",
        CopySourceRange=f"bytes={5 * MiB}-{len(source) - 1}",
    )["CopyPartResult"]
    with pytest.raises(ClientError) as caught:
        s3.upload_part_copy(
            Bucket=bucket,
            Key="copied",
            UploadId=upload_id,
            PartNumber=3,
            CopySource=f"{bucket}/source",
            CopySourceIfNoneMatch=etag,
        )
    assert error_of(caught)["Code"] == "PreconditionFailed"
    with pytest.raises(ClientError) as caught:
        s3.upload_part_copy(
            Bucket=bucket,
            Key="copied",
            UploadId=upload_id,
            PartNumber=3,
            CopySource=f"{bucket}/source",
            CopySourceRange=f"bytes=0-{len(source)}",
        )
    assert error_of(caught) == {
        "Code": "InvalidRequest",
        "Message": f"Range specified is not valid for source object of size: {len(source)}",
    }
    with pytest.raises(ClientError) as caught:
        s3.upload_part_copy(
            Bucket=bucket,
            Key="copied",
            UploadId=upload_id,
            PartNumber=3,
            CopySource=f"{bucket}/source",
            CopySourceRange="bytes=5-",
        )
    assert error_of(caught)["Code"] == "InvalidArgument"
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="copied",
        UploadId=upload_id,
        MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": first["ETag"]}, {"PartNumber": 2, "ETag": second["ETag"]}]
        },
    )
    assert s3.get_object(Bucket=bucket, Key="copied")["Body"].read() == source


def test_refusals(s3, bucket):
    small = b"tiny part"
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="bad")["UploadId"]
    one = s3.upload_part(Bucket=bucket, Key="bad", UploadId=upload_id, PartNumber=1, Body=small)["ETag"]
    two = s3.upload_part(Bucket=bucket, Key="bad", UploadId=upload_id, PartNumber=2, Body=small)["ETag"]

    def complete(parts, key="bad", upload=upload_id):
        with pytest.raises(ClientError) as caught:
            s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": parts})
        return error_of(caught)

    assert complete([{"PartNumber": 2, "ETag": two}, {"PartNumber": 1, "ETag": one}]) == {
        "Code": "InvalidPartOrder",
        "Message": "The list of parts was not in ascending order. The parts list must be specified in order by "
        "part number.",
    }
    wrong = '"' + "0" * 32 + '"'
    assert complete([{"PartNumber": 1, "ETag": wrong}]) == {
        "Code": "InvalidPart",
        "Message": "One or more of the specified parts could not be found.  The part may not have been uploaded, "
        "or the specified entity tag may not match the part's entity tag.",
        "UploadId": upload_id,
        "PartNumber": "1",
        "ETag": "0" * 32,
    }
    assert complete([{"PartNumber": 3, "ETag": two}])["Code"] == "InvalidPart"
    too_small = complete([{"PartNumber": 1, "ETag": one}, {"PartNumber": 2, "ETag": two}])
    assert too_small["Code"] == "EntityTooSmall"
    assert too_small["Message"] == "Your proposed upload is smaller than the minimum allowed size"
    assert too_small["ProposedSize"] == str(len(small)) and too_small["MinSizeAllowed"] == str(5 * MiB)
    assert too_small["PartNumber"] == "1"
    # The last part may be small: one part alone completes.
    for number in (0, 10001):
        with pytest.raises(ClientError) as caught:
            s3.upload_part(Bucket=bucket, Key="bad", UploadId=upload_id, PartNumber=number, Body=small)
        assert error_of(caught)["Message"] == "Part number must be an integer between 1 and 10000, inclusive"
        assert error_of(caught)["ArgumentValue"] == str(number)
    s3.complete_multipart_upload(
        Bucket=bucket, Key="bad", UploadId=upload_id, MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": two}]}
    )
    assert s3.get_object(Bucket=bucket, Key="bad")["Body"].read() == small
    # Completed: the upload is no more.
    missing = {
        "Code": "NoSuchUpload",
        "Message": "The specified upload does not exist. The upload ID may be invalid, or the upload may have been "
        "aborted or completed.",
        "UploadId": upload_id,
    }
    assert complete([{"PartNumber": 2, "ETag": two}]) == missing
    with pytest.raises(ClientError) as caught:
        s3.abort_multipart_upload(Bucket=bucket, Key="bad", UploadId=upload_id)
    assert error_of(caught) == missing
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as caught:
        s3.upload_part(Bucket=bucket, Key="bad", UploadId=upload_id, PartNumber=1, Body=small)
    assert error_of(caught)["Code"] == "NoSuchUpload"
    # Another key's upload id is no upload of this key.
    other = s3.create_multipart_upload(Bucket=bucket, Key="other")["UploadId"]
    with pytest.raises(ClientError) as caught:
        s3.list_parts(Bucket=bucket, Key="bad", UploadId=other)
    assert error_of(caught)["Code"] == "NoSuchUpload"
    s3.abort_multipart_upload(Bucket=bucket, Key="other", UploadId=other)


def test_checksum_refusals(s3, bucket):
    with pytest.raises(ClientError) as caught:
        s3.create_multipart_upload(Bucket=bucket, Key="c", ChecksumAlgorithm="SHA256", ChecksumType="FULL_OBJECT")
    assert error_of(caught) == {
        "Code": "InvalidRequest",
        "Message": "The FULL_OBJECT checksum type cannot be used with the sha256 checksum algorithm.",
    }
    with pytest.raises(ClientError) as caught:
        s3.create_multipart_upload(Bucket=bucket, Key="c", ChecksumAlgorithm="CRC64NVME", ChecksumType="COMPOSITE")
    assert error_of(caught)["Message"] == (
        "The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm."
    )
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="c", ChecksumAlgorithm="SHA256")["UploadId"]
    with pytest.raises(ClientError) as caught:
        s3.upload_part(Bucket=bucket, Key="c", UploadId=upload_id, PartNumber=1, Body=b"x", ChecksumAlgorithm="CRC32")
    assert error_of(caught) == {
        "Code": "InvalidRequest",
        "Message": "Checksum Type mismatch occurred, expected checksum Type: sha256, actual checksum Type: crc32",
    }
    with pytest.raises(ClientError) as caught:
        s3.upload_part(
            Bucket=bucket,
            Key="c",
            UploadId=upload_id,
            PartNumber=1,
            Body=b"x",
            ChecksumSHA256=b64(digest("SHA256", b"y")),
        )
    assert error_of(caught)["Code"] == "BadDigest"
    etag = s3.upload_part(
        Bucket=bucket, Key="c", UploadId=upload_id, PartNumber=1, Body=b"x", ChecksumAlgorithm="SHA256"
    )["ETag"]
    with pytest.raises(ClientError) as caught:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="c", UploadId=upload_id, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]}
        )
    assert error_of(caught) == {
        "Code": "InvalidRequest",
        "Message": "The upload was created using a sha256 checksum. The complete request must include the checksum "
        "for each part. It was missing for part 1 in the request.",
    }
    with pytest.raises(ClientError) as caught:
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="c",
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag, "ChecksumSHA256": b64(digest("SHA256", b"z"))}]},
        )
    assert error_of(caught)["Code"] == "InvalidPart"


def test_conditional_completion(s3, bucket):
    s3.put_object(Bucket=bucket, Key="cond", Body=b"there already")
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="cond")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="cond", UploadId=upload_id, PartNumber=1, Body=b"new")["ETag"]
    parts = {"Parts": [{"PartNumber": 1, "ETag": etag}]}
    with pytest.raises(ClientError) as caught:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="cond", UploadId=upload_id, MultipartUpload=parts, IfNoneMatch="*"
        )
    assert error_of(caught)["Code"] == "PreconditionFailed"
    with pytest.raises(ClientError) as caught:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="cond", UploadId=upload_id, MultipartUpload=parts, IfMatch='"' + "1" * 32 + '"'
        )
    assert error_of(caught)["Code"] == "PreconditionFailed"
    # Refused: the upload is still there, and the object as it was.
    assert [p["PartNumber"] for p in s3.list_parts(Bucket=bucket, Key="cond", UploadId=upload_id)["Parts"]] == [1]
    current = s3.head_object(Bucket=bucket, Key="cond")["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="cond", UploadId=upload_id, MultipartUpload=parts, IfMatch=current)
    assert s3.get_object(Bucket=bucket, Key="cond")["Body"].read() == b"new"


def test_listing_uploads_and_parts_with_paging(s3, bucket):
    made = []
    for key in ("a/one", "a/two", "b", "c"):
        for _ in range(2):
            made.append((key, s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]))
    pages = list(s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, PaginationConfig={"PageSize": 3}))
    assert len(pages) == 3
    seen = [(u["Key"], u["UploadId"]) for page in pages for u in page.get("Uploads", [])]
    assert seen == sorted(made)  # by key, then by upload id (the order they were made)
    first = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=3)
    assert first["IsTruncated"] is True and first["NextKeyMarker"] == "a/two"
    assert first["NextUploadIdMarker"] == seen[2][1]
    rest = s3.list_multipart_uploads(
        Bucket=bucket, KeyMarker=first["NextKeyMarker"], UploadIdMarker=first["NextUploadIdMarker"]
    )
    assert [(u["Key"], u["UploadId"]) for u in rest["Uploads"]] == seen[3:]
    grouped = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in grouped["CommonPrefixes"]] == ["a/"]
    assert [u["Key"] for u in grouped["Uploads"]] == ["b", "b", "c", "c"]
    prefixed = s3.list_multipart_uploads(Bucket=bucket, Prefix="a/")
    assert {u["Key"] for u in prefixed["Uploads"]} == {"a/one", "a/two"}
    assert prefixed["Uploads"][0]["Initiator"]["ID"] and prefixed["Uploads"][0]["Owner"]["ID"]
    # Parts, two to a page.
    key, upload_id = made[0]
    etags = {}
    for number in (1, 2, 3, 5, 9):
        etags[number] = s3.upload_part(
            Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=str(number).encode() * 10
        )["ETag"]
    page = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id, MaxParts=2)
    assert [p["PartNumber"] for p in page["Parts"]] == [1, 2]
    assert page["IsTruncated"] is True and page["NextPartNumberMarker"] == 2 and page["MaxParts"] == 2
    assert page["Parts"][0]["ETag"] == etags[1] and page["Parts"][0]["Size"] == 10
    later = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id, PartNumberMarker=2, MaxParts=2)
    assert [p["PartNumber"] for p in later["Parts"]] == [3, 5]
    paged = s3.get_paginator("list_parts").paginate(
        Bucket=bucket, Key=key, UploadId=upload_id, PaginationConfig={"PageSize": 2}
    )
    assert [p["PartNumber"] for page in paged for p in page["Parts"]] == [1, 2, 3, 5, 9]
    # A part sent again replaces it.
    again = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=2, Body=b"replaced")["ETag"]
    parts = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["ETag"]) for p in parts][1] == (2, again)
    s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    assert upload_id not in [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]]


def test_a_bucket_deleted_takes_its_uploads(s3):
    name = f"multipart-gone-{next(_names)}-lamina"
    s3.create_bucket(Bucket=name)
    upload_id = s3.create_multipart_upload(Bucket=name, Key="k")["UploadId"]
    s3.upload_part(Bucket=name, Key="k", UploadId=upload_id, PartNumber=1, Body=b"data")
    s3.delete_bucket(Bucket=name)
    s3.create_bucket(Bucket=name)
    assert s3.list_multipart_uploads(Bucket=name).get("Uploads", []) == []
    with pytest.raises(ClientError) as caught:
        s3.list_parts(Bucket=name, Key="k", UploadId=upload_id)
    assert error_of(caught)["Code"] == "NoSuchUpload"
    s3.delete_bucket(Bucket=name)


def test_an_upload_survives_kill_9_with_its_parts(lamina_factory):
    server = lamina_factory()
    s3 = s3_of(server)
    s3.create_bucket(Bucket="mpu-durable-lamina")
    parts = [os.urandom(5 * MiB), os.urandom(1000)]
    upload_id = s3.create_multipart_upload(Bucket="mpu-durable-lamina", Key="k", ChecksumAlgorithm="CRC32")["UploadId"]
    listed = []
    for number, data in enumerate(parts, 1):
        answer = s3.upload_part(Bucket="mpu-durable-lamina", Key="k", UploadId=upload_id, PartNumber=number, Body=data)
        listed.append({"PartNumber": number, "ETag": answer["ETag"], "ChecksumCRC32": answer["ChecksumCRC32"]})
    server.restart(kill=True)
    s3 = s3_of(server)
    uploads = s3.list_multipart_uploads(Bucket="mpu-durable-lamina")["Uploads"]
    assert [(u["Key"], u["UploadId"], u["ChecksumAlgorithm"]) for u in uploads] == [("k", upload_id, "CRC32")]
    kept = s3.list_parts(Bucket="mpu-durable-lamina", Key="k", UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in kept] == [
        (entry["PartNumber"], entry["ETag"], len(data)) for entry, data in zip(listed, parts, strict=True)
    ]
    s3.complete_multipart_upload(
        Bucket="mpu-durable-lamina", Key="k", UploadId=upload_id, MultipartUpload={"Parts": listed}
    )
    assert s3.get_object(Bucket="mpu-durable-lamina", Key="k")["Body"].read() == b"".join(parts)
    server.restart(kill=True)
    s3 = s3_of(server)
    assert s3.get_object(Bucket="mpu-durable-lamina", Key="k")["Body"].read() == b"".join(parts)
    assert s3.list_multipart_uploads(Bucket="mpu-durable-lamina").get("Uploads", []) == []


def test_a_completion_cut_by_kill_9_leaves_the_upload_or_the_whole_object(lamina_factory):
    server = lamina_factory()
    s3 = s3_of(server)
    s3.create_bucket(Bucket="mpu-cut-lamina")
    parts = [os.urandom(5 * MiB) for _ in range(6)]
    upload_id = s3.create_multipart_upload(Bucket="mpu-cut-lamina", Key="k")["UploadId"]
    listed = [
        {
            "PartNumber": number,
            "ETag": s3.upload_part(Bucket="mpu-cut-lamina", Key="k", UploadId=upload_id, PartNumber=number, Body=data)[
                "ETag"
            ],
        }
        for number, data in enumerate(parts, 1)
    ]
    sent = threading.Event()

    def complete() -> None:
        sent.set()
        try:
            s3.complete_multipart_upload(
                Bucket="mpu-cut-lamina", Key="k", UploadId=upload_id, MultipartUpload={"Parts": listed}
            )
        except Exception:
            pass  # the server died under it

    worker = threading.Thread(target=complete)
    worker.start()
    sent.wait()
    time.sleep(0.02)  # only places the kill somewhere in the completion; no outcome depends on it
    server.restart(kill=True)
    worker.join()
    s3 = s3_of(server)
    uploads = s3.list_multipart_uploads(Bucket="mpu-cut-lamina").get("Uploads", [])
    try:
        body = s3.get_object(Bucket="mpu-cut-lamina", Key="k")["Body"].read()
    except ClientError as error:
        assert error.response["Error"]["Code"] == "NoSuchKey"
        assert [u["UploadId"] for u in uploads] == [upload_id]  # no object: the upload, all of it
        assert len(s3.list_parts(Bucket="mpu-cut-lamina", Key="k", UploadId=upload_id)["Parts"]) == 6
    else:
        assert body == b"".join(parts)  # the object: whole, and the upload gone
        assert uploads == []
    # No file is left that nothing names (temporary, part or object files).
    root = os.path.join(server.data_dir, "s3")
    names = [name for _, _, files in os.walk(os.path.join(root, "tmp")) for name in files]
    assert names == []
