"""The Get* lists' paging: MaxResults and NextToken are strings (query parameters), a
NextToken is the last key handed out."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from ..api_gateway_errors import bad_request

MAX_RESULTS = 100


def page(keys: list[str], params: dict[str, Any]) -> tuple[list[str], str | None]:
    """One page of the sorted keys after the request's NextToken, and the next token."""
    size = MAX_RESULTS
    given = params.get("MaxResults")
    if given is not None:
        try:
            size = int(given)
        except ValueError:
            raise bad_request(f"Invalid MaxResults: {given}") from None
        if not 1 <= size <= 500:
            raise bad_request("MaxResults must be between 1 and 500")
    start = 0
    token = params.get("NextToken")
    if token:
        try:
            after = base64.urlsafe_b64decode(token.encode()).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise bad_request("Invalid pagination token") from None
        start = next((i for i, key in enumerate(keys) if key > after), len(keys))
    chosen = keys[start : start + size]
    more = start + size < len(keys)
    return chosen, base64.urlsafe_b64encode(chosen[-1].encode()).decode() if more and chosen else None


def listed(records: dict[str, dict[str, Any]], params: dict[str, Any], show=lambda r: r) -> dict[str, Any]:
    """{"Items": [...], "NextToken"?} of records keyed by id."""
    chosen, token = page(sorted(records), params)
    result: dict[str, Any] = {"Items": [show(records[key]) for key in chosen]}
    if token:
        result["NextToken"] = token
    return result
