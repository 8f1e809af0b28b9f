"""The managed Node.js runtimes (nodejs18.x, nodejs20.x, nodejs22.x): a `node` process
running Lamina's Node runtime client (guest/nodejs/index.mjs), which speaks the Lambda
Runtime API like AWS's own, so an instance is a CustomRuntimeInstance whose bootstrap is
node.

The runtime's directory (the client, and the AWS SDK for JavaScript v3 that `make install`
puts in its node_modules) is mounted at /var/runtime, as on AWS.

Node cannot fork a zygote, and starting node takes 70-100 ms, so on an isolated host each
node version keeps a small pool of node processes started ahead of need: forked by the
plain zygote, isolated (namespaces, mounts, /var/runtime) with an empty placeholder at
/var/task, the runtime client loaded, waiting (GET /_lamina/assign on their own Runtime
API) for a function. A cold start takes one and hands it its function:

  1. the engine moves it into the instance's cgroups (cgroups.join, by its host pid);
  2. the mount helper (guest/nodejs/mounts.py) attaches the code at /var/task and the
     layers at /opt inside its mount namespace (open_tree + setns + move_mount), read-only,
     and gives /tmp the function's size;
  3. the answer to its /_lamina/assign carries the function's environment and uid/gid: it
     takes the environment, drops to the unprivileged uid (process.setgid/setuid), and only
     then loads the handler: the user's init runs fresh, and Init Duration is measured
     from the assignment to its first /next.

Until its function is assigned a pooled process runs as root inside its namespaces, but
runs only the runtime client (with no_new_privs). Where pooling cannot apply (no isolation,
NODE_OPTIONS set by the function, the mount helper failing) a cold start execs node.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

from ..runtimes import NODE_VERSIONS, Interpreter
from ..spec import FunctionSpec
from .base import InitOutcome
from .cgroups import join as join_cgroups
from .custom import INIT_TIMEOUT_S, CustomRuntimeInstance
from .environment import ON_DEMAND, Platform
from .guest import DIRECTORY as GUEST_DIRECTORY
from .host import Placement, SandboxHost
from .launcher import Launcher
from .managed import LogLines, ManagedInstance
from .runtime_api import RuntimeApi
from .zygotes import Zygotes

log = logging.getLogger("lamina.sandbox")

RUNTIME_DIR = os.path.join(GUEST_DIRECTORY, "nodejs")  # the client, and node_modules/ with the SDK
RUNTIME_MOUNT = "/var/runtime"  # where a sandbox sees it, as on AWS
CLIENT = "index.mjs"
MOUNTS = os.path.join(RUNTIME_DIR, "mounts.py")
ASSIGN = "/_lamina/assign"
POOL_SIZE = 2  # waiting processes per node version: enough for sequential cold starts

# Variables of the Python runtime that a Node function has no use for.
PYTHON_ONLY = ("PYTHONDONTWRITEBYTECODE", "_LAMINA_OPT")
# A function setting these needs them at node's start: its instances exec node.
AT_START = ("NODE_OPTIONS", "NODE_EXTRA_CA_CERTS", "UV_THREADPOOL_SIZE")


def sdk_installed() -> bool:
    """Is the SDK for JavaScript installed (`make install` runs `npm ci` where npm exists)?"""
    return os.path.isdir(os.path.join(RUNTIME_DIR, "node_modules", "@aws-sdk"))


def _node_path(major: int, opt: str, runtime: str, task_root: str) -> str:
    return ":".join(
        (
            f"{opt}/nodejs/node{major}/node_modules",
            f"{opt}/nodejs/node_modules",
            f"{runtime}/node_modules",
            runtime,
            task_root,
        )
    )


def node_environment(env: dict[str, str], spec: FunctionSpec, placement: Placement) -> dict[str, str]:
    """The Python-flavoured sandbox environment made a Node one, as AWS's nodejsNN.x sets it."""
    for name in PYTHON_ONLY:
        env.pop(name, None)
    isolated = bool(placement.plan.get("namespaces"))
    runtime = RUNTIME_MOUNT if isolated else RUNTIME_DIR
    opt = "/opt" if isolated else (spec.opt_dir or "/opt")
    env["NODE_PATH"] = _node_path(NODE_VERSIONS[spec.runtime], opt, runtime, placement.task_root)
    env["LAMBDA_RUNTIME_DIR"] = runtime
    return env


