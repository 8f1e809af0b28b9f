"""Event source mappings read their queue or stream as the function's execution role, as
Lambda does: CreateEventSourceMapping refuses a role that may not read the source (AWS's
messages), and a running mapping whose role loses the permission stops reading, says why in
LastProcessingResult, and resumes once the role may read again."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from tests.conftest import LAMBDA_TRUST, make_zip

ACCOUNT = "000000000000"
BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
SQS_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"


@pytest.fixture
def role(lamina):
    """role(*managed policy ARNs) -> (name, ARN) of a new role that trusts Lambda."""
    iam = lamina.client("iam")

    def make(*policies: str) -> tuple[str, str]:
        name = f"esm-{uuid.uuid4().hex[:8]}"
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]["Arn"]
        for policy in policies:
            iam.attach_role_policy(RoleName=name, PolicyArn=policy)
        return name, arn

    return make


def _function(lambda_client, name: str, role_arn: str) -> None:
    lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role_arn,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": "def handler(event, context):\n    return None\n"})},
        Timeout=30,
    )


def _wait(predicate, timeout_s: float = 30.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_a_role_that_may_not_read_the_queue_or_stream_is_refused(
    lamina, lambda_client, sqs, kinesis, role, unique_name
):
    _, basic = role(BASIC)
    _function(lambda_client, unique_name, basic)
    queue_url = sqs.create_queue(QueueName=f"{unique_name}-q")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    with pytest.raises(ClientError) as caught:
        lambda_client.create_event_source_mapping(FunctionName=unique_name, EventSourceArn=queue_arn)
    error = caught.value.response["Error"]
    assert error["Code"] == "InvalidParameterValueException"
    assert error["Message"] == "The provided execution role does not have permissions to call ReceiveMessage on SQS"

    kinesis.create_stream(StreamName=f"{unique_name}-s", ShardCount=1)
    stream_arn = f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{unique_name}-s"
    with pytest.raises(ClientError) as caught:
        lambda_client.create_event_source_mapping(
            FunctionName=unique_name, EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON"
        )
    assert caught.value.response["Error"]["Message"] == (
        f"Cannot access stream {stream_arn}. Please ensure the role can perform the GetRecords, "
        "GetShardIterator, DescribeStream, and ListStreams Actions on your stream in IAM."
    )
    assert lambda_client.list_event_source_mappings(FunctionName=unique_name)["EventSourceMappings"] == []


def test_a_mapping_stops_reading_when_its_role_loses_the_permission(lamina, lambda_client, sqs, role, unique_name):
    iam = lamina.client("iam")
    role_name, role_arn = role(BASIC, SQS_EXECUTION)
    _function(lambda_client, unique_name, role_arn)
    queue_url = sqs.create_queue(QueueName=f"{unique_name}-q")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    mapping = lambda_client.create_event_source_mapping(FunctionName=unique_name, EventSourceArn=queue_arn)["UUID"]
    try:

        def waiting() -> int:
            attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
            return int(attributes["ApproximateNumberOfMessages"]) + int(
                attributes["ApproximateNumberOfMessagesNotVisible"]
            )

        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"n": 1}))
        _wait(lambda: waiting() == 0)  # consumed while the role may read

        iam.detach_role_policy(RoleName=role_name, PolicyArn=SQS_EXECUTION)
        problem = "PROBLEM: The provided execution role does not have permissions to call ReceiveMessage on SQS"
        _wait(lambda: lambda_client.get_event_source_mapping(UUID=mapping)["LastProcessingResult"] == problem)
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"n": 2}))
        time.sleep(1.0)  # not an assertion of timing: the message is there to be left alone
        assert waiting() == 1
        assert lambda_client.get_event_source_mapping(UUID=mapping)["State"] == "Enabled"

        iam.attach_role_policy(RoleName=role_name, PolicyArn=SQS_EXECUTION)
        _wait(lambda: waiting() == 0)
        assert lambda_client.get_event_source_mapping(UUID=mapping)["LastProcessingResult"] != problem
    finally:
        lambda_client.delete_event_source_mapping(UUID=mapping)
