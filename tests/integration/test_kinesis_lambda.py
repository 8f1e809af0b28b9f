"""Kinesis event source mappings against a live server: the mapping API for streams and its
validation, then real deliveries to real functions: the event's shape (checked with
aws-lambda-powertools' KinesisDataStreamModel), order per partition key with
ParallelizationFactor 10, the bisect-on-error sequence with a poisoned record and its
OnFailure record, filtering, resharding, and checkpoints that survive kill -9.

What a function saw is read back from what it printed (CloudWatch Logs) or, where every
record must be accounted for across a kill -9, from what it sent to an SQS queue."""

from __future__ import annotations

import base64
import json
import os
import signal
import time
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ROLE, make_zip

from .test_lambda_helpers import error_of, function_arn, wait_until
from .test_sqs_lambda import MARK, seen

KinesisDataStreamModel = pytest.importorskip("aws_lambda_powertools.utilities.parser.models").KinesisDataStreamModel

RECORDER = {
    "app.py": f"""
    import base64
    import json

    def handler(event, context):
        print("{MARK} %.6f %s" % (__import__("time").time(), json.dumps(event)))
        for record in event["Records"]:
            data = json.loads(base64.b64decode(record["kinesis"]["data"]))
            if data.get("poison"):
                raise RuntimeError("poisoned record")
        return {{}}
    """
}


@pytest.fixture
def stream(kinesis, unique_name):
    """stream(shards=1) -> ARN of a fresh ACTIVE stream."""
    made = []

    def make(shards: int = 1, suffix: str = "") -> str:
        name = unique_name + suffix
        kinesis.create_stream(StreamName=name, ShardCount=shards)
        made.append(name)
        description = wait_until(
            lambda: (lambda d: d if d["StreamStatus"] == "ACTIVE" else None)(
                kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
            ),
            what="ACTIVE stream",
        )
        return description["StreamARN"]

    yield make
    for name in made:
        try:
            kinesis.delete_stream(StreamName=name, EnforceConsumerDeletion=True)
        except ClientError:
            pass


def put(kinesis, arn: str, items: list[tuple[str, dict]]) -> list[dict]:
    """PutRecords in order of the list (one call per 500), every record accepted."""
    results = []
    for start in range(0, len(items), 500):
        chunk = items[start : start + 500]
        response = kinesis.put_records(
            StreamARN=arn, Records=[{"PartitionKey": key, "Data": json.dumps(data).encode()} for key, data in chunk]
        )
        assert response["FailedRecordCount"] == 0, response
        results.extend(response["Records"])
    return results


def batches(lamina, function_name: str) -> list[list[dict]]:
    """The decoded data of each batch the function received, in invocation order."""
    return [
        [json.loads(base64.b64decode(r["kinesis"]["data"])) for r in event["Records"]]
        for _, event in seen(lamina, function_name)
    ]


def wait_for(lamina, function_name: str, predicate, what: str, timeout: float = 30.0):
    return wait_until(
        lambda: (lambda b: b if predicate(b) else None)(batches(lamina, function_name)),
        timeout=timeout,
        interval=0.2,
        what=what,
    )


@pytest.fixture
def recorder(create_function, unique_name):
    create_function(code=RECORDER, Timeout=30)
    return unique_name


# --- the mapping API ----------------------------------------------------------------------------


