"""Peers and a fallback load generator for bench/async.py.

- Celery with the local Redis broker running the same no-op task: a worker subprocess,
  `.delay()` from 32 threads, completion counted by an INCR in the task.
- The ceiling: a plain asyncio queue whose consumers call the no-op handler in-process.
- `python bench/_async_peers.py load ...`: a small asyncio HTTP/1.1 load generator
  (keep-alive connections replaying one pre-signed request), used only when `wrk` is not
  installed. It prints one JSON line with the same numbers bench/async.py reads from wrk.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import LOOPBACK, Cleanup, log, percentile  # noqa: E402

NOOP = "def handler(e, c):\n    return e\n"

# --- Celery ------------------------------------------------------------------------------------

REDIS_PORT = 6379
COUNTER = "lamina-bench:done"

CELERY_TASKS = """
import os

import redis
from celery import Celery

DB = int(os.environ["BENCH_REDIS_DB"])
app = Celery("bench_tasks", broker=f"redis://127.0.0.1:6379/{DB}")
app.conf.update(
    task_ignore_result=True,            # no result backend: completion is the INCR below
    broker_pool_limit=64,               # 32 producer threads share the connection pool
    worker_prefetch_multiplier=64,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)
_redis = None


@app.task(name="noop")
def noop(event):
    global _redis
    if _redis is None:  # one connection per worker process (or thread: INCR is atomic)
        _redis = redis.Redis(host="127.0.0.1", port=6379, db=DB)
    _redis.incr("lamina-bench:done")
    return event
