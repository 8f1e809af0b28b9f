"""Checks shared by several operations: names, tags, CORS, ARNs, selection expressions."""

from __future__ import annotations

import re
from typing import Any

from ..api_gateway_errors import bad_request

HTTP_ROUTE_SELECTION = "${request.method} ${request.path}"
API_KEY_SELECTIONS = ("$request.header.x-api-key", "$context.authorizer.usageIdentifierKey")
_WEBSOCKET_SELECTION = re.compile(
    r"^(\$request\.body\.[A-Za-z0-9_.\-\[\]]+|\$\{request\.body\.[A-Za-z0-9_.\-\[\]]+\})$"
)
_ARN = re.compile(r"^arn:aws[a-zA-Z-]*:[a-z0-9\-]+:[a-z0-9\-]*:[0-9]{0,12}:.+$")
_TAG_KEY = re.compile(r"^[\w\s+=.:/@\-]{1,128}$")
MAX_TAGS = 50


def length(name: str, value: str | None, low: int, high: int) -> None:
    if value is not None and not low <= len(value) <= high:
        raise bad_request(f"{name} must be between {low} and {high} characters long")


def api_name(value: str) -> None:
    length("Name", value, 1, 128)


def description(value: str | None) -> None:
    length("Description", value, 0, 1024)


def arn(value: str | None, what: str) -> None:
    if value is not None and not _ARN.match(value):
        raise bad_request(f"Invalid ARN specified in the request for {what}: {value}")


def role_arn(value: str | None, what: str = "credentials") -> None:
    """A role ARN, or `arn:aws:iam::*:user/*` (the caller's own credentials)."""
    if value is None or value == "arn:aws:iam::*:user/*":
        return
    if not re.match(r"^arn:aws[a-zA-Z-]*:iam::[0-9]{12}:role/.+$", value):
        raise bad_request(f"Invalid ARN specified in the request for {what}: {value}")


def tags(given: dict[str, str] | None) -> dict[str, str]:
    tags = dict(given or {})
    if len(tags) > MAX_TAGS:
        raise bad_request(f"Too many tags specified. The maximum number of tags is {MAX_TAGS}")
    for key, value in tags.items():
        if key.lower().startswith("aws:"):
            raise bad_request("Tag keys cannot start with the reserved prefix 'aws:'")
        if not _TAG_KEY.match(key):
            raise bad_request(f"Invalid tag key: {key}")
        if len(value) > 256:
            raise bad_request(f"Tag value for key {key} must be at most 256 characters long")
    return tags


def route_selection(protocol: str, value: str | None) -> str:
    if protocol == "HTTP":
        if value is not None and value != HTTP_ROUTE_SELECTION:
            raise bad_request(
                f"Unsupported route selection expression for HTTP API: {value}. "
                f"The only supported value is {HTTP_ROUTE_SELECTION}"
            )
        return HTTP_ROUTE_SELECTION
    if not value:
        raise bad_request("RouteSelectionExpression is required for WEBSOCKET protocol")
    if not _WEBSOCKET_SELECTION.match(value):
        raise bad_request(f"Invalid route selection expression specified: {value}")
    return value


def api_key_selection(value: str | None) -> str:
    if value is None:
        return API_KEY_SELECTIONS[0]
    if value not in API_KEY_SELECTIONS:
        raise bad_request(
            f"Invalid API key selection expression specified: {value}. "
            f"Supported values are {API_KEY_SELECTIONS[0]} and {API_KEY_SELECTIONS[1]}"
        )
    return value


def cors(given: dict[str, Any]) -> dict[str, Any]:
    """A CorsConfiguration as kept: methods upper-cased, MaxAge within -1..86400, no
    credentials with a wildcard origin."""
    out = {k: v for k, v in given.items() if v is not None}
    max_age = out.get("MaxAge")
    if max_age is not None and not -1 <= max_age <= 86400:
        raise bad_request("maxAge must be between -1 and 86400")
    methods = out.get("AllowMethods")
    if methods is not None:
        allowed = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "*"}
        upper = [m.upper() for m in methods]
        for method in upper:
            if method not in allowed:
                raise bad_request(f"Invalid CORS allow method specified: {method}")
        out["AllowMethods"] = upper
    if out.get("AllowCredentials") and "*" in (out.get("AllowOrigins") or []):
        raise bad_request("allow-credentials is not supported with wildcard allow-origins")
    for origin in out.get("AllowOrigins") or []:
        if origin != "*" and not re.match(r"^[a-zA-Z][a-zA-Z0-9+.\-]*://[^/\s]+$", origin):
            raise bad_request(f"Invalid CORS allow origin specified: {origin}")
    return out
