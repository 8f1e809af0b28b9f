"""Kinesis enhanced fan-out consumers against a live server, through boto3: registering,
describing (by ARN, or by stream and name), listing with paging, deregistering, the
limits, tags and policies on a consumer, consumers across a restart and with DeleteStream;
and the account settings."""

from __future__ import annotations

import json
import re
import time

import pytest
from botocore.exceptions import ClientError

from .test_kinesis import ACCOUNT, arn_of, error_of


def wait_status(client, consumer_arn: str, wanted: str) -> dict:
    """Poll DescribeStreamConsumer until the consumer is in `wanted` (a real transition)."""
    while True:
        description = client.describe_stream_consumer(ConsumerARN=consumer_arn)["ConsumerDescription"]
        if description["ConsumerStatus"] == wanted:
            return description
        time.sleep(0.05)


def wait_gone(client, consumer_arn: str) -> None:
    while True:
        try:
            client.describe_stream_consumer(ConsumerARN=consumer_arn)
        except ClientError as error:
            assert error.response["Error"]["Code"] == "ResourceNotFoundException"
            return
        time.sleep(0.05)


def register(client, stream: str, name: str, **extra) -> str:
    return client.register_stream_consumer(StreamARN=arn_of(stream), ConsumerName=name, **extra)["Consumer"][
        "ConsumerARN"
    ]


def test_register_describe_list_and_deregister(kinesis, unique_name):
    kinesis.create_stream(StreamName=unique_name, ShardCount=1)
    stream_arn = arn_of(unique_name)
    consumer = kinesis.register_stream_consumer(StreamARN=stream_arn, ConsumerName="reader")["Consumer"]
    assert consumer["ConsumerName"] == "reader" and consumer["ConsumerStatus"] == "CREATING"
    assert re.fullmatch(rf"{re.escape(stream_arn)}/consumer/reader:\d{{10}}", consumer["ConsumerARN"])
    created = consumer["ConsumerCreationTimestamp"]
    assert consumer["ConsumerARN"].endswith(f":{int(created.timestamp())}")

    # CREATING, then ACTIVE; by ARN or by stream and name alike.
    active = wait_status(kinesis, consumer["ConsumerARN"], "ACTIVE")
    assert active["StreamARN"] == stream_arn and active["ConsumerCreationTimestamp"] == created
    by_name = kinesis.describe_stream_consumer(StreamARN=stream_arn, ConsumerName="reader")["ConsumerDescription"]
    assert by_name == active
    summary = kinesis.describe_stream_summary(StreamName=unique_name)["StreamDescriptionSummary"]
    assert summary["ConsumerCount"] == 1

    # A second of the same name is refused; other names are not.
    with pytest.raises(ClientError) as caught:
        kinesis.register_stream_consumer(StreamARN=stream_arn, ConsumerName="reader")
    assert error_of(caught) == (
        "ResourceInUseException",
        f"Consumer reader under stream {unique_name} already exists for account {ACCOUNT}.",
        400,
    )
    for name in ("b-reader", "a-reader"):
        register(kinesis, unique_name, name)
    listed = kinesis.list_stream_consumers(StreamARN=stream_arn)["Consumers"]
    assert [c["ConsumerName"] for c in listed] == ["a-reader", "b-reader", "reader"]

    # Paging, and the stream's creation time telling streams of one name apart.
    first = kinesis.list_stream_consumers(StreamARN=stream_arn, MaxResults=2)
    assert [c["ConsumerName"] for c in first["Consumers"]] == ["a-reader", "b-reader"]
    rest = kinesis.list_stream_consumers(StreamARN=stream_arn, MaxResults=2, NextToken=first["NextToken"])
    assert [c["ConsumerName"] for c in rest["Consumers"]] == ["reader"] and "NextToken" not in rest
    paged = [
        c["ConsumerName"]
        for page in kinesis.get_paginator("list_stream_consumers").paginate(
            StreamARN=stream_arn, PaginationConfig={"PageSize": 1}
        )
        for c in page["Consumers"]
    ]
    assert paged == ["a-reader", "b-reader", "reader"]
    stream_created = summary["StreamCreationTimestamp"]
    same = kinesis.list_stream_consumers(StreamARN=stream_arn, StreamCreationTimestamp=stream_created)
    assert len(same["Consumers"]) == 3
    with pytest.raises(ClientError) as caught:
        kinesis.list_stream_consumers(StreamARN=stream_arn, StreamCreationTimestamp=stream_created.timestamp() - 3600)
    assert error_of(caught)[0] == "ResourceNotFoundException"

    # Deregistering: DELETING, then gone; by stream and name here.
    kinesis.deregister_stream_consumer(StreamARN=stream_arn, ConsumerName="reader")
    assert kinesis.describe_stream_consumer(ConsumerARN=consumer["ConsumerARN"])["ConsumerDescription"][
        "ConsumerStatus"
    ] in ("DELETING",)
    wait_gone(kinesis, consumer["ConsumerARN"])
    with pytest.raises(ClientError) as caught:
        kinesis.describe_stream_consumer(ConsumerARN=consumer["ConsumerARN"])
    assert error_of(caught) == (
        "ResourceNotFoundException",
        f"Consumer {consumer['ConsumerARN']}, account {ACCOUNT} not found.",
        400,
    )
    assert [c["ConsumerName"] for c in kinesis.list_stream_consumers(StreamARN=stream_arn)["Consumers"]] == [
        "a-reader",
        "b-reader",
    ]
    # Neither an ARN nor a stream and a name: nothing to go by.
    with pytest.raises(ClientError) as caught:
        kinesis.describe_stream_consumer(ConsumerName="reader")
    assert error_of(caught)[0] == "InvalidArgumentException"

    # A stream with consumers is deleted only when the consumers may go with it.
    with pytest.raises(ClientError) as caught:
        kinesis.delete_stream(StreamName=unique_name)
    assert error_of(caught)[0] == "ResourceInUseException"
    kinesis.delete_stream(StreamName=unique_name, EnforceConsumerDeletion=True)
    kinesis.create_stream(StreamName=unique_name, ShardCount=1)
    assert kinesis.list_stream_consumers(StreamARN=stream_arn)["Consumers"] == []
    kinesis.delete_stream(StreamName=unique_name)


