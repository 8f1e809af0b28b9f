"""Running one invocation: an instance from the pool, the event in, the result out, and
the START / END / REPORT lines around the function's own output, as Lambda writes them.

Function failures are results, not exceptions: a handler that raises, a timeout, an
import error or a crashed process all come back as an InvocationResult with
function_error="Unhandled" and AWS's error payload. What raises is not being allowed to
run (Throttled: concurrency or scaling rate) and platform trouble (PoolExhausted).
"""
from __future__ import annotations

import asyncio
import base64
import json
import logging
import socket
import math
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from .. import ids
from ..observability.logsink import LogSink, group_key
from .concurrency import SCALING_RATE, Concurrency, Throttled
from .pool import Pool, PoolExhausted, ScalingLimited
from .sandbox.environment import sandbox_environment
from .sandbox.host import SandboxHost
from .sandbox.instance import InitOutcome, Instance, State
from .sandbox.cgroups import remove as remove_cgroups
from .sandbox.cgroups import remove_soon as remove_cgroups_soon
from .sandbox.custom import CustomRuntimeInstance
from .sandbox.launcher import Launcher
from .sandbox.runtime_api import RuntimeApi
from .sandbox.snapshot import VersionZygote
from .spec import FunctionSpec
from .telemetry import LambdaTelemetry, qualifier_of

log = logging.getLogger("lamina.invoker")

TAIL_BYTES = 4096
MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100  # AWS's exact limit: 6291556 bytes


@dataclass
class InvocationResult:
    request_id: str
    payload: bytes
    function_error: str | None = None  # "Unhandled" when the function failed
    executed_version: str = "$LATEST"
    log_tail: str = ""  # base64 of the last 4 KB, when asked for
    duration_ms: float = 0.0
    billed_ms: int = 0
    init_ms: float | None = None
    restore_ms: float | None = None
    max_memory_mb: int = 0
    error_type: str | None = None
    timings: dict = field(default_factory=dict)


class _NoBootstrap:
    """Stands in for an instance that could not even be started: already dead."""

    def __init__(self, spec: FunctionSpec, placement) -> None:
        from .sandbox.instance import State

        self.spec = spec
        self.placement = placement
        self.state = State.DEAD

    async def kill(self) -> None:
        pass


