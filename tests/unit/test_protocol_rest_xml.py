"""The rest-xml protocol (protocol/rest_xml.py) against botocore, both ways: botocore writes
S3 requests that Lamina reads back as they were given; Lamina's answers and errors botocore
reads back as the service gave them."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from xml.etree import ElementTree

import pytest
from botocore.parsers import create_parser
from botocore.response import StreamingBody
from urllib3._collections import HTTPHeaderDict

from lamina.errors import ServiceError
from lamina.protocol import parsers, serializers
from lamina.protocol.messages import Response
from lamina.protocol.rest_xml import S3_NAMESPACE
from lamina.protocol.router import Router

from .test_protocol_requests import wire_request

WHEN = datetime(2026, 12, 8, 10, 11, 12, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(["s3"])


def parsed(router: Router, operation: str, params: dict) -> dict:
    request = wire_request("s3", operation, params)
    resolved = router.resolve(request)
    assert resolved.operation.name == operation
    return parsers.parse(resolved, request)


def read_body(body) -> bytes:
    """An object's bytes as the service reads them (protocol/bodies.py's Body)."""
    return asyncio.run(body.read())


def answered(router: Router, operation: str, result: dict | None = None, error: ServiceError | None = None) -> dict:
    spec = router.specs["s3"]
    op = spec.model.operation_model(operation)
    if error is not None:
        response = serializers.serialize_error(spec, error, "rid")
    else:
        response = serializers.serialize(spec, op, result, "rid")
    return botocore_reads(op, response, spec.protocol)


def botocore_reads(op, response: Response, protocol: str) -> dict:
    headers = HTTPHeaderDict()
    for name, value in response.headers:
        headers.add(name, value)
    body = response.body
    if response.stream is not None:

        async def drain() -> bytes:
            return b"".join([chunk async for chunk in response.stream])

        body = asyncio.run(drain())
    if op.has_streaming_output and response.status < 300:
        import io

        body = StreamingBody(io.BytesIO(body), len(body))
    response_dict = {"status_code": response.status, "headers": headers, "body": body, "context": {}}
    return create_parser(protocol).parse(response_dict, op.output_shape)


def test_put_object_members_in_path_headers_and_body(router):
    params = parsed(
        router,
        "PutObject",
        {
            "Bucket": "photos",
            "Key": "2026/a b+c.jpg",
            "Body": b"\x00\x01bytes",
            "ContentType": "image/jpeg",
            "Metadata": {"owner": "ann"},
            "Tagging": "a=1&b=2",
            "CacheControl": "max-age=60",
        },
    )
    assert params["Bucket"] == "photos" and params["Key"] == "2026/a b+c.jpg"
    assert read_body(params["Body"]) == b"\x00\x01bytes"
    assert params["ContentType"] == "image/jpeg"
    assert params["Metadata"] == {"owner": "ann"}
    assert params["Tagging"] == "a=1&b=2" and params["CacheControl"] == "max-age=60"


def test_xml_payloads_read_back(router):
    params = parsed(
        router,
        "DeleteObjects",
        {"Bucket": "b", "Delete": {"Objects": [{"Key": "x"}, {"Key": "y", "VersionId": "v1"}], "Quiet": True}},
    )
    assert params["Delete"] == {"Objects": [{"Key": "x"}, {"Key": "y", "VersionId": "v1"}], "Quiet": True}
    params = parsed(
        router,
        "CreateBucket",
        {"Bucket": "b", "CreateBucketConfiguration": {"LocationConstraint": "eu-north-1"}},
    )
    assert params["CreateBucketConfiguration"] == {"LocationConstraint": "eu-north-1"}
    params = parsed(
        router,
        "PutBucketTagging",
        {"Bucket": "b", "Tagging": {"TagSet": [{"Key": "team", "Value": "data"}]}},
    )
    assert params["Tagging"] == {"TagSet": [{"Key": "team", "Value": "data"}]}


def test_an_acl_grantee_with_its_xsi_type_attribute(router):
    policy = {
        "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": "abc"}, "Permission": "READ"}],
        "Owner": {"ID": "abc"},
    }
    params = parsed(router, "PutBucketAcl", {"Bucket": "b", "AccessControlPolicy": policy})
    assert params["AccessControlPolicy"] == policy
    assert answered(router, "GetBucketAcl", policy)["Grants"] == policy["Grants"]


def test_query_members_and_the_operation_the_query_names(router):
    params = parsed(router, "ListObjectsV2", {"Bucket": "b", "Prefix": "a/", "Delimiter": "/", "MaxKeys": 5})
    assert params == {"Bucket": "b", "Prefix": "a/", "Delimiter": "/", "MaxKeys": 5}
    assert parsed(router, "GetObjectTagging", {"Bucket": "b", "Key": "k"}) == {"Bucket": "b", "Key": "k"}


def test_list_objects_answer(router):
    result = {
        "IsTruncated": True,
        "Name": "b",
        "Prefix": "a/",
        "KeyCount": 1,
        "MaxKeys": 1,
        "NextContinuationToken": "t",
        "Contents": [{"Key": "a/1", "LastModified": WHEN, "ETag": '"e"', "Size": 3, "StorageClass": "STANDARD"}],
        "CommonPrefixes": [{"Prefix": "a/b/"}],
    }
    read = answered(router, "ListObjectsV2", result)
    read.pop("ResponseMetadata")
    assert read == result


def test_result_elements_and_namespace_as_s3_writes_them(router):
    spec = router.specs["s3"]
    response = serializers.serialize(spec, spec.model.operation_model("ListBuckets"), {"Buckets": []}, "rid")
    root = ElementTree.fromstring(response.body)
    assert root.tag == "{http://s3.amazonaws.com/doc/2006-03-01/}ListAllMyBucketsResult"
    assert ("x-amz-request-id", "rid") in response.headers
    response = serializers.serialize(
        spec, spec.model.operation_model("CreateMultipartUpload"), {"Bucket": "b", "Key": "k", "UploadId": "u"}, "r"
    )
    assert ElementTree.fromstring(response.body).tag.endswith("InitiateMultipartUploadResult")


def test_get_object_headers_and_a_streamed_body(router):
    async def chunks():
        yield b"hello "
        yield b"world"

    result = {
        "Body": chunks(),
        "ContentLength": 11,
        "ContentType": "text/plain",
        "ETag": '"abc"',
        "LastModified": WHEN,
        "Metadata": {"owner": "ann"},
        "VersionId": "v1",
    }
    read = answered(router, "GetObject", result)
    assert read["Body"].read() == b"hello world"
    assert read["ContentLength"] == 11 and read["ContentType"] == "text/plain"
    assert read["LastModified"] == WHEN and read["Metadata"] == {"owner": "ann"}
    assert read["VersionId"] == "v1"


def test_a_body_had_whole_is_not_given_two_lengths(router):
    spec = router.specs["s3"]
    response = serializers.serialize(
        spec, spec.model.operation_model("GetObject"), {"Body": b"abc", "ContentLength": 3}, "rid"
    )
    assert response.body == b"abc"
    assert [name for name, _ in response.headers if name.lower() == "content-length"] == []


def test_bucket_location_is_the_roots_text(router):
    # botocore's S3 client reads it from the root's text (its parse_get_bucket_location hook).
    spec = router.specs["s3"]
    op = spec.model.operation_model("GetBucketLocation")
    root = ElementTree.fromstring(serializers.serialize(spec, op, {"LocationConstraint": "eu-north-1"}, "r").body)
    assert (root.tag, root.text) == (f"{{{S3_NAMESPACE}}}LocationConstraint", "eu-north-1")


def test_copy_object_is_told_from_put_object_by_its_header(router):
    params = parsed(router, "CopyObject", {"Bucket": "b", "Key": "k", "CopySource": "src/key"})
    assert params["CopySource"] == "src/key"
    assert read_body(parsed(router, "PutObject", {"Bucket": "b", "Key": "k", "Body": b"x"})["Body"]) == b"x"
    assert parsed(
        router, "UploadPartCopy", {"Bucket": "b", "Key": "k", "CopySource": "s/k", "PartNumber": 1, "UploadId": "u"}
    )


def test_s3_errors_are_bare_error_elements(router):
    error = ServiceError("NoSuchKey", "The specified key does not exist.", 404, Key="a/b")
    read = answered(router, "GetObject", error=error)
    assert read["Error"]["Code"] == "NoSuchKey"
    assert read["Error"]["Message"] == "The specified key does not exist."
    assert read["ResponseMetadata"]["HTTPStatusCode"] == 404
    spec = router.specs["s3"]
    body = serializers.serialize_error(spec, error, "rid").body
    root = ElementTree.fromstring(body)
    assert root.tag == "Error" and root.findtext("Key") == "a/b" and root.findtext("RequestId") == "rid"


def test_malformed_xml_is_s3s_malformed_xml(router):
    request = wire_request("s3", "PutBucketTagging", {"Bucket": "b", "Tagging": {"TagSet": []}})
    request.body = b"<Tagging><TagSet>"
    with pytest.raises(ServiceError) as raised:
        parsers.parse(router.resolve(request), request)
    assert raised.value.code == "MalformedXML"


def test_virtual_hosted_requests_name_the_bucket_in_the_host(router):
    request = wire_request("s3", "GetObject", {"Bucket": "photos", "Key": "2026/a.jpg"}, sign=False)
    request.headers["host"] = "photos.s3.localhost:4566"
    request.raw_path = request.path = "/2026/a.jpg"
    resolved = router.resolve(request)
    assert resolved.operation.name == "GetObject"
    assert parsers.parse(resolved, request) == {"Bucket": "photos", "Key": "2026/a.jpg"}
    request = wire_request("s3", "ListObjectsV2", {"Bucket": "my.photos"}, sign=False)
    request.headers["host"] = "my.photos.s3.eu-north-1.localhost"
    request.raw_path = request.path = "/"
    assert router.resolve(request).operation.name == "ListObjectsV2"
    assert router.resolve(request).labels == {"Bucket": "my.photos"}
