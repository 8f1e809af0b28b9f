"""The CloudWatch Logs service, driven directly on a real SQLite store with a real LogSink."""

import asyncio
import time

import pytest

from lamina.errors import ServiceError
from lamina.observability.logsink import LogSink, group_key
from lamina.services.context import RequestContext
from lamina.services.logs import LogsService
from lamina.store.sqlite import SQLiteStore

CTX = RequestContext(account_id="000000000000", region="us-east-1", request_id="r", endpoint_url="http://x")
OTHER_ACCOUNT = RequestContext(account_id="111111111111", region="us-east-1", request_id="r", endpoint_url="http://x")
GROUP_ARN = "arn:aws:logs:us-east-1:000000000000:log-group:app"


@pytest.fixture
def run(tmp_path):
    """run(scenario): scenario(logs, sink) on a fresh store, in its own event loop."""

    def runner(scenario):
        async def main():
            store = SQLiteStore(str(tmp_path / "lamina.db"))
            sink = LogSink(store)
            try:
                return await scenario(LogsService(store, sink), sink)
            finally:
                await sink.close()
                await store.close()

        return asyncio.run(main())

    return runner


async def expect_error(code, call, message=None):
    with pytest.raises(ServiceError) as caught:
        await call
    assert caught.value.code == code
    assert caught.value.status in (400, None)
    if message is not None:
        assert caught.value.message == message
    return caught.value


def now_ms():
    return int(time.time() * 1000)


async def make_stream(logs, group="app", stream="s1", ctx=CTX):
    try:
        await logs.create_log_group({"logGroupName": group}, ctx)
    except ServiceError as error:
        assert error.code == "ResourceAlreadyExistsException"
    await logs.create_log_stream({"logGroupName": group, "logStreamName": stream}, ctx)


async def put(logs, messages, group="app", stream="s1", start=None):
    start = now_ms() - 60_000 if start is None else start
    events = [{"timestamp": start + i, "message": m} for i, m in enumerate(messages)]
    return await logs.put_log_events({"logGroupName": group, "logStreamName": stream, "logEvents": events}, CTX)


# --- log groups ---------------------------------------------------------------------------------


def test_create_describe_delete_log_group(run):
    async def scenario(logs, sink):
        before = now_ms()
        assert await logs.create_log_group({"logGroupName": "/aws/lambda/fn", "tags": {"team": "a"}}, CTX) == {}
        await expect_error(
            "ResourceAlreadyExistsException",
            logs.create_log_group({"logGroupName": "/aws/lambda/fn"}, CTX),
            "The specified log group already exists",
        )
        [group] = (await logs.describe_log_groups({}, CTX))["logGroups"]
        assert group["logGroupName"] == "/aws/lambda/fn"
        assert group["arn"] == "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/fn:*"
        assert group["logGroupArn"] == "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/fn"
        assert before <= group["creationTime"] <= now_ms()
        assert group["storedBytes"] == 0 and group["metricFilterCount"] == 0
        assert "tags" not in group and "nextToken" not in group

        assert await logs.delete_log_group({"logGroupName": "/aws/lambda/fn"}, CTX) == {}
        assert (await logs.describe_log_groups({}, CTX))["logGroups"] == []
        await expect_error(
            "ResourceNotFoundException",
            logs.delete_log_group({"logGroupName": "/aws/lambda/fn"}, CTX),
            "The specified log group does not exist.",
        )

    run(scenario)


def test_groups_are_scoped_by_account_and_region(run):
    async def scenario(logs, sink):
        await logs.create_log_group({"logGroupName": "app"}, CTX)
        assert (await logs.describe_log_groups({}, OTHER_ACCOUNT))["logGroups"] == []
        await logs.create_log_group({"logGroupName": "app"}, OTHER_ACCOUNT)  # no clash
        [group] = (await logs.describe_log_groups({}, OTHER_ACCOUNT))["logGroups"]
        assert ":111111111111:" in group["arn"]
        await expect_error(
            "ResourceNotFoundException", logs.list_tags_for_resource({"resourceArn": GROUP_ARN}, OTHER_ACCOUNT)
        )

    run(scenario)


