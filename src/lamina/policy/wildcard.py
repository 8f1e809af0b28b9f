"""IAM's wildcards (`*` any run of characters, `?` one character) as regular expressions.

Three dialects, because AWS has three:
- actions: case-insensitive, the wildcards cross everything (`s3:Get*`, `*`, `s?s:*`);
- the Resource element: case-sensitive and ARN-wise: inside the first five colon-separated
  segments a wildcard stays in its segment, except that a `*` ending a segment "can expand to
  match beyond the colon boundaries" (IAM JSON policy elements: Resource, "Using wildcards in
  resource ARNs"); in the sixth segment (the resource id, which may hold colons) it matches
  anything;
- ArnLike/ArnEquals conditions: "each of the six colon-delimited components of the ARN is
  checked separately" (Condition operators, ARN condition operators): no crossing at all.

A pattern arrives as parts: (text, active). Active text has live wildcards; inactive text
(a policy variable's value, or `${*}`, `${?}`, `${$}`) is matched literally.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

Parts = Sequence[tuple[str, bool]]


def _translate(parts: Parts, star: str, one: str) -> str:
    out: list[str] = []
    for text, active in parts:
        if not active:
            out.append(re.escape(text))
            continue
        for ch in text:
            if ch == "*":
                out.append(star)
            elif ch == "?":
                out.append(one)
            else:
                out.append(re.escape(ch))
    return "".join(out)


def action_regex(patterns: Sequence[str]) -> re.Pattern[str]:
    """One case-insensitive regex for all the wildcard action patterns of a statement."""
    body = "|".join(_translate([(p, True)], ".*", ".") for p in patterns)
    return re.compile(f"(?:{body})", re.IGNORECASE | re.DOTALL)


def string_like_source(parts: Parts) -> str:
    return _translate(parts, ".*", ".")


def resource_source(parts: Parts) -> str:
    """The Resource element's ARN-wise translation (see the module docstring)."""
    flat: list[tuple[str, bool]] = [(ch, active) for text, active in parts for ch in text] if parts else []
    out: list[str] = []
    colons = 0
    for index, (ch, active) in enumerate(flat):
        if ch == ":":
            colons += 1
            out.append(":")
        elif active and ch == "*":
            if colons >= 5:
                out.append(".*")
            else:
                following = flat[index + 1][0] if index + 1 < len(flat) else ""
                out.append(".*" if following in (":", "") else "[^:]*")
        elif active and ch == "?":
            out.append("." if colons >= 5 else "[^:]")
        else:
            out.append(re.escape(ch))
    return "".join(out)


def arn_like_source(parts: Parts) -> str | None:
    """ArnLike's segment-wise translation; None when the value is not six segments (it then
    matches nothing)."""
    flat: list[tuple[str, bool]] = [(ch, active) for text, active in parts for ch in text]
    out: list[str] = []
    colons = 0
    for ch, active in flat:
        if ch == ":" and colons < 5:
            colons += 1
            out.append(":")
        elif active and ch == "*":
            out.append(".*" if colons >= 5 else "[^:]*")
        elif active and ch == "?":
            out.append("." if colons >= 5 else "[^:]")
        else:
            out.append(re.escape(ch))
    return "".join(out) if colons == 5 else None


@lru_cache(maxsize=4096)
def compiled(source: str, ignore_case: bool = False) -> re.Pattern[str]:
    """Patterns built at request time (after variable substitution) are compiled once per
    distinct text: the same user asks again and again."""
    return re.compile(source, (re.IGNORECASE if ignore_case else 0) | re.DOTALL)


def has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text
