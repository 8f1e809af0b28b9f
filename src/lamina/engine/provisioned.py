"""Provisioned concurrency: initialised instances kept ready per function version.

provision(spec, count) brings a version's provisioned instances to `count` (launching the
missing ones through the pool, dropping the extra ones) and remembers that the version
wants them: when one dies (the pool tells its listeners), a replacement is launched,
retried with a growing backoff while its init keeps failing. retire(prefix) forgets the
versions under a prefix (deleted), so that nothing replaces their instances.

The pool hands provisioned instances out first and never reaps them; the invoker asks
`serving` (pool keys) to tell a spillover invocation (the version has provisioned instances,
all busy) from a plain on-demand one, and usage() feeds the ProvisionedConcurrency*
metrics.
"""

from __future__ import annotations

import asyncio
import logging

from . import faults
from .pool import Pool
from .sandbox.base import Sandbox, State
from .spec import FunctionSpec

log = logging.getLogger("lamina.provisioned")

MAX_REPLACE_BACKOFF_S = 60.0


class Provisioner:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        # Pool keys that have provisioned instances (read-only to others: the invoker asks
        # it of every invocation, without a call).
        self.serving: set[str] = set()
        self._wanted: dict[str, int] = {}  # pool key -> instances to keep ready
        self._qualifiers: dict[str, tuple[str, ...]] = {}  # pool key -> configs' qualifiers
        self._locks: dict[str, asyncio.Lock] = {}
        pool.listeners.append(self)

    async def provision(
        self, spec: FunctionSpec, count: int, qualifiers: tuple[str, ...] = ()
    ) -> tuple[int, dict | None]:
        """Keep `count` initialised instances of this version (and replace any that die);
        `qualifiers` are the version and aliases whose configs ask for them, for the
        metrics. Returns (how many are allocated, the init error if some could not start).
        Calls for one version run one at a time: two at once would both launch the missing
        instances and overshoot."""
        if count:
            self._wanted[spec.pool_key] = count
            self._qualifiers[spec.pool_key] = qualifiers or (spec.version,)
        else:
            self._wanted.pop(spec.pool_key, None)
            self._qualifiers.pop(spec.pool_key, None)
        async with self._locks.setdefault(spec.pool_key, asyncio.Lock()):
            return await self._provision(spec, count)

    def retire(self, prefix: str) -> None:
        """The versions under `prefix` were deleted: nothing replaces their instances."""
        for key in [k for k in self._wanted if k.startswith(prefix)]:
            self._wanted.pop(key, None)
            self._qualifiers.pop(key, None)
            self.serving.discard(key)
            self._locks.pop(key, None)

    def close(self) -> None:
        self._wanted.clear()  # nothing is replaced from here on

    def provisioned_lost(self, instance: Sandbox) -> None:
        if self._wanted.get(instance.spec.pool_key):
            asyncio.ensure_future(self._replace(instance.spec))

    async def _replace(self, spec: FunctionSpec, failures: int = 0) -> None:
        allocated = wanted = 0
        try:
            wanted = self._wanted.get(spec.pool_key, 0)
            if wanted:
                allocated, error = await self.provision(spec, wanted, self._qualifiers.get(spec.pool_key, ()))
                if error is not None:
                    log.warning("could not replace a provisioned instance of %s: %s", spec.pool_key, error)
        except Exception:
            log.exception("replacing a provisioned instance of %s failed", spec.pool_key)
        if allocated < wanted and self._wanted.get(spec.pool_key):
            # Try again, less and less often (its init may fail for a while: a dependency down).
            delay = min(MAX_REPLACE_BACKOFF_S, 2.0**failures)
            asyncio.get_running_loop().call_later(
                delay, lambda: asyncio.ensure_future(self._replace(spec, failures + 1))
            )

    async def _provision(self, spec: FunctionSpec, count: int) -> tuple[int, dict | None]:
        have = self.pool.provisioned(spec.pool_key)
        if len(have) > count:
            await self.pool.unprovision(spec.pool_key, keep=count)
            return count, None
        launched = await asyncio.gather(
            *(self.pool.start_provisioned(spec) for _ in range(count - len(have))), return_exceptions=True
        )
        error = None
        for item in launched:
            if isinstance(item, BaseException):
                error = faults.fault(faults.LAUNCH_ERROR, str(item))
                continue
            instance, outcome = item
            if outcome.error is not None or instance.state is not State.READY:
                error = outcome.error or error
                await instance.kill()
                continue
            if count and spec.pool_key not in self._wanted:
                await instance.kill()  # its version was deleted (retire()) while it started
                continue
            instance.log.stop()  # no invocation is listening to its init output
            self.pool.adopt(instance)
        allocated = len(self.pool.provisioned(spec.pool_key))
        if allocated:
            self.serving.add(spec.pool_key)
        else:
            self.serving.discard(spec.pool_key)
        return allocated, error

    def usage(self) -> dict[tuple[str, str], tuple[int, int, tuple[str, ...]]]:
        """(function ARN, version) -> (busy provisioned instances, allocated ones, the
        version and aliases whose configs they serve)."""
        usage: dict[tuple[str, str], list] = {}
        for key in self.serving:
            for instance in self.pool.provisioned(key):
                counts = usage.setdefault(
                    (instance.spec.function_arn, instance.spec.version),
                    [0, 0, self._qualifiers.get(key, (instance.spec.version,))],
                )
                counts[1] += 1
                if instance.state is State.BUSY:
                    counts[0] += 1
        return {k: (v[0], v[1], v[2]) for k, v in usage.items()}
