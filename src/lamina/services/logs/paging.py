"""Opaque nextToken values: a small JSON cursor, base64url-encoded, handed back by the client."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from .resources import invalid_parameter

INVALID_TOKEN = "The specified nextToken is invalid."


def encode_token(cursor: dict[str, Any]) -> str:
    raw = json.dumps(cursor, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str | None, *required: str) -> dict[str, Any] | None:
    """The cursor in token (None when there is no token); InvalidParameterException if it is not ours."""
    if token is None:
        return None
    try:
        cursor = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):
        raise invalid_parameter(INVALID_TOKEN) from None
    if not isinstance(cursor, dict) or any(key not in cursor for key in required):
        raise invalid_parameter(INVALID_TOKEN)
    return cursor
