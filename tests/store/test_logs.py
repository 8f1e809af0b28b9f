"""Log events: append, read by stream, prefix, time and id cursor in both directions, delete."""

import time

from lamina.store.base import AppendLogs, DeleteLogs, LogEvent, LogQuery


def messages(events):
    return [event.message for event in events]


async def _ten_lines(store):
    events = tuple(LogEvent(1000 + i, f"line {i}") for i in range(10))
    await store.write([AppendLogs("g", "s1", events[:5]), AppendLogs("g", "s2", events[5:])])
    return await store.read_logs(LogQuery("g"))


async def test_append_and_read_by_stream_and_time(backend):
    async with backend.store() as store:
        everything = await _ten_lines(store)
        assert messages(everything) == [f"line {i}" for i in range(10)]
        assert [e.stream for e in everything] == ["s1"] * 5 + ["s2"] * 5
        assert [e.timestamp for e in everything] == list(range(1000, 1010))
        only_s2 = await store.read_logs(LogQuery("g", streams=["s2"]))
        assert messages(only_s2) == [f"line {i}" for i in range(5, 10)]
        assert len(await store.read_logs(LogQuery("g", streams=["s1", "s2"]))) == 10
        assert len(await store.read_logs(LogQuery("g", streams=[]))) == 10  # empty: every stream
        assert await store.read_logs(LogQuery("g", streams=["s3"])) == []
        window = await store.read_logs(LogQuery("g", start_time=1002, end_time=1004))
        assert [e.timestamp for e in window] == [1002, 1003]  # start inclusive, end exclusive
        assert len(await store.read_logs(LogQuery("g", start_time=1008))) == 2
        assert len(await store.read_logs(LogQuery("g", end_time=1001))) == 1
        combined = await store.read_logs(LogQuery("g", streams=["s1"], start_time=1003))
        assert messages(combined) == ["line 3", "line 4"]
        assert await store.read_logs(LogQuery("other")) == []


async def test_read_by_stream_prefix(backend):
    async with backend.store() as store:
        await store.write(
            [
                AppendLogs("g", name, (LogEvent(1, name),))
                for name in ("2024/01/01/[$LATEST]a", "2024/01/01/[$LATEST]b", "2024/01/02/x", "other")
            ]
        )
        assert messages(await store.read_logs(LogQuery("g", stream_prefix="2024/01/01/"))) == [
            "2024/01/01/[$LATEST]a",
            "2024/01/01/[$LATEST]b",
        ]
        assert len(await store.read_logs(LogQuery("g", stream_prefix="2024/"))) == 3
        assert len(await store.read_logs(LogQuery("g", stream_prefix=""))) == 4
        assert await store.read_logs(LogQuery("g", stream_prefix="nope")) == []


async def test_events_come_in_append_order_whatever_their_timestamps(backend):
    async with backend.store() as store:
        await store.write([AppendLogs("g", "s", (LogEvent(5000, "late"), LogEvent(1000, "early")))])
        await store.write([AppendLogs("g", "s", (LogEvent(3000, "middle"),))])
        events = await store.read_logs(LogQuery("g"))
        assert messages(events) == ["late", "early", "middle"]
        ids = [e.event_id for e in events]
        assert ids == sorted(ids) and len(set(ids)) == 3
        backward = await store.read_logs(LogQuery("g", forward=False))
        assert messages(backward) == ["middle", "early", "late"]


async def test_paging_by_id_forward_and_backward(backend):
    async with backend.store() as store:
        everything = await _ten_lines(store)
        ids = [e.event_id for e in everything]
        newest = await store.read_logs(LogQuery("g", forward=False, limit=1))
        assert messages(newest) == ["line 9"]
        after = await store.read_logs(LogQuery("g", after_id=ids[7]))
        assert messages(after) == ["line 8", "line 9"]
        before = await store.read_logs(LogQuery("g", before_id=ids[2]))
        assert messages(before) == ["line 0", "line 1"]
        between = await store.read_logs(LogQuery("g", after_id=ids[2], before_id=ids[5], forward=False))
        assert messages(between) == ["line 4", "line 3"]
        assert messages(await store.read_logs(LogQuery("g", limit=3))) == ["line 0", "line 1", "line 2"]

        forward, cursor = [], None
        while page := await store.read_logs(LogQuery("g", after_id=cursor, limit=3)):
            forward += page
            cursor = page[-1].event_id
        assert forward == everything
        backward, cursor = [], None
        while page := await store.read_logs(LogQuery("g", before_id=cursor, limit=3, forward=False)):
            backward += page
            cursor = page[-1].event_id
        assert backward == everything[::-1]


async def test_ingestion_time_is_the_writers_or_the_time_of_the_write(backend):
    async with backend.store() as store:
        before = int(time.time() * 1000)
        await store.write(
            [
                AppendLogs("g", "given", (LogEvent(1, "a"),), ingestion_time=1234),
                AppendLogs("g", "stamped", (LogEvent(1, "b"),)),
            ]
        )
        after = int(time.time() * 1000)
        given, stamped = await store.read_logs(LogQuery("g"))
        assert given.ingestion_time == 1234
        assert before <= stamped.ingestion_time <= after


async def test_delete_a_stream_then_the_group(backend):
    async with backend.store() as store:
        await _ten_lines(store)
        await store.write([AppendLogs("h", "s1", (LogEvent(1, "kept"),))])
        await store.write([DeleteLogs("g", "s1")])
        assert {e.stream for e in await store.read_logs(LogQuery("g"))} == {"s2"}
        await store.write([DeleteLogs("g", "never there")])
        assert len(await store.read_logs(LogQuery("g"))) == 5
        await store.write([DeleteLogs("g")])
        assert await store.read_logs(LogQuery("g")) == []
        assert messages(await store.read_logs(LogQuery("h"))) == ["kept"]  # another group is untouched


async def test_ids_are_never_reused(backend):
    async with backend.store() as store:
        highest = (await _ten_lines(store))[-1].event_id
        await store.write([DeleteLogs("g")])
        await store.write([AppendLogs("g", "s1", (LogEvent(1, "again"),))])
        (again,) = await store.read_logs(LogQuery("g"))
        assert again.event_id > highest
    async with backend.store() as store:  # nor after a restart
        await store.write([DeleteLogs("g")])
        await store.write([AppendLogs("g", "s1", (LogEvent(1, "once more"),))])
        (once_more,) = await store.read_logs(LogQuery("g"))
        assert once_more.event_id > again.event_id
