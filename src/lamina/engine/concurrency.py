"""Lambda's concurrency model: who may run now, and how fast a function may grow.

Concurrency is invocations in flight (sync, async, event sources alike), counted per
function. A function with reserved concurrency may have at most that many; the others
share what is left of the account limit once every reservation is carved out. A new
instance also needs a token from the function's scaling bucket: 1,000 per 10 seconds,
refilled continuously, never more than 1,000 banked (AWS's scaling rate).

acquire() either admits an invocation (call release() when it ends) or raises Throttled
with one of AWS's TooManyRequestsException reasons.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field


class Throttled(Exception):
    def __init__(self, reason: str, message: str = "Rate Exceeded.") -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


RESERVED_LIMIT = "ReservedFunctionConcurrentInvocationLimitExceeded"
ACCOUNT_LIMIT = "ConcurrentInvocationLimitExceeded"
SCALING_RATE = "FunctionInvocationRateLimitExceeded"


@dataclass(frozen=True)
class Lease:
    function_arn: str
    unreserved: bool  # counted against the shared pool (the function had no reservation)


@dataclass
class _Bucket:
    tokens: float
    updated: float = field(default_factory=time.monotonic)


class Concurrency:
    def __init__(self, account_limit: int = 1000, scale_per_10s: int = 1000, min_unreserved: int = 100) -> None:
        self.account_limit = account_limit
        self.scale_per_10s = scale_per_10s
        self.min_unreserved = min_unreserved
        self.reserved: dict[str, int] = {}  # unqualified function ARN -> reserved concurrency
        self.in_flight: dict[str, int] = {}
        self.peak: dict[str, int] = {}  # highest in-flight since last read, for metrics
        self.unreserved_in_flight = 0
        self._buckets: dict[str, _Bucket] = {}

    # --- configuration --------------------------------------------------------------------

    @property
    def unreserved_limit(self) -> int:
        return self.account_limit - sum(self.reserved.values())

    def set_reserved(self, function_arn: str, value: int | None) -> None:
        if value is None:
            self.reserved.pop(function_arn, None)
        else:
            self.reserved[function_arn] = value

    def can_reserve(self, function_arn: str, value: int) -> bool:
        """Would the account keep its minimum of unreserved concurrency?"""
        others = sum(v for arn, v in self.reserved.items() if arn != function_arn)
        return self.account_limit - others - value >= self.min_unreserved

    # --- admission ------------------------------------------------------------------------

    def acquire(self, function_arn: str) -> Lease:
        current = self.in_flight.get(function_arn, 0)
        reserved = self.reserved.get(function_arn)
        if reserved is not None:
            if current >= reserved:
                raise Throttled(RESERVED_LIMIT)
        elif self.unreserved_in_flight >= self.unreserved_limit:
            raise Throttled(ACCOUNT_LIMIT)
        else:
            self.unreserved_in_flight += 1
        current += 1
        self.in_flight[function_arn] = current
        if current > self.peak.get(function_arn, 0):
            self.peak[function_arn] = current
        return Lease(function_arn, reserved is None)

    def release(self, lease: Lease) -> None:
        current = self.in_flight.get(lease.function_arn, 0) - 1
        if current <= 0:
            self.in_flight.pop(lease.function_arn, None)
        else:
            self.in_flight[lease.function_arn] = current
        if lease.unreserved:
            self.unreserved_in_flight = max(0, self.unreserved_in_flight - 1)

    def take_scaling_token(self, function_arn: str) -> bool:
        """May the function start one more instance now?"""
        now = time.monotonic()
        bucket = self._buckets.get(function_arn)
        if bucket is None:
            bucket = self._buckets[function_arn] = _Bucket(float(self.scale_per_10s), now)
        else:
            refill = (now - bucket.updated) * self.scale_per_10s / 10.0
            bucket.tokens = min(float(self.scale_per_10s), bucket.tokens + refill)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return True
        return False

    def total_in_flight(self) -> int:
        return sum(self.in_flight.values())

    def take_peaks(self) -> dict[str, int]:
        """Peak concurrency per function since the last call (then reset to the current)."""
        peaks, self.peak = self.peak, dict(self.in_flight)
        return peaks
