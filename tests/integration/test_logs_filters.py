"""CloudWatch Logs metric filters and subscription filters against a live server.

Metric filters over a function's real log lines (JSON lines with $.field values and
dimensions) and over PutLogEvents, read back with GetMetricStatistics; TestMetricFilter;
subscription filters delivering to a function (its event checked with aws-lambda-powertools'
CloudWatchLogsModel) and to a Kinesis stream (the CONTROL_MESSAGE first, then gzipped
DATA_MESSAGEs); the refusals AWS makes (no permission for CloudWatch Logs, Kinesis without a
role, limits, bad patterns and transformations); a log group as EventBridge's target; and
filters surviving a restart."""

from __future__ import annotations

import gzip
import json
import time
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ROLE, allow_service, make_zip

from .test_lambda_helpers import error_of, function_arn, log_messages, wait_until

CloudWatchLogsModel = pytest.importorskip("aws_lambda_powertools.utilities.parser.models").CloudWatchLogsModel

LOGS = "logs.amazonaws.com"
MARK = "LOGS-SUBSCRIPTION"

JSON_PRINTER = {
    "app.py": """
    import json

    def handler(event, context):
        for line in event["lines"]:
            print(json.dumps(line))
        return {}
    """
}

SUBSCRIBER = {
    "app.py": f"""
    import json

    def handler(event, context):
        print("{MARK} " + json.dumps(event))
        return {{}}
    """
}


def group_arn(name: str) -> str:
    return f"arn:aws:logs:us-east-1:000000000000:log-group:{name}:*"


def now_ms() -> int:
    return int(time.time() * 1000)


def statistics(cloudwatch, namespace: str, name: str, dimensions: list | None = None, unit: str | None = None):
    end = datetime.now(timezone.utc) + timedelta(minutes=5)
    response = cloudwatch.get_metric_statistics(
        Namespace=namespace,
        MetricName=name,
        Dimensions=dimensions or [],
        StartTime=end - timedelta(minutes=30),
        EndTime=end,
        Period=3600,
        Statistics=["Sum", "SampleCount", "Maximum"],
        **({"Unit": unit} if unit else {}),
    )
    points = response["Datapoints"]
    if not points:
        return None
    return {
        "Sum": sum(p["Sum"] for p in points),
        "SampleCount": sum(p["SampleCount"] for p in points),
        "Maximum": max(p["Maximum"] for p in points),
        "Unit": points[0].get("Unit"),
    }


def wait_for_statistics(cloudwatch, namespace, name, dimensions=None, count=1, timeout=20.0, unit=None):
    return wait_until(
        lambda: (lambda s: s if s and s["SampleCount"] >= count else None)(
            statistics(cloudwatch, namespace, name, dimensions, unit)
        ),
        timeout=timeout,
        interval=0.2,
        what=f"{count} values of {namespace}/{name}",
    )


def put_lines(logs, group: str, stream: str, messages: list[str]) -> None:
    stamp = now_ms()
    logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": stamp + index, "message": message} for index, message in enumerate(messages)],
    )


@pytest.fixture
def group(logs_client, unique_name):
    """group(name=None, stream="s") -> the name of a fresh log group with a stream."""
    made = []

    def make(name: str | None = None, stream: str = "s") -> str:
        name = name or f"/test/{unique_name}-{len(made)}"
        logs_client.create_log_group(logGroupName=name)
        if stream:
            logs_client.create_log_stream(logGroupName=name, logStreamName=stream)
        made.append(name)
        return name

    yield make
    for name in made:
        try:
            logs_client.delete_log_group(logGroupName=name)
        except ClientError:
            pass


def deliveries(lamina, function_name: str) -> list:
    """The CloudWatch Logs events a subscriber function got, parsed by powertools (data decoded)."""
    found = []
    for line in log_messages(lamina, f"/aws/lambda/{function_name}"):
        at = line.find(MARK)
        if at >= 0:
            found.append(CloudWatchLogsModel.model_validate(json.loads(line[at + len(MARK) + 1 :])))
    return found


def delivered_messages(lamina, function_name: str) -> list[str]:
    models = deliveries(lamina, function_name)
    return [event.message for model in models for event in model.awslogs.decoded_data.logEvents]


# --- metric filters ---------------------------------------------------------------------------------