def test_describe_log_groups_prefix_pattern_and_paging(run):
    async def scenario(logs, sink):
        names = ["/aws/lambda/a", "/aws/lambda/b", "/aws/lambda/c", "/other/DataLogs", "/other/datalogs", "z"]
        for name in reversed(names):
            await logs.create_log_group({"logGroupName": name}, CTX)

        listed = [g["logGroupName"] for g in (await logs.describe_log_groups({}, CTX))["logGroups"]]
        assert listed == names
        prefixed = await logs.describe_log_groups({"logGroupNamePrefix": "/aws/lambda/"}, CTX)
        assert [g["logGroupName"] for g in prefixed["logGroups"]] == names[:3]

        found = await logs.describe_log_groups({"logGroupNamePattern": "DataLogs"}, CTX)
        assert found["logGroups"] == [
            {
                "logGroupName": "/other/DataLogs",
                "creationTime": found["logGroups"][0]["creationTime"],
                "arn": "arn:aws:logs:us-east-1:000000000000:log-group:/other/DataLogs:*",
            }
        ]
        await expect_error(
            "InvalidParameterException",
            logs.describe_log_groups({"logGroupNamePrefix": "/a", "logGroupNamePattern": "b"}, CTX),
        )

        seen, token, pages = [], None, 0
        while True:
            params = {"limit": 2, **({"nextToken": token} if token else {})}
            page = await logs.describe_log_groups(params, CTX)
            pages += 1
            assert len(page["logGroups"]) <= 2
            seen += [g["logGroupName"] for g in page["logGroups"]]
            token = page.get("nextToken")
            if token is None:
                break
        assert seen == names and pages == 3

        page = await logs.describe_log_groups({"logGroupNamePrefix": "/aws/", "limit": 2}, CTX)
        rest = await logs.describe_log_groups(
            {"logGroupNamePrefix": "/aws/", "limit": 2, "nextToken": page["nextToken"]}, CTX
        )
        assert [g["logGroupName"] for g in rest["logGroups"]] == ["/aws/lambda/c"] and "nextToken" not in rest

        pattern_page = await logs.describe_log_groups({"logGroupNamePattern": "lambda", "limit": 1}, CTX)
        assert [g["logGroupName"] for g in pattern_page["logGroups"]] == ["/aws/lambda/a"]
        assert "nextToken" in pattern_page

        by_id = await logs.describe_log_groups(
            {"logGroupIdentifiers": ["z", GROUP_ARN.replace("app", "/aws/lambda/b")]}, CTX
        )
        assert [g["logGroupName"] for g in by_id["logGroups"]] == ["/aws/lambda/b", "z"]

        await expect_error("InvalidParameterException", logs.describe_log_groups({"nextToken": "not-a-token!"}, CTX))

    run(scenario)


def test_retention_policy(run):
    async def scenario(logs, sink):
        await logs.create_log_group({"logGroupName": "app"}, CTX)
        await logs.put_retention_policy({"logGroupName": "app", "retentionInDays": 7}, CTX)
        [group] = (await logs.describe_log_groups({}, CTX))["logGroups"]
        assert group["retentionInDays"] == 7
        await logs.delete_retention_policy({"logGroupName": "app"}, CTX)
        [group] = (await logs.describe_log_groups({}, CTX))["logGroups"]
        assert "retentionInDays" not in group
        error = await expect_error(
            "InvalidParameterException", logs.put_retention_policy({"logGroupName": "app", "retentionInDays": 2}, CTX)
        )
        assert "retentionInDays" in error.message
        await expect_error(
            "ResourceNotFoundException", logs.put_retention_policy({"logGroupName": "nope", "retentionInDays": 1}, CTX)
        )

    run(scenario)


