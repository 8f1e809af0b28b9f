"""S3's browser uploads (POST Object) against a live server: forms made by boto3's
generate_presigned_post and posted with httpx as a browser would (the file last), the
policy's conditions holding or failing word for word as S3 says, content-length-range,
an expired policy, a wrong signature, the three success_action_status answers and
success_action_redirect, ${filename}, metadata, and a large file streamed."""

from __future__ import annotations

import hashlib
import json
import os
import urllib.parse
import xml.etree.ElementTree as ElementTree

import httpx
import pytest


@pytest.fixture(scope="module")
def s3(lamina):
    # Forms signed with SigV4 (x-amz-credential...); boto3 signs them the SigV2 way unless told.
    return lamina.client("s3", s3={"addressing_style": "path"}, signature_version="s3v4")


@pytest.fixture(scope="module")
def bucket(s3):
    name = "post-uploads-lamina"
    s3.create_bucket(Bucket=name)
    yield name
    for item in s3.list_objects_v2(Bucket=name).get("Contents", []):
        s3.delete_object(Bucket=name, Key=item["Key"])
    s3.delete_bucket(Bucket=name)


def post(form: dict, data: bytes, filename: str = "photo.jpg", extra: dict | None = None) -> httpx.Response:
    fields = {**form["fields"], **(extra or {})}
    return httpx.post(form["url"], data=fields, files={"file": (filename, data, "image/jpeg")}, timeout=120)


def error_of(response: httpx.Response) -> dict[str, str]:
    root = ElementTree.fromstring(response.content)
    return {child.tag: child.text or "" for child in root}


def test_a_form_upload_as_boto3_presigns_it(s3, bucket):
    form = s3.generate_presigned_post(
        bucket,
        "uploads/${filename}",
        Fields={"Content-Type": "image/jpeg", "x-amz-meta-owner": "ana"},
        Conditions=[{"Content-Type": "image/jpeg"}, {"x-amz-meta-owner": "ana"}, ["content-length-range", 1, 1000]],
        ExpiresIn=300,
    )
    data = os.urandom(500)
    answer = post(form, data, filename="cat.jpg")
    assert answer.status_code == 204, answer.text
    assert answer.content == b""
    assert answer.headers["etag"] == f'"{hashlib.md5(data).hexdigest()}"'
    assert answer.headers["location"].endswith(f"/{bucket}/uploads/cat.jpg")
    got = s3.get_object(Bucket=bucket, Key="uploads/cat.jpg")
    assert got["Body"].read() == data
    assert got["ContentType"] == "image/jpeg" and got["Metadata"] == {"owner": "ana"}


def test_success_action_status_and_redirect(s3, bucket):
    for status in ("200", "201", "204"):
        form = s3.generate_presigned_post(
            bucket,
            f"status-{status}",
            Fields={"success_action_status": status},
            Conditions=[{"success_action_status": status}],
        )
        answer = post(form, b"x")
        assert answer.status_code == int(status), answer.text
        if status == "201":
            root = ElementTree.fromstring(answer.content)
            assert root.tag == "PostResponse"
            fields = {child.tag: child.text for child in root}
            assert fields["Bucket"] == bucket and fields["Key"] == "status-201"
            assert fields["ETag"] == f'"{hashlib.md5(b"x").hexdigest()}"'
            assert fields["Location"].endswith(f"/{bucket}/status-201")
        else:
            assert answer.content == b""
    target = "https://example.com/done?from=lamina"
    form = s3.generate_presigned_post(
        bucket,
        "redirected",
        Fields={"success_action_redirect": target},
        Conditions=[{"success_action_redirect": target}],
    )
    answer = post(form, b"y")
    assert answer.status_code == 303
    location = urllib.parse.urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == "https://example.com/done"
    query = dict(urllib.parse.parse_qsl(location.query))
    assert query == {
        "from": "lamina",
        "bucket": bucket,
        "key": "redirected",
        "etag": f'"{hashlib.md5(b"y").hexdigest()}"',
    }
    assert s3.get_object(Bucket=bucket, Key="redirected")["Body"].read() == b"y"