async def _pump_lines(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, collector: "_Collector") -> None:
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            collector([(int(time.time() * 1000), line.decode("utf-8", "replace").rstrip("\n").replace("\r", "\n"))])
    except (ConnectionError, ValueError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


class _Collector:
    """An instance's log target: everything to the sink, and a tail while someone listens."""

    def __init__(self, sink: LogSink, group: str, stream: str) -> None:
        self.sink = sink
        self.group = group
        self.stream = stream
        self.tail: list[str] | None = None
        self._tail_bytes = 0

    def __call__(self, events: list[tuple[int, str]]) -> None:
        self.sink.emit(self.group, self.stream, events)
        if self.tail is not None:
            for _, message in events:
                self.tail.append(message)
                self._tail_bytes += len(message) + 1
            while self._tail_bytes > 4 * TAIL_BYTES and len(self.tail) > 1:
                self._tail_bytes -= len(self.tail.pop(0)) + 1

    def listen(self) -> None:
        self.tail, self._tail_bytes = [], 0

    def stop(self) -> list[str]:
        tail, self.tail = self.tail or [], None
        return tail

    def line(self, message: str) -> None:
        self([(int(time.time() * 1000), message)])


def _utc_stamp() -> str:
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _error(error_type: str, message: str) -> bytes:
    return json.dumps({"errorMessage": message, "errorType": error_type}).encode()


class Invoker:
    def __init__(self, sink: LogSink, endpoint_url: str, credentials: tuple[str, str], host: SandboxHost,
                 launcher: Launcher, concurrency: Concurrency, telemetry: LambdaTelemetry,
                 idle_timeout_s: float = 300.0, max_instances: int = 1000) -> None:
        self.sink = sink
        self.concurrency = concurrency
        self.telemetry = telemetry
        self.host = host
        self.launcher = launcher
        self.endpoint_url = endpoint_url
        self.credentials = credentials
        self.pool = Pool(self._launch, idle_timeout_s=idle_timeout_s, max_instances=max_instances,
                         on_provisioned_lost=self._provisioned_lost)
        self._snapshots: dict[str, asyncio.Future] = {}
        self._provisioned_keys: set[str] = set()
        self._provisioned_wanted: dict[str, int] = {}  # pool key -> instances to keep ready
        self._provisioned_qualifiers: dict[str, tuple[str, ...]] = {}  # pool key -> configs' qualifiers
        self._provision_locks: dict[str, asyncio.Lock] = {}
        telemetry.provisioned_usage = self.provisioned_usage

    def start(self) -> None:
        self.pool.start()

    async def close(self) -> None:
        self._provisioned_wanted.clear()  # nothing is replaced from here on
        await self.pool.close()
        await self.drop_snapshots("")
        await self.launcher.close()
        self.host.close()

    async def provision(self, spec: FunctionSpec, count: int, qualifiers: tuple[str, ...] = ()) -> tuple[int, dict | None]:
        """Provisioned concurrency: keep `count` initialised instances of this version (and
        replace any that die); `qualifiers` are the version and aliases whose configs ask for
        them, for the metrics. Returns (how many are allocated, the init error if some could
        not start). Calls for one version run one at a time: two at once would both launch
        the missing instances and overshoot."""
        if count:
            self._provisioned_wanted[spec.pool_key] = count
            self._provisioned_qualifiers[spec.pool_key] = qualifiers or (spec.version,)
        else:
            self._provisioned_wanted.pop(spec.pool_key, None)
            self._provisioned_qualifiers.pop(spec.pool_key, None)
        async with self._provision_locks.setdefault(spec.pool_key, asyncio.Lock()):
            return await self._provision(spec, count)

    async def retire(self, prefix: str) -> None:
        """Every instance of the pool keys under `prefix` goes (a version or function was
        deleted), provisioned ones included, and nothing replaces them."""
        for key in [k for k in self._provisioned_wanted if k.startswith(prefix)]:
            self._provisioned_wanted.pop(key, None)
            self._provisioned_qualifiers.pop(key, None)
            self._provisioned_keys.discard(key)
            self._provision_locks.pop(key, None)
        await self.pool.retire(prefix)

    def _provisioned_lost(self, instance: Instance) -> None:
        spec = instance.spec
        wanted = self._provisioned_wanted.get(spec.pool_key)
        if wanted:
            asyncio.ensure_future(self._replace(spec))

    async def _replace(self, spec: FunctionSpec, failures: int = 0) -> None:
        allocated = wanted = 0
        try:
            wanted = self._provisioned_wanted.get(spec.pool_key, 0)
            if wanted:
                allocated, error = await self.provision(spec, wanted, self._provisioned_qualifiers.get(spec.pool_key, ()))
                if error is not None:
                    log.warning("could not replace a provisioned instance of %s: %s", spec.pool_key, error)
        except Exception:
            log.exception("replacing a provisioned instance of %s failed", spec.pool_key)
        if allocated < wanted and self._provisioned_wanted.get(spec.pool_key):
            # Try again, less and less often (its init may fail for a while: a dependency down).
            delay = min(60.0, 2.0 ** failures)
            asyncio.get_running_loop().call_later(
                delay, lambda: asyncio.ensure_future(self._replace(spec, failures + 1)))

    async def _provision(self, spec: FunctionSpec, count: int) -> tuple[int, dict | None]:
        have = self.pool.provisioned(spec.pool_key)
        if len(have) > count:
            await self.pool.unprovision(spec.pool_key, keep=count)
            return count, None
        launched = await asyncio.gather(
            *(self._launch(spec, "provisioned-concurrency") for _ in range(count - len(have))),
            return_exceptions=True)
        error = None
        for item in launched:
            if isinstance(item, BaseException):
                error = {"errorType": "Lamina.LaunchError", "errorMessage": str(item)}
                continue
            instance, outcome = item
            if outcome.error is not None or instance.state is not State.READY:
                error = outcome.error or error
                await instance.kill()
                continue
            if count and spec.pool_key not in self._provisioned_wanted:
                await instance.kill()  # its version was deleted (retire()) while it started
                continue
            instance.collector.stop()  # type: ignore[attr-defined]
            self.pool.adopt(instance)
        allocated = len(self.pool.provisioned(spec.pool_key))
        if allocated:
            self._provisioned_keys.add(spec.pool_key)
        else:
            self._provisioned_keys.discard(spec.pool_key)
        return allocated, error

    def provisioned_usage(self) -> dict[tuple[str, str], tuple[int, int, tuple[str, ...]]]:
        """(function ARN, version) -> (busy provisioned instances, allocated ones, the
        version and aliases whose configs they serve)."""
        usage: dict[tuple[str, str], list] = {}
        for key in self._provisioned_keys:
            for instance in self.pool.provisioned(key):
                counts = usage.setdefault((instance.spec.function_arn, instance.spec.version),
                                          [0, 0, self._provisioned_qualifiers.get(key, (instance.spec.version,))])
                counts[1] += 1
                if instance.state is State.BUSY:
                    counts[0] += 1
        return {k: (v[0], v[1], v[2]) for k, v in usage.items()}

    async def _launch(self, spec: FunctionSpec, initialization_type: str = "on-demand") -> tuple[Instance, InitOutcome]:
        instance_id = ids.hex32()
        day = datetime.now(timezone.utc).strftime("%Y/%m/%d")
        stream = f"{day}/[{spec.version}]{instance_id}"
        await self.sink.ensure_stream(spec.account, spec.region, spec.log_group, stream)
        collector = _Collector(self.sink, group_key(spec.account, spec.region, spec.log_group), stream)
        if spec.snap_start:
            snapshot = await self.snapshot(spec)
            if snapshot.alive:
                placement = self.host.place_restored(spec)
                env = sandbox_environment(spec, stream, self.endpoint_url, self.credentials,
                                          task_root=placement.task_root, initialization_type="snap-start")
                instance = Instance(spec, instance_id, stream, env, collector, snapshot, placement,
                                    oom_killed=lambda: self.host.oom_killed(placement))
                instance.collector = collector  # type: ignore[attr-defined]
                collector.listen()
                return instance, await instance.start()
            # The snapshot's init failed: report it the way a failed cold init is reported.
            self._snapshots.pop(spec.pool_key, None)
            dead = _NoBootstrap(spec, None)
            dead.collector = collector  # type: ignore[attr-defined]
            collector.listen()
            return dead, InitOutcome(snapshot.init_ms, snapshot.error)
        placement = self.host.place(spec, opt_dir=spec.opt_dir)
        if spec.runtime.startswith("provided"):
            instance = await self._custom_instance(spec, instance_id, stream, collector, placement)
            if instance is None:
                remove_cgroups(placement.cgroup_dirs)
                dead = _NoBootstrap(spec, placement)
                dead.collector = collector  # type: ignore[attr-defined]
                collector.listen()
                return dead, InitOutcome(0.0, {
                    "errorType": "Runtime.InvalidEntrypoint",
                    "errorMessage": "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]"})
        else:
            env = sandbox_environment(spec, stream, self.endpoint_url, self.credentials,
                                      task_root=placement.task_root, opt_dir=placement.opt_dir,
                                      initialization_type=initialization_type)
            instance = Instance(spec, instance_id, stream, env, collector, self.launcher, placement,
                                oom_killed=lambda: self.host.oom_killed(placement))
        instance.collector = collector  # type: ignore[attr-defined]
        collector.listen()  # init output belongs to the first invocation's tail
        outcome = await instance.start()
        return instance, outcome

    async def snapshot(self, spec: FunctionSpec) -> VersionZygote:
        """The SnapStart snapshot of a version: made once (at publish, or on first need)."""
        pending = self._snapshots.get(spec.pool_key)
        if pending is None:
            pending = self._snapshots[spec.pool_key] = asyncio.ensure_future(self._make_snapshot(spec))
        snapshot = await asyncio.shield(pending)
        if not snapshot.alive and snapshot.error is None:
            self._snapshots.pop(spec.pool_key, None)  # it died since: make it again next time
        return snapshot

    async def _make_snapshot(self, spec: FunctionSpec) -> VersionZygote:
        day = datetime.now(timezone.utc).strftime("%Y/%m/%d")
        stream = f"{day}/[{spec.version}]snapshot-{ids.hex32()[:16]}"
        await self.sink.ensure_stream(spec.account, spec.region, spec.log_group, stream)
        collector = _Collector(self.sink, group_key(spec.account, spec.region, spec.log_group), stream)
        placement = self.host.place_snapshot(spec, opt_dir=spec.opt_dir)
        env = sandbox_environment(spec, stream, self.endpoint_url, self.credentials, task_root=placement.task_root,
                                  opt_dir=placement.opt_dir, initialization_type="snap-start")
        log_parent, log_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        snapshot = VersionZygote()
        try:
            await snapshot.create(self.launcher, {"env": env, "handler": spec.handler,
                                                  "task_root": placement.task_root, "plan": placement.plan},
                                  log_child.fileno())
        finally:
            log_child.close()
        # The snapshot's own output (its init) goes to its log stream, for as long as it lives.
        reader, writer = await asyncio.open_unix_connection(sock=log_parent)
        snapshot.log_task = asyncio.ensure_future(_pump_lines(reader, writer, collector))  # type: ignore[attr-defined]
        snapshot.cgroup_dirs = placement.cgroup_dirs  # type: ignore[attr-defined]
        return snapshot

    async def drop_snapshots(self, prefix: str) -> None:
        for key in [k for k in self._snapshots if k.startswith(prefix)]:
            pending = self._snapshots.pop(key)
            if pending.done() and not pending.cancelled() and pending.exception() is None:
                snapshot = pending.result()
                await snapshot.close()
                # Its processes were just killed: the kernel may not have let go of the
                # groups yet, so retry for a moment (rmdir once left the group behind).
                await remove_cgroups_soon(getattr(snapshot, "cgroup_dirs", []))

    async def _custom_instance(self, spec: FunctionSpec, instance_id: str, stream: str, collector: "_Collector",
                               placement) -> Instance | None:
        """A provided.* runtime: its `bootstrap` executable, with a Runtime API of its own."""
        import os

        if os.path.exists(os.path.join(spec.code_dir, "bootstrap")):
            entry = os.path.join(placement.task_root, "bootstrap")
        elif spec.opt_dir and os.path.exists(os.path.join(spec.opt_dir, "bootstrap")):
            entry = os.path.join(placement.opt_dir or spec.opt_dir, "bootstrap")
        else:
            return None
        api = RuntimeApi()
        address = await api.start()
        env = sandbox_environment(spec, stream, self.endpoint_url, self.credentials, runtime_api=address,
                                  task_root=placement.task_root, opt_dir=placement.opt_dir)
        env.pop("_LAMINA_OPT", None)
        return CustomRuntimeInstance(spec, instance_id, stream, env, collector, self.launcher, placement,
                                     oom_killed=lambda: self.host.oom_killed(placement), exec_argv=[entry],
                                     api=api)

    def _max_memory(self, instance: Instance, runtime_peak_mb: int) -> int:
        """The runtime's own peak RSS (shared zygote pages included, as a process on AWS
        would count them), or the cgroup's peak when the function's children used more.
        Reading the cgroup costs a file read on the invoke path, so it is refreshed on the
        first invocation and every 64th: what the function's children used shows in Max
        Memory Used within 64 invocations."""
        cached = getattr(instance, "cgroup_peak_mb", 0)
        if instance.invocations % 64 == 1:
            cached = instance.cgroup_peak_mb = self.host.peak_memory_mb(instance.placement)  # type: ignore[attr-defined]
        return max(runtime_peak_mb, cached)

    async def invoke(self, spec: FunctionSpec, payload: bytes, *, request_id: str | None = None,
                     invoked_arn: str | None = None, client_context: dict | None = None,
                     want_tail: bool = False) -> InvocationResult:
        """Run one invocation within the function's concurrency; raises Throttled if it may not run."""
        try:
            lease = self.concurrency.acquire(spec.function_arn, spec.version)
        except Throttled:
            self.telemetry.throttled(spec, invoked_arn)
            raise
        # A version's or alias's own ConcurrentExecutions series (the function's comes from
        # the lease): tallied only for a qualified ARN, which most invokes are not.
        running = self.telemetry.began(spec, invoked_arn) if qualifier_of(invoked_arn) else None
        try:
            result = await self._run(spec, payload, request_id or ids.uuid4(), invoked_arn,
                                     client_context, want_tail)
        except ScalingLimited:
            self.telemetry.throttled(spec, invoked_arn)
            raise Throttled(SCALING_RATE) from None
        except PoolExhausted:
            self.telemetry.throttled(spec, invoked_arn)
            raise
        finally:
            if running is not None:
                self.telemetry.ended(running)
            self.concurrency.release(lease)
        self.telemetry.invoked(spec, invoked_arn, result.duration_ms, bool(result.function_error))
        return result

    async def _run(self, spec: FunctionSpec, payload: bytes, request_id: str, invoked_arn: str | None,
                   client_context: dict | None, want_tail: bool) -> InvocationResult:
        arn = spec.function_arn
        instance, outcome = await self.pool.acquire(spec, can_grow=lambda: self.concurrency.take_scaling_token(arn))
        if getattr(instance, "provisioned", False):
            self.telemetry.count("ProvisionedConcurrencyInvocations", spec.function_arn,
                                 qualifier=qualifier_of(invoked_arn))
        elif spec.pool_key in self._provisioned_keys:
            self.telemetry.count("ProvisionedConcurrencySpilloverInvocations", spec.function_arn,
                                 qualifier=qualifier_of(invoked_arn))
        collector: _Collector = instance.collector  # type: ignore[attr-defined]
        if outcome is None:
            collector.listen()
        result = InvocationResult(request_id=request_id, payload=b"", executed_version=spec.version)
        collector.line(f"START RequestId: {request_id} Version: {spec.version}")
        started = time.perf_counter()
        if outcome is not None:
            if outcome.restored:
                result.restore_ms = outcome.init_ms
            else:
                result.init_ms = outcome.init_ms
        if outcome is not None and outcome.error is not None:
            error = outcome.error
            result.payload = json.dumps(error).encode()
            result.function_error = "Unhandled"
            result.error_type = error.get("errorType")
            self.pool.discard(instance)
        else:
            header = {
                "request_id": request_id,
                "deadline_ms": int(time.time() * 1000) + spec.timeout_s * 1000,
                "invoked_function_arn": invoked_arn or spec.qualified_arn,
                "client_context": client_context,
            }
            raw = await instance.invoke(header, payload, spec.timeout_s)
            result.max_memory_mb = self._max_memory(instance, raw.max_memory_mb)
            if raw.kind == "result":
                result.payload = raw.payload
                if len(raw.payload) > MAX_RESPONSE_BYTES:
                    result.payload = _error(
                        "Function.ResponseSizeTooLarge",
                        f"Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes).",
                    )
                    result.function_error = "Unhandled"
                    result.error_type = "Function.ResponseSizeTooLarge"
            elif raw.kind == "error":
                result.payload = raw.payload
                result.function_error = "Unhandled"
                try:
                    result.error_type = json.loads(raw.payload).get("errorType")
                except ValueError:
                    pass
            elif raw.kind == "timeout":
                message = f"Task timed out after {spec.timeout_s:.2f} seconds"
                collector.line(f"{_utc_stamp()} {request_id} {message}")
                result.payload = _error("Sandbox.Timedout", f"RequestId: {request_id} Error: {message}")
                result.function_error = "Unhandled"
                result.error_type = "Sandbox.Timedout"
            else:  # the process exited or was killed mid-invocation
                message = f"Runtime exited with error: {raw.exit_reason}"
                error_type = "Runtime.OutOfMemory" if raw.out_of_memory else "Runtime.ExitError"
                collector.line(f"RequestId: {request_id} Error: {message}\n{error_type}")
                result.payload = _error(error_type, f"RequestId: {request_id} Error: {message}")
                result.function_error = "Unhandled"
                result.error_type = error_type
            self.pool.release(instance)
        duration = (time.perf_counter() - started) * 1000
        if result.error_type == "Sandbox.Timedout":
            duration = max(duration, spec.timeout_s * 1000.0)
        if result.error_type == "Runtime.OutOfMemory":
            result.max_memory_mb = spec.memory_mb
        result.duration_ms = duration
        result.billed_ms = max(1, math.ceil(duration))
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\tBilled Duration: {result.billed_ms} ms\t"
            f"Memory Size: {spec.memory_mb} MB\tMax Memory Used: {result.max_memory_mb} MB\t"
        )
        if result.init_ms is not None:
            report += f"Init Duration: {result.init_ms:.2f} ms\t"
        if result.restore_ms is not None:
            report += f"Restore Duration: {result.restore_ms:.2f} ms\tBilled Restore Duration: {math.ceil(result.restore_ms)} ms\t"
        if result.function_error and result.error_type in ("Sandbox.Timedout", "Runtime.ExitError",
                                                           "Runtime.OutOfMemory"):
            report += f"Status: {'timeout' if result.error_type == 'Sandbox.Timedout' else 'error'}"
            if result.error_type != "Sandbox.Timedout":
                report += f"\tError Type: {result.error_type}"
        now_ms = int(time.time() * 1000)
        collector([(now_ms, f"END RequestId: {request_id}"), (now_ms, report)])
        tail_lines = collector.stop()
        if want_tail:
            text = "\n".join(tail_lines) + "\n"
            data = text.encode("utf-8")[-TAIL_BYTES:]
            result.log_tail = base64.b64encode(data).decode("ascii")
        return result
