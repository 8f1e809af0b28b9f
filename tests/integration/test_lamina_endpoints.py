"""Lamina's own endpoints beside the AWS APIs: the page at /, and the health answers
(/_lamina/health, LocalStack's /_localstack/health), in one process and behind fronts."""

from __future__ import annotations

import json
import urllib.request
from importlib.metadata import version

import pytest

from lamina.app import SERVICES as SERVED

VERSION = version("lamina")
SERVICES = set(SERVED)  # every service Lamina serves: the health answers name each


def fetch(url: str, method: str = "GET", headers: dict | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture(params=["one process", "fronts"])
def server(request, lamina, lamina_factory):
    return lamina if request.param == "one process" else lamina_factory(LAMINA_HTTP_WORKERS="1")


def test_the_page_at_root(server):
    status, headers, body = fetch(f"{server.url}/", headers={"Accept": "text/html,application/xhtml+xml"})
    assert status == 200
    assert headers["content-type"].startswith("text/html")
    page = body.decode()
    assert f"Lamina {VERSION}" in page
    for name in SERVICES:
        assert f"<code>{name}</code>" in page
    assert "AWS Lambda (<code>lambda</code>)" in page
    for path in ("/_lamina/health", "/_localstack/health", "/metrics", "docs/manual.md"):
        assert path in page
    # The commands name this server's endpoint.
    assert f"lamina invoke --endpoint {server.url} hello" in page
    assert f"aws --endpoint-url {server.url} lambda list-functions" in page
    # Small, and nothing fetched from elsewhere.
    assert len(body) < 8192
    assert "<script" not in page and "<link" not in page and "src=" not in page and "@import" not in page


def test_any_accept_gets_the_page_and_head_gets_its_headers(server):
    status, headers, body = fetch(f"{server.url}/")  # urllib's Accept: */* or none
    assert status == 200 and headers["content-type"].startswith("text/html") and b"Lamina" in body
    status, headers, body = fetch(f"{server.url}/", method="HEAD")
    assert status == 200 and headers["content-type"].startswith("text/html") and body == b""


@pytest.mark.parametrize(
    "method, path, headers",
    [
        ("GET", "/", {"Authorization": "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/s3/aws4_request"}),
        ("GET", "/", {"X-Amz-Date": "20240101T000000Z"}),
        ("GET", "/?Action=ListQueues", {}),
        ("GET", "/?X-Amz-Signature=abc&X-Amz-Credential=test", {}),
        ("POST", "/", {"Content-Type": "application/x-www-form-urlencoded"}),
    ],
)
def test_aws_requests_to_root_never_get_the_page(server, method, path, headers):
    status, response_headers, body = fetch(f"{server.url}{path}", method=method, headers=headers)
    assert status >= 400, body
    assert not response_headers.get("content-type", "").startswith("text/html")
    assert b"<html" not in body


def test_aws_calls_at_root_still_work(server):
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="root-page-check")["QueueUrl"]
    assert url in sqs.list_queues()["QueueUrls"]
    sns = server.client("sns")  # the query protocol: a signed POST to /
    arn = sns.create_topic(Name="root-page-check")["TopicArn"]
    assert arn in [topic["TopicArn"] for topic in sns.list_topics()["Topics"]]
    s3 = server.client("s3")  # S3's ListBuckets: a signed GET /, S3's answer, not the page
    s3.create_bucket(Bucket="root-page-check")
    assert "root-page-check" in [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]]


def test_lamina_health(server):
    status, headers, body = fetch(f"{server.url}/_lamina/health")
    assert status == 200 and headers["content-type"] == "application/json"
    health = json.loads(body)
    assert health["status"] == "running"
    assert health["version"] == VERSION
    assert set(health["services"]) == SERVICES
    assert isinstance(health["instances"], int) and isinstance(health["async_queue_depth"], int)
    assert isinstance(health["fronts"], list)


def test_localstack_health(server):
    status, headers, body = fetch(f"{server.url}/_localstack/health")
    assert status == 200 and headers["content-type"] == "application/json"
    health = json.loads(body)
    assert health["services"] == {name: "running" for name in SERVICES}
    assert health["edition"] == "community"
    assert health["version"] == VERSION
