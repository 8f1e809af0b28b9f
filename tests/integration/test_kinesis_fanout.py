"""SubscribeToShard against a live server, through boto3's event stream: records put with
PutRecord(s) pushed to the consumer as they arrive, each starting position, the refusals
(a consumer not ACTIVE, a second subscription within five seconds, DryRun), the end of a
closed shard with its children, a deregistered consumer ending its subscription; and a
Lambda event source mapping reading through a consumer."""

from __future__ import annotations

import base64
import json
import threading
import time
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError, EventStreamError

from tests.conftest import LAMBDA_TRUST, make_zip

from .test_kinesis import arn_of, error_of
from .test_kinesis_consumers import register, wait_status
from .test_kinesis_lambda import RECORDER, batches, wait_for
from .test_sqs_lambda import seen

SHARD = "shardId-000000000000"


def active_consumer(kinesis, stream: str, name: str = "reader") -> str:
    arn = register(kinesis, stream, name)
    wait_status(kinesis, arn, "ACTIVE")
    return arn


def subscribe(kinesis, consumer: str, shard: str = SHARD, **position):
    position = position or {"Type": "TRIM_HORIZON"}
    return kinesis.subscribe_to_shard(ConsumerARN=consumer, ShardId=shard, StartingPosition=position)["EventStream"]


def events_of(stream):
    for event in stream:
        yield event["SubscribeToShardEvent"]


def test_records_are_pushed_as_they_arrive(kinesis, unique_name):
    kinesis.create_stream(StreamName=unique_name, ShardCount=1)
    consumer = active_consumer(kinesis, unique_name)
    kinesis.put_record(StreamName=unique_name, Data=b"before", PartitionKey="k")
    events = subscribe(kinesis, consumer)
    received = events_of(events)

    # The first event: what the shard held from TRIM_HORIZON.
    first = next(received)
    assert [r["Data"] for r in first["Records"]] == [b"before"]
    assert first["ContinuationSequenceNumber"] == first["Records"][0]["SequenceNumber"]
    assert first["MillisBehindLatest"] == 0 and "ChildShards" not in first

    # Then whatever is put while the subscription is open, pushed without asking.
    kinesis.put_record(StreamName=unique_name, Data=b"one", PartitionKey="k")
    kinesis.put_records(
        StreamName=unique_name, Records=[{"Data": b"two", "PartitionKey": "k"}, {"Data": b"three", "PartitionKey": "k"}]
    )
    pushed: list[dict] = []
    for event in received:
        pushed.extend(event["Records"])
        if len(pushed) >= 3:
            break
    assert [r["Data"] for r in pushed] == [b"one", b"two", b"three"]
    assert [r["PartitionKey"] for r in pushed] == ["k", "k", "k"]
    sequence_numbers = [int(r["SequenceNumber"]) for r in pushed]
    assert sequence_numbers == sorted(sequence_numbers) and sequence_numbers[0] > int(
        first["ContinuationSequenceNumber"]
    )
    assert all(isinstance(r["ApproximateArrivalTimestamp"], datetime) for r in pushed)
    events.close()

    # The same records read with GetRecords are the same records.
    iterator = kinesis.get_shard_iterator(StreamName=unique_name, ShardId=SHARD, ShardIteratorType="TRIM_HORIZON")
    polled = kinesis.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    assert [r["SequenceNumber"] for r in polled[1:]] == [r["SequenceNumber"] for r in pushed]
    kinesis.delete_stream(StreamName=unique_name, EnforceConsumerDeletion=True)


