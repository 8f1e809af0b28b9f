"""Streams and buses: Kinesis PutRecords ingest, Kinesis -> Lambda end to end, and
EventBridge -> SQS delivery, beside moto's server and MiniStack.

    .venv/bin/python bench/streams.py [--quick] [--no-moto] [--no-ministack]

Starts everything it measures on loopback and free ports (Lamina servers, `python -m
moto.server` from its own venv under ~/.cache/lamina-bench/moto, MiniStack from its own
venv via bench/_common), in this one run, prints the machine and one markdown table, and
stops what it started. Every client is boto3, one client per thread; nothing of Lamina is
imported. `--quick` takes under ~2 minutes; the full run stays under ~8.

Rows:
 1  Kinesis ingest: PutRecords in batches of 500 records of 100 bytes from 4 threads, each
    with its own boto3 client, as fast as they go, into streams of 1, 4 and 16 shards;
    records and MB (10^6 bytes of record data) accepted per second. Each thread builds 8
    batches with random partition keys up front and puts them in turn (so the client's
    time goes to boto3 and the server, not to making keys).
    Every system and shard count is measured in turn, `rounds` times over (so a burst of
    load from elsewhere falls on all of them); a row sums its rounds. Records a server
    refuses (FailedRecordCount) are counted apart, not resent.
 2  Kinesis -> Lambda end to end: a stream of 4 shards, a no-op python3.12 function
    (MemorySize 1769) and CreateEventSourceMapping (BatchSize 100, StartingPosition
    TRIM_HORIZON, ParallelizationFactor 1, then 10 on a fresh stream and function). An
    untimed warm-up of records goes through the mapping first. Then N records are put from
    4 threads (PutRecords of 500, refused records resent); rate = N / time from releasing
    the senders until the function has been handed the N-th record (2a). Target:
    10,000/s. 2b, the consumer side alone: a backlog of records is put first, then the
    mapping is created (on a fresh stream and function, so cold starts are included); rate
    = backlog / time from CreateEventSourceMapping until the function has it all.
 3  EventBridge -> SQS: a rule on the default bus matching the benchmark's events (source,
    detail-type and a detail field) with one new SQS queue as its target; 5 PutEvents
    calls go through it untimed first. 3a, throughput: 4 threads PutEvents (10 entries a
    call) flat out for a fixed window, nobody consuming; delivered events/s = events
    accepted / time from the first put until the queue holds them all (its
    ApproximateNumberOfMessages + ...NotVisible, read every 50 ms). Consumers are left out
    on purpose: on two shared cores their ReceiveMessage and DeleteMessageBatch calls (and
    the server's work for them) would set the rate, not the bus. 3b, latency: the same
    puts on a schedule, 500 events/s in all, while 2 consumer threads, each with its own
    client, long-poll the queue (ReceiveMessage, 10 messages, WaitTimeSeconds 1) and delete
    what they got; latency = receive time - the put time carried in the event's Detail.
    The queue's depth, sampled every 0.25 s, tells whether events waited for the consumers
    (a deep queue) or for the delivery (a shallow one).

How row 2 knows that the function has processed every record. The "no-op" function does
one cheap thing: it sends a UDP datagram to a socket of the benchmark on 127.0.0.1 (its
address is in the function's environment) holding the number of records in its batch and
the put time carried in the first record (a base64 decode of 24 characters). That is one
non-blocking `sendto` of ~25 bytes per invocation of 100 records, a few microseconds beside
the platform's work per batch, and it tells the benchmark the moment the N-th record
arrives, without polling the server (which would load it) and without the minute buckets of
CloudWatch. It works because Lamina's sandboxes share the host's network namespace (they
get their own mount, PID, IPC and UTS namespaces), and MiniStack's local workers are plain
subprocesses; a function's /tmp is private to its sandbox, so a file could not be read.
Cross-checks, read once the mapping is deleted: CloudWatch AWS/Lambda Invocations (Sum,
since the function was created) against the number of datagrams (warm-up and timed
batches), the peak ConcurrentExecutions and the mapping's IteratorAge (Maximum).
p50/p99 in row 2 are of that per-batch latency: from the put of the batch's first record
until the function started on it.

CPU: the server process's CPU time over the row's window, from /proc/PID/stat (for Lamina
without its sandboxes, which are the zygote's children; row 2 gives those apart, from
/proc/PID/task/*/schedstat of the live processes below the server), as ms per 1,000
records or events, and as cores (of the machine's) over the window. In row 3b the server
also serves the consumers' ReceiveMessage and DeleteMessageBatch.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _messaging_peers as peers  # noqa: E402
from _common import (  # noqa: E402
    Cleanup,
    LaminaServer,
    Row,
    Summary,
    Table,
    boto3_client,
    create_function,
    descendant_pids,
    factor_text,
    load,
    log,
    machine_busy_s,
    ms,
    parent_map,
    peer_arguments,
    peer_ratio,
    print_header,
    rate,
    scratch_dir,
    server_cpu_s,
    start_failure,
    start_ministack,
)

MEMORY_MB = 1769
PUT_BATCH = 500  # records per PutRecords
RECORD_BYTES = 100  # data per record
SHARD_COUNTS = (1, 4, 16)
E2E_SHARDS = 4
E2E_BATCH = 100  # the mapping's BatchSize
FACTORS = (1, 10)  # ParallelizationFactor
E2E_TARGET = 10_000  # records/s
PRODUCERS = 4  # threads putting records or events, each with its own client
CONSUMERS = 2  # threads long-polling the target queue in row 3b
BUS_PACE = 500  # events/s offered in row 3b
EVENTS_PER_CALL = 10
SOURCE = "bench.streams"
DETAIL_TYPE = "tick"

# The "no-op" function of row 2: one datagram per batch to the benchmark (see the docstring).
COUNTING = """
import base64
import os
import socket

_host, _, _port = os.environ["BENCH_SINK"].rpartition(":")
_sink = (_host, int(_port))
_udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)


def handler(event, context):
    records = event["Records"]
    put_time = base64.b64decode(records[0]["kinesis"]["data"][:24])[:17]
    _udp.sendto(b"%d %s" % (len(records), put_time), _sink)
