"""MaxResults and NextToken, as every Describe operation of the service takes them."""

from __future__ import annotations

from ...errors import ServiceError
from .state import validation

DEFAULT_MAX, LIMIT = 50, 50


def page(items: list[dict], params: dict, member: str) -> dict:
    """A page of `items`; NextToken is the index of the next one (opaque to clients)."""
    limit = params.get("MaxResults") or DEFAULT_MAX
    if not 1 <= limit <= LIMIT:
        raise validation(f"MaxResults must be between 1 and {LIMIT}")
    start = 0
    if params.get("NextToken"):
        token = params["NextToken"]
        if not token.isdigit():
            raise _invalid_token()
        start = int(token)
    result: dict = {member: items[start : start + limit]}
    if start + limit < len(items):
        result["NextToken"] = str(start + limit)
    return result


def _invalid_token() -> ServiceError:
    return ServiceError("InvalidNextTokenException", "Invalid token", 400)
