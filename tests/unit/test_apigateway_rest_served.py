"""What a REST API stage serves (services/apigateway/served.py): the resource tree of its
deployment matched as API Gateway matches (static parts, then {param}, then {proxy+}, with
backtracking; ANY when the method is absent), method settings merged, and the stage held to
its deployment's snapshot."""

from __future__ import annotations

from lamina.services.apigateway.served import served_rest_api
from lamina.services.apigateway.state import Deployment, RestApi


def _api() -> RestApi:
    api = RestApi(
        "000000000000",
        "us-east-1",
        "abcdefghij",
        {"name": "n", "createdDate": 0, "rootResourceId": "root", "endpointConfiguration": {"types": ["EDGE"]}},
    )

    def add(rid: str, parent: str, part: str, *verbs: str) -> None:
        api.resources[rid] = {
            "id": rid,
            "parentId": parent,
            "pathPart": part,
            "methods": {
                v: {"httpMethod": v, "authorizationType": "NONE", "methodIntegration": {"type": "MOCK"}} for v in verbs
            },
        }

    api.resources["root"] = {
        "id": "root",
        "methods": {"GET": {"httpMethod": "GET", "methodIntegration": {"type": "MOCK"}}},
    }
    add("pets", "root", "pets", "GET")
    add("pet", "pets", "{petId}", "GET", "ANY")
    add("toys", "pet", "toys", "POST")
    add("mine", "pets", "mine", "GET")
    add("proxy", "root", "{proxy+}", "ANY")
    return api


def _serve(api: RestApi):
    deployment = Deployment("dep001", 0.0, None, api.snapshot())
    api.deployments[deployment.deployment_id] = deployment
    api.stages["prod"] = {
        "stageName": "prod",
        "deploymentId": "dep001",
        "methodSettings": {
            "*/*": {"throttlingRateLimit": 10.0},
            "~1pets~1{petId}/GET": {"throttlingBurstLimit": 3},
        },
        "variables": {"v": "1"},
    }
    return served_rest_api(api, None).stages["prod"]


def test_matching_prefers_static_then_variable_then_greedy():
    stage = _serve(_api())
    found = stage.match("GET", "/pets/mine")
    assert (found.resource.path, found.path_parameters) == ("/pets/mine", {})
    found = stage.match("GET", "/pets/42")
    assert (found.resource.path, found.path_parameters, found.method.http_method) == (
        "/pets/{petId}",
        {"petId": "42"},
        "GET",
    )
    assert stage.match("DELETE", "/pets/42").method.http_method == "ANY"
    found = stage.match("POST", "/pets/42/toys")
    assert found.resource.path == "/pets/{petId}/toys"
    # No static or variable path goes on: the greedy proxy takes the rest.
    found = stage.match("GET", "/pets/42/other/deep")
    assert (found.resource.path, found.path_parameters) == ("/{proxy+}", {"proxy": "pets/42/other/deep"})
    root = stage.match("GET", "/")
    assert root.resource.path == "/" and root.method.http_method == "GET"
    assert stage.match("PUT", "/pets/mine").method is None


def test_settings_merge_and_the_snapshot_holds():
    api = _api()
    stage = _serve(api)
    settings = stage.method_settings("/pets/{petId}", "GET")
    assert (settings["throttlingRateLimit"], settings["throttlingBurstLimit"]) == (10.0, 3)
    assert stage.throttling("/pets", "GET") == (5000, 10.0)
    assert stage.gateway_response("MISSING_AUTHENTICATION_TOKEN")["statusCode"] == "403"
    assert stage.variables == {"v": "1"}
    # A change to the API after the deployment is not served.
    del api.resources["mine"]
    assert served_rest_api(api, None).stages["prod"].match("GET", "/pets/mine").resource.path == "/pets/mine"
