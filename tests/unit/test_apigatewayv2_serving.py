"""API Gateway v2's route keys (parsing, AWS's choice among routes) and the state's read
interface for the data plane (`serving`): what each stage serves, cached until a change,
rebuilt from the store."""

from __future__ import annotations

import asyncio

import pytest

from lamina.errors import ServiceError
from lamina.services.apigatewayv2 import ApiGatewayV2Service
from lamina.services.apigatewayv2.route_keys import parse_http, select
from lamina.services.context import RequestContext
from lamina.store.sqlite import SQLiteStore

FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:handler"
CTX = RequestContext("000000000000", "us-east-1", "r", "http://127.0.0.1:4566")


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, timeout=20))


def test_route_key_parsing():
    key = parse_http("GET /pets/{id}/toys/{rest+}")
    assert key.method == "GET" and key.greedy
    assert [s.text for s in key.segments] == ["pets", "id", "toys", "rest"]
    for bad in ("GET /a/{b+}/c", "GET /a/{x}/{x}", "PUT", "GET /a b", "GET /a/", "OPTIONS /{a}x"):
        with pytest.raises(ServiceError) as caught:
            parse_http(bad)
        assert caught.value.code == "BadRequestException"


def test_route_selection_prefers_the_most_specific():
    routes = [
        (parse_http(k), k)
        for k in ("$default", "ANY /pets", "GET /pets", "GET /pets/{id}", "GET /pets/dog", "ANY /{proxy+}", "GET /")
    ]
    assert select(routes, "GET", "/pets") == ("GET /pets", {})
    assert select(routes, "POST", "/pets") == ("ANY /pets", {})
    assert select(routes, "GET", "/pets/dog") == ("GET /pets/dog", {})
    assert select(routes, "GET", "/pets/cat") == ("GET /pets/{id}", {"id": "cat"})
    assert select(routes, "DELETE", "/pets/cat/toys") == ("ANY /{proxy+}", {"proxy": "pets/cat/toys"})
    assert select(routes, "GET", "/") == ("GET /", {})
    assert select(routes, "POST", "/") == ("$default", {})
    assert select([(parse_http("GET /a"), 1)], "GET", "/b") is None


def test_serving_follows_deployments(tmp_path):
    async def scenario():
        service = ApiGatewayV2Service(SQLiteStore(str(tmp_path / "db")))
        await service.start()
        api = await service.create_api(
            {"Name": "a", "ProtocolType": "HTTP", "Target": FUNCTION, "CorsConfiguration": {"AllowOrigins": ["*"]}},
            CTX,
        )
        api_id = api["ApiId"]
        await service.create_stage({"ApiId": api_id, "StageName": "prod", "StageVariables": {"v": "1"}}, CTX)
        served = service.state.serving(api_id)
        assert (served.account, served.region, served.protocol_type) == ("000000000000", "us-east-1", "HTTP")
        assert served.cors == {"AllowOrigins": ["*"]}
        assert served.stages["prod"].deployment_id is None and served.stages["prod"].routes == ()
        default = served.stages["$default"]
        route, params = default.select("GET", "/anything")
        assert route.key.text == "$default" and params == {}
        assert default.integrations[route.integration_id]["IntegrationUri"] == FUNCTION
        assert service.state.serving(api_id) is served  # cached

        integration = (
            await service.create_integration(
                {
                    "ApiId": api_id,
                    "IntegrationType": "HTTP_PROXY",
                    "IntegrationUri": "https://example.com",
                    "IntegrationMethod": "ANY",
                },
                CTX,
            )
        )["IntegrationId"]
        await service.create_route(
            {"ApiId": api_id, "RouteKey": "GET /items/{id}", "Target": f"integrations/{integration}"}, CTX
        )
        await service.update_stage(
            {
                "ApiId": api_id,
                "StageName": "$default",
                "RouteSettings": {"GET /items/{id}": {"ThrottlingBurstLimit": 3}},
            },
            CTX,
        )
        served = service.state.serving(api_id)
        # $default auto-deployed the new route; prod serves nothing until deployed.
        route, params = served.stages["$default"].select("GET", "/items/7")
        assert (route.key.text, params, route.integration_id) == ("GET /items/{id}", {"id": "7"}, integration)
        assert served.stages["$default"].throttling("GET /items/{id}") == (3, None)
        assert served.stages["prod"].stage_variables == {"v": "1"}
        await service.create_deployment({"ApiId": api_id, "StageName": "prod"}, CTX)
        assert service.state.serving(api_id).stages["prod"].select("GET", "/items/7")[1] == {"id": "7"}
        assert service.state.serving("nothere0000") is None

        # Rebuilt from the store by another owner.
        again = ApiGatewayV2Service(SQLiteStore(str(tmp_path / "db")))
        await again.start()
        rebuilt = again.state.serving(api_id)
        assert rebuilt.stages.keys() == served.stages.keys()
        assert rebuilt.stages["prod"].deployment_id == service.state.serving(api_id).stages["prod"].deployment_id
        await service.delete_api({"ApiId": api_id}, CTX)
        assert service.state.serving(api_id) is None

    run(scenario())


def test_a_failed_change_changes_nothing(tmp_path):
    async def scenario():
        service = ApiGatewayV2Service(SQLiteStore(str(tmp_path / "db")))
        await service.start()
        api_id = (await service.create_api({"Name": "a", "ProtocolType": "HTTP", "Target": FUNCTION}, CTX))["ApiId"]
        before = service.state.serving(api_id)
        with pytest.raises(ServiceError):
            await service.create_route({"ApiId": api_id, "RouteKey": "GET /x", "Target": "integrations/nope"}, CTX)
        assert service.state.serving(api_id) is before
        assert [r["RouteKey"] for r in (await service.get_routes({"ApiId": api_id}, CTX))["Items"]] == ["$default"]

    run(scenario())