def test_deletion_protection_blocks_deletes(run):
    async def scenario(logs, sink):
        await logs.create_log_group({"logGroupName": "app", "deletionProtectionEnabled": True}, CTX)
        await logs.create_log_stream({"logGroupName": "app", "logStreamName": "s1"}, CTX)
        await expect_error("ValidationException", logs.delete_log_group({"logGroupName": "app"}, CTX))
        await expect_error(
            "ValidationException", logs.delete_log_stream({"logGroupName": "app", "logStreamName": "s1"}, CTX)
        )
        await logs.put_log_group_deletion_protection(
            {"logGroupIdentifier": GROUP_ARN, "deletionProtectionEnabled": False}, CTX
        )
        await logs.delete_log_group({"logGroupName": "app"}, CTX)

    run(scenario)


def test_tags_by_arn_and_by_name(run):
    async def scenario(logs, sink):
        await logs.create_log_group({"logGroupName": "app", "tags": {"a": "1"}}, CTX)
        assert await logs.list_tags_for_resource({"resourceArn": GROUP_ARN}, CTX) == {"tags": {"a": "1"}}
        await logs.tag_resource({"resourceArn": GROUP_ARN, "tags": {"b": "2", "a": "9"}}, CTX)
        assert await logs.list_tags_log_group({"logGroupName": "app"}, CTX) == {"tags": {"a": "9", "b": "2"}}
        await logs.untag_resource({"resourceArn": GROUP_ARN, "tagKeys": ["a", "missing"]}, CTX)
        await logs.tag_log_group({"logGroupName": "app", "tags": {"c": "3"}}, CTX)
        await logs.untag_log_group({"logGroupName": "app", "tags": ["b"]}, CTX)
        assert await logs.list_tags_for_resource({"resourceArn": GROUP_ARN + ":*"}, CTX) == {"tags": {"c": "3"}}

        error = await expect_error(
            "TooManyTagsException",
            logs.tag_resource({"resourceArn": GROUP_ARN, "tags": {f"k{i}": "v" for i in range(50)}}, CTX),
        )
        assert error.fields["resourceName"] == GROUP_ARN
        await expect_error(
            "InvalidParameterException",
            logs.tag_log_group({"logGroupName": "app", "tags": {f"k{i}": "v" for i in range(50)}}, CTX),
        )
        await expect_error(
            "ResourceNotFoundException", logs.list_tags_for_resource({"resourceArn": GROUP_ARN + "x"}, CTX)
        )
        await expect_error("ResourceNotFoundException", logs.list_tags_log_group({"logGroupName": "nope"}, CTX))
        await expect_error(
            "InvalidParameterException", logs.tag_resource({"resourceArn": "arn:nope", "tags": {"a": "b"}}, CTX)
        )
        [group] = (await logs.describe_log_groups({}, CTX))["logGroups"]
        assert "tags" not in group

    run(scenario)


# --- log streams --------------------------------------------------------------------------------


def test_create_and_delete_log_stream(run):
    async def scenario(logs, sink):
        await expect_error(
            "ResourceNotFoundException",
            logs.create_log_stream({"logGroupName": "app", "logStreamName": "s1"}, CTX),
            "The specified log group does not exist.",
        )
        await make_stream(logs)
        await expect_error(
            "ResourceAlreadyExistsException",
            logs.create_log_stream({"logGroupName": "app", "logStreamName": "s1"}, CTX),
            "The specified log stream already exists",
        )
        await put(logs, ["one", "two"])
        await logs.delete_log_stream({"logGroupName": "app", "logStreamName": "s1"}, CTX)
        assert (await logs.describe_log_streams({"logGroupName": "app"}, CTX))["logStreams"] == []
        await expect_error(
            "ResourceNotFoundException",
            logs.delete_log_stream({"logGroupName": "app", "logStreamName": "s1"}, CTX),
            "The specified log stream does not exist.",
        )
        # its events went with it: a new stream of the same name starts empty
        await logs.create_log_stream({"logGroupName": "app", "logStreamName": "s1"}, CTX)
        got = await logs.get_log_events({"logGroupName": "app", "logStreamName": "s1"}, CTX)
        assert got["events"] == []

    run(scenario)


