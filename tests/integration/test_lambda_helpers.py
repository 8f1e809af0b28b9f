"""Helpers shared by the Lambda integration suites (this module holds no tests).

Polling with deadlines instead of sleeps, reading an invoke's JSON answer, raw SigV4-signed
requests for what boto3 refuses to send, and reading a function's CloudWatch Logs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import urllib.error
import urllib.request

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

ACCOUNT = "000000000000"
REGION = "us-east-1"


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05, what: str = "condition"):
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.1f}s waiting for {what}")
        time.sleep(interval)


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def function_arn(name: str, qualifier: str | None = None) -> str:
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


def invoke(client, name: str, event=None, **more) -> tuple[dict, object]:
    """(the Invoke response, its payload decoded from JSON)."""
    payload = json.dumps(event if event is not None else {}).encode()
    response = client.invoke(FunctionName=name, Payload=payload, **more)
    body = response["Payload"].read()
    return response, (json.loads(body) if body else None)


def error_of(excinfo) -> tuple[str, int, str]:
    """(AWS error code, HTTP status, message) of a ClientError caught by pytest.raises."""
    error = excinfo.value.response
    return error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"], error["Error"].get("Message", "")


def unvalidated_client(server, service: str = "lambda", access_key: str = "test", secret_key: str = "test"):
    """A client that sends what botocore would refuse locally, so the server has to say no."""
    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=Config(retries={"max_attempts": 1}, parameter_validation=False, read_timeout=120),
    )


def raw_request(
    server, method: str, path: str, body: bytes = b"", headers: dict | None = None, service: str = "lambda"
) -> tuple[int, dict, bytes]:
    """A SigV4-signed HTTP request built by hand: (status, lower-cased headers, body)."""
    url = server.url + path
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    SigV4Auth(Credentials("test", "test"), service, REGION).add_auth(request)
    prepared = urllib.request.Request(url, data=body or None, headers=dict(request.headers.items()), method=method)
    try:
        with urllib.request.urlopen(prepared, timeout=60) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def error_type_of(status_headers_body: tuple[int, dict, bytes]) -> str:
    """The AWS error code of a raw rest-json error response (header or body)."""
    _, headers, body = status_headers_body
    code = headers.get("x-amzn-errortype", "")
    if not code:
        document = json.loads(body or b"{}")
        code = document.get("__type") or document.get("code") or document.get("Type", "")
    return code.split(":")[0].split("#")[-1]


def server_is_healthy(server) -> bool:
    with urllib.request.urlopen(f"{server.url}/_lamina/health", timeout=5) as response:
        return response.status == 200 and json.loads(response.read())["status"] == "running"


def log_messages(server, group: str) -> list[str]:
    """Every message in a log group, oldest first, through the CloudWatch Logs API."""
    client = server.client("logs")
    messages, token = [], None
    try:
        for _ in range(1000):
            page = client.filter_log_events(logGroupName=group, **({"nextToken": token} if token else {}))
            messages.extend(event["message"] for event in page.get("events", []))
            token = page.get("nextToken")
            if not token:
                break
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            return []  # the group appears with the function's first instance
        raise
    return messages


def wait_for_log_lines(server, function_name: str, needle: str, count: int = 1, timeout: float = 10.0) -> list[str]:
    """The function's log lines containing `needle`, once there are at least `count` of them.

    Sandboxes have a private /tmp and run as nobody, so what a function did is observed
    through what it printed."""
    group = f"/aws/lambda/{function_name}"

    def matching():
        lines = [line for line in log_messages(server, group) if needle in line]
        return lines if len(lines) >= count else None

    return wait_until(matching, timeout=timeout, interval=0.1, what=f"{count} log line(s) with {needle!r} in {group}")


def metric_total(cloudwatch, metric: str, dimensions: dict[str, str], stat: str = "Sum") -> float | None:
    """An AWS/Lambda metric's statistic over the last ten minutes (the largest for
    Maximum, the sum otherwise); None when there is no data point at all."""
    points = cloudwatch.get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName=metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        StartTime=time.time() - 600,
        EndTime=time.time() + 60,
        Period=600,
        Statistics=[stat],
    )["Datapoints"]
    if not points:
        return None
    return max(p[stat] for p in points) if stat == "Maximum" else sum(p[stat] for p in points)
