"""WebSocket APIs' other integrations and what they report: a MOCK route whose integration
response template answers (two-way), a one-way route that answers nothing, AWS/ApiGateway
metrics and the stage's access log."""

from __future__ import annotations

import json
import time

import pytest

from .test_websocket_api_basics import connect, run, wait_for


@pytest.fixture
def apigw(lamina):
    return lamina.client("apigatewayv2")


def test_mock_routes_answer_through_their_integration_response_and_report(lamina, apigw, unique_name):
    logs = lamina.client("logs")
    group = f"/ws/{unique_name}"
    logs.create_log_group(logGroupName=group)
    api_id = apigw.create_api(Name=unique_name, ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.op")[
        "ApiId"
    ]
    mock = apigw.create_integration(
        ApiId=api_id, IntegrationType="MOCK", RequestTemplates={"$default": '{"statusCode": 200}'}
    )
    apigw.create_integration_response(
        ApiId=api_id,
        IntegrationId=mock["IntegrationId"],
        IntegrationResponseKey="$default",
        ResponseTemplates={"$default": '{"pong": "$context.connectionId", "route": "$context.routeKey"}'},
    )
    ping = apigw.create_route(ApiId=api_id, RouteKey="ping", Target=f"integrations/{mock['IntegrationId']}")
    apigw.create_route_response(ApiId=api_id, RouteId=ping["RouteId"], RouteResponseKey="$default")
    apigw.create_route(ApiId=api_id, RouteKey="quiet", Target=f"integrations/{mock['IntegrationId']}")
    apigw.create_stage(
        ApiId=api_id,
        StageName="prod",
        AutoDeploy=True,
        AccessLogSettings={
            "DestinationArn": f"arn:aws:logs:us-east-1:000000000000:log-group:{group}",
            "Format": "$context.eventType $context.routeKey $context.connectionId $context.status $context.requestId",
        },
    )

    async def session():
        async with connect(lamina, api_id) as ws:
            await ws.send(json.dumps({"op": "quiet"}))  # one-way: nothing comes back
            await ws.send(json.dumps({"op": "ping"}))
            return json.loads(await ws.recv())

    pong = run(session())
    assert pong["route"] == "ping" and len(pong["pong"]) == 16

    def lines() -> list[str]:
        found = logs.filter_log_events(logGroupName=group).get("events", [])
        messages = [event["message"] for event in found]
        return messages if any(m.startswith("DISCONNECT") for m in messages) else []

    messages = wait_for(lines)
    assert any(m.startswith(f"MESSAGE ping {pong['pong']} 200 ") for m in messages)
    assert any(m.startswith(f"MESSAGE quiet {pong['pong']} 200 ") for m in messages)
    assert any(m.startswith("CONNECT $connect") for m in messages)

    cloudwatch = lamina.client("cloudwatch")

    def message_count() -> float:
        answer = cloudwatch.get_metric_statistics(
            Namespace="AWS/ApiGateway",
            MetricName="MessageCount",
            Dimensions=[{"Name": "ApiId", "Value": api_id}, {"Name": "Stage", "Value": "prod"}],
            StartTime=time.time() - 600,
            EndTime=time.time() + 60,
            Period=60,
            Statistics=["Sum"],
        )
        return sum(point["Sum"] for point in answer["Datapoints"])

    assert wait_for(lambda: message_count() >= 3, timeout=90)  # two in, one out
