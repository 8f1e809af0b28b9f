"""The stream poller's processing rules, against an in-memory stream and a real SQLite store.

End-to-end behaviour through Kinesis and real functions is in
tests/integration/test_kinesis_lambda.py; here each rule is pinned down invocation by
invocation, which a live server's timing would blur.
"""

import asyncio
import base64
import json
import time

import pytest

from lamina.engine.pollers.checkpoints import Checkpoints
from lamina.engine.pollers.queue import Outcome
from lamina.engine.pollers.stream import Shard, StreamPoller, StreamRecord, StreamSettings, StreamSource
from lamina.store.sqlite import SQLiteStore

ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/s"


class MemoryStream:
    """Shards of records in memory; `add` appends, `split` closes a shard into two children."""

    def __init__(self, shards=("shardId-000000000000",)):
        self.shards = {s: {"parents": (), "closed": False, "records": []} for s in shards}
        self.seq = 1000
        self.changed = asyncio.Event()

    def add(self, shard, key, data, arrival_ms=None):
        self.seq += 1
        record = StreamRecord(
            str(self.seq),
            key,
            data if isinstance(data, bytes) else json.dumps(data).encode(),
            arrival_ms or int(time.time() * 1000),
        )
        self.shards[shard]["records"].append(record)
        self.changed.set()
        return record

    def split(self, parent, children):
        self.shards[parent]["closed"] = True
        for child in children:
            self.shards[child] = {"parents": (parent,), "closed": False, "records": []}
        self.changed.set()

    def source(self) -> StreamSource:
        async def read(shard, after, limit):
            records = self.shards.get(shard, {"records": []})["records"]
            return [r for r in records if after is None or int(r.sequence_number) > int(after)][:limit]

        def latest(shard):
            records = self.shards[shard]["records"]
            return records[-1].sequence_number if records else None

        def at_timestamp(shard, ms):
            before = [r for r in self.shards[shard]["records"] if r.arrival_ms < ms]
            return before[-1].sequence_number if before else None

        async def wait(timeout):
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), timeout)
            except asyncio.TimeoutError:
                pass

        def event_record(shard, record):
            return {
                "kinesis": {
                    "partitionKey": record.partition_key,
                    "sequenceNumber": record.sequence_number,
                    "data": base64.b64encode(record.data).decode(),
                    "kinesisSchemaVersion": "1.0",
                    "approximateArrivalTimestamp": record.arrival_ms / 1000,
                },
                "eventID": f"{shard}:{record.sequence_number}",
                "eventSource": "aws:kinesis",
                "eventSourceARN": ARN,
            }

        def closed(shard):
            return shard in self.shards and self.shards[shard]["closed"]

        return StreamSource(
            ARN,
            lambda: [Shard(k, v["parents"], v["closed"]) for k, v in self.shards.items()],
            read,
            latest,
            at_timestamp,
            wait,
            event_record,
            closed,
        )


def payloads(event):
    return [json.loads(base64.b64decode(r["kinesis"]["data"])) for r in event["Records"]]


class Function:
    """Records every invocation; `behave(event)` decides the outcome (default: success)."""

    def __init__(self, behave=None):
        self.calls = []
        self.behave = behave or (lambda event: Outcome(False))

    async def __call__(self, event):
        self.calls.append(event)
        return self.behave(event)


async def until(predicate, timeout=10.0, message=lambda: ""):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached {message()}")
        await asyncio.sleep(0.01)


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "lamina.db")


def poller(stream, function, store, mapping="m", failures=None, **settings):
    async def on_failure(record):
        failures.append(record)

    return StreamPoller(
        mapping,
        stream.source(),
        function,
        Checkpoints(store, mapping),
        StreamSettings(**settings),
        on_failure=on_failure if failures is not None else None,
        function_arn="arn:fn",
    )


def test_batches_in_order_and_checkpoint_survives_restart(db):
    async def main():
        store = SQLiteStore(db)
        stream = MemoryStream()
        for i in range(25):
            stream.add("shardId-000000000000", "k", i)
        function = Function()
        first = poller(stream, function, store, batch_size=10)
        first.start()
        await until(lambda: sum(len(c["Records"]) for c in function.calls) == 25)
        await asyncio.sleep(0.05)
        await first.stop()
        assert [len(c["Records"]) for c in function.calls] == [10, 10, 5]
        assert [p for c in function.calls for p in payloads(c)] == list(range(25))
        for i in range(25, 30):
            stream.add("shardId-000000000000", "k", i)
        again = Function()
        second = poller(stream, again, store, batch_size=10)
        second.start()
        await until(lambda: sum(len(c["Records"]) for c in again.calls) == 5)
        await second.stop()
        assert [p for c in again.calls for p in payloads(c)] == list(range(25, 30))  # nothing replayed or skipped
        await store.close()

    run(main())


