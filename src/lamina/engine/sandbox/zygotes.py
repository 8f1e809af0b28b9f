"""The zygotes: per Python interpreter a lean one and one with the SDK preloaded (boto3,
botocore, their data), each on its own version; and a plain one that only forks and execs
(custom runtimes, Node.js).

Which of an interpreter's two a function forks from depends on its code: one whose code or
layers import boto3 or botocore gets the SDK's (its init then costs milliseconds, not
seconds); any other the lean one, which costs each instance less memory (a fork maps all
of its zygote). Both see the same packages: only what is already imported differs.

Zygotes start on first use, or ahead of it with prepare() (a function of that runtime was
created or loaded), so that the first cold start does not pay for the interpreter's own.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys

from .. import faults
from ..runtimes import Interpreter, Runtimes
from .launcher import Launcher, ZygoteSetup
from .runtime_packages import RuntimePackages

RUNTIME_MOUNT = "/var/runtime"  # where sandboxes see the runtime's packages (as on AWS)
_SDK_IMPORT = re.compile(rb"^[ \t]*(?:import|from)[ \t]+(?:boto3|botocore)\b", re.MULTILINE)
SCAN_LIMIT = 2000  # .py files read at most per function (a big vendored tree stops early)


def imports_sdk(directories: list[str]) -> bool:
    """Whether any Python file under `directories` imports boto3 or botocore (read once per
    code package: code dirs never change)."""
    seen = 0
    for directory in directories:
        for root, _, files in os.walk(directory):
            for name in files:
                if not name.endswith(".py"):
                    continue
                seen += 1
                if seen > SCAN_LIMIT:
                    return True  # a large package likely uses it somewhere: the fast start matters more
                try:
                    with open(os.path.join(root, name), "rb") as handle:
                        if _SDK_IMPORT.search(handle.read()):
                            return True
                except OSError:
                    continue
    return False


class Zygotes:
    def __init__(self, runtimes: Runtimes, packages: RuntimePackages, mounted: bool) -> None:
        self.runtimes = runtimes
        self.packages = packages
        self.mounted = mounted  # the zygotes bind the packages at /var/runtime (isolated hosts)
        self.plain = Launcher(ZygoteSetup(python=os.path.realpath(sys.executable)))
        self._python: dict[tuple[str, bool], Launcher] = {}  # (interpreter path, SDK preloaded) -> its zygote
        self._warming: set[asyncio.Future] = set()
        self._sdk_users: dict[tuple[str, str | None], bool] = {}  # (code dir, layers dir) -> imports the SDK

    async def for_interpreter(self, interpreter: Interpreter, sdk: bool = False) -> Launcher:
        key = (interpreter.path, sdk)
        launcher = self._python.get(key)
        if launcher is None:
            major, minor = (int(n) for n in interpreter.version.split(".")[:2])
            version = (major, minor)
            loop = asyncio.get_running_loop()
            packages = await loop.run_in_executor(None, self.packages.for_version, version)
            launcher = self._python.get(key)  # another cold start got here first
            if launcher is None:
                setup = ZygoteSetup(
                    python=interpreter.path,
                    packages=packages,
                    preload_sdk=sdk and packages is not None,
                    mount_at=RUNTIME_MOUNT if self.mounted and packages else None,
                )
                launcher = self._python[key] = Launcher(setup)
        return launcher

    async def for_function(self, interpreter: Interpreter, code_dir: str, opt_dir: str | None) -> Launcher:
        """The zygote a function's instances fork from: the SDK's if its code uses the SDK."""
        key = (code_dir, opt_dir)
        if key not in self._sdk_users:
            loop = asyncio.get_running_loop()
            self._sdk_users[key] = await loop.run_in_executor(None, imports_sdk, [d for d in key if d])
        return await self.for_interpreter(interpreter, self._sdk_users[key])

    def missing(self, runtime: str) -> dict[str, str]:
        """The init error of an instance whose runtime has no interpreter on this host."""
        return faults.fault(faults.RUNTIME_INVALID_ENTRYPOINT, self.runtimes.missing(runtime))

    async def find(self, runtime: str) -> Interpreter | None:
        """The runtime's interpreter (the first look runs it to ask its version: off the loop)."""
        return await asyncio.get_running_loop().run_in_executor(None, self.runtimes.find, runtime)

    def prepare(self, runtime: str) -> None:
        """Start the zygote of `runtime` in the background, if this host has its interpreter."""
        task = asyncio.ensure_future(self._prepare(runtime))
        self._warming.add(task)
        task.add_done_callback(self._warmed)

    async def _prepare(self, runtime: str) -> None:
        interpreter = await self.find(runtime)
        if interpreter is not None and interpreter.python:
            await (await self.for_interpreter(interpreter)).start()
            await (await self.for_interpreter(interpreter, sdk=True)).start()

    def _warmed(self, task: asyncio.Future) -> None:
        self._warming.discard(task)
        if not task.cancelled():
            task.exception()  # a zygote that failed to start fails the cold start that needs it, with its reason

    async def close(self) -> None:
        for task in list(self._warming):
            task.cancel()
        for launcher in [self.plain, *self._python.values()]:
            await launcher.close()
