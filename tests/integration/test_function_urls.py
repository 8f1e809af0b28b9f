"""Lambda function URLs: the control plane (Create/Get/Update/Delete/ListFunctionUrlConfig(s)
with AWS's errors, the URL going with its alias or function) and the data plane over real
HTTP: AWS's event (checked against Powertools' LambdaFunctionUrlModel), the response as AWS
reads it, AuthType NONE needing the function's policy, AWS_IAM needing a SigV4 signature
and permission, CORS answered by the URL itself, errors as AWS's."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from aws_lambda_powertools.utilities.parser.models import LambdaFunctionUrlModel
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.conftest import ROLE, make_zip

ECHO = """
import base64, json

def handler(event, context):
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(event)}
"""

RESPONSES = """
import base64, json

def handler(event, context):
    kind = (event.get("queryStringParameters") or {}).get("kind")
    if kind == "plain":
        return {"hello": "world"}
    if kind == "string":
        return "Hello, world!"
    if kind == "custom":
        return {
            "statusCode": 201,
            "headers": {"My-Custom-Header": "Custom Value"},
            "cookies": ["a=1; Max-Age=60", "b=2"],
            "body": "created",
        }
    if kind == "binary":
        return {"statusCode": 200, "headers": {"content-type": "image/png"},
                "body": base64.b64encode(bytes(range(256))).decode(), "isBase64Encoded": True}
    if kind == "fail":
        raise ValueError("nope")
    return None
"""


def _public(lambda_client, name: str, qualifier: str | None = None, both: bool = True) -> None:
    """AWS's public access: everyone may lambda:InvokeFunctionUrl (FunctionUrlAuthType NONE)
    and, since October 2025, lambda:InvokeFunction through the URL."""
    extra = {"Qualifier": qualifier} if qualifier else {}
    lambda_client.add_permission(
        FunctionName=name,
        StatementId="FunctionURLAllowPublicAccess",
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        FunctionUrlAuthType="NONE",
        **extra,
    )
    if both:
        lambda_client.add_permission(
            FunctionName=name,
            StatementId="FunctionURLInvokeAllowPublicAccess",
            Action="lambda:InvokeFunction",
            Principal="*",
            InvokedViaFunctionUrl=True,
            **extra,
        )


def _client(lamina, url: str) -> httpx.Client:
    """An HTTP client for a function URL: *.localhost may not resolve here, so requests go
    to 127.0.0.1 with the URL's Host."""
    host = url.split("//", 1)[1].rstrip("/")
    return httpx.Client(base_url=lamina.url, headers={"Host": host}, timeout=60)


@pytest.fixture
def url_function(lambda_client, create_function, unique_name):
    """url_function(code=..., auth="NONE", public=True, **url_config) -> (name, FunctionUrl)."""

    def make(code: str = ECHO, auth: str = "NONE", public: bool = True, **config):
        create_function(code={"app.py": code}, Timeout=30)
        url = lambda_client.create_function_url_config(FunctionName=unique_name, AuthType=auth, **config)
        if public and auth == "NONE":
            _public(lambda_client, unique_name)
        return unique_name, url["FunctionUrl"]

    return make


# --- the control plane --------------------------------------------------------------------


