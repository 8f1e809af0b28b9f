"""Queues: SQS round trips through boto3, and SQS -> Lambda end to end, beside moto's server
and MiniStack.

    .venv/bin/python bench/messaging.py [--quick] [--no-moto] [--no-ministack]

Starts everything it measures on loopback and free ports (Lamina servers, `python -m
moto.server` from its own venv under ~/.cache/lamina-bench/moto, MiniStack from its own
venv via bench/_common), in this one run, prints the machine and one markdown table, and
stops what it started. `--quick` takes under ~2 minutes; the full run stays under ~8.

Rows (see docs/benchmarks.md for how to read them):
 1  SQS round trip through boto3 on one queue: a loop of SendMessageBatch (10 messages),
    ReceiveMessage (MaxNumberOfMessages 10, WaitTimeSeconds 0) and DeleteMessageBatch of
    what came back; messages deleted per second, from one client and from 4 threads each
    with its own boto3 client, against Lamina, moto and MiniStack.
 2  SQS -> Lambda: N messages sent with SendMessageBatch from 4 threads as fast as they
    go, to a queue with an event source mapping (BatchSize 10) to a no-op python3.12
    function (MemorySize 1769); messages per second from the first send until the queue is
    drained (ApproximateNumberOfMessages and ...NotVisible both 0), cross-checked with
    CloudWatch AWS/Lambda Invocations (2a); the send phase's own rate (2b); the same sends to
    a queue nobody consumes, the send rate alone (2c); and a backlog queued first, then
    drained by a new mapping, which shows the consumer side alone: without ScalingConfig
    (2d) and with MaximumConcurrency 5 (2e).
"""

from __future__ import annotations

import datetime as dt
import os
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
    load,
    log,
    machine_busy_s,
    ms,
    peer_arguments,
    peer_ratio,
    print_header,
    rate,
    scratch_dir,
    server_cpu_s,
    start_ministack,
)

NOOP = "def handler(event, context):\n    return None\n"
MEMORY_MB = 1769
BATCH = 10
THREADS = 4
E2E_TARGET = 2000
CAPPED = 5  # the concurrency AWS starts an SQS mapping with
BODY = '{"order": %d, "note": "a small message of about a hundred bytes, as queues mostly carry"}'


@dataclass
class Counts:
    roundtrip_s: float  # timed window of each round-trip row, summed over its rounds
    rounds: int  # each system and client count in turn, this many times
    e2e_messages: int  # N sent to a mapped queue (and to an unconsumed one)
    e2e_timeout_s: float  # bound on each end-to-end, send-only and backlog run
    warmup_messages: int  # sent through the mapping (untimed) before the timed run
    backlog_messages: int  # queued before the mapping is created

    @classmethod
    def of(cls, quick: bool) -> Counts:
        if quick:
            return cls(
                roundtrip_s=3, rounds=2, e2e_messages=5000, e2e_timeout_s=30, warmup_messages=200, backlog_messages=1000
            )
        return cls(
            roundtrip_s=12, rounds=3, e2e_messages=20_000, e2e_timeout_s=90, warmup_messages=500, backlog_messages=3000
        )


@dataclass
class System:
    name: str  # as shown in the table
    url: str
    pid: int  # the server process, for its CPU time
    no_metrics: str = ""  # why CloudWatch has no Invocations for mapped invocations, if it has none


# --- 1. round trips --------------------------------------------------------------------------------


@dataclass
class RoundTrip:
    messages: int = 0  # deleted: the full round trip
    sent: int = 0
    seconds: float = 0.0
    loops: Summary = field(default_factory=Summary)  # one send+receive+delete loop, ms
    calls: dict[str, Summary] = field(
        default_factory=lambda: {"send": Summary(), "receive": Summary(), "delete": Summary()}
    )
    errors: list[str] = field(default_factory=list)
    client_cpu_s: float = 0.0
    server_cpu_s: float = 0.0
    machine_busy_s: float = 0.0  # all CPUs, everyone's

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else float("nan")

    def add(self, other: RoundTrip) -> None:
        self.messages += other.messages
        self.sent += other.sent
        self.seconds += other.seconds
        self.loops.samples.extend(other.loops.samples)
        for name, summary in other.calls.items():
            self.calls[name].samples.extend(summary.samples)
        self.errors.extend(other.errors)
        self.client_cpu_s += other.client_cpu_s
        self.server_cpu_s += other.server_cpu_s
        self.machine_busy_s += other.machine_busy_s