"""


def redis_client(db: int):
    import redis

    return redis.Redis(host=LOOPBACK, port=REDIS_PORT, db=db, socket_timeout=10)


def pick_redis_db(preferred: int = 9) -> tuple[int, str]:
    """An empty Redis DB, `preferred` if it is empty (so FLUSHDB loses nobody's data).
    Returns (db, redis version)."""
    for db in [preferred] + [d for d in range(9, 16) if d != preferred]:
        client = redis_client(db)
        if client.dbsize() == 0:
            return db, client.info("server").get("redis_version", "?")
        log(f"Redis DB {db} is not empty; trying another")
    raise RuntimeError("no empty Redis DB among 9-15")


def redis_persistence(db: int) -> str:
    """How durable an LPUSH is on this Redis: its AOF and snapshot settings."""
    client = redis_client(db)
    try:
        aof = client.config_get("appendonly").get("appendonly", "?")
        fsync = client.config_get("appendfsync").get("appendfsync", "?")
        save = client.config_get("save").get("save", "?")
    except Exception as error:  # noqa: BLE001 - CONFIG may be disabled
        return f"persistence unknown ({type(error).__name__})"
    return f"appendonly {aof}" + (f", appendfsync {fsync}" if aof == "yes" else "") + f", save '{save}'"


@dataclass
class CeleryRun:
    pool: str
    concurrency: int
    n: int
    enqueue_s: float = float("nan")
    done: int = 0
    total_s: float = float("nan")  # first .delay() to the last task's INCR seen
    note: str = ""

    @property
    def enqueue_rate(self) -> float:
        return self.n / self.enqueue_s

    @property
    def e2e_rate(self) -> float:
        return self.done / self.total_s

    def label(self) -> str:
        return f"{self.pool}" + (f" ×{self.concurrency}" if self.pool != "solo" else "")


def run_celery(
    cleanup: Cleanup,
    workdir: str,
    db: int,
    pool: str,
    concurrency: int,
    n: int,
    senders: int = 32,
    timeout_s: float = 180.0,
) -> CeleryRun:
    """One worker (`--pool`, `--concurrency`), `n` tasks from `senders` threads."""
    with open(os.path.join(workdir, "bench_tasks.py"), "w") as handle:
        handle.write(CELERY_TASKS)
    os.environ["BENCH_REDIS_DB"] = str(db)
    if workdir not in sys.path:
        sys.path.insert(0, workdir)
    import bench_tasks  # noqa: PLC0415 - written just above

    counter = redis_client(db)
    counter.flushdb()
    run = CeleryRun(pool, concurrency, n)
    env = dict(os.environ, BENCH_REDIS_DB=str(db))
    with open(os.path.join(workdir, f"celery-{pool}.log"), "ab") as log_file:
        worker = cleanup.process(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "bench_tasks",
                    "worker",
                    f"--pool={pool}",
                    f"--concurrency={concurrency}",
                    "--loglevel=WARNING",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                ],
                cwd=workdir,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        )
    try:
        # Ready once it has run one task (untimed).
        bench_tasks.noop.delay({})
        deadline = time.monotonic() + 60
        while int(counter.get(COUNTER) or 0) < 1:
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Celery worker ({pool}) did not run a task within 60 s")
            time.sleep(0.02)
        counter.set(COUNTER, 0)

        per_thread = [n // senders + (1 if i < n % senders else 0) for i in range(senders)]
        failures: list[BaseException] = []

        def send(count: int) -> None:
            try:
                for _ in range(count):
                    bench_tasks.noop.delay({})
            except BaseException as error:  # noqa: BLE001 - reported below
                failures.append(error)

        threads = [threading.Thread(target=send, args=(count,), daemon=True) for count in per_thread]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=timeout_s)
        run.enqueue_s = time.perf_counter() - started
        if failures:
            raise RuntimeError(f"enqueue failed: {failures[0]!r}")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            run.done = int(counter.get(COUNTER) or 0)
            if run.done >= n:
                break
            time.sleep(0.01)
        run.total_s = time.perf_counter() - started
        if run.done < n:
            run.note = f"only {run.done} of {n} done within {timeout_s:.0f} s"
        return run
    finally:
        from _common import stop_process  # noqa: PLC0415

        stop_process(worker)
        counter.flushdb()


# --- the asyncio ceiling -------------------------------------------------------------------------


def asyncio_ceiling(n: int, consumers: int = 64) -> float:
    """Calls per second: `n` events through an asyncio.Queue to `consumers` tasks that call
    the no-op handler in-process (uvloop where installed) - no HTTP, no store, no sandbox."""
    namespace: dict = {}
    exec(compile(NOOP, "app.py", "exec"), namespace)  # noqa: S102 - our own one-line handler
    handler = namespace["handler"]

    async def main() -> float:
        queue: asyncio.Queue = asyncio.Queue()
        done = 0

        async def consume() -> None:
            nonlocal done
            while True:
                event = await queue.get()
                if event is None:
                    return
                handler(event, None)
                done += 1

        started = time.perf_counter()
        tasks = [asyncio.ensure_future(consume()) for _ in range(consumers)]
        for i in range(n):
            queue.put_nowait({"i": i})
        for _ in tasks:
            queue.put_nowait(None)
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
        assert done == n
        return n / elapsed

    try:
        import uvloop

        return uvloop.run(main())
    except ImportError:
        return asyncio.run(main())


# --- the fallback load generator (when wrk is missing) ------------------------------------------


@dataclass
class _Tally:
    hits: int = 0
    misses: int = 0
    errors: int = 0
    latencies_ms: list = field(default_factory=list)


async def _load(
    host: str, port: int, raw: bytes, connections: int, duration_s: float, limit: int, expected: int
) -> dict:
    tally = _Tally()
    stop_at = time.monotonic() + duration_s
    stop = asyncio.Event()

    async def one_connection() -> None:
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            tally.errors += 1
            return
        writer.transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while not stop.is_set() and time.monotonic() < stop_at:
                sent = time.perf_counter()
                writer.write(raw)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                if length:
                    await reader.readexactly(length)
                tally.latencies_ms.append((time.perf_counter() - sent) * 1000)
                if status == expected:
                    tally.hits += 1
                else:
                    tally.misses += 1
                if limit and tally.hits + tally.misses >= limit:
                    stop.set()
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            tally.errors += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(one_connection() for _ in range(connections))), duration_s + 30)
    elapsed = time.perf_counter() - started
    return {
        "requests": tally.hits + tally.misses,
        "hits": tally.hits,
        "misses": tally.misses,
        "errors": tally.errors,
        "seconds": elapsed,
        "p50_ms": percentile(tally.latencies_ms, 0.5),
        "p99_ms": percentile(tally.latencies_ms, 0.99),
    }


def _main() -> int:
    parser = argparse.ArgumentParser(description="fallback load generator for bench/async.py")
    parser.add_argument("mode", choices=["load"])
    parser.add_argument("--host", default=LOOPBACK)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--raw-file", required=True, help="the whole HTTP request, as bytes")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--limit", type=int, default=0, help="stop after this many responses (0: none)")
    parser.add_argument("--expected", type=int, default=200)
    args = parser.parse_args()
    with open(args.raw_file, "rb") as handle:
        raw = handle.read()
    coroutine = _load(args.host, args.port, raw, args.connections, args.duration, args.limit, args.expected)
    try:
        import uvloop

        result = uvloop.run(coroutine)
    except ImportError:
        result = asyncio.run(coroutine)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_main())
