"""What a non-proxy integration's answer becomes (api-gateway-integration-settings-
integration-response): the integration response whose selectionPattern matches, else the
default one (no pattern), then its status code, responseParameters
(`method.response.header.X`), response template and contentHandling.

The key a pattern is matched against (the whole of it, as Java's regexes match): a Lambda
function's errorMessage when it failed (a function that succeeded gets the default
response), the status code an HTTP endpoint or an AWS service answered, the statusCode a
MOCK's request template wrote. No response to select: 500 "Internal server error"
(API_CONFIGURATION_ERROR, as AWS's "No match for output mapping and no default output
mapping configured").

The response template is the one of the first media type of the Accept header, else
application/json's, else the first; without templates the body passes through. The
Content-Type is the chosen template's (application/json by default), and what a template
wrote to `$context.responseOverride` (status, header.X) applies last.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from ....protocol.messages import Response
from ..velocity import BadBody, Input, TemplateFailure, render
from . import media
from .calls import RestCall
from .refusals import Refusal, configuration
from .sources import request_params, resolve

log = logging.getLogger("lamina.execute_api")
_HEADER = "method.response.header."
_patterns: dict[str, re.Pattern | None] = {}


def _pattern(text: str) -> re.Pattern | None:
    if text not in _patterns:
        try:
            _patterns[text] = re.compile(text, re.DOTALL)
        except re.error:
            _patterns[text] = None
    return _patterns[text]


def select(responses: dict[str, dict[str, Any]], key: str | None) -> dict[str, Any] | None:
    default = None
    for status in sorted(responses):
        record = responses[status]
        pattern = record.get("selectionPattern")
        if not pattern:
            if default is None:
                default = record
            continue
        compiled = _pattern(pattern)
        if key is not None and compiled is not None and compiled.fullmatch(key):
            return record
    return default


def _template(templates: dict[str, str], accept: str) -> tuple[str, str] | None:
    if not templates:
        return None
    wanted = media.first_accept(accept)
    for name, template in templates.items():
        if name.lower() == wanted:
            return name, template
    if "application/json" in templates:
        return "application/json", templates["application/json"]
    name = next(iter(templates))
    return name, templates[name]


def respond(
    call: RestCall,
    responses: dict[str, dict[str, Any]],
    key: str | None,
    answer: Response,
    binary_types: tuple[str, ...],
) -> Response:
    """The method response for the integration's `answer`."""
    record = select(responses, key)
    if record is None:
        call.integration_error = "No match for output mapping and no default output mapping configured"
        raise configuration()
    status = int(record.get("statusCode") or 200)
    headers: list[tuple[str, str]] = []
    for target, expression in (record.get("responseParameters") or {}).items():
        if target.startswith(_HEADER):
            value = resolve(expression, call, b"", answer)
            if value is not None:
                headers.append((target[len(_HEADER) :], value))
    accept = call.request.headers.get("accept", "")
    chosen = _template(record.get("responseTemplates") or {}, accept)
    content_type = "application/json"
    if chosen is None or not chosen[1]:
        body = answer.body
        if chosen is not None:
            content_type = chosen[0]
        handling = record.get("contentHandling")
        # CONVERT_TO_TEXT encodes what a binary Accept would get; CONVERT_TO_BINARY always
        # decodes (the integration's payload is text: base64).
        binary = handling != media.CONVERT_TO_BINARY and media.matches(binary_types, media.first_accept(accept))
        try:
            body = media.convert(body, handling, binary)
        except ValueError:
            raise configuration() from None
    else:
        content_type = chosen[0]
        try:
            text = render(
                chosen[1],
                Input(answer.body.decode("utf-8", "replace"), request_params(call)),
                call.context_tree(),
                call.stage_variables,
            )
        except (BadBody, TemplateFailure) as error:
            call.integration_error = str(error)
            raise Refusal("DEFAULT_5XX", "Internal server error", 500) from None
        body = text.encode()
    override = call.response_override
    if override.get("status") not in (None, ""):
        try:
            status = int(override["status"])
        except (TypeError, ValueError):
            pass
    for name, value in (override.get("header") or {}).items():
        headers = [(k, v) for k, v in headers if k.lower() != str(name).lower()]
        headers.append((str(name), str(value)))
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("content-type", content_type))
    return Response(status, headers, body)
