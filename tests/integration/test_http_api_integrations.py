"""HTTP APIs' other integrations and gateway features on a live server: HTTP_PROXY to a local
HTTP server (paths, query, headers, parameter mappings both ways), an SQS-SendMessage service
integration acting as its role, CORS (preflight answered by API Gateway, headers on
responses, the backend's own dropped) and throttling (429)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.integration.test_http_api_lambda import client, echo_function, grant

APIGATEWAY_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


class Echo(BaseHTTPRequestHandler):
    """Answers with what it was sent; /status/NNN answers NNN; adds its own CORS header."""

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        status = int(self.path.split("/status/", 1)[1][:3]) if "/status/" in self.path else 200
        document = {
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode(),
        }
        data = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("x-backend", "echo")
        self.send_header("access-control-allow-origin", "https://evil.example")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def backend():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def apigw(lamina):
    return lamina.client("apigatewayv2")


def test_http_proxy_forwards_the_call(lamina, apigw, backend, unique_name):
    api_id = apigw.create_api(Name=unique_name, ProtocolType="HTTP", Target=backend)["ApiId"]
    with client(lamina, api_id) as http:
        answer = http.put("/store/checkout?x=1&x=2", content=b"payload", headers={"x-mine": "a"})
    assert answer.status_code == 200, answer.text
    seen = answer.json()
    assert seen["method"] == "PUT"
    assert seen["path"] == "/store/checkout?x=1&x=2"
    assert seen["body"] == "payload"
    assert seen["headers"]["x-mine"] == "a" and seen["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert answer.headers["x-backend"] == "echo"


def test_http_proxy_with_path_variables_and_parameter_mapping(lamina, apigw, backend, unique_name):
    api_id = apigw.create_api(Name=unique_name, ProtocolType="HTTP")["ApiId"]
    integration = apigw.create_integration(
        ApiId=api_id,
        IntegrationType="HTTP_PROXY",
        IntegrationMethod="POST",
        IntegrationUri=backend + "/base/{proxy}",
        PayloadFormatVersion="1.0",
        RequestParameters={
            "append:header.x-request": "$context.requestId",
            "overwrite:header.x-renamed": "$request.header.x-old",
            "remove:header.x-old": "''",
            "overwrite:querystring.env": "$stageVariables.env",
            "remove:querystring.secret": "''",
        },
        ResponseParameters={
            "404": {"overwrite:statuscode": "410", "append:header.x-gone": "yes"},
            "200": {"overwrite:header.x-from": "$response.header.x-backend"},
        },
    )["IntegrationId"]
    apigw.create_route(ApiId=api_id, RouteKey="ANY /api/{proxy+}", Target=f"integrations/{integration}")
    apigw.create_stage(ApiId=api_id, StageName="dev", AutoDeploy=True, StageVariables={"env": "dev"})
    with client(lamina, api_id) as http:
        answer = http.get("/dev/api/a/b?secret=s&keep=1", headers={"x-old": "value"})
        gone = http.get("/dev/api/status/404")
    assert answer.status_code == 200, answer.text
    seen = answer.json()
    assert seen["method"] == "POST"
    assert seen["path"] == "/base/a/b?keep=1&env=dev"
    assert seen["headers"]["x-renamed"] == "value" and "x-old" not in seen["headers"]
    assert seen["headers"]["x-request"] == answer.headers["apigw-requestid"]
    assert answer.headers["x-from"] == "echo"
    assert gone.status_code == 410 and gone.headers["x-gone"] == "yes"


def test_sqs_send_message_integration(lamina, apigw, unique_name):
    sqs, iam = lamina.client("sqs"), lamina.client("iam")
    queue_url = sqs.create_queue(QueueName=unique_name)["QueueUrl"]
    role = iam.create_role(RoleName=unique_name[:60], AssumeRolePolicyDocument=APIGATEWAY_TRUST)["Role"]["Arn"]
    api_id = apigw.create_api(Name=unique_name, ProtocolType="HTTP")["ApiId"]
    integration = apigw.create_integration(
        ApiId=api_id,
        IntegrationType="AWS_PROXY",
        IntegrationSubtype="SQS-SendMessage",
        CredentialsArn=role,
        PayloadFormatVersion="1.0",
        RequestParameters={"QueueUrl": queue_url, "MessageBody": "$request.body.message", "DelaySeconds": "0"},
    )["IntegrationId"]
    apigw.create_route(ApiId=api_id, RouteKey="POST /send", Target=f"integrations/{integration}")
    apigw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    with client(lamina, api_id) as http:
        refused = http.post("/send", json={"message": "hello"})  # the role may not send yet
        iam.put_role_policy(
            RoleName=unique_name[:60],
            PolicyName="send",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}],
                }
            ),
        )
        sent = http.post("/send", json={"message": "hello"})
    assert refused.status_code == 403
    assert sent.status_code == 200, sent.text
    result = sent.json()["SendMessageResponse"]["SendMessageResult"]
    assert result["MessageId"] and result["MD5OfMessageBody"]
    messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)["Messages"]
    assert [m["Body"] for m in messages] == ["hello"]


def test_cors(lamina, apigw, backend, unique_name):
    api_id = apigw.create_api(
        Name=unique_name,
        ProtocolType="HTTP",
        Target=backend,
        CorsConfiguration={
            "AllowOrigins": ["https://app.example"],
            "AllowMethods": ["GET", "POST"],
            "AllowHeaders": ["content-type", "x-token"],
            "ExposeHeaders": ["x-backend"],
            "MaxAge": 300,
        },
    )["ApiId"]
    with client(lamina, api_id) as http:
        preflight = http.options(
            "/anything",
            headers={"origin": "https://app.example", "access-control-request-method": "POST"},
        )
        stranger = http.options(
            "/anything", headers={"origin": "https://other.example", "access-control-request-method": "POST"}
        )
        actual = http.get("/anything", headers={"origin": "https://app.example"})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"
    assert preflight.headers["access-control-allow-methods"] == "GET,POST"
    assert preflight.headers["access-control-allow-headers"] == "content-type,x-token"
    assert preflight.headers["access-control-max-age"] == "300"
    assert stranger.status_code == 204 and "access-control-allow-origin" not in stranger.headers
    assert actual.status_code == 200 and actual.json()["method"] == "GET"  # the backend answered
    assert actual.headers.get_list("access-control-allow-origin") == ["https://app.example"]
    assert actual.headers["access-control-expose-headers"] == "x-backend"


def test_throttling(lamina, apigw, create_function, lambda_client, unique_name):
    arn = echo_function(create_function, lambda_client)
    api_id = apigw.create_api(Name=unique_name, ProtocolType="HTTP", Target=arn)["ApiId"]
    grant(lambda_client, arn, api_id)
    apigw.update_stage(
        ApiId=api_id,
        StageName="$default",
        DefaultRouteSettings={"ThrottlingBurstLimit": 1, "ThrottlingRateLimit": 1.0},
    )
    with client(lamina, api_id) as http:
        answers = [http.get("/") for _ in range(6)]
    statuses = [answer.status_code for answer in answers]
    assert 429 in statuses and 200 in statuses, statuses
    throttled = next(answer for answer in answers if answer.status_code == 429)
    assert throttled.json() == {"message": "Too Many Requests"}
