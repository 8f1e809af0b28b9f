"""The REST data plane's pure parts: Velocity templates ($input, $util, overrides), JSONPath
selections, selectionPattern choice, the Lambda proxy response as AWS reads it."""

from __future__ import annotations

import pytest

from lamina.http.execute_api.rest_api import integration_responses, proxy
from lamina.http.execute_api.velocity import BadBody, Input, Util, json_path, render
from lamina.protocol.messages import Request

PARAMS = {"path": {"id": "7"}, "querystring": {"q": "1"}, "header": {"x-h": "h"}}


def test_input_and_util():
    context = {"requestId": "r", "responseOverride": {"status": None, "header": {}}}
    out = render(
        "$input.json('$.a') $input.path('$.a.b').size() $input.params('id') $input.params('X-H') "
        "$util.urlEncode('a b') $util.base64Encode('hi') $context.requestId $stageVariables.s"
        "#set($context.responseOverride.status = 201)",
        Input('{"a": {"b": [1, 2]}}', PARAMS),
        context,
        {"s": "v"},
    )
    assert out == '{"b":[1,2]} 2 7 h a+b aGk= r v'
    assert context["responseOverride"]["status"] == 201
    assert render("$input.path('$')", Input('{"k": [1, true]}', PARAMS), {}, {}) == "{k=[1, true]}"


def test_body_that_is_not_json():
    with pytest.raises(BadBody):
        render("$input.json('$')", Input("{", PARAMS), {}, {})
    assert render("$input.json('$')", Input("", PARAMS), {}, {}) == "{}"


def test_escape_javascript_and_json_path():
    assert Util.escapeJavaScript('say "hi"\n') == 'say \\"hi\\"\\n'
    assert json_path({"a": [{"id": 1}, {"id": 2}]}, "$.a[*].id") == [1, 2]
    assert json_path({"a": 1}, "$.missing") is None


def test_selection_patterns_match_whole_texts():
    responses = {"200": {"statusCode": "200"}, "404": {"statusCode": "404", "selectionPattern": "Not Found.*"}}
    assert integration_responses.select(responses, "Not Found: x")["statusCode"] == "404"
    assert integration_responses.select(responses, "It is Not Found")["statusCode"] == "200"
    assert integration_responses.select(responses, None)["statusCode"] == "200"


def test_proxy_responses():
    request = Request("GET", "/", "/", "", {"accept": "image/png"})
    ok = proxy.response(b'{"statusCode": "201", "body": 5, "headers": {"a": true}}', (), request)
    assert ok.status == 201 and ok.body == b"5" and ("a", "true") in ok.headers
    assert proxy.response(b'{"body": "x"}', (), request).status == 200
    binary = proxy.response(b'{"isBase64Encoded": true, "body": "AAE="}', ("image/png",), request)
    assert binary.body == b"\x00\x01"
    for malformed in (b"null", b'{"cookies": []}', b'{"body": {}}', b'{"headers": {"a": null}}', b"x"):
        with pytest.raises(proxy.Malformed):
            proxy.response(malformed, (), request)
