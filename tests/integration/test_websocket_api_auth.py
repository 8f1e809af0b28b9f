"""Who may connect to a WebSocket API: a Lambda REQUEST authorizer on $connect (its identity
source, its policy, its context in later events), AWS_IAM (a SigV4-presigned handshake, the
signer's execute-api:Invoke), a required API key."""

from __future__ import annotations

import json

import pytest
import websockets
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.conftest import allow_service

from .test_websocket_api_basics import APIGATEWAY, HANDLER, connect, run, url

AUTHORIZER = """
def handler(event, context):
    token = (event.get("queryStringParameters") or {}).get("token")
    if token == "boom":
        raise Exception("not today")
    effect = "Allow" if token == "good" else "Deny"
    statement = {"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}
    return {
        "principalId": f"user-{token}",
        "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
        "context": {"team": "blue", "level": 3, "arn": event["methodArn"]},
    }
"""


@pytest.fixture
def apigw(lamina):
    return lamina.client("apigatewayv2")


def _function(create_function, lambda_client, queue, code: str, name: str | None = None) -> str:
    queue_url, _ = queue("-auth" if name else "")
    made = create_function(
        code={"app.py": code}, Environment={"Variables": {"QUEUE": queue_url}}, name=name, Timeout=30
    )
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=made["FunctionName"])
    return made["FunctionArn"]


def _invocation(function_arn: str) -> str:
    return f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{function_arn}/invocations"


def _api(apigw, lambda_client, function_arn: str, name: str, **connect_route) -> str:
    api_id = apigw.create_api(Name=name, ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")[
        "ApiId"
    ]
    integration = apigw.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=_invocation(function_arn)
    )
    target = f"integrations/{integration['IntegrationId']}"
    authorizer_arn = connect_route.pop("authorizer_arn", None)
    if authorizer_arn:
        authorizer = apigw.create_authorizer(
            ApiId=api_id,
            AuthorizerType="REQUEST",
            Name="tokens",
            AuthorizerUri=_invocation(authorizer_arn),
            IdentitySource=["route.request.querystring.token"],
        )
        connect_route.update(AuthorizationType="CUSTOM", AuthorizerId=authorizer["AuthorizerId"])
        allow_service(
            lambda_client, authorizer_arn, APIGATEWAY, f"arn:aws:execute-api:us-east-1:000000000000:{api_id}/*"
        )
    apigw.create_route(ApiId=api_id, RouteKey="$connect", Target=target, **connect_route)
    route = apigw.create_route(ApiId=api_id, RouteKey="$default", Target=target)
    apigw.create_route_response(ApiId=api_id, RouteId=route["RouteId"], RouteResponseKey="$default")
    apigw.create_stage(ApiId=api_id, StageName="prod", AutoDeploy=True)
    allow_service(lambda_client, function_arn, APIGATEWAY, f"arn:aws:execute-api:us-east-1:000000000000:{api_id}/*")
    return api_id


def _refusal(lamina, api_id: str, target: str | None = None, **more) -> int:
    async def attempt():
        with pytest.raises(websockets.InvalidStatus) as refused:
            if target is None:
                async with connect(lamina, api_id, **more):
                    pass
            else:
                async with websockets.connect(target, host="127.0.0.1", open_timeout=60):
                    pass
        return refused.value.response.status_code

    return run(attempt())


def test_a_request_authorizer_allows_denies_and_passes_its_context(
    lamina, apigw, lambda_client, create_function, queue, unique_name
):
    handler = _function(create_function, lambda_client, queue, HANDLER)
    authorizer = _function(create_function, lambda_client, queue, AUTHORIZER, name=f"{unique_name}-auth")
    api_id = _api(apigw, lambda_client, handler, unique_name, authorizer_arn=authorizer)

    async def allowed():
        async with connect(lamina, api_id, query="?token=good") as ws:
            await ws.send(json.dumps({"action": "whoami"}))
            return json.loads(await ws.recv())

    context = run(allowed())  # what the function saw as requestContext.authorizer
    assert context["principalId"] == "user-good"
    assert context["team"] == "blue" and context["level"] == 3
    assert context["arn"] == f"arn:aws:execute-api:us-east-1:000000000000:{api_id}/prod/$connect"
    assert isinstance(context["integrationLatency"], int)
    assert _refusal(lamina, api_id, query="?token=bad") == 403
    assert _refusal(lamina, api_id) == 401  # no identity source: the authorizer is not called
    assert _refusal(lamina, api_id, query="?token=boom") == 500


def test_aws_iam_on_connect_wants_a_signed_handshake_allowed_to_invoke(
    lamina, apigw, lambda_client, create_function, queue, unique_name
):
    handler = _function(create_function, lambda_client, queue, HANDLER)
    api_id = _api(apigw, lambda_client, handler, unique_name, AuthorizationType="AWS_IAM")
    iam = lamina.client("iam")
    iam.create_user(UserName=unique_name)
    key = iam.create_access_key(UserName=unique_name)["AccessKey"]

    def presigned(access_key: str, secret: str) -> str:
        request = AWSRequest(method="GET", url=url(lamina, api_id))
        SigV4QueryAuth(Credentials(access_key, secret), "execute-api", "us-east-1", expires=300).add_auth(request)
        return request.url

    async def connected(target: str) -> bool:
        async with websockets.connect(target, host="127.0.0.1", open_timeout=60):
            return True

    assert _refusal(lamina, api_id) == 403  # unsigned
    assert run(connected(presigned("test", "test")))  # the account's root
    assert _refusal(lamina, api_id, presigned(key["AccessKeyId"], key["SecretAccessKey"])) == 403
    iam.put_user_policy(
        UserName=unique_name,
        PolicyName="connect",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "execute-api:Invoke",
                        "Resource": f"arn:aws:execute-api:us-east-1:000000000000:{api_id}/prod/$connect",
                    }
                ],
            }
        ),
    )
    assert run(connected(presigned(key["AccessKeyId"], key["SecretAccessKey"])))


def test_a_required_api_key_refuses_a_connection_without_one(
    lamina, apigw, lambda_client, create_function, queue, unique_name
):
    handler = _function(create_function, lambda_client, queue, HANDLER)
    api_id = _api(apigw, lambda_client, handler, unique_name, ApiKeyRequired=True)
    assert _refusal(lamina, api_id) == 403
    assert _refusal(lamina, api_id, additional_headers={"x-api-key": "no-such-key-0123456789"}) == 403

    # A key of a usage plan that covers the stage (usage plans are API Gateway v1's, and
    # cover WebSocket APIs' stages too) lets the client in.
    rest = lamina.client("apigateway")
    key = rest.create_api_key(name=unique_name, enabled=True, value="websocket-key-0123456789")
    plan = rest.create_usage_plan(name=unique_name, apiStages=[{"apiId": api_id, "stage": "prod"}])
    rest.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")

    async def with_key() -> bool:
        async with connect(lamina, api_id, additional_headers={"x-api-key": "websocket-key-0123456789"}):
            return True

    assert run(with_key())
