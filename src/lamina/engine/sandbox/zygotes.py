"""One zygote per interpreter: the Python runtimes' (each on its own version, the runtime's
packages preloaded) and a plain one that only forks and execs (custom runtimes, Node.js).

Zygotes start on first use, or ahead of it with prepare() (a function of that runtime was
created or loaded), so that the first cold start does not pay for the interpreter's own.
"""

from __future__ import annotations

import asyncio
import os
import sys

from ..runtimes import Interpreter, Runtimes
from .launcher import Launcher, ZygoteSetup
from .runtime_packages import RuntimePackages

RUNTIME_MOUNT = "/var/runtime"  # where sandboxes see the runtime's packages (as on AWS)


class Zygotes:
    def __init__(self, runtimes: Runtimes, packages: RuntimePackages, mounted: bool, pycache: str | None) -> None:
        self.runtimes = runtimes
        self.packages = packages
        self.mounted = mounted  # the zygotes bind the packages at /var/runtime (isolated hosts)
        self.pycache = pycache
        self.plain = Launcher(ZygoteSetup(python=os.path.realpath(sys.executable)))
        self._python: dict[str, Launcher] = {}  # interpreter path -> its zygote
        self._warming: set[asyncio.Future] = set()

    async def for_interpreter(self, interpreter: Interpreter) -> Launcher:
        launcher = self._python.get(interpreter.path)
        if launcher is None:
            major, minor = (int(n) for n in interpreter.version.split(".")[:2])
            version = (major, minor)
            loop = asyncio.get_running_loop()
            packages = await loop.run_in_executor(None, self.packages.for_version, version)
            launcher = self._python.get(interpreter.path)  # another cold start got here first
            if launcher is None:
                setup = ZygoteSetup(
                    python=interpreter.path,
                    packages=packages,
                    mount_at=RUNTIME_MOUNT if self.mounted and packages else None,
                    pycache=self.pycache,
                )
                launcher = self._python[interpreter.path] = Launcher(setup)
        return launcher

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

    def _warmed(self, task: asyncio.Future) -> None:
        self._warming.discard(task)
        if not task.cancelled():
            task.exception()  # a zygote that failed to start fails the cold start that needs it, with its reason

    async def close(self) -> None:
        for task in list(self._warming):
            task.cancel()
        for launcher in [self.plain, *self._python.values()]:
            await launcher.close()
