"""API Gateway v2's APIs against a live server through boto3: CreateApi's defaults for HTTP
and WebSocket, quick create, the endpoint, GetApis' paging, UpdateApi, CORS, DeleteApi,
tags, region scoping, and AWS's errors."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

from .test_lambda_helpers import error_of

FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:handler"


@pytest.fixture
def apigw(lamina):
    return lamina.client("apigatewayv2")


@pytest.fixture
def api(apigw, unique_name):
    made = apigw.create_api(Name=unique_name, ProtocolType="HTTP")
    yield made
    try:
        apigw.delete_api(ApiId=made["ApiId"])
    except ClientError:
        pass


def test_http_api_defaults_and_endpoint(apigw, lamina, unique_name):
    made = apigw.create_api(Name=unique_name, ProtocolType="HTTP", Description="d", Version="v1", Tags={"team": "a"})
    api_id = made["ApiId"]
    assert re.fullmatch(r"[a-z0-9]{10}", api_id)
    assert made["ApiEndpoint"] == f"http://{api_id}.execute-api.localhost:{lamina.port}"
    assert made["RouteSelectionExpression"] == "${request.method} ${request.path}"
    assert made["ApiKeySelectionExpression"] == "$request.header.x-api-key"
    assert (made["ProtocolType"], made["Description"], made["Version"]) == ("HTTP", "d", "v1")
    assert made["DisableExecuteApiEndpoint"] is False
    assert made["Tags"] == {"team": "a"}
    got = apigw.get_api(ApiId=api_id)
    assert {k: v for k, v in got.items() if k != "ResponseMetadata"} == {
        k: v for k, v in made.items() if k != "ResponseMetadata"
    }
    # No stage, no route: a plain API.
    assert apigw.get_stages(ApiId=api_id)["Items"] == []
    assert apigw.get_routes(ApiId=api_id)["Items"] == []


def test_websocket_api_needs_a_route_selection_expression(apigw, lamina, unique_name):
    with pytest.raises(ClientError) as caught:
        apigw.create_api(Name=unique_name, ProtocolType="WEBSOCKET")
    assert error_of(caught)[:2] == ("BadRequestException", 400)
    made = apigw.create_api(Name=unique_name, ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")
    assert made["ApiEndpoint"] == f"ws://{made['ApiId']}.execute-api.localhost:{lamina.port}"
    assert made["RouteSelectionExpression"] == "$request.body.action"
    with pytest.raises(ClientError) as caught:
        apigw.create_api(
            Name=unique_name,
            ProtocolType="WEBSOCKET",
            RouteSelectionExpression="$request.body.action",
            CorsConfiguration={"AllowOrigins": ["*"]},
        )
    assert error_of(caught)[0] == "BadRequestException"
    apigw.delete_api(ApiId=made["ApiId"])


def test_http_route_selection_expression_is_fixed(apigw, unique_name):
    with pytest.raises(ClientError) as caught:
        apigw.create_api(Name=unique_name, ProtocolType="HTTP", RouteSelectionExpression="$request.body.action")
    assert error_of(caught)[:2] == ("BadRequestException", 400)


def test_quick_create_makes_route_integration_and_auto_deployed_stage(apigw, unique_name):
    made = apigw.create_api(Name=unique_name, ProtocolType="HTTP", Target=FUNCTION, RouteKey="GET /hello")
    api_id = made["ApiId"]
    [integration] = apigw.get_integrations(ApiId=api_id)["Items"]
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["IntegrationUri"] == FUNCTION
    assert integration["PayloadFormatVersion"] == "2.0"
    assert integration["IntegrationMethod"] == "POST"
    assert integration["TimeoutInMillis"] == 30000
    assert integration["ApiGatewayManaged"] is True
    [route] = apigw.get_routes(ApiId=api_id)["Items"]
    assert route["RouteKey"] == "GET /hello"
    assert route["Target"] == f"integrations/{integration['IntegrationId']}"
    assert route["AuthorizationType"] == "NONE"
    [stage] = apigw.get_stages(ApiId=api_id)["Items"]
    assert (stage["StageName"], stage["AutoDeploy"], stage["ApiGatewayManaged"]) == ("$default", True, True)
    [deployment] = apigw.get_deployments(ApiId=api_id)["Items"]
    assert stage["DeploymentId"] == deployment["DeploymentId"]
    assert deployment["AutoDeployed"] is True and deployment["DeploymentStatus"] == "DEPLOYED"
    assert deployment["DeploymentId"] in stage["LastDeploymentStatusMessage"]
    apigw.delete_api(ApiId=api_id)


def test_quick_create_with_a_url_and_default_route(apigw, unique_name):
    made = apigw.create_api(Name=unique_name, ProtocolType="HTTP", Target="https://example.com/base")
    [integration] = apigw.get_integrations(ApiId=made["ApiId"])["Items"]
    assert (integration["IntegrationType"], integration["IntegrationMethod"]) == ("HTTP_PROXY", "ANY")
    assert integration["PayloadFormatVersion"] == "1.0"
    assert [r["RouteKey"] for r in apigw.get_routes(ApiId=made["ApiId"])["Items"]] == ["$default"]
    apigw.delete_api(ApiId=made["ApiId"])


def test_get_apis_pages_with_string_max_results(apigw, unique_name):
    made = [apigw.create_api(Name=f"{unique_name}-{i}", ProtocolType="HTTP")["ApiId"] for i in range(5)]
    seen, token = [], None
    while True:
        page = apigw.get_apis(MaxResults="2", **({"NextToken": token} if token else {}))
        assert len(page["Items"]) <= 2
        seen += [item["ApiId"] for item in page["Items"]]
        token = page.get("NextToken")
        if not token:
            break
    assert set(made) <= set(seen)
    assert len(seen) == len(set(seen))
    for api_id in made:
        apigw.delete_api(ApiId=api_id)


def test_update_api_and_cors(apigw, api):
    api_id = api["ApiId"]
    updated = apigw.update_api(
        ApiId=api_id,
        Name="renamed",
        DisableExecuteApiEndpoint=True,
        CorsConfiguration={"AllowOrigins": ["https://example.com"], "AllowMethods": ["get", "POST"], "MaxAge": 300},
    )
    assert updated["Name"] == "renamed"
    assert updated["DisableExecuteApiEndpoint"] is True
    assert updated["CorsConfiguration"] == {
        "AllowOrigins": ["https://example.com"],
        "AllowMethods": ["GET", "POST"],
        "MaxAge": 300,
    }
    with pytest.raises(ClientError) as caught:
        apigw.update_api(ApiId=api_id, CorsConfiguration={"AllowOrigins": ["*"], "AllowCredentials": True})
    assert error_of(caught)[0] == "BadRequestException"
    with pytest.raises(ClientError) as caught:
        apigw.update_api(ApiId=api_id, CorsConfiguration={"AllowMethods": ["FETCH"]})
    assert error_of(caught)[0] == "BadRequestException"
    apigw.delete_cors_configuration(ApiId=api_id)
    assert "CorsConfiguration" not in apigw.get_api(ApiId=api_id)


def test_unknown_api_is_not_found_with_the_account(apigw):
    for call in (
        lambda: apigw.get_api(ApiId="abcdefghij"),
        lambda: apigw.delete_api(ApiId="abcdefghij"),
        lambda: apigw.get_routes(ApiId="abcdefghij"),
        lambda: apigw.update_api(ApiId="abcdefghij", Name="x"),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        missing = "Invalid API identifier specified 000000000000:abcdefghij"
        assert error_of(caught) == ("NotFoundException", 404, missing)


def test_delete_api_forgets_it(apigw, unique_name):
    api_id = apigw.create_api(Name=unique_name, ProtocolType="HTTP", Target=FUNCTION)["ApiId"]
    apigw.delete_api(ApiId=api_id)
    with pytest.raises(ClientError) as caught:
        apigw.get_api(ApiId=api_id)
    assert error_of(caught)[0] == "NotFoundException"
    assert api_id not in [a["ApiId"] for a in apigw.get_apis()["Items"]]


def test_an_api_belongs_to_its_region(lamina, apigw, api):
    other = lamina.client("apigatewayv2", region_name="eu-west-1")
    with pytest.raises(ClientError) as caught:
        other.get_api(ApiId=api["ApiId"])
    missing = f"Invalid API identifier specified 000000000000:{api['ApiId']}"
    assert error_of(caught) == ("NotFoundException", 404, missing)
    assert api["ApiId"] not in [a["ApiId"] for a in other.get_apis()["Items"]]
    with pytest.raises(ClientError):
        other.get_tags(ResourceArn=f"arn:aws:apigateway:eu-west-1::/apis/{api['ApiId']}")


def test_tags_of_apis_and_stages(apigw, api):
    arn = f"arn:aws:apigateway:us-east-1::/apis/{api['ApiId']}"
    apigw.tag_resource(ResourceArn=arn, Tags={"a": "1", "b": "2"})
    assert apigw.get_tags(ResourceArn=arn)["Tags"] == {"a": "1", "b": "2"}
    apigw.untag_resource(ResourceArn=arn, TagKeys=["a"])
    assert apigw.get_tags(ResourceArn=arn)["Tags"] == {"b": "2"}
    assert apigw.get_api(ApiId=api["ApiId"])["Tags"] == {"b": "2"}
    with pytest.raises(ClientError) as caught:
        apigw.tag_resource(ResourceArn=arn, Tags={"aws:x": "1"})
    assert error_of(caught)[0] == "BadRequestException"
    apigw.create_stage(ApiId=api["ApiId"], StageName="prod", Tags={"s": "1"})
    stage_arn = f"{arn}/stages/prod"
    apigw.tag_resource(ResourceArn=stage_arn, Tags={"t": "2"})
    assert apigw.get_tags(ResourceArn=stage_arn)["Tags"] == {"s": "1", "t": "2"}
    assert apigw.get_stage(ApiId=api["ApiId"], StageName="prod")["Tags"] == {"s": "1", "t": "2"}


def test_domain_names_are_not_served(apigw):
    with pytest.raises(ClientError) as caught:
        apigw.get_domain_names()
    assert error_of(caught)[1] == 501
