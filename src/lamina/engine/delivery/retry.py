"""How a failed delivery is tried again: how many times, for how long, how long to wait
before each retry, and which errors are worth retrying at all. Every retrying piece of
Lamina takes these rules from here:

    async_queue.py                 Lambda async invocations: function errors after a fixed
                                   schedule (MaximumRetryAttempts 0-2, default 2;
                                   MaximumEventAgeInSeconds up to 6 h); throttles and platform
                                   errors are not attempts and back off exponentially
    outbox.py                      durable deliveries to targets, one policy per outbox (or
                                   per item), with the item's own limits:
      services/events/delivery.py     EventBridge targets: exponential with jitter, the
                                      target's RetryPolicy (185 retries, 24 hours by default)
      services/scheduler/firing.py    EventBridge Scheduler targets: the same
      services/sns/delivery.py        SNS subscriptions: AWS's schedule for AWS-managed
                                      endpoints (Lambda, SQS), the delivery policy for HTTP/S

Retries are counted from 1: retry 1 is the second attempt. A policy's limits are defaults;
an event or an item that carries its own (MaximumRetryAttempts, MaximumEventAgeInSeconds)
passes them to exhausted() and too_old(), which is cheaper than a policy per event.

The delays are plain arithmetic over the policy's fields: the async queue asks for one per
failed attempt on its hot path.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int | None = None  # retries after the first attempt; None: no limit
    max_age_s: float | None = None  # how old an event may be and still be tried; None: no limit
    # A fixed schedule: delays_s[n - 1] before retry n, its last delay for the retries
    # beyond it. None: exponential, base_s before retry 1, doubling up to cap_s.
    delays_s: tuple[float, ...] | None = None
    base_s: float = 1.0
    cap_s: float = 300.0
    jitter: float = 0.0  # each delay is multiplied by a random factor in [1 - jitter, 1 + jitter]

    @classmethod
    def fixed(
        cls,
        delays_s: tuple[float, ...] | list[float],
        *,
        max_retries: int | None = None,
        max_age_s: float | None = None,
    ) -> RetryPolicy:
        """A schedule of delays, one retry per delay unless `max_retries` says otherwise."""
        delays = tuple(float(delay) for delay in delays_s)
        return cls(
            max_retries=len(delays) if max_retries is None else max_retries, max_age_s=max_age_s, delays_s=delays
        )

    @classmethod
    def exponential(
        cls,
        base_s: float,
        cap_s: float,
        *,
        jitter: float = 0.0,
        max_retries: int | None = None,
        max_age_s: float | None = None,
    ) -> RetryPolicy:
        return cls(max_retries=max_retries, max_age_s=max_age_s, base_s=base_s, cap_s=cap_s, jitter=jitter)

    def delay_s(self, retry: int, jitter: bool = True) -> float:
        """Seconds to wait before retry number `retry` (1: the second attempt)."""
        step = retry - 1 if retry > 1 else 0
        schedule = self.delays_s
        if schedule is not None:
            if not schedule:
                return 0.0
            delay = schedule[step] if step < len(schedule) else schedule[-1]
        else:
            # The exponent stops growing long after the cap is reached (2.0 ** 1024 overflows).
            delay = min(self.cap_s, self.base_s * 2.0 ** (step if step < 64 else 64))
        if jitter and self.jitter:
            delay *= random.uniform(1.0 - self.jitter, 1.0 + self.jitter)
        return delay

    def exhausted(self, retry: int, max_retries: int | None = None) -> bool:
        """Retry number `retry` would be one too many (`max_retries`: the event's own limit)."""
        limit = self.max_retries if max_retries is None else max_retries
        return limit is not None and retry > limit

    def too_old(self, retry: int, age_s: float, max_age_s: float | None = None) -> bool:
        """Retry number `retry`, made after its delay (without jitter), would come after the
        maximum age. EventBridge gives up then rather than retry past MaximumEventAgeInSeconds;
        Lambda's async queue instead runs nothing past the age (it uses max_age_s alone)."""
        limit = self.max_age_s if max_age_s is None else max_age_s
        return limit is not None and age_s + self.delay_s(retry, jitter=False) > limit


def retryable(error: Exception) -> bool:
    """Throttles and server-side trouble are retried; a client error (the target does not
    exist, the payload is refused, an HTTP 4xx other than 429) would fail the same way again."""
    status = getattr(error, "status", None)
    code = getattr(error, "code", "") or ""
    if status is None:
        return True  # connection trouble, a DeliveryError: try again
    return status >= 500 or status == 429 or "Throttl" in code or "TooManyRequests" in code
