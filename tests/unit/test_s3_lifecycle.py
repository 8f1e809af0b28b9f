"""S3's lifecycle with its real parts (the SQLite store, files in a temporary directory) and
the sweep's clock moved by the test: S3's count of days (creation + Days, rounded up to the
next midnight UTC), expiration in a bucket never versioned and in a versioned one, noncurrent
versions past NewerNoncurrentVersions, expired delete markers, filters by prefix, tag and
size, Expiration by Date, x-amz-expiration, the events lifecycle's deletes are told as, and
the configuration kept across a restart."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest

from lamina.errors import ServiceError
from lamina.services.context import RequestContext
from lamina.services.s3 import S3Service
from lamina.services.s3.lifecycle import midnight_after
from lamina.store.sqlite import SQLiteStore

CTX = RequestContext(account_id="000000000000", region="us-east-1", request_id="r", endpoint_url="http://x")
DAY = 86400


def utc(*parts: int) -> float:
    return datetime(*parts, tzinfo=timezone.utc).timestamp()


def test_days_are_counted_as_s3_counts_them():
    # Created 10:30 on Jan 1 with Days=1: Jan 2 10:30, rounded up to Jan 3 00:00 UTC.
    assert midnight_after(utc(2024, 1, 1, 10, 30), 1) == utc(2024, 1, 3)
    assert midnight_after(utc(2024, 1, 1), 1) == utc(2024, 1, 2)
    assert midnight_after(utc(2024, 1, 31, 23, 59), 30) == utc(2024, 3, 2)


class Harness:
    def __init__(self, tmp_path) -> None:
        self.tmp_path = tmp_path
        self.events: list[tuple[str, str]] = []

    async def open(self) -> S3Service:
        self.store = SQLiteStore(str(self.tmp_path / "lamina.db"))
        s3 = S3Service(self.store, str(self.tmp_path / "s3"))
        await s3.start()

        async def listen(event) -> None:
            self.events.append((event.name, event.key))

        s3.events = listen
        return s3

    async def close(self, s3: S3Service) -> None:
        await s3.stop()
        await self.store.close()


async def put(s3: S3Service, bucket: str, key: str, body: bytes = b"x", tagging: str | None = None) -> dict:
    params = {"Bucket": bucket, "Key": key, "Body": body}
    if tagging:
        params["Tagging"] = tagging
    return await s3.put_object(params, CTX)


def keys(s3: S3Service, bucket: str) -> dict[str, list[str]]:
    """key -> its versions, oldest first ("M" for a delete marker, else the body's version id)."""
    found = s3.state.bucket(bucket)
    return {k: ["M" if v.delete_marker else v.version_id for v in vs] for k, vs in found.objects.items()}


async def lifecycle(s3: S3Service, bucket: str, *rules: dict) -> None:
    await s3.put_bucket_lifecycle_configuration(
        {"Bucket": bucket, "LifecycleConfiguration": {"Rules": list(rules)}}, CTX
    )


def test_expiration_in_a_bucket_never_versioned(tmp_path):
    harness = Harness(tmp_path)

    async def scenario() -> None:
        s3 = await harness.open()
        await s3.create_bucket({"Bucket": "plain"}, CTX)
        await put(s3, "plain", "tmp/a")
        await put(s3, "plain", "keep/b")
        await lifecycle(s3, "plain", {"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
                                      "Expiration": {"Days": 1}})  # fmt: skip
        created = s3.state.bucket("plain").latest("tmp/a").last_modified
        due = midnight_after(created, 1)
        # x-amz-expiration names the day and the rule.
        head = s3.finish("HeadObject", {"Bucket": "plain", "Key": "tmp/a"}, CTX, {})
        stamp = datetime.fromtimestamp(due, timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")
        assert head["Expiration"] == f'expiry-date="{stamp}", rule-id="tmp"'
        assert "Expiration" not in s3.finish("HeadObject", {"Bucket": "plain", "Key": "keep/b"}, CTX, {})
        assert await s3.lifecycle.run(now=due - 1) == 0
        assert await s3.lifecycle.run(now=due) == 1
        assert list(keys(s3, "plain")) == ["keep/b"]
        assert harness.events[-1] == ("LifecycleExpiration:Delete", "tmp/a")
        await harness.close(s3)

    asyncio.run(scenario())


def test_versioned_expiration_noncurrent_versions_and_expired_markers(tmp_path):
    harness = Harness(tmp_path)

    async def scenario() -> None:
        s3 = await harness.open()
        await s3.create_bucket({"Bucket": "versioned"}, CTX)
        await s3.put_bucket_versioning({"Bucket": "versioned", "VersioningConfiguration": {"Status": "Enabled"}}, CTX)
        ids = [(await put(s3, "versioned", "doc", f"v{i}".encode()))["VersionId"] for i in range(3)]
        await put(s3, "versioned", "lonely")
        lonely = s3.state.bucket("versioned").latest("lonely")
        await s3.delete_object({"Bucket": "versioned", "Key": "lonely"}, CTX)
        await s3.delete_object({"Bucket": "versioned", "Key": "lonely", "VersionId": lonely.version_id}, CTX)
        assert keys(s3, "versioned") == {"doc": ids, "lonely": ["M"]}
        await lifecycle(
            s3,
            "versioned",
            {
                "ID": "old",
                "Status": "Enabled",
                "Filter": {"Prefix": "doc"},
                "NoncurrentVersionExpiration": {"NoncurrentDays": 1, "NewerNoncurrentVersions": 1},
            },  # fmt: skip
            {
                "ID": "markers",
                "Status": "Enabled",
                "Filter": {"Prefix": "lonely"},
                "Expiration": {"ExpiredObjectDeleteMarker": True},
            },  # fmt: skip
        )
        now = s3.state.bucket("versioned").latest("doc").last_modified
        harness.events.clear()
        # The marker with nothing behind it goes at once; the noncurrent versions wait a day.
        assert await s3.lifecycle.run(now=now) == 1
        assert keys(s3, "versioned") == {"doc": ids}
        # A day on: the oldest noncurrent version goes, the newest noncurrent one is kept.
        assert await s3.lifecycle.run(now=now + 2 * DAY) == 1
        assert keys(s3, "versioned") == {"doc": ids[1:]}
        assert harness.events == [("LifecycleExpiration:Delete", "lonely"), ("LifecycleExpiration:Delete", "doc")]
        # Expiring the current version of a versioned bucket adds a delete marker, once.
        await lifecycle(s3, "versioned", {"ID": "all", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}})
        assert await s3.lifecycle.run(now=now + 3 * DAY) == 1
        assert keys(s3, "versioned") == {"doc": [*ids[1:], "M"]}
        assert harness.events[-1] == ("LifecycleExpiration:DeleteMarkerCreated", "doc")
        assert await s3.lifecycle.run(now=now + 4 * DAY) == 0
        await harness.close(s3)

    asyncio.run(scenario())


def test_filters_dates_disabled_rules_and_a_restart(tmp_path):
    harness = Harness(tmp_path)

    async def scenario() -> None:
        s3 = await harness.open()
        await s3.create_bucket({"Bucket": "filtered"}, CTX)
        await put(s3, "filtered", "a/small", b"x", tagging="kind=log")
        await put(s3, "filtered", "a/big", b"x" * 100, tagging="kind=log")
        await put(s3, "filtered", "a/other", b"x", tagging="kind=data")
        await put(s3, "filtered", "b/small", b"x", tagging="kind=log")
        await lifecycle(
            s3,
            "filtered",
            {
                "ID": "logs",
                "Status": "Enabled",
                "Expiration": {"Date": datetime(2020, 1, 1, tzinfo=timezone.utc)},
                "Filter": {
                    "And": {"Prefix": "a/", "Tags": [{"Key": "kind", "Value": "log"}], "ObjectSizeLessThan": 50}
                },
            },  # fmt: skip
            {"ID": "off", "Status": "Disabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}},
        )
        await harness.close(s3)
        s3 = await harness.open()  # the configuration is in the store
        got = await s3.get_bucket_lifecycle_configuration({"Bucket": "filtered"}, CTX)
        assert [rule["ID"] for rule in got["Rules"]] == ["logs", "off"]
        assert got["Rules"][0]["Expiration"]["Date"] == utc(2020, 1, 1)
        assert await s3.lifecycle.run() == 1
        assert sorted(keys(s3, "filtered")) == ["a/big", "a/other", "b/small"]
        await s3.delete_bucket_lifecycle({"Bucket": "filtered"}, CTX)
        with pytest.raises(ServiceError) as caught:
            await s3.get_bucket_lifecycle_configuration({"Bucket": "filtered"}, CTX)
        assert caught.value.code == "NoSuchLifecycleConfiguration"
        await harness.close(s3)

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("rule", "code", "message"),
    [
        ({"Status": "Enabled", "Filter": {}, "Expiration": {"Days": 0}}, "InvalidArgument",
         "'Days' for Expiration action must be a positive integer"),
        ({"Status": "Enabled", "Filter": {}, "Expiration": {"Date": datetime(2030, 1, 1, 12, tzinfo=timezone.utc)}},
         "InvalidArgument", "'Date' must be at midnight GMT"),
        ({"Status": "Enabled", "Filter": {}}, "InvalidRequest", "At least one action needs to be specified in a rule"),
        ({"Status": "Maybe", "Filter": {}, "Expiration": {"Days": 1}}, "MalformedXML", None),
        ({"Status": "Enabled", "Expiration": {"Days": 1}}, "MalformedXML", None),
        ({"Status": "Enabled", "Filter": {"Prefix": "a", "Tag": {"Key": "k", "Value": "v"}},
          "Expiration": {"Days": 1}}, "MalformedXML", None),
        ({"Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1, "ExpiredObjectDeleteMarker": True}},
         "InvalidArgument",
         "ExpiredObjectDeleteMarker cannot be specified with Days or Date in a Lifecycle Expiration Policy."),
        ({"Status": "Enabled", "Filter": {"Tag": {"Key": "k", "Value": "v"}},
          "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
         "InvalidRequest", "AbortIncompleteMultipartUpload cannot be specified with Tags."),
        ({"Status": "Enabled", "Filter": {}, "NoncurrentVersionExpiration": {"NoncurrentDays": 0}},
         "InvalidArgument", "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer"),
        ({"Status": "Enabled", "Filter": {}, "Transitions": [{"Days": 10, "StorageClass": "STANDARD_IA"}]},
         "InvalidArgument",
         "'Days' in Transition action must be greater than or equal to 30 for storageClass 'STANDARD_IA'"),
    ],
)  # fmt: skip
def test_refused_rules(tmp_path, rule, code, message):
    harness = Harness(tmp_path)

    async def scenario() -> ServiceError:
        s3 = await harness.open()
        await s3.create_bucket({"Bucket": "checked"}, CTX)
        try:
            with pytest.raises(ServiceError) as caught:
                await lifecycle(s3, "checked", rule)
        finally:
            await harness.close(s3)
        return caught.value

    error = asyncio.run(scenario())
    assert (error.code, error.status) == (code, 400)
    if message is not None:
        assert error.message == message


def test_incomplete_multipart_uploads_aborted(tmp_path):
    harness = Harness(tmp_path)

    async def scenario() -> None:
        s3 = await harness.open()
        await s3.create_bucket({"Bucket": "uploads"}, CTX)
        kept = await s3.create_multipart_upload({"Bucket": "uploads", "Key": "keep/a"}, CTX)
        stale = await s3.create_multipart_upload({"Bucket": "uploads", "Key": "tmp/b"}, CTX)
        await lifecycle(s3, "uploads", {"ID": "abort", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
                                        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}})  # fmt: skip
        now = datetime.now(timezone.utc).timestamp()
        assert await s3.lifecycle.run(now=now) == 0
        assert await s3.lifecycle.run(now=now + 2 * DAY) == 1
        left = {upload.upload_id for upload in s3.state.uploads.of_bucket("uploads")}
        assert left == {kept["UploadId"]} and stale["UploadId"] not in left
        await harness.close(s3)

    asyncio.run(scenario())
