"""Paging for ListSchedules and ListScheduleGroups: a NextToken is the last key handed out."""

from __future__ import annotations

import base64
import binascii

from .state import validation

MAX_RESULTS = 100


def page(keys: list[str], token: str | None, max_results: int | None) -> tuple[list[str], str | None]:
    """One page of sorted keys after the token; the next token, or None on the last page."""
    size = max_results or MAX_RESULTS
    start = 0
    if token:
        try:
            after = base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            after = ""
        if not after:
            raise validation("Invalid NextToken.")
        start = next((i for i, key in enumerate(keys) if key > after), len(keys))
    chosen = keys[start : start + size]
    more = start + size < len(keys)
    return chosen, base64.urlsafe_b64encode(chosen[-1].encode()).decode() if more and chosen else None
