"""Kinesis durability and retention on private servers: what PutRecords acknowledged survives
a restart and kill -9 (lost 0), streams keep their settings and lineage, and records past
retention are trimmed from reads and from the store.

The servers keep few records in memory (LAMINA_KINESIS_CACHE_RECORDS), so that reads
reaching back are served from the store as they would be on a long-running stream."""

from __future__ import annotations

import os
import sqlite3
import threading
import time

from botocore.exceptions import BotoCoreError, ClientError

from .test_kinesis import read_shard, shard_ids
from .test_lambda_helpers import wait_until

SMALL_CACHE = {"LAMINA_KINESIS_CACHE_RECORDS": "300"}
PRODUCERS = 4
BATCH = 250


def _produce(
    server, name: str, tag: str, batches: int, acked: dict, lock: threading.Lock, errors: list
) -> list[threading.Thread]:
    """Threads sending `batches` PutRecords each; acknowledged records go into `acked`
    (data -> (shard, sequence number)). Each thread stops at its first failure."""

    def producer(worker: int) -> None:
        client = server.client("kinesis")
        for batch in range(batches):
            records = [
                {"Data": f"{tag}-{worker}-{batch}-{i}".encode() + b"." * 60, "PartitionKey": f"{worker}-{i}"}
                for i in range(BATCH)
            ]
            try:
                result = client.put_records(StreamName=name, Records=records)
            except (BotoCoreError, ClientError) as error:  # the server died under us
                errors.append(error)
                return
            assert result["FailedRecordCount"] == 0
            with lock:
                for record, answer in zip(records, result["Records"], strict=True):
                    acked[record["Data"]] = (answer["ShardId"], answer["SequenceNumber"])

    threads = [threading.Thread(target=producer, args=(w,), daemon=True) for w in range(PRODUCERS)]
    for thread in threads:
        thread.start()
    return threads


def _everything(client, name: str) -> dict[bytes, tuple[str, str]]:
    found: dict[bytes, tuple[str, str]] = {}
    for shard in shard_ids(client, name):
        records, _ = read_shard(client, name, shard)
        numbers = [int(r["SequenceNumber"]) for r in records]
        assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers), shard
        for record in records:
            assert record["Data"] not in found, "a record came back twice"
            found[record["Data"]] = (shard, record["SequenceNumber"])
    return found


def test_acknowledged_records_survive_kill_9(lamina_factory):
    server = lamina_factory(**SMALL_CACHE)
    client = server.client("kinesis")
    client.create_stream(StreamName="crash", ShardCount=3)
    acked: dict[bytes, tuple[str, str]] = {}
    lock = threading.Lock()
    errors: list = []
    for thread in _produce(server, "crash", "first", 6, acked, lock, errors):
        thread.join()
    assert not errors and len(acked) == PRODUCERS * 6 * BATCH

    # A second burst, killed with SIGKILL once well under way.
    threads = _produce(server, "crash", "second", 40, acked, lock, errors)
    wait_until(
        lambda: len(acked) >= PRODUCERS * 6 * BATCH + 4000 or not any(t.is_alive() for t in threads),
        timeout=60,
        interval=0.005,
        what="the second burst",
    )
    server.restart(kill=True)
    for thread in threads:
        thread.join(30)
    assert errors, "the kill landed after the second burst was over"

    client = server.client("kinesis")
    found = _everything(client, "crash")
    lost = [data for data in acked if data not in found]
    assert len(lost) == 0, f"lost {len(lost)} of {len(acked)} acknowledged records"
    assert all(found[data] == where for data, where in acked.items())  # same shard, same sequence number
    # Writing goes on after the crash, above everything written before it.
    highest = max(int(number) for _, number in found.values())
    again = client.put_records(
        StreamName="crash", Records=[{"Data": b"after", "PartitionKey": str(i)} for i in range(20)]
    )
    assert min(int(r["SequenceNumber"]) for r in again["Records"]) > highest