def test_metric_filter_over_a_functions_json_lines(lamina, logs_client, lambda_client, create_function, unique_name):
    """The function's own lines (through the log sink): $.latency values with a Route dimension
    from $.route, only for the lines the pattern matches; a counting filter beside it."""
    cloudwatch = lamina.client("cloudwatch")
    name = unique_name
    group = f"/aws/lambda/{name}"
    logs_client.create_log_group(logGroupName=group)
    namespace = f"Test/{name}"
    logs_client.put_metric_filter(
        logGroupName=group,
        filterName="latency",
        filterPattern='{ $.level = "ERROR" && $.latency = * }',
        metricTransformations=[
            {
                "metricName": "Latency",
                "metricNamespace": namespace,
                "metricValue": "$.latency",
                "dimensions": {"Route": "$.route"},
                "unit": "Milliseconds",
            }
        ],
    )
    logs_client.put_metric_filter(
        logGroupName=group,
        filterName="errors",
        filterPattern="ERROR",
        metricTransformations=[{"metricName": "Errors", "metricNamespace": namespace, "metricValue": "1"}],
    )
    create_function(code=make_zip(JSON_PRINTER))
    lines = [
        {"level": "ERROR", "latency": 120, "route": "/a"},
        {"level": "ERROR", "latency": 80, "route": "/a"},
        {"level": "ERROR", "latency": 5, "route": "/b"},
        {"level": "INFO", "latency": 1000, "route": "/a"},
        {"level": "ERROR", "route": "/a"},  # no latency: no value
    ]
    response = lambda_client.invoke(FunctionName=name, Payload=json.dumps({"lines": lines}).encode())
    assert "FunctionError" not in response

    route_a = wait_for_statistics(
        cloudwatch, namespace, "Latency", [{"Name": "Route", "Value": "/a"}], count=2, unit="Milliseconds"
    )
    assert route_a["Sum"] == 200 and route_a["SampleCount"] == 2 and route_a["Maximum"] == 120
    assert route_a["Unit"] == "Milliseconds"
    route_b = wait_for_statistics(cloudwatch, namespace, "Latency", [{"Name": "Route", "Value": "/b"}])
    assert route_b["Sum"] == 5
    errors = wait_for_statistics(cloudwatch, namespace, "Errors", count=4)
    assert errors["Sum"] == 4  # the four ERROR lines, once each

    described = logs_client.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert described[0]["metricFilterCount"] == 2


def test_metric_filter_over_put_log_events(lamina, logs_client, group, unique_name):
    """PutLogEvents' events: space-delimited $field values and dimensions; defaultValue for the
    minute with events and no match; the values are there as soon as the call has answered."""
    cloudwatch = lamina.client("cloudwatch")
    name = group()
    namespace = f"Test/{unique_name}"
    logs_client.put_metric_filter(
        logGroupName=name,
        filterName="bytes",
        filterPattern="[ip, user, method, status = 2*, bytes]",
        metricTransformations=[
            {
                "metricName": "Bytes",
                "metricNamespace": namespace,
                "metricValue": "$bytes",
                "dimensions": {"Method": "$method"},
                "unit": "Bytes",
            }
        ],
    )
    logs_client.put_metric_filter(
        logGroupName=name,
        filterName="server-errors",
        filterPattern="[ip, user, method, status = 5*, bytes]",
        metricTransformations=[
            {"metricName": "ServerErrors", "metricNamespace": namespace, "metricValue": "1", "defaultValue": 0}
        ],
    )
    put_lines(
        logs_client,
        name,
        "s",
        ["10.0.0.1 alice GET 200 1000", "10.0.0.2 bob GET 204 24", "10.0.0.3 carol POST 404 7", "not a request"],
    )
    got = statistics(cloudwatch, namespace, "Bytes", [{"Name": "Method", "Value": "GET"}])
    assert got is not None and got["Sum"] == 1024 and got["SampleCount"] == 2
    assert statistics(cloudwatch, namespace, "Bytes", [{"Name": "Method", "Value": "POST"}]) is None
    default = statistics(cloudwatch, namespace, "ServerErrors")
    assert default is not None and default["Sum"] == 0 and default["SampleCount"] >= 1


