"""Warm instances, kept per function version and revision, reused last-in first-out.

acquire() hands out an idle READY instance or launches a new one (a cold start);
release() puts it back; retire() makes every instance of a function go away (now if
idle, on release if busy) after its code or configuration changed or it was deleted.
A reaper kills instances idle longer than `idle_timeout_s`.

`max_instances` caps the live instances (the machine's limit, not Lambda's: concurrency
is the engine's Concurrency). At the cap a new instance takes the place of the idle
on-demand instance used longest ago, of whatever function: after one function's burst,
its idle instances must not keep every other function from starting one for the whole
idle timeout. Only when every instance is busy (or provisioned) is the pool exhausted.

Every instance is launched through the pool, by the one `launch` it was given (the
SandboxFactory's): on demand in acquire(), ahead of time in start_provisioned() for
provisioned concurrency, whose keeper listens to the pool's events (PoolListener) to
replace a provisioned instance that died.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Protocol

from .sandbox.base import InitOutcome, Sandbox, State
from .sandbox.environment import ON_DEMAND, PROVISIONED
from .spec import FunctionSpec

log = logging.getLogger("lamina.pool")

Launch = Callable[[FunctionSpec, str], Awaitable[tuple[Sandbox, InitOutcome]]]


class PoolListener(Protocol):
    def provisioned_lost(self, instance: Sandbox) -> None:
        """A provisioned instance died (a timeout, a crash, an OOM kill) or was evicted
        while its version still wants it: provisioned concurrency is kept ready."""


class PoolExhausted(Exception):
    """No room for another instance under the pool's hard cap."""


class ScalingLimited(Exception):
    """The function may not start another instance yet (its scaling rate)."""


