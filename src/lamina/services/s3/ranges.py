"""The Range header of a GET or HEAD (one byte range: S3 serves no multipart ranges).

Forms: bytes=first-last, bytes=first-, bytes=-suffix. What does not parse, or names several
ranges, is ignored (the whole object, 200), as S3 does; a range that starts past the end
(or any range of an empty object) is InvalidRange, 416."""

from __future__ import annotations

import re

from .errors import invalid_range

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive, or None for the whole object."""
    if not header:
        return None
    match = _RANGE.match(header)
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    if not first_text:  # the last N bytes
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            raise invalid_range(header, size)
        return max(0, size - suffix), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if last_text and last < first:
        return None
    if first >= size:
        raise invalid_range(header, size)
    return first, min(last, size - 1)


def content_range(first: int, last: int, size: int) -> str:
    return f"bytes {first}-{last}/{size}"
