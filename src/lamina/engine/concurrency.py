"""Lambda's concurrency model: who may run now, and how fast a function may grow.

Concurrency is invocations in flight (sync, async, event sources alike), counted per
function, within the limit of its account in its region (every account and region has
its own pool, as on AWS). Out of that limit come, first, the reservations (reserved
concurrency: the function may run at most that many) and the provisioned concurrency of
functions without a reservation (the provisioned version's to use, on top of the shared
pool: other versions of the function do not eat into it; a reserved function's provisioned
concurrency is part of its reservation). What is left is the
unreserved pool that every function without a reservation shares. A new instance also
needs a token from the function's scaling bucket: 1,000 per 10 seconds, refilled
continuously, never more than 1,000 banked (AWS's scaling rate).

acquire() either admits an invocation (call release() when it ends) or raises Throttled
with one of AWS's TooManyRequestsException reasons.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache


class Throttled(Exception):
    def __init__(self, reason: str, message: str = "Rate Exceeded.") -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


RESERVED_LIMIT = "ReservedFunctionConcurrentInvocationLimitExceeded"
ACCOUNT_LIMIT = "ConcurrentInvocationLimitExceeded"
SCALING_RATE = "FunctionInvocationRateLimitExceeded"

# Which pool a lease was counted in.
RESERVED, CARVED, SHARED = "reserved", "carved", "shared"

Scope = tuple[str, str]  # (region, account)


@lru_cache(maxsize=4096)
def scope_of(function_arn: str) -> Scope:
    """arn:aws:lambda:<region>:<account>:function:<name> -> (region, account)."""
    parts = function_arn.split(":")
    return parts[3], parts[4]


@dataclass(frozen=True)
class Lease:
    function_arn: str
    pool: str  # RESERVED, CARVED (the version's provisioned share) or SHARED (unreserved pool)
    version: str | None = None


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
        self.provisioned: dict[tuple[str, str | None], int] = {}  # (function ARN, version) -> its provisioned share
        self.in_flight: dict[str, int] = {}
        self.peak: dict[str, int] = {}  # highest in-flight since last read, for metrics
        self._shared_in_flight: dict[Scope, int] = {}
        self._carved_in_flight: dict[tuple[str, str | None], int] = {}
        self._unreserved_limits: dict[Scope, int] = {}  # worked out when a setting changes
        self._buckets: dict[str, _Bucket] = {}

    # --- configuration --------------------------------------------------------------------

    def _set_aside(self, scope: Scope, leaving_out: str | None = None) -> int:
        """What the account's reservations and carved-out provisioned concurrency take."""
        total = sum(v for arn, v in self.reserved.items() if arn != leaving_out and scope_of(arn) == scope)
        total += sum(
            v
            for (arn, _), v in self.provisioned.items()
            if arn != leaving_out and arn not in self.reserved and scope_of(arn) == scope
        )
        return total

    def unreserved_limit(self, scope: Scope) -> int:
        limit = self._unreserved_limits.get(scope)
        if limit is None:
            limit = self._unreserved_limits[scope] = self.account_limit - self._set_aside(scope)
        return limit

    def set_reserved(self, function_arn: str, value: int | None) -> None:
        if value is None:
            self.reserved.pop(function_arn, None)
        else:
            self.reserved[function_arn] = value
        self._unreserved_limits.pop(scope_of(function_arn), None)

    def set_provisioned(self, function_arn: str, per_version: dict[str, int]) -> None:
        """The function's provisioned concurrency per version (an alias's counts for the
        version it points to)."""
        for key in [k for k in self.provisioned if k[0] == function_arn]:
            del self.provisioned[key]
        for version, count in per_version.items():
            if count:
                self.provisioned[(function_arn, version)] = count
        self._unreserved_limits.pop(scope_of(function_arn), None)

    def can_reserve(self, function_arn: str, value: int) -> bool:
        """Would the account keep its minimum of unreserved concurrency?"""
        scope = scope_of(function_arn)
        return self.account_limit - self._set_aside(scope, leaving_out=function_arn) - value >= self.min_unreserved

    def can_provision(self, function_arn: str, total: int) -> bool:
        """May a function without a reservation have `total` provisioned concurrency, and the
        account keep its minimum of unreserved concurrency?"""
        return self.can_reserve(function_arn, total)

    # --- admission ------------------------------------------------------------------------

    def acquire(self, function_arn: str, version: str | None = None) -> Lease:
        """Admit an invocation of the function (of `version`, whose provisioned share it may use)."""
        current = self.in_flight.get(function_arn, 0)
        reserved = self.reserved.get(function_arn)
        carved = (function_arn, version)
        if reserved is not None:
            if current >= reserved:
                raise Throttled(RESERVED_LIMIT)
            pool = RESERVED
        elif self._carved_in_flight.get(carved, 0) < self.provisioned.get(carved, 0):
            self._carved_in_flight[carved] = self._carved_in_flight.get(carved, 0) + 1
            pool = CARVED
        else:
            scope = scope_of(function_arn)
            shared = self._shared_in_flight.get(scope, 0)
            if shared >= self.unreserved_limit(scope):
                raise Throttled(ACCOUNT_LIMIT)
            self._shared_in_flight[scope] = shared + 1
            pool = SHARED
        current += 1
        self.in_flight[function_arn] = current
        if current > self.peak.get(function_arn, 0):
            self.peak[function_arn] = current
        return Lease(function_arn, pool, version)

    def release(self, lease: Lease) -> None:
        arn = lease.function_arn
        current = self.in_flight.get(arn, 0) - 1
        if current <= 0:
            self.in_flight.pop(arn, None)
        else:
            self.in_flight[arn] = current
        if lease.pool == SHARED:
            scope = scope_of(arn)
            self._shared_in_flight[scope] = max(0, self._shared_in_flight.get(scope, 0) - 1)
        elif lease.pool == CARVED:
            carved = (arn, lease.version)
            left = self._carved_in_flight.get(carved, 0) - 1
            if left > 0:
                self._carved_in_flight[carved] = left
            else:
                self._carved_in_flight.pop(carved, None)

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

    # --- for metrics ----------------------------------------------------------------------

    def unreserved_in_flight_by_scope(self) -> dict[Scope, int]:
        return dict(self._shared_in_flight)

    def take_peaks(self) -> dict[str, int]:
        """Peak concurrency per function since the last call (then reset to the current)."""
        peaks, self.peak = self.peak, dict(self.in_flight)
        return peaks