"""


@dataclass
class Counts:
    ingest_s: float  # timed window of each ingest row, summed over its rounds
    rounds: int
    e2e_records: int  # N put through the mapping, timed
    e2e_warmup: int  # put through the mapping (untimed) first
    e2e_timeout_s: float  # bound on each end-to-end and backlog run
    backlog_records: int  # put before the mapping is created (row 2b)
    bus_s: float  # how long the producers of row 3 put events
    bus_drain_s: float  # bound on delivery after they stop

    @classmethod
    def of(cls, quick: bool) -> Counts:
        if quick:
            return cls(
                ingest_s=2,
                rounds=1,
                e2e_records=12_000,
                e2e_warmup=2_000,
                e2e_timeout_s=20,
                backlog_records=8_000,
                bus_s=2.5,
                bus_drain_s=15,
            )
        return cls(
            ingest_s=8,
            rounds=2,
            e2e_records=50_000,
            e2e_warmup=4_000,
            e2e_timeout_s=45,
            backlog_records=30_000,
            bus_s=8,
            bus_drain_s=30,
        )


@dataclass
class System:
    name: str  # as shown in the table
    url: str
    pid: int  # the server process, for its CPU time
    lamina: bool = False


def versus(value: float, peer_values: dict[str, float], what: str = "") -> str:
    """Lamina's row: its rate (or `what`) over each peer's."""
    parts = [
        f"{what}{factor_text(value / other)} {name.split()[0]}"
        for name, other in peer_values.items()
        if other and other == other and value == value
    ]
    return "; ".join(parts) if parts else "1x"


def run_time_s(pid: int) -> float:
    """CPU time of a live process's threads, from /proc/PID/task/*/schedstat (nanoseconds, where
    /proc/PID/stat counts whole clock ticks, 10 ms: too coarse for a sandbox that ran a few
    invocations)."""
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as handle:
                total += int(handle.read().split()[0])
    except (OSError, IndexError, ValueError):
        pass  # gone meanwhile
    return total / 1e9


def tree_cpu_s(pid: int) -> tuple[float, float]:
    """(the server process, everything below it: zygote, sandboxes), CPU seconds so far. The
    processes below are counted while alive: one that ended between two readings is missed."""
    rest = sum(run_time_s(child) for child in descendant_pids(pid, parent_map()))
    return server_cpu_s(pid), rest


def error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {str(error)[:200]}"


def random_key() -> str:
    return os.urandom(8).hex()


def record_data(put_time: float, index: int) -> bytes:
    """100 bytes whose first 17 are the put time (seconds since the epoch, 6 decimals)."""
    return f"{put_time:.6f} {index:012d} ".encode().ljust(RECORD_BYTES, b".")


# --- Kinesis helpers ----------------------------------------------------------------------------


def create_stream(kinesis, name: str, shards: int, timeout_s: float = 60.0) -> str:
    """Create the stream, wait until ACTIVE; returns its ARN."""
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        except kinesis.exceptions.ResourceNotFoundException:
            summary = {"StreamStatus": "CREATING"}
        if summary["StreamStatus"] == "ACTIVE":
            return summary["StreamARN"]
        if time.monotonic() > deadline:
            raise RuntimeError(f"stream {name} not ACTIVE within {timeout_s:.0f} s ({summary['StreamStatus']})")
        time.sleep(0.05)


def delete_stream(kinesis, name: str) -> None:
    try:
        kinesis.delete_stream(StreamName=name, EnforceConsumerDeletion=True)
    except Exception:  # noqa: BLE001 - tidying only
        pass


# --- 1. ingest -------------------------------------------------------------------------------------


@dataclass
class Ingest:
    records: int = 0  # accepted
    failed: int = 0  # refused within an accepted call (FailedRecordCount)
    failure_codes: set = field(default_factory=set)
    seconds: float = 0.0
    calls: Summary = field(default_factory=Summary)  # PutRecords, ms
    errors: list[str] = field(default_factory=list)
    client_cpu_s: float = 0.0
    server_cpu_s: float = 0.0

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else float("nan")

    def add(self, other: Ingest) -> None:
        self.records += other.records
        self.failed += other.failed
        self.failure_codes |= other.failure_codes
        self.seconds += other.seconds
        self.calls.samples.extend(other.calls.samples)
        self.errors.extend(other.errors)
        self.client_cpu_s += other.client_cpu_s
        self.server_cpu_s += other.server_cpu_s


def ingest(system: System, stream: str, window_s: float) -> Ingest:
    result = Ingest()
    lock = threading.Lock()
    start = threading.Barrier(PRODUCERS + 1)
    clock: dict[str, float] = {}

    def worker(index: int) -> None:
        client = boto3_client(system.url, "kinesis")
        # A few batches built ahead and put in turn, so the client spends its time in boto3
        # and the server, not in making keys; every batch has its own random keys.
        batches = [
            [
                {"Data": record_data(0.0, index * 10**9 + b * PUT_BATCH + i), "PartitionKey": random_key()}
                for i in range(PUT_BATCH)
            ]
            for b in range(8)
        ]
        samples, accepted, failed, codes = [], 0, 0, set()
        try:  # warm the connection and botocore's caches (untimed)
            client.put_records(StreamName=stream, Records=batches[0])
        except Exception as error:  # noqa: BLE001 - reported in the table
            with lock:
                result.errors.append(error_text(error))
        start.wait()
        try:
            deadline = clock["start"] + window_s
            for call in range(1_000_000):
                if time.monotonic() >= deadline:
                    break
                batch = batches[call % len(batches)]
                began = time.perf_counter()
                answer = client.put_records(StreamName=stream, Records=batch)
                samples.append((time.perf_counter() - began) * 1000)
                refused = answer.get("FailedRecordCount", 0)
                accepted += len(batch) - refused
                if refused:
                    failed += refused
                    codes.update(r.get("ErrorCode") for r in answer["Records"] if r.get("ErrorCode"))
        except Exception as error:  # noqa: BLE001
            with lock:
                result.errors.append(error_text(error))
        with lock:
            result.calls.samples.extend(samples)
            result.records += accepted
            result.failed += failed
            result.failure_codes |= codes

    workers = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(PRODUCERS)]
    for thread in workers:
        thread.start()
    cpu_before, server_before = time.process_time(), server_cpu_s(system.pid)
    clock["start"] = time.monotonic()
    start.wait()
    for thread in workers:
        thread.join(window_s + 60)
    result.seconds = time.monotonic() - clock["start"]
    result.client_cpu_s = time.process_time() - cpu_before
    result.server_cpu_s = server_cpu_s(system.pid) - server_before
    return result


def ingest_rows(systems: list[System], counts: Counts) -> list[Row]:
    """Every system and shard count in turn, `rounds` times over; each row sums its rounds."""
    results: dict[tuple[str, int], Ingest] = {}
    failures: dict[tuple[str, int], str] = {}
    streams: dict[tuple[str, int], str] = {}
    window_s = counts.ingest_s / counts.rounds
    for system in systems:
        kinesis = boto3_client(system.url, "kinesis")
        for shards in SHARD_COUNTS:
            name = f"ingest-{shards}-{uuid.uuid4().hex[:8]}"
            try:
                create_stream(kinesis, name, shards)
                streams[(system.name, shards)] = name
            except Exception as error:  # noqa: BLE001
                traceback.print_exc()
                failures[(system.name, shards)] = f"failed to create the stream: {error_text(error)}"
    for round_ in range(counts.rounds):
        for system in systems:
            for shards in SHARD_COUNTS:
                key = (system.name, shards)
                if key in failures:
                    continue
                log(
                    f"1: round {round_ + 1}/{counts.rounds}, {system.name}, {shards} shard(s) for {window_s:.1f} s "
                    f"(load {load()})"
                )
                try:
                    results.setdefault(key, Ingest()).add(ingest(system, streams[key], window_s))
                except Exception as error:  # noqa: BLE001
                    traceback.print_exc()
                    failures[key] = f"failed: {error_text(error)}"
    for system in systems:  # free the servers' memory and store for row 3
        kinesis = boto3_client(system.url, "kinesis")
        for shards in SHARD_COUNTS:
            if (system.name, shards) in streams:
                delete_stream(kinesis, streams[(system.name, shards)])

    rows = []
    for shards in SHARD_COUNTS:
        what = (
            f"Kinesis PutRecords ingest through boto3: {PUT_BATCH} records of {RECORD_BYTES} bytes a call, random "
            f"partition keys, {PRODUCERS} threads with a boto3 client each, stream of {shards} shard"
            f"{'s' if shards > 1 else ''} (p50/p99: one PutRecords)"
        )
        lamina = results.get(("Lamina", shards))
        for system in systems:
            key = (system.name, shards)
            if key in failures:
                rows.append(Row("1", what, system.name, extra=failures[key]))
                continue
            run = results[key]
            extra = (
                f"{rate(run.rate)} records/s, {run.rate * RECORD_BYTES / 1e6:.2f} MB/s; server CPU "
                f"{run.server_cpu_s * 1e6 / max(run.records, 1):.1f} ms per 1k records "
                f"({run.server_cpu_s / run.seconds:.2f} cores), client {run.client_cpu_s / run.seconds:.2f} cores"
            )
            if run.failed:
                extra += (
                    f"; {run.failed:,} records refused ({', '.join(sorted(run.failure_codes))}), "
                    f"{run.failed / (run.failed + run.records):.0%} of those put"
                )
            if run.errors:
                extra += f"; {len(run.errors)} errors, first: {run.errors[0][:150]}"
            if system.lamina:
                compare = versus(
                    run.rate,
                    {
                        s.name: results[(s.name, shards)].rate
                        for s in systems
                        if not s.lamina and (s.name, shards) in results
                    },
                )
            else:
                compare = peer_ratio(run.rate, lamina.rate if lamina else None)
            rows.append(
                Row("1", what, system.name, str(run.records), ms(run.calls.p50), ms(run.calls.p99), extra, "", compare)
            )
    return rows


# --- 2. Kinesis -> Lambda ------------------------------------------------------------------------


class Sink:
    """The UDP socket the counting function reports to: records handed over, per-batch latency."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.lock = threading.Lock()
        self.reached = threading.Event()
        self.arm(0)
        self.batches_total = 0  # every datagram since the function was created
        threading.Thread(target=self._receive, daemon=True).start()

    def arm(self, target: int) -> None:
        """Count from zero until `target` records have been handed to the function."""
        with self.lock:
            self.target = target
            self.records = 0
            self.batches = 0
            self.latency = Summary()
            self.first_at: float | None = None  # monotonic, the first datagram
            self.done_at: float | None = None
            self.reached.clear()

    def _receive(self) -> None:
        while True:
            try:
                datagram = self.sock.recv(256)
            except OSError:
                return
            now_wall, now = time.time(), time.monotonic()
            count, _, put_time = datagram.partition(b" ")
            with self.lock:
                if self.first_at is None:
                    self.first_at = now
                self.records += int(count)
                self.batches += 1
                self.batches_total += 1
                try:
                    self.latency.samples.append((now_wall - float(put_time)) * 1000)
                except ValueError:
                    pass
                if self.target and self.records >= self.target and self.done_at is None:
                    self.done_at = now
                    self.reached.set()

    def close(self) -> None:
        self.sock.close()


