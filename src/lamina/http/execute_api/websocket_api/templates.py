"""Mapping templates of non-proxy integrations (MOCK, AWS, HTTP): request templates chosen
by the integration's TemplateSelectionExpression, response templates by the integration
response's; rendered as Velocity by the engine REST APIs use (http/execute_api/velocity.py),
with `$input` over the message (or the backend's answer), `$context`, `$stageVariables`.

A template that fails to render leaves its text as it was, references and all: a WebSocket
message has no error answer of its own to carry the failure.
"""

from __future__ import annotations

from collections.abc import Mapping

from .. import velocity
from .selection import Sources, evaluate


def render(template: str, sources: Sources) -> str:
    params = {"header": dict(sources.headers), "querystring": dict(sources.query), "path": {}}
    try:
        return velocity.render(
            template, velocity.Input(sources.body or "", params), dict(sources.context), dict(sources.stage_variables)
        )
    except (velocity.BadBody, velocity.TemplateFailure):
        return template


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
