"""EventBridge's delivery side (services/events/delivery.py over engine/delivery/outbox.py) on a real
SQLite store: retries by the target's RetryPolicy and the dead-letter message's attributes
when they run out. A target that fails in a retryable way cannot be had from Lamina's own
services (they answer client errors), so the deliverers here are small stand-ins."""

from __future__ import annotations

import asyncio
import time

from lamina.engine.delivery.destinations import DeliveryError, Destinations
from lamina.services.events.delivery import Delivery, error_code, outbox_item, unsupported_target
from lamina.store.sqlite import SQLiteStore

QUEUE = "arn:aws:sqs:us-east-1:000000000000:target"
DLQ = "arn:aws:sqs:us-east-1:000000000000:dlq"
RULE = "arn:aws:events:us-east-1:000000000000:rule/r"


class Recorder:
    """An SQS deliverer failing `failures` times (DeliveryError: retryable), recording the rest."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[tuple[str, bytes, dict]] = []

    async def __call__(self, arn: str, body: bytes, attributes: dict, **options) -> None:
        self.calls.append((arn, body, attributes))
        if arn == QUEUE and self.failures:
            self.failures -= 1
            raise DeliveryError("connection refused")


async def _deliver(tmp_path, target: dict, failures: int, created_ms: int | None = None) -> Recorder:
    store = SQLiteStore(str(tmp_path / "lamina.db"))
    destinations = Destinations()
    recorder = Recorder(failures)
    destinations.register("sqs", recorder)
    delivery = Delivery(store, destinations, base_delay_s=0.01)
    created = created_ms or int(time.time() * 1000)
    item = outbox_item(target, '"payload"', "id-1", '{"id":"id-1"}', RULE, created)
    await store.write(delivery.outbox.puts([("k1", item)]))
    delivery.outbox.schedule("k1", item)
    for _ in range(500):
        if not delivery.outbox.pending:
            break
        await asyncio.sleep(0.01)
    assert await store.scan("events_outbox") == []  # delivered or given up on: gone either way
    await delivery.stop()
    await store.close()
    return recorder


def test_retries_then_succeeds(tmp_path):
    target = {"Id": "t", "Arn": QUEUE, "RetryPolicy": {"MaximumRetryAttempts": 3}, "DeadLetterConfig": {"Arn": DLQ}}
    recorder = asyncio.run(_deliver(tmp_path, target, failures=2))
    assert [call[0] for call in recorder.calls] == [QUEUE, QUEUE, QUEUE]


def test_exhausted_retries_go_to_the_dead_letter_queue_with_aws_attributes(tmp_path):
    target = {"Id": "t", "Arn": QUEUE, "RetryPolicy": {"MaximumRetryAttempts": 2}, "DeadLetterConfig": {"Arn": DLQ}}
    recorder = asyncio.run(_deliver(tmp_path, target, failures=10))
    assert [call[0] for call in recorder.calls] == [QUEUE, QUEUE, QUEUE, DLQ]
    _, body, attributes = recorder.calls[-1]
    assert body == b'{"id":"id-1"}'  # the original event, not what the target was sent
    assert attributes == {
        "RULE_ARN": RULE,
        "TARGET_ARN": QUEUE,
        "ERROR_CODE": "CONNECTION_FAILURE",
        "ERROR_MESSAGE": "connection refused",
        "RETRY_ATTEMPTS": "2",
        "EXHAUSTED_RETRY_CONDITION": "MaximumRetryAttemptsExceeded",
    }


def test_events_too_old_to_retry_go_to_the_dead_letter_queue(tmp_path):
    target = {
        "Id": "t",
        "Arn": QUEUE,
        "RetryPolicy": {"MaximumEventAgeInSeconds": 60},
        "DeadLetterConfig": {"Arn": DLQ},
    }
    recorder = asyncio.run(_deliver(tmp_path, target, failures=10, created_ms=int(time.time() * 1000) - 60_500))
    assert recorder.calls[-1][2]["EXHAUSTED_RETRY_CONDITION"] == "MaximumEventAgeExceeded"


def test_without_a_dead_letter_queue_the_event_is_dropped(tmp_path):
    recorder = asyncio.run(
        _deliver(tmp_path, {"Id": "t", "Arn": QUEUE, "RetryPolicy": {"MaximumRetryAttempts": 0}}, failures=10)
    )
    assert [call[0] for call in recorder.calls] == [QUEUE]


def test_error_codes():
    from lamina.errors import ServiceError

    assert error_code(ServiceError("QueueDoesNotExist", "gone", 400)) == "NO_RESOURCE"
    assert error_code(ServiceError("ResourceNotFoundException", "gone", 404)) == "NO_RESOURCE"
    assert error_code(ServiceError("TooManyRequestsException", "slow down", 429)) == "THROTTLING"
    assert error_code(ServiceError("ServiceException", "oops", 500)) == "INTERNAL_ERROR"
    assert error_code(ServiceError("InvalidParameterValueException", "bad", 400)) == "INVALID_PARAMETER"
    assert error_code(DeliveryError("refused")) == "CONNECTION_FAILURE"
    assert error_code(unsupported_target("arn:aws:states:us-east-1:000000000000:stateMachine:m")) == "SDK_CLIENT_ERROR"


def test_fifo_targets_get_a_lane_a_group_and_the_event_id_for_deduplication():
    item = outbox_item(
        {"Id": "t", "Arn": QUEUE + ".fifo", "SqsParameters": {"MessageGroupId": "g"}}, "b", "id-9", "b", RULE, 0
    )
    assert item["options"] == {
        "message_group_id": "g",
        "deduplication_id": "id-9",
        # EventBridge itself delivers to a queue: the queue's policy must allow it for the rule.
        "source_service": "events.amazonaws.com",
        "source_arn": RULE,
    }
    assert item["lane"] == f"{RULE}|t"
    assert (item["max_retries"], item["max_age_s"]) == (185, 86400)
