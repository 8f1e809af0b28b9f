"""One execution environment: a process running the bootstrap, and its two sockets.

Lifecycle (the only transitions allowed):

    NEW --start()--> READY <--invoke()--> BUSY
     |                 |                    |
     +------------ kill() / crash / timeout -+--> DEAD

start() reports the init outcome; an init error leaves the instance DEAD. invoke() runs
one invocation at a time. After kill() or death every call raises InstanceDead. Killing
takes the whole process group, so whatever the function spawned goes too.
"""
from __future__ import annotations

import asyncio
import enum
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Callable

from . import bootstrap
from ..spec import FunctionSpec

LOG_LINE_LIMIT = 256 * 1024  # CloudWatch's event size; longer lines are split
MARKER_WAIT_S = 2.0


class State(enum.Enum):
    NEW = "new"
    READY = "ready"
    BUSY = "busy"
    DEAD = "dead"


class InstanceDead(Exception):
    pass


@dataclass
class InitOutcome:
    init_ms: float
    error: dict | None


@dataclass
class RawResult:
    kind: str  # "result", "error", "timeout", "exit"
    payload: bytes
    max_memory_mb: int = 0
    exit_reason: str = ""


LogTarget = Callable[[list[tuple[int, str]]], None]


class Instance:
    def __init__(self, spec: FunctionSpec, instance_id: str, log_stream: str, env: dict[str, str],
                 log_target: LogTarget) -> None:
        self.spec = spec
        self.id = instance_id
        self.log_stream = log_stream
        self.env = env
        self.state = State.NEW
        self.log_target = log_target
        self.last_used = time.monotonic()
        self.invocations = 0
        self._process: subprocess.Popen | None = None
        self._control: socket.socket | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._log_writer: asyncio.StreamWriter | None = None
        self._log_task: asyncio.Task | None = None
        self._markers: dict[str, asyncio.Event] = {}
        self._exited = asyncio.Event()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> InitOutcome:
        assert self.state is State.NEW
        control_parent, control_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        log_parent, log_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = dict(self.env, _LAMINA_CONTROL_FD=str(control_child.fileno()))
        loop = asyncio.get_running_loop()
        try:
            self._process = await loop.run_in_executor(None, self._spawn, env, control_child, log_child)
        finally:
            control_child.close()
            log_child.close()
        self._control = control_parent
        self._reader, self._writer = await asyncio.open_unix_connection(sock=control_parent, limit=1 << 24)
        # Keep the writer: dropping it would close the socket under the function's stdout.
        log_reader, self._log_writer = await asyncio.open_unix_connection(sock=log_parent, limit=1 << 20)
        self._log_task = asyncio.ensure_future(self._read_logs(log_reader))
        try:
            kind, header, _ = await self._read_frame()
        except InstanceDead:
            await self.kill()
            return InitOutcome(0.0, {"errorType": "Runtime.ExitError",
                                     "errorMessage": f"Runtime exited with error: {self._exit_reason()}"})
        ready = json.loads(header)
        if ready.get("error"):
            await self._drain_logs()
            await self.kill()
            return InitOutcome(ready["init_ms"], ready["error"])
        self.state = State.READY
        return InitOutcome(ready["init_ms"], None)

    def _spawn(self, env: dict[str, str], control_child: socket.socket, log_child: socket.socket) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-s", bootstrap.__file__],
            env=env,
            cwd=self.spec.code_dir,
            stdin=subprocess.DEVNULL,
            stdout=log_child.fileno(),
            stderr=log_child.fileno(),
            pass_fds=(control_child.fileno(),),
            start_new_session=True,  # its own process group, so kill() takes its children too
            close_fds=True,
        )

    async def kill(self) -> None:
        if self.state is State.DEAD and self._process is None:
            return
        self.state = State.DEAD
        process, self._process = self._process, None
        if process is not None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, process.wait)
            self._returncode = process.returncode
        if self._writer is not None:
            self._writer.close()
        if self._log_writer is not None:
            self._log_writer.close()
        if self._log_task is not None:
            self._log_task.cancel()

    def _exit_reason(self) -> str:
        process = self._process
        code = process.poll() if process else getattr(self, "_returncode", None)
        if code is None and process is not None:
            try:
                code = process.wait(timeout=1)
            except subprocess.TimeoutExpired:
                return "unknown"
        if code is None:
            return "unknown"
        if code < 0:
            name = {signal.SIGKILL: "killed", signal.SIGSEGV: "segmentation fault", signal.SIGTERM: "terminated",
                    signal.SIGABRT: "aborted"}.get(-code, signal.Signals(-code).name.lower())
            return f"signal: {name}"
        return f"exit status {code}"

    # --- invoking -----------------------------------------------------------------------

    async def invoke(self, header: dict, payload: bytes, timeout_s: float) -> RawResult:
        if self.state is not State.READY:
            raise InstanceDead(self.id)
        self.state = State.BUSY
        self.invocations += 1
        request_id = header["request_id"]
        marker = self._markers[request_id] = asyncio.Event()
        self._writer.write(bootstrap.pack(bootstrap.INVOKE, json.dumps(header).encode(), payload))
        try:
            kind, meta, body = await asyncio.wait_for(self._read_frame(), timeout_s)
        except asyncio.TimeoutError:
            await self.kill()
            self._markers.pop(request_id, None)
            return RawResult("timeout", b"")
        except InstanceDead:
            await self._drain_logs()
            reason = self._exit_reason()
            await self.kill()
            self._markers.pop(request_id, None)
            return RawResult("exit", b"", exit_reason=reason)
        try:
            await asyncio.wait_for(marker.wait(), MARKER_WAIT_S)
        except asyncio.TimeoutError:
            pass
        self._markers.pop(request_id, None)
        self.state = State.READY
        self.last_used = time.monotonic()
        max_memory = json.loads(meta).get("max_memory_mb", 0)
        return RawResult("result" if kind == bootstrap.RESULT else "error", body, max_memory)

    async def _read_frame(self) -> tuple[int, bytes, bytes]:
        try:
            size, kind = bootstrap.HEADER.unpack(await self._reader.readexactly(bootstrap.HEADER.size))
            body = await self._reader.readexactly(size)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            raise InstanceDead(self.id) from None
        header, _, payload = body.partition(b"\n")
        return kind, header, payload

    # --- logs ---------------------------------------------------------------------------

    async def _read_logs(self, reader: asyncio.StreamReader) -> None:
        pending = b""
        try:
            while True:
                chunk = await reader.read(1 << 16)
                if not chunk:
                    break
                pending += chunk
                lines = pending.split(b"\n")
                pending = lines.pop()
                if len(pending) > LOG_LINE_LIMIT:
                    lines.append(pending[:LOG_LINE_LIMIT])
                    pending = pending[LOG_LINE_LIMIT:]
                self._emit(lines)
        except (ConnectionError, OSError, asyncio.CancelledError):
            pass
        finally:
            if pending:
                self._emit([pending])
            self._exited.set()

    def _emit(self, lines: list[bytes]) -> None:
        now = int(time.time() * 1000)
        events = []
        for line in lines:
            if line.startswith(bootstrap.END_MARKER):
                if events:
                    self.log_target(events)
                    events = []
                event = self._markers.get(line[len(bootstrap.END_MARKER):].decode(errors="replace").strip())
                if event is not None:
                    event.set()
                continue
            text = line.decode("utf-8", "replace").replace("\r", "\n")
            for start in range(0, max(len(text), 1), LOG_LINE_LIMIT):
                events.append((now, text[start : start + LOG_LINE_LIMIT]))
        if events:
            self.log_target(events)

    async def _drain_logs(self) -> None:
        """After the process died or failed init: wait briefly for its last lines."""
        try:
            await asyncio.wait_for(self._exited.wait(), 0.5)
        except asyncio.TimeoutError:
            pass