@dataclass
class Puts:
    records: int = 0
    resent: int = 0  # refused records put again
    calls: Summary = field(default_factory=Summary)
    first: float = 0.0  # monotonic, when the senders were released
    done: float = 0.0  # monotonic, when the last sender finished
    errors: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.records / (self.done - self.first) if self.done > self.first else float("nan")


def put_all(url: str, stream: str, total: int, timeout_s: float, clock: dict | None = None) -> Puts:
    """`total` records, PutRecords of 500 from PRODUCERS threads (each its own client);
    refused records are put again until accepted. Each record carries its put time. The
    moment the threads are released goes into `clock["first"]` too."""
    puts = Puts()
    lock = threading.Lock()
    start = threading.Barrier(PRODUCERS + 1)
    shares = [total // PRODUCERS + (1 if i < total % PRODUCERS else 0) for i in range(PRODUCERS)]

    def sender(index: int, share: int) -> None:
        client = boto3_client(url, "kinesis")
        client.describe_stream_summary(StreamName=stream)  # connect before the clock starts
        samples, accepted, resent = [], 0, 0
        start.wait()
        deadline = time.monotonic() + timeout_s
        try:
            pending: list[dict] = []
            made = 0
            while made < share or pending:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"putting took over {timeout_s:.0f} s")
                room = PUT_BATCH - len(pending)
                fresh = min(room, share - made)
                now = time.time()
                batch = pending + [
                    {"Data": record_data(now, index * 10**9 + made + i), "PartitionKey": random_key()}
                    for i in range(fresh)
                ]
                made += fresh
                began = time.perf_counter()
                answer = client.put_records(StreamName=stream, Records=batch)
                samples.append((time.perf_counter() - began) * 1000)
                if answer.get("FailedRecordCount"):
                    pending = [
                        entry for entry, result in zip(batch, answer["Records"], strict=True) if result.get("ErrorCode")
                    ]
                    resent += len(pending)
                    time.sleep(0.05)
                else:
                    pending = []
                accepted += len(batch) - len(pending)
        except Exception as error:  # noqa: BLE001
            with lock:
                puts.errors.append(error_text(error))
        with lock:
            puts.records += accepted
            puts.resent += resent
            puts.calls.samples.extend(samples)
            puts.done = max(puts.done, time.monotonic())

    workers = [threading.Thread(target=sender, args=(i, s), daemon=True) for i, s in enumerate(shares)]
    for thread in workers:
        thread.start()
    puts.first = time.monotonic()
    if clock is not None:
        clock["first"] = puts.first
    start.wait()
    for thread in workers:
        thread.join(timeout_s + 30)
    return puts


