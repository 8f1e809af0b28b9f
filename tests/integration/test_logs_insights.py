"""CloudWatch Logs Insights against a live server: queries over a real function's log lines
(print and JSON lines, and Lambda's REPORT fields), over PutLogEvents, the query lifecycle
(Scheduled/Running then Complete, StopQuery, DescribeQueries), GetLogRecord, saved query
definitions, and AWS's errors (MalformedQueryException with its location, unknown groups
and queries, other query languages)."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from .test_lambda_helpers import invoke, wait_for_log_lines, wait_until

LOGGER = {
    "app.py": """
    import json

    def handler(event, context):
        print(f"user={event['user']} action={event['action']} bytes={event['bytes']}")
        print(json.dumps({"level": event["level"], "user": event["user"], "detail": {"bytes": event["bytes"]}}))
        return {}
    """
}
EVENTS = [
    {"user": "alice", "action": "login", "bytes": 100, "level": "INFO"},
    {"user": "bob", "action": "upload", "bytes": 2500, "level": "INFO"},
    {"user": "alice", "action": "upload", "bytes": 700, "level": "WARN"},
    {"user": "carol", "action": "login", "bytes": 50, "level": "ERROR"},
]


def run_query(logs, query: str, group: str | list[str], **more) -> dict:
    now = int(time.time())
    groups = {"logGroupNames": group} if isinstance(group, list) else {"logGroupName": group}
    started = logs.start_query(startTime=now - 3600, endTime=now + 60, queryString=query, **groups, **more)
    seen = []

    def finished():
        answer = logs.get_query_results(queryId=started["queryId"])
        seen.append(answer["status"])
        return answer if answer["status"] not in ("Scheduled", "Running") else None

    answer = wait_until(finished, timeout=30, what=f"query {query!r}")
    assert set(seen) <= {"Scheduled", "Running", "Complete"}
    answer["queryId"] = started["queryId"]
    return answer


def rows(answer: dict) -> list[dict[str, str]]:
    return [{item["field"]: item["value"] for item in row} for row in answer["results"]]


@pytest.fixture
def function_logs(lamina, create_function, lambda_client, unique_name):
    create_function(LOGGER)
    for event in EVENTS:
        response, _ = invoke(lambda_client, unique_name, event)
        assert response["StatusCode"] == 200
    wait_for_log_lines(lamina, unique_name, "REPORT RequestId", count=len(EVENTS))
    return f"/aws/lambda/{unique_name}"


def test_fields_filter_sort_limit_over_function_output(logs_client, function_logs):
    answer = run_query(
        logs_client,
        "fields @timestamp, @message | filter @message like /user=alice/ | sort @timestamp desc | limit 1",
        function_logs,
    )
    assert answer["status"] == "Complete"
    found = rows(answer)
    assert len(found) == 1
    assert found[0]["@message"].startswith("user=alice action=upload")
    assert set(found[0]) == {"@timestamp", "@message", "@ptr"}
    assert answer["statistics"]["recordsMatched"] == 2
    assert answer["statistics"]["recordsScanned"] >= 4 * 5  # START, 2 lines, END, REPORT each
    assert answer["statistics"]["bytesScanned"] > 0


def test_report_fields_are_discovered(logs_client, function_logs):
    answer = run_query(
        logs_client,
        'filter @type = "REPORT" | stats avg(@duration) as avgDuration, count(*) as invocations, '
        "max(@memorySize / 1000 / 1000) as memoryMB, min(@billedDuration), pct(@duration, 50)",
        function_logs,
    )
    (row,) = rows(answer)
    assert row["invocations"] == "4"
    assert float(row["avgDuration"]) > 0
    assert row["memoryMB"] == "128"
    assert float(row["min(@billedDuration)"]) >= 1
    reports = rows(run_query(logs_client, 'filter @type = "REPORT" | fields @requestId, @maxMemoryUsed', function_logs))
    assert len(reports) == 4 and all(len(r["@requestId"]) == 36 for r in reports)


def test_json_fields_stats_by_group_and_bin(logs_client, function_logs):
    answer = run_query(
        logs_client,
        "filter ispresent(level) | stats sum(detail.bytes) as total, count(*) as n by user | sort total desc",
        function_logs,
    )
    assert rows(answer) == [
        {"user": "bob", "total": "2500", "n": "1"},
        {"user": "alice", "total": "800", "n": "2"},
        {"user": "carol", "total": "50", "n": "1"},
    ]
    binned = rows(run_query(logs_client, "filter ispresent(level) | stats count(*) as n by bin(5m)", function_logs))
    assert sum(int(row["n"]) for row in binned) == 4
    assert all(row["bin(5m)"].endswith(":00.000") for row in binned)


def test_parse_glob_and_regex(logs_client, function_logs):
    globbed = run_query(
        logs_client,
        'parse @message "user=* action=* bytes=*" as who, what, size '
        '| filter what = "upload" and size > 1000 | display who, size',
        function_logs,
    )
    assert [{k: v for k, v in row.items() if k != "@ptr"} for row in rows(globbed)] == [{"who": "bob", "size": "2500"}]
    regexed = run_query(
        logs_client,
        r"parse @message /action=(?<act>\w+)/ | filter ispresent(act) | stats count_distinct(act) as kinds",
        function_logs,
    )
    assert rows(regexed) == [{"kinds": "2"}]


def test_functions_and_operators(logs_client, function_logs):
    answer = run_query(
        logs_client,
        'filter level in ["WARN", "ERROR"] and not user = "bob" '
        "| fields toupper(user) as U, concat(user, ':', level) as tag, detail.bytes * 2 + 1 as twice, "
        "strlen(user) as len | sort len asc, U desc",
        function_logs,
    )
    assert [(row["U"], row["tag"], row["twice"]) for row in rows(answer)] == [
        ("CAROL", "carol:ERROR", "101"),
        ("ALICE", "alice:WARN", "1401"),
    ]


def test_put_log_events_and_several_groups(logs_client, unique_name):
    now = int(time.time() * 1000)
    groups = [f"/insights/{unique_name}/a", f"/insights/{unique_name}/b"]
    for index, group in enumerate(groups):
        logs_client.create_log_group(logGroupName=group)
        logs_client.create_log_stream(logGroupName=group, logStreamName="s")
        logs_client.put_log_events(
            logGroupName=group,
            logStreamName="s",
            logEvents=[{"timestamp": now - 1000 + i, "message": f"group{index} line {i}"} for i in range(5)],
        )
    answer = run_query(logs_client, "stats count(*) as n by @log", groups)
    assert sorted(row["@log"] for row in rows(answer)) == [f"000000000000:{group}" for group in groups]
    assert {row["n"] for row in rows(answer)} == {"5"}
    # logGroupIdentifiers takes ARNs too
    arn = f"arn:aws:logs:us-east-1:000000000000:log-group:{groups[0]}"
    started = logs_client.start_query(
        logGroupIdentifiers=[arn],
        startTime=now // 1000 - 60,
        endTime=now // 1000 + 60,
        queryString="fields @message | limit 2",
    )
    answer = wait_until(
        lambda: (r := logs_client.get_query_results(queryId=started["queryId"]))["status"] == "Complete" and r
    )
    assert len(answer["results"]) == 2

    # GetLogRecord follows a result's @ptr back to its event
    pointer = next(item["value"] for item in answer["results"][0] if item["field"] == "@ptr")
    record = logs_client.get_log_record(logRecordPointer=pointer)["logRecord"]
    assert record["@message"].startswith("group0 line")
    assert record["@logStream"] == "s" and record["@timestamp"].isdigit()


def test_time_range_and_limit_parameter(logs_client, unique_name):
    group = f"/insights/{unique_name}"
    logs_client.create_log_group(logGroupName=group)
    logs_client.create_log_stream(logGroupName=group, logStreamName="s")
    now = int(time.time()) * 1000
    logs_client.put_log_events(
        logGroupName=group,
        logStreamName="s",
        logEvents=[{"timestamp": now - 7_200_000, "message": "old"}]
        + [{"timestamp": now + i, "message": json.dumps({"i": i})} for i in range(20)],
    )
    started = logs_client.start_query(
        logGroupName=group, startTime=now // 1000 - 60, endTime=now // 1000, queryString="fields i", limit=5
    )
    answer = wait_until(
        lambda: (r := logs_client.get_query_results(queryId=started["queryId"]))["status"] == "Complete" and r
    )
    assert len(answer["results"]) == 5
    assert answer["statistics"]["recordsScanned"] == 20  # the old event is outside the range


def test_describe_and_stop_queries(logs_client, function_logs):
    finished = run_query(logs_client, "stats count(*)", function_logs)
    described = logs_client.describe_queries(logGroupName=function_logs)["queries"]
    mine = next(query for query in described if query["queryId"] == finished["queryId"])
    assert mine["status"] == "Complete" and mine["queryString"] == "stats count(*)"
    assert mine["logGroupName"] == function_logs
    assert logs_client.describe_queries(logGroupName=function_logs, status="Running")["queries"] == []
    assert logs_client.stop_query(queryId=finished["queryId"])["success"] is False


def test_query_definitions(logs_client, unique_name):
    created = logs_client.put_query_definition(
        name=f"{unique_name}/errors", queryString="filter level = 'ERROR'", logGroupNames=["/aws/lambda/x"]
    )
    definition_id = created["queryDefinitionId"]
    logs_client.put_query_definition(
        name=f"{unique_name}/errors", queryDefinitionId=definition_id, queryString="filter level = 'WARN'"
    )
    listed = logs_client.describe_query_definitions(queryDefinitionNamePrefix=unique_name)["queryDefinitions"]
    assert [(d["queryDefinitionId"], d["queryString"]) for d in listed] == [(definition_id, "filter level = 'WARN'")]
    assert logs_client.delete_query_definition(queryDefinitionId=definition_id)["success"] is True
    with pytest.raises(ClientError) as missing:
        logs_client.delete_query_definition(queryDefinitionId=definition_id)
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as unknown:
        logs_client.put_query_definition(name="x", queryDefinitionId="nope", queryString="fields @message")
    assert unknown.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_errors(logs_client, unique_name):
    group = f"/insights/{unique_name}"
    logs_client.create_log_group(logGroupName=group)
    now = int(time.time())

    def start(query: str, **more):
        params = {"logGroupName": group, "startTime": now - 60, "endTime": now, "queryString": query, **more}
        with pytest.raises(ClientError) as failed:
            logs_client.start_query(**params)
        return failed.value.response

    malformed = start("fields @message | filter x ==== 2")
    assert malformed["Error"]["Code"] == "MalformedQueryException"
    assert malformed["Error"]["Message"] == "unexpected symbol found = at line 1 and position 29"
    assert malformed["queryCompileError"]["location"] == {"startCharOffset": 28, "endCharOffset": 28}
    assert start("fields nosuch(@message)")["Error"]["Code"] == "MalformedQueryException"
    assert start("fields @message", queryLanguage="SQL")["Error"]["Code"] == "InvalidParameterException"
    missing = start("fields @message", logGroupName=f"{group}-missing")
    assert missing["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as both:
        logs_client.start_query(
            logGroupName=group, logGroupNames=[group], startTime=now, endTime=now, queryString="fields @message"
        )
    assert both.value.response["Error"]["Code"] == "InvalidParameterException"
    with pytest.raises(ClientError) as unknown:
        logs_client.get_query_results(queryId="00000000-0000-0000-0000-000000000000")
    assert unknown.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as bad_pointer:
        logs_client.get_log_record(logRecordPointer="not-a-pointer")
    assert bad_pointer.value.response["Error"]["Code"] == "InvalidParameterException"


def test_queries_and_definitions_belong_to_their_region(lamina, logs_client, unique_name):
    group = f"/insights/{unique_name}"
    logs_client.create_log_group(logGroupName=group)
    answer = run_query(logs_client, "stats count(*)", group)
    west = lamina.client("logs", region_name="us-west-2")
    with pytest.raises(ClientError) as elsewhere:
        west.get_query_results(queryId=answer["queryId"])
    assert elsewhere.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert all(query["queryId"] != answer["queryId"] for query in west.describe_queries()["queries"])
    with pytest.raises(ClientError) as no_group:
        west.start_query(logGroupName=group, startTime=0, endTime=1, queryString="fields @message")
    assert no_group.value.response["Error"]["Code"] == "ResourceNotFoundException"
    logs_client.put_query_definition(name=f"{unique_name}-east", queryString="fields @message")
    prefix = f"{unique_name}-"
    assert west.describe_query_definitions(queryDefinitionNamePrefix=prefix)["queryDefinitions"] == []


def test_query_definitions_survive_a_restart(lamina_factory):
    server = lamina_factory()
    created = server.client("logs").put_query_definition(name="saved", queryString="stats count(*) by bin(1h)")
    server.restart()
    (saved,) = server.client("logs").describe_query_definitions()["queryDefinitions"]
    assert (saved["queryDefinitionId"], saved["queryString"]) == (
        created["queryDefinitionId"],
        "stats count(*) by bin(1h)",
    )
