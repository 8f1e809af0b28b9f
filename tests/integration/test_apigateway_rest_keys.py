"""API Gateway's API keys, usage plans, their keys and usage through boto3: values shown only
when asked, AWS's refusals, plans covering API stages with throttles and quotas, patch
paths, ImportApiKeys' CSV, GetUsage and UpdateUsage."""

from __future__ import annotations

import datetime as dt

import pytest
from botocore.exceptions import ClientError

from .test_apigateway_rest_apis import refused


@pytest.fixture
def apigw(lamina):
    return lamina.client("apigateway")


@pytest.fixture
def deployed(apigw, unique_name):
    """A REST API with a deployed stage "prod"."""
    made = apigw.create_rest_api(name=unique_name)
    api_id, root = made["id"], made["rootResourceId"]
    apigw.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE", apiKeyRequired=True)
    apigw.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
    apigw.create_deployment(restApiId=api_id, stageName="prod")
    yield api_id
    try:
        apigw.delete_rest_api(restApiId=api_id)
    except ClientError:
        pass


def test_api_keys(apigw, deployed, unique_name):
    made = apigw.create_api_key(
        name=unique_name,
        description="d",
        enabled=True,
        customerId="c1",
        stageKeys=[{"restApiId": deployed, "stageName": "prod"}],
    )
    key_id = made["id"]
    try:
        assert made["ResponseMetadata"]["HTTPStatusCode"] == 201
        assert len(made["value"]) == 40 and made["enabled"] is True
        assert made["stageKeys"] == [f"{deployed}/prod"]
        got = apigw.get_api_key(apiKey=key_id)
        assert "value" not in got
        assert apigw.get_api_key(apiKey=key_id, includeValue=True)["value"] == made["value"]
        # A key is disabled unless asked otherwise.
        plain = apigw.create_api_key(name=f"{unique_name}-b", value="v" * 24)
        assert plain["enabled"] is False and plain["value"] == "v" * 24
        listed = apigw.get_api_keys(nameQuery=unique_name, includeValues=True)["items"]
        assert [k["id"] for k in listed] == [key_id, plain["id"]]
        assert all("value" in k for k in listed)
        assert [k["id"] for k in apigw.get_api_keys(customerId="c1")["items"]] == [key_id]
        assert refused(apigw.create_api_key, name="dup", value="v" * 24) == (
            "ConflictException",
            409,
            "API Key already exists",
        )
        assert refused(apigw.create_api_key, name="short", value="tooshort")[2] == (
            "API Key value should be at least 20 characters"
        )
        updated = apigw.update_api_key(
            apiKey=key_id,
            patchOperations=[
                {"op": "replace", "path": "/enabled", "value": "false"},
                {"op": "replace", "path": "/name", "value": f"{unique_name}-renamed"},
                {"op": "remove", "path": "/stages", "value": f"{deployed}/prod"},
            ],
        )
        assert (updated["enabled"], updated["name"], updated["stageKeys"]) == (False, f"{unique_name}-renamed", [])
        apigw.delete_api_key(apiKey=plain["id"])
    finally:
        apigw.delete_api_key(apiKey=key_id)
    assert refused(apigw.get_api_key, apiKey=key_id) == (
        "NotFoundException",
        404,
        "Invalid API Key identifier specified",
    )


