"""Durable deliveries to targets: retried by policy, dead-lettered when they give up.

EventBridge rule targets, EventBridge Scheduler targets and SNS subscriptions share this.
The service puts an
item in the store (`Outbox.puts`, written in the same batch that accepts the event, so the
caller's "accepted" means the delivery will happen) and then `schedule`s it. Each attempt
sends through `send` (Destinations.send: Lambda, SQS, SNS, an event bus ...). An item
leaves the store when it is delivered, or when it is given up on and its `dead_letter`
callback has run. start() resumes whatever the store still holds: a crash can repeat a
delivery, never lose one.

Item document (kind = the outbox's kind, key = new_key()):
    target       ARN to deliver to
    body         the payload, text (optional: "")
    attributes   string attributes (SQS message attributes for queues)
    options      keyword options for `send` (Destinations.send: message_group_id, ...)
    created_ms   when the event was accepted (for the maximum event age)
    attempts     failed attempts so far (kept across restarts)
    max_retries  optional: retries after the first attempt (EventBridge: 0-185)
    max_age_s    optional: give up on an item this old (EventBridge: 60-86400)
    lane         optional: items of one lane are delivered one at a time, in order (FIFO)
    ...          anything else the service wants back in its dead_letter callback

When to retry is the outbox's RetryPolicy (retry.py), or the item's own (`policy_of`, e.g.
an SNS subscription's delivery policy); an item's max_retries and max_age_s win over the
policy's. An item is given up on when the error is not retryable (`is_retryable`, by default
retry.retryable), when its retries are used up, or when the next retry would come after its
maximum age. The default policy is EventBridge's: 185 retries within 24 hours, exponential
with jitter; AWS spreads them over the 24 hours, ours start at 1 s and stop doubling at 5
minutes (configurable so tests run fast).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from ... import ids
from ...store.base import Delete, Put, Store
from .retry import RetryPolicy, retryable

log = logging.getLogger("lamina.outbox")

Send = Callable[..., Awaitable[None]]  # Destinations.send(arn, body, attributes, **options)
# dead_letter(item, last error, condition) where condition is one of these (EventBridge's words):
RETRIES_EXHAUSTED, AGE_EXCEEDED = "MaximumRetryAttemptsExceeded", "MaximumEventAgeExceeded"
NOT_RETRYABLE = "NotRetryable"  # a permanent error, e.g. the target is gone
DeadLetter = Callable[[dict, Exception, str], Awaitable[None]]

DEFAULT_POLICY = RetryPolicy.exponential(1.0, 300.0, jitter=0.2, max_retries=185, max_age_s=86400)


def new_key(now_ms: int | None = None) -> str:
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    return f"{ms:015d}-{ids.hex32()}"


async def _no_dead_letter(item: dict, error: Exception, condition: str) -> None:
    return None


class Outbox:
    def __init__(
        self,
        store: Store,
        kind: str,
        send: Send,
        *,
        dead_letter: DeadLetter = _no_dead_letter,
        policy: RetryPolicy = DEFAULT_POLICY,
        policy_of: Callable[[dict], RetryPolicy] | None = None,
        is_retryable: Callable[[Exception], bool] = retryable,
    ) -> None:
        self.store = store
        self.kind = kind
        self.send = send
        self.dead_letter = dead_letter
        self.policy = policy
        self.policy_of = policy_of  # an item's own policy, asked at each failure (None: `policy`)
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
                await self.send(
                    item["target"],
                    item.get("body", "").encode("utf-8"),
                    item.get("attributes") or {},
                    **(item.get("options") or {}),
                )
                await self.store.write([Delete(self.kind, key)])
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - any failure of a target is the target's
                item = dict(item, attempts=item.get("attempts", 0) + 1)
                policy = self.policy if self.policy_of is None else self.policy_of(item)
                condition = self._give_up(item, error, policy)
                if condition:
                    log.warning("giving up on delivery %s to %s (%s): %s", key, item["target"], condition, error)
                    await self.dead_letter(item, error, condition)
                    await self.store.write([Delete(self.kind, key)])
                    return
                await self.store.write([Put(self.kind, key, item)])  # attempts survive a restart
                await asyncio.sleep(policy.delay_s(item["attempts"]))

    def _give_up(self, item: dict, error: Exception, policy: RetryPolicy) -> str | None:
        """Why no retry follows this failure (None: retry `attempts`, the failures so far, follows)."""
        if not self.is_retryable(error):
            return NOT_RETRYABLE
        retry = item["attempts"]
        if policy.exhausted(retry, item.get("max_retries")):
            return RETRIES_EXHAUSTED
        age_s = time.time() - item.get("created_ms", 0) / 1000
        if policy.too_old(retry, age_s, item.get("max_age_s")):
            return AGE_EXCEEDED
        return None
