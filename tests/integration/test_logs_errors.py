"""CloudWatch Logs' errors as AWS answers them: the model's constraint refusals are
InvalidParameterException (not the ValidationException of other JSON services), and the
messages of the common refusals word for word."""

from __future__ import annotations

import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError


def refusal(call, **params) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as failed:
        call(**params)
    response = failed.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_constraint_refusals_are_invalid_parameter(logs_client):
    assert refusal(logs_client.create_log_group, logGroupName="bad name!") == (
        "InvalidParameterException",
        "1 validation error detected: Value 'bad name!' at 'logGroupName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+",
        400,
    )
    code, message, _ = refusal(logs_client.describe_log_streams, logGroupName="x", logStreamNamePrefix="a:b" * 300)
    assert code == "InvalidParameterException" and message.startswith("2 validation errors detected")


def test_resource_messages(logs_client, unique_name):
    group = f"/errors/{unique_name}"
    assert refusal(logs_client.delete_log_group, logGroupName=group) == (
        "ResourceNotFoundException",
        "The specified log group does not exist.",
        400,
    )
    logs_client.create_log_group(logGroupName=group)
    assert refusal(logs_client.create_log_group, logGroupName=group) == (
        "ResourceAlreadyExistsException",
        "The specified log group already exists",
        400,
    )
    logs_client.create_log_stream(logGroupName=group, logStreamName="s")
    assert refusal(logs_client.create_log_stream, logGroupName=group, logStreamName="s") == (
        "ResourceAlreadyExistsException",
        "The specified log stream already exists",
        400,
    )
    assert refusal(
        logs_client.put_log_events,
        logGroupName=group,
        logStreamName="missing",
        logEvents=[{"timestamp": int(time.time() * 1000), "message": "x"}],
    ) == ("ResourceNotFoundException", "The specified log stream does not exist.", 400)
    assert refusal(logs_client.put_retention_policy, logGroupName=group, retentionInDays=2)[:2] == (
        "InvalidParameterException",
        "1 validation error detected: Value '2' at 'retentionInDays' failed to satisfy constraint: "
        "Member must satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, "
        "1096, 1827, 2192, 2557, 2922, 3288, 3653]",
    )
    now = int(time.time() * 1000)
    assert refusal(
        logs_client.put_log_events,
        logGroupName=group,
        logStreamName="s",
        logEvents=[{"timestamp": now, "message": "b"}, {"timestamp": now - 1, "message": "a"}],
    ) == (
        "InvalidParameterException",
        "Log events in a single PutLogEvents request must be in chronological order.",
        400,
    )
    assert refusal(logs_client.delete_resource_policy, policyName=f"{unique_name}-none") == (
        "ResourceNotFoundException",
        f"Policy with name [{unique_name}-none] does not exist",
        400,
    )


def test_sequence_tokens_are_ignored_as_aws_does_now(logs_client, unique_name):
    """AWS stopped checking sequence tokens in 2023: a stale or made-up one is accepted, and
    InvalidSequenceTokenException / DataAlreadyAcceptedException no longer happen."""
    group = f"/errors/{unique_name}"
    logs_client.create_log_group(logGroupName=group)
    logs_client.create_log_stream(logGroupName=group, logStreamName="s")
    event = {"timestamp": int(time.time() * 1000), "message": "x"}
    first = logs_client.put_log_events(logGroupName=group, logStreamName="s", logEvents=[event])
    logs_client.put_log_events(logGroupName=group, logStreamName="s", logEvents=[event], sequenceToken="0" * 56)
    again = logs_client.put_log_events(
        logGroupName=group, logStreamName="s", logEvents=[event], sequenceToken=first["nextSequenceToken"]
    )
    assert again["nextSequenceToken"] > first["nextSequenceToken"]


def test_unknown_access_key_is_unrecognized_client(lamina):
    client = boto3.client(
        "logs",
        endpoint_url=lamina.url,
        region_name="us-east-1",
        aws_access_key_id="AKIAUNKNOWNKEY000000",
        aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 1}),
    )
    assert refusal(client.describe_log_groups) == (
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
        403,
    )


def test_insights_limit_over_ten_thousand(logs_client, unique_name):
    group = f"/errors/{unique_name}"
    logs_client.create_log_group(logGroupName=group)
    code, message, _ = refusal(
        logs_client.start_query, logGroupName=group, startTime=0, endTime=1, queryString="fields @message", limit=10001
    )
    assert code == "InvalidParameterException" and "less than or equal to 10000" in message