def test_test_metric_filter(logs_client):
    matches = logs_client.test_metric_filter(
        filterPattern="[ip, user, ..., status = 4*]",
        logEventMessages=["1.2.3.4 alice GET /x 404", "1.2.3.4 bob GET /y 200", "5.6.7.8 carol 403"],
    )["matches"]
    assert [m["eventNumber"] for m in matches] == [1, 3]
    assert matches[0]["eventMessage"] == "1.2.3.4 alice GET /x 404"
    assert matches[0]["extractedValues"] == {"$ip": "1.2.3.4", "$user": "alice", "$status": "404"}

    json_matches = logs_client.test_metric_filter(
        filterPattern="{ $.latency > 100 }", logEventMessages=['{"latency": 150}', '{"latency": 50}', "plain"]
    )["matches"]
    assert [m["eventNumber"] for m in json_matches] == [1]

    with pytest.raises(ClientError) as caught:
        logs_client.test_metric_filter(filterPattern="{ $.a = ", logEventMessages=["x"])
    assert error_of(caught)[0] == "InvalidParameterException"


def test_metric_filters_describe_page_delete_and_errors(logs_client, group, unique_name):
    name = group()
    transformation = {"metricName": "M", "metricNamespace": f"Test/{unique_name}", "metricValue": "1"}
    for index in range(5):
        logs_client.put_metric_filter(
            logGroupName=name,
            filterName=f"f{index}",
            filterPattern="ERROR",
            metricTransformations=[transformation],
        )
    first = logs_client.describe_metric_filters(logGroupName=name, limit=3)
    assert [f["filterName"] for f in first["metricFilters"]] == ["f0", "f1", "f2"]
    rest = logs_client.describe_metric_filters(logGroupName=name, limit=3, nextToken=first["nextToken"])
    assert [f["filterName"] for f in rest["metricFilters"]] == ["f3", "f4"] and "nextToken" not in rest
    shown = first["metricFilters"][0]
    assert shown["logGroupName"] == name and shown["filterPattern"] == "ERROR"
    assert shown["metricTransformations"] == [transformation] and shown["creationTime"] > 0
    by_metric = logs_client.describe_metric_filters(metricName="M", metricNamespace=f"Test/{unique_name}")
    assert len(by_metric["metricFilters"]) == 5
    assert len(logs_client.describe_metric_filters(logGroupName=name, filterNamePrefix="f4")["metricFilters"]) == 1

    logs_client.delete_metric_filter(logGroupName=name, filterName="f0")
    assert len(logs_client.describe_metric_filters(logGroupName=name)["metricFilters"]) == 4

    def refused(call, **params) -> tuple[str, int, str]:
        with pytest.raises(ClientError) as caught:
            call(**params)
        return error_of(caught)

    code, status, message = refused(logs_client.delete_metric_filter, logGroupName=name, filterName="f0")
    assert (code, status) == ("ResourceNotFoundException", 400)
    code, _, message = refused(
        logs_client.put_metric_filter,
        logGroupName=f"{name}-missing",
        filterName="x",
        filterPattern="",
        metricTransformations=[transformation],
    )
    assert (code, message) == ("ResourceNotFoundException", "The specified log group does not exist.")
    code, _, message = refused(
        logs_client.put_metric_filter,
        logGroupName=name,
        filterName="x",
        filterPattern="{ $.a = 1 }",
        metricTransformations=[dict(transformation, dimensions={"A": "$.a"}, defaultValue=0)],
    )
    assert code == "InvalidParameterException" and "mutually exclusive" in message
    code, _, message = refused(
        logs_client.put_metric_filter,
        logGroupName=name,
        filterName="x",
        filterPattern="ERROR",
        metricTransformations=[dict(transformation, dimensions={"A": "$.a"})],
    )
    assert (code, message) == ("InvalidParameterException", "The specified filter pattern does not support dimensions")
    code, _, _ = refused(
        logs_client.put_metric_filter,
        logGroupName=name,
        filterName="x",
        filterPattern="ERROR",
        metricTransformations=[dict(transformation, metricValue="$.latency")],
    )
    assert code == "InvalidParameterException"
    code, _, _ = refused(
        logs_client.put_metric_filter,
        logGroupName=name,
        filterName="x",
        filterPattern='{ $.a = "unterminated }',
        metricTransformations=[transformation],
    )
    assert code == "InvalidParameterException"
    code, _, _ = refused(logs_client.describe_metric_filters, metricName="M")
    assert code == "InvalidParameterException"

    for index in range(5, 101):
        logs_client.put_metric_filter(
            logGroupName=name, filterName=f"f{index}", filterPattern="", metricTransformations=[transformation]
        )
    code, _, message = refused(
        logs_client.put_metric_filter,
        logGroupName=name,
        filterName="one-too-many",
        filterPattern="",
        metricTransformations=[transformation],
    )
    assert (code, message) == ("LimitExceededException", "Resource limit exceeded.")
    # replacing one of the hundred is not adding one
    logs_client.put_metric_filter(
        logGroupName=name, filterName="f50", filterPattern="WARN", metricTransformations=[transformation]
    )