def test_stream_mapping_defaults_and_validation(lambda_client, stream, recorder, queue, mappings):
    arn = stream(1)
    created = mappings(EventSourceArn=arn, FunctionName=recorder, StartingPosition="TRIM_HORIZON")
    assert created["State"] == "Creating"
    assert created["EventSourceArn"] == arn and created["FunctionArn"] == function_arn(recorder)
    assert created["BatchSize"] == 100
    assert created["StartingPosition"] == "TRIM_HORIZON"
    assert created["ParallelizationFactor"] == 1
    assert created["MaximumRetryAttempts"] == -1
    assert created["MaximumRecordAgeInSeconds"] == -1
    assert created["BisectBatchOnFunctionError"] is False
    assert created["TumblingWindowInSeconds"] == 0
    assert created["DestinationConfig"] == {"OnFailure": {}}

    updated = lambda_client.update_event_source_mapping(
        UUID=created["UUID"], ParallelizationFactor=4, BisectBatchOnFunctionError=True, MaximumRetryAttempts=3
    )
    assert (
        updated["ParallelizationFactor"],
        updated["BisectBatchOnFunctionError"],
        updated["MaximumRetryAttempts"],
    ) == (4, True, 3)

    invalid, model = "InvalidParameterValueException", "ValidationException"  # the model's own ranges first
    bad = [
        (invalid, dict(EventSourceArn=arn, FunctionName=recorder)),  # no StartingPosition
        (
            model,
            dict(EventSourceArn=arn, FunctionName=recorder, StartingPosition="TRIM_HORIZON", ParallelizationFactor=11),
        ),
        (
            invalid,
            dict(
                EventSourceArn=arn, FunctionName=recorder, StartingPosition="TRIM_HORIZON", MaximumRecordAgeInSeconds=30
            ),
        ),
        (invalid, dict(EventSourceArn=arn, FunctionName=recorder, StartingPosition="AT_TIMESTAMP")),
        (invalid, dict(EventSourceArn=arn + "-missing", FunctionName=recorder, StartingPosition="LATEST")),
    ]
    for code, params in bad:
        with pytest.raises(ClientError) as excinfo:
            lambda_client.create_event_source_mapping(**params)
        assert error_of(excinfo)[:2] == (code, 400), params

    _, queue_arn = queue()
    with pytest.raises(ClientError) as excinfo:  # stream-only settings on a queue
        lambda_client.create_event_source_mapping(
            EventSourceArn=queue_arn, FunctionName=recorder, ParallelizationFactor=2
        )
    assert error_of(excinfo)[:2] == ("InvalidParameterValueException", 400)


# --- deliveries ---------------------------------------------------------------------------------


def test_records_reach_the_function_in_aws_shape(lamina, kinesis, stream, recorder, mappings):
    arn = stream(2)
    put(kinesis, arn, [(f"key-{i % 3}", {"n": i}) for i in range(30)])
    mapping = mappings(EventSourceArn=arn, FunctionName=recorder, StartingPosition="TRIM_HORIZON", BatchSize=7)
    wait_for(lamina, recorder, lambda b: sum(map(len, b)) >= 30, "30 records")
    events = [event for _, event in seen(lamina, recorder)]
    assert all(len(event["Records"]) <= 7 for event in events)
    for event in events:
        KinesisDataStreamModel(**event)  # the shape powertools' parser accepts
        record = event["Records"][0]
        assert record["eventSource"] == "aws:kinesis" and record["eventSourceARN"] == arn
        assert record["eventName"] == "aws:kinesis:record" and record["eventVersion"] == "1.0"
        assert record["eventID"] == f"{record['eventID'].split(':')[0]}:{record['kinesis']['sequenceNumber']}"
    by_key: dict[str, list[int]] = {}
    for event in events:
        for record in event["Records"]:
            by_key.setdefault(record["kinesis"]["partitionKey"], []).append(
                json.loads(base64.b64decode(record["kinesis"]["data"]))["n"]
            )
    assert {key: sorted(ns) for key, ns in by_key.items()} == {f"key-{k}": list(range(k, 30, 3)) for k in range(3)}
    assert all(ns == sorted(ns) for ns in by_key.values())  # order kept per partition key

    # IteratorAge, per function and per mapping, through CloudWatch.
    cloudwatch = lamina.client("cloudwatch")
    now = datetime.now(timezone.utc)
    for dimensions in (
        [{"Name": "FunctionName", "Value": recorder}],
        [{"Name": "EventSourceMappingUUID", "Value": mapping["UUID"]}],
    ):
        points = wait_until(
            lambda: cloudwatch.get_metric_statistics(
                Namespace="AWS/Lambda",
                MetricName="IteratorAge",
                Dimensions=dimensions,  # noqa: B023 - wait_until() is done with the lambda within this iteration
                StartTime=now - timedelta(minutes=5),
                EndTime=now + timedelta(minutes=1),
                Period=60,
                Statistics=["Maximum", "SampleCount"],
            )["Datapoints"],
            timeout=10,
            what="IteratorAge",
        )
        assert sum(p["SampleCount"] for p in points) == len(events)
        assert all(p["Unit"] == "Milliseconds" and p["Maximum"] >= 0 for p in points)


