"""API Gateway WebSocket APIs: messages per second, a round trip each, from a client through
the $default route to a function and back to the client.

    .venv/bin/python bench/websocket.py [--quick]

On one server (one process):
1. PostToConnection: the client sends {"n": i}; $default's function calls the @connections
   API (boto3's apigatewaymanagementapi, endpoint from its event's domainName and stage) to
   send it back; the client waits for it before sending the next. One connection, then 8
   connections at once.
2. Route response: the same through a two-way route (the function's result comes back as the
   answer, no PostToConnection), one connection, then 8.
Prints the machine and one markdown table: per message, the round-trip time; the rate of all
connections together.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import websockets  # noqa: E402

from _common import (  # noqa: E402
    Cleanup,
    LaminaServer,
    Row,
    Summary,
    Table,
    boto3_client,
    create_function,
    lamina_revision,
    log,
    machine_line,
    ms,
    scratch_dir,
    wait_active,
)

PUSHER = """
import os
import boto3

_clients = {}


def handler(event, context):
    ctx = event["requestContext"]
    endpoint = f"http://{ctx['domainName']}/{ctx['stage']}"
    api = _clients.get(endpoint)
    if api is None:
        api = _clients[endpoint] = boto3.client("apigatewaymanagementapi", endpoint_url=endpoint)
    api.post_to_connection(ConnectionId=ctx["connectionId"], Data=event["body"].encode())
    return {"statusCode": 200}
"""

ECHO = "def handler(event, context):\n    return {'statusCode': 200, 'body': event['body']}\n"


def build_api(server: LaminaServer, function_arn: str, name: str, two_way: bool) -> str:
    apigw, lam = boto3_client(server.url, "apigatewayv2"), boto3_client(server.url, "lambda")
    api_id = apigw.create_api(Name=name, ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")
    api_id = api_id["ApiId"]
    uri = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{function_arn}/invocations"
    integration = apigw.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=uri)
    route = apigw.create_route(ApiId=api_id, RouteKey="$default", Target=f"integrations/{integration['IntegrationId']}")
    if two_way:
        apigw.create_route_response(ApiId=api_id, RouteId=route["RouteId"], RouteResponseKey="$default")
    apigw.create_stage(ApiId=api_id, StageName="bench", AutoDeploy=True)
    lam.add_permission(
        FunctionName=function_arn,
        StatementId=f"apigw-{name}",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:us-east-1:000000000000:{api_id}/*",
    )
    return api_id


async def _client(url: str, count: int, samples: list[float]) -> None:
    async with websockets.connect(url, host="127.0.0.1", open_timeout=60, max_queue=None) as ws:
        for i in range(count):
            started = time.perf_counter()
            await ws.send(json.dumps({"n": i}))
            answer = json.loads(await ws.recv())
            samples.append((time.perf_counter() - started) * 1000)
            assert answer == {"n": i}, answer


def measure(url: str, connections: int, per_connection: int) -> tuple[Summary, float]:
    """Round-trip times of every message, and the messages per second of all together."""
    asyncio.run(_warm(url))
    samples: list[float] = []

    async def run() -> float:
        started = time.perf_counter()
        await asyncio.gather(*(_client(url, per_connection, samples) for _ in range(connections)))
        return time.perf_counter() - started

    elapsed = asyncio.run(run())
    return Summary(samples), len(samples) / elapsed


async def _warm(url: str) -> None:
    await _client(url, 20, [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    per_connection = 100 if args.quick else 1000
    print(f"Machine: {machine_line()}")
    print(f"Lamina: commit {lamina_revision()}")
    print(f"Date: {time.strftime('%Y-%m-%d %H:%M %Z')}; mode: {'quick' if args.quick else 'full'}", flush=True)
    table = Table()
    with Cleanup() as cleanup:
        server = LaminaServer(scratch_dir(cleanup, "lamina-bench-ws-")).start(cleanup)
        lam = boto3_client(server.url, "lambda")
        for section, (name, source, two_way) in enumerate(
            (("ws-pusher", PUSHER, False), ("ws-echo", ECHO, True)), start=1
        ):
            function = create_function(lam, name, source, memory_mb=256)
            wait_active(lam, name)
            api_id = build_api(server, function["FunctionArn"], name, two_way)
            url = f"ws://{api_id}.execute-api.localhost:{server.port}/bench"
            how = "PostToConnection from the function" if not two_way else "route response (two-way $default)"
            for connections in (1, 8):
                log(f"{how}: {connections} connection(s) x {per_connection} messages")
                summary, rate = measure(url, connections, per_connection)
                table.add(
                    Row(
                        str(section),
                        f"round trip via {how}, {connections} connection(s)",
                        "Lamina",
                        str(summary.n),
                        ms(summary.p50),
                        ms(summary.p99),
                        f"{rate:,.0f} msg/s",
                    )
                )
    print()
    print(table.markdown())


if __name__ == "__main__":
    main()
