"""API Gateway REST APIs (v1) against a live server through boto3: CreateRestApi's defaults
(root resource, models, endpoint configuration), GetRestApis' paging, UpdateRestApi's patch
operations and AWS's refusals, the policy as AWS shows it, tags, the account, region
scoping, and a restart."""

from __future__ import annotations

import json
import re

import pytest
from botocore.exceptions import ClientError

from .test_lambda_helpers import error_of


@pytest.fixture
def apigw(lamina):
    return lamina.client("apigateway")


@pytest.fixture
def rest_api(apigw, unique_name):
    made = apigw.create_rest_api(name=unique_name)
    yield made
    try:
        apigw.delete_rest_api(restApiId=made["id"])
    except ClientError:
        pass


def fields(response: dict) -> dict:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def refused(call, **params) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    return error_of(caught)


def test_create_defaults_root_and_models(apigw, unique_name):
    made = apigw.create_rest_api(name=unique_name, description="d", version="v1")
    try:
        assert made["ResponseMetadata"]["HTTPStatusCode"] == 201
        assert re.fullmatch(r"[a-z0-9]{10}", made["id"])
        assert re.fullmatch(r"[a-z0-9]{10}", made["rootResourceId"])
        assert made["apiKeySource"] == "HEADER"
        assert made["endpointConfiguration"] == {"types": ["EDGE"], "ipAddressType": "ipv4"}
        assert made["disableExecuteApiEndpoint"] is False
        assert (made["description"], made["version"]) == ("d", "v1")
        assert "tags" not in made and "policy" not in made
        assert fields(apigw.get_rest_api(restApiId=made["id"])) == fields(made)
        resources = apigw.get_resources(restApiId=made["id"])["items"]
        assert resources == [{"id": made["rootResourceId"], "path": "/"}]
        models = {m["name"]: m for m in apigw.get_models(restApiId=made["id"])["items"]}
        assert set(models) == {"Empty", "Error"}
        assert models["Empty"]["description"] == "This is a default empty schema model"
        assert json.loads(models["Error"]["schema"])["properties"] == {"message": {"type": "string"}}
    finally:
        apigw.delete_rest_api(restApiId=made["id"])
    assert refused(apigw.get_rest_api, restApiId=made["id"]) == (
        "NotFoundException",
        404,
        f"Invalid API identifier specified 000000000000:{made['id']}",
    )


def test_create_options_and_refusals(apigw, unique_name):
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "*"}],
    }
    made = apigw.create_rest_api(
        name=unique_name,
        binaryMediaTypes=["image/png"],
        minimumCompressionSize=1024,
        apiKeySource="AUTHORIZER",
        endpointConfiguration={"types": ["REGIONAL"]},
        policy=json.dumps(policy, indent=2),
        disableExecuteApiEndpoint=True,
        tags={"team": "a"},
    )
    try:
        assert made["binaryMediaTypes"] == ["image/png"]
        assert made["minimumCompressionSize"] == 1024
        assert made["apiKeySource"] == "AUTHORIZER"
        assert made["endpointConfiguration"] == {"types": ["REGIONAL"], "ipAddressType": "ipv4"}
        assert made["disableExecuteApiEndpoint"] is True
        assert made["tags"] == {"team": "a"}
        # AWS shows the policy with every quote backslash-escaped.
        assert json.loads(made["policy"].replace('\\"', '"')) == policy
    finally:
        apigw.delete_rest_api(restApiId=made["id"])
    private = apigw.create_rest_api(name=unique_name, endpointConfiguration={"types": ["PRIVATE"]})
    apigw.delete_rest_api(restApiId=private["id"])
    assert private["endpointConfiguration"] == {"types": ["PRIVATE"], "ipAddressType": "dualstack"}

    assert refused(apigw.create_rest_api, name=unique_name, description="") == (
        "BadRequestException",
        400,
        "Description cannot be an empty string",
    )
    assert refused(apigw.create_rest_api, name=unique_name, minimumCompressionSize=-1)[2] == (
        "Invalid minimum compression size, must be between 0 and 10485760"
    )
    assert refused(apigw.create_rest_api, name=unique_name, endpointConfiguration={"types": []})[2] == (
        "REGIONAL Configuration and EDGE Configuration cannot be both DISABLED."
    )
    assert refused(apigw.create_rest_api, name=unique_name, endpointConfiguration={"types": ["EDGE", "REGIONAL"]})[
        2
    ] == ("Cannot create an api with multiple Endpoint Types.")
    assert refused(
        apigw.create_rest_api, name=unique_name, endpointConfiguration={"types": ["PRIVATE"], "ipAddressType": "ipv4"}
    )[2] == ("Only dualstack ipAddressType is supported for Private APIs.")


def test_get_rest_apis_pages_with_position_and_limit(apigw, unique_name):
    made = [apigw.create_rest_api(name=f"{unique_name}-{i}")["id"] for i in range(5)]
    try:
        seen, position = [], None
        while True:
            page = apigw.get_rest_apis(limit=2, **({"position": position} if position else {}))
            assert len(page["items"]) <= 2
            seen += [item["id"] for item in page["items"]]
            position = page.get("position")
            if not position:
                break
        assert [i for i in seen if i in made] == made  # creation order, each once
        paginated = [i["id"] for p in apigw.get_paginator("get_rest_apis").paginate(limit=3) for i in p["items"]]
        assert [i for i in paginated if i in made] == made
    finally:
        for api_id in made:
            apigw.delete_rest_api(restApiId=api_id)


