"""The managed Python runtime's sandbox: a process forked by the zygote (or restored from
a SnapStart snapshot), its control socket speaking guest/frames.py, its log socket.

The lifecycle is the Sandbox interface's (base.py). Killing takes the whole process group,
so whatever the function spawned goes too, and removes the instance's cgroups.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from .. import faults
from ..spec import FunctionSpec
from ..streaming import ResponseStream
from .base import InitOutcome, InstanceDead, RawResult, State
from .cgroups import join as join_cgroups
from .cgroups import remove as remove_cgroups
from .cgroups import remove_soon as remove_cgroups_soon
from .guest import frames
from .host import Placement, SandboxHost

if TYPE_CHECKING:
    from ..invocation_log import InvocationLog

LOG_LINE_LIMIT = 256 * 1024  # CloudWatch's event size; longer lines are split
MARKER_WAIT_S = 2.0


class _TaskTimeout:
    """asyncio.timeout() before Python 3.11: cancel the waiting task, raise TimeoutError."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.fired = False

    async def __aenter__(self) -> None:
        task = asyncio.current_task()
        self.handle = asyncio.get_running_loop().call_later(self.delay, self._fire, task)

    def _fire(self, task) -> None:
        self.fired = True
        task.cancel()

    async def __aexit__(self, kind, error, traceback) -> bool:
        self.handle.cancel()
        if self.fired and kind is asyncio.CancelledError:
            raise asyncio.TimeoutError
        return False


# A timeout in the waiting task itself: asyncio.wait_for wrapped every invoke's read in a
# task of its own, a measurable share of a warm invoke's cost.
timeout_after = getattr(asyncio, "timeout", _TaskTimeout)


class LogLines(asyncio.Protocol):
    """The function's stdout and stderr, a line at a time, straight from the socket (no task
    per instance: every invocation's output, its end marker included, arrives this way)."""

    def __init__(self, emit: Callable[[list[bytes]], None], exited: Callable[[], None]) -> None:
        self.emit = emit
        self.exited = exited
        self.pending = b""

    def data_received(self, chunk: bytes) -> None:
        lines = (self.pending + chunk).split(b"\n")
        self.pending = lines.pop()
        if len(self.pending) > LOG_LINE_LIMIT:
            lines.append(self.pending[:LOG_LINE_LIMIT])
            self.pending = self.pending[LOG_LINE_LIMIT:]
        if lines:
            self.emit(lines)

    def eof_received(self) -> bool:
        return False  # close our end too: connection_lost() follows

    def connection_lost(self, exc: Exception | None) -> None:
        if self.pending:
            self.emit([self.pending])
            self.pending = b""
        self.exited()


