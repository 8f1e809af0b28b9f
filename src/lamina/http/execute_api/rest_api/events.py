"""The events REST APIs send Lambda functions, as AWS builds them
(set-up-lambda-proxy-integrations, apigateway-use-lambda-authorizer):

- the proxy event (AWS_PROXY): resource, path, httpMethod, headers and multiValueHeaders,
  queryStringParameters (the last value of a repeated name) and
  multiValueQueryStringParameters, pathParameters, stageVariables (each null when empty),
  requestContext, body (null when empty; base64 with isBase64Encoded for a binary media
  type);
- a TOKEN authorizer's {type, authorizationToken, methodArn};
- a REQUEST authorizer's: the proxy event without its body, with type and methodArn.

API Gateway adds X-Forwarded-For, X-Forwarded-Port, X-Forwarded-Proto and X-Amzn-Trace-Id
headers, as here.
"""

from __future__ import annotations

import base64
import secrets
import time
from typing import Any

from .calls import RestCall


def headers(call: RestCall) -> dict[str, str]:
    out = dict(call.request.headers)
    host = call.request.headers.get("host", call.domain)
    out.setdefault("x-forwarded-for", call.source_ip)
    out.setdefault("x-forwarded-port", host.rsplit(":", 1)[1] if ":" in host else "80")
    out.setdefault("x-forwarded-proto", "http")
    out.setdefault("x-amzn-trace-id", f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}")
    return out


def _query(call: RestCall) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in call.request.query:
        single[name] = value
        multi.setdefault(name, []).append(value)
    return (single or None), (multi or None)


def request_context(call: RestCall) -> dict[str, Any]:
    context: dict[str, Any] = {
        "resourceId": call.resource_id,
        "resourcePath": call.resource_path,
        "httpMethod": call.method,
        "extendedRequestId": call.extended_request_id,
        "requestTime": call.context("requestTime"),
        "path": call.path,
        "accountId": call.account,
        "protocol": "HTTP/1.1",
        "stage": call.stage,
        "domainPrefix": call.domain.split(".", 1)[0],
        "requestTimeEpoch": int(call.epoch * 1000),
        "requestId": call.request_id,
        "identity": call.identity_tree(),
        "domainName": call.domain,
        "apiId": call.api_id,
    }
    if call.operation_name:
        context["operationName"] = call.operation_name
    if call.authorizer is not None:
        context["authorizer"] = dict(call.authorizer)
    return context


def proxy(call: RestCall, body: bytes, is_binary: bool) -> dict[str, Any]:
    sent = headers(call)
    single, multi = _query(call)
    if not body:
        text, encoded = None, False
    elif is_binary:
        text, encoded = base64.b64encode(body).decode(), True
    else:
        text, encoded = body.decode("utf-8", "replace"), False
    return {
        "resource": call.resource_path,
        "path": call.api_path,
        "httpMethod": call.method,
        "headers": sent,
        "multiValueHeaders": {name: [value] for name, value in sent.items()},
        "queryStringParameters": single,
        "multiValueQueryStringParameters": multi,
        "pathParameters": dict(call.path_parameters) or None,
        "stageVariables": dict(call.stage_variables) or None,
        "requestContext": request_context(call),
        "body": text,
        "isBase64Encoded": encoded,
    }


def token_authorizer(call: RestCall, token: str) -> dict[str, Any]:
    return {"type": "TOKEN", "authorizationToken": token, "methodArn": call.method_arn()}


def request_authorizer(call: RestCall) -> dict[str, Any]:
    sent = headers(call)
    single, multi = _query(call)
    return {
        "type": "REQUEST",
        "methodArn": call.method_arn(),
        "resource": call.resource_path,
        "path": call.api_path,
        "httpMethod": call.method,
        "headers": sent,
        "multiValueHeaders": {name: [value] for name, value in sent.items()},
        "queryStringParameters": single or {},
        "multiValueQueryStringParameters": multi or {},
        "pathParameters": dict(call.path_parameters),
        "stageVariables": dict(call.stage_variables),
        "requestContext": request_context(call),
    }