def test_update_rest_api_patch_operations(apigw, rest_api):
    api_id = rest_api["id"]
    updated = apigw.update_rest_api(
        restApiId=api_id,
        patchOperations=[
            {"op": "replace", "path": "/name", "value": "renamed"},
            {"op": "replace", "path": "/description", "value": "new"},
            {"op": "add", "path": "/binaryMediaTypes/image~1png", "value": ""},
            {"op": "add", "path": "/binaryMediaTypes/image~1jpeg"},
            {"op": "replace", "path": "/minimumCompressionSize", "value": "10"},
            {"op": "replace", "path": "/apiKeySource", "value": "AUTHORIZER"},
            {"op": "replace", "path": "/disableExecuteApiEndpoint", "value": "true"},
            {"op": "replace", "path": "/endpointConfiguration/types/EDGE", "value": "REGIONAL"},
        ],
    )
    assert (updated["name"], updated["description"]) == ("renamed", "new")
    assert updated["binaryMediaTypes"] == ["image/png", "image/jpeg"]
    assert updated["minimumCompressionSize"] == 10
    assert updated["apiKeySource"] == "AUTHORIZER"
    assert updated["disableExecuteApiEndpoint"] is True
    assert updated["endpointConfiguration"]["types"] == ["REGIONAL"]
    assert updated["tags"] == {}
    updated = apigw.update_rest_api(
        restApiId=api_id,
        patchOperations=[
            {"op": "replace", "path": "/binaryMediaTypes/image~1png", "value": "image/gif"},
            {"op": "remove", "path": "/binaryMediaTypes/image~1jpeg"},
            {"op": "replace", "path": "/minimumCompressionSize", "value": ""},
            {"op": "replace", "path": "/policy", "value": json.dumps({"Version": "2012-10-17", "Statement": []})},
        ],
    )
    assert updated["binaryMediaTypes"] == ["image/gif"]
    assert "minimumCompressionSize" not in updated
    assert updated["policy"] == '{\\"Version\\":\\"2012-10-17\\",\\"Statement\\":[]}'
    assert fields(apigw.get_rest_api(restApiId=api_id))["binaryMediaTypes"] == ["image/gif"]

    def patch_refused(*operations):
        return refused(apigw.update_rest_api, restApiId=api_id, patchOperations=list(operations))

    assert patch_refused({"op": "add", "path": "/minimumCompressionSize", "value": "1"}) == (
        "BadRequestException",
        400,
        "Invalid patch operation specified. Must be one of: [replace]",
    )
    assert patch_refused({"op": "replace", "path": "/binaryMediaTypes", "value": "x"})[2] == (
        "Invalid patch path /binaryMediaTypes"
    )
    assert patch_refused({"op": "replace", "path": "/minimumCompressionSize", "value": "-5"})[2] == (
        "Invalid minimum compression size, must be between 0 and 10485760"
    )
    assert patch_refused({"op": "replace", "path": "/endpointConfiguration/ipAddressType", "value": "x"})[2] == (
        "ipAddressType must be either ipv4 or dualstack."
    )
    # A refused batch changes nothing, even its operations that came first.
    patch_refused({"op": "replace", "path": "/name", "value": "half"}, {"op": "replace", "path": "/nope", "value": "x"})
    assert apigw.get_rest_api(restApiId=api_id)["name"] == "renamed"
    assert refused(apigw.update_rest_api, restApiId="nosuchapi0", patchOperations=[])[2] == (
        "Invalid API identifier specified 000000000000:nosuchapi0"
    )


def test_tags_of_apis_and_stages(apigw, rest_api, lamina):
    arn = f"arn:aws:apigateway:us-east-1::/restapis/{rest_api['id']}"
    apigw.tag_resource(resourceArn=arn, tags={"a": "1", "b": "2"})
    apigw.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert apigw.get_tags(resourceArn=arn)["tags"] == {"b": "2"}
    assert apigw.get_rest_api(restApiId=rest_api["id"])["tags"] == {"b": "2"}
    with pytest.raises(ClientError) as caught:
        apigw.get_tags(resourceArn=f"arn:aws:apigateway:us-east-1::/restapis/{rest_api['id']}/stages/none")
    assert error_of(caught)[:2] == ("NotFoundException", 404)


def test_account_settings(apigw):
    account = apigw.get_account()
    assert account["throttleSettings"] == {"burstLimit": 5000, "rateLimit": 10000.0}
    assert account["features"] == ["UsagePlans"]
    role = "arn:aws:iam::000000000000:role/apigw-logs"
    updated = apigw.update_account(patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": role}])
    assert updated["cloudwatchRoleArn"] == role
    assert apigw.get_account()["cloudwatchRoleArn"] == role
    apigw.update_account(patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": ""}])
    assert "cloudwatchRoleArn" not in apigw.get_account()


def test_an_api_belongs_to_its_region(lamina, apigw, rest_api):
    other = lamina.client("apigateway", region_name="eu-west-1")
    api_id = rest_api["id"]
    assert refused(other.get_rest_api, restApiId=api_id) == (
        "NotFoundException",
        404,
        f"Invalid API identifier specified 000000000000:{api_id}",
    )
    assert api_id not in [a["id"] for a in other.get_rest_apis(limit=500)["items"]]
    assert refused(other.get_resources, restApiId=api_id)[0] == "NotFoundException"
    assert refused(other.delete_rest_api, restApiId=api_id)[0] == "NotFoundException"
    assert apigw.get_rest_api(restApiId=api_id)["id"] == api_id


def test_unserved_parts_answer_501(apigw):
    with pytest.raises(ClientError) as caught:
        apigw.get_domain_names()
    assert error_of(caught)[1] == 501
    with pytest.raises(ClientError) as caught:
        apigw.get_vpc_links()
    assert error_of(caught)[1] == 501
