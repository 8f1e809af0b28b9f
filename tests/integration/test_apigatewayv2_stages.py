"""API Gateway v2's stages and deployments against a live server through boto3: manual
deployments, AutoDeploy making a deployment on every change, stage variables, route
settings, access logging, what cannot be deleted, and AWS's errors."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from .test_lambda_helpers import error_of

FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:handler"
LOG_GROUP = "arn:aws:logs:us-east-1:000000000000:log-group:/apigw/access"


@pytest.fixture
def apigw(lamina):
    return lamina.client("apigatewayv2")


@pytest.fixture
def api_id(apigw, unique_name):
    made = apigw.create_api(Name=unique_name, ProtocolType="HTTP")["ApiId"]
    yield made
    apigw.delete_api(ApiId=made)


def add_route(apigw, api_id: str, key: str) -> dict:
    integration = apigw.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=FUNCTION, PayloadFormatVersion="2.0"
    )["IntegrationId"]
    return apigw.create_route(ApiId=api_id, RouteKey=key, Target=f"integrations/{integration}")


def test_manual_deployments(apigw, api_id):
    with pytest.raises(ClientError) as caught:
        apigw.create_deployment(ApiId=api_id)
    assert error_of(caught)[:2] == ("BadRequestException", 400)  # nothing to deploy yet
    add_route(apigw, api_id, "GET /a")
    stage = apigw.create_stage(ApiId=api_id, StageName="prod", Description="production")
    assert stage["AutoDeploy"] is False and "DeploymentId" not in stage
    deployment = apigw.create_deployment(ApiId=api_id, StageName="prod", Description="first")
    assert (deployment["DeploymentStatus"], deployment["AutoDeployed"]) == ("DEPLOYED", False)
    assert apigw.get_stage(ApiId=api_id, StageName="prod")["DeploymentId"] == deployment["DeploymentId"]
    # A change does not reach a stage without AutoDeploy.
    add_route(apigw, api_id, "GET /b")
    assert apigw.get_stage(ApiId=api_id, StageName="prod")["DeploymentId"] == deployment["DeploymentId"]
    second = apigw.create_deployment(ApiId=api_id)
    apigw.update_stage(ApiId=api_id, StageName="prod", DeploymentId=second["DeploymentId"])
    assert apigw.get_stage(ApiId=api_id, StageName="prod")["DeploymentId"] == second["DeploymentId"]
    listed = {d["DeploymentId"] for d in apigw.get_deployments(ApiId=api_id)["Items"]}
    assert listed == {deployment["DeploymentId"], second["DeploymentId"]}
    assert (
        apigw.update_deployment(ApiId=api_id, DeploymentId=second["DeploymentId"], Description="2")["Description"]
        == "2"
    )
    with pytest.raises(ClientError) as caught:
        apigw.delete_deployment(ApiId=api_id, DeploymentId=second["DeploymentId"])
    assert error_of(caught) == (
        "BadRequestException",
        400,
        "Active stages pointing to this deployment must be moved or deleted",
    )
    apigw.delete_deployment(ApiId=api_id, DeploymentId=deployment["DeploymentId"])
    with pytest.raises(ClientError) as caught:
        apigw.get_deployment(ApiId=api_id, DeploymentId=deployment["DeploymentId"])
    assert error_of(caught) == (
        "NotFoundException",
        404,
        f"Invalid Deployment identifier specified {deployment['DeploymentId']}",
    )
    with pytest.raises(ClientError) as caught:
        apigw.create_deployment(ApiId=api_id, StageName="nope")
    assert error_of(caught)[:2] == ("NotFoundException", 404)


def test_auto_deploy_makes_a_deployment_on_every_change(apigw, api_id):
    route = add_route(apigw, api_id, "GET /a")
    stage = apigw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    first = stage["DeploymentId"]
    assert stage["LastDeploymentStatusMessage"] == f"Successfully deployed stage with deployment ID '{first}'"
    apigw.update_route(ApiId=api_id, RouteId=route["RouteId"], RouteKey="GET /b")
    second = apigw.get_stage(ApiId=api_id, StageName="$default")["DeploymentId"]
    assert second != first
    apigw.create_authorizer(
        ApiId=api_id,
        AuthorizerType="JWT",
        Name="jwt",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={"Issuer": "https://issuer.example.com", "Audience": ["a"]},
    )
    third = apigw.get_stage(ApiId=api_id, StageName="$default")["DeploymentId"]
    assert third not in (first, second)
    deployments = {d["DeploymentId"]: d for d in apigw.get_deployments(ApiId=api_id)["Items"]}
    assert {first, second, third} <= set(deployments)
    assert all(deployments[d]["AutoDeployed"] for d in (first, second, third))
    # A stage setting is not a change of the configuration: no new deployment.
    apigw.update_stage(ApiId=api_id, StageName="$default", StageVariables={"v": "1"})
    assert apigw.get_stage(ApiId=api_id, StageName="$default")["DeploymentId"] == third


def test_switching_auto_deploy_on_deploys(apigw, api_id):
    add_route(apigw, api_id, "GET /a")
    apigw.create_stage(ApiId=api_id, StageName="dev")
    assert "DeploymentId" not in apigw.get_stage(ApiId=api_id, StageName="dev")
    updated = apigw.update_stage(ApiId=api_id, StageName="dev", AutoDeploy=True)
    assert updated["AutoDeploy"] is True and updated["DeploymentId"]


def test_stage_names_and_conflicts(apigw, api_id):
    apigw.create_stage(ApiId=api_id, StageName="prod")
    with pytest.raises(ClientError) as caught:
        apigw.create_stage(ApiId=api_id, StageName="prod")
    assert error_of(caught)[:2] == ("ConflictException", 409)
    with pytest.raises(ClientError) as caught:
        apigw.create_stage(ApiId=api_id, StageName="bad name!")
    assert error_of(caught)[:2] == ("BadRequestException", 400)
    with pytest.raises(ClientError) as caught:
        apigw.get_stage(ApiId=api_id, StageName="nope")
    assert error_of(caught)[:2] == ("NotFoundException", 404)
    assert [s["StageName"] for s in apigw.get_stages(ApiId=api_id)["Items"]] == ["prod"]
    apigw.delete_stage(ApiId=api_id, StageName="prod")
    assert apigw.get_stages(ApiId=api_id)["Items"] == []


def test_stage_variables_route_settings_and_access_logs(apigw, api_id):
    add_route(apigw, api_id, "GET /pets")
    stage = apigw.create_stage(
        ApiId=api_id,
        StageName="prod",
        StageVariables={"backend": "https://example.com/v1", "mode": "fast"},
        DefaultRouteSettings={"ThrottlingBurstLimit": 100, "ThrottlingRateLimit": 50.0, "DetailedMetricsEnabled": True},
        RouteSettings={"GET /pets": {"ThrottlingBurstLimit": 5, "ThrottlingRateLimit": 1.5}},
        AccessLogSettings={"DestinationArn": LOG_GROUP, "Format": '{"id":"$context.requestId"}'},
    )
    assert stage["StageVariables"] == {"backend": "https://example.com/v1", "mode": "fast"}
    assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == 100
    assert stage["RouteSettings"]["GET /pets"] == {"ThrottlingBurstLimit": 5, "ThrottlingRateLimit": 1.5}
    assert stage["AccessLogSettings"] == {"DestinationArn": LOG_GROUP, "Format": '{"id":"$context.requestId"}'}
    with pytest.raises(ClientError) as caught:
        apigw.update_stage(ApiId=api_id, StageName="prod", RouteSettings={"GET /cats": {"ThrottlingBurstLimit": 1}})
    assert error_of(caught) == (
        "NotFoundException",
        404,
        "Unable to find Route by key GET /cats within the provided RouteSettings",
    )
    for bad in [
        dict(StageVariables={"bad-name": "x"}),
        dict(StageVariables={"name": "has space"}),
        dict(AccessLogSettings={"DestinationArn": "arn:aws:s3:::bucket", "Format": "$context.requestId"}),
        dict(AccessLogSettings={"DestinationArn": LOG_GROUP, "Format": "no id"}),
        dict(DefaultRouteSettings={"DataTraceEnabled": True}),  # execution logs: WebSocket only
    ]:
        with pytest.raises(ClientError) as caught:
            apigw.update_stage(ApiId=api_id, StageName="prod", **bad)
        assert error_of(caught)[:2] == ("BadRequestException", 400), bad
    apigw.delete_route_settings(ApiId=api_id, StageName="prod", RouteKey="GET /pets")
    apigw.delete_access_log_settings(ApiId=api_id, StageName="prod")
    stage = apigw.get_stage(ApiId=api_id, StageName="prod")
    assert stage["RouteSettings"] == {} and "AccessLogSettings" not in stage
    apigw.reset_authorizers_cache(ApiId=api_id, StageName="prod")


def test_deleting_a_route_drops_its_settings(apigw, api_id):
    route = add_route(apigw, api_id, "GET /pets")
    apigw.create_stage(ApiId=api_id, StageName="prod", RouteSettings={"GET /pets": {"ThrottlingBurstLimit": 5}})
    apigw.delete_route(ApiId=api_id, RouteId=route["RouteId"])
    assert apigw.get_stage(ApiId=api_id, StageName="prod")["RouteSettings"] == {}
