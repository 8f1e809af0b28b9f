"""API Gateway REST APIs' resources, methods, method responses, integrations and integration
responses through boto3: the path tree and its rules, embed=methods, patch operations, and
AWS's messages word for word."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from .test_apigateway_rest_apis import refused
from .test_lambda_helpers import error_of

LAMBDA_URI = (
    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
    "arn:aws:lambda:us-east-1:000000000000:function:handler/invocations"
)


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


def test_resource_tree_paths_and_rules(apigw, api):
    api_id, root = api
    pets = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="pets")
    assert pets["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert (pets["path"], pets["pathPart"], pets["parentId"]) == ("/pets", "pets", root)
    pet = apigw.create_resource(restApiId=api_id, parentId=pets["id"], pathPart="{petId}")
    assert pet["path"] == "/pets/{petId}"
    proxy = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="{proxy+}")
    assert proxy["path"] == "/{proxy+}"

    def create_refused(parent, part):
        return refused(apigw.create_resource, restApiId=api_id, parentId=parent, pathPart=part)

    assert create_refused(root, "pets") == (
        "ConflictException",
        409,
        "Another resource with the same parent already has this name: pets",
    )
    assert create_refused(pets["id"], "{other}") == (
        "BadRequestException",
        400,
        "A sibling ({petId}) of this resource already has a variable path part -- only one is allowed",
    )
    assert create_refused(root, "{dynamic}")[2] == (
        "A sibling ({proxy+}) of this resource already has a variable path part -- only one is allowed"
    )
    assert create_refused(proxy["id"], "child")[2] == (
        "Cannot create a child of a resource with a greedy path variable: {proxy+}"
    )
    assert create_refused(root, "bad part")[2] == (
        "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an "
        "optional plus sign before the closing brace."
    )
    assert create_refused("nosuch", "x") == ("NotFoundException", 404, "Invalid Resource identifier specified")

    listed = apigw.get_resources(restApiId=api_id)["items"]
    assert [r["path"] for r in listed] == ["/", "/pets", "/pets/{petId}", "/{proxy+}"]

    moved = apigw.update_resource(
        restApiId=api_id,
        resourceId=pet["id"],
        patchOperations=[
            {"op": "replace", "path": "/pathPart", "value": "owners"},
            {"op": "replace", "path": "/parentId", "value": root},
        ],
    )
    assert (moved["path"], moved["parentId"]) == ("/owners", root)

    def update_refused(resource_id, *operations):
        return refused(
            apigw.update_resource, restApiId=api_id, resourceId=resource_id, patchOperations=list(operations)
        )

    assert update_refused(pet["id"], {"op": "replace", "path": "/invalid", "value": "x"})[2] == (
        "Invalid patch path  '/invalid' specified for op 'replace'. Must be one of: [/parentId, /pathPart]"
    )
    assert update_refused(pet["id"], {"op": "remove", "path": "/pathPart"})[2] == (
        "Invalid patch path  '/pathPart' specified for op 'remove'. Please choose supported operations"
    )
    assert update_refused(pet["id"], {"op": "replace", "path": "/pathPart", "value": "pets"})[0] == "ConflictException"
    child = apigw.create_resource(restApiId=api_id, parentId=pet["id"], pathPart="toys")
    assert update_refused(pet["id"], {"op": "replace", "path": "/parentId", "value": child["id"]})[2] == (
        "Resources cannot be cyclical."
    )
    assert update_refused(root, {"op": "replace", "path": "/pathPart", "value": "x"})[2] == (
        "Root resource cannot update its pathPart."
    )
    # Deleting a resource deletes what is under it.
    apigw.delete_resource(restApiId=api_id, resourceId=pet["id"])
    assert [r["path"] for r in apigw.get_resources(restApiId=api_id)["items"]] == ["/", "/pets", "/{proxy+}"]
    assert refused(apigw.get_resource, restApiId=api_id, resourceId=child["id"])[2] == (
        "Invalid Resource identifier specified"
    )


def test_methods_and_their_rules(apigw, api):
    api_id, root = api
    validator = apigw.create_request_validator(restApiId=api_id, name="body", validateRequestBody=True)
    put = apigw.put_method(
        restApiId=api_id,
        resourceId=root,
        httpMethod="ANY",
        authorizationType="NONE",
        apiKeyRequired=True,
        operationName="Root",
        requestParameters={"method.request.querystring.q": True, "method.request.header.h": False},
        requestModels={"application/json": "Empty"},
        requestValidatorId=validator["id"],
    )
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 201
    got = apigw.get_method(restApiId=api_id, resourceId=root, httpMethod="ANY")
    assert got["requestParameters"] == {"method.request.querystring.q": True, "method.request.header.h": False}
    assert (got["apiKeyRequired"], got["operationName"], got["requestValidatorId"]) == (True, "Root", validator["id"])
    assert "methodIntegration" not in got and "methodResponses" not in got

    def put_refused(**params):
        base = {"restApiId": api_id, "resourceId": root, "httpMethod": "GET", "authorizationType": "NONE"}
        return refused(apigw.put_method, **{**base, **params})

    assert put_refused(httpMethod="ANY") == ("ConflictException", 409, "Method already exists for this resource")
    assert put_refused(httpMethod="FETCH")[2] == (
        "Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY"
    )
    assert put_refused(authorizationType="CUSTOM")[2] == (
        "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS requires a "
        "valid authorizer."
    )
    assert put_refused(requestValidatorId="nope") == (
        "BadRequestException",
        400,
        "Invalid Request Validator identifier specified",
    )
    assert put_refused(requestModels={"application/json": "petModel"})[2] == (
        "Invalid model identifier specified: petModel"
    )
    assert (
        put_refused(requestParameters={"method.request.querystring.x": True, "method.request.header.x": True})[2]
        == "Parameter names must be unique across querystring, header and path"
    )
    assert put_refused(restApiId="nosuchapi0") == ("NotFoundException", 404, "Invalid Resource identifier specified")
    assert refused(apigw.get_method, restApiId=api_id, resourceId=root, httpMethod="GET")[2] == (
        "Invalid Method identifier specified"
    )

    updated = apigw.update_method(
        restApiId=api_id,
        resourceId=root,
        httpMethod="ANY",
        patchOperations=[
            {"op": "replace", "path": "/apiKeyRequired", "value": "false"},
            {"op": "replace", "path": "/authorizationType", "value": "AWS_IAM"},
            {"op": "add", "path": "/requestParameters/method.request.querystring.extra", "value": "true"},
            {"op": "remove", "path": "/requestParameters/method.request.header.h"},
            {"op": "remove", "path": "/requestModels/application~1json"},
        ],
    )
    assert updated["authorizationType"] == "AWS_IAM" and updated["apiKeyRequired"] is False
    assert updated["requestParameters"] == {
        "method.request.querystring.q": True,
        "method.request.querystring.extra": True,
    }
    assert "requestModels" not in updated

    def update_refused(*operations):
        return refused(
            apigw.update_method, restApiId=api_id, resourceId=root, httpMethod="ANY", patchOperations=list(operations)
        )

    assert update_refused({"op": "add", "path": "/operationName", "value": "x"})[2] == (
        "Invalid patch operation specified. Must be one of: [replace]"
    )
    assert update_refused({"op": "replace", "path": "/httpMethod", "value": "GET"})[2] == (
        "Invalid patch path /httpMethod"
    )
    assert update_refused({"op": "add", "path": "/requestModels/application/json", "value": "Empty"})[2] == (
        "Invalid patch path /requestModels/application/json"
    )
    assert update_refused({"op": "replace", "path": "/authorizationType", "value": "CUSTOM"})[2].startswith(
        "Invalid authorizer ID specified."
    )
    apigw.delete_method(restApiId=api_id, resourceId=root, httpMethod="ANY")
    assert refused(apigw.delete_method, restApiId=api_id, resourceId=root, httpMethod="ANY")[2] == (
        "Invalid Method identifier specified"
    )


def test_method_responses(apigw, api):
    api_id, root = api
    apigw.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    made = apigw.put_method_response(
        restApiId=api_id,
        resourceId=root,
        httpMethod="GET",
        statusCode="200",
        responseParameters={"method.response.header.my-header": True},
        responseModels={"application/json": "Empty"},
    )
    assert made["statusCode"] == "200"
    updated = apigw.update_method_response(
        restApiId=api_id,
        resourceId=root,
        httpMethod="GET",
        statusCode="200",
        patchOperations=[
            {"op": "replace", "path": "/responseParameters/method.response.header.my-header", "value": "false"},
            {"op": "add", "path": "/responseModels/text~1plain", "value": "Error"},
        ],
    )
    assert updated["responseParameters"] == {"method.response.header.my-header": False}
    assert updated["responseModels"] == {"application/json": "Empty", "text/plain": "Error"}
    method = apigw.get_method(restApiId=api_id, resourceId=root, httpMethod="GET")
    assert method["methodResponses"]["200"]["responseModels"]["text/plain"] == "Error"

    def update_refused(path):
        return refused(
            apigw.update_method_response,
            restApiId=api_id,
            resourceId=root,
            httpMethod="GET",
            statusCode="200",
            patchOperations=[{"op": "replace", "path": path, "value": "x"}],
        )

    assert update_refused("/responseParameters/method.response.header.none") == (
        "NotFoundException",
        404,
        "Invalid parameter name specified",
    )
    assert update_refused("/responseModels/application~1xml")[2] == "Content-Type specified was not found"
    assert refused(
        apigw.get_method_response, restApiId=api_id, resourceId=root, httpMethod="GET", statusCode="404"
    ) == ("NotFoundException", 404, "Invalid Response status code specified")
    code, status, message = refused(
        apigw.get_method_response, restApiId=api_id, resourceId=root, httpMethod="GET", statusCode="wrong"
    )
    # AWS answers ValidationException here; Lamina's protocol layer names API Gateway's model
    # refusals BadRequestException (protocol/parsers.py): the status and words are AWS's.
    assert status == 400 and code in ("ValidationException", "BadRequestException")
    assert "Member must satisfy regular expression pattern: [1-5]\\d\\d" in message
    # A model a method response uses cannot be deleted.
    assert refused(apigw.delete_model, restApiId=api_id, modelName="Error") == (
        "ConflictException",
        409,
        "Cannot delete model 'Error', is referenced in method response: //GET",
    )
    apigw.delete_method_response(restApiId=api_id, resourceId=root, httpMethod="GET", statusCode="200")
    apigw.delete_model(restApiId=api_id, modelName="Error")


def test_integrations_and_their_validation(apigw, api):
    api_id, root = api
    apigw.put_method(restApiId=api_id, resourceId=root, httpMethod="POST", authorizationType="NONE")
    assert refused(apigw.get_integration, restApiId=api_id, resourceId=root, httpMethod="POST") == (
        "NotFoundException",
        404,
        "Invalid Integration identifier specified",
    )

    def put_refused(**params):
        base = {"restApiId": api_id, "resourceId": root, "httpMethod": "POST"}
        return refused(apigw.put_integration, **{**base, **params})

    assert put_refused(type="AWS_PROXY", uri=LAMBDA_URI) == (
        "BadRequestException",
        400,
        "Enumeration value for HttpMethod must be non-empty",
    )
    assert put_refused(type="HTTP", integrationHttpMethod="GET", uri="not a url")[2] == (
        "Invalid HTTP endpoint specified for URI"
    )
    assert put_refused(type="AWS", integrationHttpMethod="POST", uri="arn:nope")[2] == (
        "Invalid ARN specified in the request"
    )
    assert put_refused(type="AWS", integrationHttpMethod="POST", uri="arn:aws:apigateway:us-east-1:sqs:x")[2] == (
        "AWS ARN for integration must contain path or action"
    )
    assert put_refused(type="AWS_PROXY", integrationHttpMethod="POST", uri="arn:aws:apigateway:us-east-1:sqs:path/q")[
        2
    ] == ("Integrations of type 'AWS_PROXY' currently only supports Lambda function and Firehose stream invocations.")
    assert put_refused(type="MOCK", timeoutInMillis=30000)[2] == "Timeout should be between 50 ms and 29000 ms"
    assert put_refused(type="MOCK", httpMethod="GET")[2] == "Invalid Method identifier specified"

    made = apigw.put_integration(
        restApiId=api_id,
        resourceId=root,
        httpMethod="POST",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=LAMBDA_URI,
        credentials="arn:aws:iam::000000000000:role/apigw",
        requestParameters={"integration.request.header.x": "method.request.header.y"},
        cacheKeyParameters=["method.request.header.y"],
    )
    assert made["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert (made["type"], made["httpMethod"], made["uri"]) == ("AWS_PROXY", "POST", LAMBDA_URI)
    assert (made["passthroughBehavior"], made["timeoutInMillis"], made["cacheNamespace"]) == (
        "WHEN_NO_MATCH",
        29000,
        root,
    )
    http = apigw.put_integration(
        restApiId=api_id,
        resourceId=root,
        httpMethod="POST",
        type="HTTP",
        integrationHttpMethod="GET",
        uri="https://${stageVariables.host}/path",
        requestTemplates={"application/json": '{"a": "$input.params(\'a\')"}'},
        passthroughBehavior="NEVER",
        timeoutInMillis=5000,
    )
    assert http["uri"] == "https://${stageVariables.host}/path"
    response = apigw.put_integration_response(
        restApiId=api_id,
        resourceId=root,
        httpMethod="POST",
        statusCode="400",
        selectionPattern="4\\d{2}",
        responseTemplates={"application/json": "$input.body"},
        responseParameters={"method.response.header.x": "integration.response.header.y"},
    )
    assert response["selectionPattern"] == "4\\d{2}"
    updated = apigw.update_integration_response(
        restApiId=api_id,
        resourceId=root,
        httpMethod="POST",
        statusCode="400",
        patchOperations=[{"op": "replace", "path": "/selectionPattern", "value": "Error.*"}],
    )
    assert updated["selectionPattern"] == "Error.*"
    integration = apigw.update_integration(
        restApiId=api_id,
        resourceId=root,
        httpMethod="POST",
        patchOperations=[
            {"op": "replace", "path": "/timeoutInMillis", "value": "10000"},
            {"op": "add", "path": "/requestTemplates/text~1plain", "value": "plain"},
            {"op": "add", "path": "/cacheKeyParameters/method.request.querystring.q"},
        ],
    )
    assert integration["timeoutInMillis"] == 10000
    assert integration["requestTemplates"]["text/plain"] == "plain"
    assert integration["cacheKeyParameters"] == ["method.request.querystring.q"]
    assert integration["integrationResponses"]["400"]["selectionPattern"] == "Error.*"
    method = apigw.get_method(restApiId=api_id, resourceId=root, httpMethod="POST")
    assert method["methodIntegration"]["type"] == "HTTP"
    assert refused(
        apigw.update_integration,
        restApiId=api_id,
        resourceId=root,
        httpMethod="POST",
        patchOperations=[{"op": "replace", "path": "/timeoutInMillis", "value": "1"}],
    )[2] == ("Timeout should be between 50 ms and 29000 ms")
    assert refused(
        apigw.get_integration_response, restApiId=api_id, resourceId=root, httpMethod="POST", statusCode="500"
    )[2] == ("Invalid Response status code specified")
    apigw.delete_integration_response(restApiId=api_id, resourceId=root, httpMethod="POST", statusCode="400")
    apigw.delete_integration(restApiId=api_id, resourceId=root, httpMethod="POST")
    assert "methodIntegration" not in apigw.get_method(restApiId=api_id, resourceId=root, httpMethod="POST")


def test_get_resources_embeds_methods(apigw, api):
    api_id, root = api
    apigw.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
    plain = apigw.get_resources(restApiId=api_id)["items"][0]
    assert plain["resourceMethods"] == {"GET": {}}
    embedded = apigw.get_resources(restApiId=api_id, embed=["methods"])["items"][0]
    assert embedded["resourceMethods"]["GET"]["methodIntegration"]["type"] == "MOCK"
    one = apigw.get_resource(restApiId=api_id, resourceId=root, embed=["methods"])
    assert one["resourceMethods"]["GET"]["httpMethod"] == "GET"
    with pytest.raises(ClientError) as caught:
        apigw.get_resource(restApiId=api_id, resourceId="nosuch")
    assert error_of(caught) == ("NotFoundException", 404, "Invalid Resource identifier specified")
