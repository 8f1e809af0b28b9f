"""REST APIs' other integrations and features on a live server: MOCK with request and
response templates, HTTP_PROXY and HTTP to a local server, an SQS action through its
credentials role, request validators, binary media, customized gateway responses, a
SAM-style Swagger import, access logs and metrics read back."""

from __future__ import annotations

import base64
import datetime
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.integration.test_rest_api_support import (
    ACCOUNT,
    ECHO,
    REGION,
    RestApi,
    client,
    function,
    grant,
    lambda_uri,
    wait_for,
)

APIGATEWAY_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


class Echo(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path.startswith("/bytes"):
            payload, kind, status = bytes(range(5)), "application/octet-stream", 200
        else:
            status = 404 if self.path.startswith("/missing") else 200
            payload = json.dumps(
                {
                    "method": self.command,
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body.decode("utf-8", "replace"),
                }
            ).encode()
            kind = "application/json"
        self.send_response(status)
        self.send_header("content-type", kind)
        self.send_header("x-backend", "echo")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

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
    return lamina.client("apigateway")


MOCK_REQUEST = '{"statusCode": #if($input.params("code") != "")$input.params("code")#{else}200#end}'


def test_mock_with_templates_and_overrides(lamina, apigw, unique_name):
    api = RestApi(apigw, unique_name)
    mock = {"type": "MOCK", "requestTemplates": {"application/json": MOCK_REQUEST}}
    api.method("/m", "GET", mock)
    api.integration_response(
        "/m",
        "GET",
        "200",
        responseTemplates={
            "application/json": '{"stage": "$context.stage", "path": "$context.resourcePath", "v": "$stageVariables.v"}'
        },
        responseParameters={"method.response.header.x-static": "'fixed'"},
    )
    api.integration_response(
        "/m",
        "GET",
        "404",
        selectionPattern="404",
        responseTemplates={
            "application/json": "#set($context.responseOverride.status = 418)"
            '#set($context.responseOverride.header.x-teapot = "yes"){"found": false}'
        },
    )
    api.deploy("dev", variables={"v": "1"})
    with client(lamina, api.id) as http:
        ok = http.get("/dev/m")
        teapot = http.get("/dev/m?code=404")
    assert ok.status_code == 200 and ok.json() == {"stage": "dev", "path": "/m", "v": "1"}
    assert ok.headers["x-static"] == "fixed"
    assert teapot.status_code == 418 and teapot.json() == {"found": False}
    assert teapot.headers["x-teapot"] == "yes"


def test_http_proxy_and_http(lamina, apigw, backend, unique_name):
    api = RestApi(apigw, unique_name)
    api.method(
        "/fwd/{proxy+}",
        "ANY",
        {
            "type": "HTTP_PROXY",
            "integrationHttpMethod": "ANY",
            "uri": backend + "/base/{proxy}",
            "requestParameters": {
                "integration.request.path.proxy": "method.request.path.proxy",
                "integration.request.header.x-stage": "context.stage",
            },
        },
        requestParameters={"method.request.path.proxy": True},
    )
    api.method(
        "/plain",
        "POST",
        {
            "type": "HTTP",
            "integrationHttpMethod": "PUT",
            "uri": backend + "/${stageVariables.where}",
            "requestTemplates": {"application/json": "{\"wrapped\": $input.json('$')}"},
            "requestParameters": {"integration.request.querystring.q": "method.request.querystring.q"},
        },
    )
    api.integration_response(
        "/plain",
        "POST",
        "200",
        responseTemplates={"application/json": '{"got": $input.json(\'$.body\'), "path": "$input.path(\'$.path\')"}'},
        responseParameters={"method.response.header.x-from": "integration.response.header.x-backend"},
    )
    api.integration_response("/plain", "POST", "404", selectionPattern="4\\d{2}")
    api.deploy("dev", variables={"where": "target"})
    with client(lamina, api.id) as http:
        proxied = http.post("/dev/fwd/a/b?x=1", content=b"raw", headers={"x-client": "c"})
        plain = http.post("/dev/plain?q=7&ignored=1", json={"k": "v"})
    assert proxied.status_code == 200, proxied.text
    seen = proxied.json()
    assert seen["method"] == "POST" and seen["path"] == "/base/a/b?x=1" and seen["body"] == "raw"
    assert seen["headers"]["x-client"] == "c" and seen["headers"]["x-stage"] == "dev"
    assert proxied.headers["x-backend"] == "echo"
    assert plain.status_code == 200, plain.text
    assert plain.json() == {"got": '{"wrapped": {"k":"v"}}', "path": "/target?q=7"}
    assert plain.headers["x-from"] == "echo"


def test_sqs_action_through_its_role(lamina, apigw, unique_name):
    sqs, iam = lamina.client("sqs"), lamina.client("iam")
    queue_url = sqs.create_queue(QueueName=unique_name)["QueueUrl"]
    role = iam.create_role(RoleName=unique_name[:60], AssumeRolePolicyDocument=APIGATEWAY_TRUST)["Role"]["Arn"]
    api = RestApi(apigw, unique_name)
    api.method(
        "/send",
        "POST",
        {
            "type": "AWS",
            "integrationHttpMethod": "POST",
            "uri": f"arn:aws:apigateway:{REGION}:sqs:path/{ACCOUNT}/{unique_name}",
            "credentials": role,
            "requestParameters": {"integration.request.header.Content-Type": "'application/x-www-form-urlencoded'"},
            "requestTemplates": {"application/json": "Action=SendMessage&MessageBody=$util.urlEncode($input.body)"},
            "passthroughBehavior": "NEVER",
        },
    )
    api.integration_response("/send", "POST", "200")
    api.integration_response("/send", "POST", "403", selectionPattern="403")
    api.deploy("dev")
    with client(lamina, api.id) as http:
        refused = http.post("/dev/send", json={"hello": "queue"})  # the role may not send yet
        iam.put_role_policy(
            RoleName=unique_name[:60],
            PolicyName="send",
            PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}
            ),
        )
        sent = http.post("/dev/send", json={"hello": "queue"})
    assert refused.status_code == 403, refused.text
    assert sent.status_code == 200, sent.text
    assert b"<MessageId>" in sent.content
    messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)["Messages"]
    assert [json.loads(m["Body"]) for m in messages] == [{"hello": "queue"}]


