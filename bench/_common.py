"""Shared helpers for the benchmarks in bench/: machines, servers, clients, numbers, tables.

Every benchmark starts what it measures itself, on loopback and free ports, and stops it
again: processes are registered with a `Cleanup` (an ExitStack) as they start. Numbers are
kept as plain lists of samples in milliseconds and summarised by `Summary`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import http.client
import io
import json
import math
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
import zipfile
from dataclasses import dataclass, field
from typing import ClassVar

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROLE = "arn:aws:iam::000000000000:role/lambda-role"
LAMBDA_TRUST = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
    '"Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'
)


def ensure_role(iam) -> None:
    """ROLE, the benchmarks' functions' execution role (allowed everything), if not there."""
    try:
        iam.get_role(RoleName="lambda-role")
    except iam.exceptions.NoSuchEntityException:
        iam.create_role(RoleName="lambda-role", AssumeRolePolicyDocument=LAMBDA_TRUST)
        iam.attach_role_policy(RoleName="lambda-role", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")


REGION = "us-east-1"
CREDENTIALS = ("test", "test")
LOOPBACK = "127.0.0.1"


# --- the machine ---------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = "unknown"
    try:
        with open("/proc/meminfo") as handle:
            kb = int(handle.readline().split()[1])
            memory = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "kernel": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "user": "root" if os.geteuid() == 0 else f"uid {os.geteuid()}",
    }


def machine_line() -> str:
    info = machine()
    return (
        f"CPU {info['cpu']}, {info['cores']} cores, {info['memory']} RAM, {info['kernel']}, "
        f"{info['python']}, running as {info['user']}"
    )


def peer_arguments(doc: str | None, quick_help: str) -> argparse.ArgumentParser:
    """The command line of a benchmark measured against its peers: its docstring's first
    paragraph, --quick, and --no-moto/--no-ministack to leave a peer out."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--no-moto", action="store_true", help="do not measure moto's server")
    parser.add_argument("--no-ministack", action="store_true", help="do not measure MiniStack")
    return parser


def print_header(quick: bool) -> None:
    """The lines every benchmark starts with: the machine, the commit, the date and mode."""
    print(f"Machine: {machine_line()}")
    print(f"Lamina: commit {lamina_revision()}")
    print(
        f"Date: {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC; mode: {'quick' if quick else 'full'}; "
        f"load average at start {os.getloadavg()[0]:.2f}"
    )
    print()


def start_failure(error: BaseException) -> str:
    """'failed to start: ...' with the first line of the error and the last of the server's log
    (where a traceback ends with the exception)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = lines[0] if lines else type(error).__name__
    if len(lines) > 1:
        text += f" ... {lines[-1]}"
    return f"failed to start: {text}"[:400]


def lamina_revision() -> str:
    """The commit being measured, and whether src/ differs from it."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "unknown (no git)"
    return (commit or "unknown") + (" + uncommitted changes in src/" if dirty else "")


