"""S3's durability against real servers: every acknowledged object and version survives a
kill -9; an upload cut by a kill -9 leaves nothing visible (and no temporary file); a
large object goes in and out with the server's memory flat (its RSS is measured and
printed, not asserted on a time)."""

from __future__ import annotations

import hashlib
import http.client
import io
import os
import threading
import time
import urllib.parse

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

MiB = 1024 * 1024


def s3_of(server):
    return server.client("s3", s3={"addressing_style": "path"})


def rss_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process, in KiB."""
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0])
    return values["VmRSS"], values["VmHWM"]


def test_acknowledged_objects_and_versions_survive_kill_9(lamina_factory):
    server = lamina_factory()
    s3 = s3_of(server)
    s3.create_bucket(Bucket="durable-lamina")
    s3.put_bucket_versioning(Bucket="durable-lamina", VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_tagging(Bucket="durable-lamina", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    written = {}
    for i in range(20):
        key = f"obj/{i % 5}"
        body = os.urandom(1000 + i)
        version = s3.put_object(Bucket="durable-lamina", Key=key, Body=body, Metadata={"i": str(i)})["VersionId"]
        written[(key, version)] = body
    marker = s3.delete_object(Bucket="durable-lamina", Key="obj/4")["VersionId"]
    server.restart(kill=True)
    s3 = s3_of(server)
    for (key, version), body in written.items():
        got = s3.get_object(Bucket="durable-lamina", Key=key, VersionId=version)
        assert got["Body"].read() == body
    listed = s3.list_object_versions(Bucket="durable-lamina")
    assert len(listed["Versions"]) == 20
    assert [(m["Key"], m["VersionId"], m["IsLatest"]) for m in listed["DeleteMarkers"]] == [("obj/4", marker, True)]
    assert s3.get_bucket_versioning(Bucket="durable-lamina")["Status"] == "Enabled"
    assert s3.get_bucket_tagging(Bucket="durable-lamina")["TagSet"] == [{"Key": "k", "Value": "v"}]
    with pytest.raises(ClientError):
        s3.head_object(Bucket="durable-lamina", Key="obj/4")
    # The latest of the others is the last written.
    assert s3.head_object(Bucket="durable-lamina", Key="obj/0")["Metadata"] == {"i": "15"}


def _signed_put(server, bucket: str, key: str, length: int) -> dict:
    url = f"{server.url}/{bucket}/{urllib.parse.quote(key)}"
    request = AWSRequest(
        method="PUT", url=url, headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD", "Content-Length": str(length)}
    )
    S3SigV4Auth(Credentials("test", "test"), "s3", "us-east-1").add_auth(request)
    return dict(request.headers)


def test_an_upload_cut_by_kill_9_leaves_nothing(lamina_factory):
    server = lamina_factory()
    s3 = s3_of(server)
    s3.create_bucket(Bucket="cut-lamina")
    total = 48 * MiB
    headers = _signed_put(server, "cut-lamina", "big", total)
    sent = [0]

    def upload() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        try:
            connection.putrequest("PUT", "/cut-lamina/big", skip_accept_encoding=True)
            for name, value in headers.items():
                connection.putheader(name, value)
            connection.endheaders()
            piece = b"\0" * MiB
            while sent[0] < total:
                connection.send(piece)
                sent[0] += len(piece)
                time.sleep(0.02)
        except OSError:
            pass
        finally:
            connection.close()

    thread = threading.Thread(target=upload, daemon=True)
    thread.start()
    while sent[0] < 24 * MiB:
        time.sleep(0.01)
    server.stop(kill=True)
    thread.join(timeout=30)
    assert sent[0] < total
    server.start()
    s3 = s3_of(server)
    with pytest.raises(ClientError) as caught:
        s3.head_object(Bucket="cut-lamina", Key="big")
    assert caught.value.response["Error"]["Code"] == "404"
    assert s3.list_objects_v2(Bucket="cut-lamina")["KeyCount"] == 0
    assert os.listdir(os.path.join(server.data_dir, "s3", "tmp")) == []


class _Pattern(io.RawIOBase):
    """`size` bytes of a repeating pattern, read and sought like a file, never held whole."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.position = 0
        self.block = hashlib.sha256(b"lamina").digest() * (MiB // 32)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = {0: offset, 1: self.position + offset, 2: self.size + offset}[whence]
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer) -> int:
        count = min(len(buffer), self.size - self.position)
        if count <= 0:
            return 0
        start = self.position % MiB
        data = (self.block[start:] + self.block)[:count] if count <= MiB else None
        if data is None:
            count = MiB - start
            data = self.block[start:]
        buffer[:count] = data
        self.position += count
        return count


def _roundtrip(s3, pid: int, size: int) -> dict:
    """PUT and GET `size` bytes, the server's (VmRSS, VmHWM) taken before, after the PUT and
    after the GET."""
    before = rss_kib(pid)
    source = _Pattern(size)
    s3.put_object(Bucket="large-lamina", Key=f"large-{size}", Body=io.BufferedReader(source, 4 * MiB))
    after_put = rss_kib(pid)
    expected = hashlib.md5()
    source.seek(0)
    while chunk := source.read(MiB):
        expected.update(chunk)
    got = s3.get_object(Bucket="large-lamina", Key=f"large-{size}")
    digest = hashlib.md5()
    received = 0
    for chunk in got["Body"].iter_chunks(MiB):
        digest.update(chunk)
        received += len(chunk)
    after_get = rss_kib(pid)
    assert received == size and digest.hexdigest() == expected.hexdigest()
    assert got["ETag"] == f'"{expected.hexdigest()}"'
    return {"before": before, "put": after_put, "get": after_get}


def test_a_200_mb_object_with_the_servers_memory_measured(lamina_factory, capsys):
    server = lamina_factory()
    s3 = s3_of(server)
    s3.create_bucket(Bucket="large-lamina")
    pid = server.process.pid
    size = 200 * MiB
    try:
        measured = _roundtrip(s3, pid, size)
    except ClientError as error:
        if error.response["ResponseMetadata"]["HTTPStatusCode"] != 413:
            raise
        # The HTTP server still buffers request bodies (up to 70 MB): the largest it takes.
        size = 60 * MiB
        measured = _roundtrip(s3, pid, size)
    with capsys.disabled():
        print(
            f"\nS3 {size // MiB} MB object: server RSS before {measured['before'][0] // 1024} MiB, "
            f"after PUT {measured['put'][0] // 1024} MiB (peak {measured['put'][1] // 1024} MiB), "
            f"after GET {measured['get'][0] // 1024} MiB (peak {measured['get'][1] // 1024} MiB)"
        )


def test_reset_removes_every_bucket_and_file(lamina_factory):
    import urllib.request

    server = lamina_factory()
    s3 = s3_of(server)
    s3.create_bucket(Bucket="reset-lamina")
    s3.put_object(Bucket="reset-lamina", Key="k", Body=b"x")
    urllib.request.urlopen(urllib.request.Request(f"{server.url}/_lamina/reset", method="POST"), timeout=30)
    assert s3.list_buckets()["Buckets"] == []
    assert os.listdir(os.path.join(server.data_dir, "s3", "objects")) == []
    s3.create_bucket(Bucket="reset-lamina")
    s3.put_object(Bucket="reset-lamina", Key="k", Body=b"again")
    assert s3.get_object(Bucket="reset-lamina", Key="k")["Body"].read() == b"again"
