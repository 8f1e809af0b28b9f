"""Kinesis Data Streams against a live server, through boto3: streams and their settings,
records and iterators, with AWS's error codes and messages. Resharding, durability and
retention have files of their own (test_kinesis_resharding.py, test_kinesis_crash.py)."""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from .test_lambda_helpers import unvalidated_client

ACCOUNT = "000000000000"
MIB = 1024 * 1024


# --- helpers (imported by the other Kinesis suites) -------------------------------------------


def arn_of(name: str) -> str:
    return f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{name}"


def error_of(excinfo) -> tuple[str, str, int]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def shard_ids(client, name: str) -> list[str]:
    return [s["ShardId"] for s in client.list_shards(StreamName=name)["Shards"]]


def read_shard(client, name: str, shard_id: str, kind: str = "TRIM_HORIZON", **start) -> tuple[list[dict], dict]:
    """Every record from the iterator to the end of what is there: (records, the last response)."""
    iterator = client.get_shard_iterator(StreamName=name, ShardId=shard_id, ShardIteratorType=kind, **start)[
        "ShardIterator"
    ]
    records: list[dict] = []
    while True:
        response = client.get_records(ShardIterator=iterator, Limit=10000)
        records.extend(response["Records"])
        iterator = response.get("NextShardIterator")
        if iterator is None or not response["Records"]:
            return records, response


def md5_key(partition_key: str) -> int:
    return int(hashlib.md5(partition_key.encode()).hexdigest(), 16)


# --- streams ------------------------------------------------------------------------------------