# --- numbers -------------------------------------------------------------------------------


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile (no interpolation: p99 of 100 samples is the 99th)."""
    ordered = sorted(samples)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass
class Summary:
    samples: list[float] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.samples)

    @property
    def p50(self) -> float:
        return percentile(self.samples, 0.50)

    @property
    def p99(self) -> float:
        return percentile(self.samples, 0.99)

    @property
    def mean(self) -> float:
        return sum(self.samples) / len(self.samples) if self.samples else math.nan


def ms(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if value < 10:
        return f"{value:.3f} ms"
    if value < 100:
        return f"{value:.2f} ms"
    return f"{value:.1f} ms"


def ratio(value: float, reference: float) -> str:
    if not reference or math.isnan(reference) or math.isnan(value):
        return "–"
    factor = value / reference
    return f"{factor:.2f}x" if factor < 10 else f"{factor:.0f}x"


@dataclass
class Row:
    section: str
    what: str
    system: str
    n: str = ""
    p50: str = ""
    p99: str = ""
    extra: str = ""
    target: str = ""
    compare: str = ""


class Table:
    COLUMNS = ("#", "Measurement", "System", "n", "p50", "p99", "Mean / rate", "Target", "Ratio")

    def __init__(self) -> None:
        self.rows: list[Row] = []

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        return row

    def markdown(self) -> str:
        lines = ["| " + " | ".join(self.COLUMNS) + " |", "|" + "|".join("---" for _ in self.COLUMNS) + "|"]
        for row in self.rows:
            cells = (row.section, row.what, row.system, row.n, row.p50, row.p99, row.extra, row.target, row.compare)
            lines.append("| " + " | ".join(str(c).replace("|", "/").replace("\n", " ") for c in cells) + " |")
        return "\n".join(lines)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- processes -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def wait_http(url: str, process: subprocess.Popen | None, timeout_s: float = 30.0) -> None:
    """Until `url` answers (any HTTP status), or raise."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"exited with status {process.returncode} before answering on {url}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return
        except OSError as error:
            last = error
            time.sleep(0.05)
    raise RuntimeError(f"no answer on {url} within {timeout_s:.0f} s ({last})")


def stop_process(process: subprocess.Popen, timeout_s: float = 15.0) -> None:
    """SIGTERM, then SIGKILL: the process we started, and its process group if it leads one."""
    if process.poll() is not None:
        return
    try:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
    except ProcessLookupError:
        pass


def kill_pids(pids: set[int]) -> None:
    """Kill processes we started (found as descendants of ours) that outlived their parent."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


class Cleanup(contextlib.ExitStack):
    """Everything a benchmark started, stopped in reverse order on the way out."""

    def process(self, process: subprocess.Popen, descendants: bool = True) -> subprocess.Popen:
        def stop() -> None:
            family = descendant_pids(process.pid) if descendants else set()
            stop_process(process)
            time.sleep(0.2)
            kill_pids({pid for pid in family if _alive(pid)})

        self.callback(stop)
        return process


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


# --- /proc -----------------------------------------------------------------------------------


def parent_map() -> dict[int, int]:
    """{pid: ppid} for every process we can see."""
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        # The command name may contain spaces and parentheses: split after the last ')'.
        fields = stat.rsplit(")", 1)[1].split()
        parents[int(entry)] = int(fields[1])
    return parents


def children_of(pid: int, parents: dict[int, int] | None = None) -> list[int]:
    parents = parents if parents is not None else parent_map()
    return sorted(child for child, parent in parents.items() if parent == pid)


def descendant_pids(pid: int, parents: dict[int, int] | None = None) -> set[int]:
    parents = parents if parents is not None else parent_map()
    found, frontier = set(), [pid]
    while frontier:
        current = frontier.pop()
        for child in children_of(current, parents):
            if child not in found:
                found.add(child)
                frontier.append(child)
    return found


def cpu_ms(pid: int) -> tuple[float, float]:
    """(CPU time of the process itself, CPU time of its children it has waited for), in ms."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    tick_ms = 1000 / os.sysconf("SC_CLK_TCK")
    return ((int(fields[11]) + int(fields[12])) * tick_ms, (int(fields[13]) + int(fields[14])) * tick_ms)


def server_cpu_s(pid: int) -> float:
    """CPU seconds of a process and the children it has waited for."""
    own, children = cpu_ms(pid)
    return (own + children) / 1000


