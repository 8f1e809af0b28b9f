"""Kinesis resharding against a live server: SplitShard, MergeShards and UpdateShardCount,
with the lineage AWS reports (ParentShardId, AdjacentParentShardId, EndingSequenceNumber,
ChildShards at the end of a closed shard) and each partition key's order kept across it."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from botocore.exceptions import ClientError

from .test_kinesis import ACCOUNT, error_of, md5_key, read_shard

HALF = str(2**127)


def shards_of(client, name: str, **filters) -> dict[str, dict]:
    return {s["ShardId"]: s for s in client.list_shards(StreamName=name, **filters)["Shards"]}


def put_keys(client, name: str, keys: list[str], tag: str) -> None:
    result = client.put_records(
        StreamName=name, Records=[{"Data": f"{tag}:{k}".encode(), "PartitionKey": k} for k in keys]
    )
    assert result["FailedRecordCount"] == 0


def test_split_keeps_each_key_in_order_from_parent_to_children(kinesis, unique_name):
    kinesis.create_stream(StreamName=unique_name, ShardCount=1)
    keys = [f"key-{i}" for i in range(30)]
    put_keys(kinesis, unique_name, keys, "before")
    parent = "shardId-000000000000"
    kinesis.split_shard(StreamName=unique_name, ShardToSplit=parent, NewStartingHashKey=HALF)
    put_keys(kinesis, unique_name, keys, "after")

    shards = shards_of(kinesis, unique_name)
    low, high = "shardId-000000000001", "shardId-000000000002"
    assert list(shards) == [parent, low, high]
    ending = int(shards[parent]["SequenceNumberRange"]["EndingSequenceNumber"])
    assert shards[low]["ParentShardId"] == parent == shards[high]["ParentShardId"]
    assert "AdjacentParentShardId" not in shards[low]
    assert shards[low]["HashKeyRange"] == {"StartingHashKey": "0", "EndingHashKey": str(2**127 - 1)}
    assert shards[high]["HashKeyRange"] == {"StartingHashKey": HALF, "EndingHashKey": str(2**128 - 1)}
    for child in (low, high):
        assert int(shards[child]["SequenceNumberRange"]["StartingSequenceNumber"]) > ending

    # The parent, read to its end: no next iterator, and the children to go on with.
    parent_records, last = read_shard(kinesis, unique_name, parent)
    assert [r["Data"].decode() for r in parent_records] == [f"before:{k}" for k in keys]
    assert "NextShardIterator" not in last
    assert last["ChildShards"] == [
        {"ShardId": low, "ParentShards": [parent], "HashKeyRange": shards[low]["HashKeyRange"]},
        {"ShardId": high, "ParentShards": [parent], "HashKeyRange": shards[high]["HashKeyRange"]},
    ]
    assert all(int(r["SequenceNumber"]) <= ending for r in parent_records)
    children = {child: read_shard(kinesis, unique_name, child)[0] for child in (low, high)}
    for key in keys:
        child = low if md5_key(key) < 2**127 else high
        mine = [r for r in children[child] if r["PartitionKey"] == key]
        assert [r["Data"].decode() for r in mine] == [f"after:{key}"]
        before = next(r for r in parent_records if r["PartitionKey"] == key)
        assert int(before["SequenceNumber"]) < int(mine[0]["SequenceNumber"])
    # A LATEST iterator on a closed shard is at its end already.
    latest = kinesis.get_shard_iterator(StreamName=unique_name, ShardId=parent, ShardIteratorType="LATEST")[
        "ShardIterator"
    ]
    at_end = kinesis.get_records(ShardIterator=latest)
    assert at_end["Records"] == [] and "NextShardIterator" not in at_end and len(at_end["ChildShards"]) == 2
    kinesis.delete_stream(StreamName=unique_name)


def test_merge_gives_one_child_with_both_parents(kinesis, unique_name):
    kinesis.create_stream(StreamName=unique_name, ShardCount=2)
    left, right = "shardId-000000000000", "shardId-000000000001"
    put_keys(kinesis, unique_name, ["a", "b", "c", "d"], "before")
    kinesis.merge_shards(StreamName=unique_name, ShardToMerge=left, AdjacentShardToMerge=right)
    put_keys(kinesis, unique_name, ["a", "b", "c", "d"], "after")
    shards = shards_of(kinesis, unique_name)
    merged = shards["shardId-000000000002"]
    assert (merged["ParentShardId"], merged["AdjacentParentShardId"]) == (left, right)
    assert merged["HashKeyRange"] == {"StartingHashKey": "0", "EndingHashKey": str(2**128 - 1)}
    for parent in (left, right):
        assert "EndingSequenceNumber" in shards[parent]["SequenceNumberRange"]
        _, last = read_shard(kinesis, unique_name, parent)
        assert last["ChildShards"] == [
            {"ShardId": merged["ShardId"], "ParentShards": [left, right], "HashKeyRange": merged["HashKeyRange"]}
        ]
    after, _ = read_shard(kinesis, unique_name, merged["ShardId"])
    assert sorted(r["Data"] for r in after) == [b"after:a", b"after:b", b"after:c", b"after:d"]
    assert kinesis.describe_stream_summary(StreamName=unique_name)["StreamDescriptionSummary"]["OpenShardCount"] == 1
    kinesis.delete_stream(StreamName=unique_name)


def test_update_shard_count_reaches_an_even_layout(kinesis, unique_name):
    kinesis.create_stream(StreamName=unique_name, ShardCount=3)
    put_keys(kinesis, unique_name, [f"k{i}" for i in range(50)], "v1")
    result = kinesis.update_shard_count(StreamName=unique_name, TargetShardCount=4, ScalingType="UNIFORM_SCALING")
    assert (result["CurrentShardCount"], result["TargetShardCount"], result["StreamName"]) == (3, 4, unique_name)
    assert result["StreamARN"].endswith(f":stream/{unique_name}")
    kinesis.get_waiter("stream_exists").wait(StreamName=unique_name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 20})
    open_shards = shards_of(kinesis, unique_name, ShardFilter={"Type": "AT_LATEST"})
    starts = sorted(int(s["HashKeyRange"]["StartingHashKey"]) for s in open_shards.values())
    assert starts == [i * 2**128 // 4 for i in range(4)]
    every = shards_of(kinesis, unique_name)
    for shard in every.values():  # every child names parents that exist and ended before it began
        for parent_id in filter(None, (shard.get("ParentShardId"), shard.get("AdjacentParentShardId"))):
            ended = int(every[parent_id]["SequenceNumberRange"]["EndingSequenceNumber"])
            assert ended < int(shard["SequenceNumberRange"]["StartingSequenceNumber"])
    put_keys(kinesis, unique_name, [f"k{i}" for i in range(50)], "v2")
    total = sum(len(read_shard(kinesis, unique_name, shard_id)[0]) for shard_id in every)
    assert total == 100

    for target, message in (
        (
            9,
            "UpdateShardCount cannot scale up over double your current open shard count. "
            "Current open shard count: 4, Target shard count: 9",
        ),
        (
            1,
            "UpdateShardCount cannot scale down below half your current open shard count. "
            "Current open shard count: 4, Target shard count: 1",
        ),
    ):
        with pytest.raises(ClientError) as excinfo:
            kinesis.update_shard_count(StreamName=unique_name, TargetShardCount=target, ScalingType="UNIFORM_SCALING")
        assert error_of(excinfo) == ("LimitExceededException", message, 400)
    kinesis.update_shard_count(StreamName=unique_name, TargetShardCount=2, ScalingType="UNIFORM_SCALING")
    assert len(shards_of(kinesis, unique_name, ShardFilter={"Type": "AT_LATEST"})) == 2
    kinesis.delete_stream(StreamName=unique_name)


def test_resharding_errors(kinesis, unique_name):
    kinesis.create_stream(StreamName=unique_name, ShardCount=3)
    where = f"in stream {unique_name} under account {ACCOUNT}"
    first = shards_of(kinesis, unique_name)["shardId-000000000000"]["HashKeyRange"]
    for bad in (first["StartingHashKey"], str(int(first["StartingHashKey"]) + 1), first["EndingHashKey"]):
        with pytest.raises(ClientError) as excinfo:
            kinesis.split_shard(StreamName=unique_name, ShardToSplit="shardId-000000000000", NewStartingHashKey=bad)
        assert error_of(excinfo) == (
            "InvalidArgumentException",
            f"NewStartingHashKey {bad} used in SplitShard() on "
            f"shard shardId-000000000000 {where} is not both greater than one plus the "
            f"shard's StartingHashKey {first['StartingHashKey']} and less than the shard's "
            f"EndingHashKey {first['EndingHashKey']}.",
            400,
        )
    with pytest.raises(ClientError) as excinfo:
        kinesis.split_shard(StreamName=unique_name, ShardToSplit="nope", NewStartingHashKey="100")
    assert error_of(excinfo) == ("ResourceNotFoundException", f"Could not find shard nope {where}.", 400)
    with pytest.raises(ClientError) as excinfo:
        kinesis.merge_shards(
            StreamName=unique_name, ShardToMerge="shardId-000000000000", AdjacentShardToMerge="shardId-000000000002"
        )
    assert error_of(excinfo) == (
        "InvalidArgumentException",
        "Shards shardId-000000000000 and shardId-000000000002 "
        f"{where} are not an adjacent pair of shards eligible for merging",
        400,
    )
    kinesis.split_shard(StreamName=unique_name, ShardToSplit="shardId-000000000000", NewStartingHashKey="1000")
    for call in (
        lambda: kinesis.split_shard(
            StreamName=unique_name, ShardToSplit="shardId-000000000000", NewStartingHashKey="500"
        ),
        lambda: kinesis.merge_shards(
            StreamName=unique_name, ShardToMerge="shardId-000000000000", AdjacentShardToMerge="shardId-000000000001"
        ),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_of(excinfo) == (
            "InvalidArgumentException",
            f"Shard shardId-000000000000 {where} has already "
            "been merged or split, and thus is not eligible for merging or splitting.",
            400,
        )
    # The merge may name the higher shard first.
    kinesis.merge_shards(
        StreamName=unique_name, ShardToMerge="shardId-000000000002", AdjacentShardToMerge="shardId-000000000001"
    )
    kinesis.delete_stream(StreamName=unique_name)


def test_list_shards_filters_follow_the_lineage(kinesis, unique_name):
    kinesis.create_stream(StreamName=unique_name, ShardCount=2)
    before_split = datetime.now(timezone.utc)
    kinesis.split_shard(StreamName=unique_name, ShardToSplit="shardId-000000000000", NewStartingHashKey="1000")
    all_ids = ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002", "shardId-000000000003"]

    def ids(**shard_filter):
        return list(shards_of(kinesis, unique_name, ShardFilter=shard_filter))

    assert ids(Type="FROM_TRIM_HORIZON") == all_ids
    assert ids(Type="AT_TRIM_HORIZON") == all_ids[:2]  # what was open at the oldest retained point
    assert ids(Type="AT_LATEST") == all_ids[1:]
    assert ids(Type="AT_TIMESTAMP", Timestamp=before_split) == all_ids[:2]
    assert ids(Type="FROM_TIMESTAMP", Timestamp=datetime.now(timezone.utc)) == all_ids[1:]
    assert ids(Type="AFTER_SHARD_ID", ShardId="shardId-000000000001") == all_ids[2:]
    with pytest.raises(ClientError) as excinfo:
        kinesis.list_shards(StreamName=unique_name, ShardFilter={"Type": "AT_TIMESTAMP"})
    assert error_of(excinfo)[0] == "InvalidArgumentException"
    page = kinesis.list_shards(StreamName=unique_name, MaxResults=1, ShardFilter={"Type": "AT_LATEST"})
    assert [s["ShardId"] for s in page["Shards"]] == all_ids[1:2]
    following = kinesis.list_shards(NextToken=page["NextToken"], MaxResults=5)  # the filter travels in the token
    assert [s["ShardId"] for s in following["Shards"]] == all_ids[2:]
    kinesis.delete_stream(StreamName=unique_name)
