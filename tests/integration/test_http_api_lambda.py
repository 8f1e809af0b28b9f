"""HTTP APIs calling Lambda functions (AWS_PROXY) on a live server: quick create, the events of
payload format 2.0 and 1.0 checked against aws-lambda-powertools' models, the responses
functions give (simplified, full, cookies, base64, malformed), stages and stage variables,
route precedence, and the function's permission (a function that does not allow API Gateway
answers 500). Calls go over real HTTP with the API's Host header (`*.localhost` may not
resolve here), or the path form /_aws/execute-api/{id}/..."""

from __future__ import annotations

import base64
import re

import httpx
import pytest
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventModel, APIGatewayProxyEventV2Model

from tests.conftest import allow_service

APIGATEWAY = "apigateway.amazonaws.com"
REQUEST_ID = re.compile(r"^[A-Za-z0-9+/]{14}==?$|^[A-Za-z0-9+/]{15}=$")

# Answers with the event it got, or what the query asks it to answer.
ECHO = """
import base64, json

def handler(event, context):
    query = event.get("queryStringParameters") or {}
    shape = query.get("shape")
    if shape == "plain":
        return {"hello": "world"}
    if shape == "string":
        return "just text"
    if shape == "full":
        return {"statusCode": 201, "headers": {"x-made": "yes", "content-type": "text/plain"},
                "cookies": ["a=1; Path=/", "b=2"], "body": "made"}
    if shape == "multi":
        return {"statusCode": 200, "multiValueHeaders": {"x-many": ["1", "2"]}, "body": "many"}
    if shape == "binary":
        return {"statusCode": 200, "headers": {"content-type": "application/octet-stream"},
                "isBase64Encoded": True, "body": base64.b64encode(bytes(range(8))).decode()}
    if shape == "malformed":
        return {"statusCode": "many", "body": 1}
    if shape == "raise":
        raise ValueError("asked to fail")
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(event)}
"""


def client(lamina, api_id: str) -> httpx.Client:
    """An HTTP client for the API, by its Host."""
    return httpx.Client(
        base_url=lamina.url, headers={"host": f"{api_id}.execute-api.localhost:{lamina.port}"}, timeout=60
    )


def echo_function(create_function, lambda_client, **more) -> str:
    arn = create_function(code={"app.py": ECHO}, **more)["FunctionArn"]
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=arn)
    return arn


def grant(lambda_client, function_arn: str, api_id: str, region: str = "us-east-1", account: str = "000000000000"):
    allow_service(lambda_client, function_arn, APIGATEWAY, f"arn:aws:execute-api:{region}:{account}:{api_id}/*")


@pytest.fixture
def apigw(lamina):
    return lamina.client("apigatewayv2")


@pytest.fixture
def echo_api(apigw, create_function, lambda_client, unique_name):
    """A quick-created API on the echo function (payload 2.0, $default route and stage)."""
    arn = echo_function(create_function, lambda_client)
    api = apigw.create_api(Name=unique_name, ProtocolType="HTTP", Target=arn)
    grant(lambda_client, arn, api["ApiId"])
    return api["ApiId"], arn


def test_quick_create_calls_the_function_with_a_2_0_event(lamina, echo_api):
    api_id, _ = echo_api
    with client(lamina, api_id) as http:
        answer = http.post(
            "/pets/7?color=red&color=blue&size=s",
            content=b'{"a": 1}',
            headers={"content-type": "application/json", "cookie": "c1=v1; c2=v2", "x-multi": "one"},
        )
    assert answer.status_code == 200, answer.text
    assert REQUEST_ID.match(answer.headers["apigw-requestid"])
    event = answer.json()
    APIGatewayProxyEventV2Model(**event)
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/pets/7"
    assert event["rawQueryString"] == "color=red&color=blue&size=s"
    assert event["queryStringParameters"] == {"color": "red,blue", "size": "s"}
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-multi"] == "one"
    assert event["headers"]["x-forwarded-proto"] == "http"
    assert event["body"] == '{"a": 1}' and event["isBase64Encoded"] is False
    assert "pathParameters" not in event and "stageVariables" not in event
    context = event["requestContext"]
    assert context["apiId"] == api_id and context["accountId"] == "000000000000"
    assert context["stage"] == "$default" and context["routeKey"] == "$default"
    assert context["http"]["method"] == "POST" and context["http"]["path"] == "/pets/7"
    assert context["domainName"] == f"{api_id}.execute-api.localhost"
    assert context["domainPrefix"] == api_id
    assert context["requestId"] == answer.headers["apigw-requestid"]
    assert re.match(r"^\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000$", context["time"])


