"""Insights' query runner without a server: queries start Scheduled, run in the background,
complete, or are cancelled by StopQuery; the count of running queries (AWS's limit of 30)."""

from __future__ import annotations

import asyncio

from lamina.services.logs.insights.parser import parse_query
from lamina.services.logs.insights.runner import Queries, Target


class _HeldStore:
    """A store whose reads wait until released, so queries stay Running while we look."""

    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def read_logs(self, query):
        await self.release.wait()
        return []


def test_queries_run_in_the_background_and_can_be_stopped():
    async def scenario():
        store = _HeldStore()
        queries = Queries(store)
        scope = ("000000000000", "us-east-1")
        target = [Target("k", "g", "000000000000:g")]
        first = queries.start(scope, "stats count(*)", parse_query("stats count(*)"), target, 0, 1, 10)
        second = queries.start(scope, "fields a", parse_query("fields a"), target, 0, 1, 10)
        assert first.status == "Scheduled"
        await asyncio.sleep(0)
        assert (first.status, queries.running(scope)) == ("Running", 2)
        assert queries.stop(second) is True
        store.release.set()
        await first.task
        await asyncio.gather(second.task, return_exceptions=True)
        return first, second, queries.running(scope)

    first, second, running = asyncio.run(scenario())
    assert (first.status, second.status, running) == ("Complete", "Cancelled", 0)
    assert first.results == [[{"field": "count(*)", "value": "0"}]]
