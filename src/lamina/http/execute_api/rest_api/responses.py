"""API Gateway's own answers: every refusal and failure is one of the stage's gateway
responses (`stage.gateway_response(type)`: AWS's defaults, or what PutGatewayResponse set,
DEFAULT_4XX/DEFAULT_5XX inherited), its status code, its responseParameters
(`gatewayresponse.header.X`) and its template (Velocity, `$context.error.messageString` and
the rest) rendered for the call. A type without a status of its own (DEFAULT_4XX/5XX) keeps
the status of the failure (502 for a malformed Lambda response). The x-amzn-ErrorType header
names the failure as AWS's does.
"""

from __future__ import annotations

import logging
from typing import Any

from ....protocol.messages import Response
from ..velocity import Input, render
from .calls import RestCall
from .sources import request_params, resolve

log = logging.getLogger("lamina.execute_api")

# The x-amzn-ErrorType of each type, as AWS sends it.
ERROR_TYPES = {
    "ACCESS_DENIED": "AccessDeniedException",
    "API_CONFIGURATION_ERROR": "InternalServerErrorException",
    "AUTHORIZER_CONFIGURATION_ERROR": "AuthorizerConfigurationException",
    "AUTHORIZER_FAILURE": "AuthorizerFailureException",
    "BAD_REQUEST_BODY": "BadRequestException",
    "BAD_REQUEST_PARAMETERS": "BadRequestException",
    "DEFAULT_4XX": "BadRequestException",
    "DEFAULT_5XX": "InternalServerErrorException",
    "EXPIRED_TOKEN": "ExpiredTokenException",
    "INTEGRATION_FAILURE": "InternalServerErrorException",
    "INTEGRATION_TIMEOUT": "InternalServerErrorException",
    "INVALID_API_KEY": "ForbiddenException",
    "INVALID_SIGNATURE": "InvalidSignatureException",
    "MISSING_AUTHENTICATION_TOKEN": "MissingAuthenticationTokenException",
    "QUOTA_EXCEEDED": "LimitExceededException",
    "REQUEST_TOO_LARGE": "RequestTooLargeException",
    "RESOURCE_NOT_FOUND": "ResourceNotFoundException",
    "THROTTLED": "TooManyRequestsException",
    "UNAUTHORIZED": "UnauthorizedException",
    "UNSUPPORTED_MEDIA_TYPE": "UnsupportedMediaTypeException",
    "WAF_FILTERED": "ForbiddenException",
}
_HEADER = "gatewayresponse.header."


def _template(templates: dict[str, str], accept: str) -> tuple[str, str] | None:
    if not templates:
        return None
    wanted = accept.split(",")[0].split(";")[0].strip().lower()
    if wanted and wanted in templates:
        return wanted, templates[wanted]
    if "application/json" in templates:
        return "application/json", templates["application/json"]
    first = next(iter(templates))
    return first, templates[first]


def gateway_response(
    stage: Any, call: RestCall, response_type: str, message: str | None, status: int | None = None
) -> Response:
    """The gateway response of `response_type` for this call, with `message` as
    $context.error.message (None: AWS's null)."""
    call.error_type = response_type
    call.error_message = message
    record = stage.gateway_response(response_type) if stage is not None else {}
    code = int(record.get("statusCode") or status or (500 if "5XX" in response_type else 400))
    headers: list[tuple[str, str]] = []
    for target, expression in (record.get("responseParameters") or {}).items():
        if target.startswith(_HEADER):
            value = resolve(expression, call)
            if value is not None:
                headers.append((target[len(_HEADER) :], value))
    chosen = _template(record.get("responseTemplates") or {}, call.request.headers.get("accept", ""))
    body = b""
    content_type = "application/json"
    if chosen is not None:
        content_type, template = chosen
        try:
            text = render(template, Input("", request_params(call)), call.context_tree(), call.stage_variables)
        except Exception:
            log.exception("the %s gateway response's template of %s failed", response_type, call.api_id)
            text = '{"message":' + call.context_tree()["error"]["messageString"] + "}"
        body = text.encode()
    names = {name.lower() for name, _ in headers}
    if "content-type" not in names:
        headers.append(("content-type", content_type))
    headers.append(("x-amzn-errortype", ERROR_TYPES.get(response_type, "InternalServerErrorException")))
    return Response(code, headers, body)


def forbidden_stage() -> Response:
    """A stage that does not exist: no gateway response applies (AWS's plain 403)."""
    return Response(
        403,
        [("content-type", "application/json"), ("x-amzn-errortype", "ForbiddenException")],
        b'{"message":"Forbidden"}',
    )
