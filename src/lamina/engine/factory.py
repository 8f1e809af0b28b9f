"""Launching: which sandbox a function version gets, built and started.

    SnapStart version   a ManagedInstance restored from the version's snapshot
                        (or a DeadSandbox with the snapshot's init error)
    provided.* runtime  a CustomRuntimeInstance running the function's `bootstrap`, with
                        a Runtime API of its own (or a DeadSandbox: no bootstrap found)
    nodejs*             a Node.js instance (sandbox/nodejs.py)
    python*             a ManagedInstance forked cold from its interpreter's zygote
                        (or a DeadSandbox: this host has no interpreter for it)

The pool is the only caller (Pool.acquire for on-demand instances, Pool.start_provisioned
for provisioned concurrency): launch() returns the sandbox and its InitOutcome, and the
sandbox is DEAD if its init failed. Each instance gets a log stream of its own.
"""

from __future__ import annotations

import os

from .. import ids
from ..observability.logsink import LogSink
from . import faults
from .invocation_log import InvocationLog, stream_name
from .sandbox import guest
from .sandbox.base import InitOutcome, Sandbox
from .sandbox.cgroups import remove as remove_cgroups
from .sandbox.custom import CustomRuntimeInstance
from .sandbox.dead import DeadSandbox
from .sandbox.environment import ON_DEMAND, SNAP_START, Platform
from .sandbox.host import Placement, SandboxHost
from .sandbox.managed import ManagedInstance
from .sandbox.nodejs import NodeRuntime
from .sandbox.runtime_api import RuntimeApi
from .sandbox.zygotes import Zygotes
from .snapstart import Snapshots
from .spec import FunctionSpec

GUEST_MOUNT = "/var/lamina"  # where an isolated instance sees Lamina's runtime files when it execs them


class SandboxFactory:
    def __init__(
        self,
        sink: LogSink,
        host: SandboxHost,
        zygotes: Zygotes,
        snapshots: Snapshots,
        platform: Platform,
    ) -> None:
        self.sink = sink
        self.host = host
        self.zygotes = zygotes
        self.snapshots = snapshots
        self.platform = platform
        self.node = NodeRuntime(host, zygotes.plain, platform)

    async def launch(self, spec: FunctionSpec, initialization_type: str = ON_DEMAND) -> tuple[Sandbox, InitOutcome]:
        instance_id = ids.hex32()
        log = await InvocationLog.open(self.sink, spec, stream_name(spec.version, instance_id))
        log.listen()  # init output belongs to the first invocation's tail
        sandbox: Sandbox
        if spec.snap_start:
            sandbox = await self._restored(spec, instance_id, log)
        elif spec.runtime.startswith("provided"):
            sandbox = await self._custom(spec, instance_id, log)
        else:
            sandbox = await self._managed(spec, instance_id, log, initialization_type)
        return sandbox, await sandbox.start()

    async def _managed(
        self, spec: FunctionSpec, instance_id: str, log: InvocationLog, initialization_type: str
    ) -> Sandbox:
        """A language runtime's instance, on the interpreter of its version."""
        interpreter = await self.zygotes.find(spec.runtime)
        if interpreter is None:
            return DeadSandbox(spec, instance_id, log, InitOutcome(0.0, self.zygotes.missing(spec.runtime)))
        placement = self.host.place(spec, opt_dir=spec.opt_dir, interpreter_prefix=interpreter.prefix)
        if not interpreter.python:
            return await self.node.launch(spec, instance_id, log, interpreter, placement, initialization_type)
        if "AWS_LAMBDA_EXEC_WRAPPER" in spec.environment and placement.plan.get("namespaces"):
            # The runtime is exec'd through the wrapper (guest/standalone.py): its files must be
            # in sight of the sandbox, wherever Lamina is installed (/tmp is covered, say).
            placement.plan.setdefault("binds", []).append([guest.DIRECTORY, GUEST_MOUNT])
            placement.plan["runtime_files"] = GUEST_MOUNT
        launcher = await self.zygotes.for_function(interpreter, spec.code_dir, spec.opt_dir)
        env = self.platform.environment(
            spec,
            log.stream,
            placement,
            initialization_type,
            interpreter=interpreter.path,
            runtime_dir=launcher.setup.runtime_dir,
        )
        return ManagedInstance(spec, instance_id, log.stream, env, log, launcher, placement, self.host)

    def prepare(self, runtime: str) -> None:
        """A function of `runtime` exists: get its zygotes (Python) or its pool of waiting
        processes (Node.js) ready in the background, before its first cold start."""
        if runtime.startswith("nodejs"):
            self.node.prepare(runtime, self.zygotes)
        else:
            self.zygotes.prepare(runtime)

    async def _restored(self, spec: FunctionSpec, instance_id: str, log: InvocationLog) -> Sandbox:
        snapshot = await self.snapshots.get(spec)
        if not snapshot.alive:
            # The snapshot's init failed: report it the way a failed cold init is reported.
            self.snapshots.forget(spec)
            return DeadSandbox(spec, instance_id, log, InitOutcome(snapshot.init_ms, snapshot.error))
        placement = self.host.place_restored(spec)
        env = self.platform.environment(spec, log.stream, placement, SNAP_START)
        return ManagedInstance(spec, instance_id, log.stream, env, log, snapshot, placement, self.host)

    async def _custom(self, spec: FunctionSpec, instance_id: str, log: InvocationLog) -> Sandbox:
        """A provided.* runtime: its `bootstrap` executable, with a Runtime API of its own."""
        placement = self.host.place(spec, opt_dir=spec.opt_dir)
        entry = _bootstrap_of(spec, placement)
        if entry is None:
            remove_cgroups(placement.cgroup_dirs)
            return DeadSandbox(
                spec,
                instance_id,
                log,
                InitOutcome(
                    0.0,
                    faults.fault(
                        faults.RUNTIME_INVALID_ENTRYPOINT,
                        "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]",
                    ),
                ),
            )
        api = RuntimeApi()
        address = await api.start()
        env = self.platform.environment(spec, log.stream, placement, runtime_api=address)
        env.pop("_LAMINA_OPT", None)
        return CustomRuntimeInstance(
            spec,
            instance_id,
            log.stream,
            env,
            log,
            self.zygotes.plain,
            placement,
            self.host,
            exec_argv=[entry],
            api=api,
        )

    async def close(self) -> None:
        await self.snapshots.close()
        await self.node.close()
        await self.zygotes.close()
        self.host.close()


def _bootstrap_of(spec: FunctionSpec, placement: Placement) -> str | None:
    """Where the runtime's `bootstrap` is, as the sandbox sees it: the code's, else a layer's."""
    if os.path.exists(os.path.join(spec.code_dir, "bootstrap")):
        return os.path.join(placement.task_root, "bootstrap")
    if spec.opt_dir and os.path.exists(os.path.join(spec.opt_dir, "bootstrap")):
        return os.path.join(placement.opt_dir or spec.opt_dir, "bootstrap")
    return None
