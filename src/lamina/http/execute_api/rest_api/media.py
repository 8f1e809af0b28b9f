"""Binary media types and content handling, as API Gateway converts payloads
(api-gateway-payload-encodings-workflow):

- a request is binary when its Content-Type matches one of the API's binaryMediaTypes
  (`image/png`, `image/*`, `*/*`); a response when the first media type of the request's
  Accept header does (only the first counts, as on AWS);
- an integration's contentHandling converts the request payload (CONVERT_TO_TEXT: binary to
  base64 text; CONVERT_TO_BINARY: base64 text to binary), an integration response's the
  response payload; unset, a payload passes as it is.
- a Lambda proxy event carries a binary body base64-encoded with isBase64Encoded true; a
  proxy response with isBase64Encoded true is decoded when the response is binary (the Accept
  or the response's Content-Type matches), else sent as the base64 text it is.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable

CONVERT_TO_TEXT, CONVERT_TO_BINARY = "CONVERT_TO_TEXT", "CONVERT_TO_BINARY"


def _type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def matches(binary_types: Iterable[str], content_type: str | None) -> bool:
    if not content_type:
        return False
    wanted = _type(content_type)
    major = wanted.split("/", 1)[0]
    for media in binary_types:
        media = media.strip().lower()
        if media in (wanted, "*/*") or (media.endswith("/*") and media[:-2] == major):
            return True
    return False


def first_accept(accept: str | None) -> str:
    return _type((accept or "").split(",", 1)[0])


def convert(payload: bytes, handling: str | None, is_binary: bool) -> bytes:
    """A payload through contentHandling. Raises ValueError for text that is no base64."""
    if handling == CONVERT_TO_TEXT and is_binary:
        return base64.b64encode(payload)
    if handling == CONVERT_TO_BINARY and not is_binary:
        try:
            return base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("the payload is not base64") from None
    return payload