def test_latest_starts_after_what_is_there(db):
    async def main():
        store = SQLiteStore(db)
        stream = MemoryStream()
        for i in range(3):
            stream.add("shardId-000000000000", "k", i)
        function = Function()
        p = poller(stream, function, store, starting_position="LATEST")
        p.start()
        await asyncio.sleep(0.2)
        stream.add("shardId-000000000000", "k", 99)
        await until(lambda: function.calls)
        await p.stop()
        assert [payloads(c) for c in function.calls] == [[99]]
        await store.close()

    run(main())


def test_bisect_isolates_a_poisoned_record_invocation_by_invocation(db):
    async def main():
        store = SQLiteStore(db)
        stream = MemoryStream()
        for i in range(1, 10):
            stream.add("shardId-000000000000", "k", i)
        function = Function(
            lambda event: Outcome(5 in payloads(event), function_error="Unhandled" if 5 in payloads(event) else None)
        )
        failures = []
        p = poller(stream, function, store, failures=failures, batch_size=9, bisect=True, max_retries=0)
        p.start()
        await until(lambda: failures and sum(len(c["Records"]) for c in function.calls if 5 not in payloads(c)) == 8)
        await p.stop()
        assert [payloads(c) for c in function.calls] == [
            [1, 2, 3, 4, 5, 6, 7, 8, 9],  # fails: split in two
            [1, 2, 3, 4],  # succeeds
            [5, 6, 7, 8, 9],  # fails: split
            [5, 6],  # fails: split
            [5],  # fails, cannot be split, no retries left: skipped
            [6],
            [7, 8, 9],
        ]
        (failure,) = failures
        info = failure["KinesisBatchInfo"]
        assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
        assert failure["responseContext"]["functionError"] == "Unhandled"
        assert info["batchSize"] == 1 and info["startSequenceNumber"] == info["endSequenceNumber"]
        assert info["shardId"] == "shardId-000000000000" and info["streamArn"] == ARN
        await store.close()

    run(main())


def test_retries_then_skips_to_the_on_failure_destination(db):
    async def main():
        store = SQLiteStore(db)
        stream = MemoryStream()
        for i in range(3):
            stream.add("shardId-000000000000", "k", i)
        function = Function(lambda event: Outcome(0 in payloads(event), function_error="Unhandled"))
        failures = []
        p = poller(stream, function, store, failures=failures, batch_size=2, max_retries=2)
        p.start()
        await until(lambda: failures and any(payloads(c) == [2] for c in function.calls))
        await p.stop()
        assert [payloads(c) for c in function.calls] == [[0, 1]] * 3 + [[2]]
        assert failures[0]["requestContext"]["approximateInvokeCount"] == 3
        assert failures[0]["KinesisBatchInfo"]["batchSize"] == 2
        await store.close()

    run(main())


def test_report_batch_item_failures_retries_from_the_lowest_reported(db):
    async def main():
        store = SQLiteStore(db)
        stream = MemoryStream()
        records = [stream.add("shardId-000000000000", "k", i) for i in range(5)]
        failed_once = set()

        def behave(event):
            sequence = [r["kinesis"]["sequenceNumber"] for r in event["Records"]]
            if records[2].sequence_number in sequence and 2 not in failed_once:
                failed_once.add(2)
                report = [
                    {"itemIdentifier": records[3].sequence_number},
                    {"itemIdentifier": records[2].sequence_number},
                ]
                return Outcome(False, json.dumps({"batchItemFailures": report}).encode())
            return Outcome(False, b'{"batchItemFailures": []}')

        function = Function(behave)
        p = poller(stream, function, store, batch_size=5, report_failures=True)
        p.start()
        await until(lambda: len(function.calls) == 2)
        await asyncio.sleep(0.05)
        await p.stop()
        assert [payloads(c) for c in function.calls] == [[0, 1, 2, 3, 4], [2, 3, 4]]
        await store.close()

    run(main())


