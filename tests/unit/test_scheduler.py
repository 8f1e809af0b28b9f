"""The scheduler engine (lamina.engine.timers.scheduler): one loop over a heap of jobs, fires in
tasks of their own, replacing and removing jobs, start/end bounds, missed occurrences,
flexible windows and the test speed-up. Real time, kept short by the speed-up."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import pytest

from lamina.config import Settings
from lamina.engine.timers.expressions import parse
from lamina.engine.timers.scheduler import Scheduler


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, timeout=20))


class Recorder:
    def __init__(self, delay: float = 0.0, fail: bool = False) -> None:
        self.times: list[datetime] = []
        self.delay = delay
        self.fail = fail

    async def __call__(self, scheduled: datetime) -> None:
        self.times.append(scheduled)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail:
            raise RuntimeError("target broke")


async def until(condition, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def test_rate_job_fires_on_its_occurrences_with_the_speedup():
    async def scenario():
        scheduler = Scheduler(speedup=600)  # a minute every 0.1 s
        fired = Recorder()
        anchor = scheduler.now()
        scheduler.add("job", parse("rate(1 minute)").with_anchor(anchor), fired)
        scheduler.start()
        await until(lambda: len(fired.times) >= 3)
        await scheduler.close()
        assert fired.times[:3] == [anchor + timedelta(minutes=k) for k in (1, 2, 3)]

    run(scenario())


def test_a_start_in_the_past_fires_its_first_occurrence_at_once_and_skips_the_rest():
    async def scenario():
        scheduler = Scheduler(speedup=1)
        at = parse("at(2020-01-01T00:00:00)")
        fired = Recorder()
        scheduler.add("late", at, fired, start=at.at)
        rate = parse("rate(1 hour)").with_anchor(scheduler.now() - timedelta(hours=5, minutes=30))
        missed = Recorder()
        scheduler.add("missed", rate, missed, start=scheduler.now() - timedelta(hours=5))
        scheduler.start()
        await until(lambda: fired.times and missed.times)
        await asyncio.sleep(0.2)
        await scheduler.close()
        assert fired.times == [at.at]
        assert len(missed.times) == 1  # the first occurrence after start, not all five
        assert "late" not in scheduler  # a one-time job with nothing left is dropped
        next_fire = scheduler.next_fire("missed")
        assert next_fire is not None and next_fire > scheduler.now()

    run(scenario())


def test_without_a_start_nothing_in_the_past_fires():
    async def scenario():
        scheduler = Scheduler(speedup=1)
        fired = Recorder()
        scheduler.add("past", parse("at(2020-01-01T00:00:00)"), fired)
        assert "past" not in scheduler
        scheduler.start()
        await asyncio.sleep(0.1)
        await scheduler.close()
        assert fired.times == []

    run(scenario())


def test_end_bounds_the_occurrences():
    async def scenario():
        scheduler = Scheduler(speedup=600)
        fired = Recorder()
        anchor = scheduler.now()
        scheduler.add(
            "job", parse("rate(1 minute)").with_anchor(anchor), fired, end=anchor + timedelta(minutes=2, seconds=30)
        )
        scheduler.start()
        await until(lambda: "job" not in scheduler)
        await asyncio.sleep(0.15)
        await scheduler.close()
        assert fired.times == [anchor + timedelta(minutes=1), anchor + timedelta(minutes=2)]

    run(scenario())


def test_add_replaces_and_remove_stops():
    async def scenario():
        scheduler = Scheduler(speedup=600)
        first, second = Recorder(), Recorder()
        scheduler.add("job", parse("rate(1 minute)").with_anchor(scheduler.now()), first)
        scheduler.add("job", parse("rate(2 minutes)").with_anchor(scheduler.now()), second)
        scheduler.start()
        await until(lambda: len(second.times) >= 2)
        scheduler.remove("job")
        count = len(second.times)
        await asyncio.sleep(0.5)
        await scheduler.close()
        assert first.times == []
        assert len(second.times) == count
        assert second.times[1] - second.times[0] == timedelta(minutes=2)

    run(scenario())


def test_an_earlier_job_added_while_sleeping_wakes_the_loop():
    async def scenario():
        scheduler = Scheduler(speedup=1)
        scheduler.start()
        slow, soon = Recorder(), Recorder()
        scheduler.add("slow", parse("rate(1 day)").with_anchor(scheduler.now() + timedelta(hours=1)), slow)
        await asyncio.sleep(0.05)  # the loop now sleeps for an hour
        scheduler.add(
            "soon", parse("at(2020-01-01T00:00:00)"), soon, start=datetime.fromisoformat("2019-12-31T00:00:00+00:00")
        )
        await until(lambda: soon.times, timeout=2)
        await scheduler.close()
        assert slow.times == []

    run(scenario())


def test_a_slow_or_failing_target_does_not_delay_others(caplog):
    async def scenario():
        scheduler = Scheduler(speedup=600)
        slow, broken, quick = Recorder(delay=30), Recorder(fail=True), Recorder()
        anchor = scheduler.now()
        for name, fire in (("slow", slow), ("broken", broken), ("quick", quick)):
            scheduler.add(name, parse("rate(1 minute)").with_anchor(anchor), fire)
        scheduler.start()
        await until(lambda: len(quick.times) >= 3 and len(broken.times) >= 3)
        await scheduler.close()  # cancels the slow fires still running
        assert len(slow.times) >= 3  # each occurrence started though the first never finished

    with caplog.at_level(logging.ERROR, logger="lamina.scheduler"):
        run(scenario())
    assert "scheduled job broken failed" in caplog.text


def test_flexible_window_delays_within_the_window_and_keeps_the_scheduled_time():
    async def scenario():
        scheduler = Scheduler(speedup=6000)
        seen: list[tuple[datetime, datetime]] = []

        async def fire(scheduled: datetime) -> None:
            seen.append((scheduled, scheduler.now()))

        anchor = scheduler.now()
        scheduler.add("flex", parse("rate(10 minutes)").with_anchor(anchor), fire, flexible_window_s=300)
        scheduler.start()
        await until(lambda: len(seen) >= 3, timeout=10)
        await scheduler.close()
        for k, (scheduled, actual) in enumerate(seen[:3], start=1):
            assert scheduled == anchor + timedelta(minutes=10 * k)
            assert scheduled <= actual <= scheduled + timedelta(minutes=5, seconds=30)

    run(scenario())


def test_many_jobs_share_one_loop():
    async def scenario():
        scheduler = Scheduler(speedup=600)
        fired: dict[str, int] = {}

        def counter(name):
            async def fire(scheduled):
                fired[name] = fired.get(name, 0) + 1

            return fire

        anchor = scheduler.now()
        for i in range(2000):
            scheduler.add(
                f"job{i}", parse("rate(1 minute)").with_anchor(anchor + timedelta(seconds=i % 60)), counter(f"job{i}")
            )
        before = len(asyncio.all_tasks())
        scheduler.start()
        assert len(asyncio.all_tasks()) == before + 1
        await until(lambda: len(fired) == 2000, timeout=10)
        for i in range(0, 2000, 2):
            scheduler.remove(f"job{i}")
        assert len(scheduler) == 1000
        assert len(scheduler._heap) <= 2 * 1000 + 64  # removed jobs do not pile up
        await scheduler.close()

    run(scenario())


def test_speedup_comes_from_the_environment(monkeypatch):
    # Read once, in Settings; the composition root hands it to the Scheduler.
    monkeypatch.setenv("LAMINA_SCHEDULER_SPEEDUP", "30")
    assert Scheduler(Settings().scheduler_speedup).speedup == 30
    monkeypatch.delenv("LAMINA_SCHEDULER_SPEEDUP")
    assert Scheduler(Settings().scheduler_speedup).speedup == 1
    assert Scheduler().speedup == 1
    for bad in ("0", "-2", "fast"):
        monkeypatch.setenv("LAMINA_SCHEDULER_SPEEDUP", bad)
        with pytest.raises(ValueError):
            Settings()
    with pytest.raises(ValueError):
        Scheduler(speedup=0)
    assert Scheduler(speedup=5).speedup == 5
