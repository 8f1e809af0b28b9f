"""Expressions compiled once into closures over a record (a dict of field name to value).

    compile_expr(node) -> Callable[[record], value]
    QueryCompileError   a query that parses but cannot run (an unknown function, an
                        aggregate outside stats), reported as MalformedQueryException

Aggregate calls are compiled by aggregates.py, which hands in `aggregate` to turn each one
into a reading of its result.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from . import syntax as s
from .functions import AGGREGATES, FUNCTIONS
from .values import as_number, as_text, comparable, truthy

Evaluator = Callable[[dict[str, Any]], Any]


class QueryCompileError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "%": operator.mod,
    "^": operator.pow,
}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_REGEX_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}


@lru_cache(maxsize=256)
def compile_regex(pattern: str, flags: str = "") -> re.Pattern:
    """AWS's regexes are Java's: (?<name>...) is Python's (?P<name>...)."""
    value = 0
    for flag in flags:
        value |= _REGEX_FLAGS.get(flag, 0)
    try:
        return re.compile(re.sub(r"\(\?<([A-Za-z][A-Za-z0-9_]*)>", r"(?P<\1>", pattern), value)
    except re.error as error:
        raise QueryCompileError(f"Invalid regular expression: {error}") from None


def _arithmetic(op: str, left: Evaluator, right: Evaluator) -> Evaluator:
    apply = _ARITHMETIC[op]

    def run(record: dict) -> Any:
        a, b = as_number(left(record)), as_number(right(record))
        if a is None or b is None:
            return None
        try:
            result = apply(a, b)
        except (ZeroDivisionError, OverflowError, ValueError):
            return None
        return None if isinstance(result, complex) else result

    return run


def _comparison(op: str, left: Evaluator, right: Evaluator) -> Evaluator:
    apply = _COMPARE[op]

    def run(record: dict) -> bool:
        pair = comparable(left(record), right(record))
        if pair is None:
            return False  # a missing value compares false, even with !=
        try:
            return apply(*pair)
        except TypeError:
            return False

    return run


def _like(node: s.Like, aggregate) -> Evaluator:
    subject = compile_expr(node.subject, aggregate)
    negated = node.negated
    if isinstance(node.pattern, s.Regex):
        regex = compile_regex(node.pattern.pattern, node.pattern.flags)

        def matches(record: dict) -> bool:
            value = subject(record)
            return value is not None and regex.search(as_text(value) or "") is not None
    else:
        part = compile_expr(node.pattern, aggregate)

        def matches(record: dict) -> bool:
            value, wanted = subject(record), part(record)
            return value is not None and wanted is not None and (as_text(wanted) or "") in (as_text(value) or "")

    if negated:
        return lambda record: subject(record) is not None and not matches(record)
    return matches


def _membership(node: s.In, aggregate) -> Evaluator:
    subject = compile_expr(node.subject, aggregate)
    values = node.values

    def member(record: dict) -> bool:
        value = subject(record)
        if value is None:
            return False
        for candidate in values:
            pair = comparable(value, candidate)
            if pair is not None and pair[0] == pair[1]:
                return True
        return False

    if node.negated:
        return lambda record: subject(record) is not None and not member(record)
    return member


def _call(node: s.Call, aggregate) -> Evaluator:
    if node.name in AGGREGATES:
        if aggregate is None:
            raise QueryCompileError(f"The function {node.name} can only be used in the stats command")
        return aggregate(node)
    function = FUNCTIONS.get(node.name)
    if function is None:
        raise QueryCompileError(f"Unrecognized function name: {node.name}")
    args = [compile_expr(arg, aggregate) for arg in node.args]
    if node.name == "bin":
        if len(args) != 1:
            raise QueryCompileError("bin takes one argument: a time period such as 5m")
        period = args[0]
        return lambda record: function(period(record), record.get("@timestamp"))

    def run(record: dict) -> Any:
        try:
            return function(*(arg(record) for arg in args))
        except TypeError:
            return None

    return run


def compile_expr(node: s.Node, aggregate: Callable[[s.Call], Evaluator] | None = None) -> Evaluator:
    if isinstance(node, s.Field):
        name = node.name
        return lambda record: record.get(name)
    if isinstance(node, s.Literal):
        value = node.value
        return lambda record: value
    if isinstance(node, s.Duration):
        millis = node.millis
        return lambda record: millis
    if isinstance(node, s.Regex):
        raise QueryCompileError("A regular expression can only follow like or =~")
    if isinstance(node, s.Star):
        raise QueryCompileError("* can only be used in count(*)")
    if isinstance(node, s.Call):
        return _call(node, aggregate)
    if isinstance(node, s.Like):
        return _like(node, aggregate)
    if isinstance(node, s.In):
        return _membership(node, aggregate)
    if isinstance(node, s.Unary):
        operand = compile_expr(node.operand, aggregate)
        if node.op == "not":
            return lambda record: not truthy(operand(record))

        def negate(record: dict) -> Any:
            number = as_number(operand(record))
            return None if number is None else -number

        return negate
    if isinstance(node, s.Binary):
        left, right = compile_expr(node.left, aggregate), compile_expr(node.right, aggregate)
        if node.op == "and":
            return lambda record: truthy(left(record)) and truthy(right(record))
        if node.op == "or":
            return lambda record: truthy(left(record)) or truthy(right(record))
        if node.op in _COMPARE:
            return _comparison(node.op, left, right)
        return _arithmetic(node.op, left, right)
    raise QueryCompileError(f"Unsupported expression: {node}")
