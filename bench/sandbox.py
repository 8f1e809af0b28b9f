"""Sandbox benchmark: warm and cold invokes, SnapStart, instance creation rate, idle memory.

    .venv/bin/python bench/sandbox.py [--quick] [--no-ministack]

Starts everything it measures on loopback (Lamina, a bare uvicorn "hello" app, MiniStack)
in this one run, and prints the machine and one markdown table. `--quick` takes under
~2 minutes with fewer samples; the full run stays under ~10 minutes.

Rows (see docs/benchmarks.md for how to read them):
 1  warm sync invoke of a no-op handler, MemorySize 1769 and 128: (a) a lean client
    replaying one pre-signed request over a keep-alive http.client connection, beside a
    bare uvicorn+uvloop+httptools "hello" app measured the same way; (b) boto3.
 2  cold start: UpdateFunctionConfiguration (untimed) before each Invoke, so every
    sample is a new instance; Init Duration from the REPORT line (LogType=Tail). Beside
    it: a fresh `python -c "import app; app.handler({}, None)"` and python-lambda-local.
 2b cold start of a handler whose init imports boto3 and creates an S3 and a DynamoDB
    client (what most real functions do), 128 MB and 1769 MB, beside a fresh python3.12
    process doing the same imports and clients.
 3  MiniStack, the same warm and cold invokes through boto3 (and the lean client).
 4  SnapStart (python3.12, a handler importing heavy modules): restore-based cold starts
    of a published version against cold starts of the same code without SnapStart.
 5  instance creation rate: 200 concurrent requests to a cold function sleeping 1 s.
 6  PSS of an idle warm instance (relay outside the PID namespace + PID 1 inside).
 7  Node.js (the newest nodejsNN.x this host has node for): warm and cold invoke of a
    no-op handler, 1769 MB, lean client, as rows 1a and 2 measure Python; beside a bare
    `node -e 0` process start.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (  # noqa: E402
    Cleanup,
    LaminaServer,
    RawClient,
    Row,
    SignedRequest,
    Summary,
    Table,
    boto3_client,
    burst,
    children_of,
    cmdline,
    cpu_ms,
    create_function,
    descendant_pids,
    invoke_request,
    json_body,
    lamina_revision,
    log,
    log_text,
    machine_line,
    make_zip,
    memory_kb,
    ministack_python,
    ms,
    parent_map,
    ratio,
    report_fields,
    scratch_dir,
    start_ministack,
    start_uvicorn_hello,
    time_calls,
    wait_active,
)

NOOP = "def handler(e, c):\n    return e\n"

# The no-op handler of row 6: returns the event; sleeps first only when asked to (to hold
# 20 instances busy at once while they are created). `time` is preloaded by the zygote.
NOOP_HOLDABLE = """
import time

def handler(e, c):
    if isinstance(e, dict) and e.get("hold"):
        time.sleep(e["hold"])
    return e
"""

HEAVY = """
import os
import time

_started = time.perf_counter()
import json, decimal, email, http.client, email.mime.multipart, xml.dom.minidom, asyncio
import urllib.request, logging.handlers, xml.etree.ElementTree, sqlite3, csv, zipfile, tarfile
import concurrent.futures, argparse, pathlib, statistics, fractions, difflib, unittest.mock, ssl
IMPORT_MS = (time.perf_counter() - _started) * 1000


def handler(event, context):
    return {"import_ms": IMPORT_MS, "stream": context.log_stream_name}
"""

# Row 2b: the init most real functions have.
BOTO3_INIT = """
import boto3

s3 = boto3.client("s3")
dynamodb = boto3.client("dynamodb")


def handler(event, context):
    return {"s3": s3.meta.region_name, "dynamodb": dynamodb.meta.service_model.service_name}
"""

SLEEPER = """
import os
import time


def handler(event, context):
    entered = time.time()
    time.sleep(1)
    return {"entered": entered, "pid": os.getpid(), "stream": context.log_stream_name}
