"""WebSocket APIs on a live server: real functions behind $connect, $default, custom routes and
$disconnect, a real client (the websockets library) connecting by the API's Host, the events
checked against aws-lambda-powertools' models, and the @connections API through boto3.

Every function here reports each event it gets to an SQS queue, so the test reads what
API Gateway handed it."""

from __future__ import annotations

import asyncio
import json
import re
import time

import boto3
import pytest
import websockets
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketDisconnectEventModel,
    APIGatewayWebSocketMessageEventModel,
)
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import allow_service

APIGATEWAY = "apigateway.amazonaws.com"
ID = re.compile(r"^[A-Za-z0-9_-]{15}=$")  # AWS's connection and request ids

# Reports each event to the queue; answers by route and by the message's "action".
HANDLER = """
import json, os
import boto3

sqs = boto3.client("sqs")


def management(event):
    ctx = event["requestContext"]
    scheme = "http" if os.environ.get("AWS_ENDPOINT_URL", "").startswith("http:") else "https"
    return boto3.client("apigatewaymanagementapi", endpoint_url=f"{scheme}://{ctx['domainName']}/{ctx['stage']}")


def handler(event, context):
    sqs.send_message(QueueUrl=os.environ["QUEUE"], MessageBody=json.dumps(event))
    ctx = event["requestContext"]
    if ctx["routeKey"] == "$connect":
        query = event.get("queryStringParameters") or {}
        if "refuse" in query:
            return {"statusCode": int(query["refuse"])}
        offered = event["headers"].get("Sec-WebSocket-Protocol")
        if offered:
            return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": offered.split(",")[0].strip()}}
        return {"statusCode": 200}
    if ctx["routeKey"] == "$disconnect":
        return {"statusCode": 200}
    try:
        message = json.loads(event["body"])
    except ValueError:
        return {"statusCode": 200, "body": "not json: " + event["body"]}
    action = message.get("action") if isinstance(message, dict) else None
    if action == "push":
        api = management(event)
        api.post_to_connection(ConnectionId=ctx["connectionId"], Data=json.dumps({"pushed": message.get("n")}).encode())
        return {"statusCode": 200}
    if action == "fail":
        raise ValueError("asked to fail")
    if action == "whoami":
        return {"statusCode": 200, "body": json.dumps(ctx.get("authorizer"))}
    return {"statusCode": 200, "body": json.dumps({"route": ctx["routeKey"], "echo": message})}
"""


def run(coroutine):
    return asyncio.run(coroutine)


def url(lamina, api_id: str, stage: str = "prod", query: str = "") -> str:
    return f"ws://{api_id}.execute-api.localhost:{lamina.port}/{stage}{query}"


def connect(lamina, api_id: str, stage: str = "prod", query: str = "", **more):
    """A client connected to the API by its Host, over 127.0.0.1."""
    return websockets.connect(url(lamina, api_id, stage, query), host="127.0.0.1", open_timeout=60, **more)


def management(lamina, api_id: str, stage: str = "prod"):
    """The @connections API as a function builds it (the path form: *.localhost names do not
    resolve everywhere)."""
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=f"{lamina.url}/_aws/execute-api/{api_id}/{stage}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )


