"""Selection expressions (API Gateway: "WebSocket selection expressions"): which route a
message takes ($request.body.action), which API key a connection presents
($request.header.x-api-key, $context.authorizer.usageIdentifierKey), which template or
integration response applies.

An expression is a single reference (`$request.body.action`), or text with references in
`${...}` (`${request.body.service}/${request.body.action}`), or a literal (`$default`). A
reference that names nothing makes the whole expression select nothing: the caller falls
back on `$default`. `$request.body.x` reads the message as JSON (a path of keys and [n]
indices); a message that is not JSON selects nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

_BRACED = re.compile(r"\$\{([^}]*)\}")
_SINGLE = re.compile(r"^\$((?:request|context|integration|stageVariables)\.[^\s$]*)$")
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")

Resolve = Callable[[str], "str | None"]  # "request.body.action" -> its value, or None


def evaluate(expression: str, resolve: Resolve) -> str | None:
    expression = expression or ""
    single = _SINGLE.match(expression)
    if single:
        return resolve(single.group(1))
    if "${" not in expression:
        return expression
    missing = False

    def substitute(match: re.Match) -> str:
        nonlocal missing
        value = resolve(match.group(1).strip())
        if value is None:
            missing = True
            return ""
        return value

    result = _BRACED.sub(substitute, expression)
    return None if missing else result


def json_path(document: Any, path: str) -> Any:
    """`a.b[0].c` in a JSON document; None where it leads nowhere."""
    for key, index in _STEP.findall(path):
        if key:
            if not isinstance(document, dict) or key not in document:
                return None
            document = document[key]
        else:
            if not isinstance(document, list) or int(index) >= len(document):
                return None
            document = document[int(index)]
    return document


def text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, separators=(",", ":"))


class Sources:
    """What references resolve against: the message body, the handshake's headers and
    query string, $context variables, stage variables, the integration's response."""

    def __init__(
        self,
        body: str | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
        context: Mapping[str, Any] | None = None,
        stage_variables: Mapping[str, str] | None = None,
        status: int | None = None,
    ) -> None:
        self.body = body
        self.headers = {k.lower(): v for k, v in (headers or {}).items()}
        self.query = query or {}
        self.context = context or {}
        self.stage_variables = stage_variables or {}
        self.status = status
        self._parsed: Any = None
        self._tried = False

    def document(self) -> Any:
        if not self._tried:
            self._tried = True
            try:
                self._parsed = json.loads(self.body) if self.body else None
            except ValueError:
                self._parsed = None
        return self._parsed

    def __call__(self, reference: str) -> str | None:
        head, _, rest = reference.partition(".")
        if head == "request":
            where, _, name = rest.partition(".")
            if where == "body":
                document = self.document()
                return text(json_path(document, name) if name else document)
            if where == "header":
                return self.headers.get(name.lower())
            if where == "querystring":
                return self.query.get(name)
            return None
        if head == "context":
            return text(json_path(self.context, rest))
        if head == "stageVariables":
            return self.stage_variables.get(rest)
        if head == "integration" and rest == "response.statuscode":
            return None if self.status is None else str(self.status)
        return None
