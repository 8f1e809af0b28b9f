"""The pure pieces of HTTP APIs' data plane (http/execute_api/http_api/): parameter mapping
templates, function responses as API Gateway reads them, CORS, token buckets, JWT claims as
AWS passes them, the request ids and CLF times of $context."""

from __future__ import annotations

import base64
import json
import re

import pytest

from lamina.http.execute_api.http_api import calls, replies
from lamina.http.execute_api.http_api.cors import Cors
from lamina.http.execute_api.http_api.jwt_auth import _claim_text, token_scopes
from lamina.http.execute_api.http_api.mapping import Mapping, Template, apply_headers, apply_query, json_path
from lamina.http.execute_api.http_api.throttling import Bucket
from lamina.protocol.messages import Request


def test_templates_render_references_and_static_text():
    values = {"request.header.x": "a", "context.requestId": "R", "stageVariables.env": "dev"}
    template = Template("Bearer $request.header.x/${context.requestId}-$stageVariables.env!")
    assert not template.static
    assert template.render(values.get) == "Bearer a/R-dev!"
    assert Template("plain").static and Template("plain").render(values.get) == "plain"
    assert Template("$request.header.missing").render(values.get) == ""


def test_json_paths():
    document = {"a": {"b": [1, {"c": "deep"}]}}
    assert json_path(document, "a.b[1].c") == "deep"
    assert json_path(document, "a.b[5]") is None
    assert json_path(document, "a.x.y") is None


def test_request_mapping_operations():
    mapping = Mapping(
        {
            "append:header.h": "2",
            "overwrite:header.o": "new",
            "remove:header.r": "''",
            "append:querystring.q": "b",
            "overwrite:querystring.w": "z",
            "remove:querystring.gone": "''",
        }
    )
    operations = mapping.rendered({}.get)
    headers = {"h": "1", "o": "old", "r": "x"}
    apply_headers(headers, operations)
    assert headers == {"h": "1,2", "o": "new"}
    query = apply_query([("q", "a"), ("w", "x"), ("w", "y"), ("gone", "1")], operations)
    assert query == [("q", "a"), ("q", "b"), ("w", "z")]


def test_function_responses_2_0():
    inferred = replies.from_function(b'{"hello": "world"}', "2.0")
    assert inferred.status == 200 and inferred.body == b'{"hello": "world"}'
    assert ("content-type", "application/json") in inferred.headers
    full = replies.from_function(
        json.dumps(
            {
                "statusCode": 302,
                "headers": {"location": "/x"},
                "cookies": ["a=1"],
                "isBase64Encoded": True,
                "body": base64.b64encode(b"\x00\x01").decode(),
            }
        ).encode(),
        "2.0",
    )
    assert full.status == 302 and full.body == b"\x00\x01"
    assert ("location", "/x") in full.headers and ("set-cookie", "a=1") in full.headers
    for malformed in (b"not json", b'{"statusCode": "x"}', b'{"statusCode": 200, "body": {"a": 1}}'):
        with pytest.raises(replies.Malformed):
            replies.from_function(malformed, "2.0")


def test_function_responses_1_0_need_a_status_code():
    with pytest.raises(replies.Malformed):
        replies.from_function(b'{"body": "x"}', "1.0")
    answer = replies.from_function(b'{"statusCode": 200, "multiValueHeaders": {"x": ["1", "2"]}, "body": "b"}', "1.0")
    assert answer.headers == [("x", "1"), ("x", "2")] and answer.body == b"b"


def _request(method: str, headers: dict[str, str]) -> Request:
    return Request(method, "/", "/", "", headers)


def test_cors_preflight_and_decoration():
    cors = Cors({"AllowOrigins": ["https://a.example"], "AllowMethods": ["*"], "AllowHeaders": ["*"], "MaxAge": 5})
    asked = _request(
        "OPTIONS",
        {
            "origin": "https://a.example",
            "access-control-request-method": "PUT",
            "access-control-request-headers": "X-Token",
        },
    )
    assert Cors.is_preflight(asked)
    answer = cors.preflight(asked)
    assert answer.status == 204
    assert dict(answer.headers) == {
        "access-control-allow-origin": "https://a.example",
        "access-control-allow-methods": "PUT",
        "access-control-allow-headers": "x-token",
        "access-control-max-age": "5",
    }
    response = replies.message(200, "ok", ("Access-Control-Allow-Origin", "*"))
    cors.decorate(_request("GET", {"origin": "https://a.example"}), response)
    assert [v for k, v in response.headers if k.lower() == "access-control-allow-origin"] == ["https://a.example"]
    stranger = replies.message(200, "ok")
    cors.decorate(_request("GET", {"origin": "https://b.example"}), stranger)
    assert not any(k.startswith("access-control") for k, _ in stranger.headers)


def test_token_buckets():
    bucket = Bucket(burst=2, rate=1)
    now = bucket.last
    assert bucket.take(now) and bucket.take(now) and not bucket.take(now)
    assert bucket.take(now + 1.01)
    assert not Bucket(burst=0, rate=0).take(now)


def test_jwt_claims_as_aws_passes_them():
    assert _claim_text("x") == "x"
    assert _claim_text(12) == "12" and _claim_text(True) == "true"
    assert _claim_text(["a", "b"]) == "[a b]"
    assert token_scopes({"scope": "a b"}) == ["a", "b"]
    assert token_scopes({"scp": ["c"]}) == ["c"]


def test_request_ids_and_times():
    assert re.match(r"^[A-Za-z0-9+/]{14}[A-Za-z0-9+/=]{2}$", calls.request_id())
    assert calls.clf(1583348638.39) == "04/Mar/2020:19:03:58 +0000"
