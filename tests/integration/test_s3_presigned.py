"""S3's presigned URLs against a live server: boto3's generate_presigned_url for GET and PUT,
used with urllib (no SDK in the request); an expired URL answered as S3 does (AccessDenied,
"Request has expired", with its X-Amz-Expires, Expires and ServerTime); a tampered one with
S3's SignatureDoesNotMatch and what was signed. Expiry is made by signing in the past, not
by waiting."""

from __future__ import annotations

import contextlib
import datetime
import os
import urllib.error
import urllib.request
import xml.etree.ElementTree as ElementTree
from unittest import mock

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError


@pytest.fixture(scope="module")
def s3(lamina):
    # SigV4 query signing (X-Amz-*); boto3 presigns S3 URLs with SigV2 unless told.
    return lamina.client("s3", s3={"addressing_style": "path"}, signature_version="s3v4")


@pytest.fixture(scope="module")
def bucket(s3):
    name = "presigned-lamina"
    s3.create_bucket(Bucket=name)
    yield name
    for item in s3.list_objects_v2(Bucket=name).get("Contents", []):
        s3.delete_object(Bucket=name, Key=item["Key"])
    s3.delete_bucket(Bucket=name)


def fetch(url: str, method: str = "GET", data: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@contextlib.contextmanager
def signing_at(moment: datetime.datetime):
    """boto3 signs as if it were `moment` (UTC, naive): its Python signer's clock and the CRT's."""

    def now(remove_tzinfo: bool = True) -> datetime.datetime:
        return moment if remove_tzinfo else moment.replace(tzinfo=datetime.timezone.utc)

    with contextlib.ExitStack() as stack:
        for module in ("botocore.auth", "botocore.crt.auth"):
            try:
                stack.enter_context(mock.patch(f"{module}.get_current_datetime", now))
            except (ImportError, AttributeError):
                pass
        yield


def error_fields(body: bytes) -> dict[str, str]:
    root = ElementTree.fromstring(body)
    assert root.tag == "Error"
    return {child.tag: child.text or "" for child in root}


def test_presigned_get_and_put(s3, bucket):
    s3.put_object(Bucket=bucket, Key="dir/hello world.txt", Body=b"hello", ContentType="text/plain")
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "dir/hello world.txt"}, ExpiresIn=300
    )
    status, headers, body = fetch(url)
    assert (status, body, headers["Content-Type"]) == (200, b"hello", "text/plain")
    # Response overrides are part of what was signed.
    url = s3.generate_presigned_url(
        "get_object",
        Params={"Bucket": bucket, "Key": "dir/hello world.txt", "ResponseContentType": "application/json"},
        ExpiresIn=300,
    )
    assert fetch(url)[1]["Content-Type"] == "application/json"
    # A PUT, small and large (the large one streamed to disk as it arrives).
    for key, data in (("put-small", b"via a presigned PUT"), ("put-large", os.urandom(3 * 1024 * 1024))):
        url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
        status, headers, body = fetch(url, "PUT", data)
        assert status == 200, body
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data
    # A HEAD through a URL presigned for it.
    url = s3.generate_presigned_url("head_object", Params={"Bucket": bucket, "Key": "put-small"}, ExpiresIn=300)
    assert fetch(url, "HEAD")[0] == 200


def test_an_expired_url_is_refused_as_s3_does(s3, bucket):
    s3.put_object(Bucket=bucket, Key="old", Body=b"x")
    signed_at = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=10)
    with signing_at(signed_at):
        url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "old"}, ExpiresIn=60)
    status, _, body = fetch(url)
    assert status == 403
    fields = error_fields(body)
    assert fields["Code"] == "AccessDenied" and fields["Message"] == "Request has expired"
    assert fields["X-Amz-Expires"] == "60"
    assert fields["Expires"] == (signed_at + datetime.timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%SZ")
    server_time = datetime.datetime.strptime(fields["ServerTime"], "%Y-%m-%dT%H:%M:%SZ")
    assert server_time > signed_at
    assert list(fields)[:5] == ["Code", "Message", "X-Amz-Expires", "Expires", "ServerTime"]
    # A PUT likewise, and nothing is stored.
    with signing_at(signed_at):
        url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "late"}, ExpiresIn=60)
    status, _, body = fetch(url, "PUT", b"too late")
    assert status == 403 and error_fields(body)["Message"] == "Request has expired"
    assert "late" not in [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_a_url_valid_longer_than_a_week_is_refused(s3, bucket):
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=604801)
    status, _, body = fetch(url)
    assert status == 400
    assert error_fields(body)["Code"] == "AuthorizationQueryParametersError"
    assert error_fields(body)["Message"] == "X-Amz-Expires must be less than a week (in seconds) that is 604800"


def test_a_tampered_url_is_s3s_signature_does_not_match(lamina, s3, bucket):
    s3.put_object(Bucket=bucket, Key="signed", Body=b"x")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "signed"}, ExpiresIn=300)
    status, _, body = fetch(url.replace("/signed?", "/other?"))
    assert status == 403
    fields = error_fields(body)
    assert fields["Code"] == "SignatureDoesNotMatch"
    assert fields["Message"] == (
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method."
    )
    assert fields["AWSAccessKeyId"] == "test"
    assert fields["StringToSign"].startswith("AWS4-HMAC-SHA256\n")
    assert fields["StringToSignBytes"] == " ".join(f"{b:02x}" for b in fields["StringToSign"].encode())
    assert fields["CanonicalRequest"].startswith(f"GET\n/{bucket}/other\n")
    assert fields["CanonicalRequest"].endswith("\nUNSIGNED-PAYLOAD")
    assert fields["SignatureProvided"] == url.rsplit("X-Amz-Signature=", 1)[1]
    # A client signing its headers with the wrong secret gets the same, with its canonical request.
    wrong = boto3.client(
        "s3",
        endpoint_url=lamina.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="not-the-secret",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )
    with pytest.raises(ClientError) as caught:
        wrong.get_object(Bucket=bucket, Key="signed")
    error = caught.value.response["Error"]
    assert error["Code"] == "SignatureDoesNotMatch" and error["AWSAccessKeyId"] == "test"
    assert error["CanonicalRequest"].startswith(f"GET\n/{bucket}/signed\n")


def test_boto3s_default_presigned_urls_the_older_signature(lamina, s3, bucket):
    """Unless told s3v4, boto3 presigns S3 URLs with signature version 2 (AWSAccessKeyId,
    Expires, Signature): Lamina checks those too, for GET, PUT and sub-resources."""
    default = lamina.client("s3", s3={"addressing_style": "path"})
    put_url = default.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "v2.txt"})
    assert "AWSAccessKeyId=" in put_url and "X-Amz-Signature" not in put_url
    # Version 2 signs the Content-Type too (none here): urllib would add its form type.
    assert fetch(put_url, "PUT", b"signed the old way", {"Content-Type": ""})[0] == 200
    get_url = default.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "v2.txt"})
    assert fetch(get_url) == (200, mock.ANY, b"signed the old way")
    tags = default.generate_presigned_url("get_object_tagging", Params={"Bucket": bucket, "Key": "v2.txt"})
    assert fetch(tags)[0] == 200
    status, _, body = fetch(get_url.replace("Signature=", "Signature=x"))
    assert status == 403 and error_fields(body)["Code"] == "SignatureDoesNotMatch"
    expired = default.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "v2.txt"}, ExpiresIn=-10)
    status, _, body = fetch(expired)
    assert status == 403 and error_fields(body)["Message"] == "Request has expired"
