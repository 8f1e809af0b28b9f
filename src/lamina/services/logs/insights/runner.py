"""Running Insights queries in the background, and keeping them for GetQueryResults.

StartQuery answers at once with the query Scheduled; a task reads the groups' events from
the store (newest first, in batches: reads run on the store's reader threads, evaluation
on a worker thread) and the query becomes Running, then Complete (or Failed, Cancelled by
StopQuery, Timeout after 60 minutes). Queries live in memory, as AWS keeps results for a
while and then forgets them: after a restart they are gone.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from ....store.base import LogQuery, Store, StoredLogEvent
from .fields import record_of
from .pipeline import Pipeline
from .syntax import Command

log = logging.getLogger("lamina.logs")

TIMEOUT_S = 60 * 60
READ_BATCH = 2_000
KEEP_FINISHED = 1_000  # per account and region; older finished queries are forgotten
RUNNING = ("Scheduled", "Running")


@dataclass
class Target:
    """One log group a query reads: its store key, name and @log value."""

    key: str
    name: str
    log_name: str


@dataclass
class QueryRun:
    query_id: str
    scope: tuple[str, str]  # account, region
    query_string: str
    targets: list[Target]
    start_ms: int
    end_ms: int  # exclusive
    pipeline: Pipeline
    status: str = "Scheduled"
    created: int = field(default_factory=lambda: int(time.time() * 1000))
    finished: float | None = None
    started: float | None = None
    records_scanned: int = 0
    bytes_scanned: int = 0
    results: list[list[dict[str, str]]] = field(default_factory=list)
    task: asyncio.Task | None = None

    def statistics(self) -> dict[str, float]:
        return {
            "recordsMatched": float(self.pipeline.matched),
            "recordsScanned": float(self.records_scanned),
            "estimatedRecordsSkipped": 0.0,
            "bytesScanned": float(self.bytes_scanned),
            "estimatedBytesSkipped": 0.0,
            "logGroupsScanned": float(len(self.targets)),
        }

    def duration_ms(self) -> int:
        if self.started is None:
            return 0
        return int(((self.finished or time.monotonic()) - self.started) * 1000)


def _feed(run: QueryRun, target: Target, rows: list[StoredLogEvent]) -> None:
    for row in rows:
        run.records_scanned += 1
        run.bytes_scanned += len(row.message.encode())
        run.pipeline.feed(record_of(row, target.key, target.log_name))


class Queries:
    """Every query of every account, by id."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.runs: dict[str, QueryRun] = {}

    def running(self, scope: tuple[str, str]) -> int:
        return sum(1 for run in self.runs.values() if run.scope == scope and run.status in RUNNING)

    def start(
        self,
        scope: tuple[str, str],
        query_string: str,
        commands: list[Command],
        targets: list[Target],
        start_ms: int,
        end_ms: int,
        limit: int,
    ) -> QueryRun:
        run = QueryRun(str(uuid.uuid4()), scope, query_string, targets, start_ms, end_ms, Pipeline(commands, limit))
        self.runs[run.query_id] = run
        run.task = asyncio.ensure_future(self._run(run))
        self._forget_old(scope)
        return run

    async def _run(self, run: QueryRun) -> None:
        run.status, run.started = "Running", time.monotonic()
        try:
            async with asyncio.timeout(TIMEOUT_S):
                await self._scan(run)
            run.status = "Complete"
        except TimeoutError:
            run.status = "Timeout"
        except asyncio.CancelledError:
            run.status = "Cancelled"
        except Exception:  # a query that breaks says Failed, as on AWS, and the log says why
            log.exception("Insights query %s failed", run.query_id)
            run.status = "Failed"
        finally:
            run.finished = time.monotonic()

    async def _scan(self, run: QueryRun) -> None:
        for target in run.targets:
            query = LogQuery(
                group=target.key, start_time=run.start_ms, end_time=run.end_ms, limit=READ_BATCH, forward=False
            )
            while True:
                rows = await self.store.read_logs(query)
                if not rows:
                    break
                await asyncio.to_thread(_feed, run, target, rows)
                query.before_id = rows[-1].event_id
                if len(rows) < READ_BATCH:
                    break
        await asyncio.to_thread(run.pipeline.finish)
        run.results = run.pipeline.results()

    def stop(self, run: QueryRun) -> bool:
        if run.status not in RUNNING or run.task is None:
            return False
        run.task.cancel()
        run.status = "Cancelled"
        return True

    def _forget_old(self, scope: tuple[str, str]) -> None:
        finished = [run for run in self.runs.values() if run.scope == scope and run.status not in RUNNING]
        for run in finished[: max(len(finished) - KEEP_FINISHED, 0)]:
            del self.runs[run.query_id]

    async def stop_all(self) -> None:
        tasks = [run.task for run in self.runs.values() if run.task is not None and not run.task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def describe(self, run: QueryRun) -> dict[str, Any]:
        info: dict[str, Any] = {
            "queryLanguage": "CWLI",
            "queryId": run.query_id,
            "queryString": run.query_string,
            "status": run.status,
            "createTime": run.created,
            "queryDuration": run.duration_ms(),
            "bytesScanned": float(run.bytes_scanned),
        }
        if run.targets:
            info["logGroupName"] = run.targets[0].name
        return info
