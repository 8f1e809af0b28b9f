"""S3's lifecycle configuration against a live server with boto3 (path-style): Put/Get/
DeleteBucketLifecycleConfiguration with S3's refusals, x-amz-expiration on the objects a
rule will expire, and the sweep doing it on the server's timers (a short
LAMINA_S3_LIFECYCLE_INTERVAL; an Expiration Date already past). Days counted to the next
midnight, noncurrent versions, expired delete markers and the LifecycleExpiration events are
the unit tests' (tests/unit/test_s3_lifecycle.py, with the sweep's clock moved)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tests.conftest import LaminaServer

    server = LaminaServer(
        str(tmp_path_factory.mktemp("s3-lifecycle")), env={"LAMINA_S3_LIFECYCLE_INTERVAL": "0.3"}
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def s3(server):
    return server.client("s3", s3={"addressing_style": "path"})


def _error(call, **kwargs) -> dict:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response = caught.value.response
    return {**response["Error"], "Status": response["ResponseMetadata"]["HTTPStatusCode"]}


def _midnight(days_from_today: int) -> datetime:
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=days_from_today)


def test_put_get_delete_and_refusals(s3):
    s3.create_bucket(Bucket="lc-config")
    assert _error(s3.get_bucket_lifecycle_configuration, Bucket="lc-config") == {
        "Code": "NoSuchLifecycleConfiguration",
        "Message": "The lifecycle configuration does not exist",
        "BucketName": "lc-config",
        "Status": 404,
    }
    rules = [
        {
            "ID": "logs",
            "Status": "Enabled",
            "Filter": {"And": {"Prefix": "logs/", "Tags": [{"Key": "a", "Value": "b"}], "ObjectSizeGreaterThan": 10}},
            "Expiration": {"Days": 30},
            "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}],
            "NoncurrentVersionExpiration": {"NoncurrentDays": 7, "NewerNoncurrentVersions": 2},
        },
        {
            "ID": "uploads",
            "Status": "Disabled",
            "Filter": {"Prefix": "up/"},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 3},
            "Expiration": {"Date": _midnight(30)},
        },
    ]
    put = s3.put_bucket_lifecycle_configuration(Bucket="lc-config", LifecycleConfiguration={"Rules": rules})
    assert put["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
    got = s3.get_bucket_lifecycle_configuration(Bucket="lc-config")
    assert got["Rules"] == rules
    assert got["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
    duplicate = [dict(rules[0]), dict(rules[0])]
    error = _error(s3.put_bucket_lifecycle_configuration, Bucket="lc-config",
                   LifecycleConfiguration={"Rules": duplicate})  # fmt: skip
    assert (error["Code"], error["Message"]) == (
        "InvalidArgument",
        "Rule ID must be unique. Found same ID for more than one rule",
    )
    noon = {"ID": "x", "Status": "Enabled", "Filter": {}, "Expiration": {"Date": _midnight(3) + timedelta(hours=12)}}
    error = _error(s3.put_bucket_lifecycle_configuration, Bucket="lc-config",
                   LifecycleConfiguration={"Rules": [noon]})  # fmt: skip
    assert (error["Code"], error["Message"], error["Status"]) == (
        "InvalidArgument",
        "'Date' must be at midnight GMT",
        400,
    )
    assert s3.delete_bucket_lifecycle(Bucket="lc-config")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert _error(s3.get_bucket_lifecycle_configuration, Bucket="lc-config")["Code"] == "NoSuchLifecycleConfiguration"


def test_expiration_header_on_put_get_and_head(s3):
    s3.create_bucket(Bucket="lc-header")
    rules = [{"ID": "tmp-rule", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 2}}]
    s3.put_bucket_lifecycle_configuration(Bucket="lc-header", LifecycleConfiguration={"Rules": rules})
    put = s3.put_object(Bucket="lc-header", Key="tmp/a", Body=b"a")
    # Created today: two days on, rounded up to the next midnight UTC.
    expected = f'expiry-date="{_midnight(3).strftime("%a, %d %b %Y %H:%M:%S GMT")}", rule-id="tmp-rule"'
    assert put["Expiration"] == expected
    assert s3.get_object(Bucket="lc-header", Key="tmp/a")["Expiration"] == expected
    assert s3.head_object(Bucket="lc-header", Key="tmp/a")["Expiration"] == expected
    s3.put_object(Bucket="lc-header", Key="kept/b", Body=b"b")
    assert "Expiration" not in s3.head_object(Bucket="lc-header", Key="kept/b")


def _wait_for(predicate, timeout_s: float = 20.0) -> None:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("not within the time")


def test_the_sweep_expires_on_the_servers_timers(s3):
    s3.create_bucket(Bucket="lc-sweep")
    s3.create_bucket(Bucket="lc-sweep-versioned")
    s3.put_bucket_versioning(Bucket="lc-sweep-versioned", VersioningConfiguration={"Status": "Enabled"})
    for bucket in ("lc-sweep", "lc-sweep-versioned"):
        for key in ("old/a", "old/b", "new/c"):
            s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    # Today's midnight has passed: the rule's objects are due at the next sweep.
    rules = [{"ID": "past", "Status": "Enabled", "Filter": {"Prefix": "old/"}, "Expiration": {"Date": _midnight(0)}}]
    for bucket in ("lc-sweep", "lc-sweep-versioned"):
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})

    def listed(bucket: str) -> list[str]:
        return [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]

    _wait_for(lambda: listed("lc-sweep") == ["new/c"] and listed("lc-sweep-versioned") == ["new/c"])
    # Never versioned: gone. Versioned: a delete marker on top, the version kept behind it.
    assert "Versions" not in s3.list_object_versions(Bucket="lc-sweep", Prefix="old/")
    versions = s3.list_object_versions(Bucket="lc-sweep-versioned", Prefix="old/")
    assert sorted(v["Key"] for v in versions["Versions"]) == ["old/a", "old/b"]
    assert sorted(m["Key"] for m in versions["DeleteMarkers"] if m["IsLatest"]) == ["old/a", "old/b"]
    # A later sweep adds no second marker.
    time.sleep(1)
    assert len(s3.list_object_versions(Bucket="lc-sweep-versioned", Prefix="old/")["DeleteMarkers"]) == 2