def test_request_validators(lamina, apigw, unique_name):
    api = RestApi(apigw, unique_name)
    schema = {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
    }
    apigw.create_model(restApiId=api.id, name="Pet", contentType="application/json", schema=json.dumps(schema))
    validator = apigw.create_request_validator(
        restApiId=api.id, name="all", validateRequestBody=True, validateRequestParameters=True
    )
    api.method(
        "/pets",
        "POST",
        {"type": "MOCK", "requestTemplates": {"application/json": '{"statusCode": 200}'}},
        requestValidatorId=validator["id"],
        requestParameters={"method.request.querystring.owner": True, "method.request.header.x-trace": True},
        requestModels={"application/json": "Pet"},
    )
    api.integration_response("/pets", "POST", "200", responseTemplates={"application/json": '{"ok": true}'})
    api.deploy("dev")
    with client(lamina, api.id) as http:
        no_params = http.post("/dev/pets", json={"name": "x"})
        bad_body = http.post("/dev/pets?owner=me", json={"age": -1}, headers={"x-trace": "1"})
        not_json = http.post(
            "/dev/pets?owner=me", content=b"{", headers={"x-trace": "1", "content-type": "application/json"}
        )
        good = http.post("/dev/pets?owner=me", json={"name": "Rex", "age": 3}, headers={"x-trace": "1"})
    assert no_params.status_code == 400
    assert no_params.json() == {"message": "Missing required request parameters: [owner, x-trace]"}
    assert bad_body.status_code == 400 and bad_body.json() == {"message": "Invalid request body"}
    assert not_json.status_code == 400
    assert good.status_code == 200 and good.json() == {"ok": True}


def test_binary_media_and_content_handling(lamina, apigw, backend, unique_name):
    api = RestApi(apigw, unique_name, binaryMediaTypes=["application/octet-stream"])
    api.method("/raw", "GET", {"type": "HTTP", "integrationHttpMethod": "GET", "uri": backend + "/bytes"})
    api.integration_response("/raw", "GET", "200")
    api.method("/text", "GET", {"type": "HTTP", "integrationHttpMethod": "GET", "uri": backend + "/bytes"})
    api.integration_response("/text", "GET", "200", contentHandling="CONVERT_TO_TEXT")
    api.deploy("dev")
    with client(lamina, api.id) as http:
        raw = http.get("/dev/raw", headers={"accept": "application/octet-stream"})
        text = http.get("/dev/text", headers={"accept": "application/octet-stream"})
    assert raw.content == bytes(range(5))
    assert base64.b64decode(text.content) == bytes(range(5))


