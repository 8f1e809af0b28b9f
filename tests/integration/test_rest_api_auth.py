"""REST APIs' authorization on a live server: TOKEN and REQUEST Lambda authorizers (the events
checked against powertools' models, allow, deny, "Unauthorized", the identity validation
expression, results cached per token and flushed), COGNITO_USER_POOLS (no Cognito: AWS's
configuration error), API keys with usage plans (a missing or unknown key, the plan's throttle
and quota, usage read back with GetUsage), and the resource policy."""

from __future__ import annotations

import datetime
import json

import pytest
from aws_lambda_powertools.utilities.parser.models import (
    ApiGatewayAuthorizerRequest,
    ApiGatewayAuthorizerToken,
    APIGatewayProxyEventModel,
)

from tests.integration.test_rest_api_support import (
    ACCOUNT,
    ECHO,
    REGION,
    RestApi,
    client,
    function,
    grant,
    lambda_uri,
    proxy_integration,
)

# Allows "allow*" tokens, denies "deny", raises Unauthorized otherwise; counts its calls in
# the context so the tests see whether an answer was cached.
AUTHORIZER = """
import json
calls = {"n": 0}

def handler(event, context):
    calls["n"] += 1
    token = event.get("authorizationToken") or (event.get("headers") or {}).get("x-token", "")
    if event["type"] == "REQUEST":
        token = (event.get("queryStringParameters") or {}).get("token", token)
    if token == "broken":
        return {"policy": "none"}
    if not (token.startswith("allow") or token == "deny"):
        raise Exception("Unauthorized")
    effect = "Deny" if token == "deny" else "Allow"
    arn = event["methodArn"]
    base = arn.split("/", 1)[0]
    return {
        "principalId": "user-" + token,
        "policyDocument": {"Version": "2012-10-17",
                           "Statement": [{"Action": "execute-api:Invoke", "Effect": effect,
                                          "Resource": base + "/*/GET/*"}]},
        "context": {"calls": calls["n"], "admin": True, "event": json.dumps(event)},
        "usageIdentifierKey": "usage-key-from-authorizer-12345",
    }
"""


@pytest.fixture
def apigw(lamina):
    return lamina.client("apigateway")


@pytest.fixture
def functions(create_function, lambda_client, unique_name):
    echo = function(create_function, lambda_client, ECHO, name=unique_name + "-echo")
    authorizer = function(create_function, lambda_client, AUTHORIZER, name=unique_name + "-auth")
    return echo, authorizer


def authorized_api(apigw, lambda_client, name, echo, authorizer_arn, **authorizer):
    api = RestApi(apigw, name)
    made = apigw.create_authorizer(
        restApiId=api.id, name="auth", authorizerUri=lambda_uri(authorizer_arn), **authorizer
    )
    for verb in ("GET", "POST"):
        api.method("/things/{id}", verb, proxy_integration(echo), authorization="CUSTOM", authorizerId=made["id"])
    api.deploy("dev")
    grant(lambda_client, echo, api.id)
    grant(lambda_client, authorizer_arn, api.id)
    return api, made["id"]


def test_token_authorizer(lamina, apigw, lambda_client, functions, unique_name):
    echo, authorizer = functions
    api, authorizer_id = authorized_api(
        apigw,
        lambda_client,
        unique_name,
        echo,
        authorizer,
        type="TOKEN",
        identitySource="method.request.header.Authorization",
        identityValidationExpression="^(allow|deny|broken|nope).*",
    )
    with client(lamina, api.id) as http:
        missing = http.get("/dev/things/1")
        invalid = http.get("/dev/things/1", headers={"authorization": "other"})
        allowed = http.get("/dev/things/1", headers={"authorization": "allow-1"})
        again = http.get("/dev/things/2", headers={"authorization": "allow-1"})
        denied_post = http.post("/dev/things/2", headers={"authorization": "allow-1"})
        denied = http.get("/dev/things/1", headers={"authorization": "deny"})
        unauthorized = http.get("/dev/things/1", headers={"authorization": "nope"})
        broken = http.get("/dev/things/1", headers={"authorization": "broken"})
    assert missing.status_code == 401 and missing.json() == {"message": "Unauthorized"}
    assert invalid.status_code == 401
    assert allowed.status_code == 200, allowed.text
    event = allowed.json()
    APIGatewayProxyEventModel(**event)
    context = event["requestContext"]["authorizer"]
    assert context["principalId"] == "user-allow-1" and context["admin"] == "true"
    token_event = json.loads(context["event"])
    ApiGatewayAuthorizerToken(**token_event)
    assert token_event == {
        "type": "TOKEN",
        "authorizationToken": "allow-1",
        "methodArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api.id}/dev/GET/things/1",
    }
    # Kept 300 s by token: the second call did not run the authorizer, and its policy (GET
    # only) is evaluated again for the POST.
    assert again.json()["requestContext"]["authorizer"]["calls"] == context["calls"]
    assert denied_post.status_code == 403
    assert denied_post.json() == {"message": "User is not authorized to access this resource"}
    assert denied.status_code == 403
    assert denied.json() == {"message": "User is not authorized to access this resource with an explicit deny"}
    assert unauthorized.status_code == 401 and unauthorized.json() == {"message": "Unauthorized"}
    assert broken.status_code == 500 and broken.json() == {"message": None}
    assert broken.headers["x-amzn-errortype"] == "AuthorizerConfigurationException"
    apigw.flush_stage_authorizers_cache(restApiId=api.id, stageName="dev")
    with client(lamina, api.id) as http:
        fresh = http.get("/dev/things/3", headers={"authorization": "allow-1"})
    assert fresh.json()["requestContext"]["authorizer"]["calls"] != context["calls"]