def test_url_config_lifecycle(lambda_client, create_function, unique_name, lamina):
    arn = create_function()["FunctionArn"]
    created = lambda_client.create_function_url_config(
        FunctionName=unique_name,
        AuthType="AWS_IAM",
        Cors={"AllowOrigins": ["https://example.com"], "AllowMethods": ["GET"], "MaxAge": 60},
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["FunctionArn"] == arn
    assert created["AuthType"] == "AWS_IAM"
    assert created["InvokeMode"] == "BUFFERED"
    assert created["Cors"]["AllowOrigins"] == ["https://example.com"]
    url_id = created["FunctionUrl"].split("//", 1)[1].split(".", 1)[0]
    assert len(url_id) == 32 and url_id.isalnum() and url_id == url_id.lower()
    assert created["FunctionUrl"] == f"http://{url_id}.lambda-url.us-east-1.localhost:{lamina.port}/"

    got = lambda_client.get_function_url_config(FunctionName=unique_name)
    assert got["FunctionUrl"] == created["FunctionUrl"]
    assert "LastModifiedTime" in got

    with pytest.raises(ClientError) as error:
        lambda_client.create_function_url_config(FunctionName=unique_name, AuthType="NONE")
    assert error.value.response["Error"]["Code"] == "ResourceConflictException"
    assert error.value.response["Error"]["Message"] == (
        f"Failed to create function url config for [functionArn = {arn}]. "
        "Error message:  FunctionUrlConfig exists for this Lambda function"
    )

    updated = lambda_client.update_function_url_config(
        FunctionName=unique_name, AuthType="NONE", InvokeMode="RESPONSE_STREAM"
    )
    assert updated["AuthType"] == "NONE"
    assert updated["InvokeMode"] == "RESPONSE_STREAM"
    assert updated["FunctionUrl"] == created["FunctionUrl"]

    listed = lambda_client.list_function_url_configs(FunctionName=unique_name)["FunctionUrlConfigs"]
    assert [c["FunctionUrl"] for c in listed] == [created["FunctionUrl"]]

    lambda_client.delete_function_url_config(FunctionName=unique_name)
    with pytest.raises(ClientError) as error:
        lambda_client.get_function_url_config(FunctionName=unique_name)
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert error.value.response["Error"]["Message"] == "The resource you requested does not exist."
    assert lambda_client.list_function_url_configs(FunctionName=unique_name)["FunctionUrlConfigs"] == []


def test_qualifiers_are_aliases_only(lambda_client, create_function, unique_name):
    create_function(Publish=True)
    for qualifier in ("$LATEST", "1"):
        with pytest.raises(ClientError) as error:
            lambda_client.create_function_url_config(FunctionName=unique_name, AuthType="NONE", Qualifier=qualifier)
        assert error.value.response["Error"]["Code"] == "ValidationException"
        assert (
            f"Value '{qualifier}' at 'qualifier' failed to satisfy constraint"
            in error.value.response["Error"]["Message"]
        )
    with pytest.raises(ClientError) as error:
        lambda_client.create_function_url_config(FunctionName=unique_name, AuthType="NONE", Qualifier="nope")
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"

    lambda_client.create_alias(FunctionName=unique_name, Name="live", FunctionVersion="1")
    alias_url = lambda_client.create_function_url_config(FunctionName=unique_name, AuthType="NONE", Qualifier="live")
    assert alias_url["FunctionArn"].endswith(f":function:{unique_name}:live")
    plain = lambda_client.create_function_url_config(FunctionName=unique_name, AuthType="NONE")
    assert plain["FunctionUrl"] != alias_url["FunctionUrl"]
    assert len(lambda_client.list_function_url_configs(FunctionName=unique_name)["FunctionUrlConfigs"]) == 2

    lambda_client.delete_alias(FunctionName=unique_name, Name="live")  # its URL goes with it
    listed = lambda_client.list_function_url_configs(FunctionName=unique_name)["FunctionUrlConfigs"]
    assert [c["FunctionUrl"] for c in listed] == [plain["FunctionUrl"]]


def test_unknown_function_and_bad_values(lambda_client, create_function, unique_name):
    with pytest.raises(ClientError) as error:
        lambda_client.create_function_url_config(FunctionName="no-such-function-here", AuthType="NONE")
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"
    create_function()
    with pytest.raises(ClientError) as error:
        lambda_client.create_function_url_config(FunctionName=unique_name, AuthType="SOMETIMES")
    assert error.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as error:
        lambda_client.create_function_url_config(
            FunctionName=unique_name, AuthType="NONE", Cors={"AllowMethods": ["FETCH"]}
        )
    assert error.value.response["Error"]["Code"] == "InvalidParameterValueException"


def test_url_permission_statements(lambda_client, create_function, unique_name):
    create_function()
    _public(lambda_client, unique_name)
    statements = json.loads(lambda_client.get_policy(FunctionName=unique_name)["Policy"])["Statement"]
    by_sid = {s["Sid"]: s for s in statements}
    assert by_sid["FunctionURLAllowPublicAccess"]["Condition"] == {
        "StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}
    }
    assert by_sid["FunctionURLInvokeAllowPublicAccess"]["Action"] == "lambda:InvokeFunction"
    assert by_sid["FunctionURLInvokeAllowPublicAccess"]["Condition"] == {
        "Bool": {"lambda:InvokedViaFunctionUrl": "true"}
    }


def test_the_url_goes_with_its_function(lambda_client, lamina, url_function):
    name, url = url_function()
    with _client(lamina, url) as http:
        assert http.get("/").status_code == 200
        lambda_client.delete_function(FunctionName=name)
        gone = http.get("/")
    assert gone.status_code == 403
    assert gone.json() == {"Message": None}


# --- the data plane -----------------------------------------------------------------------


def test_the_event_is_aws_function_url_event(lamina, url_function):
    name, url = url_function()
    url_id = url.split("//", 1)[1].split(".", 1)[0]
    with _client(lamina, url) as http:
        response = http.post(
            "/some/path",
            params=[("a", "1"), ("a", "2"), ("b", "x y")],
            headers={"content-type": "application/json", "cookie": "c1=v1; c2=v2", "user-agent": "tests/1"},
            content=b'{"hello": "world"}',
        )
    assert response.status_code == 200, response.text
    event = response.json()
    LambdaFunctionUrlModel(**event)  # Powertools' model of AWS's event
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/some/path"
    assert event["rawQueryString"] == "a=1&a=2&b=x+y"
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x y"}
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["content-type"] == "application/json"
    assert event["body"] == '{"hello": "world"}'
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["accountId"] == "anonymous"
    assert context["apiId"] == url_id
    assert context["domainPrefix"] == url_id
    assert context["domainName"] == f"{url_id}.lambda-url.us-east-1.localhost"
    assert context["http"] == {
        "method": "POST",
        "path": "/some/path",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "tests/1",
    }
    assert context["stage"] == "$default" and context["routeKey"] == "$default"
    assert response.headers["x-amzn-requestid"] == context["requestId"]

    with _client(lamina, url) as http:
        binary = http.put("/", content=bytes(range(256)), headers={"content-type": "application/octet-stream"})
    event = binary.json()
    LambdaFunctionUrlModel(**event)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == bytes(range(256))
    assert "queryStringParameters" not in event


def test_responses_as_aws_reads_them(lamina, url_function):
    _, url = url_function(RESPONSES)
    with _client(lamina, url) as http:
        plain = http.get("/", params={"kind": "plain"})
        assert plain.status_code == 200
        assert plain.headers["content-type"] == "application/json"
        assert plain.json() == {"hello": "world"}

        string = http.get("/", params={"kind": "string"})
        assert string.status_code == 200 and string.text == '"Hello, world!"'

        custom = http.get("/", params={"kind": "custom"})
        assert custom.status_code == 201
        assert custom.text == "created"
        assert custom.headers["my-custom-header"] == "Custom Value"
        assert custom.headers.get_list("set-cookie") == ["a=1; Max-Age=60", "b=2"]

        binary = http.get("/", params={"kind": "binary"})
        assert binary.status_code == 200
        assert binary.headers["content-type"] == "image/png"
        assert binary.content == bytes(range(256))

        failed = http.get("/", params={"kind": "fail"})
        assert failed.status_code == 502
        assert failed.text == "Internal Server Error"

        nothing = http.get("/")
        assert nothing.status_code == 200 and nothing.text == "null"


def test_none_needs_the_functions_policy(lambda_client, lamina, url_function):
    name, url = url_function(public=False)
    with _client(lamina, url) as http:
        refused = http.get("/")
        assert refused.status_code == 403
        assert refused.json() == {"Message": "Forbidden"}
        _public(lambda_client, name, both=False)  # the old single statement is no longer enough
        assert http.get("/").status_code == 403
        lambda_client.add_permission(
            FunctionName=name,
            StatementId="FunctionURLInvokeAllowPublicAccess",
            Action="lambda:InvokeFunction",
            Principal="*",
            InvokedViaFunctionUrl=True,
        )
        assert http.get("/").status_code == 200


def test_unknown_url(lamina):
    with httpx.Client(base_url=lamina.url, headers={"Host": f"{'x' * 32}.lambda-url.us-east-1.localhost"}) as http:
        response = http.get("/")
    assert response.status_code == 403
    assert response.json() == {"Message": None}
    assert response.headers["x-amzn-errortype"] == "AccessDeniedException"


def test_cors_is_the_urls_own(lambda_client, lamina, url_function):
    cors = {
        "AllowOrigins": ["https://app.example.com"],
        "AllowMethods": ["GET", "POST"],
        "AllowHeaders": ["X-Custom"],
        "ExposeHeaders": ["X-Exposed"],
        "MaxAge": 300,
        "AllowCredentials": True,
    }
    _, url = url_function(RESPONSES, Cors=cors)
    with _client(lamina, url) as http:
        preflight = http.options(
            "/",
            headers={
                "origin": "https://app.example.com",
                "access-control-request-method": "POST",
                "access-control-request-headers": "x-custom",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://app.example.com"
        assert preflight.headers["access-control-allow-methods"] == "GET,POST"
        assert preflight.headers["access-control-allow-headers"] == "x-custom"
        assert preflight.headers["access-control-max-age"] == "300"
        assert preflight.headers["access-control-allow-credentials"] == "true"
        assert preflight.text == ""  # answered by the URL: the function returns "null"

        other = http.options("/", headers={"origin": "https://evil.example", "access-control-request-method": "GET"})
        assert "access-control-allow-origin" not in other.headers

        actual = http.get("/", params={"kind": "plain"}, headers={"origin": "https://app.example.com"})
        assert actual.headers["access-control-allow-origin"] == "https://app.example.com"
        assert actual.headers["access-control-expose-headers"] == "x-exposed"
        assert actual.json() == {"hello": "world"}


def _signed(lamina, url: str, method: str = "GET", path: str = "/", body: bytes = b"", key: str = "test"):
    host = url.split("//", 1)[1].rstrip("/")
    request = AWSRequest(method=method, url=f"http://{host}{path}", data=body, headers={"host": host})
    SigV4Auth(Credentials(key, "test"), "lambda", "us-east-1").add_auth(request)
    headers = dict(request.headers.items())
    return httpx.request(method, f"{lamina.url}{path}", headers=headers, content=body, timeout=60)


def test_aws_iam_wants_a_signature(lamina, url_function):
    _, url = url_function(auth="AWS_IAM")
    with _client(lamina, url) as http:
        unsigned = http.get("/")
    assert unsigned.status_code == 403
    assert unsigned.json() == {"Message": "Forbidden"}

    signed = _signed(lamina, url, "POST", "/x?y=1", b'{"a": 1}')
    assert signed.status_code == 200, signed.text
    event = signed.json()
    LambdaFunctionUrlModel(**event)
    context = event["requestContext"]
    assert context["accountId"] == "000000000000"
    iam = context["authorizer"]["iam"]
    assert iam["accessKey"] == "test"
    assert iam["accountId"] == "000000000000"
    assert iam["userArn"] == "arn:aws:iam::000000000000:root"

    tampered = _signed(lamina, url)
    request = tampered.request
    forged = httpx.get(f"{lamina.url}/other", headers=dict(request.headers), timeout=60)
    assert forged.status_code == 403


def test_aws_iam_asks_the_callers_policies(lamina, url_function):
    """An IAM user of the function's account needs lambda:InvokeFunctionUrl and
    lambda:InvokeFunction (with lambda:InvokedViaFunctionUrl) in its policies."""
    name, url = url_function(auth="AWS_IAM")
    iam = lamina.client("iam")
    user = f"{name}-caller"[:60]
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]

    def call() -> int:
        host = url.split("//", 1)[1].rstrip("/")
        request = AWSRequest(method="GET", url=f"http://{host}/", data=b"", headers={"host": host})
        SigV4Auth(Credentials(key["AccessKeyId"], key["SecretAccessKey"]), "lambda", "us-east-1").add_auth(request)
        return httpx.get(f"{lamina.url}/", headers=dict(request.headers.items()), timeout=60).status_code

    assert call() == 403
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunctionUrl", "Resource": arn}],
    }
    iam.put_user_policy(UserName=user, PolicyName="url", PolicyDocument=json.dumps(policy))
    assert call() == 403  # lambda:InvokeFunction too, since October 2025
    policy["Statement"].append(
        {
            "Effect": "Allow",
            "Action": "lambda:InvokeFunction",
            "Resource": arn,
            "Condition": {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}},
        }
    )
    iam.put_user_policy(UserName=user, PolicyName="url", PolicyDocument=json.dumps(policy))
    assert call() == 200


