"""S3's two addressing styles: path-style (http://host/bucket/key) and virtual-hosted
(http://bucket.s3.localhost:port/key), which boto3 uses by default with a DNS name."""

from __future__ import annotations

import socket

import boto3
import pytest
from botocore.config import Config


@pytest.fixture
def localhost_names(monkeypatch):
    """This machine's resolver does not map *.localhost to the loopback (browsers and
    systemd-resolved do): the test's own client is given that mapping."""
    real = socket.getaddrinfo

    def resolve(host, *args, **kwargs):
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


def test_virtual_hosted_and_path_style_reach_the_same_objects(lamina, localhost_names):
    virtual = boto3.client(
        "s3",
        endpoint_url=f"http://s3.localhost:{lamina.port}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(s3={"addressing_style": "virtual"}),
    )
    path = lamina.client("s3", s3={"addressing_style": "path"})
    virtual.create_bucket(Bucket="virtual-hosted")
    virtual.put_object(Bucket="virtual-hosted", Key="a/b.txt", Body=b"by host")
    assert path.get_object(Bucket="virtual-hosted", Key="a/b.txt")["Body"].read() == b"by host"
    path.put_object(Bucket="virtual-hosted", Key="c.txt", Body=b"by path")
    listed = virtual.list_objects_v2(Bucket="virtual-hosted")
    assert [item["Key"] for item in listed["Contents"]] == ["a/b.txt", "c.txt"]
    assert virtual.get_object(Bucket="virtual-hosted", Key="c.txt")["Body"].read() == b"by path"
