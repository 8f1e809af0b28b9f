"""The Kinesis service's streams: where they are kept, found, read, waited on and trimmed.

    kind "kinesis_stream"   key "<account>:<region>:<name>"   settings, tags and shard lineage
    stream_records rows     stream "<stamp>", shard, seq       the records (store/base.py)

A change is in the store before the caller hears of it. At startup the streams come back
from their documents and each shard's newest records from the store; older records are
read from the store when a reader reaches back that far. A maintenance task trims records
past retention (memory and store), lets expired closed shards go, and keeps memory within
budget. Readers wait on a per-stream event set whenever positions settle or shards change.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from ...store.base import Put, Store, StreamRecordRow, TrimStreamRecords
from ..context import RequestContext
from .consumer import Consumer, parse_consumer_arn
from .errors import consumer_not_found, invalid_argument, stream_not_found
from .shard import Shard
from .stream import Batch, Stream

log = logging.getLogger("lamina.kinesis")

KIND = "kinesis_stream"
MAX_READ_BYTES = 10 * 1024 * 1024  # GetRecords returns at most 10 MiB


def now_ms() -> int:
    return int(time.time() * 1000)


def stream_key(account: str, region: str, name: str) -> str:
    return f"{account}:{region}:{name}"


@dataclass(frozen=True)
class KinesisConfig:
    shard_limit: int = 500  # the account's shard quota (AWS's default in us-east-1)
    hour_s: float = 3600.0  # an "hour" of retention; tests of trimming shorten it
    cache_records: int = 50_000  # recent records kept in memory per stream, at most
    cache_mb: float = 32.0
    consumer_s: float = 0.5  # how long a consumer is CREATING, or DELETING (AWS: some seconds)


DEFAULT_CONFIG = KinesisConfig()


class KinesisState:
    def __init__(self, store: Store, config: KinesisConfig = DEFAULT_CONFIG) -> None:
        self.store = store
        self.streams: dict[str, Stream] = {}
        self._changed: dict[str, asyncio.Event] = {}
        self.shard_limit = config.shard_limit
        self.hour_ms = config.hour_s * 1000
        self.cache_records = config.cache_records
        self.cache_bytes = int(config.cache_mb * 1024 * 1024)
        self.consumer_ms = int(config.consumer_s * 1000)
        self._maintenance: asyncio.Task | None = None
        self.accounts: dict[str, dict] = {}  # account settings (accounts.py), by "<account>:<region>"

    # --- lifecycle ------------------------------------------------------------------------

    async def load(self) -> None:
        self.accounts = dict(await self.store.scan("kinesis_account"))
        for key, doc in await self.store.scan(KIND):
            stream = Stream.from_doc(key, doc)
            for shard in stream.shards.values():
                rows = await self.store.read_stream_records(
                    stream.store_id, shard.shard_id, limit=self.cache_records + 1, newest=True
                )
                if len(rows) > self.cache_records:
                    rows = rows[1:]
                    shard.cached_from = rows[0].seq
                for row in rows:
                    shard.add(row)
                if rows:
                    stream.clock.last = max(stream.clock.last, rows[-1].seq)
            stream.settled = stream.clock.last + 1
            self.streams[key] = stream

    def start(self) -> None:
        self._maintenance = asyncio.create_task(self._maintain())

    async def stop(self) -> None:
        if self._maintenance is not None:
            self._maintenance.cancel()
            try:
                await self._maintenance
            except asyncio.CancelledError:
                pass

    def reset(self) -> None:
        """Lamina's reset (after stop()): no stream."""
        self.streams.clear()
        self.accounts.clear()
        for changed in self._changed.values():
            changed.set()
        self._changed.clear()

    # --- finding --------------------------------------------------------------------------

    def find(self, params: dict, ctx: RequestContext) -> Stream:
        """The stream named by StreamName and/or StreamARN (either may be given, or both)."""
        name, account, stream = self.lookup(params, ctx)
        if stream is None:
            raise stream_not_found(name, account)
        return stream

    def lookup(self, params: dict, ctx: RequestContext) -> tuple[str, str, Stream | None]:
        """(stream name, account, the stream or None) from StreamName and/or StreamARN."""
        name, arn = params.get("StreamName"), params.get("StreamARN")
        account, region = ctx.account_id, ctx.region
        if arn:
            parsed = parse_arn(arn)
            if parsed is None:
                raise invalid_argument(f"StreamARN {arn} is not a valid stream ARN.")
            region, account, arn_name = parsed
            if name and name != arn_name:
                raise invalid_argument(f"StreamName {name} and StreamARN {arn} do not name the same stream.")
            name = arn_name
        if not name:
            raise invalid_argument("Either StreamName or StreamARN must be provided.")
        if region != ctx.region:  # a stream lives in its region: another region's endpoint does not know it
            return name, account, None
        return name, account, self.streams.get(stream_key(account, region, name))

    def by_arn(self, arn: str) -> Stream | None:
        parsed = parse_arn(arn)
        return self.streams.get(stream_key(parsed[1], parsed[0], parsed[2])) if parsed else None

    def consumer_by_arn(self, arn: str) -> tuple[Stream, Consumer] | None:
        """The stream and the enhanced fan-out consumer `arn` names, or None."""
        parsed = parse_consumer_arn(arn)
        stream = self.by_arn(parsed[0]) if parsed else None
        if parsed is None or stream is None:
            return None
        consumer = stream.consumers.get(parsed[1])
        if consumer is None or consumer.created_s != parsed[2] or consumer.gone(now_ms()):
            return None
        return stream, consumer

    def find_consumer(self, arn: str, ctx: RequestContext) -> tuple[Stream, Consumer]:
        found = self.consumer_by_arn(arn)
        parts = arn.split(":")
        if found is None or parts[3] != ctx.region:
            raise consumer_not_found(arn, parts[4] if len(parts) > 4 else ctx.account_id)
        return found

    def current(self, key: str, stamp: int) -> Stream | None:
        """The stream if it is still the same incarnation (not deleted and created again)."""
        stream = self.streams.get(key)
        return stream if stream is not None and stream.stamp == stamp else None

    # --- writing --------------------------------------------------------------------------

    async def save(self, stream: Stream, batch: Batch | None = None) -> None:
        """Write the stream's document; `batch` (positions a reshard took) settles with it."""
        await self.commit(stream, batch, [Put(KIND, stream.key, stream.to_doc())])

    async def commit(self, stream: Stream, batch: Batch | None, ops: list) -> None:
        """Write `ops`; the batch's positions settle when the store says how it went. That is
        decided by the write, not by the caller: a caller cancelled mid-write (a client gone)
        must not take back records that the store is about to commit."""
        write = asyncio.ensure_future(self.store.write(ops))
        write.add_done_callback(lambda done: self._settle(stream, batch, done))
        await asyncio.shield(write)

    def _settle(self, stream: Stream, batch: Batch | None, write: asyncio.Future) -> None:
        committed = not write.cancelled() and write.exception() is None
        if batch is not None:
            stream.finish(batch, committed)
            if committed:
                self._evict(stream)
        self.notify(stream)

    def _evict(self, stream: Stream) -> None:
        for shard in stream.open_shards():
            if shard.cached > self.cache_records or shard.cached_bytes > self.cache_bytes:
                shard.evict(stream.settled, self.cache_records, self.cache_bytes)

    # --- reading --------------------------------------------------------------------------

    async def read(
        self, stream: Stream, shard: Shard, after: int, limit: int, max_bytes: int = MAX_READ_BYTES
    ) -> tuple[list[StreamRecordRow], bool]:
        """The shard's committed records after position `after` (within retention), at most
        `limit` and about `max_bytes` (at least one); and whether they reach the end."""
        after = max(after, stream.horizon(now_ms(), self.hour_ms) - 1)
        out: list[StreamRecordRow] = []
        # Older than memory holds: from the store, up to where memory starts. Memory may move
        # on while the store answers, so look again until the two meet.
        while after + 1 < shard.cached_from and len(out) < limit:
            upto = shard.cached_from
            rows = await self.store.read_stream_records(
                stream.store_id, shard.shard_id, after_seq=after, before_seq=upto, limit=limit - len(out)
            )
            out.extend(rows)
            # Fewer than asked for: the store has nothing more before `upto`.
            after = upto - 1 if len(out) < limit else rows[-1].seq
        if len(out) < limit:
            out.extend(shard.slice(after, stream.settled - 1, limit - len(out)))
        out = _within(out, max_bytes)
        last = out[-1].seq if out else after
        newest = shard.newest(stream.settled - 1)
        at_end = last >= newest.seq if newest is not None else last + 1 >= shard.cached_from
        return out, at_end

    def newest_position(self, stream: Stream, shard: Shard) -> int | None:
        """The position of the shard's newest committed record, as far as memory knows."""
        row = shard.newest(stream.settled - 1)
        if row is not None:
            return row.seq
        return None if shard.cached_from == 0 else stream.settled - 1

    # --- waiting --------------------------------------------------------------------------

    def notify(self, stream: Stream) -> None:
        event = self._changed.pop(stream.key, None)
        if event is not None:
            event.set()

    async def wait(self, key: str, timeout: float) -> None:
        """Until a write settles or the shards change in stream `key`, or `timeout` seconds."""
        if timeout <= 0:
            await asyncio.sleep(0)
            return
        event = self._changed.get(key)
        if event is None:
            event = self._changed[key] = asyncio.Event()
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except asyncio.TimeoutError:
            pass

    # --- maintenance ----------------------------------------------------------------------

    def _interval_s(self) -> float:
        # A twentieth of the shortest retention allowed (24 hours), at most ten seconds.
        return max(0.02, min(10.0, 24 * self.hour_ms / 1000 / 20))

    async def _maintain(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s())
            for stream in list(self.streams.values()):
                try:
                    await self.trim(stream)
                except Exception:  # the next round tries again
                    log.exception("trimming stream %s failed", stream.key)

    async def trim(self, stream: Stream) -> None:
        """Drop what is past retention: records, and closed shards whose records are all gone."""
        now = now_ms()
        horizon = stream.horizon(now, self.hour_ms)
        ops: list = []
        # Records: once the horizon has moved on by a round, and only if anything was written
        # since the last trim (before it, the store holds nothing older than trimmed_to).
        due = horizon - stream.trimmed_to >= int(self._interval_s() * 1e9) and stream.clock.last >= stream.trimmed_to
        if due:
            for shard in stream.shards.values():
                shard.trim(horizon)
                ops.append(TrimStreamRecords(stream.store_id, shard.shard_id, horizon))
        retention_ms = stream.retention_hours * self.hour_ms
        expired = [
            s.shard_id
            for s in stream.shards.values()
            if s.closed_ms is not None and s.closed_ms + retention_ms < now and stream.sealed(s)
        ]
        for shard_id in expired:
            del stream.shards[shard_id]
        if expired:
            ops.append(Put(KIND, stream.key, stream.to_doc()))
        if not ops or self.current(stream.key, stream.stamp) is None:
            return  # nothing to do, or deleted meanwhile
        await self.store.write(ops)
        if due:
            stream.trimmed_to = horizon
        if expired:
            self.notify(stream)


def parse_arn(arn: str) -> tuple[str, str, str] | None:
    """(region, account, stream name) of arn:aws:kinesis:<region>:<account>:stream/<name>."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "kinesis" or not parts[5].startswith("stream/"):
        return None
    name = parts[5][len("stream/") :]
    if not name or "/" in name:
        return None
    return parts[3], parts[4], name


def _within(rows: list[StreamRecordRow], max_bytes: int) -> list[StreamRecordRow]:
    total = 0
    for index, row in enumerate(rows):
        total += len(row.data)
        if total > max_bytes and index > 0:
            return rows[:index]
    return rows
