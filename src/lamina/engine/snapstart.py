"""SnapStart: one snapshot per published version, made once (at publish, or on the first
cold start that needs it) and restored from by every instance of that version.

A snapshot is a per-version zygote (sandbox/snapshot.py) that has run the function's init
and its before-snapshot hooks. Its own output (the init) goes to a log stream of its own
for as long as it lives. A snapshot whose init failed is kept, so that each cold start
reports that error as a failed init would be; one that died since is made again.
"""

from __future__ import annotations

import asyncio
import socket

from .. import ids
from ..observability.logsink import LogSink
from .invocation_log import InvocationLog, pump_lines, stream_name
from .sandbox.cgroups import remove_soon as remove_cgroups_soon
from .sandbox.environment import SNAP_START, Platform
from .sandbox.host import SandboxHost
from .sandbox.snapshot import VersionZygote
from .sandbox.zygotes import Zygotes
from .spec import FunctionSpec


class Snapshots:
    def __init__(self, sink: LogSink, host: SandboxHost, zygotes: Zygotes, platform: Platform) -> None:
        self.sink = sink
        self.host = host
        self.zygotes = zygotes
        self.platform = platform
        self._snapshots: dict[str, asyncio.Future] = {}  # pool key -> the snapshot being made or made

    async def get(self, spec: FunctionSpec) -> VersionZygote:
        """The version's snapshot: made now if there is none (callers share one making)."""
        pending = self._snapshots.get(spec.pool_key)
        if pending is None:
            pending = self._snapshots[spec.pool_key] = asyncio.ensure_future(self._make(spec))
        snapshot = await asyncio.shield(pending)
        if not snapshot.alive and snapshot.error is None:
            self._snapshots.pop(spec.pool_key, None)  # it died since: make it again next time
        return snapshot

    def forget(self, spec: FunctionSpec) -> None:
        """Its init failed and was reported: the next cold start tries again."""
        self._snapshots.pop(spec.pool_key, None)

    async def _make(self, spec: FunctionSpec) -> VersionZygote:
        log = await InvocationLog.open(self.sink, spec, stream_name(spec.version, f"snapshot-{ids.hex32()[:16]}"))
        interpreter = await self.zygotes.find(spec.runtime)
        if interpreter is None:
            return VersionZygote.failed(self.zygotes.missing(spec.runtime))
        placement = self.host.place_snapshot(spec, opt_dir=spec.opt_dir, interpreter_prefix=interpreter.prefix)
        launcher = await self.zygotes.for_function(interpreter, spec.code_dir, spec.opt_dir)
        env = self.platform.environment(
            spec,
            log.stream,
            placement,
            SNAP_START,
            interpreter=interpreter.path,
            runtime_dir=launcher.setup.runtime_dir,
        )
        log_parent, log_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        snapshot = VersionZygote()
        try:
            await snapshot.create(
                launcher,
                {"env": env, "handler": spec.handler, "task_root": placement.task_root, "plan": placement.plan},
                log_child.fileno(),
            )
        finally:
            log_child.close()
        reader, writer = await asyncio.open_unix_connection(sock=log_parent)
        snapshot.log_task = asyncio.ensure_future(pump_lines(reader, writer, log))
        snapshot.cgroup_dirs = placement.cgroup_dirs
        return snapshot

    async def drop(self, prefix: str) -> None:
        """Every snapshot of the pool keys under `prefix` goes (a version or function was deleted)."""
        for key in [k for k in self._snapshots if k.startswith(prefix)]:
            pending = self._snapshots.pop(key)
            if pending.done() and not pending.cancelled() and pending.exception() is None:
                snapshot = pending.result()
                await snapshot.close()
                # Its processes were just killed: the kernel may not have let go of the
                # groups yet, so retry for a moment (rmdir once left the group behind).
                await remove_cgroups_soon(snapshot.cgroup_dirs)

    async def close(self) -> None:
        await self.drop("")
