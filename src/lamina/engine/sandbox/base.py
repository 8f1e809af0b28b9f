"""The Sandbox interface: one execution environment of one function version, whatever runs
inside it. Three implementations: ManagedInstance (managed.py: the Python runtime, forked
by the zygote, spoken to in frames), CustomRuntimeInstance (custom.py: a provided.*
runtime's own `bootstrap`, spoken to through the Runtime API) and DeadSandbox (dead.py:
one that could not even be started, carrying its init error).

Lifecycle (the only transitions allowed; the State enum below):

    NEW --start()--> READY <--invoke()--> BUSY
     |                 |                    |
     +---- init error, kill(), crash, timeout ----> DEAD

- start() is called once, on NEW; it returns the InitOutcome. An init error leaves the
  sandbox DEAD (its processes already killed); otherwise it is READY.
- invoke() runs one invocation at a time, on READY, and leaves it READY again, or DEAD
  after a timeout or a crash (reported in the RawResult, not raised). On any state but
  READY it raises InstanceDead.
- kill() may be called at any time, any number of times; afterwards the state is DEAD,
  every process of the sandbox (whatever the function spawned too) is gone and its
  cgroups are on their way out; invoke() raises InstanceDead.
- `gone` is True once the sandbox's process has exited, whatever `state` still says (an
  idle instance that died is found by the pool's reaper).

Every sandbox carries the InvocationLog its output goes to (`log`) and whether the pool
keeps it as provisioned concurrency (`provisioned`).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ..spec import FunctionSpec

if TYPE_CHECKING:
    from ..invocation_log import InvocationLog
    from ..streaming import ResponseStream


class State(enum.Enum):
    NEW = "new"
    READY = "ready"
    BUSY = "busy"
    DEAD = "dead"


class InstanceDead(Exception):
    """invoke() on a sandbox that is not READY (killed, crashed, or never started)."""


@dataclass
class InitOutcome:
    init_ms: float  # or the restore time, for a SnapStart restore
    error: dict | None  # the init error document ({errorType, errorMessage}), if init failed
    restored: bool = False


@dataclass
class RawResult:
    kind: str  # "result", "error", "timeout", "exit"
    payload: bytes
    max_memory_mb: int = 0  # the runtime's own peak, as it reports it
    exit_reason: str = ""
    out_of_memory: bool = False


# Where a sandbox's output goes: (ms timestamp, line) events.
LogTarget = Callable[[list[tuple[int, str]]], None]


class Sandbox(Protocol):
    spec: FunctionSpec
    id: str
    state: State
    log: InvocationLog
    provisioned: bool  # kept by the pool as provisioned concurrency: never reaped
    last_used: float  # time.monotonic() of the last invocation's end
    invocations: int

    @property
    def gone(self) -> bool: ...

    async def start(self) -> InitOutcome: ...

    async def invoke(
        self, header: dict, payload: bytes, timeout_s: float, stream: ResponseStream | None = None
    ) -> RawResult:
        """`stream`: where a response the runtime streams goes as it arrives (runtimes that
        answer in one piece ignore it)."""
        ...

    def max_memory_mb(self, runtime_peak_mb: int) -> int:
        """Max Memory Used of the invocation that just ended, given the runtime's own peak."""
        ...

    async def kill(self) -> None: ...
