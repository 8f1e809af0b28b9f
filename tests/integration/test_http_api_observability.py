"""HTTP APIs' access logs and metrics on a live server: a stage's AccessLogSettings write one
line per call, AWS's $context variables filled in, read back with FilterLogEvents; the
AWS/ApiGateway metrics (Count, 4xx, 5xx, Latency, IntegrationLatency; per API, stage, and
route when detailed metrics are on) read back with GetMetricStatistics."""

from __future__ import annotations

import datetime
import json
import time

import pytest

from tests.integration.test_http_api_lambda import client, echo_function, grant

FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "routeKey": "$context.routeKey",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "integrationStatus": "$context.integrationStatus",
        "integrationError": "$context.integrationErrorMessage",
        "path": "$context.path",
        "stage": "$context.stage",
        "apiId": "$context.apiId",
        "error": "$context.error.message",
    }
)


def wait_for(read, timeout_s: float = 30.0):
    """`read()` until it returns something truthy (the sink and the recorder write in batches)."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = read()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.25)


@pytest.fixture
def logged_api(lamina, create_function, lambda_client, unique_name):
    apigw, logs = lamina.client("apigatewayv2"), lamina.client("logs")
    arn = echo_function(create_function, lambda_client)
    api_id = apigw.create_api(Name=unique_name, ProtocolType="HTTP", Target=arn, RouteKey="GET /items")["ApiId"]
    grant(lambda_client, arn, api_id)
    group = f"/aws/http-api/{unique_name}"
    logs.create_log_group(logGroupName=group)
    apigw.update_stage(
        ApiId=api_id,
        StageName="$default",
        AccessLogSettings={
            "DestinationArn": f"arn:aws:logs:us-east-1:000000000000:log-group:{group}",
            "Format": FORMAT,
        },
        DefaultRouteSettings={"DetailedMetricsEnabled": True},
    )
    return api_id, group


def test_access_logs(lamina, logged_api):
    api_id, group = logged_api
    logs = lamina.client("logs")
    with client(lamina, api_id) as http:
        ok = http.get("/items")
        missing = http.get("/nothing")
    lines = wait_for(
        lambda: (
            [json.loads(e["message"]) for e in logs.filter_log_events(logGroupName=group)["events"]]
            if len(logs.filter_log_events(logGroupName=group)["events"]) >= 2
            else None
        )
    )
    assert lines, "no access log lines"
    by_id = {line["requestId"]: line for line in lines}
    line = by_id[ok.headers["apigw-requestid"]]
    assert line["status"] == "200" and line["routeKey"] == "GET /items" and line["httpMethod"] == "GET"
    assert line["integrationStatus"] == "200" and line["integrationError"] == "-"
    assert line["path"] == "/items" and line["stage"] == "$default" and line["apiId"] == api_id
    assert line["protocol"] == "HTTP/1.1" and line["ip"] == "127.0.0.1"
    assert int(line["responseLength"]) == len(ok.content)
    refused = by_id[missing.headers["apigw-requestid"]]
    assert refused["status"] == "404" and refused["routeKey"] == "-" and refused["error"] == "Not Found"


def test_metrics(lamina, logged_api):
    api_id, _ = logged_api
    cloudwatch = lamina.client("cloudwatch")
    with client(lamina, api_id) as http:
        for _ in range(3):
            assert http.get("/items").status_code == 200
        assert http.get("/nothing").status_code == 404
    now = datetime.datetime.now(datetime.timezone.utc)

    def statistic(name: str, dimensions: dict[str, str], stat: str = "Sum"):
        found = cloudwatch.get_metric_statistics(
            Namespace="AWS/ApiGateway",
            MetricName=name,
            Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
            StartTime=now - datetime.timedelta(minutes=5),
            EndTime=now + datetime.timedelta(minutes=5),
            Period=600,
            Statistics=[stat],
        )["Datapoints"]
        return found[0][stat] if found else None

    api = {"ApiId": api_id}
    assert wait_for(lambda: statistic("Count", api) == 4), statistic("Count", api)
    assert statistic("4xx", api) == 1
    assert statistic("5xx", api) == 0
    assert statistic("Count", {**api, "Stage": "$default"}) == 4
    assert statistic("Count", {**api, "Stage": "$default", "Route": "GET /items"}) == 3
    assert statistic("Latency", api, "SampleCount") == 4
    assert statistic("IntegrationLatency", api, "SampleCount") == 3
