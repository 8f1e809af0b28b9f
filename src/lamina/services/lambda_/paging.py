"""Lambda's list paging: Marker and MaxItems over an ordered list, the marker opaque to
callers (it is the position, base64-encoded)."""

from __future__ import annotations

import base64
from typing import Any

from ...errors import invalid_parameter


def page(items: list[Any], params: dict, member: str, default_limit: int = 50, cap: int | None = None) -> dict:
    """One page of `items` under `member`; `cap` is the most a page holds whatever MaxItems says."""
    limit = params.get("MaxItems") or default_limit
    if limit < 1:
        raise invalid_parameter("MaxItems must be greater than 0.")
    if cap is not None:
        limit = min(limit, cap)
    start = 0
    if params.get("Marker"):
        try:
            start = int(base64.urlsafe_b64decode(params["Marker"].encode()).decode())
        except (ValueError, UnicodeDecodeError):
            raise invalid_parameter("Invalid Marker.") from None
    result: dict[str, Any] = {member: items[start : start + limit]}
    if start + limit < len(items):
        result["NextMarker"] = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
    return result
