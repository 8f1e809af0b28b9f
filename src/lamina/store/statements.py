"""What a group commit's write operations become in SQL: rows of the write_ops view.

Each operation becomes one or more rows (op, a, b, c, d, e) of the view that migration
0005_write_ops.sql defines; its INSTEAD OF triggers make the changes, row by row, in order.
A whole group then goes to SQLite as one multi-row INSERT.

Why: Python's sqlite3 module lets go of the GIL around every statement it steps (each row
of an executemany too), and the writer thread must then win it back from the busy event
loop's thread. Measured under an accept-and-run load: ~1 ms per hand-back (mean; p90
3.4 ms), so a group of a few statements took ~4 ms to apply against ~1 ms of work, and
each 202 waited for it. One statement, outside an explicit transaction, is its own
transaction: one hand-back for the whole group, commit included.

Statements take at most CHUNK rows and are padded (op 0: no trigger, nothing happens) to
a power-of-two size, so that there are a handful of distinct SQL texts, all of which stay
in the connection's prepared-statement cache.

Metric rows are not in the view: merging a minute that is already stored needs Python
(merge_metric_rows), so PutMetricData runs statements of its own (put_metric_rows).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from typing import Any

from .base import (
    AppendLogs,
    Delete,
    DeleteEverything,
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

CHUNK = 256  # rows per statement: 256 x 6 columns stays far below SQLite's 32,766 variables

# The op column: what a row of write_ops does (the triggers of migration 0005).
(
    NOTHING,
    PUT_DOCUMENT,
    DELETE_DOCUMENT,
    DELETE_PREFIX,
    APPEND_LOG,
    DELETE_LOG_GROUP,
    DELETE_LOG_STREAM,
    PUT_MESSAGE,
    MARK_RECEIVED,
    DELETE_MESSAGE,
    DELETE_QUEUE_MESSAGES,
    PUT_RECORD,
    TRIM_RECORDS,
    DELETE_STREAM_RECORDS,
    DELETE_EVERYTHING,
) = range(15)

_PAD = (NOTHING, None, None, None, None, None)
_ONE = "(?, ?, ?, ?, ?, ?)"
_SQL: dict[int, str] = {}

METRIC_COLUMNS = "namespace, name, dims, minute, unit, sample_count, value_sum, value_min, value_max, samples, sampled"


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, separators=(",", ":"), default=str)


def metric_row(row: tuple) -> MetricRow:
    namespace, name, dims, minute, unit, count, total, minimum, maximum, samples, sampled = row
    return MetricRow(
        namespace, name, dims, unit, minute, count, total, minimum, maximum, tuple(json.loads(samples)), sampled
    )


def rows_of(ops: Iterable[Op], rows: list[tuple], metrics: list[PutMetricData]) -> None:
    """Append the write_ops rows of `ops` to `rows`, and their PutMetricData to `metrics`."""
    add = rows.append
    for op in ops:
        # Dispatch on the exact type (cheaper than isinstance; mypy narrows it too), the
        # commonest operations first.
        if type(op) is Put:
            add((PUT_DOCUMENT, op.kind, op.key, dumps(op.doc), None, None))
        elif type(op) is Delete:
            add((DELETE_DOCUMENT, op.kind, op.key, None, None, None))
        elif type(op) is AppendLogs:
            ingestion = op.ingestion_time or int(time.time() * 1000)
            rows.extend((APPEND_LOG, op.group, op.stream, e.timestamp, ingestion, e.message) for e in op.events)
        elif type(op) is PutMessages:
            rows.extend((PUT_MESSAGE, m.queue, m.seq, dumps(m.message), m.visible_at, m.receives) for m in op.messages)
        elif type(op) is MarkReceived:
            rows.extend(
                (MARK_RECEIVED, op.queue, seq, None, visible_at, receives) for seq, visible_at, receives in op.changes
            )
        elif type(op) is DeleteMessages:
            if op.seqs is None:
                add((DELETE_QUEUE_MESSAGES, op.queue, None, None, None, None))
            else:
                rows.extend((DELETE_MESSAGE, op.queue, seq, None, None, None) for seq in op.seqs)
        elif type(op) is PutStreamRecords:
            # Rows are already (stream, shard, seq, partition_key, data).
            rows.extend((PUT_RECORD, *record) for record in op.rows)
        elif type(op) is TrimStreamRecords:
            add((TRIM_RECORDS, op.stream, op.shard, op.before_seq, None, None))
        elif type(op) is DeleteStreamRecords:
            add((DELETE_STREAM_RECORDS, op.stream, None, None, None, None))
        elif type(op) is DeletePrefix:
            add((DELETE_PREFIX, op.kind, op.prefix, op.prefix + "\U0010ffff", None, None))
        elif type(op) is DeleteLogs:
            if op.stream is None:
                add((DELETE_LOG_GROUP, op.group, None, None, None, None))
            else:
                add((DELETE_LOG_STREAM, op.group, op.stream, None, None, None))
        elif type(op) is PutMetricData:
            metrics.append(op)
        elif type(op) is DeleteEverything:
            # Metric rows are written after the other rows: those put before this op would
            # be emptied by it, so they are dropped here; those after it are kept.
            metrics.clear()
            add((DELETE_EVERYTHING, None, None, None, None, None))
        else:
            raise TypeError(f"unknown store operation {op!r}")


def fits_one_statement(rows: list[tuple], metrics: list[PutMetricData]) -> bool:
    """Whether the rows can go as one statement, which is then its own transaction."""
    return len(rows) <= CHUNK and not metrics


def write(connection: sqlite3.Connection, rows: list[tuple], metrics: list[PutMetricData]) -> None:
    """Run the rows in order, CHUNK at a time, then the metric rows (which touch no other table)."""
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        size = 1 << (len(chunk) - 1).bit_length()
        if size > len(chunk):
            chunk += [_PAD] * (size - len(chunk))
        sql = _SQL.get(size)
        if sql is None:
            sql = _SQL[size] = f"INSERT INTO write_ops (op, a, b, c, d, e) VALUES {', '.join([_ONE] * size)}"
        connection.execute(sql, [value for row in chunk for value in row])
    for op in metrics:
        put_metric_rows(connection, op)


def apply(connection: sqlite3.Connection, ops: Iterable[Op]) -> None:
    """The operations of one batch, inside the caller's transaction."""
    rows: list[tuple] = []
    metrics: list[PutMetricData] = []
    rows_of(ops, rows, metrics)
    write(connection, rows, metrics)


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
            (
                row.namespace,
                row.name,
                row.dimensions,
                row.minute,
                row.unit,
                row.count,
                row.sum,
                row.minimum,
                row.maximum,
                json.dumps(list(row.samples), separators=(",", ":")),
                row.sampled,
            ),
        )