def test_latest_skips_what_was_there_before(lamina, kinesis, stream, recorder, mappings):
    arn = stream(1)
    put(kinesis, arn, [("k", {"n": "old"})])
    mappings(EventSourceArn=arn, FunctionName=recorder, StartingPosition="LATEST")
    time.sleep(0.5)
    put(kinesis, arn, [("k", {"n": "new"})])
    wait_for(lamina, recorder, lambda b: b, "the new record")
    time.sleep(0.3)
    assert batches(lamina, recorder) == [[{"n": "new"}]]


def test_bisect_on_error_isolates_the_poisoned_record(lamina, kinesis, sqs, stream, recorder, queue, mappings):
    arn = stream(1)
    url, queue_arn = queue()
    items = [("k", {"n": n, **({"poison": True} if n == 5 else {})}) for n in range(1, 10)]
    sequence = [r["SequenceNumber"] for r in put(kinesis, arn, items)]
    mappings(
        EventSourceArn=arn,
        FunctionName=recorder,
        StartingPosition="TRIM_HORIZON",
        BatchSize=9,
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    got = wait_for(lamina, recorder, lambda b: len(b) >= 7, "7 invocations")
    assert [[item["n"] for item in batch] for batch in got] == [
        [1, 2, 3, 4, 5, 6, 7, 8, 9],  # fails: split in two
        [1, 2, 3, 4],  # succeeds
        [5, 6, 7, 8, 9],  # fails: split
        [5, 6],  # fails: split
        [5],  # fails alone, no retries left: skipped to OnFailure
        [6],
        [7, 8, 9],
    ]
    messages = wait_until(
        lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages"),
        timeout=10,
        what="the OnFailure record",
    )
    record = json.loads(messages[0]["Body"])
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["functionArn"] == function_arn(recorder)
    assert record["responseContext"]["functionError"] == "Unhandled"
    info = record["KinesisBatchInfo"]
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == sequence[4]
    assert info["batchSize"] == 1 and info["streamArn"] == arn and info["shardId"].startswith("shardId-")
    time.sleep(0.5)
    assert len(batches(lamina, recorder)) == 7  # nothing retried after that


def test_parallelization_keeps_order_per_partition_key(lamina, kinesis, stream, create_function, unique_name, mappings):
    create_function(
        code={
            "app.py": f"""
        import json, time
        def handler(event, context):
            time.sleep(0.02)
            print("{MARK} %.6f %s" % (time.time(), json.dumps(event)))
        """
        },
        Timeout=30,
    )
    arn = stream(1)
    items = [(f"key-{n % 20}", {"key": f"key-{n % 20}", "n": n}) for n in range(400)]
    put(kinesis, arn, items)
    mappings(
        EventSourceArn=arn,
        FunctionName=unique_name,
        StartingPosition="TRIM_HORIZON",
        BatchSize=10,
        ParallelizationFactor=10,
    )
    wait_for(lamina, unique_name, lambda b: sum(map(len, b)) >= 400, "400 records", timeout=60)
    timed = seen(lamina, unique_name)
    order: dict[str, list[int]] = {}
    for _, event in timed:
        for record in event["Records"]:
            data = json.loads(base64.b64decode(record["kinesis"]["data"]))
            order.setdefault(data["key"], []).append(data["n"])
    assert order == {f"key-{k}": list(range(k, 400, 20)) for k in range(20)}


def test_filter_criteria_on_data(lamina, kinesis, stream, recorder, mappings):
    arn = stream(1)
    mappings(
        EventSourceArn=arn,
        FunctionName=recorder,
        StartingPosition="TRIM_HORIZON",
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"data": {"kind": ["keep"]}})}]},
    )
    put(
        kinesis,
        arn,
        [
            ("k", {"kind": "drop", "n": 1}),
            ("k", {"kind": "keep", "n": 2}),
            ("k", {"kind": "drop", "n": 3}),
            ("k", {"kind": "keep", "n": 4}),
        ],
    )
    wait_for(lamina, recorder, lambda b: sum(map(len, b)) >= 2, "the kept records")
    time.sleep(0.3)
    assert [item["n"] for batch in batches(lamina, recorder) for item in batch] == [2, 4]


