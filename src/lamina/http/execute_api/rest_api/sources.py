"""The values mapping expressions name, as API Gateway reads them in requestParameters,
responseParameters and gateway responses:

    'literal'                                   a static value
    method.request.{path|querystring|header}.NAME, method.request.multivalue{querystring|header}.NAME
    method.request.body, method.request.body.JSONPath
    integration.response.header.NAME, integration.response.multivalueheader.NAME
    integration.response.body, integration.response.body.JSONPath
    context.NAME, stageVariables.NAME

Header names are matched without regard to case (HTTP's rule; Lamina's server lower-cases
them). A value that is not there is None: the mapping sets nothing.
"""

from __future__ import annotations

import json
from typing import Any

from ....protocol.messages import Response
from ..velocity import json_path
from .calls import RestCall


def request_params(call: RestCall) -> dict[str, dict[str, str]]:
    """$input.params(): the path parameters, the query string (last value of a repeated
    name) and the headers."""
    query: dict[str, str] = {}
    for name, value in call.request.query:
        query[name] = value
    return {"path": dict(call.path_parameters), "querystring": query, "header": dict(call.request.headers)}


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _body_path(body: bytes | str, path: str) -> str | None:
    try:
        document = json.loads(body or b"{}")
    except ValueError:
        return None
    return _json_text(json_path(document, path))


def resolve(expression: str, call: RestCall, body: bytes | str = b"", response: Response | None = None) -> str | None:
    expression = expression.strip()
    if len(expression) >= 2 and expression[0] == "'" and expression[-1] == "'":
        return expression[1:-1]
    request = call.request
    if expression.startswith("method.request."):
        rest = expression[len("method.request.") :]
        kind, _, name = rest.partition(".")
        if kind == "header" or kind == "multivalueheader":
            return request.headers.get(name.lower())
        if kind == "querystring":
            values = [v for k, v in request.query if k == name]
            return values[-1] if values else None
        if kind == "multivaluequerystring":
            values = [v for k, v in request.query if k == name]
            return ",".join(values) if values else None
        if kind == "path":
            return call.path_parameters.get(name)
        if kind == "body":
            if name:
                return _body_path(body, "$." + name)
            return body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        return None
    if expression.startswith("integration.response.") and response is not None:
        rest = expression[len("integration.response.") :]
        kind, _, name = rest.partition(".")
        if kind in ("header", "multivalueheader"):
            values = [v for k, v in response.headers if k.lower() == name.lower()]
            return ",".join(values) if values else None
        if kind == "body":
            if not name:
                return response.body.decode("utf-8", "replace")
            return _body_path(response.body, "$." + name)
        return None
    if expression.startswith("context."):
        value = call.context(expression[len("context.") :])
        return None if value is None else str(value)
    if expression.startswith("stageVariables."):
        return call.stage_variables.get(expression[len("stageVariables.") :])
    return None