def events_of(sqs, queue_url: str, count: int, timeout: float = 60) -> list[dict]:
    found: list[dict] = []
    deadline = time.time() + timeout
    while len(found) < count and time.time() < deadline:
        answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for item in answer.get("Messages", []):
            found.append(json.loads(item["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=item["ReceiptHandle"])
    return found


def wait_for(predicate, timeout: float = 30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


@pytest.fixture
def apigw(lamina):
    return lamina.client("apigatewayv2")


def build_api(
    apigw,
    lambda_client,
    function_arn: str,
    name: str,
    routes=("$connect", "$disconnect", "$default", "echo", "push", "fail", "whoami"),
    two_way=("$default", "echo", "whoami", "fail"),
    allow: bool = True,
    connect_auth: dict | None = None,
) -> str:
    """A WebSocket API whose routes all go to the function, deployed to the stage prod."""
    api_id = apigw.create_api(Name=name, ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")[
        "ApiId"
    ]
    uri = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{function_arn}/invocations"
    integration = apigw.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=uri)
    for key in routes:
        more = dict(connect_auth or {}) if key == "$connect" else {}
        route = apigw.create_route(
            ApiId=api_id, RouteKey=key, Target=f"integrations/{integration['IntegrationId']}", **more
        )
        if key in two_way:
            apigw.create_route_response(ApiId=api_id, RouteId=route["RouteId"], RouteResponseKey="$default")
    apigw.create_stage(ApiId=api_id, StageName="prod", AutoDeploy=True)
    if allow:
        allow_service(lambda_client, function_arn, APIGATEWAY, f"arn:aws:execute-api:us-east-1:000000000000:{api_id}/*")
    return api_id


@pytest.fixture
def chat(lamina, apigw, lambda_client, create_function, queue, unique_name):
    """(api id, queue url, function ARN) of an API on the reporting function."""
    queue_url, _ = queue()
    function = create_function(code={"app.py": HANDLER}, Environment={"Variables": {"QUEUE": queue_url}}, Timeout=30)
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=function["FunctionName"])
    api_id = build_api(apigw, lambda_client, function["FunctionArn"], unique_name)
    yield api_id, queue_url, function["FunctionArn"]
    apigw.delete_api(ApiId=api_id)


def test_connect_messages_and_disconnect_reach_the_function_as_aws_events(lamina, chat, sqs):
    api_id, queue_url, _ = chat

    async def session():
        async with connect(lamina, api_id, query="?room=blue&room=red", additional_headers={"X-Team": "a"}) as ws:
            await ws.send(json.dumps({"action": "echo", "text": "hi"}))
            first = json.loads(await ws.recv())
            await ws.send("plain words")  # not JSON: $default
            second = await ws.recv()
            await ws.send(json.dumps({"action": "nobody"}))  # no such route: $default
            third = json.loads(await ws.recv())
        return first, second, third

    first, second, third = run(session())
    assert first == {"route": "echo", "echo": {"action": "echo", "text": "hi"}}
    assert second == "not json: plain words"
    assert third["route"] == "$default"

    events = events_of(sqs, queue_url, 5)
    by_route = {}
    for event in events:
        by_route.setdefault(event["requestContext"]["routeKey"], []).append(event)
    connect_event = APIGatewayWebSocketConnectEventModel(**by_route["$connect"][0])
    assert connect_event.request_context.api_id == api_id
    assert ID.match(connect_event.request_context.connection_id)
    raw = by_route["$connect"][0]
    assert raw["queryStringParameters"] == {"room": "red"}
    assert raw["multiValueQueryStringParameters"] == {"room": ["blue", "red"]}
    assert raw["headers"]["X-Team"] == "a" and raw["headers"]["Sec-WebSocket-Version"] == "13"
    assert raw["requestContext"]["stage"] == "prod"
    message = APIGatewayWebSocketMessageEventModel(**by_route["echo"][0])
    assert message.request_context.connection_id == connect_event.request_context.connection_id
    assert message.body == json.dumps({"action": "echo", "text": "hi"})
    assert len(by_route["$default"]) == 2
    disconnect = APIGatewayWebSocketDisconnectEventModel(**by_route["$disconnect"][0])
    assert disconnect.request_context.disconnect_status_code == 1000
    assert disconnect.request_context.connection_id == connect_event.request_context.connection_id


def test_a_non_2xx_connect_answer_refuses_the_handshake_with_its_status(lamina, chat):
    api_id, _, _ = chat

    async def attempt():
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with connect(lamina, api_id, query="?refuse=401"):
                pass
        return refused.value.response.status_code

    assert run(attempt()) == 401


def test_an_unknown_stage_is_refused(lamina, chat):
    api_id, _, _ = chat

    async def attempt():
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with connect(lamina, api_id, stage="nostage"):
                pass
        return refused.value.response

    response = run(attempt())
    assert response.status_code == 403
    assert json.loads(response.body) == {"message": "Forbidden"}


def test_the_connect_integration_chooses_the_subprotocol(lamina, chat):
    api_id, _, _ = chat

    async def session():
        async with connect(lamina, api_id, subprotocols=["chat.v2", "chat.v1"]) as ws:
            return ws.subprotocol

    assert run(session()) == "chat.v2"


def test_a_failing_function_sends_the_internal_server_error_frame(lamina, chat):
    api_id, _, _ = chat

    async def session():
        async with connect(lamina, api_id) as ws:
            await ws.send(json.dumps({"action": "fail"}))
            return json.loads(await ws.recv())

    frame = run(session())
    assert frame["message"] == "Internal server error"
    assert ID.match(frame["connectionId"]) and ID.match(frame["requestId"])


def test_a_function_pushes_to_its_client_through_the_management_api(lamina, chat):
    api_id, _, _ = chat

    async def session():
        async with connect(lamina, api_id) as ws:
            await ws.send(json.dumps({"action": "push", "n": 7}))
            return json.loads(await ws.recv())

    assert run(session()) == {"pushed": 7}


def test_get_post_delete_connection_and_gone(lamina, chat, sqs):
    api_id, queue_url, _ = chat
    api = management(lamina, api_id)

    async def session():
        async with connect(lamina, api_id, user_agent_header="tester/1.0") as ws:
            connection_id = wait_for(lambda: _connection_of(sqs, queue_url))
            described = await asyncio.to_thread(api.get_connection, ConnectionId=connection_id)
            await asyncio.to_thread(api.post_to_connection, ConnectionId=connection_id, Data=b"from outside")
            received = await ws.recv()
            await asyncio.to_thread(api.delete_connection, ConnectionId=connection_id)
            with pytest.raises(websockets.ConnectionClosed):
                await ws.recv()
            return connection_id, described, received

    connection_id, described, received = run(session())
    assert received == "from outside"
    assert described["Identity"]["SourceIp"] == "127.0.0.1"
    assert described["Identity"]["UserAgent"] == "tester/1.0"
    assert described["ConnectedAt"] <= described["LastActiveAt"]
    disconnect = [e for e in events_of(sqs, queue_url, 1) if e["requestContext"]["routeKey"] == "$disconnect"]
    assert disconnect and disconnect[0]["requestContext"]["connectionId"] == connection_id
    for call in (api.get_connection, api.delete_connection):
        with pytest.raises(ClientError) as gone:
            call(ConnectionId=connection_id)
        assert gone.value.response["Error"]["Code"] == "GoneException"
        assert gone.value.response["ResponseMetadata"]["HTTPStatusCode"] == 410
    with pytest.raises(api.exceptions.GoneException):
        api.post_to_connection(ConnectionId="AAAAAAAAAAAAAAA=", Data=b"x")


def _connection_of(sqs, queue_url: str) -> str | None:
    for event in events_of(sqs, queue_url, 1, timeout=1):
        if event["requestContext"]["routeKey"] == "$connect":
            return event["requestContext"]["connectionId"]
    return None


def test_without_a_default_route_an_unmatched_message_gets_the_forbidden_frame(
    lamina, apigw, lambda_client, create_function, queue, unique_name
):
    queue_url, _ = queue()
    function = create_function(code={"app.py": HANDLER}, Environment={"Variables": {"QUEUE": queue_url}})
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=function["FunctionName"])
    api_id = build_api(apigw, lambda_client, function["FunctionArn"], unique_name, routes=("echo",), two_way=("echo",))

    async def session():
        async with connect(lamina, api_id) as ws:
            await ws.send(json.dumps({"action": "other"}))
            refused = json.loads(await ws.recv())
            await ws.send(json.dumps({"action": "echo"}))
            echoed = json.loads(await ws.recv())
            return refused, echoed

    refused, echoed = run(session())
    assert refused["message"] == "Forbidden" and ID.match(refused["connectionId"])
    assert echoed["route"] == "echo"


def test_a_function_that_does_not_allow_api_gateway_is_not_invoked(
    lamina, apigw, lambda_client, create_function, queue, unique_name
):
    queue_url, _ = queue()
    function = create_function(code={"app.py": HANDLER}, Environment={"Variables": {"QUEUE": queue_url}})
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=function["FunctionName"])
    api_id = build_api(apigw, lambda_client, function["FunctionArn"], unique_name, allow=False)

    async def attempt():
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with connect(lamina, api_id):
                pass
        return refused.value.response.status_code

    assert run(attempt()) == 500


def test_a_message_over_128_kb_or_binary_closes_the_connection(lamina, chat):
    api_id, _, _ = chat

    async def closed_by(data) -> int:
        async with connect(lamina, api_id, max_size=None) as ws:
            await ws.send(data)
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 60)
            return closed.value.rcvd.code if closed.value.rcvd else 0

    async def fits() -> str:
        async with connect(lamina, api_id) as ws:
            await ws.send(json.dumps({"action": "echo", "pad": "x" * 120_000}))
            return json.loads(await ws.recv())["route"]

    assert run(closed_by("x" * (128 * 1024 + 1))) == 1009
    assert run(closed_by(b"\x00\x01")) == 1003
    assert run(fits()) == "echo"
