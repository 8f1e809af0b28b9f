"""Function output on its way to CloudWatch Logs: buffered, then appended in batches.

The record layout of log groups and streams is defined here, once, because both the
engine (writing invocation logs) and the Logs service (the API) use it:

    document kind "log_group"   key "<account>:<region>:<group name>"
    document kind "log_stream"  key "<group key>:<stream name>"
    log events                  group "<group key>", stream "<stream name>"

Lines are buffered in memory and flushed every FLUSH_INTERVAL_S or FLUSH_LINES lines,
through the store's group commit; a function printing megabytes costs batches, not
one transaction per line.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from ..store.base import AppendLogs, LogEvent, Put, Store

log = logging.getLogger("lamina.logs")

FLUSH_INTERVAL_S = 0.05
FLUSH_LINES = 2000

# observer(group key, stream, [(timestamp ms, message)]): sees every line emitted, at once
Observer = Callable[[str, str, list[tuple[int, str]]], None]


def group_key(account: str, region: str, name: str) -> str:
    return f"{account}:{region}:{name}"


def stream_key(group: str, stream: str) -> str:
    return f"{group}:{stream}"


def group_arn(account: str, region: str, name: str) -> str:
    return f"arn:aws:logs:{region}:{account}:log-group:{name}"


def new_group_doc(account: str, region: str, name: str, now_ms: int) -> dict:
    return {
        "logGroupName": name,
        "creationTime": now_ms,
        "arn": group_arn(account, region, name) + ":*",
        "logGroupArn": group_arn(account, region, name),
        "logGroupClass": "STANDARD",
        "metricFilterCount": 0,
    }


def new_stream_doc(account: str, region: str, group: str, stream: str, now_ms: int) -> dict:
    return {
        "logStreamName": stream,
        "creationTime": now_ms,
        "arn": f"{group_arn(account, region, group)}:log-stream:{stream}",
    }


class LogSink:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._known_groups: set[str] = set()
        self._buffer: dict[tuple[str, str], list[LogEvent]] = {}
        self._buffered = 0
        self._flush_task: asyncio.Task | None = None
        self._wake = asyncio.Event()
        self._closed = False
        self.observer: Observer | None = None  # the Logs service's metric and subscription filters

    async def ensure_stream(self, account: str, region: str, group: str, stream: str) -> None:
        """Create the group (if new) and the stream, durably, before anything is written to it."""
        now = int(time.time() * 1000)
        key = group_key(account, region, group)
        ops = []
        if key not in self._known_groups:
            if await self.store.get("log_group", key) is None:
                ops.append(Put("log_group", key, new_group_doc(account, region, group, now)))
            self._known_groups.add(key)
        ops.append(Put("log_stream", stream_key(key, stream), new_stream_doc(account, region, group, stream, now)))
        await self.store.write(ops)

    def forget_group(self, key: str) -> None:
        self._known_groups.discard(key)

    def reset(self) -> None:
        """Lamina's reset: the groups it made and the output it buffered are forgotten (the
        store is emptied by the caller)."""
        self._known_groups.clear()
        self.take()

    def emit(self, group: str, stream: str, events: list[tuple[int, str]]) -> None:
        """Queue events for (group key, stream); never blocks, never raises."""
        if self.observer is not None:
            try:
                self.observer(group, stream, events)
            except Exception:
                log.exception("log observer failed")
        key = (group, stream)
        bucket = self._buffer.get(key)
        if bucket is None:
            bucket = self._buffer[key] = []
        bucket += [LogEvent(ts, message) for ts, message in events]
        self._buffered += len(events)
        flushing = self._flush_task
        if flushing is None or flushing.done():
            self._flush_task = asyncio.ensure_future(self._flush_soon())
        if self._buffered >= FLUSH_LINES:
            self._wake.set()

    async def _flush_soon(self) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), FLUSH_INTERVAL_S)
        except asyncio.TimeoutError:
            pass
        self._wake.clear()
        await self.flush()

    def take(self) -> list[AppendLogs]:
        """Everything buffered, as store operations for the caller to commit (and gone from here)."""
        if not self._buffer:
            return []
        buffer, self._buffer, self._buffered = self._buffer, {}, 0
        return [AppendLogs(group, stream, tuple(events)) for (group, stream), events in buffer.items()]

    async def flush(self) -> None:
        ops = self.take()
        if not ops:
            return
        try:
            await self.store.write(ops)
        except Exception:  # logs must never take an invocation down with them
            log.exception("could not write %d log batches", len(ops))

    async def close(self) -> None:
        if self._flush_task is not None and not self._flush_task.done():
            self._wake.set()
            await self._flush_task
        await self.flush()
