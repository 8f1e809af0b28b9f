"""A sandbox that could not even be started (no bootstrap to run, a SnapStart snapshot
whose init failed): DEAD from birth, it carries the init error to the invocation that
asked for it, so that the failure is reported the way a failed cold init is."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..spec import FunctionSpec
from .base import InitOutcome, InstanceDead, RawResult, State

if TYPE_CHECKING:
    from ..invocation_log import InvocationLog


class DeadSandbox:
    def __init__(self, spec: FunctionSpec, instance_id: str, log: InvocationLog, outcome: InitOutcome) -> None:
        self.spec = spec
        self.id = instance_id
        self.log = log
        self.outcome = outcome
        self.state = State.DEAD
        self.provisioned = False
        self.last_used = time.monotonic()
        self.invocations = 0

    @property
    def gone(self) -> bool:
        return True

    async def start(self) -> InitOutcome:
        return self.outcome

    async def invoke(self, header: dict, payload: bytes, timeout_s: float, stream: object = None) -> RawResult:
        raise InstanceDead(self.id)

    def max_memory_mb(self, runtime_peak_mb: int) -> int:
        return runtime_peak_mb

    async def kill(self) -> None:
        pass
