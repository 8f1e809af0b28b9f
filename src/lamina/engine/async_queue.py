"""Durable asynchronous invocations: accepted events wait in the store until they ran.

enqueue() returns only once the event is committed, so a 202 means the event survives
kill -9. start() picks up whatever the store still holds (events accepted or in flight
before a crash: at-least-once). Each attempt runs through the `run` callback the service
hands us and comes back as an Attempt:

    SUCCESS         done; finish(..., "Success")
    FUNCTION_ERROR  retried after retry_delays_s, up to the event's max_retries;
                    then finish(..., "RetriesExhausted")
    RETRY_LATER     throttled or platform trouble: not an attempt; exponential backoff
    PARKED          cannot run until something changes (a reserved concurrency of 0): not an
                    attempt; held in memory under Attempt.park_key until unpark(key) or its
                    maximum age, instead of being tried, throttled and rewritten over and over
    DROP            the function is gone: finish(..., None)

An event older than its max age is not run again: finish(..., "EventAgeExceeded").
finish() (destinations, dead-letter queues, metrics) is awaited before the event leaves
the store, so it too happens at least once.

Event document (kind "async_event", key "<received ms, 15 digits>-<uuid>"):
    {function, qualifier, payload_b64, request_id, received_ms, attempts,
     not_before_ms, max_retries, max_age_s, backoffs}
"""
from __future__ import annotations

import asyncio
import heapq
import logging
import random
import time
from dataclasses import dataclass
from typing import Awaitable, Callable

from .. import ids
from ..store.base import Delete, Put, Store

log = logging.getLogger("lamina.async")

KIND = "async_event"

SUCCESS, FUNCTION_ERROR, RETRY_LATER, DROP, PARKED = "success", "function_error", "retry_later", "drop", "parked"


@dataclass
class Attempt:
    outcome: str
    payload: bytes | None = None  # the function's response or error payload
    function_error: str | None = None
    executed_version: str | None = None
    status_code: int | None = None
    park_key: str | None = None  # PARKED: what unpark() is called with when it may run again


Run = Callable[[dict], Awaitable[Attempt]]
Finish = Callable[[dict, "Attempt | None", "str | None"], Awaitable[None]]


def new_event_key(now_ms: int) -> str:
    return f"{now_ms:015d}-{ids.hex32()}"


async def _nothing(doc: dict, attempt: Attempt | None, condition: str | None) -> None:
    return None


class AsyncQueue:
    def __init__(self, store: Store, run: Run, *, finish: Finish = _nothing, concurrency: int = 256,
                 retry_delays_s: tuple[float, ...] = (60.0, 120.0), throttle_backoff_s: float = 1.0,
                 max_backoff_s: float = 300.0, pending_logs: Callable[[], list] = list) -> None:
        self.store = store
        self.run = run
        self.finish = finish
        # The log lines buffered so far (LogSink.take): committed in the same batch that
        # removes a finished event, so a kill -9 never keeps the removal and loses the trace.
        self.pending_logs = pending_logs
        self.retry_delays_s = retry_delays_s
        self.throttle_backoff_s = throttle_backoff_s
        self.max_backoff_s = max_backoff_s
        self._slots = asyncio.Semaphore(concurrency)
        self._due: list[tuple[int, str]] = []
        self._docs: dict[str, dict] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._running: set[asyncio.Task] = set()
        self._parked: dict[str, set[str]] = {}  # park key -> event keys

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
            doc = self._docs.get(key)
            if doc is None or doc.get("not_before_ms", 0) != when:
                continue  # finished, or due at another time now (unparked): a stale entry
            await self._slots.acquire()
            task = asyncio.ensure_future(self._run_one(key))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run_one(self, key: str) -> None:
        try:
            doc = self._docs[key]
            now = int(time.time() * 1000)
            if now - doc["received_ms"] > doc.get("max_age_s", 21600) * 1000:
                log.info("async event %s expired after %d attempts", doc.get("request_id"), doc["attempts"])
                await self._finish(key, doc, None, "EventAgeExceeded")
                return
            doc = dict(doc, attempts=doc["attempts"] + 1)
            try:
                attempt = await self.run(doc)
            except Exception:
                log.exception("async event %s: platform error", doc.get("request_id"))
                attempt = Attempt(RETRY_LATER)
            if attempt.outcome == SUCCESS:
                await self._finish(key, doc, attempt, "Success")
            elif attempt.outcome == DROP:
                await self._finish(key, doc, attempt, None)
            elif attempt.outcome == PARKED and attempt.park_key:
                doc["attempts"] -= 1
                self._park(key, doc, attempt.park_key)
            elif attempt.outcome == FUNCTION_ERROR:
                retries_done = doc["attempts"] - 1
                if retries_done >= doc.get("max_retries", 2):
                    await self._finish(key, doc, attempt, "RetriesExhausted")
                else:
                    delay = self.retry_delays_s[min(retries_done, len(self.retry_delays_s) - 1)]
                    await self._retry(key, doc, delay)
            else:
                # Throttles and system errors do not count as attempts; back off exponentially.
                doc["attempts"] -= 1
                backoffs = doc.get("backoffs", 0)
                doc["backoffs"] = backoffs + 1
                delay = min(self.throttle_backoff_s * 2 ** backoffs, self.max_backoff_s)
                await self._retry(key, doc, delay * random.uniform(0.8, 1.2))
        finally:
            self._slots.release()

    def _park(self, key: str, doc: dict, park_key: str) -> None:
        # Due again at its maximum age (then EventAgeExceeded), unless unparked first. The
        # store keeps the doc as accepted: after a restart it is simply tried (and parked) again.
        doc["not_before_ms"] = doc["received_ms"] + doc.get("max_age_s", 21600) * 1000 + 1
        self._parked.setdefault(park_key, set()).add(key)
        self._schedule(key, doc)

    def unpark(self, park_key: str) -> int:
        """What was parked under `park_key` is due now (a reservation changed); their count."""
        keys = self._parked.pop(park_key, set())
        now = int(time.time() * 1000)
        for key in keys:
            doc = self._docs.get(key)
            if doc is not None:
                doc["not_before_ms"] = now
                self._schedule(key, doc)
        return len(keys)

    async def _retry(self, key: str, doc: dict, delay_s: float) -> None:
        now_ms = time.time() * 1000
        # Never wait past the event's maximum age: it is then due for EventAgeExceeded (its
        # OnFailure destination, its dead-letter queue) at that moment, not at the next
        # backoff, which may be minutes later (throttle backoffs double up to 5 minutes).
        expires_ms = doc["received_ms"] + doc.get("max_age_s", 21600) * 1000 + 1
        doc["not_before_ms"] = int(min(now_ms + delay_s * 1000, max(expires_ms, now_ms)))
        await self.store.write([Put(KIND, key, doc)])
        self._schedule(key, doc)

    async def _finish(self, key: str, doc: dict, attempt: Attempt | None, condition: str | None) -> None:
        try:
            await self.finish(doc, attempt, condition)
        except Exception:
            log.exception("async event %s: could not finish", doc.get("request_id"))
        await self.store.write([*self.pending_logs(), Delete(KIND, key)])
        self._docs.pop(key, None)
        for keys in self._parked.values():
            keys.discard(key)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        for task in list(self._running):
            task.cancel()
