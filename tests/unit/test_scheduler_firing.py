"""EventBridge Scheduler's firing (lamina.services.scheduler) in process, on a real SQLite
store and the real engine Scheduler, with the one boundary that cannot be had here faked:
a target that fails on purpose (throttling, then success; or always) — what a live queue
or function does not do on demand. Covers retries with <aws.scheduler.attempt-number>,
the retry policy running out into the dead-letter queue, and the outbox surviving a stop."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from lamina.engine.delivery.destinations import Destinations
from lamina.engine.timers.scheduler import Scheduler
from lamina.errors import ServiceError
from lamina.services.context import RequestContext
from lamina.services.scheduler import SchedulerService
from lamina.store.sqlite import SQLiteStore

CTX = RequestContext("000000000000", "us-east-1", "request", "http://localhost")
QUEUE = "arn:aws:sqs:us-east-1:000000000000:target"
DLQ = "arn:aws:sqs:us-east-1:000000000000:dlq"


class Queues:
    """SQS as far as the scheduler can tell: the target answers `failures` throttles first."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.received: dict[str, list[tuple[str, dict]]] = {}

    async def deliver(self, arn: str, body: bytes, attributes: dict, **options) -> None:
        if arn == QUEUE and self.failures:
            self.failures -= 1
            raise ServiceError("ThrottlingException", "slow down", 429)
        self.received.setdefault(arn, []).append((body.decode(), attributes))


async def service_with(path: str, queues: Queues) -> SchedulerService:
    destinations = Destinations()
    destinations.register("sqs", queues.deliver)
    service = SchedulerService(SQLiteStore(path), destinations, Scheduler(speedup=1))
    # Retries a hundred times faster than Lamina's default (the first after 10 ms, not 1 s).
    service.firing.outbox.policy = replace(service.firing.outbox.policy, base_s=0.01)
    await service.start()
    service.scheduler.start()
    return service


async def stop(service: SchedulerService) -> None:
    await service.scheduler.close()
    await service.stop()
    await service.store.close()


def create_params(name: str, retries: int, input_text: str) -> dict:
    past = (datetime.now(timezone.utc) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")
    return {
        "Name": name,
        "ScheduleExpression": f"at({past})",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {
            "Arn": QUEUE,
            "RoleArn": "arn:aws:iam::000000000000:role/r",
            "Input": input_text,
            "RetryPolicy": {"MaximumRetryAttempts": retries, "MaximumEventAgeInSeconds": 3600},
            "DeadLetterConfig": {"Arn": DLQ},
        },
    }


async def until(condition, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def test_retries_count_attempts_in_the_input(tmp_path):
    async def scenario():
        queues = Queues(failures=2)
        service = await service_with(str(tmp_path / "db"), queues)
        await service.create_schedule(create_params("retried", 5, '{"attempt": "<aws.scheduler.attempt-number>"}'), CTX)
        await until(lambda: QUEUE in queues.received)
        await stop(service)
        assert [json.loads(body) for body, _ in queues.received[QUEUE]] == [{"attempt": "3"}]
        assert DLQ not in queues.received

    asyncio.run(scenario())


def test_exhausted_retries_go_to_the_dead_letter_queue_with_the_condition(tmp_path):
    async def scenario():
        queues = Queues(failures=100)
        service = await service_with(str(tmp_path / "db"), queues)
        await service.create_schedule(create_params("doomed", 2, "attempt <aws.scheduler.attempt-number>"), CTX)
        await until(lambda: DLQ in queues.received)
        await stop(service)
        body, attributes = queues.received[DLQ][0]
        assert body == "attempt 3"
        assert attributes["X-Amz-Scheduler-Attempt"] == "3"
        assert attributes["RETRY_ATTEMPTS"] == "2"
        assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttempts"
        assert attributes["ERROR_CODE"] == "ThrottlingException" and attributes["ERROR_MESSAGE"] == "slow down"
        assert attributes["X-Amz-Scheduler-Schedule-Arn"].endswith(":schedule/default/doomed")
        assert attributes["X-Amz-Scheduler-Group"] == "default"

    asyncio.run(scenario())


def test_an_undelivered_occurrence_is_delivered_after_a_restart(tmp_path):
    async def scenario():
        path = str(tmp_path / "db")
        stuck = Queues(failures=10_000)
        service = await service_with(path, stuck)
        service.firing.outbox.policy = replace(service.firing.outbox.policy, base_s=0.2)
        await service.create_schedule(create_params("resumed", 185, "n=<aws.scheduler.attempt-number>"), CTX)
        await until(lambda: service.state.schedules["000000000000:us-east-1:default/resumed"].fired)
        await asyncio.sleep(0.5)  # a few failed attempts
        await stop(service)
        healthy = Queues(failures=0)
        service = await service_with(path, healthy)
        await until(lambda: QUEUE in healthy.received)
        await asyncio.sleep(0.2)
        await stop(service)
        [(body, _)] = healthy.received[QUEUE]  # once: the one-time schedule did not fire again
        assert int(body.split("=")[1]) > 1  # the attempt count carried over the restart

    asyncio.run(scenario())
