"""Asynchronous invocation and throughput: durable Event accepts, end-to-end async
throughput, sync throughput, beside Celery + Redis and a plain asyncio loop.

    .venv/bin/python bench/async.py [--quick]

Starts everything it measures on loopback (Lamina servers, a Celery worker against the
local Redis on 127.0.0.1:6379 in an empty DB from 9 up, flushed before and after) in this
one run, and prints the machine and one markdown table. `--quick` takes under ~2 minutes;
the full run stays under ~10 minutes. The load generator is `wrk` (2 threads, 32 keep-alive
connections) replaying one request signed once with botocore's SigV4Auth; without wrk, a
small asyncio generator in bench/_async_peers.py stands in (and the table says so).

Rows (see docs/benchmarks.md for how to read them):
 1a Event invokes (HTTP 202/s) from 32 connections against a no-op function (1769 MB)
    whose events run as they arrive (LAMINA_ASYNC_WORKERS=64).
 1c reference: a server with LAMINA_ASYNC_WORKERS=0, which accepts but never dispatches.
 2  end-to-end: N events enqueued as fast as wrk can, events completed per second from the
    first accept to the last event run (GET /_lamina/health async_queue_depth == 0),
    cross-checked with CloudWatch AWS/Lambda Invocations Sum; LAMINA_ASYNC_WORKERS 64 and 16.
 3  Celery (Redis broker) running the same no-op task: enqueue rate of .delay() from 32
    threads and end-to-end completion rate, prefork/threads/solo pools; and the ceiling, an
    asyncio queue calling the handler in-process.
 4  sync Invoke (RequestResponse) from 32 connections on a warm no-op function (1769 MB).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import math
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _async_peers as peers  # noqa: E402
from _common import (  # noqa: E402
    LOOPBACK,
    Cleanup,
    LaminaServer,
    Row,
    SignedRequest,
    Table,
    boto3_client,
    cpu_ms,
    create_function,
    descendant_pids,
    invoke_request,
    lamina_revision,
    log,
    machine_line,
    ms,
    scratch_dir,
)

NOOP = peers.NOOP
MEMORY_MB = 1769
CONNECTIONS = 32
ACCEPT_TARGET = 5000
E2E_TARGET = 2000
SYNC_TARGET = 3000


@dataclass
class Counts:
    accept_s: float  # each timed wrk run of rows 1 and 4
    warm_s: float  # untimed warm-up run before each
    events: int  # N of row 2
    celery_tasks: int  # N of row 3
    asyncio_calls: int  # the ceiling's N

    @classmethod
    def of(cls, quick: bool) -> Counts:
        if quick:
            return cls(accept_s=4, warm_s=1, events=5000, celery_tasks=5000, asyncio_calls=50_000)
        return cls(accept_s=10, warm_s=2, events=20_000, celery_tasks=20_000, asyncio_calls=200_000)


# --- the load generator ------------------------------------------------------------------------


@dataclass
class Load:
    tool: str
    requests: int  # responses the client counted
    hits: int  # ... with the expected status
    errors: int  # socket errors (connect, read, write, timeout)
    seconds: float  # our clock: start of the generator to its last response (or exit)
    p50_ms: float
    p99_ms: float
    client_cpu_s: float

    @property
    def misses(self) -> int:
        return self.requests - self.hits

    @property
    def rate(self) -> float:
        return self.hits / self.seconds if self.seconds else math.nan


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str, unit: str) -> float:
    return float(value) * _UNITS[unit]


def _lua(request: SignedRequest, expected: int, limit_per_thread: int) -> str:
    lines = [
        f"wrk.method = {json.dumps(request.method)}",
        f"wrk.path = {json.dumps(request.path)}",
        f"wrk.body = {json.dumps(request.body.decode())}",
    ]
    for name, value in request.headers.items():
        if name.lower() not in ("host", "content-length"):  # wrk sets both
            lines.append(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}")
    lines.append(f"local expected = {expected}")
    lines.append(f"local limit = {limit_per_thread}")
    # Per-thread tallies (each wrk thread has its own Lua state); at the limit a thread stops
    # and says so on stdout, and once every thread has, the driver sends wrk SIGINT, which
    # ends its run early and makes it print its summary.
    lines.append("""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) hits = 0; misses = 0; stopping = false end
