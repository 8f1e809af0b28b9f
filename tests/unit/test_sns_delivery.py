"""SNS deliveries through the engine's outbox (services/sns/delivery.py) on a real SQLite
store, with a queue that fails on purpose — what a live SQS queue does not do on demand:
each subscription's retry policy, attempts that survive a restart, messages an older
Lamina kept whole, FIFO lanes, and a subscription gone while its delivery was retried.
Publishing, HTTP/S delivery policies and dead-letter queues end to end are in
tests/integration/test_sns.py."""

from __future__ import annotations

import asyncio
import json

from lamina.engine.delivery.retry import RetryPolicy
from lamina.services.sns import attributes as attrs
from lamina.services.sns.delivery import Deliverer
from lamina.services.sns.state import OUTBOX_KIND, SnsState, Subscription, Topic
from lamina.store.base import Put
from lamina.store.sqlite import SQLiteStore

TOPIC = "arn:aws:sns:us-east-1:000000000000:news"
QUEUE = "arn:aws:sqs:us-east-1:000000000000:readers"
SUBSCRIPTION = f"{TOPIC}:00000000-0000-0000-0000-000000000001"


class Queues:
    """Destinations.send as far as SNS can tell: the first `failures` sends are refused."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.sent: list[tuple[str, bytes]] = []
        self.refused = 0

    async def __call__(self, arn: str, body: bytes, attributes: dict, **options) -> None:
        if self.failures:
            self.failures -= 1
            self.refused += 1
            raise ConnectionError("queue unavailable")
        self.sent.append((arn, body))


def message(text: str, ms: int = 1_700_000_000_000, **fields) -> dict:
    return {
        "id": f"id-{text}",
        "topic": TOPIC,
        "ms": ms,
        "endpoint": "http://localhost",
        "message": text,
        "subject": None,
        "attributes": {},
        "subscriptions": [SUBSCRIPTION],
        **fields,
    }


async def deliverer(path: str, queues: Queues, subscription: dict | None = None, **options) -> Deliverer:
    state = SnsState(SQLiteStore(path))
    await state.load()
    if TOPIC not in state.topics:
        await state.save_topic(Topic(TOPIC, "news", {}, {}, 0))
        fields = {
            "protocol": "sqs",
            "endpoint": QUEUE,
            "attributes": {"RawMessageDelivery": "true"},
            **(subscription or {}),
        }
        await state.save_subscription(
            Subscription(
                SUBSCRIPTION,
                TOPIC,
                fields["protocol"],
                fields["endpoint"],
                "000000000000",
                fields["attributes"],
                False,
                None,
                0,
            )
        )
    return Deliverer(state, queues, **options)


async def publish(deliverer: Deliverer, messages: list[dict]) -> None:
    items = deliverer.items(messages)
    await deliverer.state.store.write(deliverer.outbox.puts(items))
    deliverer.schedule(items)


async def until(condition, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def close(deliverer: Deliverer) -> None:
    await deliverer.stop()
    await deliverer.state.store.close()


def test_managed_endpoints_are_retried_by_the_schedule_then_dead_lettered(tmp_path):
    async def scenario():
        dlq = "arn:aws:sqs:us-east-1:000000000000:dlq"
        queues = Queues(failures=3)
        sns = await deliverer(
            str(tmp_path / "db"),
            queues,
            retry_delays_s=(0.0, 0.01),
            subscription={
                "attributes": {"RawMessageDelivery": "true", "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq})}
            },
        )
        await publish(sns, [message("lost")])
        await until(lambda: queues.sent)
        assert queues.refused == 3 and queues.sent == [(dlq, b"lost")]  # the first attempt and both retries
        assert await sns.state.store.scan(OUTBOX_KIND) == []
        await close(sns)

    asyncio.run(scenario())


def test_http_subscriptions_follow_their_delivery_policy_the_others_laminas_schedule(tmp_path):
    async def scenario():
        policy = {
            "healthyRetryPolicy": {
                "numRetries": 4,
                "minDelayTarget": 1,
                "maxDelayTarget": 8,
                "backoffFunction": "exponential",
            }
        }
        sns = await deliverer(
            str(tmp_path / "db"),
            Queues(),
            subscription={
                "protocol": "https",
                "endpoint": "https://example.com/hook",
                "attributes": {"DeliveryPolicy": json.dumps(policy)},
            },
        )
        http = sns.policy_for(sns.state.subscriptions[SUBSCRIPTION])
        assert http == attrs.retry_policy(dict(attrs.DEFAULT_RETRY_POLICY, **policy["healthyRetryPolicy"]))
        assert [round(http.delay_s(retry), 2) for retry in (1, 2, 3, 4)] == [1.68, 2.83, 4.76, 8.0]
        assert http.exhausted(5) and not http.exhausted(4)
        assert sns.policy == RetryPolicy.fixed(
            (0.0, 0.0, 0.0, 1.0, 1.0, 1.35, 1.82, 2.46, 3.31, 4.47, 6.03, 8.14, 10.99, 14.82, 20.0)
        )
        await close(sns)

    asyncio.run(scenario())


def test_attempts_survive_a_restart(tmp_path):
    async def scenario():
        path = str(tmp_path / "db")
        stuck = Queues(failures=10_000)
        sns = await deliverer(path, stuck, retry_delays_s=(0.05,) * 100)
        await publish(sns, [message("kept")])
        await until(lambda: stuck.refused >= 3)
        await close(sns)
        reader = SQLiteStore(path)
        [(_, item)] = await reader.scan(OUTBOX_KIND)
        await reader.close()
        assert item["attempts"] >= 3
        healthy = Queues()
        sns = await deliverer(path, healthy, retry_delays_s=(0.05,) * 100)
        assert await sns.start() == 1
        await until(lambda: healthy.sent)
        assert healthy.sent == [(QUEUE, b"kept")]
        await until(lambda: not sns.outbox.pending)
        assert await sns.state.store.scan(OUTBOX_KIND) == []
        await close(sns)

    asyncio.run(scenario())


def test_a_message_an_older_lamina_kept_whole_is_still_delivered(tmp_path):
    async def scenario():
        path = str(tmp_path / "db")
        store = SQLiteStore(path)
        legacy = message("from before")
        await store.write([Put(OUTBOX_KIND, f"{legacy['ms']:013d}:{legacy['id']}", legacy)])
        await store.close()
        queues = Queues()
        sns = await deliverer(path, queues)
        assert await sns.start() == 1
        await until(lambda: queues.sent)
        assert queues.sent == [(QUEUE, b"from before")]
        await until(lambda: not sns.outbox.pending)
        assert await sns.state.store.scan(OUTBOX_KIND) == []
        await close(sns)

    asyncio.run(scenario())


def test_fifo_messages_reach_each_subscription_in_order_also_within_a_millisecond(tmp_path):
    second = f"{TOPIC}:00000000-0000-0000-0000-000000000002"
    fifo = [
        message(
            f"m{n}",
            fifo=True,
            group="g",
            dedup=f"d{n}",
            sequence=f"1700000000000{n:07d}",
            subscriptions=[SUBSCRIPTION, second],
        )
        for n in range(12)
    ]
    fifo.reverse()  # message ids do not sort in publish order; sequence numbers do
    items = Deliverer.items(fifo)
    assert {item["lane"] for _, item in items} == {SUBSCRIPTION, second}
    ordered = [item["options"]["message"]["message"] for _, item in sorted(items) if item["target"] == second]
    assert ordered == [f"m{n}" for n in range(12)]
    assert "lane" not in Deliverer.items([message("standard")])[0][1]


def test_a_subscription_gone_while_retried_receives_nothing_more(tmp_path):
    async def scenario():
        queues = Queues(failures=10_000)
        sns = await deliverer(str(tmp_path / "db"), queues, retry_delays_s=(0.05,) * 100)
        await publish(sns, [message("late")])
        await until(lambda: queues.refused >= 2)
        await sns.state.delete_subscription(sns.state.subscriptions[SUBSCRIPTION])
        await until(lambda: not sns.outbox.pending)
        assert queues.sent == [] and await sns.state.store.scan(OUTBOX_KIND) == []
        await close(sns)

    asyncio.run(scenario())