# --- subscription filters -----------------------------------------------------------------------------


def test_subscription_filter_delivers_to_a_function(lamina, logs_client, lambda_client, create_function, group):
    subscriber = create_function(code=make_zip(SUBSCRIBER))["FunctionName"]
    name = group(stream="app")
    allow_service(lambda_client, function_arn(subscriber), LOGS, group_arn(name))
    logs_client.put_subscription_filter(
        logGroupName=name,
        filterName="errors",
        filterPattern="ERROR",
        destinationArn=function_arn(subscriber),
    )
    shown = logs_client.describe_subscription_filters(logGroupName=name)["subscriptionFilters"]
    assert [(f["filterName"], f["destinationArn"], f["distribution"]) for f in shown] == [
        ("errors", function_arn(subscriber), "ByLogStream")
    ]

    put_lines(logs_client, name, "app", ["ERROR one", "INFO skipped", "ERROR two"])
    put_lines(logs_client, name, "app", ["ERROR three"])
    messages = wait_until(
        lambda: (lambda m: m if len(m) >= 3 else None)(delivered_messages(lamina, subscriber)),
        timeout=30,
        interval=0.2,
        what="three events delivered",
    )
    assert sorted(messages) == ["ERROR one", "ERROR three", "ERROR two"]
    model = deliveries(lamina, subscriber)[0]
    data = model.awslogs.decoded_data
    assert data.messageType == "DATA_MESSAGE" and data.owner == "000000000000"
    assert data.logGroup == name and data.logStream == "app" and data.subscriptionFilters == ["errors"]
    assert all(len(event.id) == 56 for event in data.logEvents)


def test_subscription_filter_on_a_functions_own_lines(lamina, logs_client, lambda_client, create_function, unique_name):
    """Lines a function prints reach the subscriber through the log sink, batched per stream."""
    subscriber = create_function(code=make_zip(SUBSCRIBER), name=f"{unique_name}-sub")["FunctionName"]
    source = create_function(code=make_zip(JSON_PRINTER), name=f"{unique_name}-src")["FunctionName"]
    name = f"/aws/lambda/{source}"
    logs_client.create_log_group(logGroupName=name)
    allow_service(lambda_client, function_arn(subscriber), LOGS, group_arn(name))
    logs_client.put_subscription_filter(
        logGroupName=name,
        filterName="json",
        filterPattern="{ $.n = * }",
        destinationArn=function_arn(subscriber),
    )
    lambda_client.invoke(FunctionName=source, Payload=json.dumps({"lines": [{"n": 1}, {"n": 2}]}).encode())
    messages = wait_until(
        lambda: (lambda m: m if len(m) >= 2 else None)(delivered_messages(lamina, subscriber)),
        timeout=30,
        interval=0.2,
        what="the function's lines delivered",
    )
    assert sorted(json.loads(m)["n"] for m in messages) == [1, 2]
    # START/END/REPORT are not JSON: the pattern leaves them out
    assert all(m.startswith("{") for m in messages)

    # the subscriber's own group delivering to itself is refused (it would feed itself)
    own = f"/aws/lambda/{subscriber}"
    try:
        logs_client.create_log_group(logGroupName=own)
    except logs_client.exceptions.ResourceAlreadyExistsException:
        pass  # made by the subscriber's first instance
    allow_service(lambda_client, function_arn(subscriber), LOGS, group_arn(own))
    with pytest.raises(ClientError) as caught:
        logs_client.put_subscription_filter(
            logGroupName=own, filterName="loop", filterPattern="", destinationArn=function_arn(subscriber)
        )
    assert error_of(caught)[:2] == ("InvalidParameterException", 400)


