"""HTTP APIs (API Gateway v2) in front of a Lambda function: what the gateway adds.

    .venv/bin/python bench/http_api.py [--quick] [--no-ministack] [--no-fastapi]

Starts everything it measures on loopback (a Lamina server, FastAPI on uvicorn, MiniStack)
and prints one table, same run:

 1  requests/s, p50 and p99 from 32 keep-alive connections, each replaying one request:
    a  GET through an HTTP API's route ($default route and stage, payload 2.0)
       to a warm no-op Python function (it answers {"statusCode": 200, "body": "hello"});
       target ≥ 0.8x row 1b's rate and ≥ 1x row 1c's;
    b  the same function's raw Lambda Invoke (POST, SigV4-signed once);
    c  the same handler served by FastAPI on uvicorn (one worker, uvloop + httptools), an
       `async def` route calling it (FastAPI from a venv of its own under ~/.cache/lamina-bench);
    d  MiniStack's API Gateway in front of the same function on MiniStack (skipped with a
       note if it cannot run here).
 2  the latency the gateway adds: p50 of the HTTP API call and of the raw Invoke, each on
    its own keep-alive connection, one call at a time, taking turns; target: the difference
    ≤ 0.2 ms.

The load generator is `wrk` (2 threads) when installed, else bench/_async_peers.py's asyncio
client (it then shares the machine's cores with the server: every row pays it alike).
`--quick` runs each load for 3 s instead of 8.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import os
import subprocess
import sys
import time
import traceback

# Named http_api.py, not http.py: a bench/http.py would shadow the standard library's http
# package for every script run from this folder (_common imports http.client).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
_HERE = os.path.dirname(os.path.abspath(__file__))

from _common import (  # noqa: E402
    LOOPBACK,
    Cleanup,
    LaminaServer,
    Row,
    Summary,
    Table,
    boto3_client,
    create_function,
    free_port,
    invoke_request,
    log,
    ministack_python,
    ms,
    peer_venv,
    print_header,
    rate,
    scratch_dir,
    start_ministack,
    wait_http,
)

_spec = importlib.util.spec_from_file_location("bench_async", os.path.join(_HERE, "async.py"))
assert _spec is not None and _spec.loader is not None
_async = importlib.util.module_from_spec(_spec)
sys.modules["bench_async"] = _async  # dataclasses look their module up there
_spec.loader.exec_module(_async)
run_load = _async.run_load
_wrk_script = _async._lua


def _wrk_script_with_host(request, expected: int, limit_per_thread: int) -> str:
    """bench/async.py's wrk script, keeping a Host header the request names itself: wrk
    would send the URL's (127.0.0.1:port), and an HTTP API is addressed by its Host."""
    script = _wrk_script(request, expected, limit_per_thread)
    host = next((value for name, value in request.headers.items() if name.lower() == "host"), None)
    if host is None or host == f"{request.host}:{request.port}":
        return script
    return f'wrk.headers["Host"] = {json.dumps(host)}\n' + script


_async._lua = _wrk_script_with_host

CONNECTIONS = 32
MEMORY_MB = 1769
FASTAPI = "fastapi[standard]==0.115.12"
HANDLER = """
def handler(event, context):
    return {"statusCode": 200, "headers": {"content-type": "text/plain"}, "body": "hello"}
"""
FASTAPI_APP = (
    """
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

app = FastAPI()
"""
    + HANDLER
    + """

@app.get("/hello")
async def hello():
    result = handler({}, None)
    return PlainTextResponse(result["body"], status_code=result["statusCode"])
"""
)


class PlainRequest:
    """An unsigned request replayed as is (what bench/async.py's run_load needs of one)."""

    def __init__(self, host: str, port: int, path: str, headers: dict[str, str], method: str = "GET") -> None:
        self.method, self.path, self.body = method, path, b""
        self.host, self.port = host, port
        self.headers = {**headers, "Content-Length": "0"}

    def raw(self) -> bytes:
        head = f"{self.method} {self.path} HTTP/1.1\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in self.headers.items())
        if not any(k.lower() == "host" for k in self.headers):
            head += f"Host: {self.host}:{self.port}\r\n"
        return head.encode() + b"\r\n"


def api_request(url: str, api_id: str) -> PlainRequest:
    """GET /hello of an API, by its Host (the HTTP API's own address form)."""
    host, port = url.split("://", 1)[1].split(":")
    return PlainRequest(host, int(port), "/hello", {"Host": f"{api_id}.execute-api.localhost:{port}"})


