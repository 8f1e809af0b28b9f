"""Parameter mapping (HTTP APIs): the values of RequestParameters and ResponseParameters, and
applying them to what goes to the integration or back to the client.

A value is static text with references in it: `$request.header.name` (case-insensitive),
`$request.querystring.name` (repeated values joined with commas), `$request.path` (the path
without the stage), `$request.path.name` (a path parameter), `$request.body.a.b[0]` (a JSON
path into the body), `$context.name`, `$stageVariables.name`, and for responses
`$response.header.name`, `$response.body.a.b`; each may also be written `${...}`. A value is
compiled once (Template) and rendered per call. A reference with no value renders empty.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

_REFERENCE = re.compile(
    r"\$\{(?P<braced>[^}]+)\}"
    r"|\$(?P<bare>request\.(?:header|querystring|multivalueheader|multivaluequerystring|path)(?:\.[A-Za-z0-9_\-]+)?"
    r"|request\.body(?:\.[A-Za-z0-9._\-\[\]]+)?|context\.[A-Za-z0-9._\-]*[A-Za-z0-9_]"
    r"|stageVariables\.[A-Za-z0-9_]+|response\.(?:header|body)(?:\.[A-Za-z0-9._\-\[\]]+)?)"
)
_INDEX = re.compile(r"([^.\[\]]+)|\[(\d+)\]")

Resolve = Callable[[str], Any]  # a reference ("request.header.x") -> its value or None


class Template:
    __slots__ = ("parts", "static")

    def __init__(self, text: str) -> None:
        parts: list[tuple[bool, str]] = []
        last = 0
        for match in _REFERENCE.finditer(text):
            if match.start() > last:
                parts.append((False, text[last : match.start()]))
            parts.append((True, match.group("braced") or match.group("bare")))
            last = match.end()
        if last < len(text):
            parts.append((False, text[last:]))
        self.parts = tuple(parts)
        self.static = all(not reference for reference, _ in parts)

    def render(self, resolve: Resolve) -> str:
        out = []
        for reference, text in self.parts:
            if not reference:
                out.append(text)
                continue
            value = resolve(text)
            if value is None:
                continue
            out.append(
                value
                if isinstance(value, str)
                else json.dumps(value)
                if isinstance(value, (dict, list))
                else str(value).lower()
                if isinstance(value, bool)
                else str(value)
            )
        return "".join(out)


def json_path(document: Any, path: str) -> Any:
    """`a.b[0]` into a parsed JSON document (no recursive descent, no filters, as AWS)."""
    current = document
    for name, index in _INDEX.findall(path):
        if name:
            if not isinstance(current, dict):
                return None
            current = current.get(name)
        else:
            if not isinstance(current, list) or int(index) >= len(current):
                return None
            current = current[int(index)]
    return current


def body_value(body: bytes, path: str, parsed: list[Any]) -> Any:
    """$request.body.<path> / $response.body.<path> (`parsed` caches the parse, [] if not yet)."""
    if not parsed:
        try:
            parsed.append(json.loads(body) if body else None)
        except ValueError:
            parsed.append(None)
    if not path:
        return body.decode("utf-8", "replace")
    return json_path(parsed[0], path)


class Mapping:
    """Compiled RequestParameters (or one status code's ResponseParameters)."""

    __slots__ = ("operations",)

    def __init__(self, given: dict[str, str] | None) -> None:
        # (action, where, name, template); where: header, querystring, path, statuscode, or a
        # service parameter's name (AWS service integrations: action "set").
        operations = []
        for key, value in (given or {}).items():
            action, _, target = key.partition(":")
            if not target:  # an AWS service integration's parameter
                operations.append(("set", key, key, Template(value)))
                continue
            where, _, name = target.partition(".")
            operations.append((action, where, name.lower() if where == "header" else name, Template(value)))
        self.operations = tuple(operations)

    def __bool__(self) -> bool:
        return bool(self.operations)

    def rendered(self, resolve: Resolve) -> list[tuple[str, str, str, str]]:
        """Every operation with its value, all read from the request as it came (AWS maps
        from the original request, whatever order the keys are in)."""
        return [
            (action, where, name, "" if action == "remove" else template.render(resolve))
            for action, where, name, template in self.operations
        ]


def apply_headers(headers: dict[str, str], operations: list[tuple[str, str, str, str]]) -> None:
    for action, where, name, value in operations:
        if where != "header":
            continue
        if action == "remove":
            headers.pop(name, None)
        elif action == "append" and name in headers:
            headers[name] = f"{headers[name]},{value}"
        else:
            headers[name] = value


def apply_query(query: list[tuple[str, str]], operations: list[tuple[str, str, str, str]]) -> list[tuple[str, str]]:
    for action, where, name, value in operations:
        if where != "querystring":
            continue
        if action in ("remove", "overwrite"):
            query = [(k, v) for k, v in query if k != name]
        if action != "remove":
            query.append((name, value))
    return query


def resolver(call: Any, response: Any = None) -> Resolve:
    """The references of a call (an http_api.calls.Call) and, for ResponseParameters, of the
    integration's response (a protocol Response)."""
    request_body: list[Any] = []
    response_body: list[Any] = []

    def resolve(reference: str) -> Any:
        kind, _, rest = reference.partition(".")
        if kind == "request":
            where, _, name = rest.partition(".")
            if where == "header" or where == "multivalueheader":
                return call.request.headers.get(name.lower())
            if where == "querystring" or where == "multivaluequerystring":
                values = [v for k, v in call.request.query if k == name]
                return ",".join(values) if values else None
            if where == "path":
                return call.path_parameters.get(name) if name else call.api_path
            if where == "body":
                return body_value(call.request.body, name, request_body)
            return None
        if kind == "context":
            return call.context(rest)
        if kind == "stageVariables":
            return call.stage_variables.get(rest)
        if kind == "response" and response is not None:
            where, _, name = rest.partition(".")
            if where == "header":
                lowered = name.lower()
                return next((v for k, v in response.headers if k.lower() == lowered), None)
            if where == "body":
                return body_value(response.body, name, response_body)
        return None

    return resolve
