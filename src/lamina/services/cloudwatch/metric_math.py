"""Metric math: the part of CloudWatch's expression language Lamina evaluates.

A value is a number, a time series ({timestamp: value}) or an array of time series (METRICS(),
[m1, m2]). Supported:

    arithmetic        + - * / ^ and unary minus, on numbers, series and arrays (a series with
                      a series: at the timestamps both have; with a number: at every point)
    comparisons       == != < <= > >= (1 or 0), AND / && , OR / || , NOT / !
    SUM AVG MIN MAX   of an array: a series, point by point; of a series: a number
    ABS CEIL FLOOR    point by point
    METRICS()         every query's series (METRICS("m") those whose id contains "m")
    FILL(x, v)        missing points of x (on the period grid) set to v, REPEAT or LINEAR
    IF(c, a[, b])     a where c is not 0, else b (else missing)
    DIFF(x), RATE(x)  the change from the previous point (RATE: per second)

Anything else is refused with a ValidationError naming it. Identifiers are query ids.

    evaluate(text, series_by_id, grid) -> float | Series | list[Series]
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable

Series = dict[float, float]
Value = float | Series | list[Series]

_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+)|(?P<string>\"[^\"]*\")"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>==|!=|<=|>=|&&|\|\||[-+*/^()<>,\[\]!]))"
)
FUNCTIONS = ("SUM", "AVG", "MIN", "MAX", "ABS", "CEIL", "FLOOR", "METRICS", "FILL", "IF", "DIFF", "RATE")


class MathError(ValueError):
    pass


def tokens(text: str) -> list[tuple[str, str]]:
    found, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise MathError(f"Unsupported character at position {position + 1} of the expression {text!r}.")
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        position = match.end()
    return found


def references(text: str) -> set[str]:
    """The query ids an expression names (METRICS() names them all: "*")."""
    names = set()
    for kind, value in tokens(text):
        if kind == "name":
            if value.upper() == "METRICS":
                names.add("*")
            elif value.upper() not in FUNCTIONS and value.upper() not in _WORDS:
                names.add(value)
    return names


_WORDS = ("AND", "OR", "NOT", "REPEAT", "LINEAR")


class _Parser:
    def __init__(self, text: str, series: dict[str, Series], grid: list[float]) -> None:
        self.text = text
        self.items = tokens(text)
        self.at = 0
        self.series = series
        self.grid = grid

    def peek(self) -> str | None:
        return self.items[self.at][1] if self.at < len(self.items) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.at >= len(self.items):
            raise MathError(f"The expression {self.text!r} ends unexpectedly.")
        item = self.items[self.at]
        if expected is not None and item[1].upper() != expected:
            raise MathError(f"Expected {expected!r} but found {item[1]!r} in the expression {self.text!r}.")
        self.at += 1
        return item

    def parse(self) -> Value:
        value = self.logical_or()
        if self.at != len(self.items):
            raise MathError(f"Unexpected {self.items[self.at][1]!r} in the expression {self.text!r}.")
        return value

    def logical_or(self) -> Value:
        value = self.logical_and()
        while (self.peek() or "").upper() in ("OR", "||"):
            self.take()
            value = combine(value, self.logical_and(), lambda a, b: float(bool(a) or bool(b)))
        return value

    def logical_and(self) -> Value:
        value = self.comparison()
        while (self.peek() or "").upper() in ("AND", "&&"):
            self.take()
            value = combine(value, self.comparison(), lambda a, b: float(bool(a) and bool(b)))
        return value

    def comparison(self) -> Value:
        value = self.additive()
        ops = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt}
        ops[">="] = operator.ge
        while self.peek() in ops:
            fn = ops[self.take()[1]]
            value = combine(value, self.additive(), lambda a, b, fn=fn: float(fn(a, b)))
        return value

    def additive(self) -> Value:
        value = self.term()
        while self.peek() in ("+", "-"):
            fn = operator.add if self.take()[1] == "+" else operator.sub
            value = combine(value, self.term(), fn)
        return value

    def term(self) -> Value:
        value = self.unary()
        while self.peek() in ("*", "/"):
            fn = operator.mul if self.take()[1] == "*" else _divide
            value = combine(value, self.unary(), fn)
        return value

    def unary(self) -> Value:
        if self.peek() == "-":
            self.take()
            return combine(-1.0, self.unary(), operator.mul)
        if (self.peek() or "").upper() in ("NOT", "!"):
            self.take()
            return combine(self.unary(), 0.0, lambda a, _: float(not a))
        return self.power()

    def power(self) -> Value:
        value = self.primary()
        if self.peek() == "^":
            self.take()
            value = combine(value, self.unary(), _power)
        return value

    def primary(self) -> Value:
        kind, text = self.take()
        if kind == "number":
            return float(text)
        if text == "(":
            value = self.logical_or()
            self.take(")")
            return value
        if text == "[":
            items = [self.logical_or()]
            while self.peek() == ",":
                self.take()
                items.append(self.logical_or())
            self.take("]")
            return _array(items)
        if kind == "name":
            if self.peek() == "(":
                return self.call(text.upper())
            if text in self.series:
                return dict(self.series[text])
            raise MathError(f"Unknown metric or expression id {text!r} in the expression {self.text!r}.")
        raise MathError(f"Unexpected {text!r} in the expression {self.text!r}.")

    def call(self, name: str) -> Value:
        self.take("(")
        args: list[Value | str] = []
        while self.peek() != ")":
            if args:
                self.take(",")
            word = (self.peek() or "").upper()
            if word in ("REPEAT", "LINEAR"):
                self.take()
                args.append(word)
            elif self.at < len(self.items) and self.items[self.at][0] == "string":
                args.append(self.take()[1].strip('"'))
            else:
                args.append(self.logical_or())
        self.take(")")
        return self.apply(name, args)

    def apply(self, name: str, args: list[Value | str]) -> Value:
        if name == "METRICS":
            text = args[0] if args and isinstance(args[0], str) else ""
            return [dict(s) for key, s in sorted(self.series.items()) if text in key]
        if name not in FUNCTIONS:
            raise MathError(f"The function {name} is not supported by Lamina's metric math.")
        values = [a for a in args if not isinstance(a, str)]
        if name in ("SUM", "AVG", "MIN", "MAX"):
            return _aggregate(name, _one(name, values))
        if name in ("ABS", "CEIL", "FLOOR"):
            fn = {"ABS": abs, "CEIL": math.ceil, "FLOOR": math.floor}[name]
            return combine(_one(name, values), 0.0, lambda a, _: float(fn(a)))
        if name == "FILL":
            if len(args) != 2:
                raise MathError("FILL takes two arguments.")
            return _fill(args[0], args[1], self.grid)
        if name == "IF":
            if len(values) not in (2, 3):
                raise MathError("IF takes two or three arguments.")
            return _if(values[0], values[1], values[2] if len(values) == 3 else None, self.grid)
        return _difference(_one(name, values), per_second=name == "RATE")


def evaluate(text: str, series: dict[str, Series], grid: list[float]) -> Value:
    """The value of an expression over the queries' series (grid: the period start times)."""
    return _Parser(text, series, grid).parse()