def test_response_stream_mode_with_a_python_function(lamina, url_function):
    """Python answers in one piece: a RESPONSE_STREAM URL hands its result on as it is."""
    _, url = url_function(RESPONSES, InvokeMode="RESPONSE_STREAM")
    with _client(lamina, url) as http:
        response = http.get("/", params={"kind": "plain"})
        assert response.status_code == 200
        assert response.json() == {"hello": "world"}
        assert http.get("/", params={"kind": "fail"}).status_code == 502


def test_alias_url_invokes_the_alias(lambda_client, lamina, create_function, unique_name):
    create_function(
        code={"app.py": "def handler(event, context):\n    return {'arn': context.invoked_function_arn}\n"},
        Publish=True,
    )
    lambda_client.create_alias(FunctionName=unique_name, Name="live", FunctionVersion="1")
    url = lambda_client.create_function_url_config(FunctionName=unique_name, AuthType="NONE", Qualifier="live")
    _public(lambda_client, unique_name, qualifier="live")
    with _client(lamina, url["FunctionUrl"]) as http:
        response = http.get("/")
    assert response.status_code == 200, response.text
    assert response.json()["arn"].endswith(f":function:{unique_name}:live")


def test_throttled_and_too_large(lambda_client, lamina, url_function):
    name, url = url_function()
    with _client(lamina, url) as http:
        too_large = http.post("/", content=b"x" * (6 * 1024 * 1024 + 1), headers={"content-type": "text/plain"})
        assert too_large.status_code == 413
        assert too_large.headers["x-amzn-errortype"] == "RequestTooLargeException"
        lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
        throttled = http.get("/")
        assert throttled.status_code == 429
        assert throttled.headers["x-amzn-errortype"] == "TooManyRequestsException"
        lambda_client.delete_function_concurrency(FunctionName=name)
        assert http.get("/").status_code == 200


