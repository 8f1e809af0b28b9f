"""Running schedules: arming them in the engine's Scheduler, and turning each occurrence
into a durable delivery to the target.

An occurrence puts one outbox item (engine/delivery/outbox.py, kind "scheduler_outbox") in
the store — in the same batch that marks a one-time schedule fired, or deletes a finished
schedule whose ActionAfterCompletion is DELETE — and only then sends it, so a crash
mid-retry loses nothing. The outbox retries by the target's RetryPolicy
(MaximumRetryAttempts and MaximumEventAgeInSeconds, kept in the item) with the delays of
`policy` (engine/delivery/retry.py: exponential with jitter, as EventBridge's; which errors
are retried is retry.retryable) and, when it gives up, `_dead_letter` sends the target's
input to the DeadLetterConfig queue with AWS's message attributes:

    X-Amz-Scheduler-Attempt, X-Amz-Scheduler-Schedule-Arn, X-Amz-Scheduler-Group,
    ERROR_CODE, ERROR_MESSAGE, RETRY_ATTEMPTS, TARGET_ARN, and EXHAUSTED_RETRY_CONDITION
    (MaximumRetryAttempts / MaximumEventAgeInSeconds) when retries ran out rather than
    the target failing in a way retrying cannot fix (it does not exist).

Context attributes in Target.Input are replaced as AWS documents: <aws.scheduler.schedule-arn>,
<aws.scheduler.scheduled-time> (e.g. 2022-03-22T18:59:43Z) and <aws.scheduler.execution-id>
(one per occurrence, kept across its retries) when the occurrence fires;
<aws.scheduler.attempt-number> at each attempt.

Restarts: schedules are armed again from the store; missed occurrences of recurring
schedules are not replayed, as on AWS. A one-time schedule that had not fired when its time
passed fires once at start (AWS invokes a one-time schedule whose time has already passed
at once).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import datetime, timezone
from typing import Any

from ...engine.delivery.destinations import GATED, DeliveryError, Destinations
from ...engine.delivery.outbox import AGE_EXCEEDED, RETRIES_EXHAUSTED, Outbox, new_key
from ...engine.delivery.retry import RetryPolicy
from ...engine.timers.expressions import Schedule
from ...engine.timers.scheduler import Scheduler
from ...errors import ServiceError
from ...store.base import Store
from .checks import DEFAULT_RETRY, expression_of
from .state import OUTBOX_KIND, ScheduleRecord, SchedulerState

log = logging.getLogger("lamina.scheduler")

SCHEDULE_ARN, SCHEDULED_TIME = "<aws.scheduler.schedule-arn>", "<aws.scheduler.scheduled-time>"
EXECUTION_ID, ATTEMPT_NUMBER = "<aws.scheduler.execution-id>", "<aws.scheduler.attempt-number>"
_CONDITIONS = {RETRIES_EXHAUSTED: "MaximumRetryAttempts", AGE_EXCEEDED: "MaximumEventAgeInSeconds"}


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


def stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Firing:
    def __init__(
        self,
        state: SchedulerState,
        store: Store,
        destinations: Destinations,
        scheduler: Scheduler,
        base_delay_s: float = 1.0,
        max_delay_s: float = 300.0,
        policy: RetryPolicy | None = None,
    ) -> None:
        """`base_delay_s` and `max_delay_s` are the shorthand for `policy` (each item carries
        its target's limits; the API fills in AWS's defaults, which the policy repeats)."""
        self.state = state
        self.destinations = destinations
        self.scheduler = scheduler
        self.outbox = Outbox(
            store,
            OUTBOX_KIND,
            self._send,
            dead_letter=self._dead_letter,
            policy=policy
            or RetryPolicy.exponential(
                base_delay_s,
                max_delay_s,
                jitter=0.2,
                max_retries=DEFAULT_RETRY["MaximumRetryAttempts"],
                max_age_s=DEFAULT_RETRY["MaximumEventAgeInSeconds"],
            ),
        )
        # Attempts per execution id, for <aws.scheduler.attempt-number>: the outbox counts
        # failures in the item it keeps; this mirrors it for the attempt being made.
        self._attempts: dict[str, int] = {}
        self.locks: dict[str, asyncio.Lock] = {}  # per schedule key: changes to one schedule in turn

    def lock(self, key: str) -> asyncio.Lock:
        return self.locks.setdefault(key, asyncio.Lock())

    # --- lifecycle ----------------------------------------------------------------------------------

    async def start(self) -> int:
        """Arm every schedule and resume undelivered occurrences (their count)."""
        for _key, item in await self.state.store.scan(OUTBOX_KIND):
            execution = (item.get("options") or {}).get("execution_id")
            if execution:
                self._attempts[execution] = item.get("attempts", 0)
        for record in list(self.state.schedules.values()):
            if self._finished(record) and record.spec.get("ActionAfterCompletion") == "DELETE":
                await self.state.delete_schedule(record)  # its EndDate passed while we were down
            else:
                self.arm(record, fresh=False)
        return await self.outbox.start()

    async def stop(self) -> None:
        await self.outbox.stop()

    def reset(self) -> None:
        """Lamina's reset (after stop()): every schedule disarmed, no attempt remembered."""
        for key in self.state.schedules:
            self.scheduler.remove(key)
        self._attempts.clear()
        self.locks.clear()

    # --- arming ---------------------------------------------------------------------------------------

    def arm(self, record: ScheduleRecord, fresh: bool) -> None:
        """(Re)arm a schedule after it was created, updated or loaded (`fresh`: just set)."""
        self.scheduler.remove(record.key)
        if not record.enabled:
            return
        spec = record.spec
        schedule = expression_of(spec)
        window = spec["FlexibleTimeWindow"]
        window_s = window.get("MaximumWindowInMinutes", 0) * 60 if window["Mode"] == "FLEXIBLE" else 0

        async def fire(scheduled: datetime) -> None:
            await self._fire(record.key, scheduled)

        if schedule.one_time:
            if not record.fired:  # a time already past fires at once
                self.scheduler.add(record.key, schedule, fire, start=schedule.at, flexible_window_s=window_s)
            return
        start = _moment(spec["StartDate"]) if "StartDate" in spec else None
        end = _moment(spec["EndDate"]) if "EndDate" in spec else None
        if schedule.kind == "rate":
            schedule = schedule.with_anchor(start or _moment(record.anchor_s))
            if start is None and fresh:
                start = _moment(record.anchor_s)  # without a StartDate, a rate schedule starts at once
        now = self.scheduler.now()
        if start is not None and start < now and not fresh:
            start = None  # restarted: what was missed is not replayed
        self.scheduler.add(record.key, schedule, fire, start=start, end=end, flexible_window_s=window_s)

    def disarm(self, record: ScheduleRecord) -> None:
        self.scheduler.remove(record.key)

    def _finished(self, record: ScheduleRecord, after: datetime | None = None) -> bool:
        """No occurrence left after `after` (default: now)."""
        schedule = expression_of(record.spec)
        if schedule.one_time:
            return record.fired
        return _last(schedule, record.spec, after or self.scheduler.now(), record.anchor_s)

    # --- firing -----------------------------------------------------------------------------------------

    async def _fire(self, key: str, scheduled: datetime) -> None:
        async with self.lock(key):
            record = self.state.schedules.get(key)
            if record is None or not record.enabled:
                return
            spec, target = record.spec, record.spec["Target"]
            execution = secrets.token_hex(8)
            body = (
                (target.get("Input") or "{}")
                .replace(SCHEDULE_ARN, record.arn)
                .replace(SCHEDULED_TIME, stamp(scheduled))
                .replace(EXECUTION_ID, execution)
            )
            item = _item(record, target, body, execution)
            key_in_outbox = new_key()
            ops = self.outbox.puts([(key_in_outbox, item)])
            one_time = expression_of(spec).one_time
            finished = one_time or self._finished(record, after=scheduled)
            if finished and spec.get("ActionAfterCompletion") == "DELETE":
                self.disarm(record)
                await self.state.delete_schedule(record, also=ops)
                self.locks.pop(key, None)
            elif one_time:
                record.fired = True
                await self.state.save_schedule(record, also=ops)
            else:
                await self.state.store.write(ops)
        self._attempts[execution] = 0
        self.outbox.schedule(key_in_outbox, item)

    async def _send(self, arn: str, body: bytes, attributes: dict[str, str], **options: Any) -> None:
        execution = options.pop("execution_id", None)
        attempt = self._attempts[execution] = self._attempts.get(execution, 0) + 1
        payload = body.decode("utf-8").replace(ATTEMPT_NUMBER, str(attempt)).encode("utf-8")
        if not self.destinations.supports(arn):  # a configuration problem: retrying will not help
            raise ServiceError("UnsupportedTarget", f"Nothing in Lamina delivers to {arn}.", 400)
        await self.destinations.send(arn, payload, attributes, **options)
        self._attempts.pop(execution, None)

    async def _dead_letter(self, item: dict, error: Exception, condition: str) -> None:
        execution = (item.get("options") or {}).get("execution_id")
        self._attempts.pop(execution, None)
        attempts = item.get("attempts", 1)
        dlq = item.get("dlq")
        if not dlq:
            log.warning("schedule %s: occurrence dropped after %s: %s", item.get("schedule"), condition, error)
            return
        attributes = {
            "X-Amz-Scheduler-Attempt": str(attempts),
            "X-Amz-Scheduler-Schedule-Arn": item.get("schedule", ""),
            "X-Amz-Scheduler-Group": item.get("group", ""),
            "ERROR_CODE": getattr(error, "code", None) or type(error).__name__,
            "ERROR_MESSAGE": (getattr(error, "message", None) or str(error) or type(error).__name__)[:256],
            "RETRY_ATTEMPTS": str(max(0, attempts - 1)),
            "TARGET_ARN": item["target"],
        }
        if condition in _CONDITIONS:
            attributes["EXHAUSTED_RETRY_CONDITION"] = _CONDITIONS[condition]
        body = item["body"].replace(ATTEMPT_NUMBER, str(attempts))
        options = item.get("options") or {}
        gated = {name: options[name] for name in GATED if options.get(name)}
        try:
            await self.destinations.send(dlq, body.encode("utf-8"), attributes, **gated)
        except (ServiceError, DeliveryError, OSError) as failure:
            log.warning(
                "schedule %s: dead-letter queue %s refused the occurrence: %s", item.get("schedule"), dlq, failure
            )