def roundtrip(system: System, threads: int, window_s: float) -> RoundTrip:
    setup = boto3_client(system.url, "sqs")
    queue_url = setup.create_queue(
        QueueName=f"rt-{threads}-{uuid.uuid4().hex[:8]}", Attributes={"VisibilityTimeout": "60"}
    )["QueueUrl"]
    result = RoundTrip()
    lock = threading.Lock()
    start = threading.Barrier(threads + 1)
    clock: dict[str, float] = {}

    def worker(index: int) -> None:
        client = boto3_client(system.url, "sqs")
        entries = [{"Id": str(i), "MessageBody": BODY % (index * 1000 + i)} for i in range(BATCH)]
        samples, sent, deleted = [], 0, 0
        calls: dict[str, list[float]] = {"send": [], "receive": [], "delete": []}

        def loop(timed: bool) -> tuple[int, int]:
            t0 = time.perf_counter()
            answer = client.send_message_batch(QueueUrl=queue_url, Entries=entries)
            if answer.get("Failed"):
                raise RuntimeError(f"SendMessageBatch failed: {answer['Failed'][:1]}")
            t1 = time.perf_counter()
            messages = client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=BATCH, WaitTimeSeconds=0).get(
                "Messages", []
            )
            t2 = time.perf_counter()
            if messages:
                answer = client.delete_message_batch(
                    QueueUrl=queue_url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
                )
                if answer.get("Failed"):
                    raise RuntimeError(f"DeleteMessageBatch failed: {answer['Failed'][:1]}")
                if timed:
                    calls["delete"].append((time.perf_counter() - t2) * 1000)
            if timed:
                calls["send"].append((t1 - t0) * 1000)
                calls["receive"].append((t2 - t1) * 1000)
            return BATCH, len(messages)

        try:
            for _ in range(3):  # warm the connection and botocore's caches
                loop(False)
        except Exception as error:  # noqa: BLE001 - reported in the table
            with lock:
                result.errors.append(f"{type(error).__name__}: {error}")
        start.wait()
        try:
            deadline = clock["start"] + window_s
            for _ in range(1_000_000):
                if time.monotonic() >= deadline:
                    break
                began = time.perf_counter()
                s, d = loop(True)
                samples.append((time.perf_counter() - began) * 1000)
                sent += s
                deleted += d
        except Exception as error:  # noqa: BLE001
            with lock:
                result.errors.append(f"{type(error).__name__}: {error}")
        with lock:
            result.loops.samples.extend(samples)
            for name, values in calls.items():
                result.calls[name].samples.extend(values)
            result.sent += sent
            result.messages += deleted

    workers = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
    for thread in workers:
        thread.start()
    cpu_before, server_before, busy_before = time.process_time(), server_cpu_s(system.pid), machine_busy_s()
    clock["start"] = time.monotonic()
    start.wait()
    for thread in workers:
        thread.join(window_s + 60)
    result.seconds = time.monotonic() - clock["start"]
    result.client_cpu_s = time.process_time() - cpu_before
    result.server_cpu_s = server_cpu_s(system.pid) - server_before
    result.machine_busy_s = machine_busy_s() - busy_before
    return result