def test_parallelization_keeps_order_per_partition_key(db):
    async def main():
        store = SQLiteStore(db)
        stream = MemoryStream()
        sent = {}
        for i in range(600):
            key = f"key-{i % 37}"
            stream.add("shardId-000000000000", key, {"k": key, "n": i})
            sent.setdefault(key, []).append(i)
        active = {"now": 0, "peak": 0}

        async def slow(event):
            active["now"] += 1
            active["peak"] = max(active["peak"], active["now"])
            await asyncio.sleep(0.01)
            active["now"] -= 1
            seen.extend(payloads(event))
            return Outcome(False)

        seen = []
        p = StreamPoller(
            "m", stream.source(), slow, Checkpoints(store, "m"), StreamSettings(batch_size=10, parallelization=10)
        )
        p.start()
        await until(lambda: len(seen) == 600)
        await p.stop()
        got = {}
        for item in seen:
            got.setdefault(item["k"], []).append(item["n"])
        assert got == sent
        assert active["peak"] > 1  # batches of one shard really ran side by side
        _, checkpoints = await Checkpoints(store, "m").load()
        assert checkpoints["shardId-000000000000"]["after"] == str(stream.seq)
        await store.close()

    run(main())


def test_children_wait_for_their_parent(db):
    async def main():
        store = SQLiteStore(db)
        stream = MemoryStream()
        for i in range(5):
            stream.add("shardId-000000000000", "k", i)
        gate = asyncio.Event()
        order = []

        async def function(event):
            if payloads(event)[0] == 0:
                await gate.wait()
            order.extend(payloads(event))
            return Outcome(False)

        p = StreamPoller("m", stream.source(), function, Checkpoints(store, "m"), StreamSettings(batch_size=1))
        p.start()
        await asyncio.sleep(0.1)
        stream.split("shardId-000000000000", ["shardId-000000000001", "shardId-000000000002"])
        stream.add("shardId-000000000001", "k", 100)
        stream.add("shardId-000000000002", "k", 200)
        await asyncio.sleep(0.3)
        assert order == []  # the parent's first batch holds everything up
        gate.set()
        await until(lambda: len(order) == 7, message=lambda: order)
        await p.stop()
        assert order[:5] == [0, 1, 2, 3, 4] and sorted(order[5:]) == [100, 200]
        _, checkpoints = await Checkpoints(store, "m").load()
        assert checkpoints["shardId-000000000000"]["done"] is True
        await store.close()

    run(main())


def test_tumbling_window_carries_state_and_ends_with_a_final_invoke(db):
    async def main():
        store = SQLiteStore(db)
        stream = MemoryStream()
        window_ms = 1000
        start = (int(time.time() * 1000) // window_ms - 3) * window_ms  # a window already over
        for i in range(4):
            stream.add("shardId-000000000000", "k", i, arrival_ms=start + 100 + i)
        stream.add("shardId-000000000000", "k", 10, arrival_ms=start + window_ms + 5)  # the next window

        def behave(event):
            total = event["state"].get("total", 0) + sum(payloads(event))
            return Outcome(False, json.dumps({"state": {"total": total}}).encode())

        function = Function(behave)
        p = poller(stream, function, store, batch_size=2, tumbling_window_s=1)
        p.start()
        await until(lambda: sum(1 for c in function.calls if c["isFinalInvokeForWindow"]) >= 2)
        await p.stop()
        first_window = [c for c in function.calls if c["window"]["start"] == function.calls[0]["window"]["start"]]
        assert [payloads(c) for c in first_window] == [[0, 1], [2, 3]]
        assert [c["state"] for c in first_window] == [{}, {"total": 1}]
        assert first_window[-1]["isFinalInvokeForWindow"] is True
        nxt = [c for c in function.calls if c not in first_window]
        assert nxt[0]["state"] == {} and payloads(nxt[0]) == [10]  # a new window starts from empty state
        assert function.calls[0]["shardId"] == "shardId-000000000000" and function.calls[0]["eventSourceARN"] == ARN
        await store.close()

    run(main())


def test_records_past_their_maximum_age_are_skipped(db):
    async def main():
        store = SQLiteStore(db)
        stream = MemoryStream()
        stream.add("shardId-000000000000", "k", 0, arrival_ms=int(time.time() * 1000) - 120_000)
        stream.add("shardId-000000000000", "k", 1)
        function = Function()
        failures = []
        p = poller(stream, function, store, failures=failures, max_age_s=60)
        p.start()
        await until(lambda: function.calls and failures)
        await p.stop()
        assert [payloads(c) for c in function.calls] == [[1]]
        assert failures[0]["requestContext"]["condition"] == "RecordAgeExceeded"
        await store.close()

    run(main())