def test_request_authorizer(lamina, apigw, lambda_client, functions, unique_name):
    echo, authorizer = functions
    api, _ = authorized_api(
        apigw,
        lambda_client,
        unique_name,
        echo,
        authorizer,
        type="REQUEST",
        identitySource="method.request.querystring.token, method.request.header.x-token",
        authorizerResultTtlInSeconds=0,
    )
    with client(lamina, api.id) as http:
        allowed = http.get("/dev/things/5?token=allow-q", headers={"x-token": "t"})
        second = http.get("/dev/things/5?token=allow-q", headers={"x-token": "t"})
        denied = http.get("/dev/things/5?token=deny", headers={"x-token": "t"})
    assert allowed.status_code == 200, allowed.text
    context = allowed.json()["requestContext"]["authorizer"]
    request_event = json.loads(context["event"])
    ApiGatewayAuthorizerRequest(**request_event)
    assert request_event["type"] == "REQUEST" and request_event["resource"] == "/things/{id}"
    assert request_event["pathParameters"] == {"id": "5"} and request_event["queryStringParameters"] == {
        "token": "allow-q"
    }
    assert request_event["methodArn"].endswith(f"{api.id}/dev/GET/things/5")
    # TTL 0: every call asks the authorizer.
    assert second.json()["requestContext"]["authorizer"]["calls"] != context["calls"]
    assert denied.status_code == 403


def test_cognito_authorizer_is_a_configuration_error(lamina, apigw, functions, unique_name):
    echo, _ = functions
    api = RestApi(apigw, unique_name)
    made = apigw.create_authorizer(
        restApiId=api.id,
        name="pool",
        type="COGNITO_USER_POOLS",
        providerARNs=[f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{REGION}_abc"],
        identitySource="method.request.header.Authorization",
    )
    api.method("/x", "GET", proxy_integration(echo), authorization="COGNITO_USER_POOLS", authorizerId=made["id"])
    api.deploy("dev")
    with client(lamina, api.id) as http:
        without = http.get("/dev/x")
        with_token = http.get("/dev/x", headers={"authorization": "eyJ..."})
    assert without.status_code == 401
    assert with_token.status_code == 500 and with_token.json() == {"message": None}


def keyed_api(apigw, lambda_client, name, echo, **plan):
    api = RestApi(apigw, name)
    api.method("/k", "GET", proxy_integration(echo), apiKeyRequired=True)
    api.deploy("dev")
    grant(lambda_client, echo, api.id)
    key = apigw.create_api_key(name=name, enabled=True, value=f"{name}-key-value-0123456789")
    made = apigw.create_usage_plan(name=name, apiStages=[{"apiId": api.id, "stage": "dev"}], **plan)
    apigw.create_usage_plan_key(usagePlanId=made["id"], keyId=key["id"], keyType="API_KEY")
    return api, key, made["id"]


def test_api_keys_and_quota(lamina, apigw, lambda_client, functions, unique_name):
    echo, _ = functions
    api, key, plan_id = keyed_api(apigw, lambda_client, unique_name, echo, quota={"limit": 2, "period": "DAY"})
    other = apigw.create_api_key(name=unique_name + "-other", enabled=True, value=f"{unique_name}-other-0123456789")
    disabled = apigw.create_api_key(name=unique_name + "-off", enabled=False, value=f"{unique_name}-off-0123456789")
    with client(lamina, api.id) as http:
        missing = http.get("/dev/k")
        unknown = http.get("/dev/k", headers={"x-api-key": "no-such-key-0123456789"})
        not_in_plan = http.get("/dev/k", headers={"x-api-key": other["value"]})
        off = http.get("/dev/k", headers={"x-api-key": disabled["value"]})
        first = http.get("/dev/k", headers={"x-api-key": key["value"]})
        second = http.get("/dev/k", headers={"x-api-key": key["value"]})
        third = http.get("/dev/k", headers={"x-api-key": key["value"]})
    for refused in (missing, unknown, not_in_plan, off):
        assert refused.status_code == 403 and refused.json() == {"message": "Forbidden"}
    assert first.status_code == 200 and second.status_code == 200
    identity = first.json()["requestContext"]["identity"]
    assert identity["apiKey"] == key["value"] and identity["apiKeyId"] == key["id"]
    assert third.status_code == 429 and third.json() == {"message": "Limit Exceeded"}
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    usage = apigw.get_usage(usagePlanId=plan_id, keyId=key["id"], startDate=today, endDate=today)
    assert usage["items"][key["id"]][0][0] == 2


def test_usage_plan_throttle(lamina, apigw, lambda_client, functions, unique_name):
    echo, _ = functions
    api, key, _ = keyed_api(apigw, lambda_client, unique_name, echo, throttle={"burstLimit": 1, "rateLimit": 0.001})
    with client(lamina, api.id) as http:
        answers = [http.get("/dev/k", headers={"x-api-key": key["value"]}) for _ in range(3)]
    assert answers[0].status_code == 200
    assert [a.status_code for a in answers[1:]] == [429, 429]
    assert answers[1].json() == {"message": "Too Many Requests"}


def test_stage_method_throttling(lamina, apigw, lambda_client, functions, unique_name):
    echo, _ = functions
    api = RestApi(apigw, unique_name)
    api.method("/t", "GET", proxy_integration(echo))
    api.deploy("dev")
    grant(lambda_client, echo, api.id)
    apigw.update_stage(
        restApiId=api.id,
        stageName="dev",
        patchOperations=[
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "1"},
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "0.001"},
        ],
    )
    with client(lamina, api.id) as http:
        codes = [http.get("/dev/t").status_code for _ in range(3)]
    assert codes == [200, 429, 429]


