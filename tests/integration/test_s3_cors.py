"""S3's CORS against a live server: Put/Get/DeleteBucketCors (and S3's refusals), the
preflight S3 answers itself for an unsigned OPTIONS on a bucket or an object (path-style and
virtual-hosted), with the Access-Control-* headers of the rule that matches or S3's 403,
and the headers S3 adds to an actual request carrying an allowed Origin."""

from __future__ import annotations

import itertools

import httpx
import pytest
from botocore.exceptions import ClientError

_names = itertools.count(1)
RULES = [
    {
        "ID": "uploads",
        "AllowedOrigins": ["https://*.example.com"],
        "AllowedMethods": ["PUT", "POST"],
        "AllowedHeaders": ["content-type", "x-amz-*"],
        "ExposeHeaders": ["ETag", "x-amz-request-id"],
        "MaxAgeSeconds": 3000,
    },
    {"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "HEAD"]},
]


@pytest.fixture(scope="module")
def s3(lamina):
    return lamina.client("s3", s3={"addressing_style": "path"})


@pytest.fixture
def bucket(s3):
    name = f"cors-{next(_names)}-lamina"
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="dir/file.txt", Body=b"hello")
    yield name
    s3.delete_object(Bucket=name, Key="dir/file.txt")
    s3.delete_bucket(Bucket=name)


def _error(call, **kwargs) -> dict:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response = caught.value.response
    return {**response["Error"], "Status": response["ResponseMetadata"]["HTTPStatusCode"]}


def test_put_get_delete(s3, bucket):
    assert _error(s3.get_bucket_cors, Bucket=bucket) == {
        "Code": "NoSuchCORSConfiguration",
        "Message": "The CORS configuration does not exist",
        "BucketName": bucket,
        "Status": 404,
    }
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == RULES
    assert s3.delete_bucket_cors(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert _error(s3.get_bucket_cors, Bucket=bucket)["Code"] == "NoSuchCORSConfiguration"


@pytest.mark.parametrize(
    ("rule", "code", "message"),
    [
        (
            {"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]},
            "InvalidRequest",
            "Found unsupported HTTP method in CORS config. Unsupported method is PATCH",
        ),
        (
            {"AllowedOrigins": ["https://*.*.example.com"], "AllowedMethods": ["GET"]},
            "InvalidRequest",
            'AllowedOrigin "https://*.*.example.com" can not have more than one wildcard.',
        ),
        (
            {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "AllowedHeaders": ["x-*-*"]},
            "InvalidRequest",
            'AllowedHeader "x-*-*" can not have more than one wildcard.',
        ),
    ],
)
def test_refused_rules(s3, bucket, rule, code, message):
    error = _error(s3.put_bucket_cors, Bucket=bucket, CORSConfiguration={"CORSRules": [rule]})
    assert (error["Code"], error["Message"], error["Status"]) == (code, message, 400)


def test_preflight_answered_by_the_matching_rule(lamina, s3, bucket):
    url = f"{lamina.url}/{bucket}/dir/file.txt"
    asked = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT"}
    # No configuration: S3 says CORS is not enabled.
    answer = httpx.options(url, headers=asked)
    assert answer.status_code == 403
    assert "<Code>AccessForbidden</Code>" in answer.text
    assert "<Message>CORSResponse: CORS is not enabled for this bucket.</Message>" in answer.text
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    answer = httpx.options(url, headers={**asked, "Access-Control-Request-Headers": "Content-Type, X-Amz-Meta-A"})
    assert answer.status_code == 200
    assert answer.content == b""
    headers = answer.headers
    assert headers["access-control-allow-origin"] == "https://app.example.com"
    assert headers["access-control-allow-methods"] == "PUT, POST"
    assert headers["access-control-allow-headers"] == "content-type, x-amz-meta-a"
    assert headers["access-control-expose-headers"] == "ETag, x-amz-request-id"
    assert headers["access-control-max-age"] == "3000"
    assert headers["access-control-allow-credentials"] == "true"
    assert headers["vary"] == "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
    # The wildcard rule: any origin may GET, answered "*" without credentials; on the bucket too.
    answer = httpx.options(
        f"{lamina.url}/{bucket}", headers={"Origin": "http://elsewhere.org", "Access-Control-Request-Method": "GET"}
    )
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in answer.headers


def test_preflight_refused(lamina, s3, bucket):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    url = f"{lamina.url}/{bucket}/dir/file.txt"
    for headers in (
        {"Origin": "http://elsewhere.org", "Access-Control-Request-Method": "PUT"},  # origin
        {"Origin": "https://app.example.com", "Access-Control-Request-Method": "DELETE"},  # method
        {
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "authorization",
        },  # header  # fmt: skip
    ):
        answer = httpx.options(url, headers=headers)
        assert answer.status_code == 403
        assert (
            "<Message>CORSResponse: This CORS request is not allowed. This is usually because the evalution of "
            "Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not "
            "whitelisted by the resource's CORS spec.</Message>"
        ) in answer.text
        assert f"<Method>{headers['Access-Control-Request-Method']}</Method>" in answer.text
        assert "<ResourceType>OBJECT</ResourceType>" in answer.text
    answer = httpx.options(url, headers={"Access-Control-Request-Method": "PUT"})
    assert answer.status_code == 400
    assert "Insufficient information. Origin request header needed." in answer.text
    assert httpx.options(f"{lamina.url}/no-such-{bucket}/x", headers={"Origin": "https://a.example.com",
                         "Access-Control-Request-Method": "GET"}).status_code == 404  # fmt: skip


def test_preflight_virtual_hosted(lamina, s3, bucket):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    answer = httpx.options(
        f"{lamina.url}/dir/file.txt",
        headers={
            "Host": f"{bucket}.s3.localhost:{lamina.port}",
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": "POST",
        },
    )
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "https://app.example.com"


def test_actual_requests_carry_the_headers(lamina, s3, bucket):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    # A signed GET with an Origin (a browser's, with credentials from elsewhere) through boto3.
    events = s3.meta.events
    seen: dict = {}

    def add_origin(request, **_):
        request.headers["Origin"] = "https://app.example.com"

    def keep(http_response, **_):
        seen.update(http_response.headers)

    events.register("before-sign.s3.GetObject", add_origin)
    events.register("after-call.s3.GetObject", keep)
    try:
        assert s3.get_object(Bucket=bucket, Key="dir/file.txt")["Body"].read() == b"hello"
    finally:
        events.unregister("before-sign.s3.GetObject", add_origin)
        events.unregister("after-call.s3.GetObject", keep)
    headers = {k.lower(): v for k, v in seen.items()}
    assert headers["access-control-allow-origin"] == "*"  # the GET rule: any origin
    assert headers["access-control-allow-methods"] == "GET, HEAD"
    assert headers["vary"] == "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
    # Without an Origin, or from an origin no rule allows for the method, none of it.
    plain = httpx.get(f"{lamina.url}/_lamina/health")
    assert "access-control-allow-origin" not in plain.headers
    put_seen: dict = {}

    def add_other_origin(request, **_):
        request.headers["Origin"] = "http://elsewhere.org"

    def keep_put(http_response, **_):
        put_seen.update({k.lower(): v for k, v in http_response.headers.items()})

    events.register("before-sign.s3.PutObject", add_other_origin)
    events.register("after-call.s3.PutObject", keep_put)
    try:
        s3.put_object(Bucket=bucket, Key="dir/file.txt", Body=b"hello")
    finally:
        events.unregister("before-sign.s3.PutObject", add_other_origin)
        events.unregister("after-call.s3.PutObject", keep_put)
    assert "access-control-allow-origin" not in put_seen
