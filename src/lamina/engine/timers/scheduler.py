"""Firing jobs on schedules (EventBridge scheduled rules and EventBridge Scheduler).

One asyncio task keeps a heap of (next fire time, job) and sleeps until the earliest; there
may be thousands of jobs, and a job costs a heap entry, not a task. Each occurrence runs
`fire(scheduled_time)` in a task of its own, so a slow target never delays another job;
its exceptions are logged. Jobs live in memory only: their owners (the services) keep them
in the store and add them again at startup.

    add(job_id, schedule, fire, start=, end=, flexible_window_s=)   (re)place a job
    remove(job_id)                                                  forget it (no more fires)
    now()                                                           the scheduler's clock

Occurrences: the first one fired is the first at or after `start` (default: now). A start
in the past therefore fires that one occurrence at once — how a one-time schedule whose
time passed while the server was down still runs — but the rest of what was missed is not
replayed: after each fire, the next occurrence is the first after both the one just fired
and the present. No occurrence after `end` fires. A job with nothing left is dropped.

Flexible time windows (EventBridge Scheduler's FlexibleTimeWindow): each occurrence fires
at a random moment within `flexible_window_s` after its scheduled time; `fire` is still
given the scheduled time.

Test speed-up: LAMINA_SCHEDULER_SPEEDUP=N (default 1) makes the scheduler's clock run N
times faster than the wall clock from the moment the Scheduler is built, so that with
N=60 a rate(1 minute) schedule fires every second. `now()` is that clock: anchors and start
dates computed by the services should come from it. (Wall-clock times such as at()
expressions are then compared with a clock that runs ahead: a speed-up is for tests.)
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from .expressions import Schedule

log = logging.getLogger("lamina.scheduler")

Fire = Callable[[datetime], Awaitable[None]]
_TINY = timedelta(microseconds=1)


@dataclass
class _Job:
    job_id: str
    schedule: Schedule
    fire: Fire
    end: datetime | None
    flexible_window_s: float
    occurrence: datetime | None = None  # the scheduled time of the pending fire


class Scheduler:
    def __init__(self, speedup: float = 1.0) -> None:
        self.speedup = float(speedup)
        if self.speedup <= 0:
            raise ValueError("speedup must be positive")
        self._origin_wall = time.time()
        self._origin_mono = time.monotonic()
        self._jobs: dict[str, _Job] = {}
        # (due, tie-breaker, job): an entry is live only while its job is still jobs[id].
        self._heap: list[tuple[datetime, int, _Job]] = []
        self._counter = itertools.count()
        self._wake: asyncio.Event | None = None
        self._loop_task: asyncio.Task | None = None
        self._fires: set[asyncio.Task] = set()

    # --- the clock ----------------------------------------------------------------------------

    def now(self) -> datetime:
        elapsed = (time.monotonic() - self._origin_mono) * self.speedup
        return datetime.fromtimestamp(self._origin_wall + elapsed, timezone.utc)

    def _real_seconds(self, until: datetime) -> float:
        return max(0.0, (until - self.now()).total_seconds() / self.speedup)

    # --- jobs -----------------------------------------------------------------------------------

    def add(
        self,
        job_id: str,
        schedule: Schedule,
        fire: Fire,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        flexible_window_s: float = 0,
    ) -> None:
        """Fire `fire(scheduled_time)` on `schedule`'s occurrences; replaces a job of that id."""
        job = _Job(job_id, schedule, fire, end, max(0.0, float(flexible_window_s)))
        self._jobs[job_id] = job
        self._compact()
        first = schedule.next_after((start or self.now()) - _TINY)
        self._arm(job, first)

    def remove(self, job_id: str) -> None:
        """No more fires for this job (one already running finishes)."""
        self._jobs.pop(job_id, None)  # its heap entry dies lazily
        self._compact()

    def __contains__(self, job_id: str) -> bool:
        return job_id in self._jobs

    def __len__(self) -> int:
        return len(self._jobs)

    def next_fire(self, job_id: str) -> datetime | None:
        """The scheduled time of a job's next occurrence (None if it has none or is unknown)."""
        job = self._jobs.get(job_id)
        return job.occurrence if job else None

    def _compact(self) -> None:
        # Dead entries (removed or replaced jobs) leave the heap when they come due; rebuild
        # it when they outnumber the live ones, so churn cannot grow it without bound.
        if len(self._heap) > 2 * len(self._jobs) + 64:
            self._heap = [entry for entry in self._heap if self._jobs.get(entry[2].job_id) is entry[2]]
            heapq.heapify(self._heap)

    def _arm(self, job: _Job, occurrence: datetime | None) -> None:
        if occurrence is None or (job.end is not None and occurrence > job.end):
            if self._jobs.get(job.job_id) is job:
                del self._jobs[job.job_id]
            return
        job.occurrence = occurrence
        due = occurrence
        if job.flexible_window_s:
            due += timedelta(seconds=random.uniform(0, job.flexible_window_s))
        heapq.heappush(self._heap, (due, next(self._counter), job))
        if self._wake is not None and self._heap[0][2] is job:
            self._wake.set()  # the loop sleeps on an older, later deadline

    # --- running --------------------------------------------------------------------------------

    def start(self) -> None:
        if self._loop_task is None:
            self._wake = asyncio.Event()
            self._loop_task = asyncio.get_running_loop().create_task(self._run(), name="scheduler")

    async def close(self) -> None:
        task, self._loop_task = self._loop_task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        for fire in list(self._fires):
            fire.cancel()
        if self._fires:
            await asyncio.gather(*self._fires, return_exceptions=True)

    async def _run(self) -> None:
        wake = self._wake
        assert wake is not None, "start() makes it"
        while True:
            wake.clear()
            now = self.now()
            while self._heap and self._heap[0][0] <= now:
                _, _, job = heapq.heappop(self._heap)
                if self._jobs.get(job.job_id) is job:
                    self._launch(job, now)
            if self._heap:
                delay = self._real_seconds(self._heap[0][0])
                try:
                    await asyncio.wait_for(wake.wait(), timeout=delay)
                except asyncio.TimeoutError:
                    pass
            else:
                await wake.wait()

    def _launch(self, job: _Job, now: datetime) -> None:
        occurrence = job.occurrence
        assert occurrence is not None, "a job in the heap has its next occurrence"
        task = asyncio.get_running_loop().create_task(self._fire(job, occurrence))
        self._fires.add(task)
        task.add_done_callback(self._fires.discard)
        # Missed occurrences (a long pause, a restart) are skipped, not replayed; those still
        # inside their flexible window are not missed yet.
        window = timedelta(seconds=job.flexible_window_s)
        self._arm(job, job.schedule.next_after(max(occurrence, now - window)))

    async def _fire(self, job: _Job, occurrence: datetime) -> None:
        try:
            await job.fire(occurrence)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("scheduled job %s failed at %s", job.job_id, occurrence.isoformat())
