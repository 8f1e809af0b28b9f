"""API Gateway's own answers ({"message": ...}), and the HTTP response a function's result
stands for, as HTTP APIs read it (payload format 2.0 or 1.0).

2.0: a JSON object with a statusCode is a response (statusCode, headers, multiValueHeaders,
cookies as set-cookie headers, body, isBase64Encoded); any other valid JSON is a 200
application/json whose body is the result as the function returned it. 1.0: the result must be
such an object (statusCode, headers, multiValueHeaders, body, isBase64Encoded). Anything else
(not JSON, a statusCode that is no number, a body that is no string) is malformed: API Gateway
answers 500 {"message":"Internal Server Error"}.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from ....protocol.messages import Response

JSON = ("content-type", "application/json")


def message(status: int, text: str, *headers: tuple[str, str]) -> Response:
    body = json.dumps({"message": text}, separators=(",", ":")).encode()
    return Response(status, [JSON, *headers], body)


def not_found() -> Response:
    return message(404, "Not Found")


def internal_error() -> Response:
    return message(500, "Internal Server Error")


def unavailable() -> Response:
    return message(503, "Service Unavailable")


class Malformed(ValueError):
    """A function's result that is no valid response."""


def _headers(document: dict[str, Any], cookies: bool) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    single = document.get("headers") or {}
    multi = document.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise Malformed("headers must be objects")
    for name, values in multi.items():
        if not isinstance(values, list):
            raise Malformed("multiValueHeaders must hold lists")
        out.extend((str(name), _text(value)) for value in values)
    named = {name.lower() for name, _ in out}
    out.extend((str(name), _text(value)) for name, value in single.items() if str(name).lower() not in named)
    if cookies:
        given = document.get("cookies") or []
        if not isinstance(given, list):
            raise Malformed("cookies must be a list")
        out.extend(("set-cookie", str(cookie)) for cookie in given)
    return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value) if isinstance(value, (dict, list)) else str(value)


def _body(document: dict[str, Any]) -> bytes:
    body = document.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise Malformed("body must be a string")
    if document.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise Malformed("body is not base64") from None
    return body.encode("utf-8")


def _status(document: dict[str, Any]) -> int:
    status = document.get("statusCode")
    if isinstance(status, bool) or not isinstance(status, (int, str)):
        raise Malformed("statusCode must be a number")
    try:
        code = int(status)
    except ValueError:
        raise Malformed("statusCode must be a number") from None
    if not 100 <= code <= 599:
        raise Malformed("statusCode out of range")
    return code


def from_function(payload: bytes, version: str) -> Response:
    """The response a function's result stands for; raises Malformed."""
    if version == "2.0" and payload.lstrip()[:1] != b"{":
        try:
            json.loads(payload)
        except ValueError:
            raise Malformed("not JSON") from None
        return Response(200, [JSON], payload)
    try:
        # "{" and a second byte that is not NUL is UTF-8 by json's own detection (no BOM
        # starts with "{"): decoded here as json.loads would, which then skips detecting it.
        utf8 = payload[:1] == b"{" and payload[1:2] != b"\x00"
        document = json.loads(payload.decode("utf-8", "surrogatepass") if utf8 else payload)
    except ValueError:
        raise Malformed("not JSON") from None
    if not isinstance(document, dict):
        raise Malformed("not an object")
    if "statusCode" not in document:
        if version == "2.0":
            return Response(200, [JSON], payload)
        raise Malformed("no statusCode")
    return Response(_status(document), _headers(document, cookies=version == "2.0"), _body(document))