def test_consumer_limits(kinesis, unique_name):
    kinesis.create_stream(StreamName=unique_name, ShardCount=1)
    # At most five may be CREATING at once (tests/unit/test_kinesis_consumers.py): in fives.
    for batch in range(4):
        more = [register(kinesis, unique_name, f"d{batch}{i}") for i in range(5)]
        for arn in more:
            wait_status(kinesis, arn, "ACTIVE")
    assert len(kinesis.list_stream_consumers(StreamARN=arn_of(unique_name))["Consumers"]) == 20
    with pytest.raises(ClientError) as caught:
        register(kinesis, unique_name, "twenty-first")
    assert error_of(caught) == (
        "LimitExceededException",
        f"Stream {unique_name} under account {ACCOUNT} has reached the limit of 20 registered consumers.",
        400,
    )
    kinesis.delete_stream(StreamName=unique_name, EnforceConsumerDeletion=True)


def test_consumer_tags_and_policy(kinesis, unique_name):
    kinesis.create_stream(StreamName=unique_name, ShardCount=1, Tags={"on": "stream"})
    arn = register(kinesis, unique_name, "tagged", Tags={"team": "data"})
    assert kinesis.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "data"}]
    kinesis.tag_resource(ResourceARN=arn, Tags={"env": "test"})
    kinesis.untag_resource(ResourceARN=arn, TagKeys=["team"])
    assert kinesis.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "env", "Value": "test"}]
    # The stream's tags are its own.
    assert kinesis.list_tags_for_resource(ResourceARN=arn_of(unique_name))["Tags"] == [{"Key": "on", "Value": "stream"}]

    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                    "Action": ["kinesis:SubscribeToShard", "kinesis:DescribeStreamConsumer"],
                    "Resource": arn,
                }
            ],
        }
    )
    kinesis.put_resource_policy(ResourceARN=arn, Policy=policy)
    assert json.loads(kinesis.get_resource_policy(ResourceARN=arn)["Policy"]) == json.loads(policy)
    assert kinesis.get_resource_policy(ResourceARN=arn_of(unique_name))["Policy"] == "{}"
    kinesis.delete_resource_policy(ResourceARN=arn)
    assert kinesis.get_resource_policy(ResourceARN=arn)["Policy"] == "{}"

    missing = f"{arn_of(unique_name)}/consumer/nobody:1700000000"
    with pytest.raises(ClientError) as caught:
        kinesis.list_tags_for_resource(ResourceARN=missing)
    assert error_of(caught) == ("ResourceNotFoundException", f"Consumer {missing}, account {ACCOUNT} not found.", 400)
    kinesis.delete_stream(StreamName=unique_name, EnforceConsumerDeletion=True)


def test_consumers_survive_a_restart(lamina_factory):
    server = lamina_factory()
    client = server.client("kinesis")
    client.create_stream(StreamName="kept", ShardCount=1)
    arn = register(client, "kept", "durable", Tags={"k": "v"})
    gone = register(client, "kept", "leaving")
    wait_status(client, arn, "ACTIVE")
    wait_status(client, gone, "ACTIVE")
    client.deregister_stream_consumer(ConsumerARN=gone)
    wait_gone(client, gone)
    server.restart(kill=True)

    client = server.client("kinesis")
    consumers = client.list_stream_consumers(StreamARN=arn_of("kept"))["Consumers"]
    assert [(c["ConsumerName"], c["ConsumerARN"], c["ConsumerStatus"]) for c in consumers] == [
        ("durable", arn, "ACTIVE")
    ]
    assert client.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "k", "Value": "v"}]


def test_account_settings(lamina):
    # Per account and region: another region starts without a commitment.
    kinesis = lamina.client("kinesis", region_name="eu-west-3")
    assert kinesis.describe_account_settings()["MinimumThroughputBillingCommitment"] == {"Status": "DISABLED"}
    enabled = kinesis.update_account_settings(MinimumThroughputBillingCommitment={"Status": "ENABLED"})[
        "MinimumThroughputBillingCommitment"
    ]
    assert enabled["Status"] == "ENABLED"
    assert (enabled["EarliestAllowedEndAt"] - enabled["StartedAt"]).total_seconds() == 24 * 3600
    # Disabling within the 24 hours schedules the end for the earliest allowed moment.
    ending = kinesis.update_account_settings(MinimumThroughputBillingCommitment={"Status": "DISABLED"})[
        "MinimumThroughputBillingCommitment"
    ]
    assert ending["Status"] == "ENABLED_UNTIL_EARLIEST_ALLOWED_END"
    assert ending["EndedAt"] == ending["EarliestAllowedEndAt"] == enabled["EarliestAllowedEndAt"]
    assert kinesis.describe_account_settings()["MinimumThroughputBillingCommitment"] == ending
    # Enabling again cancels the end.
    again = kinesis.update_account_settings(MinimumThroughputBillingCommitment={"Status": "ENABLED"})[
        "MinimumThroughputBillingCommitment"
    ]
    assert again["Status"] == "ENABLED" and again["StartedAt"] == enabled["StartedAt"] and "EndedAt" not in again
    other = lamina.client("kinesis", region_name="eu-north-1")
    assert other.describe_account_settings()["MinimumThroughputBillingCommitment"] == {"Status": "DISABLED"}
