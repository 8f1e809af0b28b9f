"""Running one invocation: an instance from the pool, the event in, the result out, and
the START / END / REPORT lines around the function's own output (invocation_log.py).

Function failures are results, not exceptions: a handler that raises, a timeout, an
import error or a crashed process all come back as an InvocationResult with
function_error="Unhandled" and AWS's error payload (faults.py). What raises is not being
allowed to run (Throttled: concurrency or scaling rate) and platform trouble
(PoolExhausted).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field

from .. import ids
from . import faults
from .concurrency import SCALING_RATE, Concurrency, Throttled
from .invocation_log import report_line, utc_stamp
from .pool import Pool, PoolExhausted, ScalingLimited
from .provisioned import Provisioner
from .sandbox.base import InitOutcome, RawResult, Sandbox
from .spec import FunctionSpec
from .streaming import ResponseStream
from .telemetry import LambdaTelemetry, qualifier_of

MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100  # AWS's exact limit: 6291556 bytes


@dataclass
class InvocationResult:
    request_id: str
    payload: bytes
    function_error: str | None = None  # "Unhandled" when the function failed
    executed_version: str = "$LATEST"
    log_tail: str = ""  # base64 of the last 4 KB, when asked for
    duration_ms: float = 0.0
    billed_ms: int = 0
    init_ms: float | None = None
    restore_ms: float | None = None
    max_memory_mb: int = 0
    error_type: str | None = None
    timings: dict = field(default_factory=dict)

    def fail(self, error_type: str | None, payload: bytes) -> None:
        self.payload = payload
        self.function_error = "Unhandled"
        self.error_type = error_type


class Invoker:
    def __init__(
        self, pool: Pool, concurrency: Concurrency, telemetry: LambdaTelemetry, provisioner: Provisioner
    ) -> None:
        self.pool = pool
        self.concurrency = concurrency
        self.telemetry = telemetry
        self.provisioner = provisioner

    async def invoke(
        self,
        spec: FunctionSpec,
        payload: bytes,
        *,
        request_id: str | None = None,
        invoked_arn: str | None = None,
        client_context: dict | None = None,
        want_tail: bool = False,
        stream: ResponseStream | None = None,
    ) -> InvocationResult:
        """Run one invocation within the function's concurrency; raises Throttled if it may not run.
        `stream`: a response the function streams goes there as it is written (its
        InvocationResult's payload is then empty, but for an error)."""
        try:
            lease = self.concurrency.acquire(spec.function_arn, spec.version)
        except Throttled:
            self.telemetry.throttled(spec, invoked_arn)
            if stream is not None:
                stream.close()
            raise
        # A version's or alias's own ConcurrentExecutions series (the function's comes from
        # the lease): tallied only for a qualified ARN, which most invokes are not.
        running = self.telemetry.began(spec, invoked_arn) if qualifier_of(invoked_arn) else None
        try:
            result = await self._run(
                spec, payload, request_id or ids.uuid4(), invoked_arn, client_context, want_tail, stream
            )
        except ScalingLimited:
            self.telemetry.throttled(spec, invoked_arn)
            raise Throttled(SCALING_RATE) from None
        except PoolExhausted:
            self.telemetry.throttled(spec, invoked_arn)
            raise
        finally:
            if stream is not None:
                stream.close()  # however it ended: its reader finishes
            if running is not None:
                self.telemetry.ended(running)
            self.concurrency.release(lease)
        self.telemetry.invoked(spec, invoked_arn, result.duration_ms, bool(result.function_error))
        return result

    async def _run(
        self,
        spec: FunctionSpec,
        payload: bytes,
        request_id: str,
        invoked_arn: str | None,
        client_context: dict | None,
        want_tail: bool,
        stream: ResponseStream | None = None,
    ) -> InvocationResult:
        arn = spec.function_arn
        instance, outcome = await self.pool.acquire(spec, can_grow=lambda: self.concurrency.take_scaling_token(arn))
        if instance.provisioned:
            self.telemetry.count("ProvisionedConcurrencyInvocations", arn, qualifier=qualifier_of(invoked_arn))
        elif spec.pool_key in self.provisioner.serving:
            self.telemetry.count("ProvisionedConcurrencySpilloverInvocations", arn, qualifier=qualifier_of(invoked_arn))
        log = instance.log
        if outcome is None:
            log.listen()
        result = InvocationResult(request_id=request_id, payload=b"", executed_version=spec.version)
        log.start(request_id, spec.version)
        started = time.perf_counter()
        if outcome is not None:
            if outcome.restored:
                result.restore_ms = outcome.init_ms
            else:
                result.init_ms = outcome.init_ms
        if outcome is not None and outcome.error is not None:
            self._init_failed(result, outcome)
            self.pool.discard(instance)
        else:
            header = {
                "request_id": request_id,
                "deadline_ms": int(time.time() * 1000) + spec.timeout_s * 1000,
                "invoked_function_arn": invoked_arn or spec.qualified_arn,
                "client_context": client_context,
            }
            raw = await instance.invoke(header, payload, spec.timeout_s, stream)
            result.max_memory_mb = instance.max_memory_mb(raw.max_memory_mb)
            self._take(result, raw, instance, spec)
            self.pool.release(instance)
        duration = (time.perf_counter() - started) * 1000
        if result.error_type == faults.SANDBOX_TIMEDOUT:
            duration = max(duration, spec.timeout_s * 1000.0)
        if result.error_type == faults.RUNTIME_OUT_OF_MEMORY:
            result.max_memory_mb = spec.memory_mb
        result.duration_ms = duration
        result.billed_ms = max(1, math.ceil(duration))
        report = report_line(
            request_id,
            duration,
            result.billed_ms,
            spec.memory_mb,
            result.max_memory_mb,
            result.init_ms,
            result.restore_ms,
            result.error_type,
        )
        result.log_tail = log.end(request_id, report, want_tail)
        return result

    @staticmethod
    def _init_failed(result: InvocationResult, outcome: InitOutcome) -> None:
        error = outcome.error or {}
        result.fail(error.get("errorType"), json.dumps(error).encode())

    @staticmethod
    def _take(result: InvocationResult, raw: RawResult, instance: Sandbox, spec: FunctionSpec) -> None:
        """What the sandbox answered, as Lambda reports it."""
        request_id = result.request_id
        if raw.kind == "result":
            result.payload = raw.payload
            if len(raw.payload) > MAX_RESPONSE_BYTES:
                result.fail(
                    faults.RESPONSE_SIZE_TOO_LARGE,
                    faults.fault_payload(
                        faults.RESPONSE_SIZE_TOO_LARGE,
                        f"Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes).",
                    ),
                )
        elif raw.kind == "error":
            error_type = None
            try:
                error_type = json.loads(raw.payload).get("errorType")
            except ValueError:
                pass
            result.fail(error_type, raw.payload)
        elif raw.kind == "timeout":
            message = f"Task timed out after {spec.timeout_s:.2f} seconds"
            instance.log.line(f"{utc_stamp()} {request_id} {message}")
            result.fail(
                faults.SANDBOX_TIMEDOUT,
                faults.fault_payload(faults.SANDBOX_TIMEDOUT, f"RequestId: {request_id} Error: {message}"),
            )
        else:  # the process exited or was killed mid-invocation
            message = f"Runtime exited with error: {raw.exit_reason}"
            error_type = faults.RUNTIME_OUT_OF_MEMORY if raw.out_of_memory else faults.RUNTIME_EXIT_ERROR
            instance.log.line(f"RequestId: {request_id} Error: {message}\n{error_type}")
            result.fail(error_type, faults.fault_payload(error_type, f"RequestId: {request_id} Error: {message}"))