def test_create_describe_list_and_delete(kinesis, unique_name):
    kinesis.create_stream(StreamName=unique_name, ShardCount=3)
    kinesis.get_waiter("stream_exists").wait(StreamName=unique_name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
    description = kinesis.describe_stream(StreamName=unique_name)["StreamDescription"]
    assert description["StreamStatus"] == "ACTIVE" and description["StreamARN"] == arn_of(unique_name)
    assert description["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert description["RetentionPeriodHours"] == 24 and description["EncryptionType"] == "NONE"
    assert description["HasMoreShards"] is False
    assert abs(description["StreamCreationTimestamp"].timestamp() - time.time()) < 60
    shards = description["Shards"]
    assert [s["ShardId"] for s in shards] == ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002"]
    assert [s["HashKeyRange"] for s in shards] == [  # the ranges AWS gives a 3-shard stream
        {"StartingHashKey": "0", "EndingHashKey": "113427455640312821154458202477256070484"},
        {
            "StartingHashKey": "113427455640312821154458202477256070485",
            "EndingHashKey": "226854911280625642308916404954512140969",
        },
        {
            "StartingHashKey": "226854911280625642308916404954512140970",
            "EndingHashKey": "340282366920938463463374607431768211455",
        },
    ]
    for shard in shards:
        start = shard["SequenceNumberRange"]["StartingSequenceNumber"]
        assert len(start) == 56 and start.isdigit() and "EndingSequenceNumber" not in shard["SequenceNumberRange"]

    summary = kinesis.describe_stream_summary(StreamName=unique_name)["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == 3 and summary["ConsumerCount"] == 0 and summary["MaxRecordSizeInKiB"] == 1024
    assert summary["EnhancedMonitoring"] == [{"ShardLevelMetrics": []}]

    listed = kinesis.list_streams()
    assert unique_name in listed["StreamNames"]
    [mine] = [s for s in listed["StreamSummaries"] if s["StreamName"] == unique_name]
    assert mine["StreamARN"] == arn_of(unique_name) and mine["StreamStatus"] == "ACTIVE"

    kinesis.delete_stream(StreamName=unique_name, EnforceConsumerDeletion=True)
    kinesis.get_waiter("stream_not_exists").wait(StreamName=unique_name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
    with pytest.raises(ClientError) as excinfo:
        kinesis.describe_stream(StreamName=unique_name)
    assert error_of(excinfo) == (
        "ResourceNotFoundException",
        f"Stream {unique_name} under account {ACCOUNT} not found.",
        400,
    )
    assert unique_name not in kinesis.list_streams()["StreamNames"]


def test_create_stream_errors(kinesis, lamina, unique_name):
    kinesis.create_stream(StreamName=unique_name, ShardCount=1)
    with pytest.raises(ClientError) as excinfo:
        kinesis.create_stream(StreamName=unique_name, ShardCount=1)
    assert error_of(excinfo) == (
        "ResourceInUseException",
        f"Stream {unique_name} under account {ACCOUNT} already exists.",
        400,
    )
    raw = unvalidated_client(lamina, "kinesis")
    with pytest.raises(ClientError) as excinfo:
        raw.create_stream(StreamName="bad name!", ShardCount=0)
    code, message, status = error_of(excinfo)
    assert (code, status) == ("ValidationException", 400) and message.startswith("2 validation errors detected:")
    assert "Member must have value greater than or equal to 1" in message
    with pytest.raises(ClientError) as excinfo:
        kinesis.create_stream(StreamName=unique_name + "-big", ShardCount=100000)
    code, message, _ = error_of(excinfo)
    assert code == "LimitExceededException"
    assert message.startswith(f"This request would exceed the shard limit for the account {ACCOUNT} in us-east-1.")
    assert "Number of additional shards that would have resulted from this request: 100000." in message
    with pytest.raises(ClientError) as excinfo:
        kinesis.create_stream(StreamName=unique_name + "-p", StreamModeDetails={"StreamMode": "PROVISIONED"})
    assert error_of(excinfo)[0] == "InvalidArgumentException"
    kinesis.delete_stream(StreamName=unique_name)


def test_on_demand_streams(kinesis, unique_name):
    kinesis.create_stream(StreamName=unique_name, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    summary = kinesis.describe_stream_summary(StreamName=unique_name)["StreamDescriptionSummary"]
    assert summary["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"} and summary["OpenShardCount"] == 4
    with pytest.raises(ClientError) as excinfo:
        kinesis.update_shard_count(StreamName=unique_name, TargetShardCount=8, ScalingType="UNIFORM_SCALING")
    assert error_of(excinfo) == (
        "ValidationException",
        f"Request is invalid. Stream {unique_name} under account {ACCOUNT} is in On-Demand mode.",
        400,
    )
    kinesis.update_stream_mode(StreamARN=arn_of(unique_name), StreamModeDetails={"StreamMode": "PROVISIONED"})
    assert kinesis.describe_stream(StreamName=unique_name)["StreamDescription"]["StreamModeDetails"] == {
        "StreamMode": "PROVISIONED"
    }
    kinesis.update_shard_count(StreamName=unique_name, TargetShardCount=5, ScalingType="UNIFORM_SCALING")
    # Neither a ShardCount nor a mode: on-demand, as AWS does now.
    kinesis.create_stream(StreamName=unique_name + "-d")
    summary = kinesis.describe_stream_summary(StreamName=unique_name + "-d")["StreamDescriptionSummary"]
    assert summary["StreamModeDetails"]["StreamMode"] == "ON_DEMAND"
    for name in (unique_name, unique_name + "-d"):
        kinesis.delete_stream(StreamName=name)


def test_a_missing_stream_is_the_same_error_everywhere(kinesis):
    calls = {
        "describe_stream": {},
        "describe_stream_summary": {},
        "delete_stream": {},
        "list_shards": {},
        "put_record": {"Data": b"x", "PartitionKey": "k"},
        "put_records": {"Records": [{"Data": b"x", "PartitionKey": "k"}]},
        "add_tags_to_stream": {"Tags": {"a": "b"}},
        "list_tags_for_stream": {},
        "increase_stream_retention_period": {"RetentionPeriodHours": 48},
        "split_shard": {"ShardToSplit": "shardId-000000000000", "NewStartingHashKey": "10"},
        "update_shard_count": {"TargetShardCount": 2, "ScalingType": "UNIFORM_SCALING"},
    }
    for operation, params in calls.items():
        with pytest.raises(ClientError) as excinfo:
            getattr(kinesis, operation)(StreamName="no-such-stream", **params)
        assert error_of(excinfo) == (
            "ResourceNotFoundException",
            f"Stream no-such-stream under account {ACCOUNT} not found.",
            400,
        ), operation
    with pytest.raises(ClientError) as excinfo:
        kinesis.get_shard_iterator(
            StreamName="no-such-stream", ShardId="shardId-000000000000", ShardIteratorType="LATEST"
        )
    assert error_of(excinfo)[:2] == (
        "ResourceNotFoundException",
        f"Shard shardId-000000000000 in stream no-such-stream under account {ACCOUNT} does not exist",
    )
    with pytest.raises(ClientError) as excinfo:
        kinesis.list_tags_for_resource(ResourceARN=arn_of("no-such-stream"))
    assert error_of(excinfo)[0] == "ResourceNotFoundException"


def test_stream_arn_works_wherever_the_name_does(kinesis, lamina, unique_name):
    arn = arn_of(unique_name)
    kinesis.create_stream(StreamName=unique_name, ShardCount=1)
    assert kinesis.describe_stream_summary(StreamARN=arn)["StreamDescriptionSummary"]["StreamName"] == unique_name
    assert kinesis.describe_stream(StreamARN=arn, StreamName=unique_name)["StreamDescription"]["StreamARN"] == arn
    put = kinesis.put_record(StreamARN=arn, Data=b"one", PartitionKey="k")
    kinesis.put_records(StreamARN=arn, Records=[{"Data": b"two", "PartitionKey": "k"}])
    [shard] = [s["ShardId"] for s in kinesis.list_shards(StreamARN=arn)["Shards"]]
    iterator = kinesis.get_shard_iterator(
        StreamARN=arn,
        ShardId=shard,
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        StartingSequenceNumber=put["SequenceNumber"],
    )["ShardIterator"]
    records = kinesis.get_records(ShardIterator=iterator, StreamARN=arn)["Records"]
    assert [r["Data"] for r in records] == [b"one", b"two"]
    kinesis.add_tags_to_stream(StreamARN=arn, Tags={"team": "data"})
    assert kinesis.list_tags_for_stream(StreamARN=arn)["Tags"] == [{"Key": "team", "Value": "data"}]
    kinesis.increase_stream_retention_period(StreamARN=arn, RetentionPeriodHours=36)
    kinesis.start_stream_encryption(StreamARN=arn, EncryptionType="KMS", KeyId="alias/aws/kinesis")
    kinesis.update_shard_count(StreamARN=arn, TargetShardCount=2, ScalingType="UNIFORM_SCALING")
    assert kinesis.describe_stream_summary(StreamARN=arn)["StreamDescriptionSummary"]["OpenShardCount"] == 2

    with pytest.raises(ClientError) as excinfo:
        kinesis.describe_stream_summary(StreamARN=arn, StreamName="another-name")
    assert error_of(excinfo)[0] == "InvalidArgumentException"
    with pytest.raises(ClientError) as excinfo:
        unvalidated_client(lamina, "kinesis").describe_stream_summary()
    assert error_of(excinfo)[0] == "InvalidArgumentException"
    kinesis.delete_stream(StreamARN=arn)
    with pytest.raises(ClientError):
        kinesis.describe_stream_summary(StreamARN=arn)


def test_list_streams_pages(kinesis, unique_name):
    names = [f"{unique_name}-{i}" for i in range(3)]
    for name in names:
        kinesis.create_stream(StreamName=name, ShardCount=1)
    seen, token = [], None
    while True:
        page = kinesis.list_streams(Limit=2, **({"NextToken": token} if token else {}))
        assert len(page["StreamNames"]) <= 2
        assert page["StreamNames"] == [s["StreamName"] for s in page["StreamSummaries"]]
        seen.extend(page["StreamNames"])
        if not page["HasMoreStreams"]:
            assert "NextToken" not in page
            break
        token = page["NextToken"]
    assert seen == sorted(set(seen)) and set(names) <= set(seen)
    after = kinesis.list_streams(ExclusiveStartStreamName=names[0], Limit=100)["StreamNames"]
    assert names[0] not in after and names[1] in after
    with pytest.raises(ClientError) as excinfo:
        kinesis.list_streams(NextToken="not-a-token")
    assert error_of(excinfo)[0] == "InvalidArgumentException"
    for name in names:
        kinesis.delete_stream(StreamName=name)


def test_describe_stream_and_list_shards_page(kinesis, unique_name):
    kinesis.create_stream(StreamName=unique_name, ShardCount=5)
    first = kinesis.describe_stream(StreamName=unique_name, Limit=2)["StreamDescription"]
    assert [s["ShardId"][-1] for s in first["Shards"]] == ["0", "1"] and first["HasMoreShards"] is True
    rest = kinesis.describe_stream(StreamName=unique_name, ExclusiveStartShardId="shardId-000000000001")
    assert [s["ShardId"][-1] for s in rest["StreamDescription"]["Shards"]] == ["2", "3", "4"]
    paged = (
        kinesis.get_paginator("describe_stream")
        .paginate(StreamName=unique_name, PaginationConfig={"PageSize": 2})
        .build_full_result()
    )
    assert len(paged["StreamDescription"]["Shards"]) == 5

    page = kinesis.list_shards(StreamName=unique_name, MaxResults=3)
    assert [s["ShardId"][-1] for s in page["Shards"]] == ["0", "1", "2"]
    following = kinesis.list_shards(NextToken=page["NextToken"])
    assert [s["ShardId"][-1] for s in following["Shards"]] == ["3", "4"] and "NextToken" not in following
    with pytest.raises(ClientError) as excinfo:
        kinesis.list_shards(StreamName=unique_name, NextToken=page["NextToken"])
    assert error_of(excinfo) == (
        "InvalidArgumentException",
        "NextToken and StreamName cannot be provided together.",
        400,
    )
    after = kinesis.list_shards(StreamName=unique_name, ExclusiveStartShardId="shardId-000000000003")
    assert [s["ShardId"] for s in after["Shards"]] == ["shardId-000000000004"]
    filtered = kinesis.list_shards(
        StreamName=unique_name, ShardFilter={"Type": "AFTER_SHARD_ID", "ShardId": "shardId-000000000002"}
    )
    assert len(filtered["Shards"]) == 2
    kinesis.delete_stream(StreamName=unique_name)


# --- records ------------------------------------------------------------------------------------


def test_put_record_and_read_it_back(kinesis, unique_name):
    kinesis.create_stream(StreamName=unique_name, ShardCount=1)
    before = time.time()
    put = kinesis.put_record(StreamName=unique_name, Data=b"\x00hello\xff", PartitionKey="key-1")
    assert put["ShardId"] == "shardId-000000000000" and len(put["SequenceNumber"]) == 56
    records, last = read_shard(kinesis, unique_name, put["ShardId"])
    [record] = records
    assert record["Data"] == b"\x00hello\xff" and record["PartitionKey"] == "key-1"
    assert record["SequenceNumber"] == put["SequenceNumber"]
    assert before - 1 <= record["ApproximateArrivalTimestamp"].timestamp() <= time.time() + 1
    assert last["MillisBehindLatest"] == 0 and last["NextShardIterator"] and "ChildShards" not in last
    kinesis.delete_stream(StreamName=unique_name)


def test_a_partition_key_always_lands_on_the_same_shard(kinesis, unique_name):
    kinesis.create_stream(StreamName=unique_name, ShardCount=4)
    ranges = {
        s["ShardId"]: (int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"]))
        for s in kinesis.list_shards(StreamName=unique_name)["Shards"]
    }
    keys = [f"user-{i}" for i in range(40)] + ["ü-unicode", "x" * 256]
    first = {key: kinesis.put_record(StreamName=unique_name, Data=b"1", PartitionKey=key)["ShardId"] for key in keys}
    batch = kinesis.put_records(StreamName=unique_name, Records=[{"Data": b"2", "PartitionKey": k} for k in keys])
    assert [r["ShardId"] for r in batch["Records"]] == [first[k] for k in keys]
    for key, shard_id in first.items():
        low, high = ranges[shard_id]
        assert low <= md5_key(key) <= high, key
    assert len(set(first.values())) == 4  # 42 keys spread over every shard
    # An explicit hash key overrides the partition key.
    for shard_id, (low, high) in ranges.items():
        for hash_key in (low, high):
            put = kinesis.put_record(
                StreamName=unique_name, Data=b"3", PartitionKey="ignored", ExplicitHashKey=str(hash_key)
            )
            assert put["ShardId"] == shard_id
    kinesis.delete_stream(StreamName=unique_name)


def test_sequence_numbers_rise_in_put_order(kinesis, unique_name):
    kinesis.create_stream(StreamName=unique_name, ShardCount=2)
    numbers = []
    previous = None
    for i in range(5):
        put = kinesis.put_record(
            StreamName=unique_name,
            Data=b"%d" % i,
            PartitionKey="same-key",
            **({"SequenceNumberForOrdering": previous} if previous else {}),
        )
        numbers.append(int(put["SequenceNumber"]))
        previous = put["SequenceNumber"]
    batch = kinesis.put_records(
        StreamName=unique_name, Records=[{"Data": b"b%d" % i, "PartitionKey": f"k{i}"} for i in range(20)]
    )
    numbers.extend(int(r["SequenceNumber"]) for r in batch["Records"])
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    with pytest.raises(ClientError) as excinfo:
        kinesis.put_record(StreamName=unique_name, Data=b"x", PartitionKey="k", SequenceNumberForOrdering="12345")
    assert error_of(excinfo) == (
        "InvalidArgumentException",
        f"ExclusiveMinimumSequenceNumber 12345 used in PutRecord "
        f"on stream {unique_name} under account {ACCOUNT} is invalid.",
        400,
    )
    kinesis.delete_stream(StreamName=unique_name)


def test_put_records_answers_per_record_and_refuses_bad_requests_whole(kinesis, lamina, unique_name):
    kinesis.create_stream(StreamName=unique_name, ShardCount=2)
    entries = [{"Data": b"r%d" % i, "PartitionKey": f"k{i}"} for i in range(500)]
    result = kinesis.put_records(StreamName=unique_name, Records=entries)
    assert result["FailedRecordCount"] == 0 and len(result["Records"]) == 500
    assert all(set(r) == {"ShardId", "SequenceNumber"} for r in result["Records"])

    good = {"Data": b"fine", "PartitionKey": "k"}
    refused = [
        # (records, code, message): AWS checks the whole request before writing any record
        (
            [good, {"Data": b"x" * (MIB - 2), "PartitionKey": "abc"}, good],
            "ValidationException",
            "1 validation error detected: Value at 'records.2.member.data' failed to satisfy constraint: "
            "Member must have length less than or equal to 1048576",
        ),
        (
            [good, {"Data": b"x", "PartitionKey": "k", "ExplicitHashKey": str(2**128)}],
            "InvalidArgumentException",
            "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
            f"Specified value was {2**128}",
        ),
        (
            [{"Data": b"x" * (MIB - 10), "PartitionKey": "k"}] * 6,
            "InvalidArgumentException",
            "Records size exceeds 5 MB limit",
        ),
    ]
    for records, code, message in refused:
        with pytest.raises(ClientError) as excinfo:
            kinesis.put_records(StreamName=unique_name, Records=records)
        assert error_of(excinfo) == (code, message, 400)
    raw = unvalidated_client(lamina, "kinesis")
    for records, path in (
        ([good] * 501, "'records' failed to satisfy constraint: Member must have length less than or equal to 500"),
        ([good, {"Data": b"x", "PartitionKey": ""}], "records.2.member.partitionKey"),
        ([{"Data": b"x", "PartitionKey": "p" * 257}], "records.1.member.partitionKey"),
        ([{"Data": b"x", "PartitionKey": "k", "ExplicitHashKey": "12ab"}], "records.1.member.explicitHashKey"),
    ):
        with pytest.raises(ClientError) as excinfo:
            raw.put_records(StreamName=unique_name, Records=records)
        code, message, _ = error_of(excinfo)
        assert code == "ValidationException" and path in message, message
    with pytest.raises(ClientError) as excinfo:
        kinesis.put_record(StreamName=unique_name, Data=b"x" * MIB, PartitionKey="k")
    assert error_of(excinfo)[1] == (
        "1 validation error detected: Value at 'data' failed to satisfy constraint: "
        "Member must have length less than or equal to 1048576"
    )
    # Nothing of the refused requests was written; a record of exactly 1 MiB (key included) is fine.
    kinesis.put_record(StreamName=unique_name, Data=b"y" * (MIB - 1), PartitionKey="k")
    total = sum(len(read_shard(kinesis, unique_name, shard)[0]) for shard in shard_ids(kinesis, unique_name))
    assert total == 501
    kinesis.delete_stream(StreamName=unique_name)


def test_larger_records_once_the_stream_allows_them(kinesis, unique_name):
    kinesis.create_stream(StreamName=unique_name, ShardCount=1, MaxRecordSizeInKiB=2048)
    assert (
        kinesis.describe_stream_summary(StreamName=unique_name)["StreamDescriptionSummary"]["MaxRecordSizeInKiB"]
        == 2048
    )
    kinesis.put_record(StreamName=unique_name, Data=b"z" * (MIB + MIB // 2), PartitionKey="big")
    kinesis.update_max_record_size(StreamARN=arn_of(unique_name), MaxRecordSizeInKiB=1024)
    with pytest.raises(ClientError) as excinfo:
        kinesis.put_record(StreamName=unique_name, Data=b"z" * (MIB + MIB // 2), PartitionKey="big")
    assert error_of(excinfo)[0] == "ValidationException"
    [record], _ = read_shard(kinesis, unique_name, "shardId-000000000000")
    assert len(record["Data"]) == MIB + MIB // 2
    kinesis.delete_stream(StreamName=unique_name)


def test_every_iterator_type(kinesis, unique_name):
    kinesis.create_stream(StreamName=unique_name, ShardCount=1)
    shard = "shardId-000000000000"
    numbers = [
        kinesis.put_record(StreamName=unique_name, Data=b"%d" % i, PartitionKey="k")["SequenceNumber"] for i in range(3)
    ]
    time.sleep(0.01)
    middle = datetime.now(timezone.utc)
    time.sleep(0.01)
    numbers += [
        kinesis.put_record(StreamName=unique_name, Data=b"%d" % i, PartitionKey="k")["SequenceNumber"]
        for i in range(3, 5)
    ]

    def data(records):
        return [r["Data"] for r in records]

    assert data(read_shard(kinesis, unique_name, shard)[0]) == [b"0", b"1", b"2", b"3", b"4"]
    assert data(
        read_shard(kinesis, unique_name, shard, "AT_SEQUENCE_NUMBER", StartingSequenceNumber=numbers[2])[0]
    ) == [b"2", b"3", b"4"]
    assert data(
        read_shard(kinesis, unique_name, shard, "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=numbers[2])[0]
    ) == [b"3", b"4"]
    assert data(read_shard(kinesis, unique_name, shard, "AT_TIMESTAMP", Timestamp=middle)[0]) == [b"3", b"4"]
    assert data(read_shard(kinesis, unique_name, shard, "AT_TIMESTAMP", Timestamp=middle - timedelta(hours=1))[0]) == [
        b"0",
        b"1",
        b"2",
        b"3",
        b"4",
    ]
    latest = kinesis.get_shard_iterator(StreamName=unique_name, ShardId=shard, ShardIteratorType="LATEST")[
        "ShardIterator"
    ]
    empty = kinesis.get_records(ShardIterator=latest)
    assert empty["Records"] == [] and empty["MillisBehindLatest"] == 0
    kinesis.put_record(StreamName=unique_name, Data=b"5", PartitionKey="k")
    assert data(kinesis.get_records(ShardIterator=empty["NextShardIterator"])["Records"]) == [b"5"]
    assert data(kinesis.get_records(ShardIterator=latest)["Records"]) == [b"5"]  # an iterator can be used again
    # AWS takes "shardId-0", "0" or "anything-0" for shardId-000000000000.
    for given in ("shardId-0", "0", "whatever-0"):
        assert len(read_shard(kinesis, unique_name, given)[0]) == 6
    kinesis.delete_stream(StreamName=unique_name)


def test_get_shard_iterator_errors(kinesis, unique_name):
    kinesis.create_stream(StreamName=unique_name, ShardCount=2)
    other = unique_name + "-other"
    kinesis.create_stream(StreamName=other, ShardCount=1)
    on_0 = kinesis.put_record(StreamName=unique_name, Data=b"a", PartitionKey="k", ExplicitHashKey="0")[
        "SequenceNumber"
    ]
    elsewhere = kinesis.put_record(StreamName=other, Data=b"a", PartitionKey="k")["SequenceNumber"]
    base = {"StreamName": unique_name, "ShardId": "shardId-000000000000"}
    where = f"in stream {unique_name} under account {ACCOUNT}"
    both = (
        "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) "
        "TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified "
    )
    cases = [
        (
            {**base, "ShardId": "shardId-000000000009", "ShardIteratorType": "LATEST"},
            "ResourceNotFoundException",
            f"Shard shardId-000000000009 {where} does not exist",
        ),
        (
            {**base, "ShardId": "bogus", "ShardIteratorType": "LATEST"},
            "ResourceNotFoundException",
            f"Could not find shard bogus {where}.",
        ),
        (
            {**base, "ShardIteratorType": "TRIM_HORIZON", "StartingSequenceNumber": on_0},
            "InvalidArgumentException",
            both + "TRIM_HORIZON and also a StartingSequenceNumber.",
        ),
        (
            {**base, "ShardIteratorType": "AT_SEQUENCE_NUMBER"},
            "InvalidArgumentException",
            both + "AT_SEQUENCE_NUMBER and no StartingSequenceNumber.",
        ),
        (
            {
                **base,
                "ShardId": "shardId-000000000001",
                "ShardIteratorType": "AT_SEQUENCE_NUMBER",
                "StartingSequenceNumber": on_0,
            },
            "InvalidArgumentException",
            "Invalid StartingSequenceNumber. It encodes shardId-000000000000, while it was used in a call to a shard "
            "with shardId-000000000001",
        ),
        (
            {**base, "ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": elsewhere},
            "InvalidArgumentException",
            f"StartingSequenceNumber {elsewhere} used in GetShardIterator on shard "
            f"shardId-000000000000 {where} is invalid because it did not come from this "
            "stream.",
        ),
        (
            {**base, "ShardIteratorType": "AT_SEQUENCE_NUMBER", "StartingSequenceNumber": "12345"},
            "InvalidArgumentException",
            f"StartingSequenceNumber 12345 used in GetShardIterator on shard shardId-000000000000 {where} is invalid.",
        ),
        (
            {**base, "ShardIteratorType": "AT_TIMESTAMP"},
            "InvalidArgumentException",
            "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no "
            "timestamp parameter.",
        ),
    ]
    for params, code, message in cases:
        with pytest.raises(ClientError) as excinfo:
            kinesis.get_shard_iterator(**params)
        assert error_of(excinfo) == (code, message, 400), params
    with pytest.raises(ClientError) as excinfo:
        kinesis.get_shard_iterator(
            **base, ShardIteratorType="AT_TIMESTAMP", Timestamp=datetime.now(timezone.utc) + timedelta(hours=1)
        )
    assert error_of(excinfo)[1].startswith(
        "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis."
    )
    for name in (unique_name, other):
        kinesis.delete_stream(StreamName=name)


def test_get_records_pages_with_limit_and_refuses_bad_iterators(kinesis, lamina, unique_name):
    kinesis.create_stream(StreamName=unique_name, ShardCount=1)
    kinesis.put_records(StreamName=unique_name, Records=[{"Data": b"%02d" % i, "PartitionKey": "k"} for i in range(25)])
    iterator = kinesis.get_shard_iterator(
        StreamName=unique_name, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    pages = []
    while True:
        response = kinesis.get_records(ShardIterator=iterator, Limit=10)
        if not response["Records"]:
            break
        pages.append([r["Data"] for r in response["Records"]])
        assert response["MillisBehindLatest"] >= 0
        iterator = response["NextShardIterator"]
    assert [len(p) for p in pages] == [10, 10, 5]
    assert sum(pages, []) == [b"%02d" % i for i in range(25)]

    with pytest.raises(ClientError) as excinfo:
        kinesis.get_records(ShardIterator="bm90IGFuIGl0ZXJhdG9y")
    assert error_of(excinfo) == ("InvalidArgumentException", "Invalid ShardIterator.", 400)
    with pytest.raises(ClientError) as excinfo:
        unvalidated_client(lamina, "kinesis").get_records(ShardIterator=iterator, Limit=10001)
    assert error_of(excinfo)[0] == "ValidationException"
    # An iterator is good for five minutes. The token's second field is when it was made
    # (lamina.services.kinesis.iterators): one made six minutes ago has expired.
    fields = base64.b64decode(iterator).decode().split("|")
    fields[1] = str(int(fields[1]) - 6 * 60 * 1000)
    stale = base64.b64encode("|".join(fields).encode()).decode()
    with pytest.raises(ClientError) as excinfo:
        kinesis.get_records(ShardIterator=stale)
    code, message, status = error_of(excinfo)
    assert (code, status) == ("ExpiredIteratorException", 400)
    assert message.startswith("Iterator expired. The iterator was created at time ")
    assert message.endswith("which is further in the future than the tolerated delay of 300000 milliseconds.")
    kinesis.delete_stream(StreamName=unique_name)
    with pytest.raises(ClientError) as excinfo:
        kinesis.get_records(ShardIterator=iterator)
    assert error_of(excinfo)[:2] == (
        "ResourceNotFoundException",
        f"Shard shardId-000000000000 in stream {unique_name} under account {ACCOUNT} does not exist",
    )


# --- settings -----------------------------------------------------------------------------------


def test_tags_by_stream_and_by_resource(kinesis, unique_name):
    kinesis.create_stream(StreamName=unique_name, ShardCount=1, Tags={"env": "test"})
    kinesis.add_tags_to_stream(StreamName=unique_name, Tags={"team": "data", "cost": "42"})
    listed = kinesis.list_tags_for_stream(StreamName=unique_name)
    assert listed["Tags"] == [
        {"Key": "cost", "Value": "42"},
        {"Key": "env", "Value": "test"},
        {"Key": "team", "Value": "data"},
    ]
    assert listed["HasMoreTags"] is False
    page = kinesis.list_tags_for_stream(StreamName=unique_name, Limit=2)
    assert [t["Key"] for t in page["Tags"]] == ["cost", "env"] and page["HasMoreTags"] is True
    rest = kinesis.list_tags_for_stream(StreamName=unique_name, ExclusiveStartTagKey="env")
    assert [t["Key"] for t in rest["Tags"]] == ["team"] and rest["HasMoreTags"] is False
    kinesis.remove_tags_from_stream(StreamName=unique_name, TagKeys=["cost", "absent"])
    arn = arn_of(unique_name)
    kinesis.tag_resource(ResourceARN=arn, Tags={"owner": "me"})
    kinesis.untag_resource(ResourceARN=arn, TagKeys=["env"])
    assert kinesis.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
        {"Key": "owner", "Value": "me"},
        {"Key": "team", "Value": "data"},
    ]
    with pytest.raises(ClientError) as excinfo:
        kinesis.add_tags_to_stream(StreamName=unique_name, Tags={f"k{i}": "v" for i in range(49)})
    assert error_of(excinfo) == (
        "InvalidArgumentException",
        f"Failed to add tags to stream {unique_name} under "
        f"account {ACCOUNT} because a given stream cannot have more than 50 tags associated "
        "with it.",
        400,
    )
    kinesis.delete_stream(StreamName=unique_name)


def test_retention_period_changes_and_limits(kinesis, unique_name):
    kinesis.create_stream(StreamName=unique_name, ShardCount=1)
    kinesis.increase_stream_retention_period(StreamName=unique_name, RetentionPeriodHours=168)
    assert kinesis.describe_stream(StreamName=unique_name)["StreamDescription"]["RetentionPeriodHours"] == 168
    kinesis.decrease_stream_retention_period(StreamName=unique_name, RetentionPeriodHours=48)
    cases = [
        (
            "increase_stream_retention_period",
            24,
            f"Requested retention period (24 hours) for stream {unique_name} can "
            "not be shorter than existing retention period (48 hours). Use DecreaseRetentionPeriod API.",
        ),
        (
            "decrease_stream_retention_period",
            72,
            f"Requested retention period (72 hours) for stream {unique_name} can "
            "not be longer than existing retention period (48 hours). Use IncreaseRetentionPeriod API.",
        ),
        (
            "decrease_stream_retention_period",
            23,
            "Minimum allowed retention period is 24 hours. Requested retention period (23 hours) is too short.",
        ),
        (
            "increase_stream_retention_period",
            8761,
            "Maximum allowed retention period is 8760 hours. Requested retention period (8761 hours) is too long.",
        ),
    ]
    for operation, hours, message in cases:
        with pytest.raises(ClientError) as excinfo:
            getattr(kinesis, operation)(StreamName=unique_name, RetentionPeriodHours=hours)
        assert error_of(excinfo) == ("InvalidArgumentException", message, 400)
    assert (
        kinesis.describe_stream_summary(StreamName=unique_name)["StreamDescriptionSummary"]["RetentionPeriodHours"]
        == 48
    )
    kinesis.delete_stream(StreamName=unique_name)


def test_encryption_monitoring_limits_and_consumers(kinesis, lamina, unique_name):
    kinesis.create_stream(StreamName=unique_name, ShardCount=2)
    kinesis.start_stream_encryption(StreamName=unique_name, EncryptionType="KMS", KeyId="alias/aws/kinesis")
    summary = kinesis.describe_stream_summary(StreamName=unique_name)["StreamDescriptionSummary"]
    assert (summary["EncryptionType"], summary["KeyId"]) == ("KMS", "alias/aws/kinesis")
    assert kinesis.put_record(StreamName=unique_name, Data=b"s", PartitionKey="k")["EncryptionType"] == "KMS"
    assert (
        kinesis.put_records(StreamName=unique_name, Records=[{"Data": b"s", "PartitionKey": "k"}])["EncryptionType"]
        == "KMS"
    )
    records = [r for shard in shard_ids(kinesis, unique_name) for r in read_shard(kinesis, unique_name, shard)[0]]
    assert [r["EncryptionType"] for r in records] == ["KMS", "KMS"]
    kinesis.stop_stream_encryption(StreamName=unique_name, EncryptionType="KMS", KeyId="alias/aws/kinesis")
    summary = kinesis.describe_stream_summary(StreamName=unique_name)["StreamDescriptionSummary"]
    assert summary["EncryptionType"] == "NONE" and "KeyId" not in summary

    enabled = kinesis.enable_enhanced_monitoring(StreamName=unique_name, ShardLevelMetrics=["ALL"])
    assert enabled["CurrentShardLevelMetrics"] == [] and len(enabled["DesiredShardLevelMetrics"]) == 7
    disabled = kinesis.disable_enhanced_monitoring(StreamName=unique_name, ShardLevelMetrics=["IncomingBytes"])
    assert "IncomingBytes" not in disabled["DesiredShardLevelMetrics"]
    assert kinesis.describe_stream(StreamName=unique_name)["StreamDescription"]["EnhancedMonitoring"] == [
        {"ShardLevelMetrics": disabled["DesiredShardLevelMetrics"]}
    ]

    limits = kinesis.describe_limits()
    assert limits["ShardLimit"] == 500 and limits["OnDemandStreamCountLimit"] == 50
    assert limits["OpenShardCount"] >= 2
    assert kinesis.list_stream_consumers(StreamARN=arn_of(unique_name))["Consumers"] == []
    kinesis.delete_stream(StreamName=unique_name)


def test_many_producers_at_once(lamina, unique_name):
    """Concurrent PutRecords calls all land, each shard's records in rising order."""
    client = lamina.client("kinesis")
    client.create_stream(StreamName=unique_name, ShardCount=3)
    sent: list[bytes] = []
    lock = threading.Lock()

    def producer(worker: int) -> None:
        own = lamina.client("kinesis")
        for batch in range(5):
            records = [{"Data": b"%d-%d-%d" % (worker, batch, i), "PartitionKey": f"{worker}-{i}"} for i in range(200)]
            assert own.put_records(StreamName=unique_name, Records=records)["FailedRecordCount"] == 0
            with lock:
                sent.extend(r["Data"] for r in records)

    threads = [threading.Thread(target=producer, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seen = []
    for shard in shard_ids(client, unique_name):
        records, _ = read_shard(client, unique_name, shard)
        numbers = [int(r["SequenceNumber"]) for r in records]
        assert numbers == sorted(numbers)
        seen.extend(r["Data"] for r in records)
    assert sorted(seen) == sorted(sent) and len(seen) == 4000
    client.delete_stream(StreamName=unique_name)


def test_a_stream_belongs_to_its_region(lamina, unique_name):
    west, north = lamina.client("kinesis", "us-west-2"), lamina.client("kinesis", "eu-north-1")
    west.create_stream(StreamName=unique_name, ShardCount=1)
    arn = f"arn:aws:kinesis:us-west-2:000000000000:stream/{unique_name}"
    with pytest.raises(ClientError) as caught:
        north.describe_stream_summary(StreamARN=arn)
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert west.describe_stream_summary(StreamARN=arn)["StreamDescriptionSummary"]["StreamARN"] == arn
    west.delete_stream(StreamName=unique_name)
