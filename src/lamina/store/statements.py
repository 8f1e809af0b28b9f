"""The SQL that a group commit's write operations become, as few statements as is safe.

Why few: Python's sqlite3 module lets go of the GIL around every sqlite3_step, once per row
of an executemany, and the writer thread must win it back each time from the event loop's
thread. Under load that hand-back, not SQLite, was most of a group's time (a group of ~70
small operations took ~4 ms to apply against ~1 ms to commit). One multi-row statement is
one step: one hand-back for a whole run of rows.

How: operations are gathered into buckets, one per statement shape (documents to upsert,
documents to delete, log rows, messages to put or delete, stream records). Rows in a bucket
keep their order. Operations on different rows commute, so a bucket may be written after an
operation that came later in the group as long as none of them touches the same row; when
one would (a document put and then deleted, a message updated that a bucket still holds),
the buckets are written first. Operations that reach many rows (a prefix delete, a log group
deleted, a stream trimmed) write every bucket before they run. The outcome is the same as
running the operations one by one in order; only the number of statements differs.

Statements take at most _CHUNK rows, split into power-of-two sizes (37 rows: 32 + 4 + 1),
so that each shape has a handful of distinct SQL texts, which stay in the connection's
prepared-statement cache.
"""
from __future__ import annotations

import json
import sqlite3
import time
from typing import Any, Iterable

from .base import (
    AppendLogs,
    Delete,
    DeleteLogs,
    DeleteMessages,
    DeletePrefix,
    DeleteStreamRecords,
    MarkReceived,
    MetricRow,
    Op,
    Put,
    PutMessages,
    PutMetricData,
    PutStreamRecords,
    TrimStreamRecords,
    merge_metric_rows,
)

_CHUNK = 256  # rows per statement: 256 x 5 columns stays far below SQLite's 32,766 variables

METRIC_COLUMNS = (
    "namespace, name, dims, minute, unit, sample_count, value_sum, value_min, value_max, samples, sampled"
)


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, separators=(",", ":"), default=str)


def metric_row(row: tuple) -> MetricRow:
    namespace, name, dims, minute, unit, count, total, minimum, maximum, samples, sampled = row
    return MetricRow(namespace, name, dims, unit, minute, count, total, minimum, maximum,
                     tuple(json.loads(samples)), sampled)


class _Shape:
    """One multi-row statement: `head` VALUES (?, ...), (?, ...) ... `tail`."""

    def __init__(self, head: str, columns: int, tail: str = "") -> None:
        self.head, self.columns, self.tail = head, columns, tail
        self._sql: dict[int, str] = {}

    def sql(self, rows: int) -> str:
        text = self._sql.get(rows)
        if text is None:
            one = "(" + ", ".join("?" * self.columns) + ")"
            text = self._sql[rows] = f"{self.head} VALUES {', '.join([one] * rows)}{self.tail}"
        return text

    def run(self, connection: sqlite3.Connection, rows: list[tuple]) -> None:
        start = 0
        while start < len(rows):
            size = min(_CHUNK, 1 << ((len(rows) - start).bit_length() - 1))
            chunk = rows[start:start + size]
            connection.execute(self.sql(size), [value for row in chunk for value in row])
            start += size


_DOC_PUT = _Shape("INSERT INTO documents (kind, key, doc)", 3,
                  " ON CONFLICT (kind, key) DO UPDATE SET doc = excluded.doc")
_DOC_DELETE = _Shape("DELETE FROM documents WHERE (kind, key) IN (", 2, ")")
_LOG_INSERT = _Shape("INSERT INTO log_events (log_group, log_stream, timestamp, ingestion_time, message)", 5)
_MESSAGE_PUT = _Shape("INSERT OR REPLACE INTO queue_messages (queue, seq, message, visible_at, receives)", 5)
_MESSAGE_DELETE = _Shape("DELETE FROM queue_messages WHERE (queue, seq) IN (", 2, ")")
_RECORD_INSERT = _Shape("INSERT INTO stream_records (stream, shard, seq, partition_key, data)", 5)


class _Bucket:
    """Rows waiting for one statement, and the row keys they touch."""

    def __init__(self, shape: _Shape) -> None:
        self.shape = shape
        self.rows: list[tuple] = []
        self.keys: set = set()

    def write(self, connection: sqlite3.Connection) -> None:
        if self.rows:
            self.shape.run(connection, self.rows)
            self.rows, self.keys = [], set()