def test_conditions_that_fail_are_refused_word_for_word(s3, bucket):
    form = s3.generate_presigned_post(
        bucket,
        "user/42/${filename}",
        Fields={"Content-Type": "image/png"},
        Conditions=[["eq", "$Content-Type", "image/png"], ["starts-with", "$x-amz-meta-tag", "ok-"]],
    )
    answer = post(form, b"z", extra={"x-amz-meta-tag": "bad-value"})
    assert answer.status_code == 403
    assert error_of(answer)["Code"] == "AccessDenied"
    assert error_of(answer)["Message"] == (
        'Invalid according to Policy: Policy Condition failed: ["starts-with", "$x-amz-meta-tag", "ok-"]'
    )
    answer = post(form, b"z", extra={"x-amz-meta-tag": "ok-1", "Content-Type": "image/gif"})
    assert error_of(answer)["Message"] == (
        'Invalid according to Policy: Policy Condition failed: ["eq", "$Content-Type", "image/png"]'
    )
    # A key outside what the policy allows (boto3 writes the key's condition as starts-with).
    answer = post(form, b"z", extra={"x-amz-meta-tag": "ok-1", "key": "elsewhere/file"})
    assert error_of(answer)["Message"] == (
        'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "user/42/"]'
    )
    # A field no condition names.
    answer = post(form, b"z", extra={"x-amz-meta-tag": "ok-1", "x-amz-meta-other": "1"})
    assert error_of(answer)["Message"] == "Invalid according to Policy: Extra input fields: x-amz-meta-other"
    # Fields named x-ignore-* need none.
    answer = post(form, b"z", extra={"x-amz-meta-tag": "ok-1", "x-ignore-note": "1"})
    assert answer.status_code == 204, answer.text
    # Nothing refused was stored.
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket, Prefix="elsewhere").get("Contents", [])]
    assert keys == []


def test_the_bucket_condition_and_content_length_range(s3, bucket):
    form = s3.generate_presigned_post(bucket, "sized", Conditions=[["content-length-range", 10, 20]])
    too_big = post(form, b"x" * 21)
    assert too_big.status_code == 400
    assert error_of(too_big)["Code"] == "EntityTooLarge"
    assert error_of(too_big)["Message"] == "Your proposed upload exceeds the maximum allowed size"
    assert error_of(too_big)["MaxSizeAllowed"] == "20"
    too_small = post(form, b"x" * 9)
    assert too_small.status_code == 400
    assert error_of(too_small)["Code"] == "EntityTooSmall"
    assert error_of(too_small)["Message"] == "Your proposed upload is smaller than the minimum allowed size"
    assert (error_of(too_small)["ProposedSize"], error_of(too_small)["MinSizeAllowed"]) == ("9", "10")
    assert post(form, b"x" * 15).status_code == 204
    # A policy for another bucket: its bucket condition fails here.
    s3.create_bucket(Bucket="post-other-lamina")
    try:
        other = s3.generate_presigned_post("post-other-lamina", "k")
        other["url"] = other["url"].replace("post-other-lamina", bucket)
        answer = post(other, b"data")
        assert answer.status_code == 403
        assert error_of(answer)["Message"] == (
            'Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "post-other-lamina"]'
        )
    finally:
        s3.delete_bucket(Bucket="post-other-lamina")


