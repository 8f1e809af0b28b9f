"""The managed Node.js runtimes (nodejs18.x, nodejs20.x, nodejs22.x): a `node` process
running Lamina's Node runtime client (guest/nodejs/index.mjs), which speaks the Lambda
Runtime API like AWS's own, so an instance is a CustomRuntimeInstance whose bootstrap is
node.

The runtime's directory (the client, and the AWS SDK for JavaScript v3 that `make install`
puts in its node_modules) is mounted at /var/runtime, as on AWS.

Node cannot fork a zygote: a new instance execs node from the zygote's fork.
"""

from __future__ import annotations

import os

from ..runtimes import NODE_VERSIONS, Interpreter
from ..spec import FunctionSpec
from .custom import CustomRuntimeInstance
from .environment import Platform
from .guest import DIRECTORY as GUEST_DIRECTORY
from .host import Placement, SandboxHost
from .launcher import Launcher
from .runtime_api import RuntimeApi

RUNTIME_DIR = os.path.join(GUEST_DIRECTORY, "nodejs")  # the client, and node_modules/ with the SDK
RUNTIME_MOUNT = "/var/runtime"  # where a sandbox sees it, as on AWS
CLIENT = "index.mjs"

# Variables of the Python runtime that a Node function has no use for.
PYTHON_ONLY = ("PYTHONDONTWRITEBYTECODE", "_LAMINA_OPT")


def sdk_installed() -> bool:
    """Is the SDK for JavaScript installed (`make install` runs `npm ci` where npm exists)?"""
    return os.path.isdir(os.path.join(RUNTIME_DIR, "node_modules", "@aws-sdk"))


def node_environment(env: dict[str, str], spec: FunctionSpec, placement: Placement) -> dict[str, str]:
    """The Python-flavoured sandbox environment made a Node one, as AWS's nodejsNN.x sets it."""
    for name in PYTHON_ONLY:
        env.pop(name, None)
    isolated = bool(placement.plan.get("namespaces"))
    runtime = RUNTIME_MOUNT if isolated else RUNTIME_DIR
    opt = "/opt" if isolated else (spec.opt_dir or "/opt")
    major = NODE_VERSIONS[spec.runtime]
    env["NODE_PATH"] = ":".join(
        (
            f"{opt}/nodejs/node{major}/node_modules",
            f"{opt}/nodejs/node_modules",
            f"{runtime}/node_modules",
            runtime,
            placement.task_root,
        )
    )
    env["LAMBDA_RUNTIME_DIR"] = runtime
    return env


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
        env = self.platform.environment(
            spec, log.stream, placement, runtime_api=address, interpreter=interpreter.path, runtime_dir=RUNTIME_MOUNT
        )
        env = node_environment(env, spec, placement)
        if placement.plan.get("namespaces"):
            placement.plan["binds"] = [[RUNTIME_DIR, RUNTIME_MOUNT]]
            client = os.path.join(RUNTIME_MOUNT, CLIENT)
        else:
            client = os.path.join(RUNTIME_DIR, CLIENT)
        argv = [interpreter.path, client]
        return CustomRuntimeInstance(
            spec, instance_id, log.stream, env, log, self.launcher, placement, self.host, exec_argv=argv, api=api
        )

    async def close(self) -> None:
        pass
