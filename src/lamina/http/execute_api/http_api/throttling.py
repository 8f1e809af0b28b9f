"""Throttling, as HTTP APIs do it: token buckets per route (the stage's RouteSettings over its
DefaultRouteSettings: ThrottlingBurstLimit is the bucket's size, ThrottlingRateLimit its refill
per second), inside the account's own bucket per region (10,000 requests per second, a burst
of 5,000). A request that finds a bucket empty is answered 429 {"message":"Too Many
Requests"}. A limit of 0 lets nothing through.
"""

from __future__ import annotations

import time

ACCOUNT_RATE = 10_000.0
ACCOUNT_BURST = 5_000


class Bucket:
    __slots__ = ("burst", "last", "rate", "tokens")

    def __init__(self, burst: float, rate: float) -> None:
        self.burst = float(burst)
        self.rate = float(rate)
        self.tokens = float(burst)
        self.last = time.monotonic()

    def take(self, now: float) -> bool:
        tokens = self.tokens + (now - self.last) * self.rate
        self.last = now
        if tokens > self.burst:
            tokens = self.burst
        if tokens < 1.0:
            self.tokens = tokens
            return False
        self.tokens = tokens - 1.0
        return True


class Accounts:
    """The account-level buckets, per (account, region)."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, str], Bucket] = {}

    def bucket(self, account: str, region: str) -> Bucket:
        key = (account, region)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = Bucket(ACCOUNT_BURST, ACCOUNT_RATE)
        return bucket


def route_bucket(burst: int | None, rate: float | None) -> Bucket | None:
    """A route's own bucket, or None when the stage sets no limit for it (the account's
    applies alone)."""
    if burst is None and rate is None:
        return None
    return Bucket(ACCOUNT_BURST if burst is None else burst, ACCOUNT_RATE if rate is None else rate)
