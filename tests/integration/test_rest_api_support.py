"""Shared helpers of the REST API data plane tests (test_rest_api_*.py): building a REST API
with boto3's apigateway client, and calling it over real HTTP by its Host (`*.localhost`
does not resolve everywhere) or the path form. No tests here."""

from __future__ import annotations

import time

import httpx

from tests.conftest import allow_service

APIGATEWAY = "apigateway.amazonaws.com"
ACCOUNT, REGION = "000000000000", "us-east-1"

# Answers with the event it got, or what the query asks it to answer.
ECHO = """
import base64, json

def handler(event, context):
    query = event.get("queryStringParameters") or {}
    shape = query.get("shape")
    if shape == "full":
        return {"statusCode": 201, "headers": {"x-made": "yes", "content-type": "text/plain"},
                "multiValueHeaders": {"x-many": ["1", "2"]}, "body": "made"}
    if shape == "binary":
        return {"statusCode": 200, "headers": {"content-type": "image/png"},
                "isBase64Encoded": True, "body": base64.b64encode(bytes(range(8))).decode()}
    if shape == "cookies":
        return {"statusCode": 200, "cookies": ["a=1"], "body": "x"}
    if shape == "raise":
        raise ValueError("asked to fail")
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(event)}
"""


def lambda_uri(function_arn: str) -> str:
    return f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function_arn}/invocations"


def function(create_function, lambda_client, code: str, **more) -> str:
    arn = create_function(code={"app.py": code}, **more)["FunctionArn"]
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=arn)
    return arn


def grant(lambda_client, function_arn: str, api_id: str) -> None:
    allow_service(lambda_client, function_arn, APIGATEWAY, f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/*")


def client(lamina, api_id: str) -> httpx.Client:
    return httpx.Client(
        base_url=lamina.url, headers={"host": f"{api_id}.execute-api.localhost:{lamina.port}"}, timeout=60
    )


class RestApi:
    """A REST API under construction: resources by path, methods, integrations, a stage."""

    def __init__(self, apigw, name: str, **more) -> None:
        self.apigw = apigw
        self.id = apigw.create_rest_api(name=name, **more)["id"]
        self.resources = {r["path"]: r["id"] for r in apigw.get_resources(restApiId=self.id)["items"]}

    def resource(self, path: str) -> str:
        if path in self.resources:
            return self.resources[path]
        parent, _, part = path.rstrip("/").rpartition("/")
        parent_id = self.resource(parent or "/")
        made = self.apigw.create_resource(restApiId=self.id, parentId=parent_id, pathPart=part)
        self.resources[path] = made["id"]
        return made["id"]

    def method(self, path: str, verb: str, integration: dict, authorization: str = "NONE", **more) -> str:
        resource_id = self.resource(path)
        self.apigw.put_method(
            restApiId=self.id, resourceId=resource_id, httpMethod=verb, authorizationType=authorization, **more
        )
        self.apigw.put_integration(restApiId=self.id, resourceId=resource_id, httpMethod=verb, **integration)
        return resource_id

    def integration_response(self, path: str, verb: str, status: str, **more) -> None:
        resource_id = self.resource(path)
        self.apigw.put_method_response(restApiId=self.id, resourceId=resource_id, httpMethod=verb, statusCode=status)
        self.apigw.put_integration_response(
            restApiId=self.id, resourceId=resource_id, httpMethod=verb, statusCode=status, **more
        )

    def deploy(self, stage: str = "dev", **more) -> None:
        self.apigw.create_deployment(restApiId=self.id, stageName=stage, **more)


def proxy_integration(function_arn: str) -> dict:
    return {"type": "AWS_PROXY", "integrationHttpMethod": "POST", "uri": lambda_uri(function_arn)}


def wait_for(read, timeout_s: float = 30.0):
    """`read()` until it returns something truthy (logs and metrics are written in batches)."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = read()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.25)