def test_subscription_filter_refusals(logs_client, lambda_client, create_function, group, unique_name):
    subscriber = create_function(code=make_zip(SUBSCRIBER))["FunctionName"]
    name = group()

    def refused(**params) -> tuple[str, int, str]:
        with pytest.raises(ClientError) as caught:
            logs_client.put_subscription_filter(**{"logGroupName": name, "filterPattern": "", **params})
        return error_of(caught)

    # no permission for CloudWatch Logs in the function's policy
    code, status, message = refused(filterName="a", destinationArn=function_arn(subscriber))
    assert (code, status) == ("InvalidParameterException", 400)
    assert message == (
        "Could not execute the lambda function. "
        "Make sure you have given CloudWatch Logs permission to execute your function."
    )
    # a permission for another log group does not do either
    allow_service(lambda_client, function_arn(subscriber), LOGS, group_arn(f"{name}-other"))
    assert refused(filterName="a", destinationArn=function_arn(subscriber))[0] == "InvalidParameterException"
    # nor does a function that is not there
    assert refused(filterName="a", destinationArn=function_arn(f"{subscriber}-missing"))[0] == (
        "InvalidParameterException"
    )
    code, _, message = refused(filterName="k", destinationArn="arn:aws:kinesis:us-east-1:000000000000:stream/whatever")
    assert (code, message) == (
        "InvalidParameterException",
        "destinationArn for vendor kinesis cannot be used without roleArn",
    )

    allow_service(lambda_client, function_arn(subscriber), LOGS, group_arn(name))
    for filter_name in ("a", "b"):
        logs_client.put_subscription_filter(
            logGroupName=name, filterName=filter_name, filterPattern="", destinationArn=function_arn(subscriber)
        )
    code, _, message = refused(filterName="c", destinationArn=function_arn(subscriber))
    assert (code, message) == ("LimitExceededException", "Resource limit exceeded.")
    # updating one of the two is fine
    logs_client.put_subscription_filter(
        logGroupName=name, filterName="b", filterPattern="WARN", destinationArn=function_arn(subscriber)
    )
    assert refused(filterName="a", filterPattern="{ broken", destinationArn=function_arn(subscriber))[0] == (
        "InvalidParameterException"
    )
    page = logs_client.describe_subscription_filters(logGroupName=name, limit=1)
    assert [f["filterName"] for f in page["subscriptionFilters"]] == ["a"]
    page = logs_client.describe_subscription_filters(logGroupName=name, limit=1, nextToken=page["nextToken"])
    assert [(f["filterName"], f["filterPattern"]) for f in page["subscriptionFilters"]] == [("b", "WARN")]

    logs_client.delete_subscription_filter(logGroupName=name, filterName="a")
    with pytest.raises(ClientError) as caught:
        logs_client.delete_subscription_filter(logGroupName=name, filterName="a")
    assert error_of(caught)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as caught:
        logs_client.describe_subscription_filters(logGroupName=f"{name}-missing")
    assert error_of(caught)[0] == "ResourceNotFoundException"


LOGS_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": LOGS}, "Action": "sts:AssumeRole"}],
    }
)


def test_subscription_filter_delivers_to_a_kinesis_stream(lamina, logs_client, kinesis, group, unique_name):
    iam = lamina.client("iam")
    kinesis.create_stream(StreamName=unique_name, ShardCount=1)
    stream_arn = wait_until(
        lambda: (lambda d: d["StreamARN"] if d["StreamStatus"] == "ACTIVE" else None)(
            kinesis.describe_stream_summary(StreamName=unique_name)["StreamDescriptionSummary"]
        ),
        what="ACTIVE stream",
    )
    role = iam.create_role(RoleName=f"{unique_name}-logs"[:64], AssumeRolePolicyDocument=LOGS_TRUST)["Role"]["Arn"]
    name = group(stream="web")

    # a role CloudWatch Logs may assume but that may not write to the stream: the test message fails
    with pytest.raises(ClientError) as caught:
        logs_client.put_subscription_filter(
            logGroupName=name, filterName="k", filterPattern="", destinationArn=stream_arn, roleArn=role
        )
    assert error_of(caught)[:2] == ("InvalidParameterException", 400)
    assert error_of(caught)[2].startswith("Could not deliver test message to specified Kinesis stream.")

    iam.put_role_policy(
        RoleName=f"{unique_name}-logs"[:64],
        PolicyName="put",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": ["kinesis:PutRecord", "kinesis:PutRecords"], "Resource": stream_arn}
                ],
            }
        ),
    )
    logs_client.put_subscription_filter(
        logGroupName=name, filterName="k", filterPattern="?ERROR ?WARN", destinationArn=stream_arn, roleArn=role
    )
    put_lines(logs_client, name, "web", ["WARN disk", "INFO fine", "ERROR down"])

    shard = kinesis.list_shards(StreamName=unique_name)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=unique_name, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    records: list = []

    def read() -> list:
        nonlocal iterator
        page = kinesis.get_records(ShardIterator=iterator)
        iterator = page["NextShardIterator"]
        records.extend(json.loads(gzip.decompress(record["Data"])) for record in page["Records"])
        return [r for r in records if r["messageType"] == "DATA_MESSAGE"]

    data = wait_until(read, timeout=30, interval=0.2, what="a DATA_MESSAGE in the stream")
    control = records[0]
    assert control["messageType"] == "CONTROL_MESSAGE" and control["owner"] == "CloudwatchLogs"
    assert control["logEvents"][0]["message"].startswith("CWL CONTROL MESSAGE")
    message = data[0]
    assert message["logGroup"] == name and message["logStream"] == "web"
    assert message["subscriptionFilters"] == ["k"]
    assert [e["message"] for e in message["logEvents"]] == ["WARN disk", "ERROR down"]


