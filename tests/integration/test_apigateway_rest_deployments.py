"""API Gateway REST APIs' deployments and stages through boto3: what cannot be deployed, a
deployment as a frozen snapshot (a stage keeps serving what was deployed until it is
redeployed), stages and their patch paths (variables, method settings, access logs, the
deployment), and AWS's refusals."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from .test_apigateway_rest_apis import refused

URI_V1 = "https://example.com/v1"
URI_V2 = "https://example.com/v2"


@pytest.fixture
def apigw(lamina):
    return lamina.client("apigateway")


@pytest.fixture
def api(apigw, unique_name):
    made = apigw.create_rest_api(name=unique_name)
    yield made["id"], made["rootResourceId"]
    try:
        apigw.delete_rest_api(restApiId=made["id"])
    except ClientError:
        pass


def exported_uri(apigw, api_id: str, stage: str) -> str:
    body = apigw.get_export(
        restApiId=api_id, stageName=stage, exportType="swagger", parameters={"extensions": "integrations"}
    )["body"].read()
    return json.loads(body)["paths"]["/items"]["get"]["x-amazon-apigateway-integration"]["uri"]


def test_what_cannot_be_deployed(apigw, api):
    api_id, root = api
    assert refused(apigw.create_deployment, restApiId=api_id, stageName="prod") == (
        "BadRequestException",
        400,
        "The REST API doesn't contain any methods",
    )
    apigw.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    assert refused(apigw.create_deployment, restApiId=api_id, stageName="prod")[2] == (
        "No integration defined for method"
    )
    apigw.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
    assert refused(apigw.create_deployment, restApiId=api_id, stageName="bad name!")[2] == (
        "Stage name only allows a-zA-Z0-9_-"
    )
    assert apigw.get_stages(restApiId=api_id)["item"] == []
    assert apigw.get_deployments(restApiId=api_id)["items"] == []


def test_a_deployment_is_a_frozen_snapshot(apigw, api):
    api_id, root = api
    items = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="items")["id"]
    apigw.put_method(restApiId=api_id, resourceId=items, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(
        restApiId=api_id, resourceId=items, httpMethod="GET", type="HTTP_PROXY", integrationHttpMethod="GET", uri=URI_V1
    )
    first = apigw.create_deployment(
        restApiId=api_id, stageName="prod", description="first", stageDescription="production", variables={"a": "1"}
    )
    assert first["ResponseMetadata"]["HTTPStatusCode"] == 201
    stage = apigw.get_stage(restApiId=api_id, stageName="prod")
    assert (stage["deploymentId"], stage["description"], stage["variables"]) == (first["id"], "production", {"a": "1"})
    assert (stage["cacheClusterEnabled"], stage["cacheClusterStatus"], stage["tracingEnabled"]) == (
        False,
        "NOT_AVAILABLE",
        False,
    )
    assert stage["methodSettings"] == {}

    # Changing the API changes nothing the stage serves until a new deployment.
    apigw.update_integration(
        restApiId=api_id,
        resourceId=items,
        httpMethod="GET",
        patchOperations=[{"op": "replace", "path": "/uri", "value": URI_V2}],
    )
    assert exported_uri(apigw, api_id, "prod") == URI_V1
    second = apigw.create_deployment(restApiId=api_id, stageName="prod")
    assert exported_uri(apigw, api_id, "prod") == URI_V2
    assert apigw.get_stage(restApiId=api_id, stageName="prod")["variables"] == {"a": "1"}

    summary = apigw.get_deployment(restApiId=api_id, deploymentId=first["id"], embed=["apisummary"])
    assert summary["apiSummary"] == {"/items": {"GET": {"authorizationType": "NONE", "apiKeyRequired": False}}}
    assert summary["description"] == "first"
    assert [d["id"] for d in apigw.get_deployments(restApiId=api_id)["items"]] == [first["id"], second["id"]]

    # A stage may point back at the first deployment (UpdateStage /deploymentId).
    apigw.update_stage(
        restApiId=api_id,
        stageName="prod",
        patchOperations=[{"op": "replace", "path": "/deploymentId", "value": first["id"]}],
    )
    assert exported_uri(apigw, api_id, "prod") == URI_V1
    assert refused(apigw.delete_deployment, restApiId=api_id, deploymentId=first["id"]) == (
        "BadRequestException",
        400,
        "Active stages pointing to this deployment must be moved or deleted",
    )
    apigw.delete_deployment(restApiId=api_id, deploymentId=second["id"])
    assert refused(apigw.get_deployment, restApiId=api_id, deploymentId=second["id"]) == (
        "NotFoundException",
        404,
        "Invalid Deployment identifier specified",
    )
    updated = apigw.update_deployment(
        restApiId=api_id,
        deploymentId=first["id"],
        patchOperations=[{"op": "replace", "path": "/description", "value": "renamed"}],
    )
    assert updated["description"] == "renamed"
    apigw.delete_stage(restApiId=api_id, stageName="prod")
    apigw.delete_deployment(restApiId=api_id, deploymentId=first["id"])


def test_stages_and_their_patch_paths(apigw, api):
    api_id, root = api
    apigw.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
    deployment = apigw.create_deployment(restApiId=api_id)["id"]
    made = apigw.create_stage(
        restApiId=api_id,
        stageName="dev",
        deploymentId=deployment,
        description="development",
        variables={"host": "example.com"},
        tracingEnabled=True,
        tags={"env": "dev"},
    )
    assert made["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert (made["stageName"], made["tracingEnabled"], made["tags"]) == ("dev", True, {"env": "dev"})
    assert refused(apigw.create_stage, restApiId=api_id, stageName="dev", deploymentId=deployment) == (
        "ConflictException",
        409,
        "Stage already exists",
    )
    assert refused(apigw.create_stage, restApiId=api_id, stageName="x", deploymentId="nosuch")[0] == (
        "BadRequestException"
    )
    updated = apigw.update_stage(
        restApiId=api_id,
        stageName="dev",
        patchOperations=[
            {"op": "replace", "path": "/variables/host", "value": "other.example.com"},
            {"op": "add", "path": "/variables/extra", "value": "x"},
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "100"},
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "50"},
            {"op": "replace", "path": "/~1/GET/logging/loglevel", "value": "INFO"},
            {"op": "replace", "path": "/~1/GET/metrics/enabled", "value": "true"},
            {
                "op": "replace",
                "path": "/accessLogSettings/destinationArn",
                "value": "arn:aws:logs:us-east-1:0:log-group:x",
            },
            {"op": "replace", "path": "/accessLogSettings/format", "value": "$context.requestId"},
            {"op": "replace", "path": "/tracingEnabled", "value": "false"},
            {"op": "replace", "path": "/description", "value": "changed"},
        ],
    )
    assert updated["variables"] == {"host": "other.example.com", "extra": "x"}
    everything = updated["methodSettings"]["*/*"]
    assert (everything["throttlingRateLimit"], everything["throttlingBurstLimit"]) == (100.0, 50)
    assert everything["loggingLevel"] == "OFF" and everything["cacheTtlInSeconds"] == 300
    root_get = updated["methodSettings"]["~1/GET"]
    assert (root_get["loggingLevel"], root_get["metricsEnabled"]) == ("INFO", True)
    assert updated["accessLogSettings"] == {
        "destinationArn": "arn:aws:logs:us-east-1:0:log-group:x",
        "format": "$context.requestId",
    }
    assert (updated["tracingEnabled"], updated["description"]) == (False, "changed")
    updated = apigw.update_stage(
        restApiId=api_id,
        stageName="dev",
        patchOperations=[
            {"op": "remove", "path": "/variables/extra"},
            {"op": "remove", "path": "/~1/GET"},
            {"op": "remove", "path": "/accessLogSettings"},
        ],
    )
    assert updated["variables"] == {"host": "other.example.com"}
    assert set(updated["methodSettings"]) == {"*/*"}
    assert "accessLogSettings" not in updated
    assert refused(
        apigw.update_stage,
        restApiId=api_id,
        stageName="dev",
        patchOperations=[{"op": "replace", "path": "/variables/bad-name", "value": "x"}],
    )[2] == ("Stage variable names may only contain alphanumeric characters and underscores")
    assert refused(
        apigw.update_stage, restApiId=api_id, stageName="dev", patchOperations=[{"op": "replace", "path": "/nope"}]
    )[2] == ("Invalid patch path /nope")
    stages = apigw.get_stages(restApiId=api_id, deploymentId=deployment)["item"]
    assert [s["stageName"] for s in stages] == ["dev"]
    assert apigw.get_stages(restApiId=api_id, deploymentId="other")["item"] == []
    arn = f"arn:aws:apigateway:us-east-1::/restapis/{api_id}/stages/dev"
    apigw.tag_resource(resourceArn=arn, tags={"team": "x"})
    assert apigw.get_tags(resourceArn=arn)["tags"] == {"env": "dev", "team": "x"}
    apigw.flush_stage_authorizers_cache(restApiId=api_id, stageName="dev")
    apigw.flush_stage_cache(restApiId=api_id, stageName="dev")
    apigw.delete_stage(restApiId=api_id, stageName="dev")
    assert refused(apigw.get_stage, restApiId=api_id, stageName="dev") == (
        "NotFoundException",
        404,
        "Invalid stage identifier specified",
    )
