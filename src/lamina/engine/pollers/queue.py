"""Polling a queue for a function (an SQS event source mapping).

A QueuePoller runs between 1 and `max_concurrency` workers for one mapping, as many as
the queue's backlog calls for (re-checked every SCALE_INTERVAL_S), starting from
START_WORKERS and growing by at most RAMP_PER_S a second. A worker gathers a
batch (up to `batch_size`, waiting at most `window_s` once the first record is in), drops
what the filter rejects, invokes the function synchronously, then deletes what succeeded:
everything, or with ReportBatchItemFailures everything but the reported items. That goes
for FIFO queues too, as on AWS: a function that wants a group's order kept stops at the
first failure and reports it and everything after it (Powertools' SqsFifoPartialProcessor
does); what it does not report succeeded. Records that failed are left alone: they come
back after the queue's visibility timeout.

Stopping (a mapping updated, disabled or deleted) never cancels a worker: one waiting for
records gives up at once (the source's `wake`, then its `stopped` check), one holding
records finishes that batch, deletes what succeeded, then exits. Cancelling it instead
left its batch invisible for a whole visibility timeout and delivered it twice.

The queue is reached through a QueueSource that the queue's service hands over; the
function through an `invoke` callback. Neither is imported here.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger("lamina.pollers")

SCALE_INTERVAL_S = 0.1
START_WORKERS = 5  # concurrent batches a mapping starts with (AWS: five)
RAMP_PER_S = 5.0  # how many more it may add per second (AWS: up to 300 a minute)
LONG_POLL_S = 1.0  # short enough that stop() and scaling down are prompt


Stopped = Callable[[], bool]


@dataclass
class QueueSource:
    # (max records, wait s, stopped) -> event records; returns [] early once stopped() is true
    receive: Callable[[int, float, Stopped], Awaitable[list[dict]]]
    delete: Callable[[list[str]], Awaitable[None]]  # receipt handles
    depth: Callable[[], int]  # messages waiting (visible)
    fifo: bool = False  # (BatchSize is at most 10 for a FIFO queue)
    wake: Callable[[], None] = lambda: None  # waiting receives look again (and see stopped())


@dataclass
class Outcome:
    failed: bool  # the invocation failed (function error, throttle): nothing is deleted
    payload: bytes = b""
    throttled: bool = False  # it did not run at all (throttled, no capacity): not an attempt
    function_error: str | None = None
    executed_version: str | None = None


Invoke = Callable[[dict], Awaitable[Outcome]]
Accept = Callable[[dict], bool]  # the mapping's filter criteria

_RETIRING: set[asyncio.Task] = set()  # workers of stopped pollers, finishing their batch


class QueuePoller:
    def __init__(
        self,
        name: str,
        source: QueueSource,
        invoke: Invoke,
        *,
        batch_size: int = 10,
        window_s: float = 0.0,
        max_concurrency: int = 1000,
        report_failures: bool = False,
        accept: Accept | None = None,
    ) -> None:
        self.name = name
        self.source = source
        self.invoke = invoke
        self.batch_size = batch_size
        self.window_s = window_s
        self.max_concurrency = max_concurrency
        self.report_failures = report_failures
        self.accept = accept
        self._workers: list[asyncio.Task] = []
        self._supervisor: asyncio.Task | None = None
        self._wanted = 1
        self._active = 0  # workers running
        self._stopping = False
        self.last_result = "No records processed"

    def start(self) -> None:
        if self._supervisor is None:
            self._supervisor = asyncio.ensure_future(self._supervise())

    async def stop(self, grace_s: float | None = None) -> None:
        """Stop polling. Idle workers end now; busy ones finish their batch in the background.
        With `grace_s` (shutting down), wait that long for them, then cancel the rest."""
        self._stopping = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            self._supervisor = None
        workers, self._workers = self._workers, []
        self.source.wake()
        if grace_s is None:
            for worker in workers:  # the loop keeps only weak references to tasks
                _RETIRING.add(worker)
                worker.add_done_callback(_RETIRING.discard)
            return
        if workers:
            _, pending = await asyncio.wait(workers, timeout=grace_s)
            for worker in pending:
                worker.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    def _stopped(self) -> bool:
        return self._stopping

    async def _supervise(self) -> None:
        # As on AWS: start with a few concurrent batches and add at most RAMP_PER_S more each
        # second while the backlog calls for them, rather than cold-starting hundreds at once.
        ceiling = float(START_WORKERS)
        last = time.monotonic()
        while True:
            now = time.monotonic()
            backlog = math.ceil(self.source.depth() / self.batch_size)
            if backlog > ceiling:
                ceiling = min(float(self.max_concurrency), ceiling + RAMP_PER_S * (now - last))
            else:
                ceiling = max(float(START_WORKERS), min(ceiling, float(backlog)))
            last = now
            self._wanted = min(self.max_concurrency, int(ceiling), max(1, backlog))
            self._workers = [w for w in self._workers if not w.done()]
            while self._active < self._wanted:
                self._active += 1
                self._workers.append(asyncio.ensure_future(self._work()))
            await asyncio.sleep(SCALE_INTERVAL_S)

    async def _work(self) -> None:
        # Scaling in is voluntary, between batches: a worker is never cancelled holding
        # records it received (they would sit invisible until their timeout for nothing).
        try:
            while not self._stopping and self._active <= self._wanted:
                records = await self._gather()
                if records:
                    await self._process(records)
        finally:
            self._active -= 1

    async def _gather(self) -> list[dict]:
        records = await self.source.receive(self.batch_size, LONG_POLL_S, self._stopped)
        if not records or self.window_s <= 0:
            return records
        deadline = time.monotonic() + self.window_s
        while len(records) < self.batch_size and time.monotonic() < deadline:
            more = await self.source.receive(
                self.batch_size - len(records), max(0.0, deadline - time.monotonic()), self._stopped
            )
            if not more:
                break
            records.extend(more)
        return records

    async def _process(self, records: list[dict]) -> None:
        kept: list[dict] = []
        dropped: list[dict] = []
        for record in records:
            (kept if self.accept is None or self.accept(record) else dropped).append(record)
        if dropped:  # filtered out: SQS event filtering deletes them
            await self.source.delete([r["receiptHandle"] for r in dropped])
        if not kept:
            return
        try:
            outcome = await self.invoke({"Records": kept})
        except Exception:
            log.exception("%s: invoke failed", self.name)
            outcome = Outcome(True)
        if outcome.failed:
            self.last_result = "PROBLEM: Function call failed"
            return
        done = kept
        if self.report_failures:
            failed_ids = _reported_failures(outcome.payload, {r["messageId"] for r in kept})
            if failed_ids is None:
                self.last_result = "PROBLEM: Function returned an invalid batch item failures response"
                return
            done = [r for r in kept if r["messageId"] not in failed_ids]
        if done:
            await self.source.delete([r["receiptHandle"] for r in done])
        self.last_result = "OK"


def _reported_failures(payload: bytes, known: set[str]) -> set[str] | None:
    """The message ids a ReportBatchItemFailures response names; None if it is malformed
    (then the whole batch counts as failed, as on AWS)."""
    if not payload or payload.strip() in (b"null", b"{}", b'""'):
        return set()
    try:
        document = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    items = document.get("batchItemFailures")
    if items is None:
        return set()
    if not isinstance(items, list):
        return None
    failed = set()
    for item in items:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not identifier or identifier not in known:
            return None
        failed.add(identifier)
    return failed