def machine_busy_s() -> float:
    """CPU seconds spent by everything on the machine (all CPUs, not idle, not iowait)."""
    with open("/proc/stat") as handle:
        fields = [int(v) for v in handle.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def load() -> str:
    return f"{os.getloadavg()[0]:.2f}"


def rate(value: float) -> str:
    return f"{value:,.0f}"


def factor_text(factor: float) -> str:
    if factor < 0.1:
        return f"{factor:.2g}x"
    return f"{factor:.2f}x" if factor < 10 else f"{factor:.0f}x"


def peer_ratio(value: float, reference: float | None, what: str = "") -> str:
    """A peer's row: its rate (or `what`) over Lamina's."""
    if not reference or value != value:
        return "–"
    return f"{what}{factor_text(value / reference)} Lamina"


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def memory_kb(pid: int) -> dict[str, int]:
    """Pss, Rss and the private (unique) set from /proc/PID/smaps_rollup, in kB."""
    values: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                parts = line.split()
                if len(parts) >= 3 and parts[-1] == "kB":
                    values[parts[0].rstrip(":")] = int(parts[1])
    except OSError:
        return {}
    values["Uss"] = values.get("Private_Clean", 0) + values.get("Private_Dirty", 0)
    return values


# --- Lamina ----------------------------------------------------------------------------------


def _own_cgroup(controller: str | None) -> str | None:
    """Our cgroup path in a v1 controller's hierarchy, or in the v2 tree (controller None)."""
    try:
        with open("/proc/self/cgroup") as handle:
            for line in handle:
                _, controllers, path = line.rstrip("\n").split(":", 2)
                if (controller is None and controllers == "") or controller in controllers.split(","):
                    return path
    except OSError:
        pass
    return None


def sweep_cgroups(server_pid: int) -> int:
    """Remove the per-instance cgroups a stopped Lamina server (pid `server_pid`) left behind,
    the way its successor would on start; returns how many there were. rmdir only: a group
    that still holds a process stays."""
    bases = []
    for controller in ("memory", "pids", "cpu"):
        own = _own_cgroup(controller)
        if own is not None:
            bases.append(os.path.join("/sys/fs/cgroup", controller, own.lstrip("/"), f"lamina-{server_pid}"))
    own = _own_cgroup(None)
    if own is not None:
        bases.append(os.path.join("/sys/fs/cgroup", own.lstrip("/"), f"lamina-{server_pid}"))
    left = 0
    for base in bases:
        if not os.path.isdir(base):
            continue
        children = [os.path.join(base, name) for name in os.listdir(base) if os.path.isdir(os.path.join(base, name))]
        left = max(left, len(children))
        for path in children + [base]:
            with contextlib.suppress(OSError):
                os.rmdir(path)
    return left


@dataclass
class LaminaServer:
    data_dir: str
    env: dict = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    # (server pid, per-instance cgroups it left behind after it stopped), for every server.
    leftovers: ClassVar[list[tuple[int, int]]] = []

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @classmethod
    def leftovers_note(cls) -> str:
        """The line a benchmark prints at its end if its servers left cgroups behind, else ""."""
        leaked = [count for _, count in cls.leftovers if count]
        if not leaked:
            return ""
        return (
            f"Note: after stopping, the Lamina servers had left {sum(leaked)} per-instance cgroups behind "
            f"({', '.join(str(c) for c in leaked)}); this benchmark removed them."
        )

    def start(self, cleanup: Cleanup) -> LaminaServer:
        os.makedirs(self.data_dir, exist_ok=True)
        env = dict(os.environ, LAMINA_LOG_LEVEL="warning", **self.env)

        def sweep() -> None:  # registered first, so it runs after the server has stopped
            if self.process is not None and self.process.poll() is not None:
                LaminaServer.leftovers.append((self.process.pid, sweep_cgroups(self.process.pid)))

        cleanup.callback(sweep)
        with open(os.path.join(self.data_dir, "server.log"), "ab") as log_file:
            self.process = cleanup.process(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "lamina.cli",
                        "serve",
                        "--host",
                        LOOPBACK,
                        "--port",
                        str(self.port),
                        "--data-dir",
                        self.data_dir,
                    ],
                    env=env,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    cwd=ROOT,
                )
            )
        try:
            wait_http(f"{self.url}/_lamina/health", self.process)
        except RuntimeError as error:
            raise RuntimeError(f"Lamina did not start: {error}\n{self.log()}") from None
        ensure_role(boto3_client(self.url, "iam"))
        return self

    def log(self) -> str:
        try:
            with open(os.path.join(self.data_dir, "server.log"), errors="replace") as handle:
                return handle.read()[-3000:]
        except OSError:
            return ""

    def zygote_pid(self) -> int | None:
        """The server's child running sandbox/guest/zygote.py (started on the first cold start)."""
        for child in children_of(self.process.pid):
            if "zygote.py" in cmdline(child):
                return child
        return None


