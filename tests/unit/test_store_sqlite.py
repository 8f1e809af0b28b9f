"""What is SQLite's own in the SQLite store: migrations, PRAGMA synchronous, and the replay
of a group commit in which one batch fails. The contract every backend honours is checked
by the conformance suite, tests/store/."""

import asyncio
import sqlite3

import pytest

from lamina.store.base import Put
from lamina.store.migrations import migration_scripts
from lamina.store.sqlite import SQLiteStore


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "lamina.db")


def test_migrations_are_recorded_once(path):
    run(SQLiteStore(path).close())
    run(SQLiteStore(path).close())
    rows = sqlite3.connect(path).execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    assert [version for (version,) in rows] == [number for number, _, _ in migration_scripts()]


@pytest.mark.parametrize("synchronous, level", [(None, 2), ("FULL", 2), ("normal", 1), ("OFF", 0), ("EXTRA", 3)])
def test_synchronous_is_set_on_every_connection(path, synchronous, level):
    store = SQLiteStore(path) if synchronous is None else SQLiteStore(path, synchronous=synchronous)
    try:
        assert store._writer_conn.execute("PRAGMA synchronous").fetchone() == (level,)
        assert store.get_blocking("k", "x") is None  # opens this thread's read connection
        assert store._local.connection.execute("PRAGMA synchronous").fetchone() == (level,)
    finally:
        run(store.close())


def test_synchronous_must_be_a_level_sqlite_knows(path):
    with pytest.raises(ValueError, match="synchronous"):
        SQLiteStore(path, synchronous="NORMAL; DROP TABLE documents")


def test_a_group_with_a_failing_batch_is_replayed_batch_by_batch(path):
    class Bogus:
        pass

    async def main():
        store = SQLiteStore(path)
        replays: list[int] = []
        apply_each = store._apply_each

        def spy(connection, group):
            replays.append(len(group))
            return apply_each(connection, group)

        store._apply_each = spy
        # Hold the database so that the writer blocks on its first batch while the next
        # ones queue up behind it: they then form one group.
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        first = asyncio.create_task(store.write([Put("x", "0", {})]))
        await asyncio.sleep(0.05)
        good = asyncio.create_task(store.write([Put("x", "1", {})]))
        bad = asyncio.create_task(store.write([Put("x", "2", {}), Bogus()]))  # type: ignore[list-item]
        also_good = asyncio.create_task(store.write([Put("x", "3", {})]))
        await asyncio.sleep(0.05)
        blocker.execute("ROLLBACK")
        results = await asyncio.gather(first, good, bad, also_good, return_exceptions=True)
        assert results[0] is None and results[1] is None and results[3] is None
        assert isinstance(results[2], TypeError)
        assert replays and max(replays) >= 2  # the failing batch shared its group
        assert [key for key, _ in await store.scan("x")] == ["0", "1", "3"]
        await store.close()
        blocker.close()

    run(main())
