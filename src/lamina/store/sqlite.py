"""The embedded store: one SQLite file in WAL mode, implementing the Store of base.py.

One writer thread owns the write connection and commits whatever batches have queued up
while the previous transaction was committing, in one transaction (group commit); each
caller's future resolves only after that commit. Reads run on a small pool of threads,
each with its own read connection; the event loop never touches SQLite. statements.py
turns a group's operations into SQL; migrations/ hold the schema.

Beyond the contract, the reads also come as plain blocking methods (`get_blocking`, ...)
and there is `write_blocking`, for callers on threads of their own.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import sqlite3
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from . import statements
from .base import LogQuery, MetricRow, Op, QueuedMessage, StoredLogEvent, StreamRecordRow
from .migrations import migrate_sqlite
from .statements import METRIC_COLUMNS, metric_row

_MAX_GROUP = 512  # batches per transaction
_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")  # SQLite's PRAGMA synchronous levels


def _connect(path: str, synchronous: str) -> sqlite3.Connection:
    # A larger statement cache: statements.py keeps a few multi-row shapes of each statement.
    connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None, cached_statements=512)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"PRAGMA synchronous={synchronous}")
    connection.execute("PRAGMA busy_timeout=10000")
    connection.execute("PRAGMA foreign_keys=ON")
    return connection


class SQLiteStore:
    """`synchronous` is SQLite's PRAGMA synchronous. FULL (the default) syncs the WAL at every
    commit: a batch that returned survives a power cut. NORMAL syncs only at checkpoints: a
    batch that returned survives the process dying, not the machine (faster commits; for
    benchmarks and throwaway data). OFF and EXTRA are SQLite's other levels."""

    def __init__(self, path: str, synchronous: str = "FULL") -> None:
        synchronous = synchronous.upper()
        if synchronous not in _SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {', '.join(_SYNCHRONOUS)}, not {synchronous!r}")
        self.path = path
        self.synchronous = synchronous
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._writer_conn = _connect(path, synchronous)
        migrate_sqlite(self._writer_conn)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._closed = False
        self._writer = threading.Thread(target=self._write_loop, name="lamina-sqlite-writer", daemon=True)
        self._writer.start()
        self._local = threading.local()
        self._readers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="lamina-sqlite-reader")

    # --- writes -------------------------------------------------------------------------

    async def write(self, ops: Sequence[Op]) -> None:
        if not ops:
            return
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put((ops, loop, future))
        await future

    def write_blocking(self, ops: Sequence[Op]) -> None:
        """For callers on plain threads (tests, tools)."""
        done = threading.Event()
        box: list[BaseException | None] = [None]

        class _Sync:
            def set(self, error: BaseException | None) -> None:
                box[0] = error
                done.set()

        self._queue.put((ops, None, _Sync()))
        done.wait()
        if box[0] is not None:
            raise box[0]

    def _write_loop(self) -> None:
        connection = self._writer_conn
        while True:
            item = self._queue.get()
            if item is None:
                return
            group = [item]
            while len(group) < _MAX_GROUP:
                try:
                    extra = self._queue.get_nowait()
                except queue.Empty:
                    break
                if extra is None:
                    self._queue.put(None)
                    break
                group.append(extra)
            error: BaseException | None = None
            failed: list[tuple[int, BaseException]] = []
            rows: list[tuple] = []
            metrics: list = []
            try:
                for ops, _, _ in group:
                    statements.rows_of(ops, rows, metrics)
                if statements.fits_one_statement(rows, metrics):
                    statements.write(connection, rows, metrics)  # its own transaction
                else:
                    connection.execute("BEGIN IMMEDIATE")
                    statements.write(connection, rows, metrics)
                    connection.execute("COMMIT")
            except Exception:
                # A bad batch must not sink the others: start the group over, each batch in
                # a savepoint of its own. Only then, because batches rarely fail.
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                try:
                    connection.execute("BEGIN IMMEDIATE")
                    failed = self._apply_each(connection, group)
                    connection.execute("COMMIT")
                except BaseException as commit_error:
                    if connection.in_transaction:
                        try:
                            connection.execute("ROLLBACK")
                        except sqlite3.Error:
                            pass
                    error, failed = commit_error, []
            self._resolve(group, dict(failed), error)

    def _apply_each(self, connection: sqlite3.Connection, group: list) -> list[tuple[int, BaseException]]:
        failed: list[tuple[int, BaseException]] = []
        for index, (ops, _, _) in enumerate(group):
            connection.execute("SAVEPOINT batch")
            try:
                statements.apply(connection, ops)
                connection.execute("RELEASE batch")
            except Exception as batch_error:
                connection.execute("ROLLBACK TO batch")
                connection.execute("RELEASE batch")
                failed.append((index, batch_error))
        return failed

    @staticmethod
    def _resolve(group, failures: dict[int, BaseException], error: BaseException | None) -> None:
        by_loop: dict[Any, list] = {}
        for index, (_, loop, future) in enumerate(group):
            outcome = error or failures.get(index)
            if loop is None:
                future.set(outcome)
            else:
                by_loop.setdefault(loop, []).append((future, outcome))
        for loop, items in by_loop.items():

            def settle(items=items) -> None:
                for future, outcome in items:
                    if future.done():
                        continue
                    if outcome is None:
                        future.set_result(None)
                    else:
                        future.set_exception(outcome)

            try:
                loop.call_soon_threadsafe(settle)
            except RuntimeError:
                pass  # the loop is gone (shutdown): nobody is waiting any more

    # --- reads --------------------------------------------------------------------------

    def _reader(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = _connect(self.path, self.synchronous)
        return connection

    async def _read(self, fn, *args):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, fn, *args)

    def get_blocking(self, kind: str, key: str) -> dict[str, Any] | None:
        row = self._reader().execute("SELECT doc FROM documents WHERE kind = ? AND key = ?", (kind, key)).fetchone()
        return json.loads(row[0]) if row else None

    async def get(self, kind: str, key: str) -> dict[str, Any] | None:
        return await self._read(self.get_blocking, kind, key)

    def scan_blocking(self, kind: str, prefix: str = "", after: str | None = None, limit: int | None = None):
        sql = "SELECT key, doc FROM documents WHERE kind = ? AND key >= ? AND key < ?"
        params: list[Any] = [kind, prefix, prefix + "\U0010ffff"]
        if after is not None:
            sql += " AND key > ?"
            params.append(after)
        sql += " ORDER BY key"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [(key, json.loads(doc)) for key, doc in self._reader().execute(sql, params)]

    async def scan(self, kind: str, prefix: str = "", after: str | None = None, limit: int | None = None):
        return await self._read(self.scan_blocking, kind, prefix, after, limit)

    def read_logs_blocking(self, query: LogQuery) -> list[StoredLogEvent]:
        sql = "SELECT id, log_stream, timestamp, ingestion_time, message FROM log_events WHERE log_group = ?"
        params: list[Any] = [query.group]
        if query.streams:
            sql += f" AND log_stream IN ({','.join('?' * len(query.streams))})"
            params.extend(query.streams)
        if query.stream_prefix:
            sql += " AND log_stream >= ? AND log_stream < ?"
            params.extend([query.stream_prefix, query.stream_prefix + "\U0010ffff"])
        if query.start_time is not None:
            sql += " AND timestamp >= ?"
            params.append(query.start_time)
        if query.end_time is not None:
            sql += " AND timestamp < ?"
            params.append(query.end_time)
        if query.after_id is not None:
            sql += " AND id > ?"
            params.append(query.after_id)
        if query.before_id is not None:
            sql += " AND id < ?"
            params.append(query.before_id)
        sql += " ORDER BY id" + ("" if query.forward else " DESC") + " LIMIT ?"
        params.append(query.limit)
        rows = self._reader().execute(sql, params).fetchall()
        return [StoredLogEvent(*row) for row in rows]

    async def read_logs(self, query: LogQuery) -> list[StoredLogEvent]:
        return await self._read(self.read_logs_blocking, query)

    def read_metrics_blocking(
        self,
        namespace: str,
        name: str,
        dimensions: str,
        start_minute: int,
        end_minute: int,
        unit: str | None = None,
        with_samples: bool = True,
    ) -> list[MetricRow]:
        columns = METRIC_COLUMNS if with_samples else METRIC_COLUMNS.replace("samples,", "'[]',")
        sql = (
            f"SELECT {columns} FROM metric_data WHERE namespace = ? AND name = ? AND dims = ? "
            "AND minute >= ? AND minute < ?"
        )
        params: list[Any] = [namespace, name, dimensions, start_minute, end_minute]
        if unit is not None:
            sql += " AND unit = ?"
            params.append(unit)
        sql += " ORDER BY minute, unit"
        return [metric_row(row) for row in self._reader().execute(sql, params)]

    async def read_metrics(
        self,
        namespace: str,
        name: str,
        dimensions: str,
        start_minute: int,
        end_minute: int,
        unit: str | None = None,
        with_samples: bool = True,
    ) -> list[MetricRow]:
        return await self._read(
            self.read_metrics_blocking, namespace, name, dimensions, start_minute, end_minute, unit, with_samples
        )

    def list_metric_series_blocking(
        self, namespace: str | None = None, name: str | None = None, since_minute: int | None = None
    ) -> list[tuple[str, str, str]]:
        sql = "SELECT DISTINCT namespace, name, dims FROM metric_data WHERE 1 = 1"
        params: list[Any] = []
        for column, value in (("namespace", namespace), ("name", name)):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        if since_minute is not None:
            sql += " AND minute >= ?"
            params.append(since_minute)
        sql += " ORDER BY namespace, name, dims"
        return [tuple(row) for row in self._reader().execute(sql, params)]

    async def list_metric_series(
        self, namespace: str | None = None, name: str | None = None, since_minute: int | None = None
    ) -> list[tuple[str, str, str]]:
        return await self._read(self.list_metric_series_blocking, namespace, name, since_minute)

    def read_messages_blocking(self, queue: str | None = None) -> list[QueuedMessage]:
        sql = "SELECT queue, seq, message, visible_at, receives FROM queue_messages"
        params: tuple = ()
        if queue is not None:
            sql += " WHERE queue = ?"
            params = (queue,)
        rows = self._reader().execute(sql + " ORDER BY queue, seq", params).fetchall()
        return [
            QueuedMessage(q, seq, json.loads(message), visible_at, receives)
            for q, seq, message, visible_at, receives in rows
        ]

    async def read_messages(self, queue: str | None = None) -> list[QueuedMessage]:
        return await self._read(self.read_messages_blocking, queue)

    def read_stream_records_blocking(
        self,
        stream: str,
        shard: str,
        after_seq: int | None = None,
        before_seq: int | None = None,
        limit: int = 10000,
        newest: bool = False,
    ) -> list[StreamRecordRow]:
        sql = "SELECT stream, shard, seq, partition_key, data FROM stream_records WHERE stream = ? AND shard = ?"
        params: list[Any] = [stream, shard]
        if after_seq is not None:
            sql += " AND seq > ?"
            params.append(after_seq)
        if before_seq is not None:
            sql += " AND seq < ?"
            params.append(before_seq)
        sql += " ORDER BY seq" + (" DESC" if newest else "") + " LIMIT ?"
        params.append(limit)
        rows = [StreamRecordRow(*row) for row in self._reader().execute(sql, params)]
        if newest:
            rows.reverse()
        return rows

    async def read_stream_records(
        self,
        stream: str,
        shard: str,
        after_seq: int | None = None,
        before_seq: int | None = None,
        limit: int = 10000,
        newest: bool = False,
    ) -> list[StreamRecordRow]:
        return await self._read(self.read_stream_records_blocking, stream, shard, after_seq, before_seq, limit, newest)

    async def close(self) -> None:
        self._queue.put(None)
        await asyncio.get_running_loop().run_in_executor(None, self._writer.join, 5)
        self._readers.shutdown(wait=False)