def test_binary_bodies_are_base64(lamina, echo_api):
    api_id, _ = echo_api
    with client(lamina, api_id) as http:
        answer = http.post("/x", content=bytes(range(10)), headers={"content-type": "application/octet-stream"})
        form = http.post("/x", content=b"a=1&b=2", headers={"content-type": "application/x-www-form-urlencoded"})
    event = answer.json()
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == bytes(range(10))
    assert form.json()["isBase64Encoded"] is True


def test_the_path_form_reaches_the_same_api(lamina, echo_api):
    api_id, _ = echo_api
    answer = httpx.get(f"{lamina.url}/_aws/execute-api/{api_id}/hello/there?x=1", timeout=60)
    assert answer.status_code == 200
    assert answer.json()["rawPath"] == "/hello/there"


def test_responses_as_api_gateway_reads_them(lamina, echo_api):
    api_id, _ = echo_api
    with client(lamina, api_id) as http:
        plain = http.get("/", params={"shape": "plain"})
        text = http.get("/", params={"shape": "string"})
        full = http.get("/", params={"shape": "full"})
        multi = http.get("/", params={"shape": "multi"})
        binary = http.get("/", params={"shape": "binary"})
        malformed = http.get("/", params={"shape": "malformed"})
        raised = http.get("/", params={"shape": "raise"})
    assert plain.status_code == 200 and plain.json() == {"hello": "world"}
    assert plain.headers["content-type"] == "application/json"
    assert text.status_code == 200 and text.json() == "just text"
    assert full.status_code == 201 and full.text == "made" and full.headers["x-made"] == "yes"
    assert full.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2"]
    assert multi.headers.get_list("x-many") == ["1", "2"]
    assert binary.content == bytes(range(8))
    for failed in (malformed, raised):
        assert failed.status_code == 500 and failed.json() == {"message": "Internal Server Error"}