def boto3_client(url: str, service: str = "lambda", pool: int = 10, read_timeout: float = 120.0):
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=CREDENTIALS[0],
        aws_secret_access_key=CREDENTIALS[1],
        config=Config(
            retries={"max_attempts": 1}, read_timeout=read_timeout, connect_timeout=5, max_pool_connections=pool
        ),
    )


def make_zip(files: dict[str, str]) -> bytes:
    """A deployment package from {path: source}; sources are dedented."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, content in files.items():
            info = zipfile.ZipInfo(path)
            info.external_attr = 0o755 << 16
            archive.writestr(info, textwrap.dedent(content).lstrip("\n"))
    return buffer.getvalue()


def create_function(
    client, name: str, source: str, memory_mb: int = 128, timeout_s: int = 30, runtime: str = "python3.12", **more
) -> dict:
    params = dict(
        FunctionName=name,
        Runtime=runtime,
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": source})},
        MemorySize=memory_mb,
        Timeout=timeout_s,
    )
    params.update(more)
    try:
        config = client.create_function(**params)
    except client.exceptions.ResourceConflictException:
        # botocore's legacy retry resent a create whose answer it lost: the function is there.
        config = client.get_function_configuration(FunctionName=name)
    wait_active(client, name)
    return config


def wait_active(client, name: str, qualifier: str | None = None, timeout_s: float = 60.0) -> None:
    """Until State is Active and the last update is done (both instant on Lamina)."""
    deadline = time.monotonic() + timeout_s
    extra = {"Qualifier": qualifier} if qualifier else {}
    while time.monotonic() < deadline:
        config = client.get_function_configuration(FunctionName=name, **extra)
        if config.get("State", "Active") == "Active" and config.get("LastUpdateStatus", "Successful") != "InProgress":
            return
        time.sleep(0.02)
    raise RuntimeError(f"{name} did not become Active within {timeout_s:.0f} s")


REPORT_FIELD = re.compile(r"^([A-Za-z ]+): ([\d.]+) ms$")


def log_text(log_tail_b64: str | None) -> str:
    """The text of a LogResult (base64 of the last 4 KB of the invocation's log)."""
    return base64.b64decode(log_tail_b64).decode(errors="replace") if log_tail_b64 else ""


def report_fields(log_tail_b64: str | None) -> dict[str, float]:
    """{'Duration': ..., 'Init Duration': ..., 'Restore Duration': ...} from a LogResult tail."""
    fields: dict[str, float] = {}
    for line in log_text(log_tail_b64).splitlines():
        if line.startswith("REPORT"):
            for part in line.split("\t"):  # "Duration: 1.00 ms", "Billed Duration: 1 ms", ...
                match = REPORT_FIELD.match(part.strip())
                if match:
                    fields[match.group(1)] = float(match.group(2))
    return fields


# --- a lean client: one pre-signed request, replayed over a keep-alive connection --------------


class SignedRequest:
    """An AWS request signed once with SigV4 and replayed as is, so the client spends nothing
    but the HTTP round trip (Lamina refuses a signature more than 15 minutes old: sign anew
    per section). `credentials`: (key, secret) or (key, secret, session token)."""

    def __init__(
        self,
        url: str,
        method: str,
        path: str,
        body: bytes = b"",
        headers: dict | None = None,
        service: str = "lambda",
        credentials: tuple[str, ...] = CREDENTIALS,
    ) -> None:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        request = AWSRequest(method=method, url=url.rstrip("/") + path, data=body, headers=dict(headers or {}))
        SigV4Auth(Credentials(*credentials), service, REGION).add_auth(request)
        prepared = request.prepare()
        self.method = method
        self.path = path
        self.body = body
        self.headers = {k: v for k, v in prepared.headers.items()}
        self.headers["Content-Length"] = str(len(body))
        host = url.split("://", 1)[1].split("/", 1)[0]
        self.host, _, port = host.partition(":")
        self.port = int(port or 80)

    def raw(self) -> bytes:
        """The whole request as bytes, for clients that write to sockets themselves."""
        head = f"{self.method} {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in self.headers.items() if k.lower() != "host")
        return head.encode() + b"\r\n" + self.body


def invoke_request(
    url: str,
    function: str,
    payload: bytes = b"{}",
    qualifier: str | None = None,
    tail: bool = False,
    credentials: tuple[str, ...] = CREDENTIALS,
) -> SignedRequest:
    path = f"/2015-03-31/functions/{function}/invocations"
    if qualifier:
        path += f"?Qualifier={qualifier}"
    headers = {"Content-Type": "application/json", "X-Amz-Invocation-Type": "RequestResponse"}
    if tail:
        headers["X-Amz-Log-Type"] = "Tail"
    return SignedRequest(url, "POST", path, payload, headers, credentials=credentials)


class RawClient:
    """http.client over one keep-alive connection; `call()` returns (status, headers, body)."""

    def __init__(self, host: str, port: int, timeout_s: float = 60.0) -> None:
        self.connection = http.client.HTTPConnection(host, port, timeout=timeout_s)
        self.connection.connect()
        self.connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def call(self, request: SignedRequest) -> tuple[int, dict, bytes]:
        self.connection.request(request.method, request.path, request.body, request.headers)
        response = self.connection.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body

    def close(self) -> None:
        self.connection.close()


def measure_calls(request: SignedRequest, count: int) -> Summary:
    """`count` calls of one signed request over one keep-alive connection, each timed (ms);
    anything but a 200 stops the run."""
    client = RawClient(request.host, request.port)
    summary = Summary()
    try:
        for _ in range(count):
            started = time.perf_counter()
            status, _, body = client.call(request)
            summary.samples.append((time.perf_counter() - started) * 1000)
            if status != 200:
                raise RuntimeError(f"{status}: {body[:300]!r}")
    finally:
        client.close()
    return summary


def time_calls(call, count: int, budget_s: float) -> Summary:
    """Run `call` up to `count` times (stopping early past `budget_s`); latency samples in ms."""
    summary = Summary()
    deadline = time.monotonic() + budget_s
    for _ in range(count):
        started = time.perf_counter()
        call()
        summary.samples.append((time.perf_counter() - started) * 1000)
        if time.monotonic() > deadline:
            break
    return summary


async def burst(request: SignedRequest, count: int, timeout_s: float) -> tuple[float, list[tuple[int, bytes]]]:
    """`count` concurrent requests, one connection each (connected before the clock starts).
    Returns (the wall-clock time the requests were sent, [(status, body)])."""

    async def connect():
        reader, writer = await asyncio.open_connection(request.host, request.port)
        writer.transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return reader, writer

    async def one(reader, writer, data: bytes) -> tuple[int, bytes]:
        writer.write(data)
        status_line = await reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        body = await reader.readexactly(length) if length else b""
        writer.close()
        return status, body

    connections = await asyncio.wait_for(asyncio.gather(*(connect() for _ in range(count))), timeout_s)
    data = request.raw()
    sent = time.time()
    results = await asyncio.wait_for(
        asyncio.gather(*(one(r, w, data) for r, w in connections), return_exceptions=True), timeout_s
    )
    out = []
    for result in results:
        out.append((0, repr(result).encode()) if isinstance(result, BaseException) else result)
    return sent, out


# --- peers ---------------------------------------------------------------------------------------


HELLO_ASGI = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while True:  # drain the body, as a real server would
        message = await receive()
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"5")]})
    await send({"type": "http.response.body", "body": b"hello"})
