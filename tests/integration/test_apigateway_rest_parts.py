"""API Gateway REST APIs' authorizers, request validators, models and gateway responses
through boto3 (AWS's defaults and messages), and everything surviving a restart."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from .test_apigateway_rest_apis import refused

AUTHORIZER_URI = (
    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
    "arn:aws:lambda:us-east-1:000000000000:function:auth/invocations"
)
POOL = "arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_abc"


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


def test_authorizers(apigw, api):
    api_id, root = api
    token = apigw.create_authorizer(
        restApiId=api_id,
        name="token",
        type="TOKEN",
        authorizerUri=AUTHORIZER_URI,
        identitySource="method.request.header.Authorization",
        identityValidationExpression="^Bearer .+$",
    )
    assert token["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert token["authorizerResultTtlInSeconds"] == 300
    request = apigw.create_authorizer(
        restApiId=api_id,
        name="request",
        type="REQUEST",
        authorizerUri=AUTHORIZER_URI,
        identitySource="method.request.header.X, method.request.querystring.q",
        authorizerResultTtlInSeconds=0,
    )
    cognito = apigw.create_authorizer(
        restApiId=api_id,
        name="pool",
        type="COGNITO_USER_POOLS",
        providerARNs=[POOL],
        identitySource="method.request.header.Authorization",
    )
    assert {a["name"] for a in apigw.get_authorizers(restApiId=api_id)["items"]} == {"token", "request", "pool"}
    assert refused(apigw.create_authorizer, restApiId="nosuchapi0", name="x", type="TOKEN") == (
        "ConflictException",
        409,
        "Unable to complete operation due to concurrent modification. Please try again later.",
    )
    assert refused(apigw.get_authorizer, restApiId=api_id, authorizerId="nosuch") == (
        "NotFoundException",
        404,
        "Invalid Authorizer identifier specified",
    )
    updated = apigw.update_authorizer(
        restApiId=api_id,
        authorizerId=request["id"],
        patchOperations=[{"op": "replace", "path": "/authorizerResultTtlInSeconds", "value": "120"}],
    )
    assert updated["authorizerResultTtlInSeconds"] == 120
    # Methods use them by type: CUSTOM a TOKEN or REQUEST authorizer, COGNITO_USER_POOLS a pool.
    apigw.put_method(
        restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="CUSTOM", authorizerId=token["id"]
    )
    apigw.put_method(
        restApiId=api_id,
        resourceId=root,
        httpMethod="POST",
        authorizationType="COGNITO_USER_POOLS",
        authorizerId=cognito["id"],
        authorizationScopes=["email"],
    )
    assert refused(
        apigw.put_method,
        restApiId=api_id,
        resourceId=root,
        httpMethod="PUT",
        authorizationType="COGNITO_USER_POOLS",
        authorizerId=token["id"],
    )[2].startswith("Invalid authorizer ID specified.")
    assert refused(apigw.delete_authorizer, restApiId=api_id, authorizerId=token["id"])[0] == "ConflictException"
    apigw.delete_authorizer(restApiId=api_id, authorizerId=request["id"])
    assert len(apigw.get_authorizers(restApiId=api_id)["items"]) == 2


def test_request_validators(apigw, api):
    api_id, _ = api
    made = apigw.create_request_validator(restApiId=api_id, name="params", validateRequestParameters=True)
    assert (made["validateRequestBody"], made["validateRequestParameters"]) == (False, True)
    assert refused(apigw.create_request_validator, restApiId="nosuchapi0", name="x") == (
        "BadRequestException",
        400,
        "Invalid REST API identifier specified",
    )
    updated = apigw.update_request_validator(
        restApiId=api_id,
        requestValidatorId=made["id"],
        patchOperations=[{"op": "replace", "path": "/validateRequestBody", "value": "true"}],
    )
    assert updated["validateRequestBody"] is True

    def update_refused(*operations):
        return refused(
            apigw.update_request_validator,
            restApiId=api_id,
            requestValidatorId=made["id"],
            patchOperations=list(operations),
        )

    assert update_refused({"op": "add", "path": "/validateRequestBody", "value": "true"})[2] == (
        "Invalid patch path  '/validateRequestBody' specified for op 'add'. Please choose supported operations"
    )
    assert update_refused({"op": "replace", "path": "/invalidPath", "value": "x"})[2] == (
        "Invalid patch path  '/invalidPath' specified for op 'replace'. Must be one of: "
        "[/name, /validateRequestParameters, /validateRequestBody]"
    )
    assert (
        update_refused({"op": "replace", "path": "/name", "value": ""})[2] == "Request Validator name cannot be blank"
    )
    apigw.delete_request_validator(restApiId=api_id, requestValidatorId=made["id"])
    assert refused(apigw.get_request_validator, restApiId=api_id, requestValidatorId=made["id"]) == (
        "NotFoundException",
        404,
        "Invalid Request Validator identifier specified",
    )


def test_models(apigw, api):
    api_id, root = api
    schema = {"title": "Pet", "type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}}
    made = apigw.create_model(
        restApiId=api_id, name="Pet", schema=json.dumps(schema), contentType="application/json", description="a pet"
    )
    assert made["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert (made["name"], made["description"], json.loads(made["schema"])) == ("Pet", "a pet", schema)
    assert refused(
        apigw.create_model, restApiId=api_id, name="Pet", schema=json.dumps(schema), contentType="application/json"
    )[:3] == ("ConflictException", 409, "Model name already exists for this REST API")
    assert refused(apigw.create_model, restApiId=api_id, name="Other", schema="{}", contentType="application/json")[
        2
    ] == ("Model schema must have at least 1 property or array items defined")
    assert refused(apigw.get_model, restApiId=api_id, modelName="MySchema") == (
        "NotFoundException",
        404,
        "Invalid model name specified: MySchema",
    )
    assert refused(
        apigw.update_model,
        restApiId=api_id,
        modelName="Pet",
        patchOperations=[{"op": "replace", "path": "/name", "value": "x"}],
    )[2] == ("Invalid patch path  '/name' specified for op 'replace'. Must be one of: [/description, /schema]")
    template = apigw.get_model_template(restApiId=api_id, modelName="Pet")["value"]
    assert template.startswith("#set($inputRoot = $input.path('$'))")
    assert '"name" : "$inputRoot.name"' in template and '"age" : $inputRoot.age' in template
    apigw.put_method(
        restApiId=api_id,
        resourceId=root,
        httpMethod="ANY",
        authorizationType="NONE",
        requestModels={"application/json": "Pet"},
    )
    assert refused(apigw.delete_model, restApiId=api_id, modelName="Pet") == (
        "ConflictException",
        409,
        "Cannot delete model 'Pet', is referenced in method request: //ANY",
    )


def test_gateway_responses_defaults_and_puts(apigw, api):
    api_id, _ = api
    listed = {r["responseType"]: r for r in apigw.get_gateway_responses(restApiId=api_id)["items"]}
    assert len(listed) == 21
    template = {"application/json": '{"message":$context.error.messageString}'}
    for response_type, status in {
        "MISSING_AUTHENTICATION_TOKEN": "403",
        "ACCESS_DENIED": "403",
        "UNAUTHORIZED": "401",
        "THROTTLED": "429",
        "QUOTA_EXCEEDED": "429",
        "INVALID_API_KEY": "403",
        "API_CONFIGURATION_ERROR": "500",
        "INTEGRATION_FAILURE": "504",
        "INTEGRATION_TIMEOUT": "504",
        "RESOURCE_NOT_FOUND": "404",
        "BAD_REQUEST_BODY": "400",
        "BAD_REQUEST_PARAMETERS": "400",
        "REQUEST_TOO_LARGE": "413",
        "EXPIRED_TOKEN": "403",
        "INVALID_SIGNATURE": "403",
        "AUTHORIZER_FAILURE": "500",
        "AUTHORIZER_CONFIGURATION_ERROR": "500",
        "UNSUPPORTED_MEDIA_TYPE": "415",
        "WAF_FILTERED": "403",
    }.items():
        assert listed[response_type] == {
            "responseType": response_type,
            "statusCode": status,
            "defaultResponse": True,
            "responseParameters": {},
            "responseTemplates": template,
        }, response_type
    assert "statusCode" not in listed["DEFAULT_4XX"] and "statusCode" not in listed["DEFAULT_5XX"]

    put = apigw.put_gateway_response(
        restApiId=api_id,
        responseType="DEFAULT_5XX",
        statusCode="599",
        responseParameters={"gatewayresponse.header.x": "'y'"},
    )
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 201 and put["defaultResponse"] is False
    inherited = apigw.get_gateway_response(restApiId=api_id, responseType="INTEGRATION_TIMEOUT")
    assert (inherited["statusCode"], inherited["defaultResponse"]) == ("599", True)
    assert inherited["responseParameters"] == {"gatewayresponse.header.x": "'y'"}
    updated = apigw.update_gateway_response(
        restApiId=api_id,
        responseType="UNAUTHORIZED",
        patchOperations=[
            {"op": "replace", "path": "/statusCode", "value": "401"},
            {"op": "add", "path": "/responseParameters/gatewayresponse.header.WWW-Authenticate", "value": "'Bearer'"},
        ],
    )
    assert updated["defaultResponse"] is False
    assert updated["responseParameters"] == {"gatewayresponse.header.WWW-Authenticate": "'Bearer'"}
    assert refused(
        apigw.update_gateway_response,
        restApiId=api_id,
        responseType="UNAUTHORIZED",
        patchOperations=[{"op": "replace", "path": "/wrongPath", "value": "x"}],
    )[2] == ("Invalid patch path /wrongPath")
    apigw.delete_gateway_response(restApiId=api_id, responseType="UNAUTHORIZED")
    assert apigw.get_gateway_response(restApiId=api_id, responseType="UNAUTHORIZED")["defaultResponse"] is True
    assert refused(apigw.delete_gateway_response, restApiId=api_id, responseType="UNAUTHORIZED") == (
        "NotFoundException",
        404,
        "Gateway response type not defined on api",
    )
    assert refused(apigw.get_gateway_responses, restApiId="fake-api-id")[2] == (
        "Invalid API identifier specified 000000000000:fake-api-id"
    )


def test_everything_survives_a_restart(lamina_factory):
    server = lamina_factory()
    apigw = server.client("apigateway")
    made = apigw.create_rest_api(name="kept", tags={"k": "v"}, binaryMediaTypes=["image/png"])
    api_id, root = made["id"], made["rootResourceId"]
    pets = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="pets")["id"]
    apigw.put_method(restApiId=api_id, resourceId=pets, httpMethod="GET", authorizationType="NONE", apiKeyRequired=True)
    apigw.put_integration(
        restApiId=api_id,
        resourceId=pets,
        httpMethod="GET",
        type="HTTP_PROXY",
        integrationHttpMethod="GET",
        uri="https://example.com/v1",
    )
    deployment = apigw.create_deployment(restApiId=api_id, stageName="prod", variables={"a": "b"})["id"]
    apigw.update_integration(
        restApiId=api_id,
        resourceId=pets,
        httpMethod="GET",
        patchOperations=[{"op": "replace", "path": "/uri", "value": "https://example.com/v2"}],
    )
    apigw.put_gateway_response(restApiId=api_id, responseType="THROTTLED", statusCode="503")
    key = apigw.create_api_key(name="kept", enabled=True)
    plan = apigw.create_usage_plan(name="kept", apiStages=[{"apiId": api_id, "stage": "prod"}])
    apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    role = "arn:aws:iam::000000000000:role/logs"
    apigw.update_account(patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": role}])

    server.restart(kill=True)
    apigw = server.client("apigateway")

    api = apigw.get_rest_api(restApiId=api_id)
    assert (api["tags"], api["binaryMediaTypes"], api["rootResourceId"]) == ({"k": "v"}, ["image/png"], root)
    method = apigw.get_method(restApiId=api_id, resourceId=pets, httpMethod="GET")
    assert method["methodIntegration"]["uri"] == "https://example.com/v2"
    stage = apigw.get_stage(restApiId=api_id, stageName="prod")
    assert (stage["deploymentId"], stage["variables"]) == (deployment, {"a": "b"})
    exported = json.loads(
        apigw.get_export(
            restApiId=api_id, stageName="prod", exportType="swagger", parameters={"extensions": "integrations"}
        )["body"].read()
    )
    assert exported["paths"]["/pets"]["get"]["x-amazon-apigateway-integration"]["uri"] == "https://example.com/v1"
    assert apigw.get_gateway_response(restApiId=api_id, responseType="THROTTLED")["statusCode"] == "503"
    assert apigw.get_api_key(apiKey=key["id"], includeValue=True)["value"] == key["value"]
    assert [k["id"] for k in apigw.get_usage_plan_keys(usagePlanId=plan["id"])["items"]] == [key["id"]]
    assert apigw.get_account()["cloudwatchRoleArn"] == role
    # The restarted owner keeps taking changes.
    apigw.create_deployment(restApiId=api_id, stageName="prod")
    assert len(apigw.get_deployments(restApiId=api_id)["items"]) == 2