def test_children_of_a_split_run_after_their_parent(lamina, kinesis, stream, recorder, mappings, unique_name):
    arn = stream(1)
    put(kinesis, arn, [("k", {"n": n}) for n in range(5)])
    shard = kinesis.list_shards(StreamARN=arn)["Shards"][0]
    middle = (int(shard["HashKeyRange"]["StartingHashKey"]) + int(shard["HashKeyRange"]["EndingHashKey"])) // 2
    kinesis.split_shard(StreamARN=arn, ShardToSplit=shard["ShardId"], NewStartingHashKey=str(middle))
    wait_until(
        lambda: kinesis.describe_stream_summary(StreamARN=arn)["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE",
        what="split done",
    )
    put(kinesis, arn, [("k", {"n": n}) for n in range(5, 10)])
    mappings(EventSourceArn=arn, FunctionName=recorder, StartingPosition="TRIM_HORIZON", BatchSize=2)
    got = wait_for(lamina, recorder, lambda b: sum(map(len, b)) >= 10, "10 records")
    assert [item["n"] for batch in got for item in batch] == list(range(10))  # one key: one order


FORWARDER = {
    "app.py": """
    import base64, json, os
    import boto3

    sqs = boto3.client("sqs")

    def handler(event, context):
        entries = [{"Id": str(i), "MessageBody": base64.b64decode(r["kinesis"]["data"]).decode()}
                   for i, r in enumerate(event["Records"])]
        for start in range(0, len(entries), 10):
            sqs.send_message_batch(QueueUrl=os.environ["QUEUE_URL"], Entries=entries[start:start + 10])
    """
}


def test_checkpoints_survive_kill_9(lamina_factory):
    server = lamina_factory()
    lam, kinesis, sqs = server.client("lambda"), server.client("kinesis"), server.client("sqs")
    url = sqs.create_queue(QueueName="seen")["QueueUrl"]
    lam.create_function(
        FunctionName="forward",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip(FORWARDER)},
        Timeout=30,
        Environment={"Variables": {"QUEUE_URL": url}},
    )
    kinesis.create_stream(StreamName="events", ShardCount=2)
    arn = kinesis.describe_stream_summary(StreamName="events")["StreamDescriptionSummary"]["StreamARN"]
    lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName="forward", StartingPosition="TRIM_HORIZON", BatchSize=20
    )
    total = 1500
    put(kinesis, arn, [(f"k{n % 7}", {"n": n}) for n in range(total // 2)])
    received: set[int] = set()

    def drain() -> int:
        while True:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages")
            if not messages:
                return len(received)
            received.update(json.loads(m["Body"])["n"] for m in messages)
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )

    wait_until(lambda: drain() >= 100, timeout=60, what="processing under way")
    os.kill(server.process.pid, signal.SIGKILL)  # mid-stream: batches in flight, checkpoints behind
    server.process.wait()
    server.start()
    kinesis, sqs = server.client("kinesis"), server.client("sqs")
    put(kinesis, arn, [(f"k{n % 7}", {"n": n}) for n in range(total // 2, total)])
    wait_until(lambda: drain() >= total, timeout=120, interval=0.5, what="every record forwarded")
    lost = set(range(total)) - received
    assert not lost, f"{len(lost)} records lost"
