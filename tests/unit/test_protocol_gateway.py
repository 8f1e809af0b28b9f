"""The gateway's AWS path end to end over ASGI, with stand-in services and no server: botocore
builds and signs the request, botocore reads the answer."""

from __future__ import annotations

import asyncio
import io

import pytest
from botocore.parsers import create_parser
from botocore.response import StreamingBody
from urllib3._collections import HTTPHeaderDict

from lamina.errors import ServiceError
from lamina.gateway import Gateway, snake_case
from lamina.protocol.messages import Request, Response
from lamina.protocol.router import Router
from lamina.protocol.sigv4 import Verifier

from .test_protocol_requests import FUNCTION_ARN, wire_request


class FakeLambda:
    def __init__(self) -> None:
        self.calls: list[tuple[dict, object]] = []

    async def invoke(self, params, ctx):
        self.calls.append((params, ctx))
        if params["FunctionName"] == "throttled":
            raise ServiceError(
                "TooManyRequestsException", "Rate Exceeded.", Reason="ReservedFunctionConcurrentInvocationLimitExceeded"
            )
        if params["FunctionName"] == "broken":
            raise RuntimeError("a bug in the service")
        if params["FunctionName"] == "cancelled":  # what it waited on was cancelled, not the request
            waited = asyncio.get_running_loop().create_future()
            waited.cancel()
            await waited
        return {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": params.get("Payload", b"")}

    async def get_account_settings(self, params, ctx):
        return {"AccountUsage": {"FunctionCount": 0, "TotalCodeSize": 0}}


class FakeLogs:
    async def describe_log_groups(self, params, ctx):
        return {"logGroups": [{"logGroupName": "/aws/lambda/f", "creationTime": 1}]}


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(["lambda", "logs"])


@pytest.fixture
def gateway(router):
    verifier = Verifier(
        {"test": ("test", "000000000000"), "other": ("other", "111122223333")}, "000000000000", "us-east-1"
    )
    return Gateway(router, {"lambda": FakeLambda(), "logs": FakeLogs()}, verifier, "http://127.0.0.1:4566")


def call_asgi(gateway: Gateway, request: Request) -> Response:
    """Send `request` through the ASGI interface, in two body chunks, as a server would."""
    half = len(request.body) // 2
    messages = [
        {"type": "http.request", "body": request.body[:half], "more_body": True},
        {"type": "http.request", "body": request.body[half:], "more_body": False},
    ]
    sent: list[dict] = []

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": request.method,
        "path": request.path,
        "raw_path": request.raw_path.encode(),
        "query_string": request.query_string.encode(),
        "headers": [(k.encode(), v.encode()) for k, v in request.headers.items()],
        "client": ("127.0.0.1", 5000),
    }
    asyncio.run(gateway(scope, receive, send))
    start, body = sent
    headers = [(k.decode(), v.decode()) for k, v in start["headers"]]
    return Response(start["status"], headers, body["body"])


def botocore_reads(router: Router, service: str, operation: str, response: Response) -> dict:
    spec = router.specs[service]
    op = spec.model.operation_model(operation)
    headers = HTTPHeaderDict()
    for name, value in response.headers:
        headers.add(name, value)
    body = response.body
    if op.has_streaming_output and response.status < 300:
        body = StreamingBody(io.BytesIO(body), len(body))
    response_dict = {"status_code": response.status, "headers": headers, "body": body, "context": {}}
    parser = create_parser(spec.protocol)
    parsed = parser.parse(response_dict, op.output_shape)
    code = parsed.get("Error", {}).get("Code")
    if code and spec.model.shape_for_error_code(code) is not None:
        parsed.update(parser.parse(response_dict, spec.model.shape_for_error_code(code)))
    return parsed


def test_snake_case():
    assert snake_case("GetAccountSettings") == "get_account_settings"
    assert snake_case("ListTagsLogGroup") == "list_tags_log_group"
    assert snake_case("PutFunctionEventInvokeConfig") == "put_function_event_invoke_config"
    assert snake_case("GetFunctionURLConfig") == "get_function_url_config"


def test_invoke_through_the_gateway(gateway, router):
    request = wire_request(
        "lambda",
        "Invoke",
        {"FunctionName": FUNCTION_ARN, "Payload": b'{"x": 1}'},
        access_key="other",
        secret_key="other",
        region="eu-west-1",
    )
    response = call_asgi(gateway, request)
    parsed = botocore_reads(router, "lambda", "Invoke", response)
    assert parsed["StatusCode"] == 200
    assert parsed["Payload"].read() == b'{"x": 1}'
    assert dict(response.headers)["content-length"] == str(len(response.body))
    params, ctx = gateway.services["lambda"].calls[0]
    assert params == {"FunctionName": FUNCTION_ARN, "Payload": b'{"x": 1}'}
    assert (ctx.account_id, ctx.region, ctx.access_key) == ("111122223333", "eu-west-1", "other")
    assert ctx.endpoint_url == "http://127.0.0.1:4566"
    assert parsed["ResponseMetadata"]["RequestId"] == ctx.request_id


