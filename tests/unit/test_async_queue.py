"""The async queue's scheduling rules, against a real SQLite store and a `run` callback that
stands in for the function: who runs when, per function and altogether, and what happens to
an event held back past its maximum age. Retries, destinations and durability through real
functions are in tests/integration/test_lambda_async.py and test_async_destinations.py."""

import asyncio
import time

import pytest

from lamina.engine.delivery.async_queue import DROP, SUCCESS, AsyncQueue, Attempt
from lamina.store.sqlite import SQLiteStore

SLOW, QUICK = (
    "arn:aws:lambda:us-east-1:000000000000:function:slow",
    "arn:aws:lambda:us-east-1:000000000000:function:quick",
)


class Recorder:
    """A `run` that sleeps per function, counts what runs at once, and notes when each event ran."""

    def __init__(self, sleeps: dict[str, float]) -> None:
        self.sleeps = sleeps
        self.running: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self.peak_total = 0
        self.ran: dict[str, float] = {}  # event id -> when it started

    async def __call__(self, doc: dict) -> Attempt:
        function = doc["function"]
        self.running[function] = self.running.get(function, 0) + 1
        self.peak[function] = max(self.peak.get(function, 0), self.running[function])
        self.peak_total = max(self.peak_total, sum(self.running.values()))
        self.ran[doc["id"]] = time.monotonic()
        try:
            await asyncio.sleep(self.sleeps.get(function, 0))
        finally:
            self.running[function] -= 1
        return Attempt(SUCCESS)


@pytest.fixture
def store_path(tmp_path):
    return str(tmp_path / "lamina.db")