class Pool:
    def __init__(
        self,
        launch: Launch,
        idle_timeout_s: float = 300.0,
        max_instances: int = 1000,
        max_age_s: float | None = None,
    ) -> None:
        self._launch = launch
        # An instance older than this is not handed out again (its credentials would expire
        # under it): it goes when it comes back idle, and provisioned ones are replaced.
        self.max_age_s = max_age_s
        self._born: weakref.WeakKeyDictionary[Sandbox, float] = weakref.WeakKeyDictionary()
        self.listeners: list[PoolListener] = []
        self.idle_timeout_s = idle_timeout_s
        self.max_instances = max_instances
        self._idle: dict[str, list[Sandbox]] = {}
        self._idle_provisioned: dict[str, list[Sandbox]] = {}  # never reaped
        self._live: set[Sandbox] = set()
        self._launching = 0
        self._retired_prefixes: set[str] = set()
        self._reaper: asyncio.Task | None = None
        self._returned = asyncio.Event()  # an instance came back to the idle lists

    def start(self) -> None:
        self._reaper = asyncio.ensure_future(self._reap_forever())

    @property
    def size(self) -> int:
        return len(self._live) + self._launching

    def provisioned(self, pool_key: str) -> list[Sandbox]:
        return [i for i in self._live if i.spec.pool_key == pool_key and i.provisioned]

    def adopt(self, instance: Sandbox) -> None:
        """Take in an instance started ahead of time (provisioned concurrency): live and idle."""
        instance.provisioned = True  # the reaper leaves it alone
        self._live.add(instance)
        self._idle_list(instance).append(instance)
        self._returned.set()

    async def unprovision(self, pool_key: str, keep: int = 0) -> None:
        """Drop provisioned instances of `pool_key` down to `keep` (idle ones now, busy ones
        become on-demand and are reaped like any other)."""
        extra = self.provisioned(pool_key)[keep:]
        idle = self._idle_provisioned.get(pool_key, [])
        doomed = [i for i in extra if i in idle]
        for instance in extra:
            instance.provisioned = False
        for instance in doomed:
            idle.remove(instance)
            self._live.discard(instance)
        await asyncio.gather(*(i.kill() for i in doomed), return_exceptions=True)

    def instances(self, prefix: str = "") -> list[Sandbox]:
        return [i for i in self._live if i.spec.pool_key.startswith(prefix)]

    async def acquire(
        self, spec: FunctionSpec, can_grow: Callable[[], bool] = lambda: True, wait_s: float = 0.1
    ) -> tuple[Sandbox, InitOutcome | None]:
        """An idle instance, or a new one if `can_grow()` allows (the scaling rate); when it
        does not, wait up to `wait_s` for one to come back, then raise ScalingLimited."""
        instance = self._idle_instance(spec)
        if instance is not None:
            return instance, None
        if not can_grow():
            deadline = time.monotonic() + wait_s
            while time.monotonic() < deadline:
                self._returned.clear()
                try:
                    await asyncio.wait_for(self._returned.wait(), deadline - time.monotonic())
                except asyncio.TimeoutError:
                    break
                instance = self._idle_instance(spec)
                if instance is not None:
                    return instance, None
            raise ScalingLimited(spec.function_arn)
        if self.size >= self.max_instances and not self._evict_one():
            raise PoolExhausted(f"{self.size} instances running")
        instance, outcome = await self._launch_counted(spec, ON_DEMAND)
        if instance.state is State.READY:
            self._live.add(instance)
        return instance, outcome

    async def start_provisioned(self, spec: FunctionSpec) -> tuple[Sandbox, InitOutcome]:
        """A new instance for provisioned concurrency, started (not yet in the pool: adopt()
        it if it came up READY and is still wanted)."""
        return await self._launch_counted(spec, PROVISIONED)

    async def _launch_counted(self, spec: FunctionSpec, initialization_type: str) -> tuple[Sandbox, InitOutcome]:
        self._launching += 1
        try:
            instance, outcome = await self._launch(spec, initialization_type)
        finally:
            self._launching -= 1
        self._born[instance] = time.monotonic()
        return instance, outcome

    def _too_old(self, instance: Sandbox) -> bool:
        if self.max_age_s is None:
            return False
        born = self._born.get(instance)
        return born is not None and time.monotonic() - born > self.max_age_s

    def _evict_one(self) -> bool:
        """Kill the on-demand idle instance used longest ago, to make room; False if none."""
        oldest_key, oldest = "", None
        for key, idle in self._idle.items():
            if idle and (oldest is None or idle[0].last_used < oldest.last_used):
                oldest_key, oldest = key, idle[0]
        if oldest is None:
            return False
        idle = self._idle[oldest_key]
        idle.pop(0)
        if not idle:
            del self._idle[oldest_key]
        self._drop(oldest)
        return True

    def _idle_instance(self, spec: FunctionSpec) -> Sandbox | None:
        """Provisioned instances first (they are paid for), then the most recently used."""
        for lists in (self._idle_provisioned, self._idle):
            idle = lists.get(spec.pool_key)
            while idle:
                instance = idle.pop()
                if instance.state is State.READY and not self._too_old(instance):
                    return instance
                self._drop(instance)
        return None

    def _idle_list(self, instance: Sandbox) -> list[Sandbox]:
        lists = self._idle_provisioned if instance.provisioned else self._idle
        return lists.setdefault(instance.spec.pool_key, [])

    def release(self, instance: Sandbox) -> None:
        if instance.state is not State.READY or self._is_retired(instance) or self._too_old(instance):
            self._drop(instance)
            return
        self._idle_list(instance).append(instance)
        self._returned.set()

    def discard(self, instance: Sandbox) -> None:
        self._drop(instance)

    def _drop(self, instance: Sandbox) -> None:
        """An instance that is no more (or must go): out of the pool, killed if need be."""
        was_live = instance in self._live
        self._live.discard(instance)
        if instance.state is not State.DEAD:
            asyncio.ensure_future(instance.kill())
        if was_live and instance.provisioned and not self._is_retired(instance):
            for listener in self.listeners:
                listener.provisioned_lost(instance)

    def _is_retired(self, instance: Sandbox) -> bool:
        if not self._retired_prefixes:
            return False
        key = instance.spec.pool_key
        return any(key.startswith(prefix) for prefix in self._retired_prefixes)

    async def retire(self, prefix: str, keep_key: str | None = None) -> None:
        """Kill every instance whose pool key starts with `prefix`, except `keep_key`'s."""
        doomed: list[Sandbox] = []
        for lists in (self._idle, self._idle_provisioned):
            for key in list(lists):
                if key.startswith(prefix) and key != keep_key:
                    doomed.extend(lists.pop(key))
        for instance in list(self._live):
            key = instance.spec.pool_key
            if key.startswith(prefix) and key != keep_key and instance.state is State.BUSY:
                # Killed when it comes back; remember exactly this key.
                self._retired_prefixes.add(key)
        for instance in doomed:
            self._live.discard(instance)
        await asyncio.gather(*(i.kill() for i in doomed), return_exceptions=True)

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(min(max(self.idle_timeout_s / 4, 0.05), 5.0))
            try:
                await self.reap()
            except Exception:
                log.exception("reaper failed")

    async def reap(self) -> None:
        deadline = time.monotonic() - self.idle_timeout_s
        # Provisioned instances are never reaped, but one that died while idle is dropped
        # now (and so replaced), not when an invoke happens to pick it.
        for idle in list(self._idle_provisioned.values()):
            dead = [i for i in idle if i.state is not State.READY or i.gone]
            for instance in dead:
                idle.remove(instance)
                self._drop(instance)
        doomed: list[Sandbox] = []
        for key, idle in list(self._idle.items()):
            keep = [i for i in idle if i.state is State.READY and i.last_used > deadline]
            doomed.extend(i for i in idle if i not in keep)
            if keep:
                self._idle[key] = keep
            else:
                del self._idle[key]
        for instance in doomed:
            self._live.discard(instance)
        if doomed:
            await asyncio.gather(*(i.kill() for i in doomed), return_exceptions=True)

    async def close(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
        everything = list(self._live)
        self._idle.clear()
        self._idle_provisioned.clear()
        self._live.clear()
        await asyncio.gather(*(i.kill() for i in everything), return_exceptions=True)
