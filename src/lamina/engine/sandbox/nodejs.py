"""The managed Node.js runtimes (nodejs18.x, nodejs20.x, nodejs22.x): a `node` process
running Lamina's Node runtime client (guest/nodejs/), which speaks the Lambda Runtime API
like AWS's own, so an instance is a CustomRuntimeInstance whose bootstrap is node.

Node cannot fork a zygote: a new instance execs node from the zygote's fork.
"""

from __future__ import annotations

import os

from ..runtimes import Interpreter
from ..spec import FunctionSpec
from .custom import CustomRuntimeInstance
from .environment import Platform
from .guest import DIRECTORY as GUEST_DIRECTORY
from .host import Placement, SandboxHost
from .launcher import Launcher
from .runtime_api import RuntimeApi

BOOTSTRAP = os.path.join(GUEST_DIRECTORY, "nodejs", "bootstrap.mjs")


class NodeRuntime:
    def __init__(self, host: SandboxHost, launcher: Launcher, platform: Platform) -> None:
        self.host = host
        self.launcher = launcher  # forks and execs: no Python preloaded
        self.platform = platform

    async def launch(
        self, spec: FunctionSpec, instance_id: str, log, interpreter: Interpreter, placement: Placement
    ) -> CustomRuntimeInstance:
        api = RuntimeApi()
        address = await api.start()
        env = self.platform.environment(spec, log.stream, placement, runtime_api=address)
        env.pop("_LAMINA_OPT", None)
        argv = [interpreter.path, BOOTSTRAP]
        return CustomRuntimeInstance(
            spec, instance_id, log.stream, env, log, self.launcher, placement, self.host, exec_argv=argv, api=api
        )

    async def close(self) -> None:
        pass
