"""Throttling (api-gateway-request-throttling): token buckets (http_api/throttling.py's
Bucket: the burst is its size, the rate its refill per second), from the widest to the
narrowest:

- the account's, per region (AWS's defaults: 10,000 requests per second, a burst of 5,000);
- the stage's method settings, each method its own bucket (`*/*` for every method, a
  method's own setting over it);
- a usage plan's, per API key (keys.py), with the plan's per-method throttles over its own.

An empty bucket is 429 THROTTLED "Too Many Requests". Buckets are made again when their
limits change.
"""

from __future__ import annotations

import time

from ..http_api.throttling import Accounts, Bucket
from .refusals import Refusal


def throttled() -> Refusal:
    return Refusal("THROTTLED", "Too Many Requests", 429)


class Buckets:
    """Buckets by key, each remade when its limits change."""

    def __init__(self) -> None:
        self._buckets: dict[tuple, tuple[tuple[float, float], Bucket]] = {}

    def take(self, key: tuple, burst: float, rate: float) -> bool:
        limits = (float(burst), float(rate))
        kept = self._buckets.get(key)
        if kept is None or kept[0] != limits:
            if len(self._buckets) > 65536:
                self._buckets.clear()
            kept = self._buckets[key] = (limits, Bucket(burst, rate))
        return kept[1].take(time.monotonic())


class Throttles:
    def __init__(self) -> None:
        self.accounts = Accounts()
        self.methods = Buckets()

    def check(self, account: str, region: str, api_id: str, stage, resource_path: str, verb: str) -> None:
        now = time.monotonic()
        if not self.accounts.bucket(account, region).take(now):
            raise throttled()
        burst, rate = stage.throttling(resource_path, verb)
        if not self.methods.take((api_id, stage.name, resource_path, verb), burst, rate):
            raise throttled()
