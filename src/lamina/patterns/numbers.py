"""Numbers, in patterns and in events.

Two ways of comparing, as in EventBridge's engine (aws/event-ruler):

* Exact values (`"price": [300]`) compare as decimals: 300, 300.0 and 3.0e2 are one number,
  and an account number such as 123456789012 keeps every digit.
* Numeric operators (`numeric`, and `anything-but` with numbers) only know numbers between
  -5.0e9 and 5.0e9 with at most six decimals (AWS: "Numeric matching ... is limited to values
  between -5.0e9 and +5.0e9 inclusive, with ... six digits to the right of the decimal
  point"). A pattern bound outside that is refused; an event value outside it is not a number
  to these operators, so `{"numeric": [">", 0]}` does not match 1e10.

SNS filter policies keep the older, narrower rules (SNS_NUMBERS): "A numeric policy
attribute can have a value from -10^9 to 10^9, with 5 digits of accuracy after the decimal
point". A policy bound outside that range is refused ("Value must be between -1.0E9 and
1.0E9, inclusive", as AWS's engine of that time words it); a bound or a message value with
more decimals is not refused but compared at five decimals (cut down towards minus
infinity, as that engine's fixed-point encoding does), so 301.500001 equals 301.5 and
0.000009 is not above 0.000001; a message value outside the range is not a number to the
numeric operators.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any

Number = int | Decimal

LIMIT = 5_000_000_000
_MICRO = Decimal("0.000001")

OUT_OF_RANGE = "Value must be between -5.0E9 and 5.0E9, inclusive"
TOO_PRECISE = "Only values upto 6 decimals are supported"


@dataclass(frozen=True)
class NumberRules:
    """What the numeric operators of a dialect know: numbers within +-limit, and either
    refusing bounds with more than `decimals` decimals (strict) or comparing at that many."""

    limit: int
    decimals: int
    strict: bool  # too many decimals in a bound: refused (True) or cut down (False)
    out_of_range: str
    too_precise: str = ""

    @property
    def quantum(self) -> Decimal:
        return Decimal(1).scaleb(-self.decimals)


EVENTBRIDGE_NUMBERS = NumberRules(LIMIT, 6, True, OUT_OF_RANGE, TOO_PRECISE)
SNS_NUMBERS = NumberRules(1_000_000_000, 5, False, "Value must be between -1.0E9 and 1.0E9, inclusive")


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


def comparable(value: Any, rules: NumberRules = EVENTBRIDGE_NUMBERS) -> Number | None:
    """The value as a number the numeric operators can compare, or None (not a number, or
    outside -5e9..5e9, or more than six decimals; SNS: outside -1e9..1e9, cut to five)."""
    if rules is not EVENTBRIDGE_NUMBERS:
        return _coarse(value, rules)
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


def _coarse(value: Any, rules: NumberRules) -> Number | None:
    number = exact(value)
    if number is None or not -rules.limit <= number <= rules.limit:
        return None
    if isinstance(number, int):
        return number
    return number.quantize(rules.quantum, rounding=ROUND_FLOOR)


def operand(value: Any, rules: NumberRules = EVENTBRIDGE_NUMBERS) -> Number | None:
    """A checked bound (operand_problem said None) as the operators compare it."""
    number = exact(value)
    if number is None or rules.strict or isinstance(number, int):
        return number
    return number.quantize(rules.quantum, rounding=ROUND_FLOOR)


def operand_problem(value: Any, rules: NumberRules = EVENTBRIDGE_NUMBERS) -> str | None:
    """Why a number in a numeric operator or an anything-but cannot be used (AWS's reason), or
    None when it can. Decimals are checked before the range, as AWS does."""
    if rules is not EVENTBRIDGE_NUMBERS:
        number = exact(value)
        if number is None or not -rules.limit <= number <= rules.limit:
            return rules.out_of_range
        return None
    number = exact(value)
    if number is None:
        return OUT_OF_RANGE
    decimal = Decimal(number)
    if decimal.normalize().as_tuple().exponent < -6:  # type: ignore[operator]
        return TOO_PRECISE
    if not -LIMIT <= decimal <= LIMIT:
        return OUT_OF_RANGE
    return None