def test_usage_plans_keys_and_usage(apigw, deployed, unique_name):
    plan = apigw.create_usage_plan(
        name=unique_name,
        apiStages=[{"apiId": deployed, "stage": "prod", "throttle": {"//GET": {"burstLimit": 5, "rateLimit": 2.0}}}],
        throttle={"burstLimit": 10, "rateLimit": 5.0},
        quota={"limit": 100, "period": "DAY"},
        tags={"t": "1"},
    )
    plan_id = plan["id"]
    key = apigw.create_api_key(name=unique_name, enabled=True)
    try:
        assert plan["ResponseMetadata"]["HTTPStatusCode"] == 201
        assert plan["apiStages"][0]["throttle"] == {"//GET": {"burstLimit": 5, "rateLimit": 2.0}}
        assert plan["quota"] == {"limit": 100, "offset": 0, "period": "DAY"}
        plan_key = apigw.create_usage_plan_key(usagePlanId=plan_id, keyId=key["id"], keyType="API_KEY")
        assert plan_key == {**plan_key, "id": key["id"], "type": "API_KEY", "value": key["value"], "name": unique_name}
        assert refused(apigw.create_usage_plan_key, usagePlanId=plan_id, keyId=key["id"], keyType="API_KEY")[0] == (
            "ConflictException"
        )
        assert refused(apigw.create_usage_plan_key, usagePlanId=plan_id, keyId="nosuchkey0", keyType="API_KEY") == (
            "NotFoundException",
            404,
            "Invalid API Key identifier specified",
        )
        assert [k["id"] for k in apigw.get_usage_plan_keys(usagePlanId=plan_id)["items"]] == [key["id"]]
        assert apigw.get_usage_plan_key(usagePlanId=plan_id, keyId=key["id"])["value"] == key["value"]
        assert [p["id"] for p in apigw.get_usage_plans(keyId=key["id"])["items"]] == [plan_id]

        updated = apigw.update_usage_plan(
            usagePlanId=plan_id,
            patchOperations=[
                {"op": "replace", "path": "/throttle/rateLimit", "value": "7.5"},
                {"op": "replace", "path": "/quota/limit", "value": "200"},
                {"op": "replace", "path": "/quota/period", "value": "WEEK"},
                {"op": "replace", "path": f"/apiStages/{deployed}:prod/throttle/~1/GET/rateLimit", "value": "3"},
                {"op": "replace", "path": "/description", "value": "described"},
            ],
        )
        assert updated["throttle"] == {"burstLimit": 10, "rateLimit": 7.5}
        assert (updated["quota"]["limit"], updated["quota"]["period"]) == (200, "WEEK")
        assert updated["apiStages"][0]["throttle"]["//GET"] == {"burstLimit": 5, "rateLimit": 3.0}
        assert updated["description"] == "described"
        removed = apigw.update_usage_plan(
            usagePlanId=plan_id, patchOperations=[{"op": "remove", "path": "/apiStages", "value": f"{deployed}:prod"}]
        )
        assert removed["apiStages"] == []
        apigw.update_usage_plan(
            usagePlanId=plan_id, patchOperations=[{"op": "add", "path": "/apiStages", "value": f"{deployed}:prod"}]
        )

        today = dt.datetime.now(dt.timezone.utc).date()
        usage = apigw.get_usage(
            usagePlanId=plan_id, startDate=(today - dt.timedelta(days=1)).isoformat(), endDate=today.isoformat()
        )
        assert usage["usagePlanId"] == plan_id
        assert usage["items"] == {key["id"]: [[0, 200], [0, 200]]}
        granted = apigw.update_usage(
            usagePlanId=plan_id,
            keyId=key["id"],
            patchOperations=[{"op": "replace", "path": "/remaining", "value": "150"}],
        )
        assert granted["items"][key["id"]][-1] == [50, 150]

        # A deleted key leaves the plans it was in.
        apigw.delete_api_key(apiKey=key["id"])
        assert apigw.get_usage_plan_keys(usagePlanId=plan_id)["items"] == []
        assert refused(apigw.get_usage_plan, usagePlanId="nosuch") == (
            "NotFoundException",
            404,
            "Invalid Usage Plan ID specified",
        )
    finally:
        apigw.delete_usage_plan(usagePlanId=plan_id)
        try:
            apigw.delete_api_key(apiKey=key["id"])
        except ClientError:
            pass
    assert refused(apigw.get_usage_plan, usagePlanId=plan_id)[2] == "Invalid Usage Plan ID specified"


def test_import_api_keys_csv(apigw, unique_name):
    plan = apigw.create_usage_plan(name=unique_name)
    csv = (
        "Name,Key,Description,Enabled,UsagePlanIds\n"
        f"{unique_name}-1,{'a' * 30},first,true,{plan['id']}\n"
        f"{unique_name}-2,{'b' * 30},second,false,\n"
        f"{unique_name}-3,short,bad,true,\n"
    )
    with pytest.raises(ClientError):
        apigw.import_api_keys(body=csv.encode(), format="csv", failOnWarnings=True)
    imported = apigw.import_api_keys(body=csv.encode(), format="csv")
    try:
        assert len(imported["ids"]) == 2
        assert imported["warnings"] == ["Line 4: API Key value should be at least 20 characters"]
        first = apigw.get_api_key(apiKey=imported["ids"][0], includeValue=True)
        assert (first["name"], first["value"], first["enabled"]) == (f"{unique_name}-1", "a" * 30, True)
        assert [k["id"] for k in apigw.get_usage_plan_keys(usagePlanId=plan["id"])["items"]] == [imported["ids"][0]]
    finally:
        for key_id in imported["ids"]:
            apigw.delete_api_key(apiKey=key_id)
        apigw.delete_usage_plan(usagePlanId=plan["id"])