def _one(name: str, values: list) -> Value:
    if len(values) != 1:
        raise MathError(f"{name} takes one argument.")
    return values[0]


def _divide(a: float, b: float) -> float:
    return a / b if b else math.nan


def _power(a: float, b: float) -> float:
    try:
        return float(a**b)
    except (OverflowError, ZeroDivisionError, ValueError):
        return math.nan


def _array(items: list[Value]) -> list[Series]:
    result: list[Series] = []
    for item in items:
        if isinstance(item, list):
            result.extend(item)
        elif isinstance(item, dict):
            result.append(item)
        else:
            raise MathError("An array holds time series, not numbers.")
    return result


def combine(a: Value, b: Value, fn: Callable[[float, float], float]) -> Value:
    if isinstance(a, list):
        return [_clean(combine(s, b, fn)) for s in a]  # type: ignore[misc]
    if isinstance(b, list):
        return [_clean(combine(a, s, fn)) for s in b]  # type: ignore[misc]
    if isinstance(a, dict) and isinstance(b, dict):
        return _clean({t: fn(v, b[t]) for t, v in a.items() if t in b})
    if isinstance(a, dict):
        return _clean({t: fn(v, float(b)) for t, v in a.items()})  # type: ignore[arg-type]
    if isinstance(b, dict):
        return _clean({t: fn(float(a), v) for t, v in b.items()})
    return fn(float(a), float(b))


def _clean(series: Value) -> Series:
    assert isinstance(series, dict)
    return {t: v for t, v in series.items() if not math.isnan(v)}


def _aggregate(name: str, value: Value) -> Value:
    fn: Callable[[list[float]], float] = {
        "SUM": math.fsum,
        "AVG": lambda vs: math.fsum(vs) / len(vs),
        "MIN": min,
        "MAX": max,
    }[name]
    if isinstance(value, list):
        times = sorted({t for s in value for t in s})
        return {t: fn([s[t] for s in value if t in s]) for t in times}
    if isinstance(value, dict):
        return fn(list(value.values())) if value else math.nan
    return float(value)


def _fill(value: Value | str, how: Value | str, grid: list[float]) -> Value:
    if isinstance(value, list):
        return [_fill(s, how, grid) for s in value]  # type: ignore[misc]
    if not isinstance(value, dict):
        raise MathError("FILL takes a time series.")
    filled = dict(value)
    known = sorted(value)
    for t in grid:
        if t in filled:
            continue
        before = [k for k in known if k < t]
        after = [k for k in known if k > t]
        if how == "REPEAT":
            source = before[-1] if before else (after[0] if after else None)
            if source is not None:
                filled[t] = value[source]
        elif how == "LINEAR":
            if before and after:
                t0, t1 = before[-1], after[0]
                filled[t] = value[t0] + (value[t1] - value[t0]) * (t - t0) / (t1 - t0)
        elif isinstance(how, float):
            filled[t] = how
        else:
            raise MathError("FILL's second argument is a number, REPEAT or LINEAR.")
    return dict(sorted(filled.items()))


def _if(condition: Value, then: Value, otherwise: Value | None, grid: list[float]) -> Value:
    if not isinstance(condition, dict):
        if isinstance(condition, list):
            raise MathError("IF's condition is a time series or a number.")
        chosen = then if condition else otherwise
        return chosen if chosen is not None else {}

    def at(value: Value | None, t: float) -> float | None:
        if value is None:
            return None
        if isinstance(value, dict):
            return value.get(t)
        if isinstance(value, list):
            raise MathError("IF's values are time series or numbers.")
        return float(value)

    result: Series = {}
    for t, flag in condition.items():
        picked = at(then if flag else otherwise, t)
        if picked is not None and not math.isnan(picked):
            result[t] = picked
    return result


def _difference(value: Value, per_second: bool) -> Value:
    if isinstance(value, list):
        return [_difference(s, per_second) for s in value]  # type: ignore[misc]
    if not isinstance(value, dict):
        raise MathError("DIFF and RATE take a time series.")
    times = sorted(value)
    result: Series = {}
    for previous, current in zip(times, times[1:], strict=False):
        change = value[current] - value[previous]
        result[current] = change / (current - previous) if per_second else change
    return result
