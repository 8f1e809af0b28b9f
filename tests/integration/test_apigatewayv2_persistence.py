"""What API Gateway v2 accepted survives kill -9: APIs, routes, integrations, authorizers,
stages (what they serve), deployments and tags; ids carry on, auto-deploy still works.
And the AWS CLI drives the service as boto3 does."""

from __future__ import annotations

from .test_awscli import aws  # noqa: F401 (a fixture; aws_env comes from conftest)

FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:handler"


def _plain(item: dict) -> dict:
    return {k: v for k, v in item.items() if k != "ResponseMetadata"}


def test_apis_survive_kill_9(lamina_factory):
    server = lamina_factory()
    apigw = server.client("apigatewayv2")
    api = apigw.create_api(Name="kept", ProtocolType="HTTP", Target=FUNCTION, Tags={"k": "v"})
    api_id = api["ApiId"]
    authorizer = apigw.create_authorizer(
        ApiId=api_id,
        AuthorizerType="JWT",
        Name="jwt",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={"Issuer": "https://issuer.example.com", "Audience": ["a"]},
    )
    route = apigw.create_route(
        ApiId=api_id, RouteKey="GET /me", AuthorizationType="JWT", AuthorizerId=authorizer["AuthorizerId"]
    )
    apigw.create_stage(ApiId=api_id, StageName="prod", StageVariables={"v": "1"})
    deployment = apigw.create_deployment(ApiId=api_id, StageName="prod")
    ws = apigw.create_api(Name="ws", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")
    before = {
        "api": _plain(apigw.get_api(ApiId=api_id)),
        "routes": apigw.get_routes(ApiId=api_id)["Items"],
        "integrations": apigw.get_integrations(ApiId=api_id)["Items"],
        "stages": apigw.get_stages(ApiId=api_id)["Items"],
        "deployments": apigw.get_deployments(ApiId=api_id)["Items"],
        "authorizers": apigw.get_authorizers(ApiId=api_id)["Items"],
    }

    server.restart(kill=True)
    apigw = server.client("apigatewayv2")

    after_api = _plain(apigw.get_api(ApiId=api_id))
    assert {k: v for k, v in after_api.items() if k != "ApiEndpoint"} == {
        k: v for k, v in before["api"].items() if k != "ApiEndpoint"
    }
    assert after_api["ApiEndpoint"] == f"http://{api_id}.execute-api.localhost:{server.port}"
    assert apigw.get_routes(ApiId=api_id)["Items"] == before["routes"]
    assert apigw.get_integrations(ApiId=api_id)["Items"] == before["integrations"]
    assert apigw.get_stages(ApiId=api_id)["Items"] == before["stages"]
    assert apigw.get_deployments(ApiId=api_id)["Items"] == before["deployments"]
    assert apigw.get_authorizers(ApiId=api_id)["Items"] == before["authorizers"]
    assert apigw.get_stage(ApiId=api_id, StageName="prod")["DeploymentId"] == deployment["DeploymentId"]
    assert apigw.get_tags(ResourceArn=f"arn:aws:apigateway:us-east-1::/apis/{api_id}")["Tags"] == {"k": "v"}
    assert apigw.get_api(ApiId=ws["ApiId"])["ProtocolType"] == "WEBSOCKET"

    # Still writable; the $default stage still deploys itself on a change.
    default_before = apigw.get_stage(ApiId=api_id, StageName="$default")["DeploymentId"]
    apigw.update_route(ApiId=api_id, RouteId=route["RouteId"], RouteKey="GET /you")
    assert apigw.get_stage(ApiId=api_id, StageName="$default")["DeploymentId"] != default_before
    apigw.delete_api(ApiId=ws["ApiId"])

    server.restart(kill=True)
    apigw = server.client("apigatewayv2")
    assert [a["ApiId"] for a in apigw.get_apis()["Items"]] == [api_id]
    assert [r["RouteKey"] for r in apigw.get_routes(ApiId=api_id)["Items"] if r["RouteId"] == route["RouteId"]] == [
        "GET /you"
    ]


def test_the_aws_cli_quick_creates_an_api(aws, lamina):  # noqa: F811
    made = aws("apigatewayv2", "create-api", "--name", "cli-api", "--protocol-type", "HTTP", "--target", FUNCTION)
    assert made["ApiEndpoint"] == f"http://{made['ApiId']}.execute-api.localhost:{lamina.port}"
    stages = aws("apigatewayv2", "get-stages", "--api-id", made["ApiId"])
    assert [s["StageName"] for s in stages["Items"]] == ["$default"]
    missing = aws("apigatewayv2", "get-api", "--api-id", "abcdefghij", expect=255)
    assert "NotFoundException" in missing and "Invalid API identifier specified 000000000000:abcdefghij" in missing
    aws("apigatewayv2", "delete-api", "--api-id", made["ApiId"])
