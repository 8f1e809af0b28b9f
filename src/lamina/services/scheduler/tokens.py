"""ClientToken idempotency. boto3 fills in a fresh token for every call, so a token comes
back only when a call is retried: the retry must get the first call's answer.

A create keeps its token and a digest of its request in the schedule's document (durable);
a retried CreateSchedule with the same token and request gets the same ARN instead of a
ConflictException. Deletes remember their tokens in memory for a while, so a retried delete
succeeds again instead of answering ResourceNotFoundException.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

TTL_S = 8 * 3600


def digest(params: dict[str, Any]) -> str:
    """The request without its token, as a stable hash."""
    body = {k: v for k, v in params.items() if k != "ClientToken"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


class RecentTokens:
    def __init__(self, ttl_s: float = TTL_S) -> None:
        self.ttl_s = ttl_s
        self._seen: dict[tuple[str, ...], float] = {}

    def seen(self, *key: str) -> bool:
        expiry = self._seen.get(key)
        return expiry is not None and expiry > time.monotonic()

    def remember(self, *key: str) -> None:
        now = time.monotonic()
        if len(self._seen) > 10_000:  # forget the expired ones now and then
            self._seen = {k: v for k, v in self._seen.items() if v > now}
        self._seen[key] = now + self.ttl_s
