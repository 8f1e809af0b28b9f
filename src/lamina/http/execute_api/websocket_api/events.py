"""The events a WebSocket API hands its Lambda proxy integrations and authorizers, in AWS's
shape (API Gateway developer guide: "WebSocket API Lambda proxy integration" and the event
samples of $connect, $disconnect and messages; aws-lambda-powertools' models check them).

Every event has a requestContext:

    routeKey, eventType (CONNECT, MESSAGE, DISCONNECT), extendedRequestId, requestTime,
    messageDirection "IN", stage, connectedAt, requestTimeEpoch, identity {sourceIp,
    userAgent}, requestId, domainName, connectionId, apiId; messageId on messages;
    disconnectStatusCode and disconnectReason on $disconnect; authorizer (what $connect's
    authorizer returned) on every event after it allowed the connection.

$connect's event carries the handshake's headers, multiValueHeaders and query string
parameters; a message's its body; $disconnect's the few headers AWS sends there.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qsl

from ....protocol.messages import Request
from .connections import Connection, new_id

# Header names as clients spell them (ours arrive lower-cased): "Sec-WebSocket-Key".
_SPELLING = {"websocket": "WebSocket", "amzn": "Amzn", "id": "Id"}


def header_name(name: str) -> str:
    return "-".join(_SPELLING.get(part, part.capitalize()) for part in name.split("-"))


def request_time(epoch: float) -> str:
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(epoch))


def headers_of(request: Request) -> tuple[dict[str, str], dict[str, list[str]]]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        spelled = header_name(name)
        single[spelled] = value
        multi[spelled] = [value]
    return single, multi


def query_of(request: Request) -> tuple[dict[str, str], dict[str, list[str]]]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in parse_qsl(request.query_string, keep_blank_values=True):
        single[name] = value  # the last one, as AWS's queryStringParameters
        multi.setdefault(name, []).append(value)
    return single, multi


def context(
    connection: Connection, route_key: str, event_type: str, request_id: str, now: float | None = None
) -> dict[str, Any]:
    now = time.time() if now is None else now
    identity: dict[str, Any] = {"sourceIp": connection.source_ip or "127.0.0.1"}
    if connection.user_agent:
        identity["userAgent"] = connection.user_agent
    identity.update(connection.identity)
    built: dict[str, Any] = {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": request_id,
        "requestTime": request_time(now),
        "messageDirection": "IN",
        "stage": connection.stage,
        "connectedAt": int(connection.connected_at * 1000),
        "requestTimeEpoch": int(now * 1000),
        "identity": identity,
        "requestId": request_id,
        "domainName": connection.domain,
        "connectionId": connection.connection_id,
        "apiId": connection.api_id,
    }
    if connection.authorizer is not None:
        built["authorizer"] = connection.authorizer
    return built


def connect_event(connection: Connection, request: Request, request_id: str) -> dict[str, Any]:
    headers, multi_headers = headers_of(request)
    event: dict[str, Any] = {"headers": headers, "multiValueHeaders": multi_headers}
    query, multi_query = query_of(request)
    if query:
        event["queryStringParameters"] = query
        event["multiValueQueryStringParameters"] = multi_query
    event["requestContext"] = context(connection, "$connect", "CONNECT", request_id)
    event["isBase64Encoded"] = False
    return event


def message_event(connection: Connection, route_key: str, body: str, request_id: str) -> dict[str, Any]:
    request_context = context(connection, route_key, "MESSAGE", request_id)
    request_context["messageId"] = new_id()
    return {"requestContext": request_context, "body": body, "isBase64Encoded": False}


def disconnect_event(connection: Connection, code: int, reason: str, request_id: str) -> dict[str, Any]:
    host = connection.domain.split("/", 1)[0]
    headers = {"Host": host, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""}
    request_context = context(connection, "$disconnect", "DISCONNECT", request_id)
    request_context["disconnectStatusCode"] = code
    request_context["disconnectReason"] = reason
    return {
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "requestContext": request_context,
        "isBase64Encoded": False,
    }


def authorizer_event(
    connection: Connection, request: Request, request_id: str, method_arn: str, stage_variables: dict[str, str]
) -> dict[str, Any]:
    """A REQUEST authorizer's event on $connect (WebSocket APIs have only REQUEST ones)."""
    headers, multi_headers = headers_of(request)
    query, multi_query = query_of(request)
    request_context = context(connection, "$connect", "CONNECT", request_id)
    request_context.pop("authorizer", None)
    return {
        "type": "REQUEST",
        "methodArn": method_arn,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "stageVariables": dict(stage_variables),
        "requestContext": request_context,
    }