"""


@dataclass
class Counts:
    warm_raw: int
    warm_rounds: int
    warm_boto3: int
    cold_raw: int
    cold_boto3: int
    cold_128: int
    python_c: int
    lambda_local: int
    ms_warm: int
    ms_cold: int
    snap: int
    burst: int
    burst_rounds: int
    ms_burst: int
    instances: int
    budget_s: float  # per measurement loop, a hard stop

    @classmethod
    def of(cls, quick: bool) -> Counts:
        if quick:
            return cls(
                warm_raw=1500,
                warm_rounds=3,
                warm_boto3=400,
                cold_raw=60,
                cold_boto3=25,
                cold_128=25,
                python_c=20,
                lambda_local=4,
                ms_warm=40,
                ms_cold=6,
                snap=15,
                burst=200,
                burst_rounds=1,
                ms_burst=20,
                instances=20,
                budget_s=20,
            )
        return cls(
            warm_raw=6000,
            warm_rounds=6,
            warm_boto3=2000,
            cold_raw=500,
            cold_boto3=100,
            cold_128=100,
            python_c=100,
            lambda_local=20,
            ms_warm=300,
            ms_cold=30,
            snap=60,
            burst=200,
            burst_rounds=3,
            ms_burst=50,
            instances=20,
            budget_s=60,
        )


def verdict(value: float, limit: float, higher_is_better: bool = False) -> str:
    met = value >= limit if higher_is_better else value <= limit
    return "met" if met else "missed"


# --- 1. warm ---------------------------------------------------------------------------------


def bench_warm(table: Table, lamina: LaminaServer, client, hello_url: str, counts: Counts) -> dict:
    for name, memory in (("noop-1769", 1769), ("noop-128", 128)):
        create_function(client, name, NOOP, memory_mb=memory)
    targets = {
        "noop-1769": invoke_request(lamina.url, "noop-1769"),
        "noop-128": invoke_request(lamina.url, "noop-128"),
        # The same bytes to the hello app (it ignores path and headers): the same client cost.
        "hello": SignedRequest(
            hello_url,
            "POST",
            "/2015-03-31/functions/noop-1769/invocations",
            b"{}",
            {"Content-Type": "application/json", "X-Amz-Invocation-Type": "RequestResponse"},
        ),
    }
    clients = {key: RawClient(request.host, request.port) for key, request in targets.items()}
    results = {key: Summary() for key in targets}
    try:
        for key, request in targets.items():  # warm up: first instance, connections, caches
            for _ in range(200):
                status, _, body = clients[key].call(request)
            if status != 200:
                raise RuntimeError(f"warm-up of {key} answered {status}: {body[:200]!r}")
        # Interleaved blocks, so that drift and neighbours' load hit every target alike.
        block = max(1, counts.warm_raw // counts.warm_rounds)
        for _ in range(counts.warm_rounds):
            for key, request in targets.items():
                call = clients[key].call
                budget = counts.budget_s / counts.warm_rounds
                results[key].samples += time_calls(lambda: call(request), block, budget).samples  # noqa: B023 - time_calls() is done with the lambda within this iteration
    finally:
        for raw in clients.values():
            raw.close()
    hello = results["hello"]
    for key, memory in (("noop-1769", 1769), ("noop-128", 128)):
        s = results[key]
        table.add(
            Row(
                "1a",
                f"Warm invoke, no-op, {memory} MB, lean client (pre-signed, keep-alive)",
                "Lamina",
                str(s.n),
                ms(s.p50),
                ms(s.p99),
                f"mean {ms(s.mean)}",
                f"p50 ≤ 1 ms: {verdict(s.p50, 1.0)}; ≤ 3x hello: {verdict(s.p50 / hello.p50, 3.0)}",
                f"{ratio(s.p50, hello.p50)} uvicorn hello (p50)",
            )
        )
    table.add(
        Row(
            "1a",
            'Bare ASGI "hello", uvicorn + uvloop + httptools, same lean client',
            "uvicorn",
            str(hello.n),
            ms(hello.p50),
            ms(hello.p99),
            f"mean {ms(hello.mean)}",
            "floor",
            "1x",
        )
    )
    boto = {}
    for key, memory in (("noop-1769", 1769), ("noop-128", 128)):
        for _ in range(50):
            client.invoke(FunctionName=key, Payload=b"{}")
        s = boto[key] = time_calls(
            lambda: client.invoke(FunctionName=key, Payload=b"{}")["Payload"].read(),  # noqa: B023 - time_calls() is done with the lambda within this iteration
            counts.warm_boto3,
            counts.budget_s,
        )
        table.add(
            Row(
                "1b",
                f"Warm invoke, no-op, {memory} MB, boto3 invoke()",
                "Lamina",
                str(s.n),
                ms(s.p50),
                ms(s.p99),
                f"mean {ms(s.mean)}",
                "(as users see it)",
                f"{ratio(s.p50, results[key].p50)} lean client",
            )
        )
    return {"raw": results["noop-1769"], "boto3": boto["noop-1769"], "hello": hello}


# --- 2. cold ---------------------------------------------------------------------------------


def forced_cold(
    client, request: SignedRequest | None, name: str, count: int, budget_s: float, change: str = "Description"
) -> tuple[Summary, Summary, int]:
    """Per sample: UpdateFunctionConfiguration (untimed), then one timed Invoke with a log tail.
    Returns (latency, Init Duration, samples that were not cold)."""
    latency, init = Summary(), Summary()
    warm = 0
    raw = RawClient(request.host, request.port) if request is not None else None
    deadline = time.monotonic() + budget_s
    try:
        for i in range(count):
            if change == "Description":
                client.update_function_configuration(FunctionName=name, Description=f"cold sample {i} {time.time()}")
            else:  # MiniStack recycles its worker only on changes like these (not Description)
                client.update_function_configuration(
                    FunctionName=name, Environment={"Variables": {"SAMPLE": f"{i}-{time.time()}"}}
                )
            wait_active(client, name)
            started = time.perf_counter()
            if raw is not None:
                status, headers, body = raw.call(request)
                tail = headers.get("x-amz-log-result")
                if status != 200 or "x-amz-function-error" in headers:
                    raise RuntimeError(
                        f"cold invoke of {name} failed: {status} {body[:300]!r}; log: {log_text(tail)[-300:]!r}"
                    )
            else:
                response = client.invoke(FunctionName=name, Payload=b"{}", LogType="Tail")
                response["Payload"].read()
                tail = response.get("LogResult")
                if response.get("FunctionError"):
                    raise RuntimeError(f"cold invoke of {name} failed: {response}")
            elapsed = (time.perf_counter() - started) * 1000
            fields = report_fields(tail)
            if tail and "Init Duration" not in fields:
                warm += 1  # the server told us it was not a cold start: not a sample
                continue
            latency.samples.append(elapsed)
            if "Init Duration" in fields:
                init.samples.append(fields["Init Duration"])
            if time.monotonic() > deadline:
                break
    finally:
        if raw is not None:
            raw.close()
    return latency, init, warm


def bench_cold(table: Table, lamina: LaminaServer, client, counts: Counts, work: str) -> dict:
    create_function(client, "cold-1769", NOOP, memory_mb=1769)
    create_function(client, "cold-128", NOOP, memory_mb=128)
    client.invoke(FunctionName="cold-1769", Payload=b"{}")
    client.invoke(FunctionName="cold-128", Payload=b"{}")
    raw_1769, init_1769, warm = forced_cold(
        client, invoke_request(lamina.url, "cold-1769", tail=True), "cold-1769", counts.cold_raw, counts.budget_s
    )
    boto_1769, _, warm_b = forced_cold(client, None, "cold-1769", counts.cold_boto3, counts.budget_s)
    raw_128, init_128, warm_c = forced_cold(
        client, invoke_request(lamina.url, "cold-128", tail=True), "cold-128", counts.cold_128, counts.budget_s
    )
    peers = bench_cold_peers(counts, work)
    reference = peers.get("python -c")
    note = f" ({warm + warm_b + warm_c} samples dropped: not cold)" if warm + warm_b + warm_c else ""
    table.add(
        Row(
            "2",
            "Cold start, no-op, 1769 MB: Invoke round trip, lean client" + note,
            "Lamina",
            str(raw_1769.n),
            ms(raw_1769.p50),
            ms(raw_1769.p99),
            f"mean {ms(raw_1769.mean)}",
            f"p50 ≤ 15 ms: {verdict(raw_1769.p50, 15.0)}",
            f"{ratio(raw_1769.p50, reference.p50)} python -c" if reference and reference.n else "–",
        )
    )
    table.add(
        Row(
            "2",
            "… Init Duration from the REPORT line (same samples)",
            "Lamina",
            str(init_1769.n),
            ms(init_1769.p50),
            ms(init_1769.p99),
            f"mean {ms(init_1769.mean)}",
            "",
            "",
        )
    )
    table.add(
        Row(
            "2",
            "Cold start, no-op, 1769 MB: boto3 invoke()",
            "Lamina",
            str(boto_1769.n),
            ms(boto_1769.p50),
            ms(boto_1769.p99),
            f"mean {ms(boto_1769.mean)}",
            "(as users see it)",
            "",
        )
    )
    table.add(
        Row(
            "2",
            "Cold start, no-op, 128 MB (~0.07 vCPU): lean client",
            "Lamina",
            str(raw_128.n),
            ms(raw_128.p50),
            ms(raw_128.p99),
            f"Init Duration p50 {ms(init_128.p50)}",
            "",
            "",
        )
    )
    for label, summary in peers.items():
        if isinstance(summary, str):
            table.add(Row("2", f"Per-call process: {label}", "peer", "–", "–", "–", summary, "", ""))
            continue
        what = {
            "python -c": 'Fresh `python -c "import app; app.handler({}, None)"` per call',
            "python-lambda-local": "`python-lambda-local -f handler app.py event.json` per call",
        }[label]
        table.add(
            Row(
                "2",
                what,
                label if label != "python -c" else "CPython",
                str(summary.n),
                ms(summary.p50),
                ms(summary.p99),
                f"mean {ms(summary.mean)}",
                "",
                f"{ratio(summary.p50, raw_1769.p50)} Lamina cold",
            )
        )
    return {"raw": raw_1769, "boto3": boto_1769, "init": init_1769}


def bench_cold_boto3(table: Table, lamina: LaminaServer, client, counts: Counts) -> None:
    """Row 2b: cold starts of BOTO3_INIT at 128 and 1769 MB, and the same init in a fresh
    python3.12 process (what it costs without the zygote's preloaded SDK)."""
    results = {}
    for memory in (1769, 128):
        name = f"cold-boto3-{memory}"
        create_function(client, name, BOTO3_INIT, memory_mb=memory)
        client.invoke(FunctionName=name, Payload=b"{}")
        results[memory] = forced_cold(
            client, invoke_request(lamina.url, name, tail=True), name, counts.cold_128, counts.budget_s
        )
    fresh = Summary()
    python = subprocess.run(
        [sys.executable, "-m", "lamina.cli", "runtimes", "--json"], capture_output=True, text=True, check=True
    )
    interpreter = next(r["interpreter"] for r in json.loads(python.stdout) if r["runtime"] == "python3.12")
    packages = os.path.join(lamina.data_dir, "runtime", "python")
    script = (
        f"import sys; sys.path.append({packages!r}); import boto3; "
        "boto3.client('s3', region_name='us-east-1'); boto3.client('dynamodb', region_name='us-east-1')"
    )
    for _ in range(max(5, counts.cold_128 // 5)):
        started = time.perf_counter()
        subprocess.run([interpreter, "-I", "-S", "-c", script], check=True)
        fresh.samples.append((time.perf_counter() - started) * 1000)
    for memory, (latency, init, warm) in results.items():
        dropped = f" ({warm} dropped: not cold)" if warm else ""
        table.add(
            Row(
                "2b",
                f"Cold start, init imports boto3 + S3 and DynamoDB clients, {memory} MB: lean client" + dropped,
                "Lamina",
                str(latency.n),
                ms(latency.p50),
                ms(latency.p99),
                f"Init Duration p50 {ms(init.p50)}",
                f"p50 ≤ 30 ms: {verdict(latency.p50, 30.0)}",
                f"{ratio(latency.p50, fresh.p50)} fresh python3.12",
            )
        )
    table.add(
        Row(
            "2b",
            "Fresh python3.12 process: import boto3, create S3 and DynamoDB clients (no preload)",
            "CPython",
            str(fresh.n),
            ms(fresh.p50),
            ms(fresh.p99),
            f"mean {ms(fresh.mean)}",
            "",
            "",
        )
    )


def bench_cold_peers(counts: Counts, work: str) -> dict:
    folder = os.path.join(work, "percall")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "app.py"), "w") as handle:
        handle.write(NOOP)
    with open(os.path.join(folder, "event.json"), "w") as handle:
        handle.write("{}")
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    results: dict = {}

    def run(argv: list[str]) -> None:
        done = subprocess.run(
            argv, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30
        )
        if done.returncode != 0:
            raise RuntimeError(f"{argv[0]} exited with {done.returncode}")

    python_c = [sys.executable, "-c", "import app; app.handler({}, None)"]
    run(python_c)
    results["python -c"] = time_calls(lambda: run(python_c), counts.python_c, counts.budget_s)
    local = os.path.join(os.path.dirname(sys.executable), "python-lambda-local")
    if os.path.exists(local):
        argv = [local, "-f", "handler", "app.py", "event.json"]
        try:
            run(argv)
            results["python-lambda-local"] = time_calls(lambda: run(argv), counts.lambda_local, counts.budget_s)
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            results["python-lambda-local"] = f"did not run: {error}"
    else:
        results["python-lambda-local"] = "not installed (pip install -e '.[bench]')"
    return results


# --- 3. MiniStack ----------------------------------------------------------------------------


def bench_ministack(table: Table, counts: Counts, work: str, lamina: dict) -> None:
    python, why = ministack_python()
    if python is None:
        table.add(Row("3", "MiniStack (all rows)", "MiniStack", "–", "–", "–", f"not measured: {why}", "", ""))
        return
    with Cleanup() as section:
        try:
            url, process = start_ministack(section, python, scratch_dir(section, "lamina-bench-ministack-"))
        except RuntimeError as error:
            table.add(
                Row(
                    "3",
                    "MiniStack (all rows)",
                    "MiniStack",
                    "–",
                    "–",
                    "–",
                    f"did not start: {str(error)[:200]}",
                    "",
                    "",
                )
            )
            return
        version = subprocess.run(
            [python, "-c", "import importlib.metadata as m; print(m.version('ministack'))"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        system = f"MiniStack {version}"
        client = boto3_client(url)
        try:
            create_function(client, "noop-1769", NOOP, memory_mb=1769)
            first = client.invoke(FunctionName="noop-1769", Payload=b"{}")
            if first.get("FunctionError"):
                raise RuntimeError(first["Payload"].read()[:300])
        except Exception as error:  # a peer that cannot run here is a row that says why
            table.add(
                Row("3", "MiniStack (all rows)", system, "–", "–", "–", f"could not invoke: {error}"[:200], "", "")
            )
            return
        for _ in range(10):
            client.invoke(FunctionName="noop-1769", Payload=b"{}")["Payload"].read()
        warm = time_calls(
            lambda: client.invoke(FunctionName="noop-1769", Payload=b"{}")["Payload"].read(),
            counts.ms_warm,
            counts.budget_s,
        )
        table.add(
            Row(
                "3",
                "Warm invoke, no-op, 1769 MB, boto3 invoke()",
                system,
                str(warm.n),
                ms(warm.p50),
                ms(warm.p99),
                f"mean {ms(warm.mean)}",
                "",
                f"{ratio(warm.p50, lamina['warm']['boto3'].p50)} Lamina boto3",
            )
        )
        request = invoke_request(url, "noop-1769")
        raw = RawClient(request.host, request.port)
        try:
            status, _, body = raw.call(request)
            if status == 200:
                lean = time_calls(lambda: raw.call(request), counts.ms_warm, counts.budget_s)
                table.add(
                    Row(
                        "3",
                        "Warm invoke, no-op, 1769 MB, lean client",
                        system,
                        str(lean.n),
                        ms(lean.p50),
                        ms(lean.p99),
                        f"mean {ms(lean.mean)}",
                        "",
                        f"{ratio(lean.p50, lamina['warm']['raw'].p50)} Lamina lean",
                    )
                )
        finally:
            raw.close()
        # MiniStack keeps its worker across a Description change: change the environment instead.
        cold, init, _ = forced_cold(client, None, "noop-1769", counts.ms_cold, counts.budget_s, change="Environment")
        table.add(
            Row(
                "3",
                "Cold start, no-op, 1769 MB, boto3 invoke() (Environment changed before each)",
                system,
                str(cold.n),
                ms(cold.p50),
                ms(cold.p99),
                f"mean {ms(cold.mean)}; Init Duration "
                + ("not reported (no LogType=Tail)" if not init.n else ms(init.p50)),
                "",
                f"{ratio(cold.p50, lamina['cold']['boto3'].p50)} Lamina boto3",
            )
        )
        # Memory of its idle warm worker (a plain subprocess, so PSS ~ RSS).
        workers = [p for p in descendant_pids(process.pid) if "_worker" in cmdline(p)]
        if workers:
            pss = [memory_kb(p).get("Pss", 0) / 1024 for p in workers]
            table.add(
                Row(
                    "6",
                    "Idle warm worker PSS",
                    system,
                    str(len(pss)),
                    f"{sorted(pss)[len(pss) // 2]:.1f} MB",
                    f"{max(pss):.1f} MB",
                    "",
                    "",
                    f"{ratio(sorted(pss)[len(pss) // 2], lamina.get('pss_p50') or float('nan'))} Lamina",
                )
            )
        # Instance creation under a burst, fewer requests (each worker is a new interpreter).
        rate_rounds(
            table, client, url, counts.ms_burst, 1, system, timeout_s=120, target=False, reference=lamina.get("rate")
        )


# --- 4. SnapStart ----------------------------------------------------------------------------


def bench_snapstart(table: Table, counts: Counts, work: str) -> None:
    """On a server of its own whose idle instances are reaped after 0.2 s: every sample, taken
    after a pause, lands on a new instance (restored from the version's snapshot, or a plain
    cold start for the function without SnapStart); the log tail says which."""
    with Cleanup() as section:
        server = LaminaServer(os.path.join(work, "lamina-snap"), env={"LAMINA_IDLE_TIMEOUT": "0.2"}).start(section)
        client = boto3_client(server.url)
        create_function(
            client,
            "heavy-snap",
            HEAVY,
            memory_mb=1769,
            runtime="python3.12",
            SnapStart={"ApplyOn": "PublishedVersions"},
        )
        create_function(client, "heavy-plain", HEAVY, memory_mb=1769, runtime="python3.12")
        snap_version = client.publish_version(FunctionName="heavy-snap")["Version"]
        plain_version = client.publish_version(FunctionName="heavy-plain")["Version"]
        wait_active(client, "heavy-snap", snap_version)
        response = client.invoke(FunctionName="heavy-snap", Qualifier=snap_version, Payload=b"{}", LogType="Tail")
        body = json_body(response["Payload"].read())
        if response.get("FunctionError") or not isinstance(body, dict):
            table.add(Row("4", "SnapStart", "Lamina", "–", "–", "–", f"first invoke failed: {body}"[:200], "", ""))
            return
        import_ms = body.get("import_ms")
        targets = {
            "snap": (invoke_request(server.url, "heavy-snap", qualifier=snap_version, tail=True), "Restore Duration"),
            "plain": (invoke_request(server.url, "heavy-plain", qualifier=plain_version, tail=True), "Init Duration"),
        }
        latency = {key: Summary() for key in targets}
        phase = {key: Summary() for key in targets}
        warm = 0
        # The first invoke waited for the snapshot if it was not made yet (it is made in the
        # background at publish); go on once an invoke is served by a restore.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "Restore Duration" not in report_fields(response.get("LogResult")):
            time.sleep(0.35)
            response = client.invoke(FunctionName="heavy-snap", Qualifier=snap_version, Payload=b"{}", LogType="Tail")
            response["Payload"].read()
        deadline = time.monotonic() + counts.budget_s
        for _ in range(counts.snap):
            time.sleep(0.35)  # > idle timeout + reaper period: the previous instances are gone
            for key, (request, field) in targets.items():
                raw = RawClient(request.host, request.port)  # a new connection: the old one idled too
                started = time.perf_counter()
                status, headers, body = raw.call(request)
                elapsed = (time.perf_counter() - started) * 1000
                raw.close()
                if status != 200 or "x-amz-function-error" in headers:
                    raise RuntimeError(f"SnapStart sample of {key} failed: {status} {body[:300]!r}")
                fields = report_fields(headers.get("x-amz-log-result"))
                if field not in fields:
                    warm += 1
                    continue
                latency[key].samples.append(elapsed)
                phase[key].samples.append(fields[field])
            if time.monotonic() > deadline:
                break
    snap, plain = latency["snap"], latency["plain"]
    dropped = f" ({warm} dropped: not cold)" if warm else ""
    table.add(
        Row(
            "4",
            f"SnapStart cold start (restore of v{snap_version}), heavy-init handler, 1769 MB, lean client" + dropped,
            "Lamina",
            str(snap.n),
            ms(snap.p50),
            ms(snap.p99),
            f"mean {ms(snap.mean)}",
            "",
            f"{ratio(snap.p50, plain.p50)} without SnapStart",
        )
    )
    table.add(
        Row(
            "4",
            "… Restore Duration from the REPORT line",
            "Lamina",
            str(phase["snap"].n),
            ms(phase["snap"].p50),
            ms(phase["snap"].p99),
            f"mean {ms(phase['snap'].mean)}",
            "",
            "",
        )
    )
    table.add(
        Row(
            "4",
            "Same handler without SnapStart: cold start (published version, lean client)",
            "Lamina",
            str(plain.n),
            ms(plain.p50),
            ms(plain.p99),
            f"mean {ms(plain.mean)}",
            "",
            "1x",
        )
    )
    table.add(
        Row(
            "4",
            "… Init Duration from the REPORT line",
            "Lamina",
            str(phase["plain"].n),
            ms(phase["plain"].p50),
            ms(phase["plain"].p99),
            f"handler's imports took {ms(import_ms)} at snapshot" if import_ms is not None else "",
            "",
            "",
        )
    )


# --- 7. Node.js ------------------------------------------------------------------------------

NODE_NOOP = "exports.handler = async (event) => event;\n"


def bench_node(table: Table, lamina: LaminaServer, client, counts: Counts) -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "lamina.cli", "runtimes", "--json"], capture_output=True, text=True, check=True
    )
    found = [r for r in json.loads(listed.stdout) if r["runtime"].startswith("nodejs") and r.get("interpreter")]
    if not found:
        table.add(Row("7", "Node.js (all rows)", "Lamina", "–", "–", "–", "no node on this host", "", ""))
        return
    runtime, node = found[-1]["runtime"], found[-1]["interpreter"]
    for name in ("node-warm", "node-cold"):
        create_function(
            client, name, "", memory_mb=1769, runtime=runtime, Code={"ZipFile": make_zip({"app.js": NODE_NOOP})}
        )
    request = invoke_request(lamina.url, "node-warm")
    raw = RawClient(request.host, request.port)
    try:
        for _ in range(200):  # warm up: the instance, the connection
            status, _, body = raw.call(request)
        if status != 200:
            raise RuntimeError(f"warm-up of node-warm answered {status}: {body[:200]!r}")
        warm = time_calls(lambda: raw.call(request), counts.warm_raw // 2, counts.budget_s)
    finally:
        raw.close()
    client.invoke(FunctionName="node-cold", Payload=b"{}")  # the first: starts the pool of waiting nodes
    cold, init, not_cold = forced_cold(
        client, invoke_request(lamina.url, "node-cold", tail=True), "node-cold", counts.cold_128, counts.budget_s
    )
    bare = Summary()
    for _ in range(max(5, counts.python_c // 2)):
        started = time.perf_counter()
        subprocess.run([node, "-e", "0"], check=True)
        bare.samples.append((time.perf_counter() - started) * 1000)
    table.add(
        Row(
            "7",
            f"Node.js ({runtime}) warm invoke, no-op, 1769 MB, lean client",
            "Lamina",
            str(warm.n),
            ms(warm.p50),
            ms(warm.p99),
            f"mean {ms(warm.mean)}",
            f"p50 ≤ 1 ms: {verdict(warm.p50, 1.0)}",
            "",
        )
    )
    dropped = f" ({not_cold} dropped: not cold)" if not_cold else ""
    table.add(
        Row(
            "7",
            f"Node.js ({runtime}) cold start, no-op, 1769 MB, lean client" + dropped,
            "Lamina",
            str(cold.n),
            ms(cold.p50),
            ms(cold.p99),
            f"Init Duration p50 {ms(init.p50)}",
            f"p50 ≤ 60 ms: {verdict(cold.p50, 60.0)}",
            f"{ratio(cold.p50, bare.p50)} node -e 0",
        )
    )
    table.add(
        Row(
            "7",
            "Bare `node -e 0` process start",
            "Node.js",
            str(bare.n),
            ms(bare.p50),
            ms(bare.p99),
            f"mean {ms(bare.mean)}",
            "floor of exec per cold start",
            "1x",
        )
    )


# --- 5. instance creation rate ---------------------------------------------------------------


@dataclass
class Burst:
    rate: float  # distinct instances per second, until the last handler started
    instances: int
    last_ms: float
    starts: Summary  # per request: ms from sending until its handler started
    failures: list[str]


def measure_burst(url: str, function: str, count: int, timeout_s: float) -> Burst:
    """`count` concurrent invokes of a cold SLEEPER function; its handler reports when it
    started and in which instance (log stream, and pid for peers without PID namespaces)."""
    request = invoke_request(url, function, payload=b"{}")
    sent, results = asyncio.run(burst(request, count, timeout_s))
    entries, instances, failures = [], set(), []
    for status, body in results:
        document = json_body(body)
        if status == 200 and isinstance(document, dict) and "entered" in document:
            entries.append(document["entered"])
            instances.add((document["stream"], document.get("pid")))  # pid alone is 1 in a PID namespace
        else:
            failures.append(f"{status} {body[:120]!r}")
    if not entries:
        raise RuntimeError(f"no request of the burst succeeded: {failures[:1]}")
    last = max(entries) - sent
    return Burst(
        len(instances) / last if last > 0 else float("inf"),
        len(instances),
        last * 1000,
        Summary([(e - sent) * 1000 for e in entries]),
        failures,
    )


def rate_rounds(
    table: Table,
    client,
    url: str,
    count: int,
    rounds: int,
    system: str,
    timeout_s: float,
    target: bool,
    reference: float | None = None,
    lamina: LaminaServer | None = None,
) -> float | None:
    """`rounds` bursts, each on a new function (so every one starts cold); the median round is
    shown. For Lamina, also where the CPU went per new instance: the server (its event loop),
    the zygote (the forks) and the instances themselves (isolation setup, bootstrap, exit),
    the last counted once the zygote has reaped them."""
    measured: list[Burst] = []
    cpu = {"server": Summary(), "zygote": Summary(), "instance": Summary()}
    for round_ in range(rounds):
        name = f"sleeper-{round_}"
        create_function(client, name, SLEEPER, memory_mb=128, timeout_s=60)
        zygote = lamina.zygote_pid() if lamina else None
        before = (cpu_ms(lamina.process.pid), cpu_ms(zygote)) if zygote else None
        try:
            measured.append(measure_burst(url, name, count, timeout_s))
        finally:
            client.delete_function(FunctionName=name)  # its idle instances go with it
        time.sleep(1.0)
        if before and lamina.zygote_pid() == zygote:
            (server0, _), (zygote0, reaped0) = before
            (server1, _), (zygote1, reaped1) = cpu_ms(lamina.process.pid), cpu_ms(zygote)
            made = measured[-1].instances
            cpu["server"].samples.append((server1 - server0) / made)
            cpu["zygote"].samples.append((zygote1 - zygote0) / made)
            cpu["instance"].samples.append((reaped1 - reaped0) / made)
    ordered = sorted(measured, key=lambda b: b.rate)
    median = ordered[len(ordered) // 2]
    failures = sum(len(b.failures) for b in measured)
    note = f"; {failures} requests failed: {next(f for b in measured for f in b.failures)}" if failures else ""
    rounds_note = f"; rounds: {', '.join(f'{b.rate:.0f}' for b in measured)}/s" if len(measured) > 1 else ""
    if cpu["server"].n:
        rounds_note += (
            f"; CPU per new instance: server {cpu['server'].p50:.1f} ms, zygote "
            f"{cpu['zygote'].p50:.1f} ms, instance {cpu['instance'].p50:.1f} ms"
        )
    table.add(
        Row(
            "5",
            f"Instance creation rate: {count} concurrent requests to a cold function whose handler "
            "sleeps 1 s, 128 MB (p50/p99: time until a request's handler started)"
            + (f", median of {len(measured)} rounds" if len(measured) > 1 else ""),
            system,
            str(median.starts.n),
            ms(median.starts.p50),
            ms(median.starts.p99),
            (
                f"{median.rate:.0f} instances/s ({median.instances} instances, the last started after "
                f"{median.last_ms:.0f} ms){rounds_note}{note}"
            )[:400],
            f"≥ 200/s: {verdict(median.rate, 200, higher_is_better=True)}" if target else "",
            f"{ratio(median.rate, reference)} Lamina's rate" if reference else "",
        )
    )
    return median.rate


def bench_rate(table: Table, lamina: LaminaServer, client, counts: Counts) -> float | None:
    return rate_rounds(
        table, client, lamina.url, counts.burst, counts.burst_rounds, "Lamina", timeout_s=60, target=True, lamina=lamina
    )


# --- 6. memory -----------------------------------------------------------------------------


def bench_memory(table: Table, lamina: LaminaServer, client, counts: Counts) -> float | None:
    create_function(client, "idle-noop", NOOP_HOLDABLE, memory_mb=128)
    client.invoke(FunctionName="noop-1769", Payload=b"{}")  # the zygote is up
    zygote = lamina.zygote_pid()
    if zygote is None:
        table.add(Row("6", "Idle warm instance PSS", "Lamina", "–", "–", "–", "zygote process not found", "", ""))
        return None
    before = set(children_of(zygote))
    request = invoke_request(lamina.url, "idle-noop", payload=json.dumps({"hold": 0.5}).encode())
    _, results = asyncio.run(burst(request, counts.instances, 60))
    failures = [r for r in results if r[0] != 200]
    for _ in range(5):  # and a few plain no-op invokes, as warm instances see
        client.invoke(FunctionName="idle-noop", Payload=b"{}")
    time.sleep(1.0)
    parents = parent_map()
    relays = [pid for pid in children_of(zygote, parents) if pid not in before]
    per_instance, rss, uss, relay_pss, inside_pss, processes = [], [], [], [], [], 0
    for relay in relays:
        family = [relay] + sorted(descendant_pids(relay, parents))
        processes = max(processes, len(family))
        values = [memory_kb(pid) for pid in family]
        per_instance.append(sum(v.get("Pss", 0) for v in values) / 1024)
        rss.append(sum(v.get("Rss", 0) for v in values) / 1024)
        uss.append(sum(v.get("Uss", 0) for v in values) / 1024)
        relay_pss.append(values[0].get("Pss", 0) / 1024)
        inside_pss.append(sum(v.get("Pss", 0) for v in values[1:]) / 1024)
    if not per_instance:
        table.add(
            Row(
                "6",
                "Idle warm instance PSS",
                "Lamina",
                "–",
                "–",
                "–",
                f"no new instance processes found under the zygote ({len(failures)} requests failed)",
                "",
                "",
            )
        )
        return None
    s = Summary(per_instance)
    zygote_pss = memory_kb(zygote).get("Pss", 0) / 1024
    table.add(
        Row(
            "6",
            f"Idle warm instance PSS (relay + PID 1: {processes} processes), {len(relays)} warm "
            "instances of a no-op, 128 MB",
            "Lamina",
            str(s.n),
            f"{s.p50:.2f} MB",
            f"{s.p99:.2f} MB",
            f"mean {s.mean:.2f} MB (relay {Summary(relay_pss).p50:.2f} + PID 1 {Summary(inside_pss).p50:.2f}); "
            f"USS {Summary(uss).p50:.2f} MB, RSS {Summary(rss).p50:.1f} MB; zygote PSS {zygote_pss:.1f} MB",
            f"≤ 4 MB: {verdict(s.p50, 4.0)}",
            "",
        )
    )
    client.delete_function(FunctionName="idle-noop")
    return s.p50


# --- main ------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples: under ~2 minutes")
    parser.add_argument("--no-ministack", action="store_true", help="leave MiniStack out")
    args = parser.parse_args()
    counts = Counts.of(args.quick)
    started = time.monotonic()
    load_before = os.getloadavg()
    table = Table()
    results: dict = {}
    loads: list[str] = []  # the 1-minute load average as each section began
    print(f"Machine: {machine_line()}")
    print(f"Lamina: commit {lamina_revision()}")
    print(
        f"Date: {time.strftime('%Y-%m-%d %H:%M %Z')}; mode: {'quick' if args.quick else 'full'}; "
        f"load average at start {load_before[0]:.2f}",
        flush=True,
    )
    with Cleanup() as cleanup:
        work = scratch_dir(cleanup, "lamina-bench-")
        lamina = LaminaServer(os.path.join(work, "lamina")).start(cleanup)
        client = boto3_client(lamina.url)

        def run(section: str, title: str, measure, *args):
            """One section; if it fails, the table says so and the others still run."""
            log(f"{section}. {title}")
            loads.append(f"{section} {os.getloadavg()[0]:.1f}")
            try:
                return measure(*args)
            except Exception as error:  # noqa: BLE001 - reported in the table, with the traceback on stderr
                traceback.print_exc()
                log(f"Lamina's log, last lines:\n{lamina.log()[-1500:]}")
                table.add(
                    Row(section, title, "–", "–", "–", "–", f"failed: {type(error).__name__}: {error}"[:200], "", "")
                )
                return None

        def warm():
            with Cleanup() as section:
                return bench_warm(table, lamina, client, start_uvicorn_hello(section, work), counts)

        results["warm"] = run("1a", "warm invokes", warm)
        results["cold"] = run("2", "cold starts", bench_cold, table, lamina, client, counts, work)
        run("7", "Node.js", bench_node, table, lamina, client, counts)
        run("2b", "cold starts with boto3 at init", bench_cold_boto3, table, lamina, client, counts)
        results["pss_p50"] = run("6", "idle instance memory", bench_memory, table, lamina, client, counts)
        results["rate"] = run("5", "instance creation rate", bench_rate, table, lamina, client, counts)
        run("4", "SnapStart", bench_snapstart, table, counts, work)
        if args.no_ministack:
            table.add(Row("3", "MiniStack (all rows)", "MiniStack", "–", "–", "–", "left out (--no-ministack)", "", ""))
        elif results["warm"] and results["cold"]:
            run("3", "MiniStack", bench_ministack, table, counts, work, results)
        else:
            table.add(
                Row(
                    "3",
                    "MiniStack (all rows)",
                    "MiniStack",
                    "–",
                    "–",
                    "–",
                    "not run: Lamina's own warm or cold rows failed",
                    "",
                    "",
                )
            )
        log("stopping everything this run started")
    order = {"1a": 0, "1b": 1, "2": 2, "2b": 2.5, "3": 3, "4": 4, "5": 5, "6": 6, "7": 7}
    table.rows.sort(key=lambda row: order.get(row.section, 9))  # stable: keeps order within a section
    print()
    print(table.markdown())
    print()
    print(
        f"Took {time.monotonic() - started:.0f} s; load average at end {os.getloadavg()[0]:.2f} "
        f"(other processes on this machine share its {os.cpu_count()} cores); at the start of each "
        f"section: {', '.join(loads)}."
    )
    if note := LaminaServer.leftovers_note():
        print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