def test_an_expired_policy_a_wrong_signature_and_missing_fields(s3, bucket):
    form = s3.generate_presigned_post(bucket, "late", ExpiresIn=-60)  # expired a minute ago
    answer = post(form, b"x")
    assert answer.status_code == 403
    assert error_of(answer)["Code"] == "AccessDenied"
    assert error_of(answer)["Message"] == "Invalid according to Policy: Policy expired."
    form = s3.generate_presigned_post(bucket, "forged")
    answer = post(form, b"x", extra={"x-amz-signature": "0" * 64})
    assert answer.status_code == 403
    fields = error_of(answer)
    assert fields["Code"] == "SignatureDoesNotMatch"
    assert fields["StringToSign"] == form["fields"]["policy"] and fields["SignatureProvided"] == "0" * 64
    without_key = {"url": form["url"], "fields": {k: v for k, v in form["fields"].items() if k != "key"}}
    answer = post(without_key, b"x")
    assert answer.status_code == 400
    assert error_of(answer)["Message"] == (
        "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields."
    )
    answer = httpx.post(form["url"], data=form["fields"], files={"other": ("a", b"b")}, timeout=60)
    assert error_of(answer)["Message"] == "POST requires exactly one file upload per request."
    for name in ("late", "forged"):
        assert name not in [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_a_large_file_is_streamed_to_disk(s3, bucket):
    data = os.urandom(12 * 1024 * 1024 + 3)
    form = s3.generate_presigned_post(bucket, "large.bin", Conditions=[["content-length-range", 0, 20 * 1024**2]])
    answer = post(form, data)
    assert answer.status_code == 204, answer.text
    assert answer.headers["etag"] == f'"{hashlib.md5(data).hexdigest()}"'
    assert s3.get_object(Bucket=bucket, Key="large.bin")["Body"].read() == data


def test_a_form_signed_the_older_way(lamina, bucket):
    # boto3's default for S3 in us-east-1: AWSAccessKeyId and an HMAC-SHA1 signature.
    s3v2 = lamina.client("s3", s3={"addressing_style": "path"})
    form = s3v2.generate_presigned_post(bucket, "older")
    assert "AWSAccessKeyId" in form["fields"] and "signature" in form["fields"]
    assert post(form, b"old style").status_code == 204
    assert s3v2.get_object(Bucket=bucket, Key="older")["Body"].read() == b"old style"
    answer = post(form, b"x", extra={"signature": "AAAA"})
    assert answer.status_code == 403 and error_of(answer)["Code"] == "SignatureDoesNotMatch"


def test_a_form_without_a_policy_is_anonymous(s3):
    name = "post-public-lamina"
    s3.create_bucket(Bucket=name)
    try:
        url = f"{s3.meta.endpoint_url}/{name}"
        unsigned = httpx.post(url, data={"key": "open"}, files={"file": ("f", b"anyone")}, timeout=60)
        assert unsigned.status_code == 403 and error_of(unsigned)["Code"] == "AccessDenied"
        # A bucket policy open to everyone lets it write.
        s3.delete_public_access_block(Bucket=name)
        statement = {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{name}/*",
        }
        s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
        opened = httpx.post(url, data={"key": "open"}, files={"file": ("f", b"anyone")}, timeout=60)
        assert opened.status_code == 204, opened.text
        assert s3.get_object(Bucket=name, Key="open")["Body"].read() == b"anyone"
    finally:
        for item in s3.list_objects_v2(Bucket=name).get("Contents", []):
            s3.delete_object(Bucket=name, Key=item["Key"])
        s3.delete_bucket(Bucket=name)


def test_a_form_upload_through_front_processes(lamina_factory):
    # The front reads the form and relays the file to the core's S3 as it reads it.
    server = lamina_factory(LAMINA_HTTP_WORKERS="2")
    s3 = server.client("s3", s3={"addressing_style": "path"}, signature_version="s3v4")
    s3.create_bucket(Bucket="post-fronts-lamina")
    data = os.urandom(3 * 1024 * 1024)
    form = s3.generate_presigned_post(
        "post-fronts-lamina",
        "via-front",
        Fields={"success_action_status": "201"},
        Conditions=[{"success_action_status": "201"}],
    )
    answer = post(form, data)
    assert answer.status_code == 201, answer.text
    assert s3.get_object(Bucket="post-fronts-lamina", Key="via-front")["Body"].read() == data
    refused = post(form, data, extra={"x-amz-meta-extra": "1"})
    assert refused.status_code == 403 and "Extra input fields" in error_of(refused)["Message"]