def metric(cloudwatch, function: str, name: str, statistic: str, since: dt.datetime) -> float | None:
    now = dt.datetime.now(dt.timezone.utc)
    answer = cloudwatch.get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName=name,
        Dimensions=[{"Name": "FunctionName", "Value": function}],
        StartTime=since - dt.timedelta(minutes=2),
        EndTime=now + dt.timedelta(minutes=2),
        Period=60,
        Statistics=[statistic],
    )
    points = [point[statistic] for point in answer.get("Datapoints", [])]
    if not points:
        return None
    return sum(points) if statistic == "Sum" else max(points)


def wait_mapping(lam, mapping: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        state = lam.get_event_source_mapping(UUID=mapping)["State"]
        if state == "Enabled":
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the event source mapping is {state}, not Enabled, after {timeout_s:.0f} s")
        time.sleep(0.05)


@dataclass
class StreamRun:
    total: int
    processed: int = 0  # records handed to the function (timed phase)
    done: bool = False
    seconds: float = float("nan")  # the clock's start until the N-th record reached the function (or the bound)
    first_s: float = float("nan")  # the clock's start until the first batch reached the function
    puts: Puts = field(default_factory=Puts)
    latency: Summary = field(default_factory=Summary)
    batches: int = 0  # timed
    batches_total: int = 0  # warm-up and timed
    warmup_s: float = 0.0
    server_cpu_s: float = 0.0
    sandbox_cpu_s: float = 0.0
    client_cpu_s: float = 0.0
    machine_busy_s: float = 0.0
    invocations: float | None = None
    peak_concurrency: float | None = None
    iterator_age_ms: float | None = None
    metrics_error: str = ""

    @property
    def rate(self) -> float:
        return min(self.processed, self.total) / self.seconds if self.seconds else float("nan")


class StreamToLambda:
    """A 4-shard stream, a counting function reporting to `sink`, and (once `map()` is called)
    a mapping between them: what rows 2a and 2b measure."""

    def __init__(self, system: System, sink: Sink, factor: int) -> None:
        self.system, self.sink, self.factor = system, sink, factor
        self.lam, self.kinesis = boto3_client(system.url, "lambda"), boto3_client(system.url, "kinesis")
        tag = uuid.uuid4().hex[:8]
        self.stream, self.function = f"e2e-pf{factor}-{tag}", f"count-pf{factor}-{tag}"
        self.since = dt.datetime.now(dt.timezone.utc)
        self.arn = create_stream(self.kinesis, self.stream, E2E_SHARDS)
        sink.arm(0)
        sink.batches_total = 0
        create_function(
            self.lam,
            self.function,
            COUNTING,
            memory_mb=MEMORY_MB,
            timeout_s=30,
            Environment={"Variables": {"BENCH_SINK": sink.address}},
        )
        self.mapping: str | None = None

    def map(self) -> None:
        self.mapping = self.lam.create_event_source_mapping(
            EventSourceArn=self.arn,
            FunctionName=self.function,
            BatchSize=E2E_BATCH,
            StartingPosition="TRIM_HORIZON",
            ParallelizationFactor=self.factor,
        )["UUID"]

    def measure(self, run: StreamRun, began: float, timeout_s: float, puts: dict | None = None) -> None:
        """Wait for the sink to reach its target (or the bound, or the puts to give up), then
        fill `run` with what the clock, the sink and /proc say; `began` is the clock's start."""
        sink, deadline = self.sink, began + timeout_s
        while time.monotonic() < deadline:
            if sink.reached.wait(0.05):
                run.done = True
                break
            given_up = (puts or {}).get("puts")
            if given_up is not None and given_up.errors and given_up.records < run.total:
                break  # the puts gave up: the rest will never come
        with sink.lock:
            run.processed, run.batches, run.latency = sink.records, sink.batches, sink.latency
            run.seconds = (sink.done_at if run.done else time.monotonic()) - began
            run.first_s = sink.first_at - began if sink.first_at else float("nan")

    def finish(self, run: StreamRun) -> None:
        """Delete the mapping, read the cross-checks from CloudWatch, delete the stream."""
        if self.mapping:
            try:
                self.lam.delete_event_source_mapping(UUID=self.mapping)
            except Exception:  # noqa: BLE001
                pass
        time.sleep(2.5)  # the engine flushes metrics each second
        with self.sink.lock:
            run.batches_total = self.sink.batches_total
        try:
            cloudwatch = boto3_client(self.system.url, "cloudwatch")
            run.invocations = metric(cloudwatch, self.function, "Invocations", "Sum", self.since)
            run.peak_concurrency = metric(cloudwatch, self.function, "ConcurrentExecutions", "Maximum", self.since)
            run.iterator_age_ms = metric(cloudwatch, self.function, "IteratorAge", "Maximum", self.since)
        except Exception as error:  # noqa: BLE001
            run.metrics_error = error_text(error)
        delete_stream(self.kinesis, self.stream)


def live(system: System, sink: Sink, factor: int, counts: Counts) -> StreamRun:
    """Row 2a: a warm mapping, then N records put; first put until the function has them all."""
    setup = StreamToLambda(system, sink, factor)
    run = StreamRun(counts.e2e_records)
    try:
        setup.map()
        wait_mapping(setup.lam, setup.mapping)
        # Untimed warm-up through the mapping: the runtime's zygote, instances, connections.
        began = time.monotonic()
        sink.arm(counts.e2e_warmup)
        warm = put_all(system.url, setup.stream, counts.e2e_warmup, 60)
        if warm.errors:
            raise RuntimeError(f"putting the warm-up records: {warm.errors[0]}")
        if not sink.reached.wait(60):
            raise RuntimeError(
                f"the function was handed {sink.records} of the {counts.e2e_warmup} warm-up records "
                f"within 60 s ({sink.batches} batches)"
            )
        run.warmup_s = time.monotonic() - began
        time.sleep(0.3)  # let stragglers (duplicates, if any) land before counting from zero

        sink.arm(run.total)
        cpu_before, busy_before = time.process_time(), machine_busy_s()
        server_before, sandbox_before = tree_cpu_s(system.pid)
        box: dict = {}
        thread = threading.Thread(
            daemon=True,
            target=lambda: box.update(
                puts=put_all(system.url, setup.stream, run.total, counts.e2e_timeout_s, clock=box)
            ),
        )
        thread.start()
        while "first" not in box and thread.is_alive():
            time.sleep(0.001)
        setup.measure(run, box.get("first", time.monotonic()), counts.e2e_timeout_s, box)
        server_after, sandbox_after = tree_cpu_s(system.pid)
        run.machine_busy_s = machine_busy_s() - busy_before
        run.client_cpu_s = time.process_time() - cpu_before
        run.server_cpu_s, run.sandbox_cpu_s = server_after - server_before, sandbox_after - sandbox_before
        thread.join(counts.e2e_timeout_s + 60)
        run.puts = box.get("puts") or run.puts
    finally:
        setup.finish(run)
    return run


def backlog(system: System, sink: Sink, factor: int, counts: Counts) -> StreamRun:
    """Row 2b: N records put first, then the mapping; CreateEventSourceMapping until the
    function has them all. The consumer side alone, cold starts included."""
    setup = StreamToLambda(system, sink, factor)
    run = StreamRun(counts.backlog_records)
    try:
        run.puts = put_all(system.url, setup.stream, run.total, counts.e2e_timeout_s)
        if run.puts.errors:
            raise RuntimeError(f"putting the backlog: {run.puts.errors[0]}")
        sink.arm(run.total)
        cpu_before, busy_before = time.process_time(), machine_busy_s()
        server_before, sandbox_before = tree_cpu_s(system.pid)
        began = time.monotonic()
        setup.map()
        setup.measure(run, began, counts.e2e_timeout_s)
        server_after, sandbox_after = tree_cpu_s(system.pid)
        run.machine_busy_s = machine_busy_s() - busy_before
        run.client_cpu_s = time.process_time() - cpu_before
        run.server_cpu_s, run.sandbox_cpu_s = server_after - server_before, sandbox_after - sandbox_before
    finally:
        setup.finish(run)
    return run


def stream_rows(results: dict[tuple[str, str, int], StreamRun | str], systems: list[str], counts: Counts) -> list[Row]:
    rows = []
    for kind in ("live", "backlog"):
        for factor in FACTORS:
            mapped = (
                f"mapped (BatchSize {E2E_BATCH}, TRIM_HORIZON, ParallelizationFactor {factor}) to a no-op "
                f"python3.12 function, {MEMORY_MB} MB"
            )
            if kind == "live":
                what = (
                    f"Kinesis -> Lambda end to end: {counts.e2e_records:,} records put (PutRecords of {PUT_BATCH}, "
                    f"{PRODUCERS} threads) to a {E2E_SHARDS}-shard stream {mapped}; first put until the function "
                    f"has every record (p50/p99: put of a batch's first record until the function started)"
                )
            else:
                what = (
                    f"Kinesis -> Lambda backlog: {counts.backlog_records:,} records in a {E2E_SHARDS}-shard "
                    f"stream, then CreateEventSourceMapping ({mapped.removeprefix('mapped (')}; until the "
                    f"function has every record (the consumer alone, cold starts included)"
                )
            section = "2a" if kind == "live" else "2b"
            lamina = results.get(("Lamina", kind, factor))
            lamina_rate = lamina.rate if isinstance(lamina, StreamRun) and lamina.done else None
            for name in systems:
                run = results.get((name, kind, factor))
                if run is None:
                    continue
                if isinstance(run, str):
                    rows.append(Row(section, what, name, extra=run))
                    continue
                rows.append(stream_row(section, what, name, run, kind, counts, results, lamina_rate, factor))
    return rows


def stream_row(
    section: str,
    what: str,
    name: str,
    run: StreamRun,
    kind: str,
    counts: Counts,
    results: dict,
    lamina_rate: float | None,
    factor: int,
) -> Row:
    start = "the first put" if kind == "live" else "CreateEventSourceMapping"
    state = (
        f"all {run.total:,} handed over {run.seconds:.2f} s after {start}"
        if run.done
        else f"NOT done within {counts.e2e_timeout_s:.0f} s: {run.processed:,} of {run.total:,} handed over"
    )
    if run.processed > run.total:
        state += f" ({run.processed - run.total:,} records more than once)"
    extra = f"{rate(run.rate)} records/s; {state}"
    if kind == "live":
        extra += f"; puts {rate(run.puts.rate)} records/s"
    else:
        extra += f"; the first batch {run.first_s * 1000:,.0f} ms after it"
    if run.puts.resent:
        extra += f" ({run.puts.resent:,} records refused and resent)"
    each = f"{run.processed / max(run.batches, 1):.0f} records each"
    if run.invocations is not None:
        extra += (
            f"; CloudWatch Invocations {run.invocations:.0f} vs {run.batches_total} batches reported by the "
            f"function ({run.batches} timed, {each})"
        )
    else:
        extra += (
            f"; {run.batches} timed batches ({each}); CloudWatch had no AWS/Lambda Invocations "
            f"({run.metrics_error or 'no datapoints'})"
        )
    if run.peak_concurrency is not None:
        extra += f"; peak ConcurrentExecutions {run.peak_concurrency:.0f}"
    if run.iterator_age_ms is not None:
        extra += f"; IteratorAge max {run.iterator_age_ms:,.0f} ms"
    per_k = 1e6 / max(min(run.processed, run.total), 1)
    below = "zygote and sandboxes" if name == "Lamina" else "its child processes"
    extra += (
        f"; CPU per 1k records: server process {run.server_cpu_s * per_k:.0f} ms, {below} "
        f"{run.sandbox_cpu_s * per_k:.0f} ms; cores: server {run.server_cpu_s / run.seconds:.2f}, "
        f"client {run.client_cpu_s / run.seconds:.2f}, whole machine {run.machine_busy_s / run.seconds:.2f}"
    )
    if kind == "live":
        extra += f"; warm-up {counts.e2e_warmup:,} records, untimed ({run.warmup_s:.1f} s)"
    if run.puts.errors:
        extra += f"; put errors: {run.puts.errors[0][:150]}"
    target = ""
    if name == "Lamina":
        if kind == "live":
            met = run.done and run.rate >= E2E_TARGET
            target = (
                f"≥ {E2E_TARGET:,} records/s: {'met' if met else 'missed'} ({factor_text(run.rate / E2E_TARGET)} of it)"
            )
        compare = versus(
            run.rate,
            {
                n: r.rate
                for (n, k, f), r in results.items()
                if (k, f) == (kind, factor) and n != "Lamina" and isinstance(r, StreamRun)
            },
        )
    else:
        compare = peer_ratio(run.rate, lamina_rate)
    p50, p99 = (ms(run.latency.p50), ms(run.latency.p99)) if kind == "live" else ("", "")
    return Row(section, what, name, str(min(run.processed, run.total)), p50, p99, extra, target, compare)


# --- 3. EventBridge -> SQS -------------------------------------------------------------------------


@dataclass
class Bus:
    """A queue and a rule on the default bus that sends the benchmark's events to it."""

    url: str
    queue_url: str
    rule: str

    @classmethod
    def create(cls, system: System) -> Bus:
        sqs, events = boto3_client(system.url, "sqs"), boto3_client(system.url, "events")
        tag = uuid.uuid4().hex[:8]
        queue_url = sqs.create_queue(QueueName=f"bus-{tag}", Attributes={"VisibilityTimeout": "900"})["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        rule = f"bench-{tag}"
        rule_arn = events.put_rule(
            Name=rule,
            State="ENABLED",
            EventPattern=json.dumps(
                {"source": [SOURCE], "detail-type": [DETAIL_TYPE], "detail": {"kind": ["tick", "warm"]}}
            ),
        )["RuleArn"]
        # As on AWS, the queue lets EventBridge send from this rule (servers that do not check ignore it).
        sqs.set_queue_attributes(
            QueueUrl=queue_url,
            Attributes={
                "Policy": json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "events.amazonaws.com"},
                                "Action": "sqs:SendMessage",
                                "Resource": queue_arn,
                                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
                            }
                        ],
                    }
                )
            },
        )
        answer = events.put_targets(Rule=rule, Targets=[{"Id": "queue", "Arn": queue_arn}])
        if answer.get("FailedEntryCount"):
            raise RuntimeError(f"PutTargets failed: {answer['FailedEntries'][:1]}")
        return cls(system.url, queue_url, rule)

    def depth(self, client) -> int:
        """Messages in the queue, visible or not."""
        attributes = client.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def entries(kind: str, prefix: str, start: int) -> list[dict]:
    """One PutEvents call's entries; each Detail carries its put time and a unique key."""
    now = time.time()
    return [
        {
            "Source": SOURCE,
            "DetailType": DETAIL_TYPE,
            "Detail": json.dumps({"kind": kind, "n": f"{prefix}-{start + i}", "t": now, "note": "a small event"}),
        }
        for i in range(EVENTS_PER_CALL)
    ]


