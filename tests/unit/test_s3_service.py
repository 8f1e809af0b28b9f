"""The S3 service with its real parts (the SQLite store, files in a temporary directory,
the protocol's Body) but no HTTP: a trailing checksum in an aws-chunked body (what boto3
sends over HTTPS by default), a body whose reading fails, the events hook, and rebuilding
from the store."""

from __future__ import annotations

import asyncio
import base64
import os

import awscrt.checksums
import pytest

from lamina.errors import ServiceError
from lamina.protocol.aws_chunked import ChunkedDecoder
from lamina.protocol.bodies import Body
from lamina.services.context import RequestContext
from lamina.services.s3 import S3Service
from lamina.services.s3.events import ObjectEvent
from lamina.store.sqlite import SQLiteStore

CTX = RequestContext(account_id="000000000000", region="us-east-1", request_id="r", endpoint_url="http://x")


def crc32(data: bytes) -> str:
    return base64.b64encode(awscrt.checksums.crc32(data).to_bytes(4, "big")).decode()


def chunked(data: bytes, trailers: dict[str, str], size: int = 5) -> bytes:
    out = b""
    for start in range(0, len(data), size):
        piece = data[start : start + size]
        out += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    out += b"0\r\n" + b"".join(f"{k}:{v}\r\n".encode() for k, v in trailers.items()) + b"\r\n"
    return out


async def arriving(data: bytes):
    for start in range(0, len(data), 7):
        await asyncio.sleep(0)
        yield data[start : start + 7]


def body(data: bytes, trailers: dict[str, str]) -> Body:
    return Body(arriving(chunked(data, trailers)), ChunkedDecoder(None, len(data)))


@pytest.fixture
def service(tmp_path):
    async def make() -> tuple[S3Service, SQLiteStore]:
        store = SQLiteStore(str(tmp_path / "lamina.db"))
        s3 = S3Service(store, str(tmp_path / "s3"))
        await s3.start()
        return s3, store

    return make


def run(coroutine):
    return asyncio.run(coroutine)


def test_a_trailing_checksum_is_checked_and_kept(service, tmp_path):
    async def scenario() -> None:
        s3, store = await service()
        await s3.create_bucket({"Bucket": "bkt"}, CTX)
        data = b"hello trailing checksum"
        params = {"Bucket": "bkt", "Key": "k", "ChecksumAlgorithm": "CRC32"}
        put = await s3.put_object({**params, "Body": body(data, {"x-amz-checksum-crc32": crc32(data)})}, CTX)
        assert put["ChecksumCRC32"] == crc32(data)
        got = await s3.get_object({"Bucket": "bkt", "Key": "k", "ChecksumMode": "ENABLED"}, CTX)
        assert b"".join([piece async for piece in got["Body"]]) == data
        assert got["ChecksumCRC32"] == crc32(data)
        with pytest.raises(ServiceError) as caught:
            await s3.put_object(
                {**params, "Key": "bad", "Body": body(data, {"x-amz-checksum-crc32": crc32(b"x")})}, CTX
            )
        assert (caught.value.code, caught.value.message) == (
            "BadDigest",
            "The CRC32 you specified did not match the calculated checksum.",
        )
        with pytest.raises(ServiceError) as caught:
            await s3.head_object({"Bucket": "bkt", "Key": "bad"}, CTX)
        assert caught.value.code == "NoSuchKey"
        assert os.listdir(tmp_path / "s3" / "tmp") == []
        await store.close()

    run(scenario())


def test_a_body_that_fails_while_read_leaves_nothing(service, tmp_path):
    async def failing():
        yield b"x" * 1000
        raise ServiceError(
            "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header", 400
        )

    async def scenario() -> None:
        s3, store = await service()
        await s3.create_bucket({"Bucket": "bkt"}, CTX)
        with pytest.raises(ServiceError):
            await s3.put_object({"Bucket": "bkt", "Key": "k", "Body": Body(failing())}, CTX)
        assert os.listdir(tmp_path / "s3" / "tmp") == []
        assert (await s3.list_objects_v2({"Bucket": "bkt"}, CTX))["KeyCount"] == 0
        await store.close()

    run(scenario())


def test_events_and_rebuilding_from_the_store(service, tmp_path):
    async def scenario() -> None:
        s3, store = await service()
        seen: list[ObjectEvent] = []

        async def listen(event: ObjectEvent) -> None:
            seen.append(event)

        s3.events = listen
        await s3.create_bucket({"Bucket": "bkt"}, CTX)
        await s3.put_bucket_versioning({"Bucket": "bkt", "VersioningConfiguration": {"Status": "Enabled"}}, CTX)
        first = await s3.put_object({"Bucket": "bkt", "Key": "k", "Body": b"one"}, CTX)
        await s3.put_object({"Bucket": "bkt", "Key": "k", "Body": b"two"}, CTX)
        await s3.copy_object({"Bucket": "bkt", "Key": "c", "CopySource": "bkt/k"}, CTX)
        await s3.put_object_tagging(
            {"Bucket": "bkt", "Key": "k", "Tagging": {"TagSet": [{"Key": "a", "Value": "1"}]}}, CTX
        )
        await s3.delete_object({"Bucket": "bkt", "Key": "k"}, CTX)
        names = [event.name for event in seen]
        assert names == [
            "ObjectCreated:Put",
            "ObjectCreated:Put",
            "ObjectCreated:Copy",
            "ObjectTagging:Put",
            "ObjectRemoved:DeleteMarkerCreated",
        ]
        assert seen[0].version_id == first["VersionId"] and seen[0].size == 3 and seen[0].etag
        sequencers = [event.sequencer for event in seen if event.key == "k"]
        assert sequencers[0] < sequencers[1] < sequencers[-1]
        await store.close()
        # A new service on the same data: the same buckets, versions and bytes.
        again, store = await service()
        versions = await again.list_object_versions({"Bucket": "bkt"}, CTX)
        assert [v["Key"] for v in versions["Versions"]] == ["c", "k", "k"]
        assert [m["Key"] for m in versions["DeleteMarkers"]] == ["k"]
        got = await again.get_object({"Bucket": "bkt", "Key": "k", "VersionId": first["VersionId"]}, CTX)
        assert b"".join([piece async for piece in got["Body"]]) == b"one"
        tags = await again.get_object_tagging(
            {"Bucket": "bkt", "Key": "k", "VersionId": versions["Versions"][1]["VersionId"]}, CTX
        )
        assert tags["TagSet"] == [{"Key": "a", "Value": "1"}]
        await store.close()

    run(scenario())


def test_files_no_document_names_are_swept_at_start(service, tmp_path):
    async def scenario() -> None:
        s3, store = await service()
        await s3.create_bucket({"Bucket": "bkt"}, CTX)
        await s3.put_object({"Bucket": "bkt", "Key": "k", "Body": b"kept"}, CTX)
        await store.close()
        (tmp_path / "s3" / "objects" / "bkt" / "00000000000000000001").write_bytes(b"orphan")
        (tmp_path / "s3" / "tmp" / "upload").write_bytes(b"partial")
        os.makedirs(tmp_path / "s3" / "objects" / "gone")
        again, store = await service()
        assert sorted(os.listdir(tmp_path / "s3" / "objects")) == ["bkt"]
        assert len(os.listdir(tmp_path / "s3" / "objects" / "bkt")) == 1
        assert os.listdir(tmp_path / "s3" / "tmp") == []
        got = await again.get_object({"Bucket": "bkt", "Key": "k"}, CTX)
        assert b"".join([piece async for piece in got["Body"]]) == b"kept"
        await store.close()

    run(scenario())
