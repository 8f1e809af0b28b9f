"""Settings, from command-line flags and LAMINA_* environment variables (flags win).

Every LAMINA_* variable the server honours is read here and nowhere else; the composition
root (app.py) hands each value to the part that uses it. (Inside a sandbox, the guest code
reads the function's own environment; the CLI's client commands find the server with
client_endpoint() below, and read the AWS_* client variables.)"""

from __future__ import annotations

import os
from dataclasses import dataclass, field


def _env_float_list(name: str, default: tuple[float, ...]) -> tuple[float, ...]:
    raw = os.environ.get(name)
    if not raw:
        return default
    return tuple(float(part) for part in raw.split(",") if part.strip())


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


def _http_workers(raw: str) -> int | None:
    return None if raw.strip().lower() == "auto" else int(raw or 0)


def _positive(name: str, value: float) -> float:
    if value <= 0:
        raise ValueError(f"{name} must be positive")
    return value


def _scheduler_speedup() -> float:
    raw = os.environ.get("LAMINA_SCHEDULER_SPEEDUP", "").strip()
    try:
        value = float(raw) if raw else 1.0
    except ValueError:
        raise ValueError(f"LAMINA_SCHEDULER_SPEEDUP must be a number, not {raw!r}") from None
    return _positive("LAMINA_SCHEDULER_SPEEDUP", value)


def _interpreters() -> dict[str, str]:
    """LAMINA_PYTHON3_12=/path/to/python3.12, LAMINA_NODEJS_20=/path/to/node: the interpreter
    a language runtime runs on, where discovery (engine/runtimes.py) should not choose."""
    chosen: dict[str, str] = {}
    for name, value in os.environ.items():
        if not value.strip():
            continue
        if name.startswith("LAMINA_PYTHON3_") and name[15:].isdigit():
            chosen[f"python3.{int(name[15:])}"] = value.strip()
        elif name.startswith("LAMINA_NODEJS_") and name[14:].isdigit():
            chosen[f"nodejs{int(name[14:])}.x"] = value.strip()
    return chosen


