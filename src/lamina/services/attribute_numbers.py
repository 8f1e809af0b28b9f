"""Number message attributes, as SQS and SNS take them: "up to 38 digits of precision,
within range 10^-128 to 10^+126". Python's float() would take more ("nan", "inf", "1_000",
" 1"), so the spelling is checked first and the size on a Decimal."""

from __future__ import annotations

import re
from decimal import Decimal

_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")


def is_attribute_number(text: str) -> bool:
    if not _NUMBER.match(text):
        return False
    number = Decimal(text)
    if number == 0:
        return True
    digits = "".join(map(str, number.as_tuple().digits)).strip("0")
    return len(digits) <= 38 and -128 <= number.copy_abs().adjusted() <= 126
