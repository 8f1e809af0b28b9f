"""The pool hands out no instance older than its max age: an instance's execution-role
credentials expire, so an old one goes when it comes back idle, and a new one (with new
credentials) takes its place."""

from __future__ import annotations

import asyncio
import time

from lamina.engine.pool import Pool
from lamina.engine.sandbox.base import InitOutcome, State
from lamina.engine.spec import FunctionSpec

SPEC = FunctionSpec(
    account="000000000000",
    region="us-east-1",
    name="f",
    function_arn="arn:aws:lambda:us-east-1:000000000000:function:f",
    version="$LATEST",
    revision="r1",
    runtime="python3.12",
    handler="app.handler",
    memory_mb=128,
    timeout_s=3,
    code_dir="/nonexistent",
)


class FakeSandbox:
    def __init__(self, spec: FunctionSpec) -> None:
        self.spec = spec
        self.state = State.READY
        self.provisioned = False
        self.last_used = time.monotonic()
        self.killed = False

    @property
    def gone(self) -> bool:
        return self.killed

    async def kill(self) -> None:
        self.killed = True
        self.state = State.DEAD


def test_an_instance_past_its_max_age_is_replaced():
    async def scenario():
        launched: list[FakeSandbox] = []

        async def launch(spec, initialization_type):
            instance = FakeSandbox(spec)
            launched.append(instance)
            return instance, InitOutcome(0.0, None)

        pool = Pool(launch, max_age_s=0.05)
        first, _ = await pool.acquire(SPEC)
        pool.release(first)
        again, outcome = await pool.acquire(SPEC)
        assert again is first and outcome is None  # young: reused warm
        await asyncio.sleep(0.08)
        pool.release(again)  # too old now: dropped on its way back
        await asyncio.sleep(0)
        assert first.killed
        fresh, outcome = await pool.acquire(SPEC)
        assert fresh is not first and outcome is not None and len(launched) == 2
        await pool.close()

    asyncio.run(scenario())


def test_without_a_max_age_instances_live_on():
    async def scenario():
        async def launch(spec, initialization_type):
            return FakeSandbox(spec), InitOutcome(0.0, None)

        pool = Pool(launch)
        first, _ = await pool.acquire(SPEC)
        pool.release(first)
        await asyncio.sleep(0.02)
        again, _ = await pool.acquire(SPEC)
        assert again is first
        await pool.close()

    asyncio.run(scenario())