def roundtrip_rows(table: Table, systems: list[System], rounds: int, window_s: float) -> None:
    """Every system and client count in turn, `rounds` times over (so a burst of load from
    elsewhere on the machine falls on all of them); each row sums its rounds."""
    results: dict[tuple[str, int], RoundTrip] = {}
    failures: dict[tuple[str, int], str] = {}
    for round_ in range(rounds):
        for system in systems:
            for threads in (1, THREADS):
                key = (system.name, threads)
                if key in failures:
                    continue
                log(
                    f"1: round {round_ + 1}/{rounds}, {system.name}, {threads} client(s) for {window_s:.1f} s "
                    f"(load {load()})"
                )
                try:
                    results.setdefault(key, RoundTrip()).add(roundtrip(system, threads, window_s))
                except Exception as error:  # noqa: BLE001
                    traceback.print_exc()
                    failures[key] = f"failed: {type(error).__name__}: {str(error)[:150]}"
    for threads in (1, THREADS):
        who = "1 client" if threads == 1 else f"{threads} threads, a boto3 client each"
        reference = results.get(("Lamina", threads))
        for system in systems:
            key = (system.name, threads)
            what = (
                f"SQS round trip through boto3: SendMessageBatch (10) + ReceiveMessage (10) + "
                f"DeleteMessageBatch, {who} (p50/p99: one loop)"
            )
            if key in failures:
                table.add(Row("1", what, system.name, extra=failures[key]))
                continue
            run = results[key]
            calls = ", ".join(f"{name} {ms(summary.p50)}" for name, summary in run.calls.items())
            extra = (
                f"{rate(run.rate)} msg/s (sent {rate(run.sent / run.seconds)}/s); p50 per call: {calls}; "
                f"CPU: server process {run.server_cpu_s / run.seconds:.2f} cores, client "
                f"{run.client_cpu_s / run.seconds:.2f}, whole machine {run.machine_busy_s / run.seconds:.2f}"
            )
            if run.errors:
                extra += f"; {len(run.errors)} errors, first: {run.errors[0][:120]}"
            compare = "1x" if system.name == "Lamina" else peer_ratio(run.rate, reference.rate if reference else None)
            table.add(
                Row("1", what, system.name, str(run.messages), ms(run.loops.p50), ms(run.loops.p99), extra, "", compare)
            )


# --- 2. end to end ---------------------------------------------------------------------------------


@dataclass
class Sends:
    messages: int = 0
    calls: Summary = field(default_factory=Summary)  # SendMessageBatch, ms
    first: float = 0.0  # monotonic, when the senders were released
    done: float = 0.0  # monotonic, when the last sender finished
    errors: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.messages / (self.done - self.first) if self.done > self.first else float("nan")


def send_all(
    url: str,
    queue_url: str,
    total: int,
    threads: int,
    finished: threading.Event | None = None,
    timeout_s: float = 120.0,
) -> Sends:
    """`total` messages in batches of 10 from `threads` threads, each with its own client."""
    sends = Sends()
    lock = threading.Lock()
    start = threading.Barrier(threads + 1)
    batches = total // BATCH
    shares = [batches // threads + (1 if i < batches % threads else 0) for i in range(threads)]

    def sender(index: int, share: int) -> None:
        client = boto3_client(url, "sqs")
        client.get_queue_url(QueueName=queue_url.rsplit("/", 1)[1])  # connect before the clock starts
        samples, sent = [], 0
        start.wait()
        deadline = time.monotonic() + timeout_s
        try:
            for batch in range(share):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"sending took over {timeout_s:.0f} s")
                entries = [
                    {"Id": str(i), "MessageBody": BODY % ((index * 1_000_000) + batch * BATCH + i)}
                    for i in range(BATCH)
                ]
                began = time.perf_counter()
                answer = client.send_message_batch(QueueUrl=queue_url, Entries=entries)
                samples.append((time.perf_counter() - began) * 1000)
                sent += len(answer.get("Successful", []))
                if answer.get("Failed"):
                    raise RuntimeError(f"SendMessageBatch failed: {answer['Failed'][:1]}")
        except Exception as error:  # noqa: BLE001
            with lock:
                sends.errors.append(f"{type(error).__name__}: {error}")
        with lock:
            sends.messages += sent
            sends.calls.samples.extend(samples)
            sends.done = max(sends.done, time.monotonic())

    workers = [threading.Thread(target=sender, args=(i, s), daemon=True) for i, s in enumerate(shares)]
    for thread in workers:
        thread.start()
    start.wait()
    sends.first = time.monotonic()
    if finished is not None:  # the caller watches the queue meanwhile

        def join() -> None:
            for thread in workers:
                thread.join(timeout_s + 30)
            finished.set()

        threading.Thread(target=join, daemon=True).start()
    else:
        for thread in workers:
            thread.join(timeout_s + 30)
    return sends


