"""Listing objects against a live server with boto3: ListObjects (v1) and ListObjectsV2 with
prefixes, delimiters, common prefixes, paging (markers, continuation tokens, StartAfter),
FetchOwner and EncodingType=url."""

from __future__ import annotations

import itertools

import pytest
from botocore.exceptions import ClientError

_names = itertools.count(1)
KEYS = ["a.txt", "docs/1.md", "docs/2.md", "docs/deep/3.md", "img/x.png", "img/y.png", "z.txt"]


@pytest.fixture(scope="module")
def s3(lamina):
    return lamina.client("s3", s3={"addressing_style": "path"})


@pytest.fixture(scope="module")
def bucket(s3):
    name = f"listing-{next(_names)}-lamina"
    s3.create_bucket(Bucket=name)
    for key in KEYS:
        s3.put_object(Bucket=name, Key=key, Body=key.encode())
    yield name
    s3.delete_objects(Bucket=name, Delete={"Objects": [{"Key": key} for key in KEYS]})
    s3.delete_bucket(Bucket=name)


def test_v2_everything_and_by_prefix(s3, bucket):
    listed = s3.list_objects_v2(Bucket=bucket)
    assert [c["Key"] for c in listed["Contents"]] == KEYS
    assert listed["KeyCount"] == len(KEYS) and listed["IsTruncated"] is False and listed["MaxKeys"] == 1000
    first = listed["Contents"][0]
    assert first["Size"] == len("a.txt") and first["StorageClass"] == "STANDARD" and "Owner" not in first
    assert first["ChecksumAlgorithm"] == ["CRC32"]  # boto3 sends one by default
    assert [c["Key"] for c in s3.list_objects_v2(Bucket=bucket, Prefix="docs/")["Contents"]] == KEYS[1:4]
    assert s3.list_objects_v2(Bucket=bucket, Prefix="none/")["KeyCount"] == 0
    assert "Owner" in s3.list_objects_v2(Bucket=bucket, FetchOwner=True)["Contents"][0]


def test_delimiters_and_common_prefixes(s3, bucket):
    listed = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [c["Key"] for c in listed["Contents"]] == ["a.txt", "z.txt"]
    assert listed["CommonPrefixes"] == [{"Prefix": "docs/"}, {"Prefix": "img/"}]
    assert listed["KeyCount"] == 4 and listed["Delimiter"] == "/"
    nested = s3.list_objects_v2(Bucket=bucket, Prefix="docs/", Delimiter="/")
    assert [c["Key"] for c in nested["Contents"]] == ["docs/1.md", "docs/2.md"]
    assert nested["CommonPrefixes"] == [{"Prefix": "docs/deep/"}]
    v1 = s3.list_objects(Bucket=bucket, Delimiter="/")
    assert [c["Key"] for c in v1["Contents"]] == ["a.txt", "z.txt"] and "Owner" in v1["Contents"][0]
    assert v1["CommonPrefixes"] == [{"Prefix": "docs/"}, {"Prefix": "img/"}]
    dotted = s3.list_objects_v2(Bucket=bucket, Delimiter=".")
    assert dotted["CommonPrefixes"] == [{"Prefix": "a."}, {"Prefix": "docs/1."}, {"Prefix": "docs/2."},
                                        {"Prefix": "docs/deep/3."}, {"Prefix": "img/x."}, {"Prefix": "img/y."},
                                        {"Prefix": "z."}]  # fmt: skip


def test_v2_paging(s3, bucket):
    seen, token, pages = [], None, 0
    while True:
        page = s3.list_objects_v2(
            Bucket=bucket, Delimiter="/", MaxKeys=1, **({"ContinuationToken": token} if token else {})
        )
        pages += 1
        assert page["KeyCount"] == 1
        seen += [c["Key"] for c in page.get("Contents", [])] + [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
        assert page.get("ContinuationToken") in (None, seen and page.get("ContinuationToken"))
    assert seen == ["a.txt", "docs/", "img/", "z.txt"] and pages == 4
    after = s3.list_objects_v2(Bucket=bucket, StartAfter="docs/2.md")
    assert [c["Key"] for c in after["Contents"]] == KEYS[3:] and after["StartAfter"] == "docs/2.md"
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, PaginationConfig={"PageSize": 2})
    paged = [c["Key"] for p in pages for c in p["Contents"]]
    assert paged == KEYS
    with pytest.raises(ClientError) as caught:
        s3.list_objects_v2(Bucket=bucket, ContinuationToken="garbage")
    assert caught.value.response["Error"]["Code"] == "InvalidArgument"


def test_v1_paging_markers(s3, bucket):
    page = s3.list_objects(Bucket=bucket, MaxKeys=3)
    assert [c["Key"] for c in page["Contents"]] == KEYS[:3]
    assert page["IsTruncated"] is True and "NextMarker" not in page  # only with a delimiter
    rest = s3.list_objects(Bucket=bucket, Marker=page["Contents"][-1]["Key"])
    assert [c["Key"] for c in rest["Contents"]] == KEYS[3:] and rest["Marker"] == KEYS[2]
    grouped = s3.list_objects(Bucket=bucket, Delimiter="/", MaxKeys=2)
    assert grouped["NextMarker"] == "docs/"
    more = s3.list_objects(Bucket=bucket, Delimiter="/", Marker=grouped["NextMarker"])
    assert more["CommonPrefixes"] == [{"Prefix": "img/"}] and [c["Key"] for c in more["Contents"]] == ["z.txt"]
    pages = s3.get_paginator("list_objects").paginate(Bucket=bucket, PaginationConfig={"PageSize": 2})
    paged = [c["Key"] for p in pages for c in p["Contents"]]
    assert paged == KEYS
    assert s3.list_objects(Bucket=bucket, MaxKeys=0).get("Contents") is None


def test_url_encoding_of_keys(s3, bucket):
    # botocore asks for EncodingType=url and decodes: the keys come back as they were.
    odd = ["sp ace/plus+/x", "uni/ü é", "amp&/q?"]
    for key in odd:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    try:
        listed = s3.list_objects_v2(Bucket=bucket, Prefix="sp ace/", Delimiter="/")
        assert listed["CommonPrefixes"] == [{"Prefix": "sp ace/plus+/"}] and listed["Prefix"] == "sp ace/"
        keys = [c["Key"] for c in s3.list_objects(Bucket=bucket)["Contents"]]
        assert all(key in keys for key in odd)
        raw = s3.list_objects_v2(Bucket=bucket, Prefix="uni/", EncodingType="url")
        assert raw["Contents"][0]["Key"] == "uni/%C3%BC+%C3%A9"  # asked for: left encoded
    finally:
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key} for key in odd]})
