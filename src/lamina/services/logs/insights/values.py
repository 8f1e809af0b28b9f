"""Values in a query: what fields hold, how they compare, how results show them.

A missing field is None and makes comparisons false and arithmetic None, as in AWS's
language. Timestamps are `Timestamp` (milliseconds, an int) so that results show them as
AWS does ("2024-05-03 21:54:09.000"); strings that hold numbers compare as numbers.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any


class Timestamp(int):
    """Milliseconds since the epoch, shown as a date."""

    def show(self) -> str:
        moment = datetime.fromtimestamp(self / 1000, timezone.utc)
        return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{self % 1000:03d}"


def as_number(value: Any) -> float | int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = float(text)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Timestamp):
        return value.show()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    return str(value)


def comparable(left: Any, right: Any) -> tuple[Any, Any] | None:
    """The two sides made comparable (numbers when either is a number), or None."""
    if left is None or right is None:
        return None
    if isinstance(left, int | float) or isinstance(right, int | float):
        a, b = as_number(left), as_number(right)
        if a is None or b is None:
            return (as_text(left), as_text(right))
        return (a, b)
    return (as_text(left), as_text(right))


def sort_key(value: Any) -> tuple:
    """Orders mixed values: numbers before strings; missing values last (ascending)."""
    if value is None:
        return (2, 0)
    number = as_number(value)
    if number is not None and not isinstance(value, str):
        return (0, number)
    if isinstance(value, str) and number is not None:
        return (0, number)
    return (1, as_text(value))


def truthy(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return value != "" and value.lower() != "false"
    return bool(value)
