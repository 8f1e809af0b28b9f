"""S3 versioning against a live server with boto3: versions and delete markers, reads of a
version and of a marker, suspension's "null" versions, ListObjectVersions with its paging."""

from __future__ import annotations

import itertools

import pytest
from botocore.exceptions import ClientError

from tests.conftest import remove_bucket

_names = itertools.count(1)


@pytest.fixture(scope="module")
def s3(lamina):
    return lamina.client("s3", s3={"addressing_style": "path"})


@pytest.fixture
def bucket(s3):
    name = f"versions-{next(_names)}-lamina"
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    yield name
    remove_bucket(s3, name)


def refused(call, **kwargs) -> dict:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response


def test_versions_and_delete_markers(s3, bucket):
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"two")["VersionId"]
    assert v1 != v2 and len(v1) == 32
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"two" and got["VersionId"] == v2
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=v1)["Body"].read() == b"one"
    assert s3.head_object(Bucket=bucket, Key="k", VersionId=v1)["VersionId"] == v1
    deleted = s3.delete_object(Bucket=bucket, Key="k")
    assert deleted["DeleteMarker"] is True
    marker = deleted["VersionId"]
    # The latest is a marker: NoSuchKey, saying so in its headers.
    error = refused(s3.get_object, Bucket=bucket, Key="k")
    assert error["Error"]["Code"] == "NoSuchKey"
    headers = error["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amz-delete-marker"] == "true" and headers["x-amz-version-id"] == marker
    head = refused(s3.head_object, Bucket=bucket, Key="k")
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    # Naming the marker: 405.
    error = refused(s3.get_object, Bucket=bucket, Key="k", VersionId=marker)
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 405
    assert error["Error"] == {
        "Code": "MethodNotAllowed",
        "Message": "The specified method is not allowed against this resource.",
        "Method": "GET",
        "ResourceType": "DeleteMarker",
    }
    assert error["ResponseMetadata"]["HTTPHeaders"]["allow"] == "DELETE"
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=v2)["Body"].read() == b"two"
    listed = s3.list_objects_v2(Bucket=bucket)
    assert listed["KeyCount"] == 0
    # Removing the marker brings the object back.
    removed = s3.delete_object(Bucket=bucket, Key="k", VersionId=marker)
    assert removed["DeleteMarker"] is True and removed["VersionId"] == marker
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"two"
    s3.delete_object(Bucket=bucket, Key="k", VersionId=v2)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"one"
    error = refused(s3.get_object, Bucket=bucket, Key="k", VersionId=v2)["Error"]
    assert error == {
        "Code": "NoSuchVersion",
        "Message": "The specified version does not exist.",
        "Key": "k",
        "VersionId": v2,
    }


def test_list_object_versions(s3, bucket):
    ids = {}
    for key in ("a", "b/1", "b/2", "c"):
        ids[key] = [s3.put_object(Bucket=bucket, Key=key, Body=key.encode() * n)["VersionId"] for n in (1, 2)]
    marker = s3.delete_object(Bucket=bucket, Key="c")["VersionId"]
    listed = s3.list_object_versions(Bucket=bucket)
    versions = [(v["Key"], v["VersionId"], v["IsLatest"]) for v in listed["Versions"]]
    assert versions == [
        ("a", ids["a"][1], True),
        ("a", ids["a"][0], False),
        ("b/1", ids["b/1"][1], True),
        ("b/1", ids["b/1"][0], False),
        ("b/2", ids["b/2"][1], True),
        ("b/2", ids["b/2"][0], False),
        ("c", ids["c"][1], False),
        ("c", ids["c"][0], False),
    ]
    assert [(m["Key"], m["VersionId"], m["IsLatest"]) for m in listed["DeleteMarkers"]] == [("c", marker, True)]
    assert listed["Versions"][0]["Size"] == 2 and listed["Versions"][0]["ETag"].startswith('"')
    assert listed["Versions"][0]["Owner"]["ID"]
    grouped = s3.list_object_versions(Bucket=bucket, Delimiter="/")
    assert grouped["CommonPrefixes"] == [{"Prefix": "b/"}]
    assert [v["Key"] for v in grouped["Versions"]] == ["a", "a", "c", "c"]
    prefixed = s3.list_object_versions(Bucket=bucket, Prefix="b/")
    assert [v["Key"] for v in prefixed["Versions"]] == ["b/1", "b/1", "b/2", "b/2"]
    # Paging by three: key and version id markers.
    seen, key_marker, version_marker = [], None, None
    pages = 0
    while True:
        more = {"KeyMarker": key_marker} if key_marker else {}
        if version_marker:
            more["VersionIdMarker"] = version_marker
        page = s3.list_object_versions(Bucket=bucket, MaxKeys=3, **more)
        pages += 1
        entries = page.get("Versions", []) + page.get("DeleteMarkers", [])
        assert len(entries) <= 3
        seen += [(e["Key"], e["VersionId"]) for e in entries]
        if not page["IsTruncated"]:
            break
        key_marker, version_marker = page["NextKeyMarker"], page.get("NextVersionIdMarker")
    assert pages == 3
    everything = [(v["Key"], v["VersionId"]) for v in listed["Versions"] + listed["DeleteMarkers"]]
    assert sorted(seen) == sorted(everything) and len(seen) == len(everything)
    paginated = [
        v["VersionId"] for p in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, MaxKeys=2)
        for v in p.get("Versions", []) + p.get("DeleteMarkers", [])
    ]  # fmt: skip
    assert sorted(paginated) == sorted(v for _, v in everything)
    error = refused(s3.list_object_versions, Bucket=bucket, VersionIdMarker=ids["a"][0])["Error"]
    assert error["Code"] == "InvalidArgument"
    assert error["Message"] == "A version-id marker cannot be specified without a key marker."


def test_suspended_versioning_writes_null_versions(s3, bucket):
    kept = s3.put_object(Bucket=bucket, Key="s", Body=b"versioned")["VersionId"]
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    first = s3.put_object(Bucket=bucket, Key="s", Body=b"null one")
    assert first["VersionId"] == "null"
    s3.put_object(Bucket=bucket, Key="s", Body=b"null two")
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert [(v["VersionId"], v["IsLatest"]) for v in versions] == [("null", True), (kept, False)]
    assert s3.get_object(Bucket=bucket, Key="s", VersionId="null")["Body"].read() == b"null two"
    deleted = s3.delete_object(Bucket=bucket, Key="s")
    assert deleted["DeleteMarker"] is True and deleted["VersionId"] == "null"
    listed = s3.list_object_versions(Bucket=bucket)
    assert [v["VersionId"] for v in listed["Versions"]] == [kept]
    assert [m["VersionId"] for m in listed["DeleteMarkers"]] == ["null"]


def test_an_unversioned_bucket_keeps_one_null_version(s3):
    name = f"plain-{next(_names)}-lamina"
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="p", Body=b"1")
    s3.put_object(Bucket=name, Key="p", Body=b"2")
    versions = s3.list_object_versions(Bucket=name)["Versions"]
    assert [(v["VersionId"], v["IsLatest"]) for v in versions] == [("null", True)]
    assert "VersionId" not in s3.get_object(Bucket=name, Key="p")
    assert "DeleteMarker" not in s3.delete_object(Bucket=name, Key="p")
    assert "Versions" not in s3.list_object_versions(Bucket=name)
    s3.delete_bucket(Bucket=name)
