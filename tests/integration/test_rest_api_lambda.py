"""REST APIs calling Lambda functions on a live server: the proxy event checked against
aws-lambda-powertools' model, proxy responses (full, binary, malformed, a raising function),
stages and stage variables, the method's permission (a function that does not allow API
Gateway answers 500), non-proxy integrations with request and response templates and
selectionPattern error mapping, unknown stages and resources."""

from __future__ import annotations

import base64
import json
import re

import pytest
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventModel

from tests.integration.test_rest_api_support import (
    ACCOUNT,
    ECHO,
    RestApi,
    client,
    function,
    grant,
    lambda_uri,
    proxy_integration,
)

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture
def apigw(lamina):
    return lamina.client("apigateway")


@pytest.fixture
def echo(create_function, lambda_client):
    return function(create_function, lambda_client, ECHO)


@pytest.fixture
def proxy_api(apigw, echo, lambda_client, unique_name):
    api = RestApi(apigw, unique_name, binaryMediaTypes=["image/png"])
    api.method("/pets/{id}", "GET", proxy_integration(echo))
    api.method("/{proxy+}", "ANY", proxy_integration(echo))
    api.deploy("dev", variables={"color": "blue"})
    grant(lambda_client, echo, api.id)
    return api


def test_the_proxy_event(lamina, proxy_api):
    with client(lamina, proxy_api.id) as http:
        answer = http.get("/dev/pets/42?a=1&a=2&b=3", headers={"x-custom": "yes", "user-agent": "tester"})
    assert answer.status_code == 200, answer.text
    assert UUID.match(answer.headers["x-amzn-requestid"])
    assert answer.headers["x-amz-apigw-id"]
    event = answer.json()
    APIGatewayProxyEventModel(**event)
    assert event["resource"] == "/pets/{id}" and event["path"] == "/pets/42" and event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"id": "42"}
    assert event["queryStringParameters"] == {"a": "2", "b": "3"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": ["3"]}
    assert event["headers"]["x-custom"] == "yes" and event["multiValueHeaders"]["x-custom"] == ["yes"]
    assert event["headers"]["x-forwarded-proto"] == "http"
    assert event["stageVariables"] == {"color": "blue"}
    assert event["body"] is None and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["accountId"] == ACCOUNT and context["apiId"] == proxy_api.id
    assert context["stage"] == "dev" and context["path"] == "/dev/pets/42"
    assert context["resourcePath"] == "/pets/{id}" and context["resourceId"]
    assert context["requestId"] == answer.headers["x-amzn-requestid"]
    assert context["extendedRequestId"] == answer.headers["x-amz-apigw-id"]
    assert context["identity"]["userAgent"] == "tester" and context["identity"]["sourceIp"]
    assert context["domainName"] == f"{proxy_api.id}.execute-api.localhost"
    assert context["protocol"] == "HTTP/1.1"
    assert re.match(r"^\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000$", context["requestTime"])


def test_greedy_path_body_and_the_path_form(lamina, proxy_api):
    with client(lamina, proxy_api.id) as http:
        answer = http.post("/dev/a/b/c", content=b'{"x": 1}', headers={"content-type": "application/json"})
        binary = http.post("/dev/upload", content=bytes(range(6)), headers={"content-type": "image/png"})
    event = answer.json()
    assert event["resource"] == "/{proxy+}" and event["pathParameters"] == {"proxy": "a/b/c"}
    assert event["body"] == '{"x": 1}' and event["isBase64Encoded"] is False
    assert binary.json()["isBase64Encoded"] is True
    assert base64.b64decode(binary.json()["body"]) == bytes(range(6))
    import httpx

    with httpx.Client(base_url=lamina.url, timeout=60) as plain:
        by_path = plain.get(f"/_aws/execute-api/{proxy_api.id}/dev/pets/7")
    assert by_path.status_code == 200 and by_path.json()["pathParameters"] == {"id": "7"}


def test_proxy_responses(lamina, proxy_api):
    with client(lamina, proxy_api.id) as http:
        full = http.get("/dev/x?shape=full")
        binary = http.get("/dev/x?shape=binary", headers={"accept": "image/png"})
        as_text = http.get("/dev/x?shape=binary", headers={"accept": "text/plain"})
        malformed = http.get("/dev/x?shape=cookies")
        raised = http.get("/dev/x?shape=raise")
    assert full.status_code == 201 and full.text == "made"
    assert full.headers["x-made"] == "yes" and full.headers.get_list("x-many") == ["1", "2"]
    assert binary.content == bytes(range(8))
    # The response is image/png, which binaryMediaTypes lists: decoded whatever the Accept.
    assert as_text.content == bytes(range(8))
    assert malformed.status_code == 502 and malformed.json() == {"message": "Internal server error"}
    assert raised.status_code == 502 and raised.json() == {"message": "Internal server error"}


def test_unknown_stage_resource_and_method(lamina, proxy_api, apigw, echo, unique_name):
    with client(lamina, proxy_api.id) as http:
        stage = http.get("/nostage/pets/1")
        root = http.get("/dev")
    assert stage.status_code == 403 and stage.json() == {"message": "Forbidden"}
    assert root.status_code == 403 and root.json() == {"message": "Missing Authentication Token"}
    assert root.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    narrow = RestApi(apigw, unique_name + "-narrow")
    narrow.method("/only", "GET", proxy_integration(echo))
    narrow.deploy("prod")
    with client(lamina, narrow.id) as http:
        wrong_method = http.post("/prod/only")
        wrong_path = http.get("/prod/other")
    assert wrong_method.status_code == 403 and wrong_method.json()["message"] == "Missing Authentication Token"
    assert wrong_path.status_code == 403


def test_a_function_without_permission_is_500(lamina, apigw, echo, unique_name):
    api = RestApi(apigw, unique_name)
    api.method("/x", "GET", proxy_integration(echo))
    api.deploy("dev")
    with client(lamina, api.id) as http:
        answer = http.get("/dev/x")
    assert answer.status_code == 500 and answer.json() == {"message": "Internal server error"}


TEMPLATED = """
def handler(event, context):
    if event.get("fail") == "missing":
        raise LookupError("Not Found: pet " + str(event.get("id")))
    if event.get("fail") == "bad":
        raise ValueError("Bad input")
    return {"id": event.get("id"), "name": event.get("name"), "seen": event}
"""

PET_TEMPLATE = """{"pet": "$util.escapeJavaScript($input.path('$.name'))", "id": $input.json('$.id')}"""
REQUEST_TEMPLATE = """#set($body = $input.path('$'))
{
  "id": "$input.params('id')",
  "name": "$util.escapeJavaScript($body.name)",
  "fail": "$input.params('fail')",
  "stage": "$context.stage",
  "color": "$stageVariables.color",
  "headers": {
  #foreach($name in $input.params().header.keySet())
    "$name.toLowerCase()": "ignored"#if($foreach.hasNext),#end
  #end
  },
  "requestId": "$context.requestId",
  "raw": $input.json('$')
}"""


def test_non_proxy_lambda_with_templates_and_error_mapping(lamina, apigw, create_function, lambda_client, unique_name):
    arn = function(create_function, lambda_client, TEMPLATED)
    api = RestApi(apigw, unique_name)
    api.method(
        "/pets/{id}",
        "POST",
        {
            "type": "AWS",
            "integrationHttpMethod": "POST",
            "uri": lambda_uri(arn),
            "requestTemplates": {"application/json": REQUEST_TEMPLATE},
            "passthroughBehavior": "NEVER",
        },
    )
    api.integration_response(
        "/pets/{id}",
        "POST",
        "200",
        responseTemplates={"application/json": PET_TEMPLATE},
        responseParameters={"method.response.header.x-pet": "integration.response.body.name"},
    )
    api.integration_response(
        "/pets/{id}",
        "POST",
        "404",
        selectionPattern="Not Found.*",
        responseTemplates={"application/json": '{"error": "$input.path(\'$.errorMessage\')"}'},
    )
    api.integration_response("/pets/{id}", "POST", "400", selectionPattern="Bad input")
    api.deploy("dev", variables={"color": "green"})
    grant(lambda_client, arn, api.id)
    with client(lamina, api.id) as http:
        ok = http.post("/dev/pets/9", json={"name": 'Rex "the" dog'})
        missing = http.post("/dev/pets/5?fail=missing", json={"name": "x"})
        bad = http.post("/dev/pets/5?fail=bad", json={"name": "x"})
        unsupported = http.post("/dev/pets/5", content=b"a=1", headers={"content-type": "text/plain"})
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"pet": 'Rex "the" dog', "id": "9"}
    assert ok.headers["x-pet"] == 'Rex "the" dog'
    assert ok.headers["content-type"].startswith("application/json")
    assert missing.status_code == 404 and missing.json() == {"error": "Not Found: pet 5"}
    assert bad.status_code == 400
    assert bad.json()["errorMessage"] == "Bad input"  # no template: the function's error passes through
    assert unsupported.status_code == 415 and unsupported.json() == {"message": "Unsupported Media Type"}