"""


def start_uvicorn_hello(cleanup: Cleanup, workdir: str) -> str:
    """A bare uvicorn (uvloop + httptools) serving a one-line ASGI app; returns its URL."""
    with open(os.path.join(workdir, "hello_asgi.py"), "w") as handle:
        handle.write(HELLO_ASGI)
    port = free_port()
    process = cleanup.process(
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "hello_asgi:app",
                "--host",
                LOOPBACK,
                "--port",
                str(port),
                "--loop",
                "uvloop",
                "--http",
                "httptools",
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            cwd=workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
    )
    url = f"http://{LOOPBACK}:{port}"
    wait_http(url + "/", process, timeout_s=20)
    return url


MINISTACK_VERSION = "1.5.33"


def peer_venv(directory: str, requirement: str, what: str, version: str = "") -> tuple[str | None, str]:
    """The Python of a private venv under ~/.cache/lamina-bench/<directory> holding
    `requirement`, made on first use (peers pin their own dependencies, so they stay out of
    Lamina's environment). The venv is remade when its marker does not hold `version`.
    Returns (python or None, why not)."""
    cache = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "lamina-bench")
    venv = os.path.join(cache, directory)
    python = os.path.join(venv, "bin", "python")
    marker = os.path.join(venv, ".installed")
    try:
        with open(marker) as handle:
            if handle.read().strip() == version:
                return python, ""
    except OSError:
        pass
    log(f"installing {requirement} into {venv} (once)")
    try:
        os.makedirs(cache, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", venv], check=True, capture_output=True, timeout=120)
        subprocess.run(
            [python, "-m", "pip", "install", "-q", requirement], check=True, capture_output=True, timeout=600
        )
    except subprocess.CalledProcessError as error:
        tail = (error.stderr or b"").decode(errors="replace").strip().splitlines()[-1:] or ["?"]
        return None, f"pip install {requirement.split('==')[0]} failed: {tail[0][:120]}"
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, f"could not install {what}: {error}"
    with open(marker, "w") as handle:
        handle.write(version)
    return python, ""


def ministack_python() -> tuple[str | None, str]:
    """A Python that can run MiniStack: $LAMINA_BENCH_MINISTACK_PYTHON, this one if it has
    ministack, or a private venv under ~/.cache/lamina-bench made on first use (MiniStack
    pins botocore exactly, so it does not go into Lamina's own environment).
    Returns (python or None, why not)."""
    override = os.environ.get("LAMINA_BENCH_MINISTACK_PYTHON")
    if override:
        return override, ""
    probe = subprocess.run([sys.executable, "-c", "import ministack"], capture_output=True)
    if probe.returncode == 0:
        return sys.executable, ""
    return peer_venv(f"ministack-{MINISTACK_VERSION}", f"ministack=={MINISTACK_VERSION}", "ministack")


def start_ministack(cleanup: Cleanup, python: str, workdir: str) -> tuple[str, subprocess.Popen]:
    port = free_port()
    env = dict(
        os.environ,
        GATEWAY_PORT=str(port),
        BIND_HOST=LOOPBACK,
        LOG_LEVEL="WARNING",
        TMPDIR=workdir,
        LAMBDA_EXECUTOR="local",
    )
    log_path = os.path.join(workdir, "ministack.log")
    with open(log_path, "ab") as log_file:
        process = cleanup.process(
            subprocess.Popen(
                [python, "-m", "ministack"],
                env=env,
                cwd=workdir,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        )
    url = f"http://{LOOPBACK}:{port}"
    try:
        wait_http(url + "/_ministack/health", process, timeout_s=60)
    except RuntimeError as error:
        with open(log_path, errors="replace") as handle:
            raise RuntimeError(f"{error}: {handle.read()[-500:]}") from None
    return url, process


def scratch_dir(cleanup: Cleanup, prefix: str) -> str:
    directory = tempfile.mkdtemp(prefix=prefix)
    cleanup.callback(lambda: subprocess.run(["rm", "-rf", directory], check=False))
    return directory


def json_body(body: bytes):
    try:
        return json.loads(body)
    except ValueError:
        return None
