"""The one retry-policy type (engine/delivery/retry.py): delays before each retry, the retry
and age limits, which errors are retried; and the outbox taking an item's own policy."""

from __future__ import annotations

import asyncio
import random
import time
from itertools import pairwise

import pytest

from lamina.engine.delivery.destinations import DeliveryError
from lamina.engine.delivery.outbox import DEFAULT_POLICY, NOT_RETRYABLE, RETRIES_EXHAUSTED, Outbox
from lamina.engine.delivery.retry import RetryPolicy, retryable
from lamina.errors import ServiceError
from lamina.store.sqlite import SQLiteStore


def test_a_fixed_schedule_gives_one_delay_per_retry_and_repeats_its_last():
    policy = RetryPolicy.fixed([60, 120], max_retries=2)
    assert [policy.delay_s(retry) for retry in (1, 2, 3, 4)] == [60.0, 120.0, 120.0, 120.0]
    assert (policy.exhausted(2), policy.exhausted(3)) == (False, True)
    assert RetryPolicy.fixed((0.0, 1.0, 20.0)).max_retries == 3  # one retry per delay by default


def test_an_empty_schedule_allows_no_retry():
    policy = RetryPolicy.fixed(())
    assert policy.exhausted(1)
    assert policy.delay_s(1) == 0.0


def test_exponential_delays_double_up_to_the_cap():
    policy = RetryPolicy.exponential(1.0, 300.0)
    assert [policy.delay_s(retry) for retry in range(1, 11)] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300]
    assert policy.delay_s(5_000) == 300.0  # no overflow after thousands of retries
    assert policy.delay_s(0) == 1.0
    assert not policy.exhausted(10**6)  # no limit of its own


def test_jitter_spreads_each_delay_by_its_fraction_and_can_be_left_out():
    random.seed(3)
    policy = RetryPolicy.exponential(10.0, 300.0, jitter=0.2)
    delays = [policy.delay_s(2) for _ in range(500)]
    assert all(16.0 <= delay <= 24.0 for delay in delays)
    assert len(set(delays)) > 400
    assert policy.delay_s(2, jitter=False) == 20.0


def test_an_events_own_limits_win_over_the_policys():
    policy = RetryPolicy.exponential(1.0, 300.0, max_retries=185, max_age_s=86400)
    assert policy.exhausted(1, max_retries=0)
    assert not policy.exhausted(185) and policy.exhausted(186)
    # EventBridge's age rule: the retry would come (after its delay, without jitter) too late.
    assert policy.too_old(3, age_s=57.0, max_age_s=60)  # 57 s + 4 s > 60 s
    assert not policy.too_old(3, age_s=55.0, max_age_s=60)
    assert not policy.too_old(3, age_s=55.0)  # a day is the policy's
    assert not RetryPolicy().too_old(1, age_s=10**9)  # no age limit at all


def test_the_outbox_default_is_eventbridges():
    assert (DEFAULT_POLICY.max_retries, DEFAULT_POLICY.max_age_s) == (185, 86400)
    assert DEFAULT_POLICY.delay_s(1, jitter=False) == 1.0 and DEFAULT_POLICY.delay_s(20, jitter=False) == 300.0


def test_throttles_and_server_errors_are_retryable_client_errors_are_not():
    assert retryable(DeliveryError("connection refused"))
    assert retryable(OSError("reset"))
    assert retryable(ServiceError("ServiceException", "oops", 500))
    assert retryable(ServiceError("TooManyRequestsException", "slow down", 429))
    assert retryable(ServiceError("ThrottlingException", "slow down", 400))
    assert not retryable(ServiceError("ResourceNotFoundException", "gone", 404))
    assert not retryable(ServiceError("InvalidParameterValueException", "bad", 400))


class Failing:
    """A target that fails with `error` `times` times, then takes the delivery."""

    def __init__(self, error: Exception, times: int) -> None:
        self.error, self.times = error, times
        self.calls: list[float] = []

    async def __call__(self, arn: str, body: bytes, attributes: dict, **options) -> None:
        self.calls.append(time.monotonic())
        if self.times:
            self.times -= 1
            raise self.error


async def _run(tmp_path, send: Failing, item: dict, **outbox_options) -> list[tuple[int, str]]:
    store = SQLiteStore(str(tmp_path / "lamina.db"))
    given_up: list[tuple[int, str]] = []

    async def dead_letter(item: dict, error: Exception, condition: str) -> None:
        given_up.append((item["attempts"], condition))

    outbox = Outbox(store, "test_outbox", send, dead_letter=dead_letter, **outbox_options)
    item = dict(item, created_ms=int(time.time() * 1000))
    await store.write(outbox.puts([("k", item)]))
    outbox.schedule("k", item)
    for _ in range(500):
        if not outbox.pending:
            break
        await asyncio.sleep(0.01)
    assert await store.scan("test_outbox") == []
    await outbox.stop()
    await store.close()
    return given_up


@pytest.mark.parametrize("delays", [(0.05, 0.1), (0.0,)])
def test_the_outbox_retries_by_an_items_own_policy(tmp_path, delays):
    send = Failing(DeliveryError("down"), times=10)
    policies = {"slow": RetryPolicy.fixed(delays, max_retries=2)}
    given_up = asyncio.run(
        _run(tmp_path, send, {"target": "arn:x", "policy": "slow"}, policy_of=lambda item: policies[item["policy"]])
    )
    assert given_up == [(3, RETRIES_EXHAUSTED)]
    waits = [later - earlier for earlier, later in pairwise(send.calls)]
    expected = [delays[0], delays[-1]]
    assert all(want <= got < want + 0.2 for want, got in zip(expected, waits, strict=True)), waits


def test_the_outbox_gives_up_at_once_on_an_error_retrying_cannot_fix(tmp_path):
    send = Failing(ServiceError("QueueDoesNotExist", "gone", 400), times=10)
    given_up = asyncio.run(
        _run(tmp_path, send, {"target": "arn:x", "body": "b"}, policy=RetryPolicy.exponential(0.01, 0.01))
    )
    assert given_up == [(1, NOT_RETRYABLE)] and len(send.calls) == 1
