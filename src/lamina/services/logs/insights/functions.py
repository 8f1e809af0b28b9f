"""Insights' scalar functions (string, numeric, datetime, IP, general), by lower-cased name.

Each takes already evaluated arguments; a missing (None) argument gives None unless the
function is about missing values (ispresent, isempty, coalesce...). Durations (5m) arrive
as milliseconds.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable
from typing import Any

from .values import Timestamp, as_number, as_text, comparable


def _strict(function: Callable) -> Callable:
    """None in, None out."""

    def wrapped(*args: Any) -> Any:
        if any(arg is None for arg in args):
            return None
        return function(*args)

    return wrapped


def _text(function: Callable[..., Any]) -> Callable:
    return _strict(lambda value, *rest: function(as_text(value), *rest))


def _numeric(function: Callable[..., Any]) -> Callable:
    def wrapped(*args: Any) -> Any:
        numbers = [as_number(arg) for arg in args]
        if any(number is None for number in numbers):
            return None
        try:
            return function(*numbers)
        except (ValueError, ZeroDivisionError, OverflowError):
            return None

    return wrapped


def _substr(value: str, start: Any, length: Any = None) -> str:
    begin = int(as_number(start) or 0)
    if length is None:
        return value[begin:]
    return value[begin : begin + int(as_number(length) or 0)]


def _floor_to(timestamp: Any, period: Any) -> Timestamp | None:
    stamp, size = as_number(timestamp), as_number(period)
    if stamp is None or not size:
        return None
    return Timestamp(int(stamp) // int(size) * int(size))


def _ceil_to(timestamp: Any, period: Any) -> Timestamp | None:
    floor = _floor_to(timestamp, period)
    if floor is None:
        return None
    return floor if floor == int(as_number(timestamp) or 0) else Timestamp(floor + int(as_number(period) or 0))


def _extreme(pick: Callable) -> Callable:
    def wrapped(*args: Any) -> Any:
        present = [arg for arg in args if arg is not None]
        if not present:
            return None
        best = present[0]
        for value in present[1:]:
            pair = comparable(value, best)
            if pair is not None and pick(pair[0], pair[1]):
                best = value
        return best

    return wrapped


def _ip(value: Any) -> Any:
    try:
        return ipaddress.ip_address(str(value))
    except ValueError:
        return None


def _in_subnet(value: Any, subnet: Any) -> bool:
    address = _ip(value)
    try:
        network = ipaddress.ip_network(str(subnet), strict=False)
    except ValueError:
        return False
    return address is not None and address.version == network.version and address in network


def _is_empty(value: Any) -> bool:
    return value is None or as_text(value) == ""


def _is_blank(value: Any) -> bool:
    return value is None or (as_text(value) or "").strip() == ""


def _log(value: float) -> float:
    return math.log(value)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    # string
    "concat": lambda *args: "".join(as_text(arg) or "" for arg in args),
    "strlen": _text(len),
    "toupper": _text(str.upper),
    "tolower": _text(str.lower),
    "trim": _text(lambda text, chars=None: text.strip(as_text(chars) if chars is not None else None)),
    "ltrim": _text(lambda text, chars=None: text.lstrip(as_text(chars) if chars is not None else None)),
    "rtrim": _text(lambda text, chars=None: text.rstrip(as_text(chars) if chars is not None else None)),
    "substr": _text(_substr),
    "replace": _text(lambda text, old, new: text.replace(as_text(old) or "", as_text(new) or "")),
    "strcontains": _text(lambda text, part: int(as_text(part) in text)),
    "isempty": _is_empty,
    "isblank": _is_blank,
    "ispresent": lambda value: value is not None,
    # numeric
    "abs": _numeric(abs),
    "ceil": _numeric(math.ceil),
    "floor": _numeric(math.floor),
    "greatest": _extreme(lambda a, b: a > b),
    "least": _extreme(lambda a, b: a < b),
    "log": _numeric(_log),
    "sqrt": _numeric(math.sqrt),
    # datetime
    "bin": lambda period, timestamp=None: _floor_to(timestamp, period),  # timestamp: filled in by the evaluator
    "datefloor": _floor_to,
    "dateceil": _ceil_to,
    "frommillis": _numeric(lambda ms: Timestamp(int(ms))),
    "tomillis": _numeric(int),
    # IP addresses
    "isvalidip": lambda value: value is not None and _ip(value) is not None,
    "isvalidipv4": lambda value: value is not None and getattr(_ip(value), "version", 0) == 4,
    "isvalidipv6": lambda value: value is not None and getattr(_ip(value), "version", 0) == 6,
    "isipinsubnet": _in_subnet,
    "isipv4insubnet": lambda value, subnet: getattr(_ip(value), "version", 0) == 4 and _in_subnet(value, subnet),
    "isipv6insubnet": lambda value, subnet: getattr(_ip(value), "version", 0) == 6 and _in_subnet(value, subnet),
    # general
    "coalesce": lambda *args: next((arg for arg in args if arg is not None), None),
}

AGGREGATES = frozenset(
    {
        "count",
        "count_distinct",
        "sum",
        "avg",
        "min",
        "max",
        "pct",
        "percentile",
        "stddev",
        "earliest",
        "latest",
        "sortsfirst",
        "sortslast",
    }
)