def _move_charges(dirs: list[str]) -> None:
    """cgroup v1 before Linux 6.10: the memory a pooled process already uses moves with it
    into the instance's group, so that its limit counts it as it counts an exec'd node's.
    Elsewhere (v2, newer kernels) its first pages (~20 MB) stay charged outside."""
    for path in dirs:
        try:
            with open(os.path.join(path, "memory.move_charge_at_immigrate"), "w") as handle:
                handle.write("3")
        except OSError:
            pass


class _PoolApi(RuntimeApi):
    """A pooled process's Runtime API, with one more endpoint: GET /_lamina/assign, which
    the process calls once loaded (`loaded`) and which answers once it has a function."""

    def __init__(self) -> None:
        super().__init__()
        loop = asyncio.get_running_loop()
        self.loaded: asyncio.Future = loop.create_future()
        self.assignment: asyncio.Future = loop.create_future()

    async def _route(self, method: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
        if method == "GET" and path == ASSIGN:
            if self.loaded.done():  # asked once, by the process itself: nobody else gets its function
                return _http(403, b'{"errorType": "Forbidden"}')
            self.loaded.set_result(None)
            return _http(200, await self.assignment)
        return await super()._route(method, path, headers, body)


def _http(status: int, body: bytes) -> bytes:
    head = f"HTTP/1.1 {status} {'OK' if status == 200 else 'Forbidden'}\r\nContent-Length: {len(body)}\r\n"
    return (head + "Content-Type: application/json\r\n\r\n").encode() + body


class _Relay:
    """Where a pooled process's output goes: the server's log until it has a function, then
    the instance's log (ManagedInstance._emit)."""

    def __init__(self) -> None:
        self.emit = lambda lines: log.warning("pooled node: %s", b"\n".join(lines).decode(errors="replace"))
        self.exited = lambda: None

    def lines(self, lines: list[bytes]) -> None:
        self.emit(lines)

    def closed(self) -> None:
        self.exited()


@dataclass
class _Pooled:
    pid: int
    api: _PoolApi
    exit: asyncio.Future
    transport: asyncio.BaseTransport
    relay: _Relay
    argv: list[str] = field(default_factory=list)


class _Handover(ManagedInstance):
    """ManagedInstance.start() for a pooled process: nothing to spawn, it runs already;
    the instance takes over its pid, exit and output, and gives it its function.
    CustomRuntimeInstance.start() (before this class in PooledNodeInstance's MRO) then waits
    for its first /next, timing the function's init."""

    pooled: _Pooled

    async def start(self) -> InitOutcome:
        pooled = self.pooled
        self._pid = pooled.pid
        self._exit = pooled.exit
        self._log_transport = pooled.transport
        pooled.relay.emit, pooled.relay.exited = self._emit, self._exited.set
        plan = self.placement.plan
        assignment = {"env": self.env, "uid": plan.get("uid"), "gid": plan.get("gid"), "cwd": self.placement.task_root}
        pooled.api.assignment.set_result(json.dumps(assignment).encode())
        return InitOutcome(0.0, None)


class PooledNodeInstance(CustomRuntimeInstance, _Handover):
    def __init__(self, *args, pooled: _Pooled, **kwargs) -> None:
        super().__init__(*args, api=pooled.api, **kwargs)
        self.pooled = pooled
        self._high_water_mb = 0

    def max_memory_mb(self, runtime_peak_mb: int) -> int:
        """The cgroup's peak misses what node used before it joined the instance's group:
        its own peak RSS (VmHWM) counts too, read when the cgroup's is (see ManagedInstance)."""
        if self.invocations % 64 == 1 and self._pid is not None:
            self._high_water_mb = _high_water_mb(self._pid)
        return max(super().max_memory_mb(runtime_peak_mb), self._high_water_mb)


def _high_water_mb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as handle:
            for line in handle:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


class _Mounter:
    """The engine's side of guest/nodejs/mounts.py (started on first use)."""

    def __init__(self) -> None:
        self._channel: socket.socket | None = None
        self._process: subprocess.Popen | None = None
        self._lock = asyncio.Lock()

    async def place(self, pid: int, task: str, opt: str | None, tmp_mb: int) -> None:
        async with self._lock:
            loop = asyncio.get_running_loop()
            if self._channel is None:
                ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "_LAMINA_MOUNTS_FD": str(theirs.fileno())}
                argv = [sys.executable, "-I", "-S", MOUNTS]
                self._process = await loop.run_in_executor(
                    None,
                    lambda: subprocess.Popen(argv, env=env, pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL),
                )
                theirs.close()
                ours.setblocking(False)
                self._channel = ours
            request = {"pid": pid, "task": task, "opt": opt, "tmp_mb": tmp_mb}
            await loop.sock_sendall(self._channel, json.dumps(request).encode())
            data = await loop.sock_recv(self._channel, 65536)
        if not data:
            self._channel = None
            raise OSError("the Node.js mount helper exited")
        answer = json.loads(data)
        if not answer.get("ok"):
            raise OSError(answer.get("error", "mount failed"))

    async def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self._process is not None:
            process, self._process = self._process, None
            process.kill()
            await asyncio.get_running_loop().run_in_executor(None, process.wait)