def queue_depth(client, queue_url: str) -> int:
    attributes = client.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def wait_drained(client, queue_url: str, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if queue_depth(client, queue_url) == 0:
            return True
        time.sleep(0.02)
    return False


def invocations(
    cloudwatch, function: str, since: dt.datetime, statistic: str = "Sum", metric: str = "Invocations"
) -> float | None:
    now = dt.datetime.now(dt.timezone.utc)
    answer = cloudwatch.get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName=metric,
        Dimensions=[{"Name": "FunctionName", "Value": function}],
        StartTime=since - dt.timedelta(minutes=2),
        EndTime=now + dt.timedelta(minutes=2),
        Period=60,
        Statistics=[statistic],
    )
    points = answer.get("Datapoints", [])
    if not points:
        return None
    values = [point[statistic] for point in points]
    return sum(values) if statistic == "Sum" else max(values)


@dataclass
class EndToEnd:
    sends: Sends
    drained: bool
    seconds: float  # first send until drained (or the timeout)
    left: int  # messages still in the queue at the end
    invocations: float | None
    peak_concurrency: float | None
    warmup_s: float
    server_cpu_s: float
    client_cpu_s: float
    machine_busy_s: float

    @property
    def processed(self) -> int:
        return self.sends.messages - self.left

    @property
    def rate(self) -> float:
        return self.processed / self.seconds if self.seconds else float("nan")


def create_mapping(lam, arn: str, function: str, max_concurrency: int | None = None) -> str:
    more = {"ScalingConfig": {"MaximumConcurrency": max_concurrency}} if max_concurrency else {}
    mapping = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=function, BatchSize=BATCH, **more)[
        "UUID"
    ]
    deadline = time.monotonic() + 30
    while lam.get_event_source_mapping(UUID=mapping)["State"] != "Enabled":
        if time.monotonic() > deadline:
            raise RuntimeError("the event source mapping did not become Enabled within 30 s")
        time.sleep(0.05)
    return mapping