def test_streams_keep_settings_lineage_and_iterators_across_restart(lamina_factory):
    server = lamina_factory(**SMALL_CACHE)
    client = server.client("kinesis")
    client.create_stream(StreamName="kept", ShardCount=2, Tags={"team": "data"})
    client.increase_stream_retention_period(StreamName="kept", RetentionPeriodHours=72)
    client.start_stream_encryption(StreamName="kept", EncryptionType="KMS", KeyId="alias/aws/kinesis")
    for part in range(2):
        client.put_records(
            StreamName="kept", Records=[{"Data": b"old-%d-%d" % (part, i), "PartitionKey": str(i)} for i in range(500)]
        )
    client.split_shard(StreamName="kept", ShardToSplit="shardId-000000000000", NewStartingHashKey="1000")
    for part in range(2):
        client.put_records(
            StreamName="kept", Records=[{"Data": b"new-%d-%d" % (part, i), "PartitionKey": str(i)} for i in range(500)]
        )
    shards_before = client.list_shards(StreamName="kept")["Shards"]
    before = _everything(client, "kept")
    iterator = client.get_shard_iterator(
        StreamName="kept", ShardId="shardId-000000000001", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    server.restart(kill=False)

    client = server.client("kinesis")
    summary = client.describe_stream_summary(StreamName="kept")["StreamDescriptionSummary"]
    assert (summary["RetentionPeriodHours"], summary["EncryptionType"], summary["OpenShardCount"]) == (72, "KMS", 3)
    assert client.list_tags_for_stream(StreamName="kept")["Tags"] == [{"Key": "team", "Value": "data"}]
    assert client.list_shards(StreamName="kept")["Shards"] == shards_before
    assert _everything(client, "kept") == before and len(before) == 2000
    # An iterator handed out before the restart still reads (it is within its five minutes).
    assert client.get_records(ShardIterator=iterator)["Records"][0]["Data"].startswith(b"old-")
    _, last = read_shard(client, "kept", "shardId-000000000000")
    assert [c["ShardId"] for c in last["ChildShards"]] == ["shardId-000000000002", "shardId-000000000003"]


def test_records_past_retention_are_trimmed(lamina_factory):
    # An "hour" of retention lasts 50 ms here: the 24-hour minimum is 1.2 seconds.
    server = lamina_factory(LAMINA_KINESIS_HOUR_SECONDS="0.05", **SMALL_CACHE)
    client = server.client("kinesis")
    client.create_stream(StreamName="short", ShardCount=1)
    client.create_stream(StreamName="longer", ShardCount=1)
    client.create_stream(StreamName="reshaped", ShardCount=1)
    client.increase_stream_retention_period(StreamName="longer", RetentionPeriodHours=240)  # 12 s
    for name in ("short", "longer"):
        client.put_records(StreamName=name, Records=[{"Data": b"old-%d" % i, "PartitionKey": "k"} for i in range(500)])
    client.split_shard(StreamName="reshaped", ShardToSplit="shardId-000000000000", NewStartingHashKey="1000")
    shard = "shardId-000000000000"
    assert len(read_shard(client, "short", shard)[0]) == 500

    database = os.path.join(server.data_dir, "lamina.db")

    def stored(stream_rows: str) -> int:
        with sqlite3.connect(database, timeout=10) as connection:
            return connection.execute(stream_rows).fetchone()[0]

    assert stored("SELECT count(*) FROM stream_records") == 1000
    time.sleep(1.3)
    client.put_record(StreamName="short", Data=b"fresh", PartitionKey="k")
    # Past retention: gone from reads at once.
    assert [r["Data"] for r in read_shard(client, "short", shard)[0]] == [b"fresh"]
    assert len(read_shard(client, "longer", shard)[0]) == 500  # its retention is longer
    # ... and from the store, by the maintenance task; a split parent, closed for longer
    # than the retention period, leaves the shard list.
    wait_until(lambda: stored("SELECT count(*) FROM stream_records") == 501, timeout=10, what="trimmed rows")
    wait_until(
        lambda: shard_ids(client, "reshaped") == ["shardId-000000000001", "shardId-000000000002"],
        timeout=10,
        what="the expired parent shard",
    )
    client.decrease_stream_retention_period(StreamName="longer", RetentionPeriodHours=24)
    assert read_shard(client, "longer", shard)[0] == []