def test_payload_1_0_events(lamina, apigw, create_function, lambda_client, unique_name):
    arn = echo_function(create_function, lambda_client)
    api_id = apigw.create_api(Name=unique_name, ProtocolType="HTTP")["ApiId"]
    integration = apigw.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=arn, PayloadFormatVersion="1.0"
    )["IntegrationId"]
    route_id = apigw.create_route(ApiId=api_id, RouteKey="GET /pets/{id}", Target=f"integrations/{integration}")[
        "RouteId"
    ]
    apigw.create_stage(ApiId=api_id, StageName="prod", AutoDeploy=True, StageVariables={"env": "production"})
    grant(lambda_client, arn, api_id)
    with client(lamina, api_id) as http:
        answer = http.get("/prod/pets/42?tag=a&tag=b", headers={"x-one": "1"})
    assert answer.status_code == 200, answer.text
    event = answer.json()
    APIGatewayProxyEventModel(**event)
    assert event["version"] == "1.0"
    assert event["resource"] == "/pets/{id}"
    assert event["path"] == "/prod/pets/42"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"id": "42"}
    assert event["stageVariables"] == {"env": "production"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"]}
    assert event["queryStringParameters"] == {"tag": "b"}
    assert event["headers"]["x-one"] == "1" and event["multiValueHeaders"]["x-one"] == ["1"]
    assert event["body"] is None and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["stage"] == "prod" and context["resourcePath"] == "/pets/{id}"
    assert context["resourceId"] == "GET /pets/{id}" and route_id
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["requestId"] == answer.headers["apigw-requestid"]


def test_stages_and_stage_variables_in_the_integration_uri(lamina, apigw, create_function, lambda_client, unique_name):
    arn = echo_function(create_function, lambda_client)
    lambda_client.publish_version(FunctionName=arn)
    lambda_client.create_alias(FunctionName=arn, Name="live", FunctionVersion="1")
    api_id = apigw.create_api(Name=unique_name, ProtocolType="HTTP")["ApiId"]
    integration = apigw.create_integration(
        ApiId=api_id,
        IntegrationType="AWS_PROXY",
        IntegrationUri=arn + ":${stageVariables.alias}",
        PayloadFormatVersion="2.0",
    )["IntegrationId"]
    apigw.create_route(ApiId=api_id, RouteKey="ANY /{proxy+}", Target=f"integrations/{integration}")
    apigw.create_stage(ApiId=api_id, StageName="live", AutoDeploy=True, StageVariables={"alias": "live"})
    allow_service(lambda_client, arn + ":live", APIGATEWAY, f"arn:aws:execute-api:us-east-1:000000000000:{api_id}/*")
    with client(lamina, api_id) as http:
        answer = http.delete("/live/a/b/c")
        missing = http.get("/nope/a")  # no such stage, and no $default stage
    assert answer.status_code == 200, answer.text
    event = answer.json()
    APIGatewayProxyEventV2Model(**event)
    assert event["rawPath"] == "/live/a/b/c" and event["requestContext"]["http"]["path"] == "/live/a/b/c"
    assert event["routeKey"] == "ANY /{proxy+}" and event["pathParameters"] == {"proxy": "a/b/c"}
    assert event["stageVariables"] == {"alias": "live"} and event["requestContext"]["stage"] == "live"
    assert missing.status_code == 404 and missing.json() == {"message": "Not Found"}


def test_route_precedence(lamina, apigw, create_function, lambda_client, unique_name):
    """AWS's example: GET /pets/dog/1, GET /pets/dog/{id}, GET /pets/{proxy+}, ANY /{proxy+}, $default."""
    arn = echo_function(create_function, lambda_client)
    api_id = apigw.create_api(Name=unique_name, ProtocolType="HTTP")["ApiId"]
    integration = apigw.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=arn, PayloadFormatVersion="2.0"
    )["IntegrationId"]
    for key in ("GET /pets/dog/1", "GET /pets/dog/{id}", "GET /pets/{proxy+}", "ANY /{proxy+}", "$default"):
        apigw.create_route(ApiId=api_id, RouteKey=key, Target=f"integrations/{integration}")
    apigw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    grant(lambda_client, arn, api_id)
    expected = {
        ("GET", "/pets/dog/1"): "GET /pets/dog/1",
        ("GET", "/pets/dog/2"): "GET /pets/dog/{id}",
        ("GET", "/pets/cat/1"): "GET /pets/{proxy+}",
        ("POST", "/test/5"): "ANY /{proxy+}",
        ("GET", "/"): "$default",
    }
    with client(lamina, api_id) as http:
        for (method, path), route in expected.items():
            answer = http.request(method, path)
            assert answer.status_code == 200, (method, path, answer.text)
            assert answer.json()["routeKey"] == route, (method, path)


def test_a_function_that_does_not_allow_api_gateway_answers_500(
    lamina, apigw, create_function, lambda_client, unique_name
):
    arn = echo_function(create_function, lambda_client)
    api_id = apigw.create_api(Name=unique_name, ProtocolType="HTTP", Target=arn)["ApiId"]
    with client(lamina, api_id) as http:
        refused = http.get("/")
        allow_service(lambda_client, arn, APIGATEWAY, f"arn:aws:execute-api:us-east-1:000000000000:{api_id}/*/$default")
        allowed = http.get("/")
    assert refused.status_code == 500 and refused.json() == {"message": "Internal Server Error"}
    assert allowed.status_code == 200


def test_unknown_routes_and_large_bodies(lamina, apigw, create_function, lambda_client, unique_name):
    arn = echo_function(create_function, lambda_client)
    api_id = apigw.create_api(Name=unique_name, ProtocolType="HTTP", Target=arn, RouteKey="GET /only")["ApiId"]
    grant(lambda_client, arn, api_id)
    with client(lamina, api_id) as http:
        assert http.get("/only").status_code == 200
        missing = http.get("/other")
        large = http.post("/only", content=b"x" * (10 * 1024 * 1024 + 1))
    assert missing.status_code == 404 and missing.json() == {"message": "Not Found"}
    assert large.status_code == 413 and large.json() == {"message": "Request Entity Too Large"}


def test_disabled_execute_api_endpoint(lamina, apigw, echo_api):
    api_id, _ = echo_api
    apigw.update_api(ApiId=api_id, DisableExecuteApiEndpoint=True)
    with client(lamina, api_id) as http:
        answer = http.get("/")
    assert answer.status_code == 404 and answer.json() == {"message": "Not Found"}
