"""Durable asynchronous invocations: accepted events wait in the store until they ran.

enqueue() returns only once the event is committed, so a 202 means the event survives
kill -9. start() picks up whatever the store still holds (events accepted or in flight
before a crash: at-least-once). Each attempt runs through the `run` callback the service
hands us and comes back as an Attempt:

    SUCCESS         done; finish(..., "Success")
    FUNCTION_ERROR  retried by `retry_policy` (a fixed schedule, LAMINA_ASYNC_RETRY_DELAYS),
                    up to the event's max_retries; then finish(..., "RetriesExhausted")
    RETRY_LATER     throttled or platform trouble: not an attempt; retried by
                    `throttle_policy` (exponential backoff with jitter)
    DROP            not run and never will be: finish(..., Attempt.condition), e.g.
                    "ZeroReservedConcurrency" (AWS does not retry those); with no condition
                    (the function is gone) nothing follows

An event older than its max age is not run again: finish(..., "EventAgeExceeded"), and no
retry waits past that age. The policies are retry.py's RetryPolicy; the event's own limits
(max_retries, max_age_s: its MaximumRetryAttempts and MaximumEventAgeInSeconds) win over
the policy's, which are AWS's defaults.
finish() (destinations, dead-letter queues, metrics) is awaited before the event leaves
the store, so it too happens at least once.

Who runs when: at most `total` attempts at once, and at most `per_function` of one
function (fewer if `limit_of(function)` says so, e.g. its reserved concurrency). An event
whose function is at its cap waits in memory, in order, for one of that function's
attempts to end, instead of holding a slot the other functions could use: a function with
slow events must not hold back everybody else's.

Event document (kind "async_event", key "<received ms, 15 digits>-<process prefix><sequence>"):
    {function, qualifier, payload_b64, request_id, received_ms, attempts,
     not_before_ms, max_retries, max_age_s, backoffs}
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ... import ids
from ...store.base import Delete, Put, Store
from .retry import RetryPolicy

log = logging.getLogger("lamina.async")

KIND = "async_event"
DEFAULT_MAX_RETRIES = 2  # MaximumRetryAttempts
DEFAULT_MAX_AGE_S = 21600  # MaximumEventAgeInSeconds

SUCCESS, FUNCTION_ERROR, RETRY_LATER, DROP = "success", "function_error", "retry_later", "drop"


@dataclass
class Attempt:
    outcome: str
    payload: bytes | None = None  # the function's response or error payload
    function_error: str | None = None
    executed_version: str | None = None
    status_code: int | None = None
    condition: str | None = None  # DROP: why, for the OnFailure record (None: nothing follows)


Run = Callable[[dict], Awaitable[Attempt]]
Finish = Callable[[dict, "Attempt | None", "str | None"], Awaitable[None]]


_accepted = itertools.count()
_RUN = ids.hex32()[:8]  # this process's: keys stay unique across restarts


def new_event_key(now_ms: int) -> str:
    """Keys sort in the order events were accepted (the heap breaks ties by key), also
    within a millisecond."""
    return f"{now_ms:015d}-{_RUN}{next(_accepted):012d}"


async def _nothing(doc: dict, attempt: Attempt | None, condition: str | None) -> None:
    return None


def _no_limit(function: str) -> int | None:
    return None


class AsyncQueue:
    def __init__(
        self,
        store: Store,
        run: Run,
        *,
        finish: Finish = _nothing,
        per_function: int = 64,
        total: int = 1000,
        limit_of: Callable[[str], int | None] = _no_limit,
        retry_delays_s: tuple[float, ...] = (60.0, 120.0),
        throttle_backoff_s: float = 1.0,
        max_backoff_s: float = 300.0,
        pending_logs: Callable[[], list] = list,
        retry_policy: RetryPolicy | None = None,
        throttle_policy: RetryPolicy | None = None,
    ) -> None:
        self.store = store
        self.run = run
        self.finish = finish
        # The log lines buffered so far (LogSink.take): committed in the same batch that
        # removes a finished event, so a kill -9 never keeps the removal and loses the trace.
        self.pending_logs = pending_logs
        # Function errors: retry_delays_s (the last one repeated) is the shorthand for this
        # policy; AWS's defaults are 2 retries within 6 hours.
        self.retry_policy = retry_policy or RetryPolicy.fixed(
            retry_delays_s, max_retries=DEFAULT_MAX_RETRIES, max_age_s=DEFAULT_MAX_AGE_S
        )
        # Throttles and platform errors: no limit of their own, the event's age bounds them.
        self.throttle_policy = throttle_policy or RetryPolicy.exponential(throttle_backoff_s, max_backoff_s, jitter=0.2)
        # For events without a max_age_s of their own (Lambda keeps none longer than 6 hours);
        # a plain attribute, read once per event on the hot path.
        self._default_max_age_s = self.retry_policy.max_age_s or DEFAULT_MAX_AGE_S
        self.per_function = per_function
        self.limit_of = limit_of
        self._slots = asyncio.Semaphore(total)
        self._due: list[tuple[int, str]] = []
        self._docs: dict[str, dict] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._sweeper: asyncio.Task | None = None
        self._running: set[asyncio.Task] = set()
        self._busy: dict[str, int] = {}  # function -> its attempts running
        self._waiting: dict[str, list[tuple[int, str]]] = {}  # function -> heap of its events held at its cap
        # Held events handed back to the dispatcher (due heap) but not yet taken by it, per
        # function: an ending attempt makes room for that many fewer.
        self._returning: dict[str, int] = {}
        self._returned: dict[str, str] = {}  # event key -> function
        # The held entries ((due ms, key) -> function) and when each expires, soonest first:
        # the sweep looks only at the front. An entry swept out of its function's heap stays
        # there, stale, and is skipped when it comes up.
        self._held: dict[tuple[int, str], str] = {}
        self._expiries: list[tuple[float, int, str]] = []

    async def start(self) -> int:
        pending = await self.store.scan(KIND)
        for key, doc in pending:
            self._schedule(key, doc)
        if self.per_function > 0:  # 0: accept and keep, never run (a measuring device, bench/async.py 1c)
            self._task = asyncio.ensure_future(self._dispatch_forever())
            self._sweeper = asyncio.ensure_future(self._expire_held_forever())
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
            now_ms = time.time() * 1000
            wait_s = (when - now_ms) / 1000
            if wait_s > 0:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), wait_s)
                except asyncio.TimeoutError:
                    pass
                continue
            heapq.heappop(self._due)
            returned = self._returned.pop(key, None)
            if returned is not None:
                left = self._returning[returned] - 1
                if left:
                    self._returning[returned] = left
                else:
                    del self._returning[returned]
            doc = self._docs.get(key)
            if doc is None or doc.get("not_before_ms", 0) != when:
                continue  # finished, or due at another time now: a stale entry
            function = doc["function"]
            if self._busy.get(function, 0) >= self._cap(function) and not self._expired(doc, now_ms):
                heapq.heappush(self._waiting.setdefault(function, []), (when, key))
                self._held[(when, key)] = function
                heapq.heappush(self._expiries, (self._expires_at(doc), when, key))
                continue
            await self._slots.acquire()
            self._start(function, key)

    async def _expire_held_forever(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            self.expire_held()

    def expire_held(self) -> None:
        """Held events past their maximum age are due now (an expired event is let through
        whatever the cap, to be finished as EventAgeExceeded): they must not wait for the
        function to get round to them."""
        now_ms = time.time() * 1000
        swept = False
        while self._expiries and self._expiries[0][0] < now_ms:
            _, when, key = heapq.heappop(self._expiries)
            if self._held.pop((when, key), None) is not None and key in self._docs:
                heapq.heappush(self._due, (when, key))
                swept = True
        if swept:
            self._wake.set()
        if len(self._expiries) > 2 * len(self._held) + 1024:
            # Most entries are of events no longer held (they ran): drop them, or the heap
            # would keep one per held event for as long as the maximum age (hours).
            self._expiries = [entry for entry in self._expiries if (entry[1], entry[2]) in self._held]
            heapq.heapify(self._expiries)

    def _expires_at(self, doc: dict) -> float:
        """When the event is past its maximum age (ms): it is then finished, not run."""
        return doc["received_ms"] + doc.get("max_age_s", self._default_max_age_s) * 1000

    def _expired(self, doc: dict, now_ms: float) -> bool:
        return now_ms > self._expires_at(doc)

    def _cap(self, function: str) -> int:
        limit = self.limit_of(function)
        # A limit of 0 (reserved concurrency 0) still lets events through: they are dropped.
        return min(self.per_function, limit) if limit else self.per_function

    def _start(self, function: str, key: str) -> None:
        """Run one attempt of `key` in a global slot already taken."""
        self._busy[function] = self._busy.get(function, 0) + 1
        task = asyncio.ensure_future(self._run_one(key, function))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    def _ended(self, function: str) -> None:
        """An attempt of `function` ended: its slot is free, and its held events may go."""
        busy = self._busy.get(function, 1) - 1
        if busy:
            self._busy[function] = busy
        else:
            self._busy.pop(function, None)
        self._slots.release()
        waiting = self._waiting.get(function)
        if waiting:
            # As many of the function's held events as it has room for now (more than one
            # when its cap went up), oldest first, go back to the due heap: they are overdue,
            # so the dispatcher takes them next.
            returning = self._returning.get(function, 0)
            room = self._cap(function) - busy - returning
            while waiting and room > 0:
                when, key = heapq.heappop(waiting)
                if self._held.pop((when, key), None) is None:
                    continue  # swept out already (expired): on the due heap
                doc = self._docs.get(key)
                if doc is None or doc.get("not_before_ms", 0) != when:
                    continue
                heapq.heappush(self._due, (when, key))
                self._returned[key] = function
                returning += 1
                room -= 1
            if returning:
                self._returning[function] = returning
            if not waiting:
                del self._waiting[function]
            self._wake.set()

    async def _run_one(self, key: str, function: str) -> None:
        try:
            doc = self._docs[key]
            if self._expired(doc, time.time() * 1000):
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
                if attempt.condition:
                    doc["attempts"] -= 1  # it never ran
                await self._finish(key, doc, attempt, attempt.condition)
            elif attempt.outcome == FUNCTION_ERROR:
                retry = doc["attempts"]  # attempts made so far: the next one is this retry
                if self.retry_policy.exhausted(retry, doc.get("max_retries")):
                    await self._finish(key, doc, attempt, "RetriesExhausted")
                else:
                    await self._retry(key, doc, self.retry_policy.delay_s(retry))
            else:
                # Throttles and system errors do not count as attempts; they have a backoff
                # count of their own.
                doc["attempts"] -= 1
                backoffs = doc.get("backoffs", 0) + 1
                doc["backoffs"] = backoffs
                await self._retry(key, doc, self.throttle_policy.delay_s(backoffs))
        except asyncio.CancelledError:
            raise
        except Exception:
            # The event stays in the store and in _docs: tried again after a backoff.
            log.exception("async event %s: could not be handled", key)
            held = self._docs.get(key)
            if held is not None:
                backoff_ms = int(self.throttle_policy.delay_s(1, jitter=False) * 1000)
                self._schedule(key, dict(held, not_before_ms=int(time.time() * 1000) + backoff_ms))
        finally:
            self._ended(function)

    async def _retry(self, key: str, doc: dict, delay_s: float) -> None:
        now_ms = time.time() * 1000
        # Never wait past the event's maximum age: it is then due for EventAgeExceeded (its
        # OnFailure destination, its dead-letter queue) at that moment, not at the next
        # backoff, which may be minutes later (throttle backoffs double up to 5 minutes).
        expires_ms = self._expires_at(doc) + 1
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

    async def close(self) -> None:
        for task in (self._task, self._sweeper):
            if task is not None:
                task.cancel()
        for task in list(self._running):
            task.cancel()