def test_urls_survive_a_restart(lamina_factory):
    server = lamina_factory()
    client = server.client()
    client.create_function(
        FunctionName="survivor",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": "def handler(event, context):\n    return {'ok': True}\n"})},
    )
    url = client.create_function_url_config(FunctionName="survivor", AuthType="NONE")["FunctionUrl"]
    _public(client, "survivor")
    server.restart()
    client = server.client()
    assert client.get_function_url_config(FunctionName="survivor")["FunctionUrl"] == url
    with _client(server, url) as http:
        response = http.get("/")
    assert response.status_code == 200, response.text
    assert response.json() == {"ok": True}


def test_urls_through_front_processes(lamina_factory):
    """With LAMINA_HTTP_WORKERS, a front takes the request and the core invokes."""
    server = lamina_factory(LAMINA_HTTP_WORKERS="2")
    client = server.client()
    client.create_function(
        FunctionName="fronted",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": ECHO})},
    )
    url = client.create_function_url_config(FunctionName="fronted", AuthType="AWS_IAM")["FunctionUrl"]
    signed = _signed(server, url, "POST", "/through?front=1", b"hi")
    assert signed.status_code == 200, signed.text
    event = signed.json()
    assert event["rawPath"] == "/through"
    assert base64.b64decode(event["body"]) == b"hi"  # no content type: binary, as on AWS
    assert event["requestContext"]["authorizer"]["iam"]["accountId"] == "000000000000"
