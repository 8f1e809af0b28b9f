"""The store as a whole: a batch is atomic across domains, concurrent batches all land, reads
see every write that has returned, and what was written is there after a restart."""

import asyncio

import pytest

from lamina.store.base import (
    AppendLogs,
    Delete,
    DeleteEverything,
    DeleteMessages,
    LogEvent,
    LogQuery,
    MarkReceived,
    MetricRow,
    Put,
    PutMessages,
    PutMetricData,
    PutStreamRecords,
    QueuedMessage,
    Store,
    StreamRecordRow,
    TrimStreamRecords,
)


def one_of_each(i: int) -> list:
    """A batch touching every domain."""
    return [
        Put("doc", f"{i:05d}", {"i": i}),
        AppendLogs("g", f"s{i % 3}", (LogEvent(i, f"line {i}"),)),
        PutMetricData((MetricRow("N", "m", "[]", "Count", 60, 1.0, float(i), float(i), float(i), (float(i),), 1.0),)),
        PutMessages((QueuedMessage("q", i, {"i": i}, visible_at=i),)),
        PutStreamRecords((StreamRecordRow("st", "shard", i, str(i), i.to_bytes(4, "big")),)),
    ]


async def contents(store) -> dict:
    return {
        "docs": await store.scan("doc"),
        "logs": [(e.stream, e.timestamp, e.message) for e in await store.read_logs(LogQuery("g"))],
        "metrics": await store.read_metrics("N", "m", "[]", 0, 10**9),
        "messages": await store.read_messages(),
        "records": await store.read_stream_records("st", "shard"),
    }


async def test_a_backend_provides_the_whole_contract(backend):
    async with backend.store() as store:
        assert isinstance(store, Store)


async def test_an_empty_batch_is_a_no_op(backend):
    async with backend.store() as store:
        await store.write([])
        assert await store.scan("doc") == []


async def test_a_failing_batch_writes_nothing_in_any_domain(backend):
    async with backend.store() as store:
        await store.write(one_of_each(1))
        before = await contents(store)
        duplicate = PutStreamRecords((StreamRecordRow("st", "shard", 2, "again", b""),))  # seq 2 is in the batch
        # the duplicate record fails it, after everything else
        with pytest.raises(Exception):  # noqa: B017 - the store contract names no error type for a failed batch
            await store.write(
                one_of_each(2)
                + [
                    Delete("doc", "00001"),
                    MarkReceived("q", ((1, 99, 9),)),
                    TrimStreamRecords("st", "shard", 2),
                    duplicate,
                ]
            )
        assert await contents(store) == before
        await store.write(one_of_each(2))  # the store goes on
        assert len((await contents(store))["docs"]) == 2


async def test_a_failing_batch_does_not_sink_its_neighbours(backend):
    class Bogus:
        pass

    async with backend.store() as store:
        duplicate = PutStreamRecords((StreamRecordRow("st", "shard", 0, "k", b""),) * 2)
        results = await asyncio.gather(
            *(store.write([Put("x", f"good {i}", {})]) for i in range(20)),
            store.write([Put("x", "bogus", {}), Bogus()]),  # type: ignore[list-item]
            store.write([Put("x", "duplicate", {}), duplicate]),
            *(store.write([Put("x", f"good {i}", {})]) for i in range(20, 40)),
            return_exceptions=True,
        )
        assert results[:20] == [None] * 20 and results[22:] == [None] * 20
        assert isinstance(results[20], TypeError)  # not an Op: TypeError
        assert isinstance(results[21], Exception)
        assert [key for key, _ in await store.scan("x")] == sorted(f"good {i}" for i in range(40))
        assert await store.read_stream_records("st", "shard") == []


async def test_concurrent_batches_from_many_tasks_all_land(backend):
    async with backend.store() as store:
        await asyncio.gather(*(store.write(one_of_each(i)) for i in range(500)))
        found = await contents(store)
        assert found["docs"] == [(f"{i:05d}", {"i": i}) for i in range(500)]
        assert sorted(timestamp for _, timestamp, _ in found["logs"]) == list(range(500))
        (metric,) = found["metrics"]
        assert metric.count == 500.0 and metric.sum == float(sum(range(500))) and len(metric.samples) == 500
        assert [m.seq for m in found["messages"]] == list(range(500))
        assert [r.seq for r in found["records"]] == list(range(500))