function response(status, headers, body)
  if status == expected then hits = hits + 1 else misses = misses + 1 end
  if limit > 0 and not stopping and hits + misses >= limit then
    stopping = true
    io.write("BENCH-LIMIT\\n"); io.flush()
    wrk.thread:stop()
  end
end
function done(summary, latency, requests)
  local h, m = 0, 0
  for _, t in ipairs(threads) do h = h + t:get("hits"); m = m + t:get("misses") end
  io.write(string.format("BENCH hits=%d misses=%d\\n", h, m))
end
""")
    return "\n".join(lines)


def run_load(
    work: str,
    request: SignedRequest,
    expected: int,
    duration_s: float,
    limit: int = 0,
    connections: int = CONNECTIONS,
    threads: int = 2,
) -> Load:
    """`connections` keep-alive connections replaying `request` for `duration_s`, or until
    about `limit` responses (then `duration_s` is only the bound)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    if shutil.which("wrk"):
        load = _run_wrk(work, request, expected, duration_s, limit, connections, threads)
    else:
        load = _run_pyload(work, request, expected, duration_s, limit, connections)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    load.client_cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return load


def _run_wrk(
    work: str, request: SignedRequest, expected: int, duration_s: float, limit: int, connections: int, threads: int
) -> Load:
    per_thread = math.ceil(limit / threads) if limit else 0
    script = os.path.join(work, f"wrk-{time.monotonic_ns()}.lua")
    with open(script, "w") as handle:
        handle.write(_lua(request, expected, per_thread))
    url = f"http://{request.host}:{request.port}"
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, math.ceil(duration_s))}s",
        "--latency",
        "--timeout",
        "30s",
        "-s",
        script,
        url,
    ]
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL
    )
    watchdog = threading.Timer(duration_s + 60, process.kill)  # bound it even if wrk hangs
    watchdog.start()
    output, stopped_threads, last_response = [], 0, None
    try:
        for line in process.stdout:
            output.append(line)
            if line.startswith("BENCH-LIMIT"):
                stopped_threads += 1
                if stopped_threads == threads:
                    last_response = time.perf_counter()
                    process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()
    ended = last_response or time.perf_counter()
    text = "".join(output)
    match = re.search(r"BENCH hits=(\d+) misses=(\d+)", text)
    if not match:
        raise RuntimeError(f"wrk gave no summary (status {process.returncode}): {text[-800:]}")
    hits, misses = int(match.group(1)), int(match.group(2))
    latency = {
        m.group(1): _ms(m.group(2), m.group(3))
        for m in re.finditer(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)
    }
    errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
    if not limit:
        # wrk's own window (its -d), not our process start-to-exit, for a timed run.
        window = re.search(r"requests in ([\d.]+)(us|ms|s|m),", text)
        seconds = _ms(window.group(1), window.group(2)) / 1000 if window else ended - started
    else:
        seconds = ended - started
    return Load(
        "wrk", hits + misses, hits, errors, seconds, latency.get("50", math.nan), latency.get("99", math.nan), 0.0
    )