def test_non_proxy_passthrough_and_what_the_function_got(lamina, apigw, create_function, lambda_client, unique_name):
    arn = function(create_function, lambda_client, "def handler(event, context):\n    return event\n")
    api = RestApi(apigw, unique_name)
    api.method(
        "/t",
        "POST",
        {
            "type": "AWS",
            "integrationHttpMethod": "POST",
            "uri": lambda_uri(arn),
            "requestTemplates": {"application/json": REQUEST_TEMPLATE.replace("$input.params('id')", "x")},
        },
    )
    api.integration_response("/t", "POST", "200")
    api.deploy("dev", variables={"color": "green"})
    grant(lambda_client, arn, api.id)
    with client(lamina, api.id) as http:
        templated = http.post("/dev/t", json={"name": 'say "hi"'})
        passed = http.post("/dev/t", content=b'{"plain": true}', headers={"content-type": "application/x-thing"})
    got = templated.json()
    assert got["stage"] == "dev" and got["color"] == "green" and got["name"] == 'say "hi"'
    assert got["raw"] == {"name": 'say "hi"'} and got["requestId"] == templated.headers["x-amzn-requestid"]
    assert "content-type" in got["headers"]
    assert json.loads(passed.content) == {"plain": True}  # WHEN_NO_MATCH: the body as it came