def test_json_protocol_through_the_gateway(gateway, router):
    response = call_asgi(gateway, wire_request("logs", "DescribeLogGroups", {}))
    parsed = botocore_reads(router, "logs", "DescribeLogGroups", response)
    assert parsed["logGroups"] == [{"logGroupName": "/aws/lambda/f", "creationTime": 1}]


def test_service_error_through_the_gateway(gateway, router):
    response = call_asgi(gateway, wire_request("lambda", "Invoke", {"FunctionName": "throttled"}))
    parsed = botocore_reads(router, "lambda", "Invoke", response)
    assert response.status == 429
    assert parsed["Error"]["Code"] == "TooManyRequestsException"
    assert parsed["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"


def test_unexpected_exception_is_a_500_and_the_gateway_keeps_serving(gateway, router):
    response = call_asgi(gateway, wire_request("lambda", "Invoke", {"FunctionName": "broken"}))
    parsed = botocore_reads(router, "lambda", "Invoke", response)
    assert response.status == 500
    assert parsed["Error"]["Code"] == "ServiceException"
    assert "a bug in the service" not in response.body.decode()  # no internals leak to the caller
    response = call_asgi(gateway, wire_request("lambda", "Invoke", {"FunctionName": "fine"}))
    assert response.status == 200


def test_work_cancelled_under_a_request_is_a_500_not_a_hang(gateway, router):
    response = call_asgi(gateway, wire_request("lambda", "Invoke", {"FunctionName": "cancelled"}))
    assert response.status == 500
    assert botocore_reads(router, "lambda", "Invoke", response)["Error"]["Code"] == "ServiceException"


def test_operation_without_a_method_is_not_implemented(gateway, router):
    response = call_asgi(gateway, wire_request("lambda", "ListLayers", {}))
    parsed = botocore_reads(router, "lambda", "ListLayers", response)
    assert parsed["Error"]["Code"] == "UnknownOperationException"
    assert "ListLayers" in parsed["Error"]["Message"]


def test_bad_signature_through_the_gateway(gateway, router):
    for service, operation in (("lambda", "GetAccountSettings"), ("logs", "DescribeLogGroups")):
        response = call_asgi(gateway, wire_request(service, operation, {}, secret_key="wrong"))
        parsed = botocore_reads(router, service, operation, response)
        assert (response.status, parsed["Error"]["Code"]) == (403, "InvalidSignatureException")


def test_validation_and_malformed_bodies_through_the_gateway(gateway, router):
    response = call_asgi(gateway, wire_request("lambda", "Invoke", {"FunctionName": "bad name"}))
    parsed = botocore_reads(router, "lambda", "Invoke", response)
    assert (response.status, parsed["Error"]["Code"]) == (400, "ValidationException")

    request = wire_request("logs", "DescribeLogGroups", {}, sign=False)
    request.body = b"{oops"
    response = call_asgi(gateway, request)
    parsed = botocore_reads(router, "logs", "DescribeLogGroups", response)
    assert (response.status, parsed["Error"]["Code"]) == (400, "SerializationException")


def test_mounted_routes_come_first(gateway):
    async def health(request: Request) -> Response:
        return Response(200, [("content-type", "text/plain")], b"ok " + request.path.encode())

    gateway.mount("/_lamina/health", health)
    response = call_asgi(gateway, Request("GET", "/_lamina/health", "/_lamina/health", "", {}))
    assert (response.status, response.body) == (200, b"ok /_lamina/health")


def test_hosts_mounted_come_before_aws_routing(gateway):
    async def api(request: Request) -> Response:
        return Response(200, [], request.headers["host"].encode())

    gateway.mount_host(".execute-api.localhost", api)
    for host in ["abc123.execute-api.localhost:4566", "abc123.execute-api.localhost"]:
        response = call_asgi(gateway, Request("GET", "/prod/items", "/prod/items", "", {"host": host}))
        assert (response.status, response.body) == (200, host.encode())
    # Other hosts (the AWS endpoint itself) are untouched, signed or not.
    request = wire_request("lambda", "Invoke", {"FunctionName": "f"}, sign=False)
    request.headers["host"] = "localhost:4566"
    assert call_asgi(gateway, request).status == 200
    assert gateway.own_hosts() == [".execute-api.localhost"]


def test_endpoint_url_follows_the_host_header(gateway):
    """URLs handed back (a function's code Location) must reach the server the way the caller did."""
    request = wire_request("lambda", "Invoke", {"FunctionName": "f"}, sign=False)
    request.headers["host"] = "lamina.internal:8080"
    assert call_asgi(gateway, request).status == 200
    _, ctx = gateway.services["lambda"].calls[-1]
    assert ctx.endpoint_url == "http://lamina.internal:8080"


def test_body_over_the_limit_is_request_entity_too_large(gateway, router, monkeypatch):
    monkeypatch.setattr("lamina.gateway.MAX_BODY_BYTES", 1000)
    response = call_asgi(gateway, wire_request("lambda", "Invoke", {"FunctionName": "f", "Payload": b"x" * 1001}))
    parsed = botocore_reads(router, "lambda", "Invoke", response)
    assert (response.status, parsed["Error"]["Code"]) == (413, "RequestEntityTooLargeException")
    assert gateway.services["lambda"].calls == []