async def _drain(queue: AsyncQueue, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while queue.depth and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert queue.depth == 0, f"{queue.depth} events left"


def test_a_function_with_slow_events_does_not_hold_back_the_others(store_path):
    async def main():
        store = SQLiteStore(store_path)
        run = Recorder({SLOW: 0.3, QUICK: 0.0})
        queue = AsyncQueue(store, run, per_function=4, total=16)
        await queue.start()
        for i in range(40):  # ten rounds of the slow function's cap: 3 s of work
            await queue.enqueue({"function": SLOW, "id": f"s{i}"})
        sent = time.monotonic()
        for i in range(10):
            await queue.enqueue({"function": QUICK, "id": f"q{i}"})
        while len([k for k in run.ran if k.startswith("q")]) < 10 and time.monotonic() - sent < 5:
            await asyncio.sleep(0.01)
        # The quick events ran long before the slow backlog was through (it takes 3 s).
        assert max(run.ran[f"q{i}"] for i in range(10)) - sent < 1.0
        assert run.peak[SLOW] == 4
        await _drain(queue)
        # The slow function's events ran in the order they came.
        order = sorted(range(40), key=lambda i: run.ran[f"s{i}"])
        assert order == list(range(40))
        await queue.close()
        await store.close()

    asyncio.run(main())


def test_at_most_total_attempts_run_altogether(store_path):
    async def main():
        store = SQLiteStore(store_path)
        functions = [f"arn:aws:lambda:us-east-1:000000000000:function:f{n}" for n in range(6)]
        run = Recorder({f: 0.05 for f in functions})
        queue = AsyncQueue(store, run, per_function=4, total=10)
        await queue.start()
        for i in range(60):
            await queue.enqueue({"function": functions[i % 6], "id": f"e{i}"})
        await _drain(queue)
        assert len(run.ran) == 60
        assert run.peak_total == 10
        assert max(run.peak.values()) <= 4
        await queue.close()
        await store.close()

    asyncio.run(main())


def test_the_cap_follows_the_function_limit_and_rises_with_it(store_path):
    async def main():
        store = SQLiteStore(store_path)
        run = Recorder({SLOW: 0.2})
        limits = {SLOW: 1}
        queue = AsyncQueue(store, run, per_function=8, total=100, limit_of=limits.get)
        await queue.start()
        for i in range(20):
            await queue.enqueue({"function": SLOW, "id": f"a{i}"})
        while len(run.ran) < 2:
            await asyncio.sleep(0.01)
        assert run.peak[SLOW] == 1  # its reserved concurrency, not the per-function cap
        limits[SLOW] = 8  # a reservation raised: the held events go at once, not one by one
        await _drain(queue)
        assert run.peak[SLOW] == 8  # 18 or so were left: the cap was reached
        await queue.close()
        await store.close()

    asyncio.run(main())


def test_a_held_event_past_its_maximum_age_is_finished_at_its_age_not_its_turn(store_path):
    async def main():
        store = SQLiteStore(store_path)
        run = Recorder({SLOW: 3.0})
        finished: dict[str, tuple[str | None, float]] = {}

        async def finish(doc, attempt, condition):
            finished[doc["id"]] = (condition, time.monotonic())

        queue = AsyncQueue(store, run, finish=finish, per_function=1, total=10)
        await queue.start()
        await queue.enqueue({"function": SLOW, "id": "blocker"})
        await asyncio.sleep(0.05)
        # Received 59.5 s ago with a 60 s maximum age: it expires while the blocker runs.
        now_ms = int(time.time() * 1000)
        sent = time.monotonic()
        await queue.enqueue({"function": SLOW, "id": "old", "received_ms": now_ms - 59_500, "max_age_s": 60})
        while "old" not in finished and time.monotonic() - sent < 5:
            await asyncio.sleep(0.01)
        condition, when = finished["old"]
        assert condition == "EventAgeExceeded"
        assert when - sent < 2.0  # the sweep found it (each second), not the blocker's end at 3 s
        assert "old" not in run.ran
        await _drain(queue)
        await queue.close()
        await store.close()

    asyncio.run(main())


def test_a_drop_with_a_condition_is_finished_with_it_and_counts_no_attempt(store_path):
    async def main():
        store = SQLiteStore(store_path)
        seen = []

        async def refuse(doc):
            return Attempt(DROP, status_code=429, condition="ZeroReservedConcurrency")

        async def finish(doc, attempt, condition):
            seen.append((doc["id"], doc["attempts"], condition))

        queue = AsyncQueue(store, refuse, finish=finish)
        await queue.start()
        await queue.enqueue({"function": SLOW, "id": "z"})
        await _drain(queue)
        assert seen == [("z", 0, "ZeroReservedConcurrency")]
        assert await store.scan("async_event") == []
        await queue.close()
        await store.close()

    asyncio.run(main())


def test_every_event_finishes_exactly_once_whatever_happens(store_path):
    """Random outcomes, caps that change under the queue, events that expire while held:
    each event is finished once, never runs twice at the same time, and the queue's
    bookkeeping is empty once it has drained."""
    import random

    from lamina.engine.delivery.async_queue import FUNCTION_ERROR, RETRY_LATER

    async def main():
        rng = random.Random(7)
        functions = [f"arn:aws:lambda:us-east-1:000000000000:function:f{n}" for n in range(4)]
        limits: dict[str, int] = {}
        running: set[str] = set()
        finished: dict[str, int] = {}
        overlaps = []

        async def run(doc):
            if doc["id"] in running:
                overlaps.append(doc["id"])
            running.add(doc["id"])
            try:
                await asyncio.sleep(rng.random() * 0.004)
                roll = rng.random()
                if roll < 0.08:
                    raise RuntimeError("platform trouble")  # counts as RETRY_LATER
                if roll < 0.16:
                    return Attempt(RETRY_LATER)
                if roll < 0.26:
                    return Attempt(FUNCTION_ERROR, b"{}", "Unhandled")
                if roll < 0.32:
                    return Attempt(DROP, condition="ZeroReservedConcurrency")
                return Attempt(SUCCESS)
            finally:
                running.discard(doc["id"])

        async def finish(doc, attempt, condition):
            finished[doc["id"]] = finished.get(doc["id"], 0) + 1

        store = SQLiteStore(store_path)
        queue = AsyncQueue(
            store,
            run,
            finish=finish,
            per_function=3,
            total=8,
            limit_of=limits.get,
            retry_delays_s=(0.01, 0.02),
            throttle_backoff_s=0.01,
            max_backoff_s=0.05,
        )
        await queue.start()
        now_ms = int(time.time() * 1000)
        for i in range(300):
            doc = {"function": rng.choice(functions), "id": f"e{i}", "max_retries": 2, "max_age_s": 60}
            if i % 17 == 0:
                doc["received_ms"] = now_ms - 59_000 - rng.randrange(2000)  # expires soon or already
            await queue.enqueue(doc)
            if i % 25 == 0:
                limits[rng.choice(functions)] = rng.choice([1, 2, 5])
                queue.expire_held()
        for _ in range(3):
            await asyncio.sleep(0.3)
            queue.expire_held()
        await _drain(queue, timeout=30)
        assert overlaps == []
        assert finished == {f"e{i}": 1 for i in range(300)}
        assert await store.scan("async_event") == []
        assert not queue._busy and not queue._returning and not queue._returned and not queue._held
        await queue.close()
        await store.close()

    asyncio.run(main())


def test_function_errors_are_retried_by_the_policy_within_the_events_own_limit(store_path):
    """retry_policy's schedule sets the waits; an event's max_retries (its MaximumRetryAttempts)
    wins over the policy's; throttles back off by throttle_policy and are no attempts."""
    from lamina.engine.delivery.async_queue import FUNCTION_ERROR, RETRY_LATER
    from lamina.engine.delivery.retry import RetryPolicy

    async def main():
        store = SQLiteStore(store_path)
        runs: dict[str, list[float]] = {}

        async def run(doc):
            runs.setdefault(doc["id"], []).append(time.monotonic())
            if doc["id"] == "throttled" and len(runs["throttled"]) <= 2:
                return Attempt(RETRY_LATER)
            return Attempt(FUNCTION_ERROR, b"{}", "Unhandled")

        finished = {}

        async def finish(doc, attempt, condition):
            finished[doc["id"]] = (doc["attempts"], condition)

        queue = AsyncQueue(
            store,
            run,
            finish=finish,
            retry_policy=RetryPolicy.fixed((0.1, 0.3), max_retries=2),
            throttle_policy=RetryPolicy.exponential(0.05, 1.0),
        )
        await queue.start()
        await queue.enqueue({"function": SLOW, "id": "default"})
        await queue.enqueue({"function": SLOW, "id": "once", "max_retries": 0})
        await queue.enqueue({"function": QUICK, "id": "throttled", "max_retries": 1})
        await _drain(queue)
        assert finished == {
            "default": (3, "RetriesExhausted"),
            "once": (1, "RetriesExhausted"),
            "throttled": (2, "RetriesExhausted"),
        }
        first, second, third = runs["default"]
        # (due times are whole milliseconds: a wait may be up to 1 ms short)
        assert 0.099 <= second - first < 0.29 and 0.299 <= third - second < 0.6
        throttled = runs["throttled"]
        assert len(throttled) == 4  # two throttles (0.05 s, then 0.1 s), the attempt and its one retry
        assert 0.049 <= throttled[1] - throttled[0] and 0.099 <= throttled[2] - throttled[1]
        await queue.close()
        await store.close()

    asyncio.run(main())