def test_describe_log_streams_shows_event_times(run):
    async def scenario(logs, sink):
        await make_stream(logs, stream="s1")
        await make_stream(logs, stream="empty")
        start = now_ms() - 10_000
        await put(logs, ["a", "b", "c"], start=start)
        streams = (await logs.describe_log_streams({"logGroupName": "app"}, CTX))["logStreams"]
        assert [s["logStreamName"] for s in streams] == ["empty", "s1"]
        empty, full = streams
        assert empty["arn"] == "arn:aws:logs:us-east-1:000000000000:log-group:app:log-stream:empty"
        assert "firstEventTimestamp" not in empty and empty["storedBytes"] == 0
        assert full["firstEventTimestamp"] == start
        assert full["lastEventTimestamp"] == start + 2
        assert full["lastIngestionTime"] >= start
        assert full["uploadSequenceToken"].isdigit()

        by_arn = await logs.describe_log_streams({"logGroupIdentifier": GROUP_ARN + ":*"}, CTX)
        assert by_arn["logStreams"] == streams
        await expect_error("InvalidParameterException", logs.describe_log_streams({}, CTX))
        await expect_error(
            "InvalidParameterException",
            logs.describe_log_streams({"logGroupName": "app", "logGroupIdentifier": "app"}, CTX),
        )
        await expect_error(
            "ResourceNotFoundException",
            logs.describe_log_streams({"logGroupName": "nope"}, CTX),
            "The specified log group does not exist.",
        )

    run(scenario)


def test_describe_log_streams_order_and_paging(run):
    async def scenario(logs, sink):
        names = ["a-1", "a-2", "b-1", "b-2", "c-1"]
        for name in names:
            await make_stream(logs, stream=name)
        base = now_ms() - 100_000
        # last event times: c-1 oldest ... a-1 newest; b-2 has no events
        for offset, name in enumerate(["c-1", "b-1", "a-2", "a-1"]):
            await put(logs, [name], stream=name, start=base + offset * 1000)

        async def all_pages(**params):
            seen, token = [], None
            while True:
                page = await logs.describe_log_streams(
                    {"logGroupName": "app", "limit": 2, **params, **({"nextToken": token} if token else {})}, CTX
                )
                assert len(page["logStreams"]) <= 2
                seen += [s["logStreamName"] for s in page["logStreams"]]
                token = page.get("nextToken")
                if token is None:
                    return seen

        assert await all_pages() == names
        assert await all_pages(descending=True) == names[::-1]
        assert await all_pages(logStreamNamePrefix="b-") == ["b-1", "b-2"]
        assert await all_pages(logStreamNamePrefix="a-", descending=True) == ["a-2", "a-1"]
        assert await all_pages(orderBy="LastEventTime") == ["b-2", "c-1", "b-1", "a-2", "a-1"]
        assert await all_pages(orderBy="LastEventTime", descending=True) == ["a-1", "a-2", "b-1", "c-1", "b-2"]

        latest = await logs.describe_log_streams(
            {"logGroupName": "app", "orderBy": "LastEventTime", "descending": True, "limit": 1}, CTX
        )
        assert latest["logStreams"][0]["logStreamName"] == "a-1"
        assert latest["logStreams"][0]["firstEventTimestamp"] == base + 3000

        await expect_error(
            "InvalidParameterException",
            logs.describe_log_streams(
                {"logGroupName": "app", "orderBy": "LastEventTime", "logStreamNamePrefix": "a"}, CTX
            ),
            "Cannot order by LastEventTime with a logStreamNamePrefix.",
        )
        name_token = (await logs.describe_log_streams({"logGroupName": "app", "limit": 1}, CTX))["nextToken"]
        await expect_error(
            "InvalidParameterException",
            logs.describe_log_streams(
                {"logGroupName": "app", "orderBy": "LastEventTime", "nextToken": name_token}, CTX
            ),
        )

    run(scenario)


# --- events -------------------------------------------------------------------------------------