def test_starting_positions(kinesis, unique_name):
    kinesis.create_stream(StreamName=unique_name, ShardCount=1)
    consumer = active_consumer(kinesis, unique_name)
    put = [
        kinesis.put_record(StreamName=unique_name, Data=b"%d" % i, PartitionKey="k")["SequenceNumber"] for i in range(3)
    ]

    def first_records(consumer_arn: str, **position) -> list[bytes]:
        events = subscribe(kinesis, consumer_arn, **position)
        try:
            return [r["Data"] for r in next(events_of(events))["Records"]]
        finally:
            events.close()

    # A second subscription to the shard within five seconds of the first is refused (even
    # once the first is closed): a consumer for each starting position.
    consumers = [consumer] + [active_consumer(kinesis, unique_name, f"reader{i}") for i in range(4)]
    started = time.monotonic()
    assert first_records(consumers[0], Type="TRIM_HORIZON") == [b"0", b"1", b"2"]
    try:
        again = subscribe(kinesis, consumers[0])
    except ClientError as error:
        code, message, status = error_of(SimpleNamespace(value=error))
        assert (code, status) == ("ResourceInUseException", 400)
        assert message.startswith("Another active subscription exists for this consumer")
    else:  # allowed only if this machine was slow enough for the five seconds to pass
        again.close()
        assert time.monotonic() - started >= 5
    assert first_records(consumers[1], Type="AT_SEQUENCE_NUMBER", SequenceNumber=put[1]) == [b"1", b"2"]
    assert first_records(consumers[2], Type="AFTER_SEQUENCE_NUMBER", SequenceNumber=put[1]) == [b"2"]
    assert first_records(consumers[3], Type="LATEST") == []
    assert first_records(
        consumers[4], Type="AT_TIMESTAMP", Timestamp=datetime.now(timezone.utc) - timedelta(minutes=5)
    ) == [b"0", b"1", b"2"]

    with pytest.raises(ClientError) as caught:
        subscribe(kinesis, consumers[1], Type="AT_SEQUENCE_NUMBER")
    assert error_of(caught)[0] == "InvalidArgumentException"
    with pytest.raises(ClientError) as caught:
        subscribe(kinesis, consumers[1], shard="shardId-000000000009")
    assert error_of(caught)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as caught:
        kinesis.subscribe_to_shard(
            ConsumerARN=consumers[1], ShardId=SHARD, StartingPosition={"Type": "LATEST"}, DryRun=True
        )
    assert error_of(caught)[0] == "DryRunOperationException"
    kinesis.delete_stream(StreamName=unique_name, EnforceConsumerDeletion=True)


def test_a_consumer_must_be_active(kinesis, unique_name):
    kinesis.create_stream(StreamName=unique_name, ShardCount=1)
    consumer = register(kinesis, unique_name, "early")
    created = kinesis.describe_stream_consumer(ConsumerARN=consumer)["ConsumerDescription"]
    if created["ConsumerStatus"] == "CREATING":  # it may already be ACTIVE: the step is short
        with pytest.raises(ClientError) as caught:
            subscribe(kinesis, consumer)
        assert error_of(caught) == (
            "ResourceInUseException",
            f"Consumer early with creation timestamp {consumer.rsplit(':', 1)[1]} under stream {unique_name} "
            f"and account {consumer.split(':')[4]} is not in ACTIVE status.",
            400,
        )
    missing = f"{arn_of(unique_name)}/consumer/nobody:1700000000"
    with pytest.raises(ClientError) as caught:
        subscribe(kinesis, missing)
    assert error_of(caught)[0] == "ResourceNotFoundException"
    kinesis.delete_stream(StreamName=unique_name, EnforceConsumerDeletion=True)


def test_a_closed_shard_ends_with_its_children(kinesis, unique_name):
    kinesis.create_stream(StreamName=unique_name, ShardCount=1)
    consumer = active_consumer(kinesis, unique_name)
    kinesis.put_record(StreamName=unique_name, Data=b"parent", PartitionKey="k")
    kinesis.split_shard(StreamName=unique_name, ShardToSplit=SHARD, NewStartingHashKey=str(2**127))
    received = list(events_of(subscribe(kinesis, consumer)))  # the stream ends by itself
    assert [r["Data"] for event in received for r in event["Records"]] == [b"parent"]
    last = received[-1]
    assert "ContinuationSequenceNumber" not in last
    assert sorted(c["ShardId"] for c in last["ChildShards"]) == ["shardId-000000000001", "shardId-000000000002"]
    assert all(c["ParentShards"] == [SHARD] for c in last["ChildShards"])
    kinesis.delete_stream(StreamName=unique_name, EnforceConsumerDeletion=True)


def test_deregistering_ends_the_subscription(kinesis, unique_name):
    kinesis.create_stream(StreamName=unique_name, ShardCount=1)
    consumer = active_consumer(kinesis, unique_name)
    events = subscribe(kinesis, consumer)
    received = events_of(events)
    assert next(received)["Records"] == []
    kinesis.deregister_stream_consumer(ConsumerARN=consumer)
    with pytest.raises(EventStreamError) as caught:
        for _ in received:
            pass
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    kinesis.delete_stream(StreamName=unique_name, EnforceConsumerDeletion=True)


