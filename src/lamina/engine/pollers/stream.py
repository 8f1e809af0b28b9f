"""Polling a stream for a function (a Kinesis event source mapping; DynamoDB streams later).

One StreamPoller per enabled mapping. It follows the stream's shards, parents before
children (a child of a split or merge starts only once its parents are processed to their
end, so a partition key's order survives resharding). In each shard one reader pulls
records in order and deals them to `parallelization` lanes by a hash of the partition key:
a lane runs one batch at a time, so records of one key stay in order while up to
ParallelizationFactor batches of a shard run at once. The shard's checkpoint advances over
the records done from the front (a slow lane holds it back; read-ahead is bounded), and is
written to the store after every batch that moves it.

A batch (up to batch_size records, gathered for at most window_s; of one tumbling window)
is handed to the function synchronously. Then, as Lambda does for streams:
- success: done; with ReportBatchItemFailures the records from the lowest reported
  sequence number on are retried (a malformed report fails the whole batch);
- function error: with BisectBatchOnFunctionError a batch of two or more is split in two
  halves run in turn (splitting does not use up retries); otherwise it is retried, up to
  max_retries times (-1: until the records expire), with a growing pause;
- throttled or no capacity: retried after a pause, not counted as an attempt;
- given up (retries used up, or records older than max_age_s): the records are skipped and
  `on_failure` receives AWS's failure record (shard, first and last sequence numbers).
With tumbling windows each invocation carries the window's state (what the function
returned last time), and the last one of a window says isFinalInvokeForWindow.

The stream is reached through a StreamSource that the stream's service hands over (see
services/kinesis/events.py); the function through an `invoke` callback. Neither is
imported here.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import zlib
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from ... import ids
from .checkpoints import Checkpoints
from .queue import Accept, Invoke, Outcome, _reported_failures

log = logging.getLogger("lamina.pollers")


@dataclass(frozen=True)
class Shard:
    shard_id: str
    parents: tuple[str, ...]  # ParentShardId and AdjacentParentShardId, where there are any
    closed: bool  # split or merged away: no record will be added to it again


@dataclass(frozen=True)
class StreamRecord:
    sequence_number: str  # decimal digits; within a shard a later record has a larger number
    partition_key: str
    data: bytes
    arrival_ms: int  # ApproximateArrivalTimestamp, ms since the epoch


@dataclass
class StreamSource:
    arn: str
    # Every shard of the stream that still holds records or may get some, parents before children.
    shards: Callable[[], list[Shard]]
    # (shard id, after: a sequence number (exclusive) or None for the trim horizon, limit)
    # -> the next records in order; [] when there are none yet (or the shard is gone).
    read: Callable[[str, str | None, int], Awaitable[list[StreamRecord]]]
    # The shard's last sequence number now (where LATEST starts; None: the shard is empty).
    latest: Callable[[str], str | None]
    # (shard id, ms) -> the position just before the first record that arrived at or after
    # ms, as an exclusive `after` for read (None: from the trim horizon).
    at_timestamp: Callable[[str, int], str | None]
    # Returns when a record is added to the stream or a shard is split/merged, or after `timeout_s`.
    wait: Callable[[float], Awaitable[None]]
    # The record as a function receives it: AWS's Kinesis event record (shard id, record).
    event_record: Callable[[str, StreamRecord], dict]
    # Is this shard closed (split or merged: it gets no more records)? Asked before every
    # read, so it looks up one shard rather than listing them all. False for a shard that
    # is not (or no longer) in the stream.
    closed: Callable[[str], bool]


SHARD_SCAN_S = 1.0  # how often the shard list is looked at (also after any wake-up)
READ_LIMIT = 1000  # records per read of a shard
READ_AHEAD_BATCHES = 4  # per lane: how far the reader may run ahead of the checkpoint
MAX_BATCH_BYTES = 6 * 1024 * 1024  # an invocation's payload limit
RETRY_PAUSE_S = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0)  # between attempts of a failed batch

FailureSink = Callable[[dict], Awaitable[None]]  # AWS's failure record -> the OnFailure destination
AgeReport = Callable[[float], None]  # IteratorAge (ms) of a batch handed to the function


@dataclass(frozen=True)
class StreamSettings:
    starting_position: str = "TRIM_HORIZON"  # TRIM_HORIZON | LATEST | AT_TIMESTAMP
    starting_timestamp_ms: int | None = None
    batch_size: int = 100
    window_s: float = 0.0
    parallelization: int = 1
    bisect: bool = False
    max_retries: int = -1  # -1: until the records expire
    max_age_s: int = -1  # -1: no limit
    report_failures: bool = False
    tumbling_window_s: int = 0


@dataclass
class _Entry:
    record: StreamRecord
    done: bool = False


@dataclass
class _Lane:
    index: int
    queue: deque = field(default_factory=deque)  # _Entry, in shard order
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    window: dict | None = None  # tumbling window: {"start": ms, "state": {...}}


@dataclass
class _ShardRun:
    shard_id: str
    after: str | None  # checkpoint: last sequence number done
    windows: dict
    entries: deque = field(default_factory=deque)  # read, not yet behind the checkpoint
    lanes: list = field(default_factory=list)
    progressed: asyncio.Event = field(default_factory=asyncio.Event)
    finished: bool = False  # the shard is done: lanes end


def _seq(record: StreamRecord) -> int:
    return int(record.sequence_number)


def _iso(ms: float) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class StreamPoller:
    def __init__(
        self,
        name: str,
        source: StreamSource,
        invoke: Invoke,
        checkpoints: Checkpoints,
        settings: StreamSettings,
        *,
        accept: Accept | None = None,
        on_failure: FailureSink | None = None,
        report_age: AgeReport | None = None,
        function_arn: str = "",
    ) -> None:
        self.name = name
        self.source = source
        self.invoke = invoke
        self.checkpoints = checkpoints
        self.settings = settings
        self.accept = accept
        self.on_failure = on_failure
        self.report_age = report_age
        self.function_arn = function_arn
        self.last_result = "No records processed"
        self._supervisor: asyncio.Task | None = None
        self._shards: dict[str, asyncio.Task] = {}
        self._done: set[str] = set()  # shards processed to their end
        self._stopping = False
        self._nudge = asyncio.Event()  # a shard task ended, or stop(): look again now

    # --- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        if self._supervisor is None:
            self._supervisor = asyncio.ensure_future(self._supervise())

    async def stop(self, grace_s: float | None = None) -> None:
        """Stop polling. Batches in flight finish (their checkpoint is written) for up to
        grace_s (default: a few seconds), then whatever is left is cancelled; cancelled
        batches run again after a restart (at least once)."""
        self._stopping = True
        self._nudge.set()
        tasks = [t for t in [self._supervisor, *self._shards.values()] if t is not None]
        self._supervisor = None
        self._shards = {}
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=5.0 if grace_s is None else grace_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    # --- shards -----------------------------------------------------------------------------------

    async def _supervise(self) -> None:
        try:
            fixed, checkpoints = await self.checkpoints.load()
            if not fixed:
                checkpoints = {shard.shard_id: self._first_position(shard.shard_id) for shard in self.source.shards()}
                await self.checkpoints.fix_start(checkpoints)
            self._done = {shard for shard, doc in checkpoints.items() if doc.get("done")}
            while not self._stopping:
                for shard_id in [s for s, task in self._shards.items() if task.done()]:
                    task = self._shards.pop(shard_id)
                    if not task.cancelled() and task.exception() is None:
                        self._done.add(shard_id)
                        checkpoints[shard_id] = {"done": True}
                    else:
                        if not task.cancelled():
                            log.error("%s: shard %s failed: %r", self.name, shard_id, task.exception())
                        _, checkpoints = await self.checkpoints.load()  # it starts again from its checkpoint
                shards = self.source.shards()
                known = {shard.shard_id for shard in shards}
                for shard in shards:
                    if shard.shard_id in self._shards or shard.shard_id in self._done:
                        continue
                    # A child waits for its parents (those still in the stream) to be done.
                    if any(p in known and p not in self._done for p in shard.parents):
                        continue
                    checkpoint = checkpoints.get(shard.shard_id) or {"after": None}
                    task = asyncio.ensure_future(self._run_shard(shard, checkpoint))
                    task.add_done_callback(lambda _: self._nudge.set())
                    self._shards[shard.shard_id] = task
                self._nudge.clear()
                waiting = asyncio.ensure_future(self.source.wait(SHARD_SCAN_S))
                nudged = asyncio.ensure_future(self._nudge.wait())
                try:
                    await asyncio.wait([waiting, nudged], return_when=asyncio.FIRST_COMPLETED)
                finally:
                    waiting.cancel()
                    nudged.cancel()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s: stream poller stopped", self.name)

    def _first_position(self, shard_id: str) -> dict:
        position = self.settings.starting_position
        if position == "LATEST":
            return {"after": self.source.latest(shard_id)}
        if position == "AT_TIMESTAMP":
            return {"after": self.source.at_timestamp(shard_id, self.settings.starting_timestamp_ms or 0)}
        return {"after": None}

    async def _run_shard(self, shard: Shard, checkpoint: dict) -> None:
        """Process one shard until it is closed and done (returns) or the poller stops."""
        settings = self.settings
        run = _ShardRun(shard.shard_id, checkpoint.get("after"), dict(checkpoint.get("windows") or {}))
        run.lanes = [_Lane(i, window=run.windows.get(str(i))) for i in range(settings.parallelization)]
        workers = [asyncio.ensure_future(self._lane(run, lane)) for lane in run.lanes]
        position = run.after
        ahead = settings.batch_size * READ_AHEAD_BATCHES * settings.parallelization
        try:
            while not self._stopping:
                if len(run.entries) >= ahead:
                    run.progressed.clear()
                    await _wait_event(run.progressed, 1.0)
                    continue
                closed = self.source.closed(shard.shard_id)
                records = await self.source.read(shard.shard_id, position, min(READ_LIMIT, ahead - len(run.entries)))
                if records:
                    position = records[-1].sequence_number
                    self._deal(run, records)
                    continue
                if closed and not run.entries and not any(lane.window for lane in run.lanes):
                    await self.checkpoints.save(shard.shard_id, {"after": run.after, "done": True})
                    return
                await self.source.wait(0.5 if settings.tumbling_window_s else SHARD_SCAN_S)
            raise asyncio.CancelledError  # stopping: not done
        finally:
            run.finished = True
            for lane in run.lanes:
                lane.ready.set()
            await asyncio.gather(*workers, return_exceptions=True)

    def _deal(self, run: _ShardRun, records: list[StreamRecord]) -> None:
        lanes = run.lanes
        for record in records:
            entry = _Entry(record)
            run.entries.append(entry)
            lane = lanes[zlib.crc32(record.partition_key.encode()) % len(lanes)] if len(lanes) > 1 else lanes[0]
            lane.queue.append(entry)
            lane.ready.set()

    async def _advance(self, run: _ShardRun) -> None:
        """Move the checkpoint over the records done from the front, and write it."""
        moved = False
        while run.entries and run.entries[0].done:
            run.after = run.entries.popleft().record.sequence_number
            moved = True
        run.windows = {str(lane.index): lane.window for lane in run.lanes if lane.window}
        if moved or self.settings.tumbling_window_s:
            await self.checkpoints.save(run.shard_id, {"after": run.after, "windows": run.windows})
        run.progressed.set()

    # --- lanes and batches ------------------------------------------------------------------------

    async def _lane(self, run: _ShardRun, lane: _Lane) -> None:
        while not self._stopping:
            taken = await self._take(run, lane)
            if taken is None:
                return
            batch, final = taken
            try:
                await self._handle(run, lane, batch, final)
            except Exception:
                log.exception("%s: batch of shard %s failed unexpectedly", self.name, run.shard_id)
                await asyncio.sleep(RETRY_PAUSE_S[-1])
                lane.queue.extendleft(reversed(batch))  # not done: it runs again
                continue
            for entry in batch:
                entry.done = True
            await self._advance(run)

    async def _take(self, run: _ShardRun, lane: _Lane) -> tuple[list[_Entry], bool] | None:
        """The lane's next batch, and whether it ends a tumbling window; None when stopping."""
        settings = self.settings
        window_ms = settings.tumbling_window_s * 1000
        gathering_since: float | None = None
        while not self._stopping and not (run.finished and not lane.queue):
            now_ms = time.time() * 1000
            if window_ms and lane.window is not None:
                end = lane.window["start"] + window_ms
                ends_here = not lane.queue or _window_start(lane.queue[0], window_ms) >= end
                if ends_here and now_ms >= end:
                    return [], True  # the window is over: its final invocation, without records
            if lane.queue:
                full = len(lane.queue) >= settings.batch_size
                if settings.window_s > 0 and not full:
                    gathering_since = gathering_since or time.monotonic()
                    left = settings.window_s - (time.monotonic() - gathering_since)
                    if left > 0:
                        lane.ready.clear()
                        await _wait_event(lane.ready, left)
                        continue
                return self._cut(lane, window_ms)
            lane.ready.clear()
            await _wait_event(lane.ready, 0.25 if window_ms else 5.0)
        return None

    def _cut(self, lane: _Lane, window_ms: int) -> tuple[list[_Entry], bool]:
        batch: list[_Entry] = []
        size = 0
        start = _window_start(lane.queue[0], window_ms) if window_ms else 0
        if window_ms and (lane.window is None or lane.window["start"] != start):
            lane.window = {"start": start, "state": {}}  # a new window: its state starts empty
        while lane.queue and len(batch) < self.settings.batch_size:
            entry = lane.queue[0]
            if window_ms and _window_start(entry, window_ms) != start:
                break
            size += len(entry.record.data) * 4 // 3 + len(entry.record.partition_key) + 400
            if batch and size > MAX_BATCH_BYTES:
                break
            batch.append(lane.queue.popleft())
        final = False
        if window_ms:
            end = start + window_ms
            rest_later = not lane.queue or _window_start(lane.queue[0], window_ms) >= end
            final = rest_later and time.time() * 1000 >= end
        return batch, final

    async def _handle(self, run: _ShardRun, lane: _Lane, batch: list[_Entry], final: bool) -> None:
        settings = self.settings
        kept = [e for e in batch if self.accept is None or self.accept(self._filter_view(run.shard_id, e.record))]
        if not kept and not final:
            return  # everything filtered out: done, as Lambda's event filtering does
        segments: deque[list[_Entry]] = deque([kept])
        while segments:
            segment = segments.popleft()
            attempts = 0
            pauses = 0
            while not self._stopping:
                segment = await self._drop_expired(run, segment)
                if not segment and not final:
                    break
                if segment and self.report_age:
                    self.report_age(time.time() * 1000 - segment[-1].record.arrival_ms)
                outcome = await self._invoke(run, lane, segment, final and not segments)
                if outcome.throttled:
                    await asyncio.sleep(RETRY_PAUSE_S[min(pauses, len(RETRY_PAUSE_S) - 1)])
                    pauses += 1
                    continue
                failed_from = None if outcome.failed else self._failed_from(segment, outcome.payload)
                if not outcome.failed and failed_from is None:
                    self._keep_state(lane, outcome.payload, final and not segments)
                    self.last_result = "OK"
                    break
                self.last_result = "PROBLEM: Function call failed"
                if outcome.failed and settings.bisect and len(segment) > 1:
                    half = len(segment) // 2
                    segments.extendleft([segment[half:], segment[:half]])
                    break
                if failed_from is not None and failed_from > 0:
                    segment = segment[failed_from:]  # the records before the first failure are done
                attempts += 1
                if 0 <= settings.max_retries < attempts:
                    await self._give_up(run, segment, "RetryAttemptsExhausted", outcome, attempts)
                    break
                await asyncio.sleep(RETRY_PAUSE_S[min(attempts - 1, len(RETRY_PAUSE_S) - 1)])
            if self._stopping:
                raise asyncio.CancelledError

    def _failed_from(self, segment: list[_Entry], payload: bytes) -> int | None:
        """With ReportBatchItemFailures: the index of the first record to retry, or None when
        the batch succeeded; a malformed report fails the whole batch (index 0)."""
        if not self.settings.report_failures or not segment:
            return None
        failed = _reported_failures(payload, {e.record.sequence_number for e in segment})
        if failed is None:
            return 0
        if not failed:
            return None
        lowest = min(int(s) for s in failed)
        return next(i for i, e in enumerate(segment) if _seq(e.record) >= lowest)

    async def _drop_expired(self, run: _ShardRun, segment: list[_Entry]) -> list[_Entry]:
        if self.settings.max_age_s < 0 or not segment:
            return segment
        oldest_ms = time.time() * 1000 - self.settings.max_age_s * 1000
        expired = [e for e in segment if e.record.arrival_ms < oldest_ms]
        if expired:
            await self._give_up(run, expired, "RecordAgeExceeded", None, 0)
            return [e for e in segment if e.record.arrival_ms >= oldest_ms]
        return segment

    def _filter_view(self, shard_id: str, record: StreamRecord) -> dict:
        # Lambda's filtering sees the record with `data` decoded when it is a JSON object.
        # Patterns name the data and the metadata (partitionKey, ...) at the top level.
        view = self.source.event_record(shard_id, record)
        metadata = dict(view.get("kinesis") or {})
        view = {**view, **metadata, "kinesis": metadata}
        try:
            decoded = json.loads(record.data)
            if isinstance(decoded, dict):
                view["data"] = metadata["data"] = decoded
        except (ValueError, UnicodeDecodeError):
            pass
        return view

    async def _invoke(self, run: _ShardRun, lane: _Lane, segment: list[_Entry], final: bool) -> Outcome:
        event: dict = {"Records": [self.source.event_record(run.shard_id, e.record) for e in segment]}
        if self.settings.tumbling_window_s and lane.window is not None:
            start = lane.window["start"]
            event.update(
                {
                    "window": {"start": _iso(start), "end": _iso(start + self.settings.tumbling_window_s * 1000)},
                    "state": lane.window.get("state") or {},
                    "shardId": run.shard_id,
                    "eventSourceARN": self.source.arn,
                    "isFinalInvokeForWindow": final,
                    "isWindowTerminatedEarly": False,
                }
            )
        try:
            return await self.invoke(event)
        except Exception:
            log.exception("%s: invoke failed", self.name)
            return Outcome(True, throttled=True)

    def _keep_state(self, lane: _Lane, payload: bytes, final: bool) -> None:
        if not self.settings.tumbling_window_s or lane.window is None:
            return
        if final:
            lane.window = None  # the next record opens a new window with empty state
            return
        try:
            document = json.loads(payload) if payload else None
        except ValueError:
            document = None
        if isinstance(document, dict) and isinstance(document.get("state"), dict):
            lane.window["state"] = document["state"]

    async def _give_up(
        self, run: _ShardRun, segment: list[_Entry], condition: str, outcome: Outcome | None, attempts: int
    ) -> None:
        log.warning("%s: skipping %d records of %s (%s)", self.name, len(segment), run.shard_id, condition)
        if self.on_failure is None or not segment:
            return
        first, last = segment[0].record, segment[-1].record
        record = {
            "requestContext": {
                "requestId": ids.uuid4(),
                "functionArn": self.function_arn,
                "condition": condition,
                "approximateInvokeCount": attempts,
            },
            "responseContext": (
                {
                    "statusCode": 200,
                    "executedVersion": outcome.executed_version or "$LATEST",
                    "functionError": outcome.function_error or "Unhandled",
                }
                if outcome is not None and outcome.failed
                else {
                    "statusCode": 200,
                    "executedVersion": (outcome.executed_version if outcome else None) or "$LATEST",
                }
                if outcome is not None
                else {}
            ),
            "version": "1.0",
            "timestamp": _iso(time.time() * 1000),
            "KinesisBatchInfo": {
                "shardId": run.shard_id,
                "startSequenceNumber": first.sequence_number,
                "endSequenceNumber": last.sequence_number,
                "approximateArrivalOfFirstRecord": _iso(first.arrival_ms),
                "approximateArrivalOfLastRecord": _iso(last.arrival_ms),
                "batchSize": len(segment),
                "streamArn": self.source.arn,
            },
        }
        try:
            await self.on_failure(record)
        except Exception as error:  # noqa: BLE001 - a destination's trouble must not stall the shard
            log.warning("%s: OnFailure destination refused a record: %s", self.name, error)


def _window_start(entry: _Entry, window_ms: int) -> int:
    return entry.record.arrival_ms // window_ms * window_ms


async def _wait_event(event: asyncio.Event, timeout_s: float) -> None:
    try:
        await asyncio.wait_for(event.wait(), timeout_s)
    except asyncio.TimeoutError:
        pass
