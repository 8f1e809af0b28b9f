"""The Get* lists' paging: `limit` (default 25, at most 500) and `position`, an opaque token
(here the last key handed out, base64) answered when more remain."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from ..api_gateway_errors import bad_request

DEFAULT_LIMIT = 25
MAX_LIMIT = 500


def page(keys: list[str], params: dict[str, Any]) -> tuple[list[str], str | None]:
    """One page of the ordered keys after the request's position, and the next position."""
    size = params.get("limit")
    if size is None:
        size = DEFAULT_LIMIT
    if not 1 <= size <= MAX_LIMIT:
        raise bad_request(f"Invalid limit: {size}. Must be between 1 and {MAX_LIMIT}")
    start = 0
    position = params.get("position")
    if position:
        try:
            after = base64.urlsafe_b64decode(position.encode()).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise bad_request("Invalid position parameter") from None
        start = next((i for i, key in enumerate(keys) if key == after), None)
        if start is None:
            start = next((i for i, key in enumerate(keys) if key > after), len(keys))
        else:
            start += 1
    chosen = keys[start : start + size]
    more = start + size < len(keys)
    return chosen, base64.urlsafe_b64encode(chosen[-1].encode()).decode() if more and chosen else None


def listed(
    keys: list[str], show: Callable[[str], dict[str, Any]], params: dict[str, Any], member: str = "items"
) -> dict[str, Any]:
    """{member: [...], "position"?}: one page of the records the keys name, in their order."""
    chosen, position = page(keys, params)
    result: dict[str, Any] = {member: [show(key) for key in chosen]}
    if position:
        result["position"] = position
    return result
