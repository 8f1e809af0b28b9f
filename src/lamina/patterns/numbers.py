"""Numbers, in patterns and in events.

Two ways of comparing, as in EventBridge's engine (aws/event-ruler):

* Exact values (`"price": [300]`) compare as decimals: 300, 300.0 and 3.0e2 are one number,
  and an account number such as 123456789012 keeps every digit.
* Numeric operators (`numeric`, and `anything-but` with numbers) only know numbers between
  -5.0e9 and 5.0e9 with at most six decimals (AWS: "Numeric matching ... is limited to values
  between -5.0e9 and +5.0e9 inclusive, with ... six digits to the right of the decimal
  point"). A pattern bound outside that is refused; an event value outside it is not a number
  to these operators, so `{"numeric": [">", 0]}` does not match 1e10.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

Number = int | Decimal

LIMIT = 5_000_000_000
_MICRO = Decimal("0.000001")

OUT_OF_RANGE = "Value must be between -5.0E9 and 5.0E9, inclusive"
TOO_PRECISE = "Only values upto 6 decimals are supported"


def is_number(value: Any) -> bool:
    """A JSON number (true and false are not numbers)."""
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def exact(value: Any) -> Number | None:
    """The value as an exact, hashable number (int or Decimal; equal numbers hash equal), or
    None when it is not a finite number."""
    kind = type(value)
    if kind is int:
        return value
    if kind is float:
        return Decimal(repr(value)) if math.isfinite(value) else None
    if kind is bool:
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return int(value)
    return None


def comparable(value: Any) -> Number | None:
    """The value as a number the numeric operators can compare, or None (not a number, or
    outside -5e9..5e9, or more than six decimals)."""
    number = exact(value)
    if number is None:
        return None
    if isinstance(number, int):  # exact() never returns a bool
        return number if -LIMIT <= number <= LIMIT else None
    if not -LIMIT <= number <= LIMIT:
        return None
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -6 and number != number.quantize(_MICRO):
        return None
    return number


def operand_problem(value: Any) -> str | None:
    """Why a number in a numeric operator or an anything-but cannot be used (AWS's reason), or
    None when it can. Decimals are checked before the range, as AWS does."""
    number = exact(value)
    if number is None:
        return OUT_OF_RANGE
    decimal = Decimal(number)
    if decimal.normalize().as_tuple().exponent < -6:  # type: ignore[operator]
        return TOO_PRECISE
    if not -LIMIT <= decimal <= LIMIT:
        return OUT_OF_RANGE
    return None
