"""The events API Gateway sends a Lambda function for an HTTP API's call: payload format 2.0
and 1.0 (integrations), and the two formats of a Lambda authorizer's event.

As AWS builds them: header names lower-case, repeated headers (and query parameters, in 2.0)
joined with commas; 2.0 carries cookies in `cookies` (the cookie header is not repeated in
`headers`); members with nothing to say are left out (2.0) or null (1.0). `rawPath`,
`http.path` and 1.0's `path` are the path the client called, a named stage's segment
included. A body is text when its content type is (text/*, JSON, XML, JavaScript); any
other body, or none said, is base64 with isBase64Encoded true.

API Gateway adds x-forwarded-for, x-forwarded-port, x-forwarded-proto and x-amzn-trace-id.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qsl

from .calls import Call, clf

_TEXT = ("text/", "application/json", "application/xml", "application/javascript", "+json", "+xml")


def _is_text(content_type: str) -> bool:
    lowered = content_type.lower()
    return bool(lowered) and any(kind in lowered for kind in _TEXT)


def body_fields(call: Call) -> tuple[str | None, bool]:
    """(body, isBase64Encoded) of the request, as API Gateway passes it."""
    data = call.request.body
    if not data:
        return None, False
    if _is_text(call.request.headers.get("content-type", "")):
        try:
            return data.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(data).decode(), True


def _port(call: Call) -> str:
    host = call.request.headers.get("host", "")
    return host.rsplit(":", 1)[1] if ":" in host and host[-1:].isdigit() else "80"


def integration_headers(call: Call) -> dict[str, str]:
    """The request's headers as the integration sees them (the cookie header aside)."""
    headers = dict(call.request.headers)
    headers.pop("cookie", None)
    forwarded = headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = f"{forwarded}, {call.source_ip}" if forwarded else call.source_ip
    headers["x-forwarded-port"] = _port(call)
    headers["x-forwarded-proto"] = "http"
    headers.setdefault("x-amzn-trace-id", f"Root=1-{int(call.epoch):08x}-{call.request_id.encode().hex()[:24]}")
    return headers


def cookies(call: Call) -> list[str]:
    cookie = call.request.headers.get("cookie")
    return [part.strip() for part in cookie.split(";") if part.strip()] if cookie else []


def joined_query(call: Call) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, value in call.request.query:
        params[name] = f"{params[name]},{value}" if name in params else value
    return params


def _context_v2(call: Call) -> dict[str, Any]:
    context: dict[str, Any] = {
        "accountId": call.account,
        "apiId": call.api_id,
        "domainName": call.domain,
        "domainPrefix": call.domain_prefix,
        "http": {
            "method": call.method,
            "path": call.path,
            "protocol": "HTTP/1.1",
            "sourceIp": call.source_ip,
            "userAgent": call.user_agent,
        },
        "requestId": call.request_id,
        "routeKey": call.route_key,
        "stage": call.stage,
        "time": clf(call.epoch),
        "timeEpoch": int(call.epoch * 1000),
    }
    if call.authorizer is not None:
        context["authorizer"] = call.authorizer
    return context


def _request_v2(call: Call, event: dict[str, Any]) -> dict[str, Any]:
    """The members the 2.0 integration and authorizer events share, in AWS's order."""
    event["routeKey"] = call.route_key
    event["rawPath"] = call.request.raw_path.split("?", 1)[0] if call.request.raw_path else call.path
    event["rawQueryString"] = call.request.query_string
    jar = cookies(call)
    if jar:
        event["cookies"] = jar
    event["headers"] = integration_headers(call)
    if call.request.query_string:
        event["queryStringParameters"] = joined_query(call)
    return event


def v2(call: Call, raw_path: str) -> dict[str, Any]:
    """Payload format 2.0."""
    event = _request_v2(call, {"version": "2.0"})
    event["rawPath"] = raw_path
    event["requestContext"] = _context_v2(call)
    body, encoded = body_fields(call)
    if body is not None:
        event["body"] = body
    if call.path_parameters:
        event["pathParameters"] = call.path_parameters
    event["isBase64Encoded"] = encoded
    if call.stage_variables:
        event["stageVariables"] = call.stage_variables
    return event