async def test_reads_see_every_write_that_has_returned(backend):
    async with backend.store() as store:

        async def writer(i: int) -> None:
            for round_ in range(5):
                key = f"{i}:{round_}"
                await store.write(
                    [
                        Put("seen", key, {"round": round_}),
                        AppendLogs("seen", key, (LogEvent(round_, key),)),
                        PutMessages((QueuedMessage(key, 1, {}),)),
                    ]
                )
                assert await store.get("seen", key) == {"round": round_}
                assert [e.message for e in await store.read_logs(LogQuery("seen", streams=[key]))] == [key]
                assert len(await store.read_messages(key)) == 1
                await store.write([DeleteMessages(key)])
                assert await store.read_messages(key) == []

        await asyncio.gather(*(writer(i) for i in range(40)))
        assert len(await store.scan("seen")) == 200


async def test_logs_written_one_after_another_come_in_that_order(backend):
    async with backend.store() as store:

        async def writer(stream: str) -> None:
            for i in range(30):
                await store.write([AppendLogs("ordered", stream, (LogEvent(0, str(i)),))])

        await asyncio.gather(*(writer(f"s{n}") for n in range(8)))
        for n in range(8):
            events = await store.read_logs(LogQuery("ordered", streams=[f"s{n}"]))
            assert [e.message for e in events] == [str(i) for i in range(30)]


async def test_everything_written_is_there_after_a_restart(backend):
    async with backend.store() as store:
        for i in range(50):
            await store.write(one_of_each(i))
        await store.write([Delete("doc", "00007"), DeleteMessages("q", (3,)), MarkReceived("q", ((4, 777, 2),))])
        written = await contents(store)
    async with backend.store() as store:
        assert await contents(store) == written
        assert len(written["docs"]) == 49 and len(written["messages"]) == 49
        await store.write(one_of_each(50))  # and it goes on from there
        written = await contents(store)
    async with backend.store() as store:
        assert await contents(store) == written


async def test_close_finishes_the_writes_already_handed_to_it(backend):
    async with backend.store() as store:
        pending = [asyncio.create_task(store.write(one_of_each(i))) for i in range(100)]
        await asyncio.sleep(0)  # each has handed its batch over and waits for the commit
    assert await asyncio.gather(*pending) == [None] * 100
    async with backend.store() as store:
        assert len(await store.scan("doc")) == 100


EMPTY = {"docs": [], "logs": [], "metrics": [], "messages": [], "records": []}


async def test_delete_everything_empties_every_domain_for_good(backend):
    async with backend.store() as store:
        for i in range(30):
            await store.write(one_of_each(i))
        await store.write([Put("other", "k", {}), DeleteEverything()])
        assert await contents(store) == EMPTY
        assert await store.scan("other") == []
        assert await store.list_metric_series() == []
        await store.write(one_of_each(1))  # the store goes on, as new
        assert len((await contents(store))["docs"]) == 1
        await store.write([DeleteEverything()])
    async with backend.store() as store:  # and nothing comes back after a restart
        assert await contents(store) == EMPTY


async def test_delete_everything_takes_effect_at_its_place_in_the_batch(backend):
    async with backend.store() as store:
        await store.write(one_of_each(1) + [DeleteEverything()] + one_of_each(2))
        found = await contents(store)
        assert found["docs"] == [("00002", {"i": 2})]
        assert [m.seq for m in found["messages"]] == [2] and [r.seq for r in found["records"]] == [2]
        (metric,) = found["metrics"]
        assert metric.count == 1.0 and metric.sum == 2.0


async def test_delete_everything_concurrent_with_other_batches_leaves_whole_batches(backend):
    async with backend.store() as store:
        await asyncio.gather(
            *(store.write(one_of_each(i)) for i in range(50)),
            store.write([DeleteEverything()]),
            *(store.write(one_of_each(i)) for i in range(50, 100)),
        )
        found = await contents(store)
        kept = [doc["i"] for _, doc in found["docs"]]
        # each batch landed wholly before the delete (gone) or after it (all there)
        assert [m.seq for m in found["messages"]] == kept and [r.seq for r in found["records"]] == kept
