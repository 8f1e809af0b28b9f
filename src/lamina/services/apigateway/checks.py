"""Checks shared by the operations, with AWS's messages."""

from __future__ import annotations

import json
import re
from typing import Any

from ..api_gateway_errors import bad_request
from .errors import status_code_invalid

_STATUS = re.compile(r"^[1-5]\d\d$")
_STAGE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_VARIABLE_NAME = re.compile(r"^[A-Za-z0-9_]+$")
_VARIABLE_VALUE = re.compile(r"^[A-Za-z0-9\-._~:/?#&=,]+$")
MAX_COMPRESSION = 10485760


def description(value: str | None) -> None:
    if value is not None and value == "":
        raise bad_request("Description cannot be an empty string")


def status_code(value: str) -> None:
    if not _STATUS.match(value or ""):
        raise status_code_invalid(value)


def stage_name(name: str) -> None:
    if not _STAGE_NAME.match(name or ""):
        raise bad_request("Stage name only allows a-zA-Z0-9_-")


def variables(values: dict[str, str] | None) -> dict[str, str]:
    for name, value in (values or {}).items():
        if not _VARIABLE_NAME.match(name):
            raise bad_request("Stage variable names may only contain alphanumeric characters and underscores")
        if not _VARIABLE_VALUE.match(value or ""):
            raise bad_request("Stage variable values must match the regular expression [A-Za-z0-9-._~:/?#&=,]+")
    return dict(values or {})


def compression(value: Any) -> int:
    try:
        size = int(value)
    except (TypeError, ValueError):
        size = -1
    if not 0 <= size <= MAX_COMPRESSION:
        raise bad_request(f"Invalid minimum compression size, must be between 0 and {MAX_COMPRESSION}")
    return size


def api_key_source(value: str) -> str:
    if value not in ("HEADER", "AUTHORIZER"):
        raise bad_request(f"Invalid API Key Source specified: {value}. Valid values are HEADER, AUTHORIZER")
    return value


def policy(text: str | None) -> str | None:
    """A resource policy as kept: compact JSON (None: no policy)."""
    if text is None or text == "":
        return None
    try:
        document = json.loads(text)
    except ValueError:
        raise bad_request(
            "Invalid policy document. Please check the policy syntax and ensure that Principals are valid."
        ) from None
    if not isinstance(document, dict):
        raise bad_request(
            "Invalid policy document. Please check the policy syntax and ensure that Principals are valid."
        )
    return json.dumps(document, separators=(",", ":"))


def shown_policy(kept: str | None) -> str | None:
    """The policy as AWS shows it: its JSON with every quote backslash-escaped."""
    return kept.replace('"', '\\"') if kept else None


def tags(given: dict[str, str] | None) -> dict[str, str]:
    given = dict(given or {})
    if len(given) > 50:
        raise bad_request("Too many tags: a resource can have at most 50 tags")
    for key, value in given.items():
        if not key or len(key) > 128 or key.lower().startswith("aws:"):
            raise bad_request(f"Invalid tag key: {key}")
        if len(value) > 256:
            raise bad_request(f"Invalid tag value for key {key}")
    return given


def template_content_types(templates: dict[str, Any] | None, what: str) -> dict[str, Any]:
    for content_type in templates or {}:
        if "/" not in content_type:
            raise bad_request(
                f"Validation Result: warnings : [], errors : [Invalid content type specified: {content_type}]"
            )
    return dict(templates or {})
