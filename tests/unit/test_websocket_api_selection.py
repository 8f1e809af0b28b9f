"""WebSocket APIs' selection expressions and mapping templates (http/execute_api/websocket_api/)."""

from __future__ import annotations

from lamina.http.execute_api.websocket_api.selection import Sources, evaluate
from lamina.http.execute_api.websocket_api.templates import choose, render


def test_route_selection_reads_the_message_as_json():
    assert evaluate("$request.body.action", Sources(body='{"action": "send"}')) == "send"
    assert evaluate("$request.body.a.b[1]", Sources(body='{"a": {"b": ["x", "y"]}}')) == "y"
    assert evaluate("${request.body.kind}/${request.body.op}", Sources(body='{"kind": "k", "op": 1}')) == "k/1"
    assert evaluate("$request.body.action", Sources(body="not json")) is None
    assert evaluate("$request.body.action", Sources(body='{"other": 1}')) is None
    assert evaluate("${request.body.a}-${request.body.b}", Sources(body='{"a": "x"}')) is None
    assert evaluate("$default", Sources(body="{}")) == "$default"


def test_headers_query_context_and_status():
    sources = Sources(
        headers={"X-Api-Key": "k1"}, query={"t": "q"}, context={"authorizer": {"usageIdentifierKey": "u"}}, status=404
    )
    assert evaluate("$request.header.x-api-key", sources) == "k1"
    assert evaluate("$request.querystring.t", sources) == "q"
    assert evaluate("$context.authorizer.usageIdentifierKey", sources) == "u"
    assert evaluate("${integration.response.statuscode}", sources) == "404"


def test_templates_substitute_references_and_are_chosen_by_expression():
    sources = Sources(body='{"a": {"b": 2}, "s": "text"}', context={"connectionId": "C="}, stage_variables={"v": "1"})
    assert render('{"id": "$context.connectionId", "v": "${stageVariables.v}"}', sources) == '{"id": "C=", "v": "1"}'
    assert render("$input.json('$.a')|$input.path('$.s')|$input.body", sources) == (
        '{"b":2}|text|{"a": {"b": 2}, "s": "text"}'
    )
    templates = {"$default": "D", "json": "J"}
    assert choose(templates, "\\$default", sources) == "D"
    assert choose(templates, "$request.body.s", Sources(body='{"s": "json"}')) == "J"
    assert choose(None, "$default", sources) is None