def _identity_v1(call: Call) -> dict[str, Any]:
    identity = {
        "accessKey": None,
        "accountId": None,
        "caller": None,
        "cognitoAuthenticationProvider": None,
        "cognitoAuthenticationType": None,
        "cognitoIdentityId": None,
        "cognitoIdentityPoolId": None,
        "principalOrgId": None,
        "sourceIp": call.source_ip,
        "user": None,
        "userAgent": call.user_agent,
        "userArn": None,
    }
    identity.update({k: v for k, v in call.identity.items() if k in identity})
    return identity


def _authorizer_v1(call: Call) -> dict[str, Any]:
    found = call.authorizer or {}
    if "jwt" in found:
        return {"claims": found["jwt"]["claims"], "scopes": found["jwt"]["scopes"]}
    if "lambda" in found:
        values = dict(found["lambda"] or {})
        values.setdefault("principalId", call.authorizer_values.get("principalId"))
        values["integrationLatency"] = call.authorizer_values.get("integrationLatency", 0)
        return values
    if "iam" in found:
        return {"iam": found["iam"]}
    return {"claims": None, "scopes": None}


def v1(call: Call, route_path: str | None, route_id: str | None) -> dict[str, Any]:
    """Payload format 1.0. `route_path`: the route's path ("/pets/{id}"); None for $default,
    whose resource is the path called."""
    headers = integration_headers(call)
    cookie = call.request.headers.get("cookie")
    if cookie:
        headers["cookie"] = cookie
    single_query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for name, value in parse_qsl(call.request.query_string, keep_blank_values=True):
        single_query[name] = value
        multi_query.setdefault(name, []).append(value)
    resource = route_path if route_path is not None else call.api_path
    body, encoded = body_fields(call)
    return {
        "version": "1.0",
        "resource": resource,
        "path": call.path,
        "httpMethod": call.method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": single_query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "requestContext": {
            "accountId": call.account,
            "apiId": call.api_id,
            "authorizer": _authorizer_v1(call),
            "domainName": call.domain,
            "domainPrefix": call.domain_prefix,
            "extendedRequestId": call.request_id,
            "httpMethod": call.method,
            "identity": _identity_v1(call),
            "path": call.path,
            "protocol": "HTTP/1.1",
            "requestId": call.request_id,
            "requestTime": clf(call.epoch),
            "requestTimeEpoch": int(call.epoch * 1000),
            "resourceId": route_id,
            "resourcePath": resource,
            "stage": call.stage,
        },
        "pathParameters": call.path_parameters or None,
        "stageVariables": call.stage_variables or None,
        "body": body,
        "isBase64Encoded": encoded,
    }


# --- Lambda authorizers --------------------------------------------------------------------


def authorizer_v2(call: Call, identity: list[str]) -> dict[str, Any]:
    event: dict[str, Any] = {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": call.route_arn(),
        "identitySource": identity,
    }
    _request_v2(call, event)
    context = _context_v2(call)
    context.pop("authorizer", None)
    event["requestContext"] = context
    if call.path_parameters:
        event["pathParameters"] = call.path_parameters
    if call.stage_variables:
        event["stageVariables"] = call.stage_variables
    return event


def authorizer_v1(call: Call, identity: list[str], route_path: str | None, route_id: str | None) -> dict[str, Any]:
    event = v1(call, route_path, route_id)
    joined = ",".join(identity)
    out: dict[str, Any] = {
        "version": "1.0",
        "type": "REQUEST",
        "methodArn": call.route_arn(),
        "identitySource": joined,
        "authorizationToken": joined,
    }
    for name in ("resource", "path", "httpMethod", "headers", "multiValueHeaders", "queryStringParameters"):
        out[name] = event[name]
    out["multiValueQueryStringParameters"] = event["multiValueQueryStringParameters"]
    out["pathParameters"] = call.path_parameters
    out["stageVariables"] = call.stage_variables
    context = event["requestContext"]
    context.pop("authorizer", None)
    out["requestContext"] = context
    return out