class NodeRuntime:
    def __init__(self, host: SandboxHost, launcher: Launcher, platform: Platform) -> None:
        self.host = host
        self.launcher = launcher  # forks and execs: no Python preloaded
        self.platform = platform
        self.pooling = host.isolated and host.cgroups is not None
        self._pools: dict[str, list[_Pooled]] = {}  # interpreter path -> waiting processes
        self._filling: dict[str, int] = {}  # interpreter path -> processes being started
        self._tasks: set[asyncio.Future] = set()
        self._mounter = _Mounter()
        self._placeholder: str | None = None  # the empty /var/task of a process without a function

    async def launch(
        self,
        spec: FunctionSpec,
        instance_id: str,
        log,
        interpreter: Interpreter,
        placement: Placement,
        initialization_type: str = ON_DEMAND,
    ) -> CustomRuntimeInstance:
        # A pooled process entered its namespaces before its function was known: it has no
        # file systems (FileSystemConfigs) mounted, so such functions start their own.
        pooled_ok = not spec.file_systems and not any(n in spec.environment for n in AT_START)
        if self.pooling and placement.plan.get("namespaces") and pooled_ok:
            self._refill(interpreter)
            pooled = await self._take(spec, interpreter, placement)
            if pooled is not None:
                env = self._environment(spec, log, interpreter, placement, pooled.api, initialization_type)
                return PooledNodeInstance(
                    spec, instance_id, log.stream, env, log, self.launcher, placement, self.host, pooled=pooled
                )
        api = RuntimeApi()
        await api.start()
        env = self._environment(spec, log, interpreter, placement, api, initialization_type)
        if placement.plan.get("namespaces"):
            placement.plan["binds"] = [[RUNTIME_DIR, RUNTIME_MOUNT]]
            client = os.path.join(RUNTIME_MOUNT, CLIENT)
        else:
            client = os.path.join(RUNTIME_DIR, CLIENT)
        argv = [interpreter.path, client]
        return CustomRuntimeInstance(
            spec, instance_id, log.stream, env, log, self.launcher, placement, self.host, exec_argv=argv, api=api
        )

    def _environment(
        self,
        spec: FunctionSpec,
        log,
        interpreter: Interpreter,
        placement: Placement,
        api: RuntimeApi,
        initialization_type: str,
    ) -> dict[str, str]:
        address = f"127.0.0.1:{api.port}"
        env = self.platform.environment(
            spec,
            log.stream,
            placement,
            initialization_type,
            runtime_api=address,
            interpreter=interpreter.path,
            runtime_dir=RUNTIME_MOUNT,
        )
        return node_environment(env, spec, placement)

    # --- the pool ---------------------------------------------------------------------------

    def prepare(self, runtime: str, zygotes: Zygotes) -> None:
        """A function of `runtime` exists: fill its pool now, so that even the first cold
        start takes a waiting process."""
        if not self.pooling:
            return

        async def fill() -> None:
            interpreter = await zygotes.find(runtime)
            if interpreter is not None and not interpreter.python:
                self._refill(interpreter)

        task = asyncio.ensure_future(fill())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _take(self, spec: FunctionSpec, interpreter: Interpreter, placement: Placement) -> _Pooled | None:
        """A waiting process of this node, moved into the instance's cgroups with the
        function's code mounted; None if there is none (or it could not be set up)."""
        waiting = self._pools.get(interpreter.path) or []
        while waiting:
            pooled = waiting.pop()
            if pooled.exit.done():
                await self._discard(pooled)
                continue
            _move_charges(placement.cgroup_dirs)
            join_cgroups(pooled.pid, list(placement.plan.get("cgroup_procs") or ()))
            join_cgroups(pooled.pid, list(placement.plan.get("cgroup_procs_late") or ()))
            try:
                await self._mounter.place(pooled.pid, spec.code_dir, spec.opt_dir, spec.ephemeral_mb)
            except OSError as error:
                log.warning("Node.js instances start without the pool from now on: %s", error)
                self.pooling = False
                await self._discard(pooled)
                return None
            return pooled
        return None

    def _refill(self, interpreter: Interpreter) -> None:
        missing = POOL_SIZE - len(self._pools.get(interpreter.path) or []) - self._filling.get(interpreter.path, 0)
        for _ in range(max(missing, 0)):
            self._filling[interpreter.path] = self._filling.get(interpreter.path, 0) + 1
            task = asyncio.ensure_future(self._start_one(interpreter))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _start_one(self, interpreter: Interpreter) -> None:
        try:
            pooled = await self._spawn(interpreter)
        except Exception:  # a pool that cannot fill leaves cold starts to exec node
            log.exception("could not start a pooled node process")
            pooled = None
        finally:
            self._filling[interpreter.path] -= 1
        if pooled is not None:
            self._pools.setdefault(interpreter.path, []).append(pooled)

    async def _spawn(self, interpreter: Interpreter) -> _Pooled | None:
        api = _PoolApi()
        address = await api.start()
        if self._placeholder is None:
            self._placeholder = tempfile.mkdtemp(prefix="lamina-node-task-")
            os.chmod(self._placeholder, 0o755)
        # The isolation every instance gets (host.place decides it); cgroups and the uid are
        # the function's, given at the hand-over.
        plan = self.host.pooled_plan(self._placeholder, interpreter.prefix)
        plan["binds"] = [[RUNTIME_DIR, RUNTIME_MOUNT]]
        major = NODE_VERSIONS[interpreter.runtime]
        env = {
            "PATH": f"{os.path.dirname(interpreter.path)}:/usr/local/bin:/usr/bin:/bin",
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "HOME": "/tmp",
            "AWS_LAMBDA_RUNTIME_API": address,
            "NODE_PATH": _node_path(major, "/opt", RUNTIME_MOUNT, "/var/task"),
            "_LAMINA_POOL": "1",
        }
        argv = [interpreter.path, os.path.join(RUNTIME_MOUNT, CLIENT)]
        control_parent, control_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        log_parent, log_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        message = {"env": env, "handler": "", "task_root": "/var/task", "plan": plan, "exec": argv}
        try:
            pid = await self.launcher.spawn(message, control_child.fileno(), log_child.fileno())
        except OSError:
            log_parent.close()
            await api.close()
            raise
        finally:
            control_parent.close()
            control_child.close()
            log_child.close()
        relay = _Relay()
        transport, _ = await asyncio.get_running_loop().create_unix_connection(
            lambda: LogLines(relay.lines, relay.closed), sock=log_parent
        )
        pooled = _Pooled(pid, api, self.launcher.exit_status(pid), transport, relay, argv)
        exit_waiter = asyncio.ensure_future(asyncio.shield(pooled.exit))
        await asyncio.wait([api.loaded, exit_waiter], timeout=INIT_TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED)
        exit_waiter.cancel()
        if not api.loaded.done():
            await self._discard(pooled)
            return None
        return pooled

    async def _discard(self, pooled: _Pooled) -> None:
        try:
            os.killpg(pooled.pid, 9)
        except OSError:
            pass
        try:
            await asyncio.wait_for(asyncio.shield(pooled.exit), 5.0)
        except asyncio.TimeoutError:
            pass
        self.launcher.forget(pooled.pid)
        pooled.transport.close()
        await pooled.api.close()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for waiting in self._pools.values():
            for pooled in waiting:
                await self._discard(pooled)
        self._pools.clear()
        await self._mounter.close()
        if self._placeholder is not None:
            shutil.rmtree(self._placeholder, ignore_errors=True)