class Writer:
    """Applies a group's operations on one connection inside the caller's transaction:
    add() each operation in order, then flush(). Statements may run during add()."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.doc_puts, self.doc_deletes = _Bucket(_DOC_PUT), _Bucket(_DOC_DELETE)
        self.message_puts, self.message_deletes = _Bucket(_MESSAGE_PUT), _Bucket(_MESSAGE_DELETE)
        self.logs, self.records = _Bucket(_LOG_INSERT), _Bucket(_RECORD_INSERT)
        self._buckets = (self.doc_puts, self.doc_deletes, self.logs, self.message_puts, self.message_deletes,
                         self.records)

    def flush(self) -> None:
        for bucket in self._buckets:
            bucket.write(self.connection)

    def _after(self, others: Iterable[_Bucket], keys: Iterable) -> None:
        """Write every bucket if one of `others` holds any of `keys`: what follows touches them."""
        for bucket in others:
            if bucket.keys and not bucket.keys.isdisjoint(keys):
                self.flush()
                return

    def apply(self, ops: Iterable[Op]) -> None:
        for op in ops:
            self.add(op)
        self.flush()

    def add(self, op: Op) -> None:
        connection = self.connection
        if isinstance(op, Put):
            key = (op.kind, op.key)
            if key in self.doc_deletes.keys:
                self.flush()
            self.doc_puts.rows.append((op.kind, op.key, dumps(op.doc)))
            self.doc_puts.keys.add(key)
        elif isinstance(op, Delete):
            key = (op.kind, op.key)
            if key in self.doc_puts.keys:
                self.flush()
            self.doc_deletes.rows.append(key)
            self.doc_deletes.keys.add(key)
        elif isinstance(op, AppendLogs):
            # Log rows are only ever appended: they commute with everything but a delete of logs.
            ingestion = op.ingestion_time or int(time.time() * 1000)
            self.logs.rows.extend((op.group, op.stream, e.timestamp, ingestion, e.message) for e in op.events)
        elif isinstance(op, PutMessages):
            keys = [(m.queue, m.seq) for m in op.messages]
            self._after((self.message_deletes,), keys)
            self.message_puts.rows.extend(
                (m.queue, m.seq, dumps(m.message), m.visible_at, m.receives) for m in op.messages)
            self.message_puts.keys.update(keys)
        elif isinstance(op, DeleteMessages) and op.seqs is not None:
            keys = [(op.queue, seq) for seq in op.seqs]
            self._after((self.message_puts,), keys)
            self.message_deletes.rows.extend(keys)
            self.message_deletes.keys.update(keys)
        elif isinstance(op, MarkReceived):
            # An update of rows a bucket may still have to write (or delete): those go first.
            self._after((self.message_puts, self.message_deletes), [(op.queue, seq) for seq, _, _ in op.changes])
            connection.executemany(
                "UPDATE queue_messages SET visible_at = ?, receives = ? WHERE queue = ? AND seq = ?",
                [(visible_at, receives, op.queue, seq) for seq, visible_at, receives in op.changes],
            )
        elif isinstance(op, PutStreamRecords):
            self.records.rows.extend(op.rows)  # already (stream, shard, seq, partition_key, data)
        elif isinstance(op, PutMetricData):
            put_metric_rows(connection, op)  # no bucket holds metric rows
        else:
            self.flush()  # the rest reach any number of rows: everything before them goes first
            _apply_wide(connection, op)


def _apply_wide(connection: sqlite3.Connection, op: Op) -> None:
    if isinstance(op, DeletePrefix):
        connection.execute(
            "DELETE FROM documents WHERE kind = ? AND key >= ? AND key < ?",
            (op.kind, op.prefix, op.prefix + "\U0010ffff"),
        )
    elif isinstance(op, DeleteLogs):
        if op.stream is None:
            connection.execute("DELETE FROM log_events WHERE log_group = ?", (op.group,))
        else:
            connection.execute("DELETE FROM log_events WHERE log_group = ? AND log_stream = ?", (op.group, op.stream))
    elif isinstance(op, DeleteMessages):
        connection.execute("DELETE FROM queue_messages WHERE queue = ?", (op.queue,))
    elif isinstance(op, TrimStreamRecords):
        connection.execute(
            "DELETE FROM stream_records WHERE stream = ? AND shard = ? AND seq < ?",
            (op.stream, op.shard, op.before_seq),
        )
    elif isinstance(op, DeleteStreamRecords):
        connection.execute("DELETE FROM stream_records WHERE stream = ?", (op.stream,))
    else:
        raise TypeError(f"unknown store operation {op!r}")


def put_metric_rows(connection: sqlite3.Connection, op: PutMetricData) -> None:
    for row in op.rows:
        existing = connection.execute(
            f"SELECT {METRIC_COLUMNS} FROM metric_data "
            "WHERE namespace = ? AND name = ? AND dims = ? AND minute = ? AND unit = ?",
            (row.namespace, row.name, row.dimensions, row.minute, row.unit),
        ).fetchone()
        if existing is not None:
            row = merge_metric_rows(metric_row(existing), row, op.max_samples)
        connection.execute(
            f"INSERT OR REPLACE INTO metric_data ({METRIC_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (row.namespace, row.name, row.dimensions, row.minute, row.unit, row.count, row.sum,
             row.minimum, row.maximum, json.dumps(list(row.samples), separators=(",", ":")), row.sampled),
        )