class Control(asyncio.Protocol):
    """The control socket: frames (guest/frames.py) parsed as they arrive, each handed to
    whoever waits for the next one (start() for READY, invoke() for its result) through a
    future, or kept until someone does. No StreamReader, no task: a warm invoke's result
    resolves its future straight from data_received."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()  # a frame still arriving
        self.frames: deque[tuple[int, bytes]] = deque()  # frames nobody waited for yet
        self.waiter: asyncio.Future | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        if not buffer:
            # The common case: one whole frame in one read, sliced out without a copy of it all.
            size = len(data)
            start = 0
            while size - start >= HEADER_SIZE:
                length, kind = _unpack_header(data, start)
                end = start + HEADER_SIZE + length
                if end > size:
                    break
                self._deliver(kind, data[start + HEADER_SIZE : end])
                start = end
            if start < size:
                buffer += data[start:] if start else data
            return
        buffer += data
        while len(buffer) >= HEADER_SIZE:
            length, kind = _unpack_header(buffer, 0)
            end = HEADER_SIZE + length
            if len(buffer) < end:
                return
            with memoryview(buffer) as view:  # one copy of a big body, not two
                body = bytes(view[HEADER_SIZE:end])
            del buffer[:end]
            self._deliver(kind, body)

    def _deliver(self, kind: int, body: bytes) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done() and not self.frames:
            self.waiter = None
            waiter.set_result((kind, body))
        else:
            self.frames.append((kind, body))

    def eof_received(self) -> bool:
        return False  # close our end too: connection_lost() follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.buffer.clear()  # a frame cut short is no frame
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(ConnectionResetError())

    def next_frame(self) -> asyncio.Future:
        """A future of the next frame (kind, body); ConnectionResetError once the socket closed."""
        future = asyncio.get_running_loop().create_future()
        if self.frames:
            future.set_result(self.frames.popleft())
        elif self.closed:
            future.set_exception(ConnectionResetError())
        else:
            self.waiter = future
        return future


HEADER_SIZE = frames.HEADER.size
_unpack_header = frames.HEADER.unpack_from


def _expire(future: asyncio.Future) -> None:
    if not future.done():
        future.set_exception(asyncio.TimeoutError())


# The invoke header is a few known fields, and the result's meta line one: written and read
# without the JSON module when they hold nothing that needs escaping (the hot path of every
# warm invoke), with it otherwise.
_PLAIN = re.compile(r"^[A-Za-z0-9:/$._@+=-]*$")
_MAX_MEMORY = re.compile(rb'^\{"max_memory_mb": (\d+)\}$')


def _header_json(header: dict) -> bytes:
    request_id, arn = header["request_id"], header["invoked_function_arn"]
    if len(header) == 4 and header["client_context"] is None and _PLAIN.match(request_id) and _PLAIN.match(arn):
        return (
            f'{{"request_id": "{request_id}", "deadline_ms": {int(header["deadline_ms"])}, '
            f'"invoked_function_arn": "{arn}", "client_context": null}}'
        ).encode()
    return json.dumps(header).encode()


def _max_memory_of(meta: bytes) -> int:
    match = _MAX_MEMORY.match(meta)
    return int(match.group(1)) if match else json.loads(meta).get("max_memory_mb", 0)


class Spawner(Protocol):
    """Who forks the instance's process: the zygote's Launcher, or a SnapStart snapshot
    (snapshot.VersionZygote, whose children are restored: `restores`)."""

    restores: bool

    async def spawn(self, message: dict, control_fd: int, log_fd: int) -> int: ...

    def exit_status(self, pid: int) -> asyncio.Future: ...

    def forget(self, pid: int) -> None: ...


class ManagedInstance:
    def __init__(
        self,
        spec: FunctionSpec,
        instance_id: str,
        log_stream: str,
        env: dict[str, str],
        log: InvocationLog,
        spawner: Spawner,
        placement: Placement,
        host: SandboxHost,
        exec_argv: list[str] | None = None,
    ) -> None:
        self.spec = spec
        self.spawner = spawner
        self.placement = placement
        self.host = host
        self.exec_argv = exec_argv
        self.id = instance_id
        self.log_stream = log_stream
        self.env = env
        self.state = State.NEW
        self.log: InvocationLog = log
        self.provisioned = False
        self.last_used = time.monotonic()
        self.invocations = 0
        self._cgroup_peak_mb = 0
        self._pid: int | None = None
        self._exit: asyncio.Future | None = None
        self._control: Control | None = None
        self._log_transport: asyncio.BaseTransport | None = None
        # Per invocation in flight, its end marker: None until it is seen (then True), or the
        # future invoke() waits on when the result came first.
        self._markers: dict[str, asyncio.Future | bool | None] = {}
        self._exited = asyncio.Event()

    @property
    def pid(self) -> int | None:
        return self._pid

    @property
    def exited(self) -> asyncio.Future:
        """Resolves to the process's exit code (or -signal; None if unknowable) once it
        exits. Only after start() has spawned it."""
        assert self._exit is not None, "not spawned yet"
        return self._exit

    @property
    def gone(self) -> bool:
        """The process has exited (while idle, say), whatever the state says."""
        return self._exit is not None and self._exit.done()

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> InitOutcome:
        assert self.state is State.NEW
        started = time.perf_counter()
        control_parent, control_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        log_parent, log_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        message = {
            "env": self.env,
            "handler": self.spec.handler,
            "task_root": self.placement.task_root,
            "plan": self.placement.plan,
            "exec": self.exec_argv,
        }
        try:
            self._pid = await self.spawner.spawn(message, control_child.fileno(), log_child.fileno())
        except OSError:
            control_parent.close()
            log_parent.close()
            self.state = State.DEAD
            remove_cgroups(self.placement.cgroup_dirs)
            raise
        finally:
            control_child.close()
            log_child.close()
        self._exit = self.spawner.exit_status(self._pid)
        loop = asyncio.get_running_loop()
        _, self._control = await loop.create_unix_connection(Control, sock=control_parent)
        if self.spawner.restores:
            # A SnapStart restore: into its own cgroups first, then it may run.
            join_cgroups(self._pid, self.placement.plan.get("join") or [])
            assert self._control.transport is not None
            self._control.transport.write(frames.pack(frames.GO, b"{}"))
        # Keep the transport: dropping it would close the socket under the function's stdout.
        self._log_transport, _ = await loop.create_unix_connection(
            lambda: LogLines(self._emit, self._exited.set), sock=log_parent
        )
        if self.exec_argv:
            return InitOutcome(0.0, None)  # a custom runtime reports init through the Runtime API
        try:
            kind, header, _ = await self._read_frame()
        except InstanceDead:
            await self._drain_logs()
            reason = await self.exit_reason()
            await self.kill()
            return InitOutcome(0.0, faults.exit_error(reason))
        ready = json.loads(header)
        if ready.get("error"):
            await self._drain_logs()
            await self.kill()
            return InitOutcome(ready["init_ms"], ready["error"])
        self.state = State.READY
        self.host.initialized(self.placement)  # from now on, its CPU share
        if ready.get("restored"):
            # Restore Duration covers bringing the snapshot back (fork, cgroups, hooks), not
            # just the after-restore hooks the sandbox timed.
            return InitOutcome((time.perf_counter() - started) * 1000, None, restored=True)
        return InitOutcome(ready["init_ms"], None)

    async def kill(self) -> None:
        if self.state is State.DEAD and self._pid is None:
            return
        self.state = State.DEAD
        pid, self._pid = self._pid, None
        if pid is not None:
            try:
                os.killpg(pid, signal.SIGKILL)  # the whole session: whatever the function spawned too
            except (ProcessLookupError, PermissionError):
                pass
            try:
                await asyncio.wait_for(asyncio.shield(self.exited), 5.0)
            except asyncio.TimeoutError:
                pass
            self.spawner.forget(pid)
        if self._control is not None and self._control.transport is not None:
            self._control.transport.close()
        if self._log_transport is not None:
            self._log_transport.close()
        if self.placement.cgroup_dirs:
            asyncio.ensure_future(remove_cgroups_soon(self.placement.cgroup_dirs))

    async def exit_reason(self) -> str:
        """How the process ended, in the words of Lambda's Runtime.ExitError."""
        try:
            code = await asyncio.wait_for(asyncio.shield(self.exited), 2.0)
        except asyncio.TimeoutError:
            return "unknown"
        if code is None:
            return "unknown"
        if code < 0:
            name = {
                signal.SIGKILL: "killed",
                signal.SIGSEGV: "segmentation fault",
                signal.SIGTERM: "terminated",
                signal.SIGABRT: "aborted",
            }.get(-code)
            if name is None:
                try:
                    name = signal.Signals(-code).name.lower()
                except ValueError:
                    name = str(-code)
            return f"signal: {name}"
        return f"exit status {code}"

    # --- invoking -----------------------------------------------------------------------

    def max_memory_mb(self, runtime_peak_mb: int) -> int:
        """The runtime's own peak RSS (shared zygote pages included, as a process on AWS
        would count them), or the cgroup's peak when the function's children used more.
        Reading the cgroup costs a file read on the invoke path, so it is refreshed on the
        first invocation and every 64th: what the function's children used shows in Max
        Memory Used within 64 invocations."""
        if self.invocations % 64 == 1:
            self._cgroup_peak_mb = self.host.peak_memory_mb(self.placement)
        return max(runtime_peak_mb, self._cgroup_peak_mb)

    async def invoke(
        self, header: dict, payload: bytes, timeout_s: float, stream: ResponseStream | None = None
    ) -> RawResult:
        # `stream` is unused: the Python runtime answers in one piece, as on AWS (its
        # caller hands the whole payload on as one chunk).
        if self.state is not State.READY:
            raise InstanceDead(self.id)
        self.state = State.BUSY
        self.invocations += 1
        request_id = header["request_id"]
        self._markers[request_id] = None
        control = self._control
        assert control is not None and control.transport is not None  # READY: start() connected it
        # The result's future, failed with TimeoutError by a timer past the function's timeout.
        waiting = control.next_frame()
        timer = waiting.get_loop().call_later(timeout_s, _expire, waiting)
        control.transport.write(frames.pack(frames.INVOKE, _header_json(header), payload))
        try:
            kind, frame = await waiting
        except asyncio.TimeoutError:
            await self.kill()
            self._markers.pop(request_id, None)
            return RawResult("timeout", b"")
        except ConnectionError:
            await self._drain_logs()
            reason = await self.exit_reason()
            oom = self.host.oom_killed(self.placement)
            await self.kill()
            self._markers.pop(request_id, None)
            return RawResult("exit", b"", exit_reason=reason, out_of_memory=oom)
        finally:
            timer.cancel()
        meta, _, body = frame.partition(b"\n")
        if self._markers.get(request_id) is not True:  # the log lines usually arrive before the result
            marker = self._markers[request_id] = waiting.get_loop().create_future()
            timer = waiting.get_loop().call_later(MARKER_WAIT_S, _expire, marker)
            try:
                await marker
            except asyncio.TimeoutError:
                pass
            finally:
                timer.cancel()
        self._markers.pop(request_id, None)
        self.state = State.READY
        self.last_used = time.monotonic()
        return RawResult("result" if kind == frames.RESULT else "error", body, _max_memory_of(meta))

    async def _read_frame(self) -> tuple[int, bytes, bytes]:
        control = self._control
        assert control is not None  # start() connected it
        try:
            kind, body = await control.next_frame()
        except ConnectionError:
            raise InstanceDead(self.id) from None
        header, _, payload = body.partition(b"\n")
        return kind, header, payload

    # --- logs ---------------------------------------------------------------------------

    def _emit(self, lines: list[bytes]) -> None:
        now = int(time.time() * 1000)
        events = []
        for line in lines:
            # Output the function left without a trailing newline ends up in front of the
            # marker on the same line: it is a log line of its own, the rest is the marker.
            at = line.find(frames.END_MARKER)
            if at > 0:
                line, marker = line[:at], line[at:]
                text = line.decode("utf-8", "replace").replace("\r", "\n")
                for start in range(0, len(text), LOG_LINE_LIMIT):
                    events.append((now, text[start : start + LOG_LINE_LIMIT]))
                line = marker
            if line.startswith(frames.END_MARKER):
                if events:
                    self.log(events)
                    events = []
                request_id = line[len(frames.END_MARKER) :].decode(errors="replace").strip()
                if request_id in self._markers:
                    waiting = self._markers[request_id]
                    if waiting is None:
                        self._markers[request_id] = True
                    elif isinstance(waiting, asyncio.Future) and not waiting.done():
                        waiting.set_result(None)
                continue
            text = line.decode("utf-8", "replace").replace("\r", "\n")
            for start in range(0, max(len(text), 1), LOG_LINE_LIMIT):
                events.append((now, text[start : start + LOG_LINE_LIMIT]))
        if events:
            self.log(events)

    async def _drain_logs(self) -> None:
        """After the process died or failed init: wait briefly for its last lines."""
        try:
            await asyncio.wait_for(self._exited.wait(), 0.5)
        except asyncio.TimeoutError:
            pass
