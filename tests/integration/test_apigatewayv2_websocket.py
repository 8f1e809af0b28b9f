"""API Gateway v2's WebSocket APIs against a live server through boto3: routes $connect,
$disconnect, $default and custom keys, the integration kinds WebSocket takes, route and
integration responses, models, and what HTTP APIs refuse of them."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from .test_lambda_helpers import error_of

FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:handler"
INVOKE = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{FUNCTION}/invocations"


@pytest.fixture
def apigw(lamina):
    return lamina.client("apigatewayv2")


@pytest.fixture
def ws_id(apigw, unique_name):
    made = apigw.create_api(Name=unique_name, ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")
    yield made["ApiId"]
    apigw.delete_api(ApiId=made["ApiId"])


def test_websocket_routes_and_integrations(apigw, ws_id):
    lam = apigw.create_integration(ApiId=ws_id, IntegrationType="AWS_PROXY", IntegrationUri=INVOKE)
    assert (lam["PayloadFormatVersion"], lam["TimeoutInMillis"]) == ("1.0", 29000)
    mock = apigw.create_integration(
        ApiId=ws_id, IntegrationType="MOCK", RequestTemplates={"$default": '{"statusCode": 200}'}
    )
    assert mock["PassthroughBehavior"] == "WHEN_NO_MATCH"
    assert mock["IntegrationResponseSelectionExpression"] == "${integration.response.statuscode}"
    for key in ("$connect", "$disconnect", "$default", "sendMessage"):
        route = apigw.create_route(ApiId=ws_id, RouteKey=key, Target=f"integrations/{lam['IntegrationId']}")
        assert route["RouteKey"] == key
    with pytest.raises(ClientError) as caught:
        apigw.create_route(ApiId=ws_id, RouteKey="$other")
    assert error_of(caught)[0] == "BadRequestException"
    with pytest.raises(ClientError) as caught:
        apigw.create_integration(
            ApiId=ws_id, IntegrationType="AWS_PROXY", IntegrationUri=INVOKE, PayloadFormatVersion="2.0"
        )
    assert error_of(caught)[0] == "BadRequestException"
    with pytest.raises(ClientError) as caught:
        apigw.create_stage(ApiId=ws_id, StageName="$default")
    assert error_of(caught)[0] == "BadRequestException"
    stage = apigw.create_stage(ApiId=ws_id, StageName="production", AutoDeploy=True)
    assert stage["DefaultRouteSettings"]["LoggingLevel"] == "OFF"
    assert stage["DeploymentId"]
    apigw.update_stage(
        ApiId=ws_id, StageName="production", DefaultRouteSettings={"DataTraceEnabled": True, "LoggingLevel": "INFO"}
    )


def test_connect_route_authorization_and_api_keys(apigw, ws_id):
    authorizer = apigw.create_authorizer(
        ApiId=ws_id,
        AuthorizerType="REQUEST",
        Name="ws-auth",
        AuthorizerUri=INVOKE,
        IdentitySource=["route.request.header.Auth", "route.request.querystring.token"],
    )
    route = apigw.create_route(
        ApiId=ws_id,
        RouteKey="$connect",
        AuthorizationType="CUSTOM",
        AuthorizerId=authorizer["AuthorizerId"],
        ApiKeyRequired=True,
        RequestParameters={"route.request.header.Auth": {"Required": True}},
    )
    assert route["ApiKeyRequired"] is True
    apigw.delete_route_request_parameter(
        ApiId=ws_id, RouteId=route["RouteId"], RequestParameterKey="route.request.header.Auth"
    )
    assert apigw.get_route(ApiId=ws_id, RouteId=route["RouteId"])["RequestParameters"] == {}
    with pytest.raises(ClientError) as caught:  # authorization is for $connect only
        apigw.create_route(
            ApiId=ws_id, RouteKey="send", AuthorizationType="CUSTOM", AuthorizerId=authorizer["AuthorizerId"]
        )
    assert error_of(caught)[0] == "BadRequestException"
    with pytest.raises(ClientError) as caught:  # JWT authorizers are HTTP's
        apigw.create_authorizer(
            ApiId=ws_id,
            AuthorizerType="JWT",
            Name="jwt",
            IdentitySource=["$request.header.Authorization"],
            JwtConfiguration={"Issuer": "https://i.example.com", "Audience": ["a"]},
        )
    assert error_of(caught)[0] == "BadRequestException"


def test_route_and_integration_responses(apigw, ws_id):
    integration = apigw.create_integration(ApiId=ws_id, IntegrationType="MOCK")["IntegrationId"]
    route = apigw.create_route(
        ApiId=ws_id, RouteKey="echo", Target=f"integrations/{integration}", RouteResponseSelectionExpression="$default"
    )["RouteId"]
    response = apigw.create_route_response(ApiId=ws_id, RouteId=route, RouteResponseKey="$default")
    assert apigw.get_route_responses(ApiId=ws_id, RouteId=route)["Items"] == [
        {"RouteResponseId": response["RouteResponseId"], "RouteResponseKey": "$default"}
    ]
    with pytest.raises(ClientError) as caught:
        apigw.create_route_response(ApiId=ws_id, RouteId=route, RouteResponseKey="$default")
    assert error_of(caught)[0] == "ConflictException"
    made = apigw.create_integration_response(
        ApiId=ws_id,
        IntegrationId=integration,
        IntegrationResponseKey="/2\\d\\d/",
        ResponseTemplates={"$default": '{"ok": true}'},
    )
    got = apigw.get_integration_response(
        ApiId=ws_id, IntegrationId=integration, IntegrationResponseId=made["IntegrationResponseId"]
    )
    assert got["IntegrationResponseKey"] == "/2\\d\\d/"
    apigw.update_integration_response(
        ApiId=ws_id,
        IntegrationId=integration,
        IntegrationResponseId=made["IntegrationResponseId"],
        IntegrationResponseKey="$default",
    )
    assert (
        apigw.get_integration_responses(ApiId=ws_id, IntegrationId=integration)["Items"][0]["IntegrationResponseKey"]
        == "$default"
    )
    apigw.delete_integration_response(
        ApiId=ws_id, IntegrationId=integration, IntegrationResponseId=made["IntegrationResponseId"]
    )
    with pytest.raises(ClientError) as caught:
        apigw.get_integration_response(
            ApiId=ws_id, IntegrationId=integration, IntegrationResponseId=made["IntegrationResponseId"]
        )
    assert error_of(caught) == (
        "NotFoundException",
        404,
        f"Invalid IntegrationResponse identifier specified {made['IntegrationResponseId']}",
    )
    apigw.delete_route_response(ApiId=ws_id, RouteId=route, RouteResponseId=response["RouteResponseId"])
    assert apigw.get_route_responses(ApiId=ws_id, RouteId=route)["Items"] == []


def test_models(apigw, ws_id):
    schema = json.dumps({"$schema": "http://json-schema.org/draft-04/schema#", "type": "object"})
    model = apigw.create_model(ApiId=ws_id, Name="Message", Schema=schema)
    assert model["ContentType"] == "application/json"
    assert apigw.get_model(ApiId=ws_id, ModelId=model["ModelId"])["Schema"] == schema
    assert apigw.update_model(ApiId=ws_id, ModelId=model["ModelId"], Description="m")["Description"] == "m"
    assert [m["Name"] for m in apigw.get_models(ApiId=ws_id)["Items"]] == ["Message"]
    for name, body in [("Message", schema), ("bad-name", schema), ("Other", "not json")]:
        with pytest.raises(ClientError) as caught:
            apigw.create_model(ApiId=ws_id, Name=name, Schema=body)
        assert error_of(caught)[0] in ("BadRequestException", "ConflictException")
    apigw.delete_model(ApiId=ws_id, ModelId=model["ModelId"])
    with pytest.raises(ClientError) as caught:
        apigw.get_model(ApiId=ws_id, ModelId=model["ModelId"])
    assert error_of(caught) == ("NotFoundException", 404, f"Invalid Model identifier specified {model['ModelId']}")


def test_http_apis_refuse_websocket_things(apigw, unique_name):
    api_id = apigw.create_api(Name=unique_name, ProtocolType="HTTP")["ApiId"]
    integration = apigw.create_integration(
        ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationUri="https://example.com", IntegrationMethod="ANY"
    )["IntegrationId"]
    route = apigw.create_route(ApiId=api_id, RouteKey="GET /x", Target=f"integrations/{integration}")["RouteId"]
    for call in (
        lambda: apigw.create_route_response(ApiId=api_id, RouteId=route, RouteResponseKey="$default"),
        lambda: apigw.create_integration_response(
            ApiId=api_id, IntegrationId=integration, IntegrationResponseKey="$default"
        ),
        lambda: apigw.create_model(ApiId=api_id, Name="M", Schema="{}"),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        assert error_of(caught)[0] == "BadRequestException"
    apigw.delete_api(ApiId=api_id)
