"""StartLiveTail against a live server through boto3's event stream: sessionStart, then
sessionUpdates carrying PutLogEvents' events and a function's output as they arrive,
filtered by pattern and stream; the session ending with SessionStreamingException when its
group is deleted; AWS's refusals of bad parameters."""

from __future__ import annotations

import threading
import time

import pytest
from botocore.exceptions import ClientError, EventStreamError

from .test_lambda_helpers import invoke


@pytest.fixture
def logs_client(lamina):
    # botocore prefixes StartLiveTail's host with "stream-" (AWS's streaming endpoint), a
    # name that does not resolve for a local endpoint: clients turn the prefix off, as for
    # any local AWS endpoint
    return lamina.client("logs", inject_host_prefix=False)


def group_arn(name: str) -> str:
    return f"arn:aws:logs:us-east-1:000000000000:log-group:{name}"


def make_group(logs, name: str, *streams: str) -> None:
    logs.create_log_group(logGroupName=name)
    for stream in streams:
        logs.create_log_stream(logGroupName=name, logStreamName=stream)


def put(logs, group: str, stream: str, *messages: str) -> None:
    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName=group, logStreamName=stream, logEvents=[{"timestamp": now, "message": m} for m in messages]
    )


def collect_until(stream, wanted: int, limit_updates: int = 30) -> tuple[dict, list[dict]]:
    """The sessionStart and the events of the updates that follow, until `wanted` arrived."""
    start, events, updates = None, [], 0
    for item in stream:
        if "sessionStart" in item:
            start = item["sessionStart"]
            continue
        updates += 1
        assert item["sessionUpdate"]["sessionMetadata"]["sampled"] is False
        events.extend(item["sessionUpdate"]["sessionResults"])
        if len(events) >= wanted or updates >= limit_updates:
            break
    return start, events


def test_live_tail_streams_put_log_events_with_a_filter(logs_client, unique_name):
    group = f"/tail/{unique_name}"
    make_group(logs_client, group, "app", "other")
    response = logs_client.start_live_tail(
        logGroupIdentifiers=[group_arn(group)], logStreamNamePrefixes=["ap"], logEventFilterPattern="ERROR"
    )
    stream = response["responseStream"]
    first = next(iter(stream))
    assert first["sessionStart"]["logGroupIdentifiers"] == [group_arn(group)]
    assert first["sessionStart"]["logEventFilterPattern"] == "ERROR"
    put(logs_client, group, "app", "INFO fine", "ERROR one", "ERROR two")
    put(logs_client, group, "other", "ERROR elsewhere")
    _, events = collect_until(stream, 2)
    stream.close()
    assert [event["message"] for event in events] == ["ERROR one", "ERROR two"]
    assert events[0]["logStreamName"] == "app"
    assert events[0]["logGroupIdentifier"] == group_arn(group)
    assert events[0]["ingestionTime"] >= events[0]["timestamp"] - 1000


def test_live_tail_sees_function_output(logs_client, lambda_client, create_function, unique_name):
    create_function({"app.py": "def handler(event, context):\n    print('TAILED ' + event['n'])\n    return {}\n"})
    invoke(lambda_client, unique_name, {"n": "0"})  # the group exists from the first instance on
    group = f"/aws/lambda/{unique_name}"
    stream = logs_client.start_live_tail(logGroupIdentifiers=[group], logEventFilterPattern="TAILED")["responseStream"]
    next(iter(stream))
    invoke(lambda_client, unique_name, {"n": "1"})
    _, events = collect_until(stream, 1)
    stream.close()
    assert [event["message"].strip() for event in events] == ["TAILED 1"]


def test_live_tail_ends_when_its_group_is_deleted(logs_client, unique_name):
    group = f"/tail/{unique_name}"
    make_group(logs_client, group)
    stream = logs_client.start_live_tail(logGroupIdentifiers=[group])["responseStream"]
    items = iter(stream)
    next(items)
    deleter = threading.Thread(target=logs_client.delete_log_group, kwargs={"logGroupName": group})
    deleter.start()
    with pytest.raises(EventStreamError) as ended:
        for _ in items:
            pass
    deleter.join()
    assert ended.value.response["Error"]["Code"] == "SessionStreamingException"


def test_live_tail_refusals(logs_client, unique_name):
    group = f"/tail/{unique_name}"
    make_group(logs_client, group)
    other = f"{group}-2"
    make_group(logs_client, other)

    def refused(**params) -> str:
        with pytest.raises(ClientError) as failed:
            logs_client.start_live_tail(**params)
        return failed.value.response["Error"]["Code"]

    assert refused(logGroupIdentifiers=[f"{group}-missing"]) == "ResourceNotFoundException"
    assert refused(logGroupIdentifiers=[group, other], logStreamNames=["a"]) == "InvalidParameterException"
    assert (
        refused(logGroupIdentifiers=[group], logStreamNames=["a"], logStreamNamePrefixes=["b"])
        == "InvalidParameterException"
    )
    assert refused(logGroupIdentifiers=[group], logEventFilterPattern="{ $.x = }") == "InvalidParameterException"
