"""Durable asynchronous invocations: accepted events wait in the store until they ran.

enqueue() returns only once the event is committed, so a 202 means the event survives
kill -9. start() picks up whatever the store still holds (events accepted or in flight
before a crash: at-least-once). Each event runs through the `run` callback the service
hands us; function errors are retried after `retry_delays_s` up to the event's
max_retries, and events older than their max age are dropped.

Event document (kind "async_event", key "<received ms, 15 digits>-<uuid>"):
    {function, qualifier, payload_b64, request_id, received_ms, attempts,
     not_before_ms, max_retries, max_age_s}
"""
from __future__ import annotations

import asyncio
import heapq
import logging
import time
import uuid
from typing import Awaitable, Callable

from ..store.base import Delete, Put, Store

log = logging.getLogger("lamina.async")

KIND = "async_event"

# What the run callback reports: the function succeeded, failed (retry per policy),
# could not run now (throttled or system trouble: retry with backoff), or must be dropped.
SUCCESS, FUNCTION_ERROR, RETRY_LATER, DROP = "success", "function_error", "retry_later", "drop"

Run = Callable[[dict], Awaitable[str]]


def new_event_key(now_ms: int) -> str:
    return f"{now_ms:015d}-{uuid.uuid4().hex}"


class AsyncQueue:
    def __init__(self, store: Store, run: Run, *, concurrency: int = 64,
                 retry_delays_s: tuple[float, ...] = (60.0, 120.0)) -> None:
        self.store = store
        self.run = run
        self.retry_delays_s = retry_delays_s
        self._slots = asyncio.Semaphore(concurrency)
        self._due: list[tuple[int, str]] = []
        self._docs: dict[str, dict] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._running: set[asyncio.Task] = set()

    async def start(self) -> int:
        pending = await self.store.scan(KIND)
        for key, doc in pending:
            self._schedule(key, doc)
        self._task = asyncio.ensure_future(self._dispatch_forever())
        return len(pending)

    async def enqueue(self, doc: dict) -> str:
        now = int(time.time() * 1000)
        doc = dict(doc, received_ms=doc.get("received_ms", now), attempts=0, not_before_ms=now)
        key = new_event_key(now)
        await self.store.write([Put(KIND, key, doc)])
        self._schedule(key, doc)
        return key

    @property
    def depth(self) -> int:
        return len(self._docs)

    def _schedule(self, key: str, doc: dict) -> None:
        self._docs[key] = doc
        heapq.heappush(self._due, (doc.get("not_before_ms", 0), key))
        self._wake.set()

    async def _dispatch_forever(self) -> None:
        while True:
            if not self._due:
                self._wake.clear()
                await self._wake.wait()
                continue
            when, key = self._due[0]
            wait_s = (when - time.time() * 1000) / 1000
            if wait_s > 0:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), wait_s)
                except asyncio.TimeoutError:
                    pass
                continue
            heapq.heappop(self._due)
            await self._slots.acquire()
            task = asyncio.ensure_future(self._run_one(key))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run_one(self, key: str) -> None:
        try:
            doc = self._docs[key]
            now = int(time.time() * 1000)
            if now - doc["received_ms"] > doc.get("max_age_s", 21600) * 1000:
                log.warning("async event %s dropped: older than its maximum age", doc.get("request_id"))
                await self._finish(key)
                return
            doc = dict(doc, attempts=doc["attempts"] + 1)
            try:
                outcome = await self.run(doc)
            except Exception:
                log.exception("async event %s: platform error", doc.get("request_id"))
                outcome = RETRY_LATER
            if outcome in (SUCCESS, DROP):
                await self._finish(key)
            elif outcome == FUNCTION_ERROR:
                retries_done = doc["attempts"] - 1
                if retries_done >= doc.get("max_retries", 2):
                    await self._finish(key)
                else:
                    delay = self.retry_delays_s[min(retries_done, len(self.retry_delays_s) - 1)]
                    await self._retry(key, doc, delay)
            else:
                # Throttles and system errors do not count as attempts; back off exponentially.
                doc["attempts"] -= 1
                backoff = min(1.0 * 2 ** doc.get("backoffs", 0), 300.0)
                doc["backoffs"] = doc.get("backoffs", 0) + 1
                await self._retry(key, doc, backoff)
        finally:
            self._slots.release()

    async def _retry(self, key: str, doc: dict, delay_s: float) -> None:
        doc["not_before_ms"] = int(time.time() * 1000 + delay_s * 1000)
        await self.store.write([Put(KIND, key, doc)])
        self._schedule(key, doc)

    async def _finish(self, key: str) -> None:
        await self.store.write([Delete(KIND, key)])
        self._docs.pop(key, None)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        for task in list(self._running):
            task.cancel()