@dataclass
class Producers:
    accepted: int = 0  # PutEvents entries accepted
    refused: int = 0  # FailedEntryCount
    refusal_codes: set = field(default_factory=set)
    calls: Summary = field(default_factory=Summary)  # PutEvents, ms
    first: float = 0.0  # monotonic: producers released
    done: float = 0.0  # monotonic: the last PutEvents returned
    errors: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.accepted / (self.done - self.first) if self.done > self.first else float("nan")


def put_events_for(bus: Bus, window_s: float, pace: float | None = None) -> tuple[threading.Thread, Producers]:
    """PRODUCERS threads putting events for `window_s`: flat out, or `pace` events/s in all
    (each thread's calls on a fixed schedule, staggered). Returns once they are released."""
    result = Producers()
    lock = threading.Lock()
    start = threading.Barrier(PRODUCERS + 1)
    interval = PRODUCERS * EVENTS_PER_CALL / pace if pace else 0.0

    def producer(index: int) -> None:
        client = boto3_client(bus.url, "events")
        client.list_rules(NamePrefix=bus.rule)  # connect before the clock starts
        samples, accepted, refused, codes = [], 0, 0, set()
        start.wait()
        try:
            deadline = result.first + window_s
            for call in range(1_000_000):
                if interval:  # a server that cannot keep up gets the late calls back to back
                    due = result.first + interval * (call + index / PRODUCERS)
                    if due >= deadline:
                        break
                    time.sleep(max(0.0, due - time.monotonic()))
                if time.monotonic() >= deadline:
                    break
                batch = entries("tick", str(index), call * EVENTS_PER_CALL)
                began = time.perf_counter()
                answer = client.put_events(Entries=batch)
                samples.append((time.perf_counter() - began) * 1000)
                failed = answer.get("FailedEntryCount", 0)
                accepted += len(batch) - failed
                if failed:
                    refused += failed
                    codes.update(e.get("ErrorCode") for e in answer["Entries"] if e.get("ErrorCode"))
        except Exception as error:  # noqa: BLE001
            with lock:
                result.errors.append(f"PutEvents: {error_text(error)}")
        with lock:
            result.calls.samples.extend(samples)
            result.accepted += accepted
            result.refused += refused
            result.refusal_codes |= codes
            result.done = max(result.done, time.monotonic())

    workers = [threading.Thread(target=producer, args=(i,), daemon=True) for i in range(PRODUCERS)]
    for thread in workers:
        thread.start()
    result.first = time.monotonic()
    start.wait()

    def join() -> None:
        for thread in workers:
            thread.join(window_s + 60)

    joiner = threading.Thread(target=join, daemon=True)
    joiner.start()
    return joiner, result


