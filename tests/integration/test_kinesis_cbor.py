"""Kinesis in CBOR, as the AWS SDK for Java talks it: the json protocol (X-Amz-Target) with
`content-type: application/x-amz-cbor-1.1` bodies, sent here as hand-built SigV4-signed
requests encoded with cbor2. Requests carry blobs as byte strings and timestamps as the
SDK writes them (tag 1, epoch seconds); answers come back in CBOR, blobs as byte strings
and timestamps as epoch milliseconds (what the SDK reads), errors as `__type` and
`message`. Every operation Lamina serves answers in CBOR."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

import botocore.session
import cbor2
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from .test_kinesis import ACCOUNT, arn_of

CBOR = "application/x-amz-cbor-1.1"
TARGET = "Kinesis_20131202"


def call(lamina, operation: str, body: dict, raw: bytes | None = None) -> tuple[int, dict, dict]:
    """(status, headers, decoded CBOR body) of one signed CBOR request."""
    data = raw if raw is not None else cbor2.dumps(body)
    request = AWSRequest(
        method="POST",
        url=f"{lamina.url}/",
        data=data,
        headers={"Content-Type": CBOR, "X-Amz-Target": f"{TARGET}.{operation}", "Accept": CBOR},
    )
    SigV4Auth(Credentials("test", "test"), "kinesis", "us-east-1").add_auth(request)
    prepared = urllib.request.Request(request.url, data=data, headers=dict(request.headers), method="POST")
    try:
        with urllib.request.urlopen(prepared, timeout=30) as answer:
            status, headers, payload = answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        status, headers, payload = error.code, dict(error.headers), error.read()
    headers = {k.lower(): v for k, v in headers.items()}
    assert headers["content-type"] == CBOR, (operation, status, headers, payload[:200])
    return status, headers, cbor2.loads(payload) if payload else {}


def ok(lamina, operation: str, body: dict) -> dict:
    status, _, answer = call(lamina, operation, body)
    assert status == 200, (operation, answer)
    return answer


def test_main_operations_in_cbor(lamina, unique_name):
    assert ok(lamina, "CreateStream", {"StreamName": unique_name, "ShardCount": 1}) == {}
    summary = ok(lamina, "DescribeStreamSummary", {"StreamName": unique_name})["StreamDescriptionSummary"]
    assert summary["StreamARN"] == arn_of(unique_name) and summary["StreamStatus"] == "ACTIVE"
    created = summary["StreamCreationTimestamp"]
    assert isinstance(created, int) and abs(created - time.time() * 1000) < 600_000  # epoch milliseconds

    put = ok(lamina, "PutRecord", {"StreamName": unique_name, "Data": b"\x00\xffone", "PartitionKey": "k"})
    assert put["ShardId"] == "shardId-000000000000" and len(put["SequenceNumber"]) == 56
    batch = ok(
        lamina,
        "PutRecords",
        {
            "StreamName": unique_name,
            "Records": [{"Data": b"two", "PartitionKey": "k"}, {"Data": b"", "PartitionKey": "k"}],
        },
    )
    assert batch["FailedRecordCount"] == 0 and len(batch["Records"]) == 2

    shards = ok(lamina, "ListShards", {"StreamName": unique_name})["Shards"]
    assert [s["ShardId"] for s in shards] == ["shardId-000000000000"]
    assert shards[0]["HashKeyRange"]["EndingHashKey"] == str(2**128 - 1)

    iterator = ok(
        lamina,
        "GetShardIterator",
        {"StreamName": unique_name, "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"},
    )["ShardIterator"]
    records = ok(lamina, "GetRecords", {"ShardIterator": iterator})
    assert [r["Data"] for r in records["Records"]] == [b"\x00\xffone", b"two", b""]  # byte strings
    arrived = records["Records"][0]["ApproximateArrivalTimestamp"]
    assert isinstance(arrived, int) and abs(arrived - time.time() * 1000) < 600_000
    assert records["Records"][0]["SequenceNumber"] == put["SequenceNumber"]
    assert isinstance(records["MillisBehindLatest"], int) and isinstance(records["NextShardIterator"], str)

    # A timestamp as the Java SDK writes one: tag 1, epoch seconds.
    since = cbor2.CBORTag(1, (datetime.now(timezone.utc) - timedelta(minutes=5)).timestamp())
    at = ok(
        lamina,
        "GetShardIterator",
        {
            "StreamName": unique_name,
            "ShardId": "shardId-000000000000",
            "ShardIteratorType": "AT_TIMESTAMP",
            "Timestamp": since,
        },
    )["ShardIterator"]
    assert len(ok(lamina, "GetRecords", {"ShardIterator": at})["Records"]) == 3
    ok(lamina, "DeleteStream", {"StreamName": unique_name})


def test_errors_in_cbor(lamina, unique_name):
    status, headers, answer = call(lamina, "DescribeStreamSummary", {"StreamName": unique_name})
    assert status == 400 and headers["x-amzn-errortype"] == "ResourceNotFoundException"
    assert answer == {
        "__type": "ResourceNotFoundException",
        "message": f"Stream {unique_name} under account {ACCOUNT} not found.",
    }
    # The model's constraints, in AWS's words.
    status, _, answer = call(lamina, "PutRecord", {"StreamName": unique_name, "Data": b"x", "PartitionKey": ""})
    assert status == 400 and answer["__type"] == "ValidationException"
    assert "at 'partitionKey' failed to satisfy constraint" in answer["message"]
    # A body that is not CBOR.
    status, _, answer = call(lamina, "ListStreams", {}, raw=b"\xff\xfe not cbor")
    assert status == 400 and answer["__type"] == "SerializationException"
    # An operation Lamina leaves to AWS answers in CBOR too.
    status, _, answer = call(lamina, "ListChannels", {})
    assert status == 501 and answer["__type"]


def test_every_operation_answers_in_cbor(lamina, unique_name):
    """Each operation of the model, with its required members filled in plainly: whatever
    the answer (a result or an error), it is CBOR the client can read."""
    ok(lamina, "CreateStream", {"StreamName": unique_name, "ShardCount": 1})
    model = botocore.session.get_session().get_service_model("kinesis")
    values = {
        "StreamName": unique_name,
        "StreamARN": arn_of(unique_name),
        "ResourceARN": arn_of(unique_name),
        "ShardId": "shardId-000000000000",
        "ConsumerName": "cbor-reader",
        "PartitionKey": "k",
        "ShardIteratorType": "TRIM_HORIZON",
    }
    statuses = {}
    for name in model.operation_names:
        if name in ("SubscribeToShard", "DeleteStream"):
            continue  # an event stream (test_kinesis_fanout.py); the stream is deleted below
        shape = model.operation_model(name).input_shape
        members = shape.members if shape is not None else {}
        body = {m: v for m, v in values.items() if m in members and not (m == "StreamARN" and "StreamName" in members)}
        for member in shape.required_members if shape is not None else ():
            body.setdefault(member, _plain(members[member], values))
        status, _, answer = call(lamina, name, body)
        statuses[name] = status
        assert status == 200 or answer.get("__type"), (name, status, answer)
    answered = {name for name, status in statuses.items() if status == 200}
    assert {
        "DescribeStream",
        "DescribeStreamSummary",
        "ListShards",
        "ListStreams",
        "DescribeLimits",
        "DescribeAccountSettings",
        "RegisterStreamConsumer",
        "PutRecord",
        "PutRecords",
        "GetShardIterator",
        "ListTagsForStream",
        "EnableEnhancedMonitoring",
    } <= answered
    ok(lamina, "DeleteStream", {"StreamName": unique_name, "EnforceConsumerDeletion": True})


def _plain(shape, values: dict):
    kind = shape.type_name
    if kind == "string":
        return shape.enum[0] if shape.enum else "x"
    if kind in ("integer", "long"):
        return int(shape.metadata.get("min", 1))
    if kind == "boolean":
        return False
    if kind == "blob":
        return b"x"
    if kind == "timestamp":
        return cbor2.CBORTag(1, time.time())
    if kind == "list":
        return [_plain(shape.member, values)]
    if kind == "map":
        return {"k": _plain(shape.value, values)}
    return {
        m: values.get(m) or _plain(s, values)
        for m, s in shape.members.items()
        if m in shape.required_members or m == "PartitionKey"
    }


def test_json_is_still_json(lamina):
    """The same endpoint keeps answering JSON requests in JSON."""
    kinesis = lamina.client("kinesis")
    assert "StreamNames" in kinesis.list_streams()
