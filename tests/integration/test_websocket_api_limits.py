"""WebSocket APIs' limits and front processes, on servers of their own: the idle timeout and
the maximum duration lowered by their settings, and connections held by front processes
(LAMINA_HTTP_WORKERS) relayed to the core's endpoint, PostToConnection included."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from tests.conftest import ROLE, make_zip

from .test_websocket_api_basics import HANDLER, build_api, connect, events_of, management, run


def deploy(server, name: str) -> tuple[str, str]:
    """(api id, queue url) of the reporting function's API on a private server."""
    sqs, lambda_client = server.client("sqs"), server.client("lambda")
    queue_url = sqs.create_queue(QueueName=f"{name}-events")["QueueUrl"]
    function = lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": HANDLER})},
        Environment={"Variables": {"QUEUE": queue_url}},
        Timeout=30,
    )
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=name)
    return build_api(server.client("apigatewayv2"), lambda_client, function["FunctionArn"], name), queue_url


def test_an_idle_connection_is_closed_and_disconnect_runs(lamina_factory):
    server = lamina_factory(LAMINA_WEBSOCKET_IDLE_TIMEOUT="1")
    api_id, queue_url = deploy(server, "idle")

    async def session():
        async with connect(server, api_id, ping_interval=None) as ws:
            await ws.send(json.dumps({"action": "echo"}))
            await ws.recv()
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 60)
            return closed.value.rcvd

    received = run(session())
    assert received is not None and received.code == 1001
    events = events_of(server.client("sqs"), queue_url, 3)
    disconnect = [e for e in events if e["requestContext"]["routeKey"] == "$disconnect"]
    assert disconnect[0]["requestContext"]["disconnectStatusCode"] == 1001
    assert disconnect[0]["requestContext"]["disconnectReason"] == "Going away"


def test_a_connection_ends_at_its_maximum_duration(lamina_factory):
    server = lamina_factory(LAMINA_WEBSOCKET_MAX_DURATION="2")
    api_id, _ = deploy(server, "duration")

    async def session():
        async with connect(server, api_id) as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:  # busy, never idle: the duration ends it
                    await ws.send(json.dumps({"action": "echo"}))
                    await asyncio.wait_for(ws.recv(), 60)
            return closed.value.rcvd

    received = run(session())
    assert received is not None and received.code == 1001


def test_front_processes_relay_connections_and_pushes(lamina_factory):
    server = lamina_factory(LAMINA_HTTP_WORKERS="2")
    api_id, queue_url = deploy(server, "fronted")
    api = management(server, api_id)

    async def session():
        clients = [await connect(server, api_id) for _ in range(4)]  # spread over the fronts
        try:
            answers = []
            for number, ws in enumerate(clients):
                await ws.send(json.dumps({"action": "echo", "n": number}))
                answers.append(json.loads(await ws.recv())["echo"]["n"])
                await ws.send(json.dumps({"action": "push", "n": number}))
                answers.append(json.loads(await ws.recv())["pushed"])
            return answers
        finally:
            for ws in clients:
                await ws.close()

    assert run(session()) == [0, 0, 1, 1, 2, 2, 3, 3]
    events = events_of(server.client("sqs"), queue_url, 16)
    connected = {e["requestContext"]["connectionId"] for e in events if e["requestContext"]["routeKey"] == "$connect"}
    assert len(connected) == 4
    some = sorted(connected)[0]
    with pytest.raises(api.exceptions.GoneException):
        api.post_to_connection(ConnectionId=some, Data=b"late")