def warm_up(bus: Bus, sqs) -> int:
    """Five untimed PutEvents calls; returns the queue's depth once all 50 have arrived."""
    events = boto3_client(bus.url, "events")
    for call in range(5):
        events.put_events(Entries=entries("warm", "w", call * EVENTS_PER_CALL))
    deadline = time.monotonic() + 20
    while (depth := bus.depth(sqs)) < 5 * EVENTS_PER_CALL:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{depth} of 50 warm-up events reached the queue within 20 s")
        time.sleep(0.02)
    return depth


@dataclass
class BusThroughput:
    puts: Producers
    in_queue: int  # timed events found in the queue
    all_in: bool
    seconds: float  # first put until the queue held them all (or the bound)
    after_last_put_s: float  # last PutEvents returned until the queue held them all
    server_cpu_s: float
    client_cpu_s: float

    @property
    def rate(self) -> float:
        return self.in_queue / self.seconds if self.seconds else float("nan")


def bus_throughput(system: System, counts: Counts) -> BusThroughput:
    """Flat out, nobody consuming: how fast does the bus fill the queue?"""
    bus = Bus.create(system)
    sqs = boto3_client(system.url, "sqs")
    baseline = warm_up(bus, sqs)
    cpu_before, server_before = time.process_time(), server_cpu_s(system.pid)
    joiner, puts = put_events_for(bus, counts.bus_s)
    in_queue, all_in, end = 0, False, time.monotonic() + counts.bus_s + counts.bus_drain_s
    while time.monotonic() < end:  # the depth, every 50 ms, until it holds every accepted event
        in_queue = bus.depth(sqs) - baseline
        if not joiner.is_alive() and in_queue >= puts.accepted:
            all_in = True
            break
        time.sleep(0.05)
    filled = time.monotonic()
    server_cpu = server_cpu_s(system.pid) - server_before
    client_cpu = time.process_time() - cpu_before
    joiner.join(60)
    return BusThroughput(puts, in_queue, all_in, filled - puts.first, filled - puts.done, server_cpu, client_cpu)


