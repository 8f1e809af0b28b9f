"""SnapStart: a per-version zygote whose init has already run, and the engine's handle on it.

create() asks the main zygote for a "snapshot" child: in its sandbox it imports the
handler and runs the before-snapshot hooks, then serves fork requests like a zygote.
spawn() has the same contract as Launcher.spawn(), so a ManagedInstance restored from the
snapshot is driven exactly like a cold one; in addition the restored child announces its
host pid (SCM_CREDENTIALS), the engine puts it in its cgroups and sends GO, and the
child runs the after-restore hooks (reported as Restore Duration).

Instances of one version share the snapshot's mount and PID namespaces (their own
cgroups, though): a restored process has already dropped the privileges it would need
to build namespaces of its own.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import signal
import socket
import struct

from .. import faults
from .guest import frames
from .launcher import Launcher

log = logging.getLogger("lamina.sandbox")


class VersionZygote:
    restores = True  # ManagedInstance.start() hands restored children their cgroups, then GO

    def __init__(self) -> None:
        self._channel: socket.socket | None = None
        self._relay_pid: int | None = None
        self._pending: dict[str, asyncio.Future] = {}
        self._hosts: dict[str, asyncio.Future] = {}
        self._inner_to_host: dict[int, int] = {}
        self._exits: dict[int, asyncio.Future] = {}
        self._ids = itertools.count(1)
        self.init_ms = 0.0
        self.error: dict | None = None
        self.alive = False
        self.log_task: asyncio.Future | None = None  # pumps the snapshot's own output to its log stream
        self.cgroup_dirs: list[str] = []

    @classmethod
    def failed(cls, error: dict) -> VersionZygote:
        """A snapshot that could not be made at all (no interpreter for its runtime)."""
        snapshot = cls()
        snapshot.error = error
        return snapshot

    async def create(self, launcher: Launcher, message: dict, log_fd: int, timeout_s: float = 30.0) -> None:
        loop = asyncio.get_running_loop()
        engine_end, zygote_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        engine_end.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        engine_end.setblocking(False)
        try:
            self._relay_pid = await launcher.spawn(dict(message, snapshot=True), zygote_end.fileno(), log_fd)
        finally:
            zygote_end.close()
        self._channel = engine_end
        first = loop.create_future()
        ready = loop.create_future()
        self._pending["snapshot"] = first
        self._pending["ready"] = ready
        loop.add_reader(engine_end.fileno(), self._on_readable)
        try:
            report = await asyncio.wait_for(first, timeout_s)
        except (asyncio.TimeoutError, OSError):
            self.error = faults.fault(faults.RUNTIME_EXIT_ERROR, "SnapStart init did not complete")
            await self.close()
            return
        self.init_ms = report.get("init_ms", 0.0)
        self.error = report.get("error")
        if self.error is not None:
            await self.close()
            return
        await asyncio.wait_for(ready, timeout_s)
        self.alive = True

    def _on_readable(self) -> None:
        channel = self._channel
        if channel is None:
            return
        while True:
            try:
                data, ancillary, _, _ = channel.recvmsg(frames.MAX_MESSAGE, socket.CMSG_SPACE(12))
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._lost()
                return
            message = json.loads(data)
            op = message.get("op")
            if op == "snapshot":
                self._settle("snapshot", message)
            elif op == "ready":
                self._settle("ready", message)
            elif op in ("spawned", "failed"):
                if op == "spawned":
                    self._settle(message["id"], message["pid"])
                else:
                    future = self._pending.pop(message["id"], None)
                    if future is not None and not future.done():
                        future.set_exception(OSError(message.get("error", "restore failed")))
            elif op == "hello":
                host_pid = None
                for level, kind, value in ancillary:
                    if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                        host_pid = struct.unpack("3i", value[:12])[0]
                future = self._hosts.get(message["id"])
                if future is not None and not future.done():
                    future.set_result(host_pid)
            elif op == "exit":
                host = self._inner_to_host.pop(message["pid"], None)
                if host is not None:
                    future = self._exits.setdefault(host, asyncio.get_running_loop().create_future())
                    if not future.done():
                        future.set_result(message["status"])

    def _settle(self, key: str, value) -> None:
        future = self._pending.pop(key, None)
        if future is not None and not future.done():
            future.set_result(value)

    def _lost(self) -> None:
        self.alive = False
        if self._channel is not None:
            asyncio.get_running_loop().remove_reader(self._channel.fileno())
            self._channel.close()
            self._channel = None
        for future in list(self._pending.values()) + list(self._hosts.values()):
            if not future.done():
                future.set_exception(OSError("the SnapStart zygote exited"))
        self._pending.clear()
        for future in self._exits.values():
            if not future.done():
                future.set_result(None)

    async def spawn(self, message: dict, control_fd: int, log_fd: int) -> int:
        if not self.alive or self._channel is None:
            raise OSError("the SnapStart zygote is gone")
        loop = asyncio.get_running_loop()
        request_id = str(next(self._ids))
        spawned = self._pending[request_id] = loop.create_future()
        host = self._hosts[request_id] = loop.create_future()
        data = json.dumps({"op": "spawn", "id": request_id, "env": message["env"]}).encode()
        while True:
            try:
                socket.send_fds(self._channel, [data], [control_fd, log_fd])
                break
            except BlockingIOError:
                await asyncio.sleep(0.001)
        try:
            inner = await asyncio.wait_for(spawned, 10)
            host_pid = await asyncio.wait_for(host, 10)
        finally:
            self._hosts.pop(request_id, None)
        if not host_pid:
            raise OSError("a restored instance did not say who it is")
        self._inner_to_host[inner] = host_pid
        self._exits.setdefault(host_pid, loop.create_future())
        return host_pid

    def exit_status(self, pid: int) -> asyncio.Future:
        return self._exits.setdefault(pid, asyncio.get_running_loop().create_future())

    def forget(self, pid: int) -> None:
        self._exits.pop(pid, None)

    async def close(self) -> None:
        if self._relay_pid is not None:
            try:
                os.killpg(self._relay_pid, signal.SIGKILL)  # the snapshot and every instance forked from it
            except (ProcessLookupError, PermissionError):
                pass
            self._relay_pid = None
        self._lost()
