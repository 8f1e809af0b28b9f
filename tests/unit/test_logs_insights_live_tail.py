"""Live Tail's sessions without a server: what an update holds, sampling past 500 events,
the end of a session (its maximum length, its group deleted) and letting go when closed."""

from __future__ import annotations

import asyncio

import pytest

from lamina.errors import ServiceError
from lamina.services.logs.filter_pattern import compile_pattern
from lamina.services.logs.live_tail import MAX_EVENTS_PER_UPDATE, LiveTails, Session


def session(pattern: str = "", prefixes: tuple[str, ...] = ()) -> Session:
    scope = ("000000000000", "us-east-1")
    return Session("id", scope, {"g": "group-arn"}, frozenset(), prefixes, compile_pattern(pattern))


def test_an_update_holds_what_matched():
    tails = LiveTails()
    watching = session("ERROR", prefixes=("app",))
    tails.add(watching)
    tails.publish("g", "app-1", [(1, "ERROR a"), (2, "INFO b")])
    tails.publish("g", "other", [(3, "ERROR c")])
    tails.publish("unwatched", "app-1", [(4, "ERROR d")])
    events, sampled = watching.take()
    assert [event["message"] for event in events] == ["ERROR a"] and sampled is False
    assert events[0]["logGroupIdentifier"] == "group-arn"
    assert watching.take() == ([], False)


def test_a_flood_is_sampled():
    tails = LiveTails()
    watching = session()
    tails.add(watching)
    tails.publish("g", "s", [(index, f"line {index}") for index in range(3 * MAX_EVENTS_PER_UPDATE)])
    events, sampled = watching.take()
    assert sampled is True and len(events) == MAX_EVENTS_PER_UPDATE


async def _drain(stream) -> tuple[list[dict], ServiceError | None]:
    items = []
    try:
        async for item in stream:
            items.append(item)
    except ServiceError as error:
        return items, error
    return items, None


def test_a_session_times_out_and_lets_go():
    async def scenario():
        tails = LiveTails(max_session_s=0, interval_s=0.01)
        watching = session()
        tails.add(watching)
        items, error = await _drain(tails.stream(watching, {"sessionId": "id"}))
        return tails, items, error

    tails, items, error = asyncio.run(scenario())
    assert items[0] == {"sessionStart": {"sessionId": "id"}}
    assert "sessionUpdate" in items[1]
    assert error is not None and error.code == "SessionTimeoutException"
    assert tails.by_group == {}


def test_deleting_the_group_ends_the_session():
    async def scenario():
        tails = LiveTails(interval_s=10)
        watching = session()
        tails.add(watching)
        stream = tails.stream(watching, {})
        assert "sessionStart" in await stream.__anext__()
        tails.group_deleted("g", "/my/group")
        with pytest.raises(ServiceError) as ended:
            await stream.__anext__()
        return tails, ended.value

    tails, error = asyncio.run(scenario())
    assert error.code == "SessionStreamingException" and tails.by_group == {}


def test_closing_the_stream_lets_go():
    async def scenario():
        tails = LiveTails(interval_s=0.01)
        watching = session()
        tails.add(watching)
        stream = tails.stream(watching, {})
        await stream.__anext__()
        await stream.aclose()
        return tails

    assert asyncio.run(scenario()).by_group == {}
