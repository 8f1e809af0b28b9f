"""Durable deliveries to targets: retried by policy, dead-lettered when they give up.

EventBridge rule targets and EventBridge Scheduler targets share this. The service puts an
item in the store (`Outbox.puts`, written in the same batch that accepts the event, so the
caller's "accepted" means the delivery will happen) and then `schedule`s it. Each attempt
sends through `send` (Destinations.send: Lambda, SQS, SNS, an event bus ...). An item
leaves the store when it is delivered, or when it is given up on and its `dead_letter`
callback has run. start() resumes whatever the store still holds: a crash can repeat a
delivery, never lose one.

Item document (kind = the outbox's kind, key = new_key()):
    target       ARN to deliver to
    body         the payload, text
    attributes   string attributes (SQS message attributes for queues)
    options      keyword options for Destinations.send (message_group_id, ...)
    created_ms   when the event was accepted (for the maximum event age)
    attempts     attempts made so far (kept across restarts)
    max_retries  retries after the first attempt (EventBridge: 0-185, default 185)
    max_age_s    give up on an item this old (EventBridge: 60-86400, default 86400)
    lane         optional: items of one lane are delivered one at a time, in order (FIFO)
    ...          anything else the service wants back in its dead_letter callback

Retry delays grow exponentially from `base_delay_s` (with jitter) up to `max_delay_s`;
AWS spreads 185 retries over 24 hours, ours are configurable so tests run fast.
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Awaitable, Callable

from ... import ids
from ...store.base import Delete, Put, Store

log = logging.getLogger("lamina.outbox")

Send = Callable[..., Awaitable[None]]  # Destinations.send(arn, body, attributes, **options)
# dead_letter(item, last error, condition) where condition is "MaximumRetryAttemptsExceeded",
# "MaximumEventAgeExceeded" or "NotRetryable" (a permanent error, e.g. the target is gone).
DeadLetter = Callable[[dict, Exception, str], Awaitable[None]]


def new_key(now_ms: int | None = None) -> str:
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    return f"{ms:015d}-{ids.hex32()}"


def retryable(error: Exception) -> bool:
    """Throttles and server-side trouble are retried; a client error (the target does not
    exist, the payload is refused) would fail the same way again."""
    status = getattr(error, "status", None)
    code = getattr(error, "code", "") or ""
    if status is None:
        return True  # connection trouble, a DeliveryError: try again
    return status >= 500 or status == 429 or "Throttl" in code or "TooManyRequests" in code


async def _no_dead_letter(item: dict, error: Exception, condition: str) -> None:
    return None


class Outbox:
    def __init__(self, store: Store, kind: str, send: Send, *, dead_letter: DeadLetter = _no_dead_letter,
                 base_delay_s: float = 1.0, max_delay_s: float = 300.0,
                 is_retryable: Callable[[Exception], bool] = retryable) -> None:
        self.store = store
        self.kind = kind
        self.send = send
        self.dead_letter = dead_letter
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self.is_retryable = is_retryable
        self._tasks: set[asyncio.Task] = set()
        self._lanes: dict[str, asyncio.Lock] = {}

    # --- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> int:
        """Deliver what the store still holds (accepted, not delivered before a stop)."""
        pending = await self.store.scan(self.kind)
        for key, item in pending:
            self.schedule(key, item)
        return len(pending)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    # --- accepting --------------------------------------------------------------------------------

    def puts(self, items: list[tuple[str, dict]]) -> list[Put]:
        """The store operations that make `items` durable; commit them with the acceptance."""
        return [Put(self.kind, key, item) for key, item in items]

    def schedule(self, key: str, item: dict) -> None:
        """Deliver an item whose Put is committed (tasks start in call order, so a lane keeps it)."""
        task = asyncio.get_running_loop().create_task(self._run(key, item))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- delivering -------------------------------------------------------------------------------

    async def _run(self, key: str, item: dict) -> None:
        try:
            lane = item.get("lane")
            if lane:
                async with self._lanes.setdefault(lane, asyncio.Lock()):
                    await self._deliver(key, item)
            else:
                await self._deliver(key, item)
        except asyncio.CancelledError:
            raise  # stopping: the store keeps it for the next start
        except Exception:
            log.exception("delivery %s to %s failed unexpectedly", key, item.get("target"))

    async def _deliver(self, key: str, item: dict) -> None:
        while True:
            try:
                await self.send(item["target"], item["body"].encode("utf-8"), item.get("attributes") or {},
                                **(item.get("options") or {}))
                await self.store.write([Delete(self.kind, key)])
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - any failure of a target is the target's
                item = dict(item, attempts=item.get("attempts", 0) + 1)
                condition = self._give_up(item, error)
                if condition:
                    log.warning("giving up on delivery %s to %s (%s): %s", key, item["target"], condition, error)
                    await self.dead_letter(item, error, condition)
                    await self.store.write([Delete(self.kind, key)])
                    return
                await self.store.write([Put(self.kind, key, item)])  # attempts survive a restart
                await asyncio.sleep(self._delay(item["attempts"]))

    def _give_up(self, item: dict, error: Exception) -> str | None:
        if not self.is_retryable(error):
            return "NotRetryable"
        if item["attempts"] > item.get("max_retries", 185):
            return "MaximumRetryAttemptsExceeded"
        age_s = time.time() - item.get("created_ms", 0) / 1000
        if age_s + self._delay(item["attempts"], jitter=False) > item.get("max_age_s", 86400):
            return "MaximumEventAgeExceeded"
        return None

    def _delay(self, attempts: int, jitter: bool = True) -> float:
        delay = min(self.max_delay_s, self.base_delay_s * 2 ** max(0, attempts - 1))
        return delay * random.uniform(0.8, 1.2) if jitter else delay
