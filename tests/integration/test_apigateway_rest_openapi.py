"""API Gateway REST APIs from and to OpenAPI through boto3: ImportRestApi of a SAM-style
Swagger 2.0 definition (x-amazon-apigateway-integration, authorizers, validators, gateway
responses, binary media types, policy), OpenAPI 3.0 in YAML, PutRestApi's merge and
overwrite, GetExport as Swagger or OpenAPI 3.0 (JSON or YAML) and the round trip back."""

from __future__ import annotations

import json

import pytest
import yaml
from botocore.exceptions import ClientError

from .test_apigateway_rest_apis import refused

FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:hello"
LAMBDA_URI = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{FUNCTION}/invocations"

SAM_SWAGGER = {
    "swagger": "2.0",
    "info": {"version": "1.0", "title": "sam-app"},
    "basePath": "/Prod",
    "x-amazon-apigateway-binary-media-types": ["image/png"],
    "x-amazon-apigateway-request-validators": {"all": {"validateRequestBody": True, "validateRequestParameters": True}},
    "x-amazon-apigateway-gateway-responses": {
        "DEFAULT_4XX": {"responseParameters": {"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"}}
    },
    "x-amazon-apigateway-policy": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "*"}],
    },
    "securityDefinitions": {
        "MyAuthorizer": {
            "type": "apiKey",
            "name": "Authorization",
            "in": "header",
            "x-amazon-apigateway-authtype": "custom",
            "x-amazon-apigateway-authorizer": {
                "type": "token",
                "authorizerUri": LAMBDA_URI,
                "authorizerResultTtlInSeconds": 60,
            },
        },
        "api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"},
    },
    "definitions": {
        "Pet": {"type": "object", "properties": {"name": {"type": "string"}}},
        "Pets": {"type": "array", "items": {"$ref": "#/definitions/Pet"}},
    },
    "paths": {
        "/hello": {
            "get": {
                "operationId": "SayHello",
                "parameters": [{"name": "who", "in": "query", "required": True, "type": "string"}],
                "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/Pets"}}},
                "security": [{"MyAuthorizer": []}, {"api_key": []}],
                "x-amazon-apigateway-integration": {
                    "httpMethod": "POST",
                    "type": "aws_proxy",
                    "uri": LAMBDA_URI,
                    "passthroughBehavior": "when_no_match",
                },
            }
        },
        "/pets/{petId}": {
            "parameters": [{"name": "petId", "in": "path", "required": True, "type": "string"}],
            "post": {
                "parameters": [
                    {"in": "body", "name": "Pet", "required": True, "schema": {"$ref": "#/definitions/Pet"}}
                ],
                "x-amazon-apigateway-request-validator": "all",
                "responses": {"201": {"description": "made", "headers": {"Location": {"type": "string"}}}},
                "x-amazon-apigateway-integration": {
                    "type": "mock",
                    "requestTemplates": {"application/json": '{"statusCode": 201}'},
                    "responses": {
                        "default": {
                            "statusCode": "201",
                            "responseParameters": {"method.response.header.Location": "'/pets/1'"},
                        }
                    },
                },
            },
        },
        "/{proxy+}": {
            "x-amazon-apigateway-any-method": {
                "x-amazon-apigateway-integration": {
                    "httpMethod": "ANY",
                    "type": "http_proxy",
                    "uri": "https://example.com/{proxy}",
                    "requestParameters": {"integration.request.path.proxy": "method.request.path.proxy"},
                },
                "parameters": [{"name": "proxy", "in": "path", "required": True, "type": "string"}],
            }
        },
    },
}


@pytest.fixture
def apigw(lamina):
    return lamina.client("apigateway")


@pytest.fixture
def imported(apigw):
    made = apigw.import_rest_api(body=json.dumps(SAM_SWAGGER).encode())
    yield made
    try:
        apigw.delete_rest_api(restApiId=made["id"])
    except ClientError:
        pass


def methods_by_path(apigw, api_id: str) -> dict:
    items = apigw.get_resources(restApiId=api_id, embed=["methods"], limit=500)["items"]
    return {item["path"]: item.get("resourceMethods", {}) for item in items}