def check(request: PlainRequest) -> bytes:
    connection = http.client.HTTPConnection(request.host, request.port, timeout=30)
    try:
        connection.request(request.method, request.path, headers=request.headers)
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"{response.status}: {body[:300]!r}")
        return body
    finally:
        connection.close()


def loaded(work: str, request, duration_s: float, warm_s: float):
    run_load(work, request, 200, warm_s)
    return run_load(work, request, 200, duration_s, connections=CONNECTIONS)


def sequential(requests: list, count: int) -> list[Summary]:
    """p50/p99 of `count` calls of each request, one after another, each on its own keep-alive
    connection, taking turns (so that whatever else the machine does weighs on both alike)."""
    connections = [http.client.HTTPConnection(r.host, r.port, timeout=30) for r in requests]
    summaries = [Summary() for _ in requests]
    try:
        for index in range(count + 50):
            for request, connection, summary in zip(requests, connections, summaries, strict=True):
                started = time.perf_counter()
                connection.request(request.method, request.path, request.body, request.headers)
                response = connection.getresponse()
                response.read()
                if index >= 50:  # the first calls warm the connections and the caches
                    summary.samples.append((time.perf_counter() - started) * 1000)
                if response.status != 200:
                    raise RuntimeError(f"status {response.status}")
    finally:
        for connection in connections:
            connection.close()
    return summaries


def load_row(section: str, what: str, system: str, load, target: str = "", compare: str = "") -> Row:
    misses = f", {load.misses} not 200" if load.misses else ""
    return Row(
        section,
        what,
        system,
        str(load.requests),
        ms(load.p50_ms),
        ms(load.p99_ms),
        f"{rate(load.rate)}/s ({load.tool}{misses})",
        target,
        compare,
    )


