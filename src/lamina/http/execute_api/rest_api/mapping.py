"""The integration request of a non-proxy integration (AWS, HTTP, MOCK): the body a request
template makes, and the headers, query string and path parameters requestParameters map
(`integration.request.header.X`, `.querystring.X`, `.path.X` from the sources in
sources.py), then what a template set in `$context.requestOverride`.

The template is the requestTemplates entry of the request's Content-Type (application/json
when it has none). Without one, passthroughBehavior decides (models-mappings):
WHEN_NO_MATCH passes the body through; WHEN_NO_TEMPLATES passes it only when the integration
has no templates at all; NEVER passes nothing. Refused: 415 UNSUPPORTED_MEDIA_TYPE
"Unsupported Media Type".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..velocity import BadBody, Input, TemplateFailure, render
from . import media
from .calls import RestCall
from .refusals import Refusal
from .sources import request_params, resolve


@dataclass
class IntegrationRequest:
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    query: list[tuple[str, str]] = field(default_factory=list)
    path: dict[str, str] = field(default_factory=dict)


def content_type(call: RestCall) -> str:
    value = call.request.headers.get("content-type", "")
    return value.split(";", 1)[0].strip().lower() or "application/json"


def template_for(call: RestCall, integration: dict[str, Any]) -> str | None:
    """The request template, or None for a passthrough; raises the 415."""
    templates = integration.get("requestTemplates") or {}
    wanted = content_type(call)
    for name, template in templates.items():
        if name.lower() == wanted:
            return template or ""
    behavior = integration.get("passthroughBehavior") or "WHEN_NO_MATCH"
    if behavior == "NEVER" or (behavior == "WHEN_NO_TEMPLATES" and templates):
        raise Refusal("UNSUPPORTED_MEDIA_TYPE", "Unsupported Media Type", 415)
    return None


def render_template(call: RestCall, template: str, body: bytes) -> bytes:
    try:
        text = render(
            template,
            Input(body.decode("utf-8", "replace"), request_params(call)),
            call.context_tree(),
            call.stage_variables,
        )
    except BadBody as error:
        raise Refusal("BAD_REQUEST_BODY", str(error), 400) from None
    except TemplateFailure as error:
        call.integration_error = str(error)
        raise Refusal("DEFAULT_5XX", "Internal server error", 500) from None
    return text.encode()


def integration_request(
    call: RestCall, integration: dict[str, Any], body: bytes, binary_types: tuple[str, ...]
) -> IntegrationRequest:
    template = template_for(call, integration)
    is_binary = media.matches(binary_types, call.request.headers.get("content-type"))
    if template is None:
        try:
            payload = media.convert(body, integration.get("contentHandling"), is_binary)
        except ValueError:
            raise Refusal("API_CONFIGURATION_ERROR", "Internal server error", 500) from None
    else:
        payload = render_template(call, template, body)
    out = IntegrationRequest(payload)
    for target, expression in (integration.get("requestParameters") or {}).items():
        if not target.startswith("integration.request."):
            continue
        kind, _, name = target[len("integration.request.") :].partition(".")
        value = resolve(expression, call, body)
        if value is None:
            continue
        if kind == "header":
            out.headers[name] = value
        elif kind in ("querystring", "multivaluequerystring"):
            out.query.extend((name, v) for v in (value.split(",") if kind.startswith("multi") else [value]))
        elif kind == "path":
            out.path[name] = value
    override = call.request_override
    out.headers.update(override.get("header") or {})
    for name, value in (override.get("querystring") or {}).items():
        out.query = [(k, v) for k, v in out.query if k != name] + [(name, str(value))]
    out.path.update(override.get("path") or {})
    return out
