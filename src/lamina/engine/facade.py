"""The engine as the services see it: one small surface over the data plane.

A service (Lambda's control and invoke API, its event source mappings, its async events)
asks the engine to run an invocation, to keep instances ready or let them go, what the
concurrency settings are, and to count a metric; it never reaches into the pool, the
invoker or the sandboxes behind this class. The composition root (app.py) builds the
parts and hands them in.
"""

from __future__ import annotations

from .concurrency import Concurrency, Scope
from .factory import SandboxFactory
from .invoker import Invoker
from .pool import Pool
from .provisioned import Provisioner
from .runtimes import LANGUAGE_RUNTIMES
from .snapstart import Snapshots
from .spec import FunctionSpec
from .telemetry import LambdaTelemetry


class Engine:
    def __init__(
        self,
        invoker: Invoker,
        pool: Pool,
        provisioner: Provisioner,
        snapshots: Snapshots,
        factory: SandboxFactory,
        concurrency: Concurrency,
        telemetry: LambdaTelemetry,
    ) -> None:
        self._pool = pool
        self._provisioner = provisioner
        self._snapshots = snapshots
        self._factory = factory
        self._concurrency = concurrency
        self._telemetry = telemetry
        # The calls made per invocation are the parts' own bound methods, not methods of
        # this class that pass them on: no extra frame (a coroutine's, for invoke) on the
        # hot path.
        #   invoke(spec, payload, *, request_id, invoked_arn, client_context, want_tail, stream):
        #       one invocation (Invoker.invoke); raises Throttled when it may not run; a
        #       response the function streams goes to `stream` (engine/streaming.py)
        #   count(name, function_arn, value=1, unit="Count", qualifier=None):
        #       an AWS/Lambda metric of a function (LambdaTelemetry.count)
        #   reserved(function_arn): its reserved concurrency, or None
        self.invoke = invoker.invoke
        self.count = telemetry.count
        self.reserved = concurrency.reserved.get

    async def start(self) -> None:
        self._telemetry.start()
        self._pool.start()

    # --- runtimes -----------------------------------------------------------------------

    async def runtime_missing(self, runtime: str) -> str | None:
        """Why this host cannot run `runtime` (what to install), or None if it can (runtimes
        that need no interpreter of Lamina's, provided.*, always can)."""
        zygotes = self._factory.zygotes
        if runtime not in LANGUAGE_RUNTIMES or await zygotes.find(runtime) is not None:
            return None
        return zygotes.runtimes.missing(runtime)

    def prepare(self, runtime: str) -> None:
        """A function of `runtime` exists: start its interpreter's zygote now, in the
        background, rather than on its first cold start."""
        self._factory.prepare(runtime)

    async def close(self) -> None:
        self._provisioner.close()
        await self._telemetry.close()
        await self._pool.close()
        await self._factory.close()

    # --- running ------------------------------------------------------------------------

    @property
    def instance_count(self) -> int:
        return self._pool.size

    # --- instances ----------------------------------------------------------------------

    async def provision(
        self, spec: FunctionSpec, count: int, qualifiers: tuple[str, ...] = ()
    ) -> tuple[int, dict | None]:
        """Keep `count` instances of this version ready (see Provisioner.provision)."""
        return await self._provisioner.provision(spec, count, qualifiers)

    async def snapshot(self, spec: FunctionSpec) -> None:
        """SnapStart: make the version's snapshot now rather than at its first cold start."""
        await self._snapshots.get(spec)

    async def retire_stale(self, spec_prefix: str, keep_key: str | None) -> None:
        """Instances whose pool key starts with `spec_prefix` but is not `keep_key` go: the
        code or configuration they were started with changed."""
        await self._pool.retire(spec_prefix, keep_key=keep_key)

    async def retire(self, prefix: str) -> None:
        """Every instance and snapshot of the pool keys under `prefix` goes (a version or a
        whole function was deleted), provisioned ones included, and nothing replaces them."""
        self._provisioner.retire(prefix)
        await self._pool.retire(prefix)
        await self._snapshots.drop(prefix)

    async def reset(self) -> None:
        """Lamina's reset: every instance and snapshot goes (busy ones when their invocation
        returns), provisioned ones included, and the reserved and provisioned concurrency
        settings are forgotten, as on a new server."""
        await self.retire("")
        self._telemetry.reset()
        for function_arn in list(self._concurrency.reserved):
            self._concurrency.set_reserved(function_arn, None)
        for function_arn in {arn for arn, _ in self._concurrency.provisioned}:
            self._concurrency.set_provisioned(function_arn, {})

    # --- concurrency settings -----------------------------------------------------------

    @property
    def account_limit(self) -> int:
        return self._concurrency.account_limit

    @property
    def min_unreserved(self) -> int:
        return self._concurrency.min_unreserved

    def unreserved_limit(self, scope: Scope) -> int:
        return self._concurrency.unreserved_limit(scope)

    def can_reserve(self, function_arn: str, value: int) -> bool:
        return self._concurrency.can_reserve(function_arn, value)

    def set_reserved(self, function_arn: str, value: int | None) -> None:
        self._concurrency.set_reserved(function_arn, value)

    def can_provision(self, function_arn: str, total: int) -> bool:
        return self._concurrency.can_provision(function_arn, total)

    def set_provisioned(self, function_arn: str, per_version: dict[str, int]) -> None:
        self._concurrency.set_provisioned(function_arn, per_version)

    # --- metrics ------------------------------------------------------------------------

    def iterator_age(self, dimension_sets: list[dict[str, str]], age_ms: float, scope: Scope) -> None:
        self._telemetry.iterator_age(dimension_sets, age_ms, scope)