def test_log_group_as_an_eventbridge_target(lamina, logs_client, group, unique_name):
    events = lamina.client("events")
    name = group(stream="")
    rule_arn = events.put_rule(Name=unique_name, EventPattern=json.dumps({"source": ["test.logs"]}))["RuleArn"]
    # As on AWS, the log group's resource policy must let EventBridge write (the console adds
    # one when it makes such a target).
    logs_client.put_resource_policy(
        policyName=unique_name[:60],
        policyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "events.amazonaws.com"},
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": group_arn(name),
                        "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
                    }
                ],
            }
        ),
    )
    events.put_targets(Rule=unique_name, Targets=[{"Id": "log", "Arn": group_arn(name).removesuffix(":*")}])
    events.put_events(Entries=[{"Source": "test.logs", "DetailType": "t", "Detail": json.dumps({"k": "v"})}])
    messages = wait_until(lambda: log_messages(lamina, name), timeout=20, interval=0.2, what="the event logged")
    event = json.loads(messages[0])
    assert event["source"] == "test.logs" and event["detail"] == {"k": "v"}
    streams = logs_client.describe_log_streams(logGroupName=name)["logStreams"]
    assert [s["logStreamName"] for s in streams] == [event["id"]]
    events.remove_targets(Rule=unique_name, Ids=["log"])
    events.delete_rule(Name=unique_name)
    logs_client.delete_resource_policy(policyName=unique_name[:60])


# --- durability -------------------------------------------------------------------------------------


def test_filters_survive_a_restart(lamina_factory, unique_name):
    server = lamina_factory()
    logs = server.client("logs")
    lambda_client = server.client("lambda")
    lambda_client.create_function(
        FunctionName="subscriber",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip(SUBSCRIBER)},
    )
    name = "/test/restart"
    logs.create_log_group(logGroupName=name)
    logs.create_log_stream(logGroupName=name, logStreamName="s")
    logs.put_metric_filter(
        logGroupName=name,
        filterName="count",
        filterPattern="ERROR",
        metricTransformations=[{"metricName": "Errors", "metricNamespace": "Restart", "metricValue": "1"}],
    )
    allow_service(lambda_client, function_arn("subscriber"), LOGS, group_arn(name))
    logs.put_subscription_filter(
        logGroupName=name, filterName="sub", filterPattern="ERROR", destinationArn=function_arn("subscriber")
    )

    server.restart(kill=True)
    logs = server.client("logs")
    assert [f["filterName"] for f in logs.describe_metric_filters(logGroupName=name)["metricFilters"]] == ["count"]
    assert [f["filterName"] for f in logs.describe_subscription_filters(logGroupName=name)["subscriptionFilters"]] == [
        "sub"
    ]
    put_lines(logs, name, "s", ["ERROR after restart", "INFO no"])
    got = statistics(server.client("cloudwatch"), "Restart", "Errors")
    assert got is not None and got["Sum"] == 1
    messages = wait_until(
        lambda: delivered_messages(server, "subscriber"), timeout=30, interval=0.2, what="delivery after restart"
    )
    assert messages == ["ERROR after restart"]

    # deleting the group takes its filters with it
    logs.delete_log_group(logGroupName=name)
    logs.create_log_group(logGroupName=name)
    assert logs.describe_metric_filters(logGroupName=name)["metricFilters"] == []
    assert logs.describe_subscription_filters(logGroupName=name)["subscriptionFilters"] == []
