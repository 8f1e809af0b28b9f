"""Mapping templates of non-proxy integrations (MOCK, AWS, HTTP): request templates chosen
by the integration's TemplateSelectionExpression, response templates by the integration
response's.

AWS's templates are Velocity (VTL). Lamina renders the references templates use most, not
the directives: `$input.body`, `$input.json('$.path')`, `$input.path('$.path')`,
`$context.name` / `${context.name}`, `$stageVariables.name`. A template with Velocity
directives (#set, #if, #foreach) is rendered as text with its references substituted and
the directives left as they are. (A full VTL engine, airspeed-ext, is not a dependency.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .selection import Sources, evaluate, json_path, text

_REFERENCE = re.compile(
    r"\$input\.(json|path)\(\s*'([^']*)'\s*\)"
    r"|\$input\.body"
    r"|\$\{(context|stageVariables)\.([\w.]+)\}"
    r"|\$(context|stageVariables)\.([\w.]+[\w])"
)


def _path(document: Any, path: str) -> Any:
    path = path.strip()
    if path in ("$", ""):
        return document
    return json_path(document, path[2:] if path.startswith("$.") else path.lstrip("$"))


def render(template: str, sources: Sources) -> str:
    def substitute(match: re.Match) -> str:
        function, path, braced_head, braced_name, head, name = match.groups()
        if function == "json":
            return json.dumps(_path(sources.document(), path), separators=(",", ":"))
        if function == "path":
            return text(_path(sources.document(), path)) or ""
        if braced_head or head:
            return sources(f"{braced_head or head}.{braced_name or name}") or ""
        return sources.body or ""

    return _REFERENCE.sub(substitute, template)


def choose(templates: Mapping[str, str] | None, expression: str | None, sources: Sources) -> str | None:
    """The template an expression selects: its value's, else $default's, else None (no
    templates: the body passes through)."""
    if not templates:
        return None
    # AWS writes the literal key escaped ("\\$default") in some expressions.
    key = evaluate(expression.lstrip("\\"), sources) if expression else None
    if key is not None and key in templates:
        return templates[key]
    return templates.get("$default")