def test_import_a_sam_style_swagger(apigw, imported):
    api_id = imported["id"]
    assert imported["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert (imported["name"], imported["version"]) == ("sam-app", "1.0")
    assert imported["binaryMediaTypes"] == ["image/png"]
    assert json.loads(imported["policy"].replace('\\"', '"'))["Statement"][0]["Action"] == "execute-api:Invoke"
    methods = methods_by_path(apigw, api_id)
    # basePath is ignored by default.
    assert set(methods) == {"/", "/hello", "/pets", "/pets/{petId}", "/{proxy+}"}
    hello = methods["/hello"]["GET"]
    authorizer = apigw.get_authorizers(restApiId=api_id)["items"][0]
    assert (authorizer["name"], authorizer["type"], authorizer["authorizerUri"]) == (
        "MyAuthorizer",
        "TOKEN",
        LAMBDA_URI,
    )
    assert authorizer["identitySource"] == "method.request.header.Authorization"
    assert authorizer["authorizerResultTtlInSeconds"] == 60
    assert (hello["authorizationType"], hello["authorizerId"], hello["apiKeyRequired"]) == (
        "CUSTOM",
        authorizer["id"],
        True,
    )
    assert hello["operationName"] == "SayHello"
    assert hello["requestParameters"] == {"method.request.querystring.who": True}
    assert hello["methodResponses"]["200"]["responseModels"] == {"application/json": "Pets"}
    integration = hello["methodIntegration"]
    assert (integration["type"], integration["httpMethod"], integration["uri"]) == ("AWS_PROXY", "POST", LAMBDA_URI)
    assert integration["passthroughBehavior"] == "WHEN_NO_MATCH"
    post = methods["/pets/{petId}"]["POST"]
    validator = apigw.get_request_validators(restApiId=api_id)["items"][0]
    assert (validator["name"], post["requestValidatorId"]) == ("all", validator["id"])
    assert post["requestModels"] == {"application/json": "Pet"}
    assert post["requestParameters"] == {"method.request.path.petId": True}
    assert post["methodResponses"]["201"]["responseParameters"] == {"method.response.header.Location": False}
    assert post["methodIntegration"]["integrationResponses"]["201"]["responseParameters"] == {
        "method.response.header.Location": "'/pets/1'"
    }
    assert "selectionPattern" not in post["methodIntegration"]["integrationResponses"]["201"]
    proxy = methods["/{proxy+}"]["ANY"]
    assert proxy["methodIntegration"]["type"] == "HTTP_PROXY"
    models = {m["name"]: m for m in apigw.get_models(restApiId=api_id)["items"]}
    assert set(models) == {"Empty", "Error", "Pet", "Pets"}
    ref = json.loads(models["Pets"]["schema"])["items"]["$ref"]
    assert ref == f"https://apigateway.amazonaws.com/restapis/{api_id}/models/Pet"
    flat = json.loads(apigw.get_model(restApiId=api_id, modelName="Pets", flatten=True)["schema"])
    assert flat["items"]["properties"] == {"name": {"type": "string"}}
    response = apigw.get_gateway_response(restApiId=api_id, responseType="DEFAULT_4XX")
    assert response["defaultResponse"] is False
    assert response["responseParameters"] == {"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"}
    # ACCESS_DENIED is left at its default but takes DEFAULT_4XX's settings, as AWS does.
    denied = apigw.get_gateway_response(restApiId=api_id, responseType="ACCESS_DENIED")
    assert denied["defaultResponse"] is True
    assert denied["responseParameters"] == response["responseParameters"]
    # The imported API deploys.
    apigw.create_deployment(restApiId=api_id, stageName="Prod")


def test_base_path_prepend_and_yaml_openapi3(apigw):
    document = {
        "openapi": "3.0.1",
        "info": {"title": "oas3", "version": "2"},
        "servers": [{"url": "https://example.com/{basePath}", "variables": {"basePath": {"default": "v1"}}}],
        "components": {
            "schemas": {"Item": {"type": "object", "properties": {"id": {"type": "string"}}}},
            "securitySchemes": {
                "sigv4": {
                    "type": "apiKey",
                    "name": "Authorization",
                    "in": "header",
                    "x-amazon-apigateway-authtype": "awsSigv4",
                }
            },
        },
        "paths": {
            "/items": {
                "put": {
                    "security": [{"sigv4": []}],
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}},
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}},
                        }
                    },
                    "x-amazon-apigateway-integration": {"type": "mock", "requestTemplates": {"application/json": "{}"}},
                }
            }
        },
    }
    made = apigw.import_rest_api(body=yaml.safe_dump(document).encode(), parameters={"basepath": "prepend"})
    try:
        methods = methods_by_path(apigw, made["id"])
        assert set(methods) == {"/", "/v1", "/v1/items"}
        put = methods["/v1/items"]["PUT"]
        assert put["authorizationType"] == "AWS_IAM"
        assert put["requestModels"] == {"application/json": "Item"}
        assert put["methodResponses"]["200"]["responseModels"] == {"application/json": "Item"}
    finally:
        apigw.delete_rest_api(restApiId=made["id"])


def test_import_refusals(apigw):
    assert refused(apigw.import_rest_api, body=b"not: [an, api")[:2] == ("BadRequestException", 400)
    bad = json.loads(json.dumps(SAM_SWAGGER))
    bad["paths"]["/hello"]["get"]["x-amazon-apigateway-integration"]["uri"] = "arn:nope"
    code, status, message = refused(apigw.import_rest_api, body=json.dumps(bad).encode())
    assert (code, status) == ("BadRequestException", 400)
    assert message == (
        "Errors found during import:\n\tUnable to put integration on 'GET' for resource at path '/hello': "
        "Invalid ARN specified in the request"
    )
    odd = json.loads(json.dumps(SAM_SWAGGER))
    odd["paths"]["/hello"]["get"]["security"] = [{"Unknown": []}]
    assert refused(apigw.import_rest_api, body=json.dumps(odd).encode(), failOnWarnings=True)[2].startswith(
        "Warnings found during import:"
    )
    warned = apigw.import_rest_api(body=json.dumps(odd).encode())
    try:
        assert warned["warnings"] == ["Unknown security scheme 'Unknown' ignored on 'GET' at path '/hello'"]
    finally:
        apigw.delete_rest_api(restApiId=warned["id"])