def version() -> str:
    """Lamina's version, as installed (`lamina --version`, the health endpoints, the page at /)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("lamina")
    except PackageNotFoundError:
        return "unknown"


DEFAULT_PORT = 4566
DEFAULT_ENDPOINT = f"http://127.0.0.1:{DEFAULT_PORT}"


def _local_host(host: str) -> str:
    """Where this machine reaches a server listening on `host`."""
    host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"[{host}]" if ":" in host else host


def client_endpoint(endpoint: str | None = None, port: int | None = None) -> str:
    """The server a client command talks to: --endpoint, else --port, else LAMINA_ENDPOINT,
    else LAMINA_PORT (on LAMINA_HOST), else http://127.0.0.1:4566. So a shell that started
    `LAMINA_PORT=5000 lamina serve` finds it with `lamina ls` too."""
    if endpoint:
        return endpoint
    host = _local_host(os.environ.get("LAMINA_HOST", "127.0.0.1"))
    if port:
        return f"http://{host}:{port}"
    if os.environ.get("LAMINA_ENDPOINT"):
        return os.environ["LAMINA_ENDPOINT"]
    if os.environ.get("LAMINA_PORT", "").strip():
        return f"http://{host}:{int(os.environ['LAMINA_PORT'])}"
    return DEFAULT_ENDPOINT


@dataclass
class Settings:
    host: str = field(default_factory=lambda: os.environ.get("LAMINA_HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: int(os.environ.get("LAMINA_PORT") or DEFAULT_PORT))
    data_dir: str = field(default_factory=lambda: os.environ.get("LAMINA_DATA_DIR", "./.lamina"))
    account_id: str = field(default_factory=lambda: os.environ.get("LAMINA_ACCOUNT_ID", "000000000000"))
    region: str = field(default_factory=lambda: os.environ.get("LAMINA_REGION", "us-east-1"))
    # "KEY:SECRET:ACCOUNT,KEY2:SECRET2:ACCOUNT2"; the default pair test/test maps to account_id.
    credentials_spec: str = field(default_factory=lambda: os.environ.get("LAMINA_CREDENTIALS", ""))
    enforce_signatures: bool = field(default_factory=lambda: os.environ.get("LAMINA_ENFORCE_SIGV4", "1") != "0")
    idle_timeout_s: float = field(default_factory=lambda: float(os.environ.get("LAMINA_IDLE_TIMEOUT", "300")))
    # Live sandbox instances at most (idle ones make room for new ones); 0: the account
    # concurrency, so that every invocation the account may run at once can have one.
    max_instances: int = field(default_factory=lambda: int(os.environ.get("LAMINA_MAX_INSTANCES", "0")))
    async_retry_delays_s: tuple[float, ...] = field(
        default_factory=lambda: _env_float_list("LAMINA_ASYNC_RETRY_DELAYS", (60.0, 120.0))
    )
    # Async attempts of one function running at once (its reserved concurrency, if lower,
    # caps it further); all functions together run at most the account's concurrency. More
    # instances than cores only adds context switches.
    async_workers: int = field(default_factory=lambda: int(os.environ.get("LAMINA_ASYNC_WORKERS", "64")))
    # First backoff after a throttled async attempt (doubles up to 5 minutes).
    async_throttle_backoff_s: float = field(
        default_factory=lambda: float(os.environ.get("LAMINA_ASYNC_THROTTLE_BACKOFF", "1.0"))
    )
    async_payload_bytes: int = field(
        default_factory=lambda: int(os.environ.get("LAMINA_ASYNC_PAYLOAD_LIMIT", str(1024 * 1024)))
    )
    sync_payload_bytes: int = field(
        default_factory=lambda: int(os.environ.get("LAMINA_SYNC_PAYLOAD_LIMIT", str(6 * 1024 * 1024)))
    )
    account_concurrency: int = field(default_factory=lambda: int(os.environ.get("LAMINA_ACCOUNT_CONCURRENCY", "1000")))
    # New instances per function per 10 s (AWS's scaling rate).
    scale_per_10s: int = field(default_factory=lambda: int(os.environ.get("LAMINA_SCALE_PER_10S", "1000")))
    # Front processes that speak HTTP and the AWS protocols beside the core (http/fronts.py).
    # 0 (the default): everything in one process, the lowest latency (a front adds a hop each
    # way: ~0.14 ms on a warm invoke); N: more throughput where the core's loop is the limit;
    # "auto" (None here): one per CPU beyond the first, at most 4.
    http_workers: int | None = field(default_factory=lambda: _http_workers(os.environ.get("LAMINA_HTTP_WORKERS", "0")))
    log_level: str = field(default_factory=lambda: os.environ.get("LAMINA_LOG_LEVEL", "info"))
    # "lamina" (Lamina's own httptools server) or "uvicorn".
    http_server: str = field(default_factory=lambda: os.environ.get("LAMINA_HTTP", "lamina"))
    # Sandbox isolation: "auto" (namespaces and cgroups where the host allows, rlimits
    # otherwise), "1" (refuse to run without), "0" (plain processes, for debugging).
    isolation: str = field(default_factory=lambda: os.environ.get("LAMINA_ISOLATION", "auto"))
    # IAM: "enforce" (the default: calls by IAM users and role sessions are evaluated against
    # their policies, as on AWS), "audit" (evaluate, log what would be denied, allow), "off".
    # An account's root keys (LAMINA_CREDENTIALS, test/test) may do anything in any mode.
    iam_mode: str = field(default_factory=lambda: os.environ.get("LAMINA_IAM", "enforce").strip().lower())
    # What Lamina keeps across data dirs: the SDK packages it installed for older Pythons.
    cache_dir: str = field(
        default_factory=lambda: (
            os.environ.get("LAMINA_CACHE_DIR")
            or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "lamina")
        )
    )
    # The interpreter of a language runtime, by runtime ("python3.12": "/usr/bin/python3.12").
    interpreters: dict[str, str] = field(default_factory=_interpreters)
    # SQLite's synchronous pragma: FULL (the default: a commit survives power loss) or, with
    # LAMINA_SQLITE_FAST=1, NORMAL (survives a crash of Lamina, not of the machine).
    sqlite_synchronous: str = field(
        default_factory=lambda: "NORMAL" if os.environ.get("LAMINA_SQLITE_FAST") else "FULL"
    )
    # Seconds between SNS's attempts to deliver to Lambda and SQS (AWS-managed endpoints);
    # empty: AWS's own schedule.
    sns_retry_delays_s: tuple[float, ...] = field(
        default_factory=lambda: _env_float_list("LAMINA_SNS_RETRY_DELAYS", ())
    )
    # The first delay between EventBridge's attempts to deliver to a target (it grows).
    events_retry_base_s: float = field(default_factory=lambda: _env_float("LAMINA_EVENTS_RETRY_BASE", 1.0))
    # How much faster than the wall clock schedules run (tests of cron and rate schedules).
    scheduler_speedup: float = field(default_factory=_scheduler_speedup)
    # Seconds between S3's lifecycle sweeps (AWS sweeps daily; expiry dates are midnights UTC),
    # on the scheduler's clock.
    s3_lifecycle_interval_s: float = field(default_factory=lambda: _env_float("LAMINA_S3_LIFECYCLE_INTERVAL", 3600))
    # Kinesis: the account's shard quota; an "hour" of retention in seconds (tests of
    # trimming shorten it); records and megabytes of recent records kept in memory.
    kinesis_shard_limit: int = field(default_factory=lambda: int(os.environ.get("LAMINA_KINESIS_SHARD_LIMIT") or 500))
    kinesis_hour_s: float = field(default_factory=lambda: _env_float("LAMINA_KINESIS_HOUR_SECONDS", 3600))
    kinesis_cache_records: int = field(default_factory=lambda: int(_env_float("LAMINA_KINESIS_CACHE_RECORDS", 50_000)))
    kinesis_cache_mb: float = field(default_factory=lambda: _env_float("LAMINA_KINESIS_CACHE_MB", 32))
    # API Gateway WebSocket APIs: AWS's idle timeout (10 minutes) and maximum connection
    # duration (2 hours), in seconds; tests of the limits shorten them.
    websocket_idle_timeout_s: float = field(
        default_factory=lambda: _positive(
            "LAMINA_WEBSOCKET_IDLE_TIMEOUT", _env_float("LAMINA_WEBSOCKET_IDLE_TIMEOUT", 600)
        )
    )
    websocket_max_duration_s: float = field(
        default_factory=lambda: _positive(
            "LAMINA_WEBSOCKET_MAX_DURATION", _env_float("LAMINA_WEBSOCKET_MAX_DURATION", 7200)
        )
    )

    @property
    def endpoint_url(self) -> str:
        return os.environ.get("LAMINA_PUBLIC_URL") or self.local_url

    @property
    def local_url(self) -> str:
        """Where this machine reaches the server (LAMINA_PUBLIC_URL may name another host)."""
        return f"http://{_local_host(self.host)}:{self.port}"

    def credentials(self) -> dict[str, tuple[str, str]]:
        """access key -> (secret key, account id)."""
        pairs = {"test": ("test", self.account_id)}
        for entry in filter(None, (e.strip() for e in self.credentials_spec.split(","))):
            key, secret, *account = entry.split(":")
            pairs[key] = (secret, account[0] if account else self.account_id)
        return pairs
