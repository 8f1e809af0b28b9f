"""The engine's side of the zygote: start it, ask it for instances, hear when they exit.

One Launcher per server. spawn() hands the zygote the instance's two socket ends and its
plan and returns the child's pid; exits arrive as messages and resolve the per-pid
futures that ManagedInstance.kill() and the exit-reason code wait on. If the zygote dies, the
next spawn starts a new one (its orphaned children keep running until killed).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import socket
import subprocess
import sys

from . import guest
from .guest import frames

log = logging.getLogger("lamina.sandbox")


class Launcher:
    restores = False  # its children start cold (see managed.Spawner)

    def __init__(self) -> None:
        self._channel: socket.socket | None = None
        self._process: subprocess.Popen | None = None
        self._pending: dict[str, asyncio.Future] = {}
        self._exits: dict[int, asyncio.Future] = {}
        self._ids = itertools.count(1)
        self._starting: asyncio.Future | None = None

    async def start(self) -> None:
        if self._channel is not None:
            return
        if self._starting is not None:
            await asyncio.shield(self._starting)
            return
        loop = asyncio.get_running_loop()
        self._starting = loop.create_future()
        try:
            engine_end, zygote_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "_LAMINA_ZYGOTE_FD": str(zygote_end.fileno()),
                "PYTHONDONTWRITEBYTECODE": "1",
            }
            self._process = await loop.run_in_executor(
                None,
                lambda: subprocess.Popen(
                    [sys.executable, "-s", os.path.join(guest.DIRECTORY, "zygote.py")],
                    env=env,
                    pass_fds=(zygote_end.fileno(),),
                    stdin=subprocess.DEVNULL,
                    close_fds=True,
                ),
            )
            zygote_end.close()
            engine_end.setblocking(False)
            self._channel = engine_end
            ready = json.loads(await loop.sock_recv(engine_end, frames.MAX_MESSAGE))
            assert ready["op"] == "ready", ready
            asyncio.ensure_future(self._listen(engine_end))
            self._starting.set_result(None)
        except BaseException as error:
            self._starting.set_exception(error)
            self._channel = None
            raise
        finally:
            starting, self._starting = self._starting, None
            if not starting.done():
                starting.cancel()

    async def _listen(self, channel: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                data = await loop.sock_recv(channel, frames.MAX_MESSAGE)
                if not data:
                    break
                message = json.loads(data)
                op = message.get("op")
                if op in ("spawned", "failed"):
                    future = self._pending.pop(message["id"], None)
                    if future is not None and not future.done():
                        if op == "spawned":
                            future.set_result(message["pid"])
                        else:
                            future.set_exception(OSError(message.get("error", "spawn failed")))
                elif op == "exit":
                    future = self._exits.setdefault(message["pid"], loop.create_future())
                    if not future.done():
                        future.set_result(message["status"])
        except (OSError, ValueError):
            log.exception("lost the zygote")
        finally:
            if self._channel is channel:
                self._channel = None
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(OSError("the zygote exited"))
            self._pending.clear()
            # Children of a dead zygote will never be reported: treat them as gone.
            for future in self._exits.values():
                if not future.done():
                    future.set_result(None)

    async def spawn(self, message: dict, control_fd: int, log_fd: int) -> int:
        await self.start()
        loop = asyncio.get_running_loop()
        request_id = str(next(self._ids))
        future = self._pending[request_id] = loop.create_future()
        data = json.dumps(dict(message, op="spawn", id=request_id)).encode()
        channel = self._channel
        if channel is None:
            raise OSError("the zygote is gone")
        while True:
            try:
                socket.send_fds(channel, [data], [control_fd, log_fd])
                break
            except BlockingIOError:
                await asyncio.sleep(0.001)
        pid = await future
        self._exits.setdefault(pid, loop.create_future())
        return pid

    def exit_status(self, pid: int) -> asyncio.Future:
        """Resolves to the exit code (or -signal) of the child, None if unknowable."""
        loop = asyncio.get_running_loop()
        return self._exits.setdefault(pid, loop.create_future())

    def forget(self, pid: int) -> None:
        self._exits.pop(pid, None)

    async def close(self) -> None:
        channel, self._channel = self._channel, None
        if channel is not None:
            channel.close()
        if self._process is not None:
            process, self._process = self._process, None
            process.kill()
            await asyncio.get_running_loop().run_in_executor(None, process.wait)