@dataclass
class BusLatency:
    puts: Producers
    delivered: int = 0  # distinct events received from the queue
    duplicates: int = 0
    latency: Summary = field(default_factory=Summary)  # put -> received, ms
    all_received: bool = False
    backlog: int = 0  # most messages seen waiting in the queue (sampled)
    errors: list[str] = field(default_factory=list)
    server_cpu_s: float = 0.0
    seconds: float = 0.0  # first put until the last event was received


def bus_latency(system: System, counts: Counts) -> BusLatency:
    """A steady BUS_PACE events/s, consumers long-polling: how long does an event take?"""
    bus = Bus.create(system)
    sqs = boto3_client(system.url, "sqs")
    warm_up(bus, sqs)
    run = BusLatency(Producers())
    lock = threading.Lock()
    seen: set[str] = set()
    stop = threading.Event()
    last_receive = [0.0]

    def consumer() -> None:
        client = boto3_client(system.url, "sqs")
        while not stop.is_set():
            try:
                messages = client.receive_message(
                    QueueUrl=bus.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
                ).get("Messages", [])
            except Exception as error:  # noqa: BLE001
                with lock:
                    run.errors.append(f"ReceiveMessage: {error_text(error)}")
                time.sleep(0.2)
                continue
            now_wall, now = time.time(), time.monotonic()
            if messages:  # deleted as a real consumer would, after the receive time was taken
                try:
                    client.delete_message_batch(
                        QueueUrl=bus.queue_url,
                        Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
                    )
                except Exception as error:  # noqa: BLE001
                    with lock:
                        run.errors.append(f"DeleteMessageBatch: {error_text(error)}")
            with lock:
                for message in messages:
                    detail = json.loads(message["Body"])["detail"]
                    if detail.get("kind") != "tick":
                        continue  # the warm-up's
                    if detail["n"] in seen:
                        run.duplicates += 1
                        continue
                    seen.add(detail["n"])
                    run.latency.samples.append((now_wall - detail["t"]) * 1000)
                    last_receive[0] = now
                run.delivered = len(seen)

    def watch() -> None:  # is the lag in delivery, or in our consumers? The queue's depth says.
        client = boto3_client(system.url, "sqs")
        while not stop.is_set():
            try:
                depth = int(
                    client.get_queue_attributes(QueueUrl=bus.queue_url, AttributeNames=["ApproximateNumberOfMessages"])[
                        "Attributes"
                    ]["ApproximateNumberOfMessages"]
                )
                run.backlog = max(run.backlog, depth)
            except Exception:  # noqa: BLE001 - a diagnostic only
                pass
            stop.wait(0.25)

    readers = [threading.Thread(target=consumer, daemon=True) for _ in range(CONSUMERS)]
    readers.append(threading.Thread(target=watch, daemon=True))
    for thread in readers:
        thread.start()
    try:
        time.sleep(0.3)  # the consumers are polling, and they have taken the warm-up's events
        server_before = server_cpu_s(system.pid)
        joiner, run.puts = put_events_for(bus, counts.bus_s, BUS_PACE)
        joiner.join(counts.bus_s + 60)
        deadline = time.monotonic() + counts.bus_drain_s
        while time.monotonic() < deadline:
            with lock:
                if run.delivered >= run.puts.accepted:
                    run.all_received = True
                    break
            time.sleep(0.02)
        run.server_cpu_s = server_cpu_s(system.pid) - server_before
        run.seconds = last_receive[0] - run.puts.first if last_receive[0] else float("nan")
    finally:
        stop.set()
        for thread in readers:
            thread.join(5)
    return run


def puts_text(puts: Producers) -> str:
    text = f"PutEvents accepted {rate(puts.rate)} events/s (p50 {ms(puts.calls.p50)} a call)"
    if puts.refused:
        text += f"; {puts.refused:,} entries refused ({', '.join(sorted(puts.refusal_codes))})"
    if puts.errors:
        text += f"; {len(puts.errors)} errors, first: {puts.errors[0][:150]}"
    return text


def bus_rows(
    throughput: dict[str, BusThroughput | str], latency: dict[str, BusLatency | str], counts: Counts
) -> list[Row]:
    rows = []
    what = (
        f"EventBridge PutEvents ({EVENTS_PER_CALL} entries a call, {PRODUCERS} threads, flat out for "
        f"{counts.bus_s:g} s) -> a rule -> an SQS target, nobody consuming; events/s from the first put until "
        f"the queue holds them all (p50/p99: one PutEvents)"
    )
    lamina = throughput.get("Lamina")
    for name, run in throughput.items():
        if isinstance(run, str):
            rows.append(Row("3a", what, name, extra=run))
            continue
        state = (
            f"all {run.in_queue:,} in the queue {run.seconds:.2f} s after the first put, "
            f"{run.after_last_put_s * 1000:,.0f} ms after the last put returned"
            if run.all_in
            else f"NOT all in the queue within {counts.bus_drain_s:.0f} s of the last put: "
            f"{run.puts.accepted - run.in_queue:,} missing"
        )
        extra = (
            f"{rate(run.rate)} events/s delivered; {state}; {puts_text(run.puts)}; server CPU "
            f"{run.server_cpu_s * 1e6 / max(run.in_queue, 1):.0f} ms per 1k events "
            f"({run.server_cpu_s / run.seconds:.2f} cores), client {run.client_cpu_s / run.seconds:.2f} cores"
        )
        if name == "Lamina":
            compare = versus(
                run.rate, {n: r.rate for n, r in throughput.items() if n != "Lamina" and isinstance(r, BusThroughput)}
            )
        else:
            compare = peer_ratio(run.rate, lamina.rate if isinstance(lamina, BusThroughput) else None)
        rows.append(
            Row("3a", what, name, str(run.in_queue), ms(run.puts.calls.p50), ms(run.puts.calls.p99), extra, "", compare)
        )

    what = (
        f"EventBridge -> SQS delivery latency at a steady {BUS_PACE:,} events/s (PutEvents of {EVENTS_PER_CALL} "
        f"from {PRODUCERS} threads on a schedule, {counts.bus_s:g} s), {CONSUMERS} consumer threads long-polling "
        f"(WaitTimeSeconds 1) and deleting (p50/p99: put time in the Detail until received)"
    )
    lamina = latency.get("Lamina")
    for name, run in latency.items():
        if isinstance(run, str):
            rows.append(Row("3b", what, name, extra=run))
            continue
        state = (
            "all received"
            if run.all_received
            else f"NOT all received within {counts.bus_drain_s:.0f} s of the last put: "
            f"{run.puts.accepted - run.delivered:,} missing"
        )
        extra = (
            f"{state}, the last {run.seconds:.2f} s after the first put; {puts_text(run.puts)}; at most "
            f"{run.backlog:,} messages waited in the queue (ApproximateNumberOfMessages every 0.25 s); server "
            f"CPU {run.server_cpu_s * 1e6 / max(run.delivered, 1):.0f} ms per 1k events, consumers' calls "
            f"included"
        )
        if run.duplicates:
            extra += f"; {run.duplicates} received twice"
        if run.errors:
            extra += f"; {len(run.errors)} errors, first: {run.errors[0][:150]}"
        if name == "Lamina":
            compare = versus(
                run.latency.p50,
                {n: r.latency.p50 for n, r in latency.items() if n != "Lamina" and isinstance(r, BusLatency)},
                "p50 ",
            )
        else:
            compare = peer_ratio(
                run.latency.p50, lamina.latency.p50 if isinstance(lamina, BusLatency) else None, "p50 "
            )
        rows.append(
            Row("3b", what, name, str(run.delivered), ms(run.latency.p50), ms(run.latency.p99), extra, "", compare)
        )
    return rows