def test_gateway_responses_customized(lamina, apigw, unique_name):
    api = RestApi(apigw, unique_name)
    api.method("/k", "GET", {"type": "MOCK"}, apiKeyRequired=True)
    api.integration_response("/k", "GET", "200")
    apigw.put_gateway_response(
        restApiId=api.id,
        responseType="MISSING_AUTHENTICATION_TOKEN",
        statusCode="404",
        responseParameters={
            "gatewayresponse.header.x-kind": "'custom'",
            "gatewayresponse.header.x-path": "method.request.path.proxy",
        },
        responseTemplates={
            "application/json": '{"error": "$context.error.message", "type": "$context.error.responseType", '
            '"id": "$context.requestId"}'
        },
    )
    apigw.put_gateway_response(
        restApiId=api.id,
        responseType="DEFAULT_4XX",
        responseParameters={"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"},
    )
    api.deploy("dev")
    with client(lamina, api.id) as http:
        missing = http.get("/dev/nothing/here")
        no_key = http.get("/dev/k")
    assert missing.status_code == 404
    assert missing.json() == {
        "error": "Missing Authentication Token",
        "type": "MISSING_AUTHENTICATION_TOKEN",
        "id": missing.headers["x-amzn-requestid"],
    }
    assert missing.headers["x-kind"] == "custom"
    # INVALID_API_KEY keeps its status and takes DEFAULT_4XX's header.
    assert no_key.status_code == 403 and no_key.json() == {"message": "Forbidden"}
    assert no_key.headers["access-control-allow-origin"] == "*"


SWAGGER = {
    "swagger": "2.0",
    "info": {"title": "sam-style", "version": "1.0"},
    "paths": {
        "/hello/{name}": {
            "get": {
                "parameters": [{"name": "name", "in": "path", "required": True, "type": "string"}],
                "x-amazon-apigateway-integration": {
                    "type": "aws_proxy",
                    "httpMethod": "POST",
                    "uri": "__URI__",
                },
            }
        }
    },
}


def test_swagger_import(lamina, apigw, create_function, lambda_client):
    arn = function(create_function, lambda_client, ECHO)
    document = json.dumps(SWAGGER).replace("__URI__", lambda_uri(arn))
    api_id = apigw.import_rest_api(body=document.encode())["id"]
    apigw.create_deployment(restApiId=api_id, stageName="Prod")
    grant(lambda_client, arn, api_id)
    with client(lamina, api_id) as http:
        answer = http.get("/Prod/hello/world")
    assert answer.status_code == 200, answer.text
    event = answer.json()
    assert event["resource"] == "/hello/{name}" and event["pathParameters"] == {"name": "world"}


FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "method": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "status": "$context.status",
        "error": "$context.error.message",
        "responseType": "$context.error.responseType",
        "stage": "$context.stage",
        "integrationStatus": "$context.integrationStatus",
    }
)


def test_access_logs_and_metrics(lamina, apigw, create_function, lambda_client, unique_name):
    logs, cloudwatch = lamina.client("logs"), lamina.client("cloudwatch")
    arn = function(create_function, lambda_client, ECHO)
    api = RestApi(apigw, unique_name)
    api.method("/items", "GET", {"type": "AWS_PROXY", "integrationHttpMethod": "POST", "uri": lambda_uri(arn)})
    api.deploy("dev")
    grant(lambda_client, arn, api.id)
    group = f"API-Gateway-Access-Logs_{unique_name}"
    logs.create_log_group(logGroupName=group)
    apigw.update_stage(
        restApiId=api.id,
        stageName="dev",
        patchOperations=[
            {
                "op": "replace",
                "path": "/accessLogSettings/destinationArn",
                "value": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}",
            },
            {"op": "replace", "path": "/accessLogSettings/format", "value": FORMAT},
        ],
    )
    with client(lamina, api.id) as http:
        ok = http.get("/dev/items")
        missing = http.get("/dev/none")
    assert ok.status_code == 200 and missing.status_code == 403

    def lines():
        events = logs.filter_log_events(logGroupName=group)["events"]
        return [json.loads(e["message"]) for e in events] if len(events) >= 2 else None

    found = sorted(wait_for(lines), key=lambda line: line["status"])
    assert found[0]["requestId"] == ok.headers["x-amzn-requestid"]
    assert found[0]["resourcePath"] == "/items" and found[0]["integrationStatus"] == "200"
    assert found[1]["status"] == "403" and found[1]["responseType"] == "MISSING_AUTHENTICATION_TOKEN"
    assert found[1]["error"] == "Missing Authentication Token" and found[1]["resourcePath"] == "-"

    now = datetime.datetime.now(datetime.timezone.utc)

    def statistic(name: str):
        points = cloudwatch.get_metric_statistics(
            Namespace="AWS/ApiGateway",
            MetricName=name,
            Dimensions=[{"Name": "ApiName", "Value": unique_name}, {"Name": "Stage", "Value": "dev"}],
            StartTime=now - datetime.timedelta(minutes=5),
            EndTime=now + datetime.timedelta(minutes=5),
            Period=600,
            Statistics=["Sum", "SampleCount"],
        )["Datapoints"]
        return points[0] if points and points[0]["SampleCount"] >= 2 else None

    count = wait_for(lambda: statistic("Count"))
    assert count["Sum"] == 2
    assert wait_for(lambda: statistic("4XXError"))["Sum"] == 1
    assert wait_for(lambda: statistic("5XXError"))["Sum"] == 0