def function_and_queue(system: System, prefix: str) -> tuple[str, str, str]:
    """A new no-op function and a new queue; returns (function, queue URL, queue ARN)."""
    lam, sqs = boto3_client(system.url, "lambda"), boto3_client(system.url, "sqs")
    function = f"{prefix}-{uuid.uuid4().hex[:8]}"
    create_function(lam, function, NOOP, memory_mb=MEMORY_MB, timeout_s=30)
    queue_url = sqs.create_queue(QueueName=f"q-{function}", Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return function, queue_url, arn


def end_to_end(system: System, total: int, warmup: int, timeout_s: float) -> EndToEnd:
    lam = boto3_client(system.url, "lambda")
    sqs = boto3_client(system.url, "sqs")
    cloudwatch = boto3_client(system.url, "cloudwatch")
    function, queue_url, arn = function_and_queue(system, "noop")
    mapping = create_mapping(lam, arn, function)

    # Untimed warm-up through the mapping: the runtime's zygote and a few instances.
    began = time.monotonic()
    send_all(system.url, queue_url, warmup, THREADS, timeout_s=60)
    if not wait_drained(sqs, queue_url, 60):
        raise RuntimeError(f"the {warmup} warm-up messages were not consumed within 60 s")
    warmup_s = time.monotonic() - began
    time.sleep(2.5)  # the engine flushes metrics each second
    since = dt.datetime.now(dt.timezone.utc)
    before = invocations(cloudwatch, function, since) or 0.0

    finished = threading.Event()
    cpu_before, server_before, busy_before = time.process_time(), server_cpu_s(system.pid), machine_busy_s()
    sends = send_all(system.url, queue_url, total, THREADS, finished=finished, timeout_s=timeout_s)
    drained, left = False, total
    end = sends.first + timeout_s
    for _ in range(100_000):
        if time.monotonic() > end:
            break
        sending = not finished.is_set()
        left = queue_depth(sqs, queue_url)
        if not sending and left == 0:
            drained = True
            break
        time.sleep(0.02)
    seconds = time.monotonic() - sends.first
    client_cpu = time.process_time() - cpu_before
    server_cpu = server_cpu_s(system.pid) - server_before
    busy = machine_busy_s() - busy_before
    finished.wait(30)
    if not drained:
        left = queue_depth(sqs, queue_url)
    lam.delete_event_source_mapping(UUID=mapping)  # stops the poller
    time.sleep(2.5)
    after = invocations(cloudwatch, function, since)
    peak = invocations(cloudwatch, function, since, "Maximum", "ConcurrentExecutions")
    return EndToEnd(
        sends,
        drained,
        seconds,
        left,
        None if after is None else after - before,
        peak,
        warmup_s,
        server_cpu,
        client_cpu,
        busy,
    )


@dataclass
class Backlog:
    messages: int
    drained: bool
    seconds: float  # CreateEventSourceMapping until drained (or the timeout)
    left: int
    invocations: float | None
    peak_concurrency: float | None
    server_cpu_s: float
    machine_busy_s: float

    @property
    def rate(self) -> float:
        return (self.messages - self.left) / self.seconds if self.seconds else float("nan")


def backlog(system: System, total: int, timeout_s: float, max_concurrency: int | None = None) -> Backlog:
    """`total` messages queued first; then a mapping to a new no-op function drains them."""
    lam, sqs = boto3_client(system.url, "lambda"), boto3_client(system.url, "sqs")
    cloudwatch = boto3_client(system.url, "cloudwatch")
    function, queue_url, arn = function_and_queue(system, "backlog")
    sends = send_all(system.url, queue_url, total, THREADS, timeout_s=timeout_s)
    if sends.errors:
        raise RuntimeError(f"filling the queue: {sends.errors[0]}")
    since = dt.datetime.now(dt.timezone.utc)
    server_before, busy_before = server_cpu_s(system.pid), machine_busy_s()
    began = time.monotonic()
    mapping = create_mapping(lam, arn, function, max_concurrency)
    drained = wait_drained(sqs, queue_url, timeout_s)
    seconds = time.monotonic() - began
    server_cpu = server_cpu_s(system.pid) - server_before
    busy = machine_busy_s() - busy_before
    left = 0 if drained else queue_depth(sqs, queue_url)
    lam.delete_event_source_mapping(UUID=mapping)
    time.sleep(2.5)
    return Backlog(
        sends.messages,
        drained,
        seconds,
        left,
        invocations(cloudwatch, function, since),
        invocations(cloudwatch, function, since, "Maximum", "ConcurrentExecutions"),
        server_cpu,
        busy,
    )


def send_alone(system: System, total: int, timeout_s: float) -> tuple[Sends, float, float, float]:
    """Returns (the sends, client CPU s, server CPU s, whole machine's CPU s)."""
    sqs = boto3_client(system.url, "sqs")
    queue_url = sqs.create_queue(QueueName=f"send-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    cpu_before, server_before, busy_before = time.process_time(), server_cpu_s(system.pid), machine_busy_s()
    sends = send_all(system.url, queue_url, total, THREADS, timeout_s=timeout_s)
    return (
        sends,
        time.process_time() - cpu_before,
        server_cpu_s(system.pid) - server_before,
        machine_busy_s() - busy_before,
    )


def invocation_check(count: float | None, processed: int, why: str = "") -> str:
    if count is None:
        return "CloudWatch had no AWS/Lambda Invocations for the function" + (f" ({why})" if why else "")
    if not count:
        return "CloudWatch Invocations 0"
    return (
        f"CloudWatch Invocations {count:.0f} (≥ {processed / BATCH:.0f} expected; "
        f"{processed / count:.1f} messages per batch)"
    )


def peak_text(peak: float | None) -> str:
    return "" if peak is None else f"; peak ConcurrentExecutions {peak:.0f}"


def e2e_rows(table: Table, system: System, counts: Counts, reference: dict[str, float]) -> None:
    total, timeout_s = counts.e2e_messages, counts.e2e_timeout_s
    lamina = system.name == "Lamina"

    def compare(key: str, value: float) -> str:
        if lamina:
            reference[key] = value
            return "1x"
        return peer_ratio(value, reference.get(key))

    log(f"2: {system.name}, {total} messages through SQS -> Lambda (load {load()})")
    try:
        run = end_to_end(system, total, counts.warmup_messages, timeout_s)
    except Exception as error:  # noqa: BLE001
        traceback.print_exc()
        table.add(
            Row(
                "2a",
                "SQS -> Lambda end to end",
                system.name,
                extra=f"failed: {type(error).__name__}: {str(error)[:200]}",
            )
        )
        run = None
    if run is not None:
        if run.drained:
            state = f"drained {run.seconds:.2f} s after the first send"
        else:
            state = f"NOT drained within {timeout_s:.0f} s: {run.left} messages left"
        check = invocation_check(run.invocations, run.processed, system.no_metrics)
        extra = (
            f"{rate(run.rate)} msg/s; {state}; {check}"
            f"{peak_text(run.peak_concurrency)}; CPU: server process {run.server_cpu_s / run.seconds:.2f} "
            f"cores, client {run.client_cpu_s / run.seconds:.2f}, whole machine "
            f"{run.machine_busy_s / run.seconds:.2f}; before it, {counts.warmup_messages} messages through the "
            f"mapping, untimed ({run.warmup_s:.1f} s)"
        )
        if run.sends.errors:
            extra += f"; send errors: {run.sends.errors[0][:120]}"
        met = run.drained and run.rate >= E2E_TARGET
        table.add(
            Row(
                "2a",
                f"SQS -> Lambda end to end: {total:,} messages sent with SendMessageBatch (10) from "
                f"{THREADS} threads to a queue mapped (BatchSize 10) to a no-op python3.12 function, "
                f"{MEMORY_MB} MB; first send until the queue is drained (p50/p99: one SendMessageBatch)",
                system.name,
                str(run.processed),
                ms(run.sends.calls.p50),
                ms(run.sends.calls.p99),
                extra,
                f"≥ {E2E_TARGET:,} msg/s: {'met' if met else 'missed'}" if lamina else "",
                compare("e2e", run.rate),
            )
        )
        sends = run.sends
        table.add(
            Row(
                "2b",
                "… the send phase of that run (the consumer running)",
                system.name,
                str(sends.messages),
                ms(sends.calls.p50),
                ms(sends.calls.p99),
                f"{rate(sends.rate)} msg/s over {sends.done - sends.first:.2f} s",
                "",
                compare("sending", sends.rate),
            )
        )

    log(f"2: {system.name}, {total} messages to a queue nobody consumes (load {load()})")
    try:
        sends, client_cpu, server_cpu, busy = send_alone(system, total, timeout_s)
        seconds = sends.done - sends.first
        extra = (
            f"{rate(sends.rate)} msg/s over {seconds:.2f} s; CPU: server process "
            f"{server_cpu / seconds:.2f} cores, client {client_cpu / seconds:.2f}, whole machine "
            f"{busy / seconds:.2f}"
        )
        if sends.errors:
            extra += f"; errors: {sends.errors[0][:120]}"
        table.add(
            Row(
                "2c",
                f"Send rate alone: the same {total:,} messages, {THREADS} threads, to a queue with no "
                "consumer (p50/p99: one SendMessageBatch)",
                system.name,
                str(sends.messages),
                ms(sends.calls.p50),
                ms(sends.calls.p99),
                extra,
                "",
                compare("send", sends.rate),
            )
        )
    except Exception as error:  # noqa: BLE001
        traceback.print_exc()
        table.add(Row("2c", "Send rate alone", system.name, extra=f"failed: {type(error).__name__}: {error}"))

    for label, size, cap in (("2d", counts.backlog_messages, None), ("2e", total, CAPPED)):
        how = "no ScalingConfig" if cap is None else f"ScalingConfig MaximumConcurrency {cap}"
        log(f"2: {system.name}, a backlog of {size} messages drained by a new mapping, {how} (load {load()})")
        try:
            drain = backlog(system, size, timeout_s, cap)
        except Exception as error:  # noqa: BLE001
            traceback.print_exc()
            table.add(
                Row(label, f"Backlog drain, {how}", system.name, extra=f"failed: {type(error).__name__}: {error}")
            )
            continue
        state = (
            f"drained {drain.seconds:.2f} s after CreateEventSourceMapping"
            if drain.drained
            else f"NOT drained within {timeout_s:.0f} s: {drain.left} left"
        )
        check = invocation_check(drain.invocations, drain.messages - drain.left, system.no_metrics)
        extra = (
            f"{rate(drain.rate)} msg/s; {state}; {check}{peak_text(drain.peak_concurrency)}; CPU: server "
            f"process {drain.server_cpu_s / drain.seconds:.2f} cores, whole machine "
            f"{drain.machine_busy_s / drain.seconds:.2f}"
        )
        table.add(
            Row(
                label,
                f"Backlog: {size:,} messages queued first, then CreateEventSourceMapping (BatchSize 10, "
                f"{how}) to a new no-op function, {MEMORY_MB} MB; until the queue is drained",
                system.name,
                str(drain.messages - drain.left),
                "",
                "",
                extra,
                "",
                compare(f"backlog-{cap}", drain.rate),
            )
        )


# --- main ------------------------------------------------------------------------------------------


def main() -> int:
    parser = peer_arguments(__doc__, "fewer messages, shorter windows (~1 minute)")
    args = parser.parse_args()
    counts = Counts.of(args.quick)
    began = time.monotonic()
    print_header(args.quick)
    table = Table()
    notes: list[Row] = []
    e2e_reference: dict[str, float] = {}
    found = peers.find_peers(args.no_moto, args.no_ministack, notes, "1", "SQS round trip")
    moto, ministack = found.moto, found.ministack

    with Cleanup() as cleanup:
        work = scratch_dir(cleanup, "lamina-bench-messaging-")

        # 1. Every server started at once, then measured in turn; stopped before part 2.
        with Cleanup() as servers:
            started = peers.start_all(
                servers,
                work,
                "lamina-rt",
                found,
                lambda name, why: notes.append(Row("1", "SQS round trip", name, extra=why)),
            )
            systems = [System(name, url, pid) for name, url, pid, _ in started]
            if systems:
                roundtrip_rows(table, systems, counts.rounds, counts.roundtrip_s / counts.rounds)

        # 2. A fresh server each.
        try:
            server = LaminaServer(os.path.join(work, "lamina-e2e")).start(cleanup)
            e2e_rows(table, System("Lamina", server.url, server.process.pid), counts, e2e_reference)
        except Exception as error:  # noqa: BLE001
            traceback.print_exc()
            table.add(Row("2", "SQS -> Lambda", "Lamina", extra=f"failed: {type(error).__name__}: {error}"[:300]))
        if moto is not None:
            table.add(
                Row(
                    "2",
                    "SQS -> Lambda end to end",
                    "moto",
                    extra="not measured: moto runs Lambda functions (and so event source mappings) in "
                    "Docker containers, and this machine has no Docker daemon",
                )
            )
        if ministack is not None:
            try:
                url, process = start_ministack(cleanup, ministack, scratch_dir(cleanup, "ministack-e2e-"))
                system = System(
                    found.ministack_name, url, process.pid, no_metrics="MiniStack publishes them for Invoke calls only"
                )
                e2e_rows(table, system, counts, e2e_reference)
            except Exception as error:  # noqa: BLE001
                traceback.print_exc()
                table.add(
                    Row("2", "SQS -> Lambda", "MiniStack", extra=f"failed: {type(error).__name__}: {error}"[:300])
                )

    for row in notes:
        table.add(row)
    print(table.markdown())
    print()
    print(f"Took {time.monotonic() - began:.0f} s; load average at end {load()}.")
    if note := LaminaServer.leftovers_note():
        print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