# --- main ------------------------------------------------------------------------------------------


def main() -> int:
    parser = peer_arguments(__doc__, "shorter windows, fewer records (under ~2 minutes)")
    args = parser.parse_args()
    counts = Counts.of(args.quick)
    began = time.monotonic()
    print_header(args.quick)
    notes: list[Row] = []
    found = peers.find_peers(args.no_moto, args.no_ministack, notes, "1-3", "all rows")
    moto, ministack = found.moto, found.ministack
    moto_name, ministack_name = found.moto_name, found.ministack_name

    rows: dict[str, list[Row]] = {"1": [], "2": [], "3": []}
    sections: list[str] = []
    with Cleanup() as cleanup:
        work = scratch_dir(cleanup, "lamina-bench-streams-")

        # Rows 3 then 1 (which fills the stores with records): every server started at once, then
        # measured in turn; stopped before row 2, which gets fresh ones.
        with Cleanup() as servers:
            started = peers.start_all(
                servers,
                work,
                "lamina-ingest",
                found,
                lambda name, why: notes.append(Row("1, 3", "all rows", name, extra=why)),
            )
            systems = [System(name, url, pid, lamina=lamina) for name, url, pid, lamina in started]

            sections.append(f"3 {load()}")
            throughput: dict[str, BusThroughput | str] = {}
            latency: dict[str, BusLatency | str] = {}
            for system in systems:
                for results, measure, how in (
                    (throughput, bus_throughput, "flat out, nobody consuming"),
                    (latency, bus_latency, f"{BUS_PACE} events/s, consumed"),
                ):
                    log(f"3: {system.name}, EventBridge -> SQS for {counts.bus_s:g} s, {how} (load {load()})")
                    try:
                        results[system.name] = measure(system, counts)
                    except Exception as error:  # noqa: BLE001
                        traceback.print_exc()
                        results[system.name] = f"failed: {error_text(error)}"
            rows["3"] = bus_rows(throughput, latency, counts)

            sections.append(f"1 {load()}")
            if systems:
                rows["1"] = ingest_rows(systems, counts)

        # Row 2: a fresh server each, one sink for the counting functions.
        sections.append(f"2 {load()}")
        sink = Sink()
        cleanup.callback(sink.close)
        stream_results: dict[tuple[str, str, int], StreamRun | str] = {}
        moto_na: list[Row] = []
        kinds = (("live", live), ("backlog", backlog))
        names = ["Lamina"]
        e2e_systems: list[System] = []

        def not_measured(name: str, why: str) -> None:
            for kind, _ in kinds:
                for factor in FACTORS:
                    stream_results[(name, kind, factor)] = why

        try:
            server = LaminaServer(os.path.join(work, "lamina-e2e")).start(cleanup)
            e2e_systems.append(System("Lamina", server.url, server.process.pid, lamina=True))
        except Exception as error:  # noqa: BLE001
            traceback.print_exc()
            not_measured("Lamina", start_failure(error))
        if moto is not None:
            moto_na.append(
                Row(
                    "2a, 2b",
                    "Kinesis -> Lambda",
                    moto_name,
                    extra=(
                        "n/a: moto runs Lambda functions (and so its Kinesis event source mappings, "
                        "which it invokes inside PutRecords) in Docker containers, "
                        "and this machine has no Docker daemon"
                    ),
                )
            )
        if ministack is not None:
            names.append(ministack_name)
            try:
                url, process = start_ministack(cleanup, ministack, scratch_dir(cleanup, "ministack-e2e-"))
                e2e_systems.append(System(ministack_name, url, process.pid))
            except Exception as error:  # noqa: BLE001
                traceback.print_exc()
                not_measured(ministack_name, start_failure(error))
        for system in e2e_systems:
            for kind, measure in kinds:
                for factor in FACTORS:
                    log(f"2: {system.name}, Kinesis -> Lambda, {kind}, ParallelizationFactor {factor} (load {load()})")
                    try:
                        stream_results[(system.name, kind, factor)] = measure(system, sink, factor, counts)
                    except Exception as error:  # noqa: BLE001
                        traceback.print_exc()
                        stream_results[(system.name, kind, factor)] = f"failed: {error_text(error)}"
        rows["2"] = stream_rows(stream_results, names, counts) + moto_na

    table = Table()
    for section in ("1", "2", "3"):
        for row in rows[section]:
            table.add(row)
    for row in notes:
        table.add(row)
    print(table.markdown())
    print()
    if ministack is not None:
        print(
            f"Note: {ministack_name} accepts ParallelizationFactor but ignores it: one poller thread hands one "
            "batch at a time to the function, for every shard of every Kinesis mapping in turn."
        )
    print(
        f"Took {time.monotonic() - began:.0f} s; load average at end {load()}; at the start of each section: "
        f"{', '.join(sections)}."
    )
    if note := LaminaServer.leftovers_note():
        print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
