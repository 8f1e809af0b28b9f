"""A Lambda proxy integration's result as the HTTP response it stands for, read as REST APIs
read it: a JSON object of statusCode (a number, or a string of one; 200 when absent), headers
and multiValueHeaders (objects of scalars, lists of scalars), body (a string; numbers and
booleans are read as their text, as Java's reader does), isBase64Encoded. Anything else (not
an object, a member of another name such as HTTP APIs' `cookies`, an object where a string
belongs, a null header) is "Malformed Lambda proxy response": 502 {"message": "Internal
server error"}.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from ....protocol.messages import Request, Response
from . import media

MEMBERS = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})


class Malformed(ValueError):
    pass


def _scalar(value: Any, what: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise Malformed(f"{what} must be a string")


def _status(value: Any) -> int:
    if value is None:
        return 200
    if isinstance(value, bool):
        raise Malformed("statusCode must be a number")
    try:
        code = int(value)
    except (TypeError, ValueError):
        raise Malformed("statusCode must be a number") from None
    if not 100 <= code <= 599:
        raise Malformed("statusCode out of range")
    return code


def response(payload: bytes, binary_types: tuple[str, ...], request: Request) -> Response:
    try:
        document = json.loads(payload)
    except ValueError:
        raise Malformed("the result is not JSON") from None
    if not isinstance(document, dict) or set(document) - MEMBERS:
        raise Malformed("the result is not a proxy response")
    headers: list[tuple[str, str]] = []
    single, multi = document.get("headers") or {}, document.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise Malformed("headers must be objects")
    for name, values in multi.items():
        if not isinstance(values, list):
            raise Malformed("multiValueHeaders must hold lists")
        headers.extend((name, _scalar(v, "a header")) for v in values)
    named = {name.lower() for name, _ in headers}
    headers.extend((name, _scalar(v, "a header")) for name, v in single.items() if name.lower() not in named)
    body = document.get("body")
    raw = b"" if body is None else _scalar(body, "body").encode()
    encoded = document.get("isBase64Encoded")
    if encoded is not None and not isinstance(encoded, bool):
        raise Malformed("isBase64Encoded must be a boolean")
    status = _status(document.get("statusCode"))
    if encoded and raw:
        content_type = next((v for k, v in headers if k.lower() == "content-type"), None)
        accept = media.first_accept(request.headers.get("accept"))
        if media.matches(binary_types, accept) or media.matches(binary_types, content_type):
            try:
                raw = base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError):
                raise Malformed("body is not base64") from None
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("content-type", "application/json"))
    return Response(status, headers, raw)
