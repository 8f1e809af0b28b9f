"""The SQLite store: documents, log events, group commit, durability across reopen."""
import asyncio
import os

import pytest

from lamina.store.base import AppendLogs, Delete, DeleteLogs, DeletePrefix, LogEvent, LogQuery, Put
from lamina.store.sqlite import SQLiteStore


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "lamina.db")


def test_documents_put_get_scan_delete(path):
    async def main():
        store = SQLiteStore(path)
        await store.write([Put("fn", "a:1", {"n": 1}), Put("fn", "a:2", {"n": 2}), Put("fn", "b:1", {"n": 3})])
        assert await store.get("fn", "a:1") == {"n": 1}
        assert await store.get("fn", "zzz") is None
        assert [k for k, _ in await store.scan("fn", prefix="a:")] == ["a:1", "a:2"]
        assert [k for k, _ in await store.scan("fn", after="a:1", limit=1)] == ["a:2"]
        await store.write([Put("fn", "a:1", {"n": 10})])
        assert await store.get("fn", "a:1") == {"n": 10}
        await store.write([Delete("fn", "a:1")])
        assert await store.get("fn", "a:1") is None
        await store.write([DeletePrefix("fn", "b:")])
        assert [k for k, _ in await store.scan("fn")] == ["a:2"]
        await store.close()

    run(main())


def test_concurrent_batches_commit_together_and_survive_reopen(path):
    async def main():
        store = SQLiteStore(path)
        await asyncio.gather(*(store.write([Put("ev", f"{i:05d}", {"i": i})]) for i in range(500)))
        await store.close()

    run(main())

    async def reopen():
        store = SQLiteStore(path)
        rows = await store.scan("ev")
        await store.close()
        return rows

    rows = run(reopen())
    assert len(rows) == 500 and rows[0][1] == {"i": 0}


def test_a_failing_batch_does_not_sink_its_neighbours(path):
    async def main():
        store = SQLiteStore(path)

        class Bogus:
            pass

        good = store.write([Put("x", "1", {})])
        bad = store.write([Put("x", "2", {}), Bogus()])  # type: ignore[list-item]
        results = await asyncio.gather(good, bad, return_exceptions=True)
        assert results[0] is None and isinstance(results[1], TypeError)
        assert await store.get("x", "1") == {} and await store.get("x", "2") is None
        await store.close()

    run(main())


def test_log_events_query_and_delete(path):
    async def main():
        store = SQLiteStore(path)
        events = tuple(LogEvent(1000 + i, f"line {i}") for i in range(10))
        await store.write([AppendLogs("g", "s1", events[:5]), AppendLogs("g", "s2", events[5:])])
        everything = await store.read_logs(LogQuery("g"))
        assert [e.message for e in everything] == [f"line {i}" for i in range(10)]
        only_s2 = await store.read_logs(LogQuery("g", streams=["s2"]))
        assert {e.stream for e in only_s2} == {"s2"}
        window = await store.read_logs(LogQuery("g", start_time=1002, end_time=1004))
        assert [e.timestamp for e in window] == [1002, 1003]
        newest = await store.read_logs(LogQuery("g", forward=False, limit=1))
        assert newest[0].message == "line 9"
        after = await store.read_logs(LogQuery("g", after_id=everything[7].event_id))
        assert [e.message for e in after] == ["line 8", "line 9"]
        await store.write([DeleteLogs("g", "s1")])
        assert {e.stream for e in await store.read_logs(LogQuery("g"))} == {"s2"}
        await store.write([DeleteLogs("g")])
        assert await store.read_logs(LogQuery("g")) == []
        await store.close()

    run(main())


def test_migrations_are_recorded_once(path):
    run(SQLiteStore(path).close())
    run(SQLiteStore(path).close())
    import sqlite3

    from lamina.store.migrations import migration_scripts

    rows = sqlite3.connect(path).execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    assert [version for (version,) in rows] == [number for number, _, _ in migration_scripts()]
    assert os.path.exists(path)


def test_stream_records_append_read_by_shard_trim_and_delete(path):
    from lamina.store.base import DeleteStreamRecords, PutStreamRecords, StreamRecordRow, TrimStreamRecords

    async def main():
        store = SQLiteStore(path)
        rows = [StreamRecordRow("s1", f"shard-{i % 2}", 100 + i, f"k{i}", bytes([i])) for i in range(10)]
        await asyncio.gather(store.write([PutStreamRecords(rows[:5])]), store.write([PutStreamRecords(rows[5:])]),
                             store.write([PutStreamRecords([StreamRecordRow("s2", "shard-0", 1, "x", b"")])]))
        even = await store.read_stream_records("s1", "shard-0")
        assert [r.seq for r in even] == [100, 102, 104, 106, 108] and even[1] == rows[2]
        assert [r.seq for r in await store.read_stream_records("s1", "shard-0", after_seq=102, limit=2)] == [104, 106]
        assert [r.seq for r in await store.read_stream_records("s1", "shard-0", before_seq=104)] == [100, 102]
        assert [r.seq for r in await store.read_stream_records("s1", "shard-0", limit=2, newest=True)] == [106, 108]
        await store.write([TrimStreamRecords("s1", "shard-0", 105)])
        assert [r.seq for r in await store.read_stream_records("s1", "shard-0")] == [106, 108]
        assert len(await store.read_stream_records("s1", "shard-1")) == 5
        await store.write([DeleteStreamRecords("s1")])
        assert await store.read_stream_records("s1", "shard-1") == []
        assert len(await store.read_stream_records("s2", "shard-0")) == 1
        await store.close()

    run(main())
