"""Leaf lists: the `[...]` of a field, compiled into one test of event values.

A leaf list ORs its entries. Plain entries match exactly and by type: the string "5" never
matches the number 5, true never matches 1, "" never matches null. Operator entries:

    prefix, suffix          strings that start / end so; {"equals-ignore-case": ...} inside
                            ignores case (EventBridge only)
    equals-ignore-case      strings equal to it ignoring case
    wildcard                see wildcard.py (EventBridge only)
    anything-but            every value except those named: a string, a number, a list of
                            strings or of numbers, or {"prefix"|"suffix"|"equals-ignore-case"|
                            "wildcard": a string or a list of strings} (SNS: prefix only).
                            Values of another type are not excluded: {"anything-but": "x"}
                            matches 5 and null, {"anything-but": {"prefix": "a"}} matches 7.
    numeric                 ["=", n], [">" or ">=", n], ["<" or "<=", n] or
                            [">" or ">=", low, "<" or "<=", high]; numbers only (numbers.py)
    exists                  true: the field has a value (null included); false: it has none
    cidr                    IP addresses in a block (addresses.py)

Case-insensitive comparisons follow Java's per-character upper/lower case, as AWS's engine
does: "k" matches "K" but not the Kelvin sign. Every refusal carries AWS's own reason text.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import wildcard
from .addresses import cidr_range, ip_value
from .errors import InvalidPattern
from .numbers import (
    EVENTBRIDGE_NUMBERS,
    SNS_NUMBERS,
    NumberRules,
    comparable,
    exact,
    is_number,
    operand,
    operand_problem,
)

ValueTest = Callable[[Any], bool]

_END = object()  # past the last element of a numeric expression
_EXISTS, _ABSENT = "exists", "absent"
_LOWER = {">": operator.gt, ">=": operator.ge}
_UPPER = {"<": operator.lt, "<=": operator.le}
_MIXED = "Inside anything but list, either all values are number or string, mixed type is not supported"


@dataclass(frozen=True)
class Dialect:
    """What a user of the language may write."""

    name: str
    wildcard: bool  # wildcard, and anything-but wildcard
    affix_ignore_case: bool  # {"prefix" / "suffix": {"equals-ignore-case": ...}}
    anything_but_objects: frozenset[str]  # the operators anything-but may hold
    numbers: NumberRules = EVENTBRIDGE_NUMBERS  # what numeric and anything-but numbers know


EVENTBRIDGE = Dialect("EventBridge", True, True, frozenset({"prefix", "suffix", "equals-ignore-case", "wildcard"}))
# SNS filter policies: no wildcard, plain prefix/suffix only, anything-but with prefix only;
# numbers within +-1e9 compared at five decimals (numbers.py).
SNS = Dialect("SNS", False, False, frozenset({"prefix"}), SNS_NUMBERS)


class Leaf:
    """A compiled leaf list: `accepts` tests one event value, `match_missing` is set by
    {"exists": false}, `wildcards` keeps the parsed wildcards for the complexity limit."""

    __slots__ = ("accepts", "match_missing", "wildcards")

    def __init__(self, accepts: ValueTest, match_missing: bool, wildcards: list) -> None:
        self.accepts = accepts
        self.match_missing = match_missing
        self.wildcards = wildcards


def compile_leaf(values: list, path: str, dialect: Dialect) -> Leaf:
    strings: set[str] = set()
    addresses: set = set()
    numbers: set = set()
    null = true = false = any_value = match_missing = False
    tests: list[ValueTest] = []
    wildcards: list = []
    for value in values:
        if isinstance(value, str):
            strings.add(value)
            address = ip_value(value)  # AWS matches an address however it is spelled
            if address is not None:
                addresses.add(address)
        elif value is None:
            null = True
        elif value is True:
            true = True
        elif value is False:
            false = True
        elif is_number(value) and exact(value) is not None:
            numbers.add(exact(value))
        elif isinstance(value, dict):
            test = _operator(value, path, dialect, wildcards)
            if test is _EXISTS:
                any_value = True
            elif test is _ABSENT:
                match_missing = True
            else:
                tests.append(test)  # type: ignore[arg-type]
        else:
            raise InvalidPattern("Match value must be String, number, true, false, or null", path)
    if not values:
        raise InvalidPattern("Empty arrays are not allowed", path)
    if any_value:
        return Leaf(lambda value: True, match_missing, wildcards)
    return Leaf(
        _accepts(frozenset(strings), frozenset(addresses), frozenset(numbers), null, true, false, tuple(tests)),
        match_missing,
        wildcards,
    )


def _accepts(
    strings: frozenset, addresses: frozenset, numbers: frozenset, null: bool, true: bool, false: bool, tests: tuple
) -> ValueTest:
    if not (addresses or numbers or null or true or false or tests):
        return lambda value: isinstance(value, str) and value in strings

    def accepts(value: Any) -> bool:
        if isinstance(value, str):
            if value in strings:
                return True
            if addresses:
                address = ip_value(value)
                if address is not None and address in addresses:
                    return True
        elif value is None:
            if null:
                return True
        elif value is True or value is False:
            if true if value else false:
                return True
        elif numbers and exact(value) in numbers:
            return True
        for test in tests:
            if test(value):
                return True
        return False

    return accepts


def _operator(spec: dict, path: str, dialect: Dialect, wildcards: list) -> ValueTest | str:
    """One operator object: a value test, or _EXISTS / _ABSENT."""
    if not spec:
        raise InvalidPattern("Match expression name not found", path)
    name, arg = next(iter(spec.items()))
    alone = len(spec) == 1
    test: ValueTest | str
    if name in ("prefix", "suffix"):
        if isinstance(arg, dict) and dialect.affix_ignore_case:
            test = _affix_ignoring_case(name, arg, path)
        elif isinstance(arg, str):
            test = _affix(name, arg)
        else:
            raise InvalidPattern(f"{name} match pattern must be a string", path)
    elif name == "equals-ignore-case":
        if not isinstance(arg, str):
            raise InvalidPattern("equals-ignore-case match pattern must be a string", path)
        test = _strings(_ignoring_case(arg, "equals"))
    elif name == "wildcard" and dialect.wildcard:
        if not isinstance(arg, str):
            raise InvalidPattern("wildcard match pattern must be a string", path)
        tokens = _wildcard(arg, path)
        wildcards.append(tokens)
        test = wildcard.matcher(tokens)
    elif name == "numeric":
        test = _numeric(arg, path, dialect.numbers)
        if not alone:
            raise InvalidPattern("Too many elements in numeric expression", path)
    elif name == "anything-but":
        test = _anything_but(arg, path, dialect, wildcards)
        if not alone:
            raise InvalidPattern("Too many elements in numeric expression", path)
    elif name == "exists":
        if not isinstance(arg, bool):
            raise InvalidPattern("exists match pattern must be either true or false.", path)
        test = _EXISTS if arg else _ABSENT
    elif name == "cidr":
        if not isinstance(arg, str):  # sic: AWS says "prefix" here
            raise InvalidPattern("prefix match pattern must be a string", path)
        test = _cidr(arg, path)
    else:
        raise InvalidPattern(f"Unrecognized match type {name}", path)
    if not alone:
        raise InvalidPattern("Only one key allowed in match expression", path)
    return test


# ---------------------------------------------------------------- strings


def _strings(test: Callable[[str], Any]) -> ValueTest:
    return lambda value: isinstance(value, str) and bool(test(value))


def _affix(name: str, text: str) -> ValueTest:
    if name == "prefix":
        return lambda value: isinstance(value, str) and value.startswith(text)
    return lambda value: isinstance(value, str) and value.endswith(text)


def _affix_ignoring_case(name: str, arg: dict, path: str) -> ValueTest:
    if not arg:
        raise InvalidPattern(f"{name.capitalize()} expression name not found", path)
    inner, text = next(iter(arg.items()))
    if inner != "equals-ignore-case":
        raise InvalidPattern(f"Unsupported {name} pattern: {inner}", path)
    if not isinstance(text, str):
        raise InvalidPattern("equals-ignore-case match pattern must be a string", path)
    if len(arg) > 1:
        raise InvalidPattern("Only one key allowed in match expression", path)
    return _strings(_ignoring_case(text, name))


def _ignoring_case(text: str, mode: str) -> Callable[[str], Any]:
    """A test of strings against `text` ignoring case, as Java does it: each character of
    `text` may appear as itself, its upper case or its lower case (ASCII text: ASCII only)."""
    if text.isascii():
        low, size = text.lower(), len(text)
        if mode == "equals":
            return lambda value: len(value) == size and value.isascii() and value.lower() == low
        if not size:
            return lambda value: True
        if mode == "prefix":
            return lambda value: (head := value[:size]).isascii() and head.lower() == low
        return lambda value: (tail := value[-size:]).isascii() and tail.lower() == low
    body = "".join(
        "(?:" + "|".join(map(re.escape, sorted({char, char.lower(), char.upper()}, key=len, reverse=True))) + ")"
        for char in text
    )
    if mode == "equals":
        return re.compile(body).fullmatch
    if mode == "prefix":
        return re.compile(body).match
    return re.compile(f"(?:{body})\\Z").search


def _wildcard(text: str, path: str) -> tuple:
    try:
        return wildcard.parse(text)
    except ValueError as error:
        raise InvalidPattern(str(error), path) from None


# ---------------------------------------------------------------- anything-but


def _anything_but(arg: Any, path: str, dialect: Dialect, wildcards: list) -> ValueTest:
    if isinstance(arg, dict):
        return _anything_but_operator(arg, path, dialect, wildcards)
    if not (isinstance(arg, (list, str)) or is_number(arg)):
        raise InvalidPattern("Value of anything-but must be an array or single string/number value.", path)
    strings: list[str] = []
    numbers: list = []
    for item in arg if isinstance(arg, list) else [arg]:
        if isinstance(item, str):
            strings.append(item)
        elif is_number(item):
            problem = operand_problem(item, dialect.numbers)
            if problem:
                raise InvalidPattern(problem, path)
            numbers.append(operand(item, dialect.numbers))
        else:
            raise InvalidPattern("Inside anything but list, start|null|boolean is not supported.", path)
    if bool(strings) == bool(numbers):
        raise InvalidPattern(_MIXED, path)
    if strings:
        excluded = frozenset(strings)
        return lambda value: not (isinstance(value, str) and value in excluded)
    excluded_numbers = frozenset(numbers)
    rules = dialect.numbers
    return lambda value: (number := comparable(value, rules)) is None or number not in excluded_numbers


def _anything_but_operator(arg: dict, path: str, dialect: Dialect, wildcards: list) -> ValueTest:
    if not arg:
        raise InvalidPattern("Anything-But expression name not found", path)
    name, inner = next(iter(arg.items()))
    if name not in dialect.anything_but_objects:
        raise InvalidPattern(f"Unsupported anything-but pattern: {name}", path)
    if not (isinstance(inner, (list, str)) or is_number(inner)):
        raise InvalidPattern("Value of anything-but must be an array or single string/number value.", path)
    texts: list[str] = []
    for item in inner if isinstance(inner, list) else [inner]:
        if isinstance(item, str):
            if not item and name in ("prefix", "suffix"):
                raise InvalidPattern("Null prefix/suffix not allowed", path)
            texts.append(item)
        elif name == "equals-ignore-case":
            raise InvalidPattern(
                "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.", path
            )
        elif name == "wildcard":
            raise InvalidPattern("wildcard match pattern must be a string", path)
        else:
            raise InvalidPattern("prefix/suffix match pattern must be a string", path)
    if len(arg) > 1:
        raise InvalidPattern("Too many elements in numeric expression", path)
    if name == "prefix":
        starts = tuple(texts)
        return lambda value: not (isinstance(value, str) and value.startswith(starts))
    if name == "suffix":
        ends = tuple(texts)
        return lambda value: not (isinstance(value, str) and value.endswith(ends))
    if name == "equals-ignore-case":
        excluded = [_ignoring_case(text, "equals") for text in texts]
    else:
        parsed = [_wildcard(text, path) for text in texts]
        wildcards.extend(parsed)
        excluded = [wildcard.matcher(tokens) for tokens in parsed]
    return lambda value: not (isinstance(value, str) and any(test(value) for test in excluded))


# ---------------------------------------------------------------- numeric and cidr


def _numeric(arg: Any, path: str, rules: NumberRules) -> ValueTest:
    """Read as AWS's parser does, term by term, so each mistake gets AWS's reason."""
    if not isinstance(arg, list):
        raise InvalidPattern("Value of numeric must be an array.", path)
    terms = iter(arg)

    def term() -> Any:
        return next(terms, _END)

    def number(value: Any, symbol: str) -> Any:
        if not is_number(value):
            raise InvalidPattern(f"Value of {symbol} must be numeric", path)
        return value

    def bound(value: Any) -> Any:
        problem = operand_problem(value, rules)
        if problem:
            raise InvalidPattern(problem, path)
        return operand(value, rules)

    symbol = term()
    if not isinstance(symbol, str):
        raise InvalidPattern(f"Invalid member in numeric match: {_token(symbol)}", path)
    if symbol == "=":
        value = number(term(), "equals")
        if term() is not _END:
            raise InvalidPattern("Too many elements in numeric expression", path)
        return _compare(operator.eq, bound(value), rules)
    if symbol in _UPPER:
        value = number(term(), symbol)
        if term() is not _END:
            raise InvalidPattern("Too many elements in numeric expression", path)
        return _compare(_UPPER[symbol], bound(value), rules)
    if symbol not in _LOWER:
        raise InvalidPattern(f"Unrecognized numeric range operator: {symbol}", path)
    bottom = number(term(), symbol)
    top_symbol = term()
    if top_symbol is _END:
        return _compare(_LOWER[symbol], bound(bottom), rules)
    if not isinstance(top_symbol, str):
        raise InvalidPattern(f"Bad value in numeric range: {_token(top_symbol)}", path)
    if top_symbol not in _UPPER:
        raise InvalidPattern(f"Bad numeric range operator: {top_symbol}", path)
    top = number(term(), top_symbol)
    if term() is not _END:
        raise InvalidPattern("Too many terms in numeric range expression", path)
    low, high = bound(bottom), bound(top)
    if not low < high:
        raise InvalidPattern("Bottom must be less than top", path)
    above, below = _LOWER[symbol], _UPPER[top_symbol]
    return lambda value: (number := comparable(value, rules)) is not None and above(number, low) and below(number, high)


def _compare(compare: Callable[[Any, Any], bool], bound: Any, rules: NumberRules) -> ValueTest:
    return lambda value: (number := comparable(value, rules)) is not None and compare(number, bound)


def _token(value: Any) -> str:
    """A JSON value as AWS's parser names it in a message."""
    if value is _END:
        return "]"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "{"
    if isinstance(value, list):
        return "["
    return repr(value) if isinstance(value, float) else str(value)


def _cidr(text: str, path: str) -> ValueTest:
    try:
        version, low, high = cidr_range(text)
    except ValueError as error:
        raise InvalidPattern(str(error), path) from None

    def test(value: Any) -> bool:
        if not isinstance(value, str):
            return False
        address = ip_value(value)
        return address is not None and address[0] == version and low <= address[1] <= high

    return test
