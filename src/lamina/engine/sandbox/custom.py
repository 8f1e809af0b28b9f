"""An instance of a custom runtime (provided.al2023, provided.al2): the function's own
`bootstrap` executable, spoken to through the Runtime API instead of the frame socket.

The Sandbox lifecycle (base.py), with the process plumbing of ManagedInstance: start()
returns once the runtime first asks for an event (its init is done) or reports an init
error; invoke() hands one event to the waiting /next and waits for /response, /error, the
process's exit, or the timeout. A response the runtime streams goes to the caller's
ResponseStream as it arrives (runtime_api.py).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid

from .. import faults
from ..streaming import ResponseStream
from .base import InitOutcome, InstanceDead, RawResult, State
from .managed import ManagedInstance, timeout_after
from .runtime_api import Invocation, RuntimeApi

INIT_TIMEOUT_S = 10.0  # Lambda's limit on the init phase


class _Exited(Exception):
    """The runtime's process ended while an invocation waited on it."""


class CustomRuntimeInstance(ManagedInstance):
    def __init__(self, *args, api: RuntimeApi, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.api = api
        self._current: Invocation | None = None

    async def start(self) -> InitOutcome:
        started = time.perf_counter()
        await super().start()  # spawned; the runtime's init is running
        waiters = [
            asyncio.ensure_future(asyncio.shield(self.api.first_poll)),
            asyncio.ensure_future(asyncio.shield(self.exited)),
        ]
        done, pending = await asyncio.wait(waiters, timeout=INIT_TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED)
        for waiter in pending:
            waiter.cancel()
        init_ms = (time.perf_counter() - started) * 1000
        if self.api.init_error is not None:
            await self.kill()
            return InitOutcome(init_ms, self.api.init_error)
        if not self.api.first_poll.done():
            if self.exited.done():
                await self._drain_logs()
                reason = await self.exit_reason()
                await self.kill()
                return InitOutcome(init_ms, faults.exit_error(reason))
            await self.kill()
            return InitOutcome(
                init_ms,
                faults.fault(
                    faults.RUNTIME_INIT_TIMEOUT, f"Init phase did not complete within {INIT_TIMEOUT_S:.0f} seconds"
                ),
            )
        self.state = State.READY
        self.host.initialized(self.placement)  # from now on, its CPU share
        self.exited.add_done_callback(self._on_exit)
        return InitOutcome(init_ms, None)

    async def invoke(
        self, header: dict, payload: bytes, timeout_s: float, stream: ResponseStream | None = None
    ) -> RawResult:
        if self.state is not State.READY:
            raise InstanceDead(self.id)
        self.state = State.BUSY
        self.invocations += 1
        headers = {
            "Lambda-Runtime-Aws-Request-Id": header["request_id"],
            "Lambda-Runtime-Deadline-Ms": str(header["deadline_ms"]),
            "Lambda-Runtime-Invoked-Function-Arn": header.get("invoked_function_arn") or "",
            "Lambda-Runtime-Trace-Id": header.get("trace_id")
            or f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0",
        }
        if header.get("client_context"):
            headers["Lambda-Runtime-Client-Context"] = json.dumps(header["client_context"])
        invocation = Invocation(header["request_id"], payload or b"{}", headers, stream=stream)
        if self.exited.done():
            invocation.done.set_exception(_Exited())
        else:
            self._current = invocation
        self.api.offer(invocation)
        # One timer and the invocation's own future: no task per invoke (the warm path).
        try:
            async with timeout_after(timeout_s):
                outcome = await invocation.done
        except _Exited:
            await self._drain_logs()
            reason = await self.exit_reason()
            oom = self.host.oom_killed(self.placement)
            await self.kill()
            return RawResult("exit", b"", exit_reason=reason, out_of_memory=oom)
        except asyncio.TimeoutError:
            await self.kill()
            return RawResult("timeout", b"")
        finally:
            self._current = None
        self.state = State.READY
        self.last_used = time.monotonic()
        await asyncio.sleep(0)  # let output written just before the answer reach the log
        return RawResult(outcome.kind, outcome.payload)

    def _on_exit(self, _: asyncio.Future) -> None:
        """The process ended: the invocation it was serving, if any, ends with it."""
        current = self._current
        if current is not None and not current.done.done():
            current.done.set_exception(_Exited())

    async def kill(self) -> None:
        await super().kill()
        await self.api.close()
