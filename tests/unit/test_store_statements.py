"""A group's operations written as rows of the write_ops view, in as few statements as fit,
leave the tables exactly as the same operations run one at a time, in order, would."""

import random
import sqlite3

import pytest

from lamina.store import statements
from lamina.store.base import (
    AppendLogs,
    Delete,
    DeleteLogs,
    DeleteMessages,
    DeletePrefix,
    DeleteStreamRecords,
    LogEvent,
    MarkReceived,
    MetricRow,
    Put,
    PutMessages,
    PutMetricData,
    PutStreamRecords,
    QueuedMessage,
    StreamRecordRow,
    TrimStreamRecords,
)
from lamina.store.migrations import migrate_sqlite


def _database(path) -> sqlite3.Connection:
    connection = sqlite3.connect(str(path), isolation_level=None)
    migrate_sqlite(connection)
    return connection


def _tables(connection: sqlite3.Connection) -> dict[str, list]:
    return {
        "documents": connection.execute("SELECT kind, key, doc FROM documents ORDER BY kind, key").fetchall(),
        # ids included: log order (GetLogEvents pages by id) must survive the regrouping
        "log_events": connection.execute(
            "SELECT id, log_group, log_stream, timestamp, message FROM log_events ORDER BY id"
        ).fetchall(),
        "queue_messages": connection.execute(
            "SELECT queue, seq, message, visible_at, receives FROM queue_messages ORDER BY queue, seq"
        ).fetchall(),
        "stream_records": connection.execute(
            "SELECT stream, shard, seq, partition_key, data FROM stream_records ORDER BY stream, shard, seq"
        ).fetchall(),
        "metric_data": connection.execute(
            "SELECT namespace, name, sample_count, value_sum FROM metric_data"
        ).fetchall(),
    }


def _random_ops(rng: random.Random, count: int, seq: list[int]) -> list:
    ops = []
    for _ in range(count):
        roll = rng.random()
        kind, key = rng.choice(["fn", "ev"]), f"k{rng.randrange(6)}"
        queue, qseq = rng.choice(["q1", "q2"]), rng.randrange(6)
        if roll < 0.25:
            ops.append(Put(kind, key, {"v": rng.randrange(1000)}))
        elif roll < 0.40:
            ops.append(Delete(kind, key))
        elif roll < 0.43:
            ops.append(DeletePrefix(kind, "k"))
        elif roll < 0.55:
            ops.append(
                AppendLogs(
                    "g",
                    rng.choice(["s1", "s2"]),
                    tuple(LogEvent(i, f"m{rng.randrange(1000)}") for i in range(rng.randrange(1, 4))),
                    1,
                )
            )
        elif roll < 0.57:
            ops.append(DeleteLogs("g", rng.choice(["s1", None])))
        elif roll < 0.67:
            ops.append(PutMessages((QueuedMessage(queue, qseq, {"b": rng.randrange(100)}, rng.randrange(100), 0),)))
        elif roll < 0.74:
            ops.append(MarkReceived(queue, ((qseq, rng.randrange(100), rng.randrange(1, 5)),)))
        elif roll < 0.81:
            ops.append(DeleteMessages(queue, (qseq, (qseq + 1) % 6)))
        elif roll < 0.82:
            ops.append(DeleteMessages(queue))
        elif roll < 0.92:
            seq[0] += 1
            ops.append(PutStreamRecords((StreamRecordRow("st", rng.choice(["a", "b"]), seq[0], "pk", b"x"),)))
        elif roll < 0.94:
            ops.append(TrimStreamRecords("st", "a", seq[0] - 3))
        elif roll < 0.95:
            ops.append(DeleteStreamRecords("st"))
        else:
            ops.append(PutMetricData((MetricRow("ns", "m", "[]", "Count", 60, 1, rng.randrange(10), 0, 9),)))
    return ops


@pytest.mark.parametrize("seed", range(40))
def test_a_group_in_few_statements_equals_one_operation_at_a_time(tmp_path, seed):
    rng = random.Random(seed)
    ops = _random_ops(rng, rng.randrange(5, 120), [0])
    grouped, one_by_one = _database(tmp_path / "grouped.db"), _database(tmp_path / "single.db")
    rows, metrics = [], []
    statements.rows_of(ops, rows, metrics)
    if statements.fits_one_statement(rows, metrics):
        statements.write(grouped, rows, metrics)
    else:
        grouped.execute("BEGIN")
        statements.write(grouped, rows, metrics)
        grouped.execute("COMMIT")
    for op in ops:
        statements.apply(one_by_one, [op])
    assert _tables(grouped) == _tables(one_by_one)


class _Counting:
    """A connection that remembers the parameter count of each statement it runs."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection, self.sizes = connection, []

    def execute(self, sql, params=()):
        self.sizes.append(len(params) // 6)
        return self.connection.execute(sql, params)


def test_rows_go_in_statements_of_at_most_256_padded_to_a_power_of_two(tmp_path):
    connection = _database(tmp_path / "many.db")
    counting = _Counting(connection)
    connection.execute("BEGIN")
    statements.apply(
        counting,
        [Put("ev", f"{i:04d}", {"i": i}) for i in range(600)] + [Delete("ev", f"{i:04d}") for i in range(0, 600, 2)],
    )
    connection.execute("COMMIT")
    assert connection.execute("SELECT count(*) FROM documents").fetchone() == (300,)
    assert counting.sizes == [256, 256, 256, 256]  # 900 rows: 256 + 256 + 256 + 132 padded to 256
    counting.sizes.clear()
    statements.apply(counting, [Put("ev", "x", {}), Put("ev", "y", {}), Delete("ev", "x")])
    assert counting.sizes == [4]


def test_a_small_group_is_one_statement_and_its_own_transaction(tmp_path):
    connection = _database(tmp_path / "one.db")
    rows, metrics = [], []
    statements.rows_of(
        [Put("ev", "a", {}), AppendLogs("g", "s", (LogEvent(1, "x"),), 1), Delete("ev", "b")], rows, metrics
    )
    assert statements.fits_one_statement(rows, metrics)
    counting = _Counting(connection)
    statements.write(counting, rows, metrics)
    assert counting.sizes == [4] and not connection.in_transaction
    other = sqlite3.connect(str(tmp_path / "one.db"))  # committed: another connection sees it
    assert other.execute("SELECT key FROM documents").fetchall() == [("a",)]
    assert other.execute("SELECT message FROM log_events").fetchall() == [("x",)]