def test_resource_policy(lamina, apigw, lambda_client, functions, unique_name):
    echo, _ = functions
    arn_base = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:*"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": f"{arn_base}/*"},
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "execute-api:Invoke",
                "Resource": f"{arn_base}/*/GET/private/*",
            },
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "execute-api:Invoke",
                "Resource": f"{arn_base}/*/GET/local",
                "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}},
            },
        ],
    }
    api = RestApi(apigw, unique_name, policy=json.dumps(policy))
    for path in ("/open", "/private/{id}", "/local"):
        api.method(path, "GET", proxy_integration(echo))
    api.deploy("dev")
    grant(lambda_client, echo, api.id)
    with client(lamina, api.id) as http:
        opened = http.get("/dev/open")
        private = http.get("/dev/private/1")
        local = http.get("/dev/local")
    assert opened.status_code == 200
    assert private.status_code == 403
    assert private.json() == {
        "message": "User: anonymous is not authorized to perform: execute-api:Invoke on resource: "
        f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api.id}/dev/GET/private/1 with an explicit deny"
    }
    assert local.status_code == 403


def signed_get(lamina, api_id: str, path: str, credentials: tuple[str, str]):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    host = f"{api_id}.execute-api.localhost:{lamina.port}"
    request = AWSRequest(method="GET", url=f"http://{host}{path}", headers={"host": host})
    SigV4Auth(Credentials(*credentials), "execute-api", REGION).add_auth(request)
    with client(lamina, api_id) as http:
        return http.get(path, headers=dict(request.headers))


def test_aws_iam_methods(lamina, apigw, lambda_client, functions, unique_name):
    echo, _ = functions
    api = RestApi(apigw, unique_name)
    api.method("/iam", "GET", proxy_integration(echo), authorization="AWS_IAM")
    api.deploy("dev")
    grant(lambda_client, echo, api.id)
    iam = lamina.client("iam")
    user = unique_name[:60]
    user_arn = iam.create_user(UserName=user)["User"]["Arn"]
    key = iam.create_access_key(UserName=user)["AccessKey"]
    with client(lamina, api.id) as http:
        unsigned = http.get("/dev/iam")
    by_root = signed_get(lamina, api.id, "/dev/iam", ("test", "test"))
    by_user = signed_get(lamina, api.id, "/dev/iam", (key["AccessKeyId"], key["SecretAccessKey"]))
    assert unsigned.status_code == 403 and unsigned.json() == {"message": "Missing Authentication Token"}
    assert by_root.status_code == 200, by_root.text
    assert by_root.json()["requestContext"]["identity"]["accessKey"] == "test"
    assert by_user.status_code == 403
    assert by_user.json() == {
        "message": f"User: {user_arn} is not authorized to perform: execute-api:Invoke on resource: "
        f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api.id}/dev/GET/iam"
    }