def test_put_log_events_checks_and_rejections(run):
    async def scenario(logs, sink):
        await expect_error("ResourceNotFoundException", put(logs, ["x"]), "The specified log group does not exist.")
        await make_stream(logs)
        await expect_error(
            "ResourceNotFoundException", put(logs, ["x"], stream="nope"), "The specified log stream does not exist."
        )
        first = await put(logs, ["one"])
        second = await put(logs, ["two"])
        assert first["nextSequenceToken"] < second["nextSequenceToken"]
        assert "rejectedLogEventsInfo" not in first

        now = now_ms()
        unordered = [{"timestamp": now, "message": "b"}, {"timestamp": now - 5, "message": "a"}]
        await expect_error(
            "InvalidParameterException",
            logs.put_log_events({"logGroupName": "app", "logStreamName": "s1", "logEvents": unordered}, CTX),
            "Log events in a single PutLogEvents request must be in chronological order.",
        )
        too_long = [{"timestamp": now - 25 * 3600_000, "message": "a"}, {"timestamp": now, "message": "b"}]
        await expect_error(
            "InvalidParameterException",
            logs.put_log_events({"logGroupName": "app", "logStreamName": "s1", "logEvents": too_long}, CTX),
        )
        huge = [{"timestamp": now, "message": "x" * 600_000}, {"timestamp": now, "message": "y" * 600_000}]
        await expect_error(
            "InvalidParameterException",
            logs.put_log_events({"logGroupName": "app", "logStreamName": "s1", "logEvents": huge}, CTX),
        )

        mixed = [
            {"timestamp": now - 15 * 86400_000, "message": "ancient"},
            {"timestamp": now - 15 * 86400_000 + 1, "message": "ancient too"},
            {"timestamp": now, "message": "fine"},
            {"timestamp": now + 3 * 3600_000, "message": "future"},
        ]
        result = await logs.put_log_events({"logGroupName": "app", "logStreamName": "s1", "logEvents": mixed}, CTX)
        assert result["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 2, "tooNewLogEventStartIndex": 3}
        got = await logs.get_log_events({"logGroupName": "app", "logStreamName": "s1"}, CTX)
        assert [e["message"] for e in got["events"]] == ["one", "two", "fine"]

        await logs.put_retention_policy({"logGroupName": "app", "retentionInDays": 1}, CTX)
        expired = [{"timestamp": now - 2 * 86400_000, "message": "old"}, {"timestamp": now, "message": "new"}]
        result = await logs.put_log_events({"logGroupName": "app", "logStreamName": "s1", "logEvents": expired}, CTX)
        assert result["rejectedLogEventsInfo"] == {"expiredLogEventEndIndex": 1}

    run(scenario)


def test_get_log_events_paging_with_tokens(run):
    async def scenario(logs, sink):
        await make_stream(logs)
        start = now_ms() - 60_000
        await put(logs, [f"m{i}" for i in range(10)], start=start)
        base = {"logGroupName": "app", "logStreamName": "s1"}

        def texts(page):
            return [e["message"] for e in page["events"]]

        # default: the newest events, oldest first
        tail = await logs.get_log_events({**base, "limit": 3}, CTX)
        assert texts(tail) == ["m7", "m8", "m9"]
        assert tail["nextForwardToken"].startswith("f/") and tail["nextBackwardToken"].startswith("b/")
        event = tail["events"][0]
        assert set(event) == {"timestamp", "message", "ingestionTime"} and event["timestamp"] == start + 7

        # backward from the tail
        back = await logs.get_log_events({**base, "limit": 3, "nextToken": tail["nextBackwardToken"]}, CTX)
        assert texts(back) == ["m4", "m5", "m6"]
        back2 = await logs.get_log_events({**base, "limit": 5, "nextToken": back["nextBackwardToken"]}, CTX)
        assert texts(back2) == ["m0", "m1", "m2", "m3"]
        done = await logs.get_log_events({**base, "limit": 5, "nextToken": back2["nextBackwardToken"]}, CTX)
        assert done["events"] == [] and done["nextBackwardToken"] == back2["nextBackwardToken"]

        # forward from the head, to the end: the same token comes back
        seen, token = [], None
        while True:
            params = {**base, "limit": 4, "startFromHead": True, **({"nextToken": token} if token else {})}
            page = await logs.get_log_events(params, CTX)
            seen += texts(page)
            if page["nextForwardToken"] == token:
                break
            token = page["nextForwardToken"]
        assert seen == [f"m{i}" for i in range(10)]

        # new events show up behind the last forward token
        await put(logs, ["late"], start=start + 100)
        page = await logs.get_log_events({**base, "nextToken": token, "startFromHead": True}, CTX)
        assert texts(page) == ["late"]

        # from an empty forward page, the backward token reaches back into the stream
        empty = await logs.get_log_events({**base, "nextToken": page["nextForwardToken"]}, CTX)
        assert empty["events"] == [] and empty["nextForwardToken"] == page["nextForwardToken"]
        behind = await logs.get_log_events({**base, "nextToken": empty["nextBackwardToken"], "limit": 1}, CTX)
        assert texts(behind) == ["late"]

        window = await logs.get_log_events(
            {**base, "startTime": start + 2, "endTime": start + 5, "startFromHead": True}, CTX
        )
        assert texts(window) == ["m2", "m3", "m4"]  # endTime is exclusive

        await expect_error("InvalidParameterException", logs.get_log_events({**base, "nextToken": "x/12"}, CTX))
        await expect_error(
            "ResourceNotFoundException",
            logs.get_log_events({"logGroupName": "app", "logStreamName": "nope"}, CTX),
            "The specified log stream does not exist.",
        )
        by_arn = await logs.get_log_events({"logGroupIdentifier": GROUP_ARN, "logStreamName": "s1", "limit": 1}, CTX)
        assert texts(by_arn) == ["late"]

    run(scenario)


def test_get_log_events_on_empty_stream(run):
    async def scenario(logs, sink):
        await make_stream(logs)
        page = await logs.get_log_events({"logGroupName": "app", "logStreamName": "s1"}, CTX)
        assert page["events"] == []
        again = await logs.get_log_events(
            {"logGroupName": "app", "logStreamName": "s1", "nextToken": page["nextForwardToken"]}, CTX
        )
        assert again["nextForwardToken"] == page["nextForwardToken"]
        await put(logs, ["first"])
        later = await logs.get_log_events(
            {"logGroupName": "app", "logStreamName": "s1", "nextToken": page["nextForwardToken"]}, CTX
        )
        assert [e["message"] for e in later["events"]] == ["first"]

    run(scenario)


def test_filter_log_events(run):
    async def scenario(logs, sink):
        await make_stream(logs, stream="web-1")
        await make_stream(logs, stream="web-2")
        await make_stream(logs, stream="worker")
        start = now_ms() - 60_000
        await put(
            logs, ["INFO started", "ERROR disk full", '{"level": "error", "code": 500}'], stream="web-1", start=start
        )
        await put(logs, ["WARN slow", "ERROR timeout"], stream="web-2", start=start + 10)
        await put(logs, ["ERROR worker died"], stream="worker", start=start + 20)

        async def filtered(**params):
            page = await logs.filter_log_events({"logGroupName": "app", **params}, CTX)
            return [e["message"] for e in page["events"]]

        assert await filtered() == [
            "INFO started",
            "ERROR disk full",
            '{"level": "error", "code": 500}',
            "WARN slow",
            "ERROR timeout",
            "ERROR worker died",
        ]
        assert await filtered(filterPattern="ERROR") == ["ERROR disk full", "ERROR timeout", "ERROR worker died"]
        assert await filtered(filterPattern="ERROR -worker") == ["ERROR disk full", "ERROR timeout"]
        assert await filtered(filterPattern="?WARN ?INFO") == ["INFO started", "WARN slow"]
        assert await filtered(filterPattern='"disk full"') == ["ERROR disk full"]
        assert await filtered(filterPattern="{ $.code >= 500 }") == ['{"level": "error", "code": 500}']
        assert await filtered(filterPattern="ERROR", logStreamNames=["web-2", "worker"]) == [
            "ERROR timeout",
            "ERROR worker died",
        ]
        assert await filtered(filterPattern="ERROR", logStreamNamePrefix="web-") == ["ERROR disk full", "ERROR timeout"]
        assert await filtered(startTime=start + 10, endTime=start + 20) == [
            "WARN slow",
            "ERROR timeout",
            "ERROR worker died",
        ]

        page = await logs.filter_log_events({"logGroupIdentifier": GROUP_ARN, "filterPattern": "timeout"}, CTX)
        [event] = page["events"]
        assert event["logStreamName"] == "web-2" and event["timestamp"] == start + 11
        assert event["eventId"].isdigit() and event["ingestionTime"] >= start
        assert "nextToken" not in page

        await expect_error(
            "InvalidParameterException",
            logs.filter_log_events({"logGroupName": "app", "filterPattern": '{ $.a = "x"'}, CTX),
            "Invalid filter pattern",
        )
        await expect_error(
            "InvalidParameterException",
            logs.filter_log_events({"logGroupName": "app", "logStreamNames": ["a"], "logStreamNamePrefix": "a"}, CTX),
        )
        await expect_error(
            "ResourceNotFoundException",
            logs.filter_log_events({"logGroupName": "nope"}, CTX),
            "The specified log group does not exist.",
        )

    run(scenario)


def test_filter_log_events_paging(run):
    async def scenario(logs, sink):
        await make_stream(logs)
        await put(logs, [f"{'ERROR' if i % 3 == 0 else 'INFO'} line {i}" for i in range(30)])
        seen, token, pages = [], None, 0
        while True:
            params = {"logGroupName": "app", "filterPattern": "ERROR", "limit": 4}
            page = await logs.filter_log_events({**params, **({"nextToken": token} if token else {})}, CTX)
            pages += 1
            assert len(page["events"]) <= 4
            seen += [e["message"] for e in page["events"]]
            token = page.get("nextToken")
            if token is None:
                break
        assert seen == [f"ERROR line {i}" for i in range(0, 30, 3)]
        assert pages == 3
        ids = [e["eventId"] for e in (await logs.filter_log_events({"logGroupName": "app"}, CTX))["events"]]
        assert ids == sorted(ids) and len(set(ids)) == 30
        await expect_error(
            "InvalidParameterException", logs.filter_log_events({"logGroupName": "app", "nextToken": "garbage"}, CTX)
        )

    run(scenario)


def test_function_output_buffered_in_the_sink_is_visible(run):
    async def scenario(logs, sink):
        await sink.ensure_stream("000000000000", "us-east-1", "/aws/lambda/fn", "2024/01/01/[$LATEST]abc")
        start = now_ms()
        sink.emit(
            group_key("000000000000", "us-east-1", "/aws/lambda/fn"),
            "2024/01/01/[$LATEST]abc",
            [(start, "START RequestId: 1"), (start + 1, "hello"), (start + 2, "END RequestId: 1")],
        )
        streams = await logs.describe_log_streams({"logGroupName": "/aws/lambda/fn"}, CTX)
        [stream] = streams["logStreams"]
        assert stream["firstEventTimestamp"] == start and stream["lastEventTimestamp"] == start + 2
        sink.emit(
            group_key("000000000000", "us-east-1", "/aws/lambda/fn"), "2024/01/01/[$LATEST]abc", [(start + 3, "more")]
        )
        got = await logs.get_log_events(
            {"logGroupName": "/aws/lambda/fn", "logStreamName": "2024/01/01/[$LATEST]abc", "startFromHead": True}, CTX
        )
        assert [e["message"] for e in got["events"]] == ["START RequestId: 1", "hello", "END RequestId: 1", "more"]
        sink.emit(
            group_key("000000000000", "us-east-1", "/aws/lambda/fn"),
            "2024/01/01/[$LATEST]abc",
            [(start + 4, "hello again")],
        )
        found = await logs.filter_log_events({"logGroupName": "/aws/lambda/fn", "filterPattern": "hello"}, CTX)
        assert [e["message"] for e in found["events"]] == ["hello", "hello again"]

        # deleting the group deletes its events and lets the sink create it afresh
        await logs.delete_log_group({"logGroupName": "/aws/lambda/fn"}, CTX)
        await sink.ensure_stream("000000000000", "us-east-1", "/aws/lambda/fn", "s2")
        [group] = (await logs.describe_log_groups({}, CTX))["logGroups"]
        assert group["logGroupName"] == "/aws/lambda/fn"
        found = await logs.filter_log_events({"logGroupName": "/aws/lambda/fn"}, CTX)
        assert found["events"] == []

    run(scenario)