def _last(schedule: Schedule, spec: dict, after: datetime, anchor_s: float) -> bool:
    if "EndDate" not in spec:
        return False
    if schedule.kind == "rate":
        start = spec.get("StartDate")
        schedule = schedule.with_anchor(_moment(start if start is not None else anchor_s))
    following = schedule.next_after(after)
    return following is None or following > _moment(spec["EndDate"])


def _item(record: ScheduleRecord, target: dict, body: str, execution: str) -> dict[str, Any]:
    """The outbox item for one occurrence."""
    arn = target["Arn"]
    retry = target["RetryPolicy"]
    # Scheduler acts as the target's role: the role must trust scheduler.amazonaws.com, and
    # its policies decide (Destinations' gate), for the target and the dead-letter queue.
    options: dict[str, Any] = {
        "execution_id": execution,
        "role_arn": target.get("RoleArn"),
        "source_service": "scheduler.amazonaws.com",
        "source_arn": record.arn,
    }
    item: dict[str, Any] = {
        "target": arn,
        "body": body,
        "attributes": {},
        "created_ms": int(datetime.now(timezone.utc).timestamp() * 1000),
        "max_retries": retry["MaximumRetryAttempts"],
        "max_age_s": retry["MaximumEventAgeInSeconds"],
        "schedule": record.arn,
        "group": record.group,
        "options": options,
    }
    if arn.endswith(".fifo"):
        group = (target.get("SqsParameters") or {}).get("MessageGroupId")
        # The execution id deduplicates: a redelivery after a crash is dropped by the queue.
        options.update(message_group_id=group, deduplication_id=execution)
        item["lane"] = record.arn  # one schedule's occurrences reach a FIFO target in order
    bridge = target.get("EventBridgeParameters")
    if bridge:
        options.update(detail_type=bridge["DetailType"], source=bridge["Source"])
    dlq = (target.get("DeadLetterConfig") or {}).get("Arn")
    if dlq:
        item["dlq"] = dlq
    return item