def test_put_rest_api_merge_and_overwrite(apigw, imported):
    api_id = imported["id"]
    extra = {
        "swagger": "2.0",
        "info": {"title": "sam-app", "version": "2.0"},
        "paths": {
            "/extra": {
                "get": {
                    "x-amazon-apigateway-integration": {"type": "mock", "requestTemplates": {"application/json": "{}"}}
                }
            }
        },
    }
    merged = apigw.put_rest_api(restApiId=api_id, body=json.dumps(extra).encode())
    assert merged["version"] == "2.0"
    assert {"/hello", "/extra", "/{proxy+}"} <= set(methods_by_path(apigw, api_id))
    overwritten = apigw.put_rest_api(restApiId=api_id, mode="overwrite", body=json.dumps(extra).encode())
    assert overwritten["rootResourceId"] == imported["rootResourceId"]
    assert "binaryMediaTypes" not in overwritten and "policy" not in overwritten
    assert set(methods_by_path(apigw, api_id)) == {"/", "/extra"}
    assert apigw.get_authorizers(restApiId=api_id)["items"] == []
    assert {m["name"] for m in apigw.get_models(restApiId=api_id)["items"]} == {"Empty", "Error"}


def test_export_and_round_trip(apigw, imported):
    api_id = imported["id"]
    apigw.create_deployment(restApiId=api_id, stageName="Prod")
    exported = apigw.get_export(
        restApiId=api_id, stageName="Prod", exportType="swagger", parameters={"extensions": "apigateway"}
    )
    swagger = json.loads(exported["body"].read())
    assert swagger["swagger"] == "2.0" and swagger["basePath"] == "/Prod"
    assert swagger["info"]["title"] == "sam-app"
    hello = swagger["paths"]["/hello"]["get"]
    assert hello["x-amazon-apigateway-integration"]["type"] == "aws_proxy"
    assert hello["x-amazon-apigateway-integration"]["uri"] == LAMBDA_URI
    assert {"MyAuthorizer": []} in hello["security"] and {"api_key": []} in hello["security"]
    assert swagger["securityDefinitions"]["MyAuthorizer"]["x-amazon-apigateway-authorizer"]["type"] == "token"
    assert swagger["definitions"]["Pets"]["items"] == {"$ref": "#/definitions/Pet"}
    assert "x-amazon-apigateway-any-method" in swagger["paths"]["/{proxy+}"]
    assert swagger["x-amazon-apigateway-binary-media-types"] == ["image/png"]
    assert swagger["paths"]["/pets/{petId}"]["post"]["x-amazon-apigateway-request-validator"] == "all"

    # Without extensions: no integrations.
    plain = json.loads(apigw.get_export(restApiId=api_id, stageName="Prod", exportType="swagger")["body"].read())
    assert "x-amazon-apigateway-integration" not in plain["paths"]["/hello"]["get"]
    oas3 = apigw.get_export(
        restApiId=api_id,
        stageName="Prod",
        exportType="oas30",
        accepts="application/yaml",
        parameters={"extensions": "integrations,authorizers"},
    )
    document = yaml.safe_load(oas3["body"].read())
    assert document["openapi"].startswith("3.0")
    assert document["servers"][0]["variables"]["basePath"]["default"] == "Prod"
    assert document["components"]["schemas"]["Pets"]["items"] == {"$ref": "#/components/schemas/Pet"}

    # The export imports back to the same API.
    again = apigw.import_rest_api(body=json.dumps(swagger).encode())
    try:
        before = methods_by_path(apigw, api_id)
        after = methods_by_path(apigw, again["id"])
        assert set(after) == set(before)
        for path, methods in before.items():
            for verb, method in methods.items():
                theirs = after[path][verb]
                assert theirs["authorizationType"] == method["authorizationType"], (path, verb)
                assert theirs.get("requestParameters") == method.get("requestParameters"), (path, verb)
                assert theirs.get("apiKeyRequired") == method.get("apiKeyRequired"), (path, verb)
                mine, copied = method.get("methodIntegration") or {}, theirs.get("methodIntegration") or {}
                for member in (
                    "type",
                    "httpMethod",
                    "uri",
                    "requestTemplates",
                    "requestParameters",
                    "integrationResponses",
                ):
                    assert copied.get(member) == mine.get(member), (path, verb, member)
        yaml_again = apigw.import_rest_api(body=oas3_body(apigw, api_id))
        apigw.delete_rest_api(restApiId=yaml_again["id"])
    finally:
        apigw.delete_rest_api(restApiId=again["id"])


def oas3_body(apigw, api_id: str) -> bytes:
    return apigw.get_export(
        restApiId=api_id,
        stageName="Prod",
        exportType="oas30",
        accepts="application/yaml",
        parameters={"extensions": "apigateway"},
    )["body"].read()
