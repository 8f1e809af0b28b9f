"""API Gateway v2's routes, integrations and authorizers against a live server through
boto3: route keys as AWS accepts them, targets, authorization, integration types and
their defaults, subtypes and parameter mappings, REQUEST and JWT authorizers, and the
errors AWS answers."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from .test_lambda_helpers import error_of

FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:handler"
INVOKE = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{FUNCTION}/invocations"
ROLE = "arn:aws:iam::000000000000:role/apigw"


@pytest.fixture
def apigw(lamina):
    return lamina.client("apigatewayv2")


@pytest.fixture
def api_id(apigw, unique_name):
    made = apigw.create_api(Name=unique_name, ProtocolType="HTTP")["ApiId"]
    yield made
    apigw.delete_api(ApiId=made)


def lambda_integration(apigw, api_id: str, **more) -> str:
    params = dict(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=FUNCTION, PayloadFormatVersion="2.0")
    params.update(more)
    return apigw.create_integration(**params)["IntegrationId"]


def bad(caught) -> str:
    code, status, message = error_of(caught)
    assert (code, status) == ("BadRequestException", 400), message
    return message


@pytest.mark.parametrize(
    "key",
    [
        "$default",
        "GET /",
        "GET /pets",
        "ANY /pets/{id}",
        "POST /pets/{id}/toys/{toy}",
        "DELETE /files/{proxy+}",
        "ANY /{proxy+}",
    ],
)
def test_route_keys_aws_accepts(apigw, api_id, key):
    route = apigw.create_route(ApiId=api_id, RouteKey=key)
    assert route["RouteKey"] == key
    assert route["AuthorizationType"] == "NONE"
    assert route["ApiKeyRequired"] is False
    assert len(route["RouteId"]) == 7


@pytest.mark.parametrize(
    "key",
    ["GET", "FETCH /pets", "get /pets", "GET pets", "GET /{proxy+}/more", "GET /a//b", "GET /pe{t}s", "$connect"],
)
def test_route_keys_aws_refuses(apigw, api_id, key):
    with pytest.raises(ClientError) as caught:
        apigw.create_route(ApiId=api_id, RouteKey=key)
    bad(caught)


def test_a_route_key_is_taken_once(apigw, api_id):
    apigw.create_route(ApiId=api_id, RouteKey="GET /pets")
    with pytest.raises(ClientError) as caught:
        apigw.create_route(ApiId=api_id, RouteKey="GET /pets")
    assert error_of(caught) == ("ConflictException", 409, "Route with key GET /pets already exists for this API")


def test_route_crud_and_target(apigw, api_id):
    integration = lambda_integration(apigw, api_id)
    route = apigw.create_route(ApiId=api_id, RouteKey="GET /pets", Target=f"integrations/{integration}")
    route_id = route["RouteId"]
    assert apigw.get_route(ApiId=api_id, RouteId=route_id)["Target"] == f"integrations/{integration}"
    updated = apigw.update_route(ApiId=api_id, RouteId=route_id, RouteKey="GET /cats", OperationName="cats")
    assert (updated["RouteKey"], updated["OperationName"]) == ("GET /cats", "cats")
    assert [r["RouteKey"] for r in apigw.get_routes(ApiId=api_id)["Items"]] == ["GET /cats"]
    with pytest.raises(ClientError) as caught:
        apigw.create_route(ApiId=api_id, RouteKey="GET /dogs", Target="integrations/nothere")
    assert error_of(caught)[:2] == ("NotFoundException", 404)
    with pytest.raises(ClientError) as caught:
        apigw.create_route(ApiId=api_id, RouteKey="GET /dogs", Target="somewhere")
    bad(caught)
    with pytest.raises(ClientError) as caught:
        apigw.delete_integration(ApiId=api_id, IntegrationId=integration)
    bad(caught)
    apigw.delete_route(ApiId=api_id, RouteId=route_id)
    with pytest.raises(ClientError) as caught:
        apigw.get_route(ApiId=api_id, RouteId=route_id)
    assert error_of(caught) == ("NotFoundException", 404, f"Invalid Route identifier specified {route_id}")
    apigw.delete_integration(ApiId=api_id, IntegrationId=integration)


def test_websocket_only_route_members_on_http(apigw, api_id):
    with pytest.raises(ClientError) as caught:
        apigw.create_route(ApiId=api_id, RouteKey="GET /x", ApiKeyRequired=True)
    bad(caught)
    with pytest.raises(ClientError) as caught:
        apigw.create_route(ApiId=api_id, RouteKey="GET /x", RouteResponseSelectionExpression="$default")
    bad(caught)


def test_integration_defaults_by_type(apigw, api_id):
    lam = apigw.get_integration(ApiId=api_id, IntegrationId=lambda_integration(apigw, api_id, IntegrationUri=INVOKE))
    assert lam["IntegrationUri"] == INVOKE
    assert (lam["IntegrationMethod"], lam["ConnectionType"], lam["TimeoutInMillis"]) == ("POST", "INTERNET", 30000)
    http = apigw.create_integration(
        ApiId=api_id,
        IntegrationType="HTTP_PROXY",
        IntegrationUri="https://example.com/{proxy}",
        IntegrationMethod="get",
    )
    assert (http["PayloadFormatVersion"], http["IntegrationMethod"], http["TimeoutInMillis"]) == ("1.0", "GET", 30000)
    assert len(apigw.get_integrations(ApiId=api_id)["Items"]) == 2


def test_integration_refusals(apigw, api_id):
    cases = [
        dict(IntegrationType="AWS", IntegrationUri=FUNCTION),
        dict(IntegrationType="MOCK"),
        dict(IntegrationType="AWS_PROXY", IntegrationUri=FUNCTION),  # HTTP APIs say which payload
        dict(IntegrationType="AWS_PROXY", IntegrationUri=FUNCTION, PayloadFormatVersion="3.0"),
        dict(
            IntegrationType="AWS_PROXY",
            IntegrationUri="arn:aws:sqs:us-east-1:000000000000:q",
            PayloadFormatVersion="2.0",
        ),
        dict(
            IntegrationType="HTTP_PROXY",
            IntegrationUri="https://example.com",
            IntegrationMethod="ANY",
            PayloadFormatVersion="2.0",
        ),
        dict(IntegrationType="HTTP_PROXY", IntegrationUri="https://example.com"),  # no method
        dict(IntegrationType="HTTP_PROXY", IntegrationUri="not a url", IntegrationMethod="ANY"),
        dict(
            IntegrationType="AWS_PROXY",
            IntegrationUri=FUNCTION,
            PayloadFormatVersion="2.0",
            RequestTemplates={"a": "b"},
        ),
    ]
    for case in cases:
        with pytest.raises(ClientError) as caught:
            apigw.create_integration(ApiId=api_id, **case)
        bad(caught)
    with pytest.raises(ClientError) as caught:
        apigw.create_integration(ApiId=api_id, IntegrationType="AWS", IntegrationUri=FUNCTION)
    assert bad(caught) == (
        "Currently, an API with a protocol type of HTTP may only be associated with proxy integrations "
        "(AWS_PROXY, HTTP_PROXY)"
    )


def test_aws_service_integrations_check_their_parameters(apigw, api_id):
    made = apigw.create_integration(
        ApiId=api_id,
        IntegrationType="AWS_PROXY",
        IntegrationSubtype="SQS-SendMessage",
        CredentialsArn=ROLE,
        PayloadFormatVersion="1.0",
        RequestParameters={"QueueUrl": "$request.header.queueUrl", "MessageBody": "$request.body.message"},
    )
    assert made["IntegrationSubtype"] == "SQS-SendMessage"
    assert "IntegrationUri" not in made
    for subtype, parameters in [
        ("SQS-SendMessage", {"QueueUrl": "q"}),  # MessageBody missing
        ("SQS-SendMessage", {"QueueUrl": "q", "MessageBody": "m", "Nope": "x"}),
        ("EventBridge-PutEvents", {"Detail": "d", "DetailType": "t"}),
        ("Lambda-Invoke", {"FunctionName": "f"}),
    ]:
        with pytest.raises(ClientError) as caught:
            apigw.create_integration(
                ApiId=api_id,
                IntegrationType="AWS_PROXY",
                IntegrationSubtype=subtype,
                CredentialsArn=ROLE,
                PayloadFormatVersion="1.0",
                RequestParameters=parameters,
            )
        bad(caught)
    with pytest.raises(ClientError) as caught:  # an AWS service integration acts as a role
        apigw.create_integration(
            ApiId=api_id,
            IntegrationType="AWS_PROXY",
            IntegrationSubtype="SQS-PurgeQueue",
            PayloadFormatVersion="1.0",
            RequestParameters={"QueueUrl": "q"},
        )
    bad(caught)
    for subtype, parameters in [
        ("EventBridge-PutEvents", {"Detail": "$request.body", "DetailType": "t", "Source": "s"}),
        ("StepFunctions-StartExecution", {"StateMachineArn": "arn:aws:states:us-east-1:000000000000:stateMachine:m"}),
        ("Kinesis-PutRecord", {"StreamName": "s", "Data": "$request.body", "PartitionKey": "$context.requestId"}),
        ("AppConfig-GetConfiguration", {"Application": "a", "Environment": "e", "Configuration": "c", "ClientId": "i"}),
    ]:
        apigw.create_integration(
            ApiId=api_id,
            IntegrationType="AWS_PROXY",
            IntegrationSubtype=subtype,
            CredentialsArn=ROLE,
            PayloadFormatVersion="1.0",
            RequestParameters=parameters,
        )


def test_http_parameter_mappings(apigw, api_id):
    made = apigw.create_integration(
        ApiId=api_id,
        IntegrationType="HTTP_PROXY",
        IntegrationUri="https://example.com",
        IntegrationMethod="ANY",
        RequestParameters={
            "append:header.x-from": "$request.header.host",
            "overwrite:querystring.q": "static",
            "remove:header.cookie": "''",
            "overwrite:path": "/v2$request.path",
        },
        ResponseParameters={"200": {"overwrite:statuscode": "204", "append:header.x-stage": "$context.stage"}},
    )
    assert made["RequestParameters"]["overwrite:path"] == "/v2$request.path"
    for request, response in [
        ({"header.x": "v"}, None),
        ({"replace:header.x": "v"}, None),
        ({"overwrite:body": "v"}, None),
        ({"append:header.x": "$request.nothing"}, None),
        (None, {"100": {"overwrite:statuscode": "200"}}),
        (None, {"200": {"overwrite:body": "x"}}),
    ]:
        params = dict(
            ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationUri="https://example.com", IntegrationMethod="ANY"
        )
        if request:
            params["RequestParameters"] = request
        if response:
            params["ResponseParameters"] = response
        with pytest.raises(ClientError) as caught:
            apigw.create_integration(**params)
        bad(caught)


def test_update_and_unknown_integration(apigw, api_id):
    integration = lambda_integration(apigw, api_id)
    updated = apigw.update_integration(ApiId=api_id, IntegrationId=integration, TimeoutInMillis=5000, Description="d")
    assert (updated["TimeoutInMillis"], updated["Description"], updated["PayloadFormatVersion"]) == (5000, "d", "2.0")
    with pytest.raises(ClientError) as caught:
        apigw.update_integration(ApiId=api_id, IntegrationId=integration, PayloadFormatVersion="9")
    bad(caught)
    assert apigw.get_integration(ApiId=api_id, IntegrationId=integration)["PayloadFormatVersion"] == "2.0"
    with pytest.raises(ClientError) as caught:
        apigw.get_integration(ApiId=api_id, IntegrationId="abcdefg")
    assert error_of(caught) == ("NotFoundException", 404, "Invalid Integration identifier specified abcdefg")


def test_request_and_jwt_authorizers(apigw, api_id):
    request = apigw.create_authorizer(
        ApiId=api_id,
        AuthorizerType="REQUEST",
        Name="lambda-auth",
        AuthorizerUri=INVOKE,
        AuthorizerPayloadFormatVersion="2.0",
        EnableSimpleResponses=True,
        IdentitySource=["$request.header.Authorization", "$context.routeKey"],
        AuthorizerResultTtlInSeconds=300,
    )
    assert request["AuthorizerType"] == "REQUEST"
    assert request["IdentitySource"] == ["$request.header.Authorization", "$context.routeKey"]
    jwt = apigw.create_authorizer(
        ApiId=api_id,
        AuthorizerType="JWT",
        Name="jwt",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={"Issuer": "https://issuer.example.com", "Audience": ["app"]},
    )
    assert jwt["JwtConfiguration"] == {"Issuer": "https://issuer.example.com", "Audience": ["app"]}
    assert len(apigw.get_authorizers(ApiId=api_id)["Items"]) == 2

    route = apigw.create_route(
        ApiId=api_id,
        RouteKey="GET /me",
        AuthorizationType="JWT",
        AuthorizerId=jwt["AuthorizerId"],
        AuthorizationScopes=["read"],
    )
    assert route["AuthorizationScopes"] == ["read"]
    custom = apigw.create_route(
        ApiId=api_id, RouteKey="GET /custom", AuthorizationType="CUSTOM", AuthorizerId=request["AuthorizerId"]
    )
    assert custom["AuthorizerId"] == request["AuthorizerId"]
    for wrong in [
        dict(AuthorizationType="JWT", AuthorizerId=request["AuthorizerId"]),  # a REQUEST authorizer
        dict(AuthorizationType="CUSTOM", AuthorizerId=jwt["AuthorizerId"]),
        dict(AuthorizationType="CUSTOM"),
        dict(AuthorizationType="AWS_IAM", AuthorizerId=jwt["AuthorizerId"]),
        dict(AuthorizationType="NONE", AuthorizationScopes=["read"]),
    ]:
        with pytest.raises(ClientError) as caught:
            apigw.create_route(ApiId=api_id, RouteKey="GET /wrong", **wrong)
        bad(caught)
    with pytest.raises(ClientError) as caught:
        apigw.delete_authorizer(ApiId=api_id, AuthorizerId=jwt["AuthorizerId"])
    bad(caught)
    apigw.update_route(ApiId=api_id, RouteId=route["RouteId"], AuthorizationType="AWS_IAM")
    assert "AuthorizerId" not in apigw.get_route(ApiId=api_id, RouteId=route["RouteId"])
    apigw.delete_authorizer(ApiId=api_id, AuthorizerId=jwt["AuthorizerId"])
    with pytest.raises(ClientError) as caught:
        apigw.get_authorizer(ApiId=api_id, AuthorizerId=jwt["AuthorizerId"])
    assert error_of(caught) == (
        "NotFoundException",
        404,
        f"Invalid Authorizer identifier specified {jwt['AuthorizerId']}",
    )
    updated = apigw.update_authorizer(
        ApiId=api_id, AuthorizerId=request["AuthorizerId"], AuthorizerResultTtlInSeconds=0
    )
    assert updated["AuthorizerResultTtlInSeconds"] == 0


def test_authorizer_refusals(apigw, api_id):
    base = dict(ApiId=api_id, AuthorizerType="REQUEST", Name="a", IdentitySource=["$request.header.Authorization"])
    for case in [
        dict(AuthorizerUri=INVOKE),  # no payload format version
        dict(AuthorizerUri=INVOKE, AuthorizerPayloadFormatVersion="1.0", EnableSimpleResponses=True),
        dict(AuthorizerUri=FUNCTION, AuthorizerPayloadFormatVersion="2.0"),  # not the invoke path
        dict(AuthorizerPayloadFormatVersion="2.0"),  # no URI
        dict(AuthorizerUri=INVOKE, AuthorizerPayloadFormatVersion="2.0", IdentitySource=["route.request.header.A"]),
        dict(AuthorizerType="JWT", JwtConfiguration={"Issuer": "https://i.example.com"}),  # no audience
        dict(AuthorizerType="JWT", JwtConfiguration={"Issuer": "http://i.example.com", "Audience": ["a"]}),
        dict(
            AuthorizerType="JWT",
            JwtConfiguration={"Issuer": "https://i.example.com", "Audience": ["a"]},
            AuthorizerUri=INVOKE,
        ),
        dict(
            AuthorizerType="JWT",
            JwtConfiguration={"Issuer": "https://i.example.com", "Audience": ["a"]},
            IdentitySource=["$request.header.A", "$request.header.B"],
        ),
    ]:
        with pytest.raises(ClientError) as caught:
            apigw.create_authorizer(**{**base, **case})
        bad(caught)


def test_model_ranges_are_bad_requests(apigw, api_id):
    with pytest.raises(ClientError) as caught:
        lambda_integration(apigw, api_id, TimeoutInMillis=30001)
    bad(caught)
