"""The engine's side of a zygote: start it, ask it for instances, hear when they exit.

One Launcher per interpreter (zygotes.py holds them). spawn() hands the zygote the instance's two socket ends and its
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
from dataclasses import dataclass

from . import guest
from .guest import frames

log = logging.getLogger("lamina.sandbox")


@dataclass(frozen=True)
class ZygoteSetup:
    """How a zygote is started: which interpreter, and what its instances import from.

    The interpreter runs isolated (-I -S): neither Lamina's venv nor the host's own
    site-packages are on its path, only the standard library and, when `packages` is set,
    the runtime's packages (runtime_packages.py). `mount_at` puts them where AWS
    has them (/var/runtime): the zygote, root in its own mount namespace, binds them there,
    so module paths and tracebacks name /var/runtime, not Lamina's data dir. A zygote with
    `preload_sdk` has boto3 imported and its data files loaded: its instances start a
    boto3-using init in milliseconds, but each one maps (and counts pro rata in its PSS)
    the zygote's larger memory, so functions that don't use the SDK fork from a lean one."""

    python: str = sys.executable
    packages: str | None = None  # the runtime packages dir (boto3, botocore, ...)
    preload_sdk: bool = False  # boto3 and botocore imported, their data loaded, before forking
    mount_at: str | None = None  # where the zygote binds `packages` (root only)

    @property
    def runtime_dir(self) -> str:
        """LAMBDA_RUNTIME_DIR, as its instances see it."""
        return self.mount_at or self.packages or guest.DIRECTORY


class Launcher:
    restores = False  # its children start cold (see managed.Spawner)

    def __init__(self, setup: ZygoteSetup | None = None) -> None:
        self.setup = setup or ZygoteSetup()
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
            setup = self.setup
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "_LAMINA_ZYGOTE_FD": str(zygote_end.fileno()),
                # The SDK's own settings must not come from the host: nothing of the kind is
                # read before an instance has its function's environment.
                "HOME": "/nonexistent",
                "AWS_CONFIG_FILE": "/nonexistent",
                "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
            }
            if setup.packages:
                env["_LAMINA_PACKAGES"] = setup.packages
            if setup.preload_sdk:
                env["_LAMINA_PRELOAD_SDK"] = "1"
            if setup.mount_at:
                env["_LAMINA_PACKAGES_AT"] = setup.mount_at
            self._process = await loop.run_in_executor(
                None,
                lambda: subprocess.Popen(
                    [setup.python, "-I", "-S", os.path.join(guest.DIRECTORY, "zygote.py")],
                    env=env,
                    pass_fds=(zygote_end.fileno(),),
                    stdin=subprocess.DEVNULL,
                    close_fds=True,
                ),
            )
            zygote_end.close()
            engine_end.setblocking(False)
            self._channel = engine_end
            data = await loop.sock_recv(engine_end, frames.MAX_MESSAGE)
            if not data:
                raise OSError(f"the zygote of {setup.python} exited as it started (its output is in the server's log)")
            ready = json.loads(data)
            assert ready["op"] == "ready", ready
            asyncio.ensure_future(self._listen(engine_end))
            self._starting.set_result(None)
        except asyncio.CancelledError:
            self._starting.cancel()  # stopped while starting (the server is going): nothing to report
            self._channel = None
            raise
        except BaseException as error:
            self._starting.set_exception(error)
            self._starting.exception()  # the caller raises it; waiters, if any, get it too
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
