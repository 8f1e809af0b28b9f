"""The AWS/Lambda metrics a live server publishes, read back with boto3's CloudWatch client
(smithy-rpc-v2-cbor) and from GET /metrics: each metric the concurrency and async
machinery emits, with the dimensions AWS gives it (the account, FunctionName, and
FunctionName+Resource for a version or alias)."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ROLE, ensure_role, make_zip

from .test_concurrency import no_retry_client
from .test_lambda_helpers import metric_total, wait_until

CODE = {
    "app.py": """
    import time

    def handler(event, context):
        time.sleep(event.get("sleep", 0))
        if event.get("fail"):
            raise RuntimeError("failing on purpose")
        return {"ok": True}
    """
}


def wait_for(cloudwatch, metric: str, dimensions: dict[str, str], expected: float, stat: str = "Sum") -> None:
    seen = []

    def reached() -> bool:
        seen.append(metric_total(cloudwatch, metric, dimensions, stat))
        return seen[-1] == expected

    try:
        wait_until(reached, timeout=15, interval=0.2, what=f"{metric} {stat} {dimensions} == {expected}")
    except AssertionError as error:
        raise AssertionError(f"{error}; last seen {seen[-1]}") from None


@pytest.fixture
def server(lamina_factory):
    return lamina_factory(LAMINA_ASYNC_RETRY_DELAYS="0.1,0.1")


def test_throttles_and_concurrent_executions_per_function_and_alias(server):
    client, cloudwatch = server.client("lambda"), server.client("cloudwatch")
    client.create_function(
        FunctionName="m",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip(CODE)},
        Publish=True,
        Timeout=30,
    )
    client.create_alias(FunctionName="m", Name="live", FunctionVersion="1")
    for _ in range(3):
        client.invoke(FunctionName="m", Qualifier="live", Payload=b"{}")
    alias = {"FunctionName": "m", "Resource": "m:live"}
    wait_for(cloudwatch, "Invocations", alias, 3)
    wait_for(cloudwatch, "Invocations", dict(alias, ExecutedVersion="1"), 3)
    wait_for(cloudwatch, "ConcurrentExecutions", {"FunctionName": "m"}, 1, "Maximum")
    wait_for(cloudwatch, "ConcurrentExecutions", alias, 1, "Maximum")
    wait_for(cloudwatch, "ConcurrentExecutions", dict(alias, ExecutedVersion="1"), 1, "Maximum")
    assert metric_total(cloudwatch, "ConcurrentExecutions", {}, "Maximum") >= 1

    client.put_function_concurrency(FunctionName="m", ReservedConcurrentExecutions=0)
    with pytest.raises(ClientError) as excinfo:
        no_retry_client(server).invoke(FunctionName="m", Qualifier="live", Payload=b"{}")
    error = excinfo.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == ("TooManyRequestsException", 429)
    assert error["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert error["Type"] == "User"
    wait_for(cloudwatch, "Throttles", {"FunctionName": "m"}, 1)
    wait_for(cloudwatch, "Throttles", alias, 1)


def test_provisioned_concurrency_metrics_name_the_alias_that_has_the_config(server):
    client, cloudwatch = server.client("lambda"), server.client("cloudwatch")
    client.create_function(
        FunctionName="p",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip(CODE)},
        Publish=True,
        Timeout=30,
    )
    client.create_alias(FunctionName="p", Name="live", FunctionVersion="1")
    client.put_provisioned_concurrency_config(FunctionName="p", Qualifier="live", ProvisionedConcurrentExecutions=1)
    wait_until(
        lambda: client.get_provisioned_concurrency_config(FunctionName="p", Qualifier="live")["Status"] == "READY",
        timeout=30,
        what="the provisioned instance",
    )
    client.invoke(FunctionName="p", Qualifier="live", Payload=json.dumps({"sleep": 2.5}).encode())
    alias = {"FunctionName": "p", "Resource": "p:live"}
    wait_for(cloudwatch, "ProvisionedConcurrencyInvocations", alias, 1)
    wait_for(cloudwatch, "ProvisionedConcurrencyUtilization", alias, 1.0, "Maximum")
    wait_for(cloudwatch, "ProvisionedConcurrentExecutions", alias, 1, "Maximum")
    wait_for(cloudwatch, "ProvisionedConcurrencyUtilization", {"FunctionName": "p"}, 1.0, "Maximum")


def test_async_and_destination_metrics(server):
    client, cloudwatch, sqs = server.client("lambda"), server.client("cloudwatch"), server.client("sqs")
    # Destinations that exist when configured and are gone when used: each delivery fails.
    gone = sqs.create_queue(QueueName="gone")["QueueUrl"]
    gone_arn = sqs.get_queue_attributes(QueueUrl=gone, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    client.create_function(
        FunctionName="a",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip(CODE)},
        Publish=True,
        Timeout=30,
        DeadLetterConfig={"TargetArn": gone_arn},
    )
    client.create_alias(FunctionName="a", Name="live", FunctionVersion="1")
    client.put_function_event_invoke_config(
        FunctionName="a",
        Qualifier="live",
        MaximumRetryAttempts=0,
        DestinationConfig={"OnSuccess": {"Destination": gone_arn}, "OnFailure": {"Destination": gone_arn}},
    )
    sqs.delete_queue(QueueUrl=gone)

    for event in ({}, {"fail": True}):
        response = client.invoke(
            FunctionName="a", Qualifier="live", InvocationType="Event", Payload=json.dumps(event).encode()
        )
        assert response["StatusCode"] == 202
    alias = {"FunctionName": "a", "Resource": "a:live"}
    for dimensions in ({"FunctionName": "a"}, alias):
        wait_for(cloudwatch, "AsyncEventsReceived", dimensions, 2)
        wait_for(cloudwatch, "AsyncEventsDropped", dimensions, 1)  # the one that failed
        wait_for(cloudwatch, "DestinationDeliveryFailures", dimensions, 2)  # OnSuccess and OnFailure
        wait_for(cloudwatch, "DeadLetterErrors", dimensions, 1)
        assert metric_total(cloudwatch, "AsyncEventAge", dimensions, "SampleCount") == 2
    assert metric_total(cloudwatch, "AsyncEventsReceived", {}) >= 2

    with urllib.request.urlopen(f"{server.url}/metrics", timeout=5) as response:
        text = response.read().decode()
    for name in (
        "async_events_received",
        "async_events_dropped",
        "destination_delivery_failures",
        "dead_letter_errors",
        "async_event_age",
    ):
        lines = [
            line
            for line in text.splitlines()
            if not line.startswith("#") and name in line.lower() and 'function="a"' in line
        ]
        assert lines, (name, text[:2000])


def test_every_account_sees_its_own_metrics_only(lamina_factory):
    server = lamina_factory(LAMINA_CREDENTIALS="alice:alice-secret:111111111111")
    import boto3
    from botocore.config import Config

    def client(service: str, key: str, secret: str):
        return boto3.client(
            service,
            endpoint_url=server.url,
            region_name="us-east-1",
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            config=Config(retries={"max_attempts": 1}),
        )

    mine, theirs = client("cloudwatch", "test", "test"), client("cloudwatch", "alice", "alice-secret")
    theirs_lambda = client("lambda", "alice", "alice-secret")
    ensure_role(client("iam", "alice", "alice-secret"))  # its execution role, in its own account
    theirs_lambda.create_function(
        FunctionName="theirs",
        Runtime="python3.12",
        Role="arn:aws:iam::111111111111:role/lambda-role",
        Handler="app.handler",
        Code={"ZipFile": make_zip(CODE)},
    )
    theirs_lambda.invoke(FunctionName="theirs", Payload=b"{}")
    theirs.put_metric_data(Namespace="Shop", MetricData=[{"MetricName": "Orders", "Value": 3.0}])
    mine.put_metric_data(Namespace="Shop", MetricData=[{"MetricName": "Orders", "Value": 5.0}])

    wait_for(theirs, "Invocations", {"FunctionName": "theirs"}, 1)
    assert metric_total(mine, "Invocations", {"FunctionName": "theirs"}) is None
    theirs_listed = {(m["Namespace"], m["MetricName"]) for m in theirs.list_metrics()["Metrics"]}
    mine_listed = {(m["Namespace"], m["MetricName"]) for m in mine.list_metrics()["Metrics"]}
    assert ("AWS/Lambda", "Invocations") in theirs_listed and ("AWS/Lambda", "Invocations") not in mine_listed
    assert ("Shop", "Orders") in theirs_listed and ("Shop", "Orders") in mine_listed

    def orders(cloudwatch) -> float | None:
        points = cloudwatch.get_metric_statistics(
            Namespace="Shop",
            MetricName="Orders",
            StartTime=time.time() - 600,
            EndTime=time.time() + 60,
            Period=600,
            Statistics=["Sum"],
        )
        return sum(p["Sum"] for p in points["Datapoints"]) if points["Datapoints"] else None

    assert (orders(mine), orders(theirs)) == (5.0, 3.0)
    with urllib.request.urlopen(f"{server.url}/metrics", timeout=5) as response:
        text = response.read().decode()
    assert any('account="111111111111"' in line and 'function="theirs"' in line for line in text.splitlines())