def test_many_writers_one_subscriber_sees_everything_in_order(lamina, unique_name):
    kinesis = lamina.client("kinesis")
    kinesis.create_stream(StreamName=unique_name, ShardCount=1)
    consumer = active_consumer(kinesis, unique_name)
    events = subscribe(kinesis, consumer, Type="LATEST")
    received = events_of(events)
    next(received)

    def write(part: int) -> None:
        client = lamina.client("kinesis")
        for batch in range(5):
            client.put_records(
                StreamName=unique_name,
                Records=[{"Data": b"%d-%d-%d" % (part, batch, i), "PartitionKey": str(part)} for i in range(20)],
            )

    writers = [threading.Thread(target=write, args=(part,)) for part in range(4)]
    for writer in writers:
        writer.start()
    got: list[dict] = []
    for event in received:
        got.extend(event["Records"])
        if len(got) >= 400:
            break
    for writer in writers:
        writer.join()
    events.close()
    assert len(got) == 400 and len({r["Data"] for r in got}) == 400
    numbers = [int(r["SequenceNumber"]) for r in got]
    assert numbers == sorted(numbers)
    for part in range(4):  # each writer's records in the order it wrote them
        mine = [r["Data"].decode() for r in got if r["PartitionKey"] == str(part)]
        assert mine == [f"{part}-{b}-{i}" for b in range(5) for i in range(20)]
    kinesis.delete_stream(StreamName=unique_name, EnforceConsumerDeletion=True)


# --- Lambda through a consumer ------------------------------------------------------------------


def test_a_mapping_reads_through_a_consumer(lamina, kinesis, lambda_client, create_function, unique_name, mappings):
    create_function(code=RECORDER, Timeout=30)
    kinesis.create_stream(StreamName=unique_name, ShardCount=2)
    stream_arn = arn_of(unique_name)
    consumer = active_consumer(kinesis, unique_name)
    kinesis.put_records(
        StreamName=unique_name,
        Records=[{"Data": json.dumps({"n": i}).encode(), "PartitionKey": str(i)} for i in range(10)],
    )
    mapping = mappings(EventSourceArn=consumer, FunctionName=unique_name, StartingPosition="TRIM_HORIZON")
    assert mapping["EventSourceArn"] == consumer  # the mapping keeps the consumer's ARN
    assert (
        lambda_client.list_event_source_mappings(EventSourceArn=consumer)["EventSourceMappings"][0]["UUID"]
        == (mapping["UUID"])
    )
    wait_for(lamina, unique_name, lambda b: sum(map(len, b)) >= 10, "10 records")
    assert sorted(d["n"] for batch in batches(lamina, unique_name) for d in batch) == list(range(10))
    records = [r for _, event in seen(lamina, unique_name) for r in event["Records"]]
    assert {r["eventSourceARN"] for r in records} == {stream_arn}  # the records name the stream
    assert json.loads(base64.b64decode(records[0]["kinesis"]["data"]))["n"] in range(10)

    # A consumer that is not registered is no source.
    with pytest.raises(ClientError) as caught:
        lambda_client.create_event_source_mapping(
            EventSourceArn=f"{stream_arn}/consumer/nobody:1700000000",
            FunctionName=unique_name,
            StartingPosition="TRIM_HORIZON",
        )
    assert error_of(caught)[0] == "InvalidParameterValueException"
    lambda_client.delete_event_source_mapping(UUID=mapping["UUID"])
    kinesis.delete_stream(StreamName=unique_name, EnforceConsumerDeletion=True)


def test_a_mapping_on_a_consumer_needs_subscribe_to_shard(lamina, kinesis, lambda_client, unique_name, mappings):
    iam = lamina.client("iam")
    kinesis.create_stream(StreamName=unique_name, ShardCount=1)
    consumer = active_consumer(kinesis, unique_name)
    for policies, allowed in ((["AWSLambdaBasicExecutionRole"], False), (["AWSLambdaKinesisExecutionRole"], True)):
        role = f"{unique_name[:40]}-{len(policies[0])}"
        arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]["Arn"]
        for policy in policies:
            iam.attach_role_policy(RoleName=role, PolicyArn=f"arn:aws:iam::aws:policy/service-role/{policy}")
        name = f"{unique_name[:40]}-{policies[0][9:13].lower()}"
        lambda_client.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=arn,
            Handler="app.handler",
            Code={"ZipFile": make_zip({"app.py": "def handler(event, context):\n    return None\n"})},
        )
        if allowed:
            mappings(EventSourceArn=consumer, FunctionName=name, StartingPosition="LATEST")
            continue
        with pytest.raises(ClientError) as caught:
            lambda_client.create_event_source_mapping(
                EventSourceArn=consumer, FunctionName=name, StartingPosition="LATEST"
            )
        assert error_of(caught)[0] == "InvalidParameterValueException"