def _run_pyload(
    work: str, request: SignedRequest, expected: int, duration_s: float, limit: int, connections: int
) -> Load:
    raw_file = os.path.join(work, f"request-{time.monotonic_ns()}.bin")
    with open(raw_file, "wb") as handle:
        handle.write(request.raw())
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            os.path.join(os.path.dirname(os.path.abspath(__file__)), "_async_peers.py"),
            "load",
            "--host",
            request.host,
            "--port",
            str(request.port),
            "--raw-file",
            raw_file,
            "--connections",
            str(connections),
            "--duration",
            str(duration_s),
            "--limit",
            str(limit),
            "--expected",
            str(expected),
        ],
        capture_output=True,
        text=True,
        timeout=duration_s + 90,
    )
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed: {done.stderr[-800:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    seconds = result["seconds"] if not limit else time.perf_counter() - started
    return Load(
        "python asyncio generator (no wrk)",
        result["requests"],
        result["hits"],
        result["errors"],
        seconds,
        result["p50_ms"],
        result["p99_ms"],
        0.0,
    )


# --- Lamina side -------------------------------------------------------------------------------


class Health:
    """GET /_lamina/health on one keep-alive connection."""

    def __init__(self, server: LaminaServer) -> None:
        self.port = server.port
        self.connection: http.client.HTTPConnection | None = None

    def get(self) -> dict:
        for attempt in range(2):
            try:
                if self.connection is None:
                    self.connection = http.client.HTTPConnection(LOOPBACK, self.port, timeout=10)
                self.connection.request("GET", "/_lamina/health")
                return json.loads(self.connection.getresponse().read())
            except (OSError, http.client.HTTPException):
                if self.connection is not None:
                    self.connection.close()
                self.connection = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def wait_drained(self, timeout_s: float, poll_s: float = 0.01) -> float | None:
        """perf_counter() when async_queue_depth was first seen 0, or None past timeout_s."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.get()["async_queue_depth"] == 0:
                return time.perf_counter()
            time.sleep(poll_s)
        return None

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def _machine_busy_ms() -> tuple[float, float]:
    """CPU time all cores spent busy (not idle, not waiting for I/O) since boot, and the part
    of it spent in interrupts and softirqs (loopback TCP, mostly), in ms."""
    with open("/proc/stat") as handle:
        fields = [int(x) for x in handle.readline().split()[1:]]
    tick_ms = 1000 / os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]
    return (sum(fields[:7]) - idle) * tick_ms, (fields[5] + fields[6]) * tick_ms  # steal (VM) left out


class CpuMeter:
    """CPU time of a Lamina server's process tree over a window: the server process itself
    with its front processes if it has any (LAMINA_HTTP_WORKERS), and its other descendants
    (the zygote and the sandboxes)."""

    def __init__(self, pid: int, fronts: list[int]) -> None:
        self.pid = pid
        self.server_pids = {pid, *fronts}
        self.started = time.perf_counter()
        self.before = self._sample()
        self.machine_before = _machine_busy_ms()
        self.machine_pct = self.irq_pct = math.nan  # the whole machine, same scale

    def _sample(self) -> dict[int, float]:
        values = {}
        for pid in {self.pid} | descendant_pids(self.pid):
            try:
                values[pid] = cpu_ms(pid)[0]
            except (OSError, IndexError, ValueError):
                pass
        return values

    def stop(self) -> tuple[float, float, float]:
        """(server %, descendants %, window s); 100% is one core."""
        after = self._sample()
        window = time.perf_counter() - self.started
        busy, irq = _machine_busy_ms()
        self.machine_pct = (busy - self.machine_before[0]) / 10 / window
        self.irq_pct = (irq - self.machine_before[1]) / 10 / window
        server = sum(after.get(pid, 0) - self.before.get(pid, 0) for pid in self.server_pids)
        others = sum(value - self.before.get(pid, 0) for pid, value in after.items() if pid not in self.server_pids)
        return server / 10 / window, others / 10 / window, window


def metric_sum(cloudwatch, function: str, metric: str, since: dt.datetime) -> float:
    now = dt.datetime.now(dt.timezone.utc)
    answer = cloudwatch.get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName=metric,
        Dimensions=[{"Name": "FunctionName", "Value": function}],
        StartTime=since - dt.timedelta(minutes=2),
        EndTime=now + dt.timedelta(minutes=2),
        Period=60,
        Statistics=["Sum"],
    )
    return sum(point.get("Sum", 0) for point in answer.get("Datapoints", []))


def wait_metric(
    cloudwatch, function: str, metric: str, since: dt.datetime, at_least: float, timeout_s: float = 8.0
) -> float:
    """The metric's Sum once it reaches `at_least` (the engine flushes each second), or what
    it is after timeout_s."""
    deadline = time.monotonic() + timeout_s
    value = metric_sum(cloudwatch, function, metric, since)
    while value < at_least and time.monotonic() < deadline:
        time.sleep(0.25)
        value = metric_sum(cloudwatch, function, metric, since)
    if timeout_s:
        # Then until a flush (each second) changes nothing: requests in flight when the
        # client stopped are counted by the server but not by the client.
        while time.monotonic() < deadline:
            time.sleep(1.2)
            again = metric_sum(cloudwatch, function, metric, since)
            if again == value:
                break
            value = again
    return value


STARTED: list[LaminaServer] = []  # every server this run started, newest last (for its log)


@dataclass
class Lamina:
    server: LaminaServer
    client: object
    cloudwatch: object
    health: Health
    started: dt.datetime

    @classmethod
    def start(cls, cleanup: Cleanup, work: str, name: str, env: dict) -> Lamina:
        server = LaminaServer(os.path.join(work, name), env=env).start(cleanup)
        STARTED.append(server)
        health = Health(server)
        cleanup.callback(health.close)
        return cls(
            server,
            boto3_client(server.url),
            boto3_client(server.url, "cloudwatch"),
            health,
            dt.datetime.now(dt.timezone.utc),
        )

    def function(self, name: str) -> None:
        create_function(self.client, name, NOOP, memory_mb=MEMORY_MB)

    def event_request(self, function: str) -> SignedRequest:
        return SignedRequest(
            self.server.url,
            "POST",
            f"/2015-03-31/functions/{function}/invocations",
            b"{}",
            {"Content-Type": "application/json", "X-Amz-Invocation-Type": "Event"},
        )

    def metric(self, function: str, metric: str, at_least: float = 0, timeout_s: float = 8.0) -> float:
        return wait_metric(self.cloudwatch, function, metric, self.started, at_least, timeout_s)


def rate(value: float, unit: str = "/s") -> str:
    if value is None or math.isnan(value):
        return "–"
    return f"{value:,.0f}{unit}"


def verdict(value: float, target: float, unit: str = "/s") -> str:
    met = not math.isnan(value) and value >= target
    return f"≥ {target:,}{unit}: {'met' if met else 'missed'}" + ("" if met else f" ({value / target:.0%})")


def cpu_text(
    meter: CpuMeter,
    server_pct: float,
    others_pct: float,
    client_cpu_s: float,
    window_s: float,
    per: tuple[int, str] | None = None,
) -> str:
    client_pct = client_cpu_s / window_s * 100
    each = ""
    if per and per[0]:
        each = f" (server CPU per {per[1]}: {server_pct * 10 * window_s / per[0]:.3f} ms)"
    rest = meter.machine_pct - meter.irq_pct - server_pct - others_pct - client_pct
    return (
        f"CPU (100% = 1 core of {os.cpu_count()}): server {server_pct:.0f}%, zygote+sandboxes "
        f"{others_pct:.0f}%, load generator {client_pct:.0f}%, kernel irq+softirq {meter.irq_pct:.0f}%, "
        f"other processes on the machine {max(rest, 0):.0f}%" + each
    )


def _check(load: Load, what: str) -> str:
    notes = []
    if load.misses:
        notes.append(f"{load.misses} responses with another status")
    if load.errors:
        notes.append(f"{load.errors} socket errors")
    return ("; " + what + ": " + ", ".join(notes)) if notes else ""


def _fronts(lamina: Lamina) -> str:
    """How the server was run, for a row's title: with front processes or in one process."""
    count = len(lamina.health.get()["fronts"])
    return f", {count} front process (LAMINA_HTTP_WORKERS={count})" if count else ""


# --- rows ----------------------------------------------------------------------------------------


def bench_accept_running(table: Table, lamina: Lamina, counts: Counts, work: str) -> float:
    """1a: 202s per second while the events run as they arrive."""
    name = "accept-noop"
    lamina.function(name)
    request = lamina.event_request(name)
    warm = run_load(work, request, 202, counts.warm_s)
    lamina.health.wait_drained(120)
    meter = CpuMeter(lamina.server.process.pid, lamina.health.get()["fronts"])
    load = run_load(work, request, 202, counts.accept_s)
    server_pct, others_pct, window = meter.stop()
    stopped = time.perf_counter()
    backlog = lamina.health.get()["async_queue_depth"]
    drained_at = lamina.health.wait_drained(180)
    accepted = warm.hits + load.hits
    received = lamina.metric(name, "AsyncEventsReceived", accepted)
    ran = lamina.metric(name, "Invocations", accepted)
    drain = (
        f"backlog {backlog} when wrk stopped, drained {drained_at - stopped:.1f} s later"
        if drained_at
        else f"NOT drained within 180 s (depth {lamina.health.get()['async_queue_depth']})"
    )
    table.add(
        Row(
            "1a",
            f"Event invokes, {CONNECTIONS} connections, no-op ({MEMORY_MB} MB), events run as they arrive "
            f"(LAMINA_ASYNC_WORKERS=64){_fronts(lamina)}; latency of the 202",
            "Lamina",
            str(load.hits),
            ms(load.p50_ms),
            ms(load.p99_ms),
            f"**{rate(load.rate)}** 202s in {load.seconds:.1f} s ({load.tool}); {drain}; cross-check with warm-up: "
            f"{accepted} 202s, AsyncEventsReceived {received:.0f}, Invocations {ran:.0f}; "
            + cpu_text(
                meter, server_pct, others_pct, load.client_cpu_s, window, (load.hits, "202, events run included")
            )
            + _check(load, "client saw"),
            verdict(load.rate, ACCEPT_TARGET),
            "",
        )
    )
    return load.rate


def bench_accept_only(table: Table, cleanup: Cleanup, work: str, counts: Counts, reference: float | None) -> None:
    """1c: a server that accepts and never dispatches (the accept path alone)."""
    lamina = Lamina.start(cleanup, work, "lamina-accept-only", {"LAMINA_ASYNC_WORKERS": "0"})
    name = "accept-only"
    lamina.function(name)
    request = lamina.event_request(name)
    warm = run_load(work, request, 202, counts.warm_s)
    meter = CpuMeter(lamina.server.process.pid, lamina.health.get()["fronts"])
    load = run_load(work, request, 202, counts.accept_s)
    server_pct, others_pct, window = meter.stop()
    accepted = warm.hits + load.hits
    received = lamina.metric(name, "AsyncEventsReceived", accepted)
    depth = lamina.health.get()["async_queue_depth"]
    table.add(
        Row(
            "1c",
            f"Reference: Event invokes, {CONNECTIONS} connections, on a server that never dispatches "
            "(LAMINA_ASYNC_WORKERS=0): HTTP + SigV4 + protocol + commit only",
            "Lamina",
            str(load.hits),
            ms(load.p50_ms),
            ms(load.p99_ms),
            f"**{rate(load.rate)}** 202s in {load.seconds:.1f} s; with warm-up {accepted} 202s, AsyncEventsReceived "
            f"{received:.0f}, queue depth {depth}; "
            + cpu_text(meter, server_pct, others_pct, load.client_cpu_s, window, (load.hits, "202"))
            + _check(load, "client saw"),
            f"(reference for ≥ {ACCEPT_TARGET:,}/s)",
            f"{load.rate / reference:.2f}x 1a" if reference else "",
        )
    )


def bench_e2e(table: Table, lamina: Lamina, counts: Counts, work: str, workers: int) -> float:
    """2: N events as fast as wrk sends them; events completed per second, first accept to last run."""
    name = f"e2e-noop-{workers}-{len(lamina.health.get()['fronts'])}"
    lamina.function(name)
    request = lamina.event_request(name)
    # Warm-up (untimed): the instances this worker count keeps busy exist before the clock starts.
    warm = run_load(work, request, 202, 30, limit=max(200, 4 * workers))
    if lamina.health.wait_drained(120) is None:
        raise RuntimeError("the warm-up events did not drain within 120 s")
    received_before = lamina.metric(name, "AsyncEventsReceived", warm.hits)
    ran_before = lamina.metric(name, "Invocations", received_before)
    meter = CpuMeter(lamina.server.process.pid, lamina.health.get()["fronts"])
    started = time.perf_counter()
    load = run_load(work, request, 202, 120, limit=counts.events)
    accepted_at = started + load.seconds
    drained_at = lamina.health.wait_drained(300)
    server_pct, others_pct, window = meter.stop()
    if drained_at is None:
        raise RuntimeError(
            f"{load.hits} events did not drain within 300 s (depth {lamina.health.get()['async_queue_depth']})"
        )
    received = lamina.metric(name, "AsyncEventsReceived", received_before + load.hits) - received_before
    ran = lamina.metric(name, "Invocations", ran_before + received) - ran_before
    total_s = drained_at - started
    events_per_s = received / total_s
    checks = "" if ran == received else f" — MISMATCH: {received:.0f} accepted, {ran:.0f} ran"
    table.add(
        Row(
            "2",
            f"End-to-end async, no-op ({MEMORY_MB} MB), LAMINA_ASYNC_WORKERS={workers}{_fronts(lamina)}: N events "
            f"from {CONNECTIONS} connections; p50/p99: latency of the 202",
            "Lamina",
            f"{received:.0f}",
            ms(load.p50_ms),
            ms(load.p99_ms),
            f"**{rate(events_per_s)}** events completed/s ({received:.0f} in {total_s:.2f} s, first accept to "
            f"queue depth 0); accepted at {rate(load.hits / load.seconds)} for {load.seconds:.2f} s, the last ran "
            f"{drained_at - accepted_at:.2f} s after the last 202; CloudWatch Invocations Sum {ran:.0f} "
            f"(AsyncEventsReceived {received:.0f}; 202s the client counted {load.hits}){checks}; "
            + cpu_text(
                meter, server_pct, others_pct, load.client_cpu_s, window, (int(received), "event, accepted and run")
            )
            + _check(load, "client saw"),
            verdict(events_per_s, E2E_TARGET),
            "",
        )
    )
    return events_per_s


def bench_sync(table: Table, lamina: Lamina, counts: Counts, work: str) -> None:
    """4: RequestResponse invokes per second from 32 connections, warm."""
    name = "sync-noop"
    lamina.function(name)
    request = invoke_request(lamina.server.url, name)
    pooled = lamina.health.get()["instances"]
    run_load(work, request, 200, counts.warm_s + 1)  # warm: one instance per connection
    instances = lamina.health.get()["instances"] - pooled
    meter = CpuMeter(lamina.server.process.pid, lamina.health.get()["fronts"])
    load = run_load(work, request, 200, counts.accept_s)
    server_pct, others_pct, window = meter.stop()
    ran = lamina.metric(name, "Invocations", load.hits)
    table.add(
        Row(
            "4",
            f"Sync Invoke (RequestResponse), {CONNECTIONS} connections, warm no-op, {MEMORY_MB} MB"
            f"{_fronts(lamina)}; wrk --latency",
            "Lamina",
            str(load.hits),
            ms(load.p50_ms),
            ms(load.p99_ms),
            f"**{rate(load.rate)}** invokes/s in {load.seconds:.1f} s ({load.tool}); {instances} warm instances of it; "
            f"Invocations Sum (with warm-up) {ran:.0f}; "
            + cpu_text(meter, server_pct, others_pct, load.client_cpu_s, window, (load.hits, "invoke"))
            + _check(load, "client saw"),
            verdict(load.rate, SYNC_TARGET),
            "",
        )
    )


def bench_celery(table: Table, cleanup: Cleanup, work: str, counts: Counts, results: dict) -> None:
    import celery  # noqa: PLC0415 - the bench extra

    db, redis_version = peers.pick_redis_db(9)
    persistence = peers.redis_persistence(db)
    system = f"Celery {celery.__version__} + Redis {redis_version}"
    runs = []
    for pool, concurrency in (("prefork", 2), ("threads", 4), ("solo", 1)):
        log(f"3. Celery --pool={pool} --concurrency={concurrency}, {counts.celery_tasks} tasks (Redis DB {db})")
        with Cleanup() as section:
            try:
                runs.append(peers.run_celery(section, work, db, pool, concurrency, counts.celery_tasks))
            except Exception as error:  # noqa: BLE001 - one pool failing leaves the others
                traceback.print_exc()
                runs.append(peers.CeleryRun(pool, concurrency, counts.celery_tasks, note=f"failed: {error}"[:120]))
    good = [run for run in runs if run.done]
    if not good:
        raise RuntimeError("; ".join(run.note for run in runs))
    best_enqueue = max(good, key=lambda run: run.enqueue_rate)
    best = max(good, key=lambda run: run.e2e_rate)
    results["celery_e2e"] = best.e2e_rate
    per_pool = ", ".join(
        f"{run.label()}: enqueue {rate(run.enqueue_rate)}, end-to-end {rate(run.e2e_rate)}"
        if run.done
        else f"{run.label()}: {run.note}"
        for run in runs
    )
    table.add(
        Row(
            "3",
            f"Enqueue: .delay() of a no-op task from {CONNECTIONS} threads, Redis broker (DB {db}), no result backend",
            f"{system} (best: --pool={best_enqueue.label()})",
            str(best_enqueue.n),
            "",
            "",
            f"**{rate(best_enqueue.enqueue_rate)}** tasks enqueued/s "
            f"(a Redis LPUSH, in memory; this Redis: {persistence})",
            "(peer)",
            f"Lamina 1a is {results['accept'] / best_enqueue.enqueue_rate:.2f}x this" if results.get("accept") else "",
        )
    )
    notes = "; ".join(run.note for run in runs if run.note)
    table.add(
        Row(
            "3",
            "End-to-end: the same N tasks enqueued while one worker runs them; completion = an INCR in the task "
            "reaching N",
            f"{system} (best: --pool={best.label()})",
            str(best.done),
            "",
            "",
            f"**{rate(best.e2e_rate)}** tasks completed/s ({best.done} in {best.total_s:.2f} s); per pool: {per_pool}"
            + (f"; {notes}" if notes else ""),
            "(peer)",
            "1x",
        )
    )


def bench_asyncio(table: Table, counts: Counts, results: dict) -> None:
    rates = [peers.asyncio_ceiling(counts.asyncio_calls) for _ in range(3)]
    best = max(rates)
    results["asyncio"] = best
    table.add(
        Row(
            "3",
            "Ceiling: asyncio.Queue + 64 consumer tasks calling the no-op handler in-process (uvloop): no HTTP, "
            "no store, no sandbox",
            "CPython asyncio",
            str(counts.asyncio_calls),
            "",
            "",
            f"**{rate(best)}** calls/s (best of 3: {', '.join(rate(r) for r in rates)})",
            "(ceiling)",
            "",
        )
    )


# --- main ------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs, fewer events: under ~2 minutes")
    args = parser.parse_args()
    counts = Counts.of(args.quick)
    started = time.monotonic()
    table = Table()
    results: dict = {}
    loads: list[str] = []
    generator = "wrk 2 threads" if shutil.which("wrk") else "no wrk: python asyncio generator"
    print(f"Machine: {machine_line()}")
    print(f"Lamina: commit {lamina_revision()}")
    print(
        f"Date: {time.strftime('%Y-%m-%d %H:%M %Z')}; mode: {'quick' if args.quick else 'full'}; load generator: "
        f"{generator}, {CONNECTIONS} keep-alive connections, one pre-signed request; load average at start "
        f"{os.getloadavg()[0]:.2f}",
        flush=True,
    )

    with Cleanup() as cleanup:
        work = scratch_dir(cleanup, "lamina-bench-async-")

        def run(section: str, title: str, measure, *more):
            log(f"{section}. {title}")
            loads.append(f"{section} {os.getloadavg()[0]:.1f}")
            try:
                return measure(*more)
            except Exception as error:  # noqa: BLE001 - reported in the table, traceback on stderr
                traceback.print_exc()
                if STARTED:
                    log(f"Lamina's log, last lines:\n{STARTED[-1].log()[-1500:]}")
                table.add(
                    Row(section, title, "–", "–", "–", "–", f"failed: {type(error).__name__}: {error}"[:240], "", "")
                )
                return None

        with Cleanup() as server_a:
            lamina = Lamina.start(server_a, work, "lamina-64", {"LAMINA_ASYNC_WORKERS": "64"})
            results["accept"] = run(
                "1a", "Event accept, events running", bench_accept_running, table, lamina, counts, work
            )
            results["e2e64"] = run("2", "end-to-end async, 64 workers", bench_e2e, table, lamina, counts, work, 64)
            run("4", "sync invokes", bench_sync, table, lamina, counts, work)
        with Cleanup() as server_b:
            # The same rows on a server with one front process (LAMINA_HTTP_WORKERS=1): HTTP,
            # SigV4 and the protocols in a process of their own, beside the core.
            fronted = Lamina.start(
                server_b, work, "lamina-64-front", {"LAMINA_ASYNC_WORKERS": "64", "LAMINA_HTTP_WORKERS": "1"}
            )
            run("1a", "Event accept, events running, 1 front", bench_accept_running, table, fronted, counts, work)
            run("2", "end-to-end async, 64 workers, 1 front", bench_e2e, table, fronted, counts, work, 64)
            run("4", "sync invokes, 1 front", bench_sync, table, fronted, counts, work)
        with Cleanup() as server:
            run(
                "1c", "Event accept, no dispatch", bench_accept_only, table, server, work, counts, results.get("accept")
            )
        with Cleanup() as server:

            def e2e16():
                lamina16 = Lamina.start(server, work, "lamina-16", {"LAMINA_ASYNC_WORKERS": "16"})
                return bench_e2e(table, lamina16, counts, work, 16)

            results["e2e16"] = run("2", "end-to-end async, 16 workers", e2e16)
        run("3", "Celery + Redis", bench_celery, table, cleanup, work, counts, results)
        run("3", "asyncio ceiling", bench_asyncio, table, counts, results)
        log("stopping everything this run started")

    # Ratios that need the peers' numbers.
    for row in table.rows:
        if row.section == "2" and row.system == "Lamina" and results.get("celery_e2e"):
            match = re.search(r"\*\*([\d,]+)/s\*\*", row.extra)
            if match:
                row.compare = f"{int(match.group(1).replace(',', '')) / results['celery_e2e']:.1f}x Celery best"
    order = {"1a": 0, "1c": 2, "2": 3, "3": 4, "4": 5}
    table.rows.sort(key=lambda row: order.get(row.section, 9))
    print()
    print(table.markdown())
    print()
    print(
        f"Took {time.monotonic() - started:.0f} s; load average at end {os.getloadavg()[0]:.2f} (other processes "
        f"on this machine share its {os.cpu_count()} cores); at the start of each section: {', '.join(loads)}."
    )
    if note := LaminaServer.leftovers_note():
        print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