def fastapi_url(cleanup: Cleanup, work: str) -> str:
    python, why = peer_venv("fastapi", FASTAPI, "FastAPI", FASTAPI)
    if python is None:
        raise RuntimeError(why)
    with open(os.path.join(work, "fastapi_app.py"), "w") as handle:
        handle.write(FASTAPI_APP)
    port = free_port()
    process = cleanup.process(
        subprocess.Popen(
            [python, "-m", "uvicorn", "fastapi_app:app", "--host", LOOPBACK, "--port", str(port)]
            + ["--loop", "uvloop", "--http", "httptools", "--log-level", "warning", "--no-access-log"],
            cwd=work,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
    )
    url = f"http://{LOOPBACK}:{port}"
    wait_http(url + "/hello", process, timeout_s=30)
    return url


def quick_api(url: str, name: str) -> tuple[str, str]:
    """A function and an HTTP API on it ($default route and stage, payload 2.0), API Gateway
    allowed to invoke it."""
    lambda_client, apigw = boto3_client(url), boto3_client(url, "apigatewayv2")
    arn = create_function(lambda_client, name, HANDLER, memory_mb=MEMORY_MB)["FunctionArn"]
    # Made step by step, as quick create would (MiniStack ignores quick create's Target).
    api_id = apigw.create_api(Name=name, ProtocolType="HTTP")["ApiId"]
    integration = apigw.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=arn, PayloadFormatVersion="2.0"
    )["IntegrationId"]
    apigw.create_route(ApiId=api_id, RouteKey="$default", Target=f"integrations/{integration}")
    apigw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    account, region = arn.split(":")[4], arn.split(":")[3]
    lambda_client.add_permission(
        FunctionName=name,
        StatementId="apigateway",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{region}:{account}:{api_id}/*",
    )
    return api_id, arn


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 s per load instead of 8")
    parser.add_argument("--no-ministack", action="store_true", help="leave MiniStack out")
    parser.add_argument("--no-fastapi", action="store_true", help="leave FastAPI out")
    args = parser.parse_args()
    duration, warm = (3.0, 1.0) if args.quick else (8.0, 2.0)
    sequential_calls = 1000 if args.quick else 3000
    print_header(args.quick)
    table = Table()
    rates: dict[str, float] = {}
    with Cleanup() as cleanup:
        work = scratch_dir(cleanup, "lamina-bench-http-")
        lamina = LaminaServer(os.path.join(work, "lamina")).start(cleanup)
        api_id, _ = quick_api(lamina.url, "noop-http")
        through_api = api_request(lamina.url, api_id)
        check(through_api)
        invoke = invoke_request(lamina.url, "noop-http")

        log("1a. an HTTP API's route to the function, 32 connections")
        api_load = loaded(work, through_api, duration, warm)
        rates["api"] = api_load.rate
        log("1b. the function's raw Invoke, 32 connections")
        invoke_load = loaded(work, invoke, duration, warm)
        rates["invoke"] = invoke_load.rate
        table.add(
            load_row(
                "1a",
                "GET via HTTP API route -> warm no-op function",
                "Lamina",
                api_load,
                "≥ 0.8x 1b, ≥ 1x 1c",
                f"{api_load.rate / invoke_load.rate:.2f}x raw Invoke",
            )
        )
        table.add(load_row("1b", "raw Lambda Invoke of the same function", "Lamina", invoke_load))

        if args.no_fastapi:
            table.add(Row("1c", "the same handler on FastAPI", "FastAPI", extra="left out (--no-fastapi)"))
        else:
            log("1c. FastAPI on uvicorn, 32 connections")
            try:
                with Cleanup() as section:
                    url = fastapi_url(section, work)
                    host, port = url.split("://", 1)[1].split(":")
                    fastapi_load = loaded(work, PlainRequest(host, int(port), "/hello", {}), duration, warm)
                rates["fastapi"] = fastapi_load.rate
                table.add(
                    load_row(
                        "1c",
                        "the same handler on FastAPI + uvicorn (1 worker)",
                        FASTAPI.split("==")[0] + " " + FASTAPI.split("==")[1],
                        fastapi_load,
                        "",
                        f"Lamina 1a: {api_load.rate / fastapi_load.rate:.2f}x",
                    )
                )
            except Exception as error:  # noqa: BLE001 - a peer that cannot run is a row saying why
                traceback.print_exc()
                table.add(Row("1c", "the same handler on FastAPI", "FastAPI", extra=f"not measured: {error}"[:200]))

        if args.no_ministack:
            table.add(Row("1d", "MiniStack's HTTP API", "MiniStack", extra="left out (--no-ministack)"))
        else:
            log("1d. MiniStack's HTTP API, 32 connections")
            ministack_row(table, work, duration, warm, api_load.rate)

        log("2. the latency the gateway adds, one connection")
        api_alone, invoke_alone = sequential([through_api, invoke], sequential_calls)
        added = api_alone.p50 - invoke_alone.p50
        table.add(
            Row(
                "2",
                "GET via HTTP API route, one connection, one call at a time",
                "Lamina",
                str(api_alone.n),
                ms(api_alone.p50),
                ms(api_alone.p99),
                f"mean {ms(api_alone.mean)}",
                "p50 added ≤ 0.2 ms",
                f"added p50 {added * 1000:.0f} us",
            )
        )
        table.add(
            Row(
                "2",
                "raw Invoke, one connection, one call at a time",
                "Lamina",
                str(invoke_alone.n),
                ms(invoke_alone.p50),
                ms(invoke_alone.p99),
                f"mean {ms(invoke_alone.mean)}",
            )
        )
        log("stopping everything this run started")
    print(table.markdown())
    print()
    print(LaminaServer.leftovers_note())
    return 0


def ministack_row(table: Table, work: str, duration: float, warm: float, lamina_rate: float) -> None:
    python, why = ministack_python()
    if python is None:
        table.add(Row("1d", "MiniStack's HTTP API", "MiniStack", extra=f"not measured: {why}"[:200]))
        return
    try:
        with Cleanup() as section:
            url, _ = start_ministack(section, python, scratch_dir(section, "lamina-bench-ministack-"))
            version = subprocess.run(
                [python, "-c", "import importlib.metadata as m; print(m.version('ministack'))"],
                capture_output=True,
                text=True,
            ).stdout.strip()
            api_id, _ = quick_api(url, "noop-http")
            request = api_request(url, api_id)
            check(request)
            load = loaded(work, request, duration, warm)
            compare = f"{load.rate / lamina_rate:.2f}x Lamina 1a" if load.rate == load.rate and lamina_rate else ""
            table.add(
                load_row(
                    "1d", "GET via MiniStack's HTTP API -> the same function", f"MiniStack {version}", load, "", compare
                )
            )
    except Exception as error:  # noqa: BLE001 - a peer that cannot run here is a row that says why
        traceback.print_exc()
        table.add(Row("1d", "MiniStack's HTTP API", "MiniStack", extra=f"not measured: {error}"[:200]))


if __name__ == "__main__":
    sys.exit(main())
