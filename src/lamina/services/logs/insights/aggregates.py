"""The stats command's aggregate functions, and stats items compiled over them.

An item may combine aggregates (`sum(bytes) / count(*)`): each aggregate call becomes an
accumulator fed every record of a group; the item's expression is then evaluated over the
accumulators' results.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import syntax as s
from .evaluate import Evaluator, QueryCompileError, compile_expr
from .values import as_number, sort_key


class Accumulator:
    def __init__(self, args: list[Evaluator]) -> None:
        self.args = args

    def add(self, record: dict) -> None:
        raise NotImplementedError

    def result(self) -> Any:
        raise NotImplementedError


class Count(Accumulator):
    def __init__(self, args):
        super().__init__(args)
        self.count = 0

    def add(self, record):
        if not self.args or self.args[0](record) is not None:
            self.count += 1

    def result(self):
        return self.count


class CountDistinct(Accumulator):
    def __init__(self, args):
        super().__init__(args)
        self.seen: set = set()

    def add(self, record):
        value = self.args[0](record)
        if value is not None:
            self.seen.add(value)

    def result(self):
        return len(self.seen)


class Numbers(Accumulator):
    """sum, avg, min, max, stddev, pct: over the argument's numeric values."""

    def __init__(self, args, reduce: Callable[[list], Any]):
        super().__init__(args)
        self.values: list = []
        self.reduce = reduce

    def add(self, record):
        number = as_number(self.args[0](record))
        if number is not None:
            self.values.append(number)

    def result(self):
        return self.reduce(self.values) if self.values else None


class ByOrder(Accumulator):
    """earliest/latest (by @timestamp) and sortsFirst/sortsLast (by the value's own order)."""

    def __init__(self, args, by_time: bool, last: bool):
        super().__init__(args)
        self.by_time, self.last = by_time, last
        self.best: tuple | None = None
        self.value: Any = None

    def add(self, record):
        value = self.args[0](record)
        if value is None:
            return
        key = (record.get("@timestamp") or 0,) if self.by_time else sort_key(value)
        if self.best is None or (key > self.best if self.last else key < self.best):
            self.best, self.value = key, value

    def result(self):
        return self.value


def _stddev(values: list) -> float:
    if len(values) < 2:
        return 0.0
    mean = sum(values) / len(values)
    return math.sqrt(sum((value - mean) ** 2 for value in values) / (len(values) - 1))


def _percentile(share: float) -> Callable[[list], Any]:
    def pick(values: list) -> Any:
        ordered = sorted(values)
        rank = max(math.ceil(share / 100 * len(ordered)), 1)  # nearest rank
        return ordered[min(rank, len(ordered)) - 1]

    return pick


# (by @timestamp rather than by the value, the last rather than the first)
_ORDERS = {"earliest": (True, False), "latest": (True, True), "sortsfirst": (False, False), "sortslast": (False, True)}


def _new(call: s.Call, args: list[Evaluator]) -> Callable[[], Accumulator]:
    name = call.name
    if name == "count":
        return lambda: Count(args)
    if not args:
        raise QueryCompileError(f"The function {name} needs an argument")
    if name == "count_distinct":
        return lambda: CountDistinct(args)
    reducers: dict[str, Callable[[list], Any]] = {
        "sum": sum,
        "avg": lambda values: sum(values) / len(values),
        "min": min,
        "max": max,
        "stddev": _stddev,
    }
    if name in reducers:
        return lambda: Numbers(args, reducers[name])
    if name in ("pct", "percentile"):
        if len(call.args) != 2 or not isinstance(call.args[1], s.Literal):
            raise QueryCompileError(f"{name} takes a field and a percentile: {name}(@duration, 90)")
        share = as_number(call.args[1].value)
        if share is None or not 0 <= share <= 100:
            raise QueryCompileError(f"The percentile of {name} must be between 0 and 100")
        return lambda: Numbers(args[:1], _percentile(share))
    by_time, last = _ORDERS[name]
    return lambda: ByOrder(args, by_time, last)


@dataclass
class StatsItem:
    """One stats item: accumulators to make per group and the expression over their results."""

    name: str
    makers: list[Callable[[], Accumulator]]
    slots: list[str]
    final: Evaluator


def compile_item(item: s.Named) -> StatsItem:
    makers: list[Callable[[], Accumulator]] = []
    slots: list[str] = []

    def aggregate(call: s.Call) -> Evaluator:
        args = [compile_expr(arg) for arg in call.args if not isinstance(arg, s.Star)]
        if call.name != "count" and any(isinstance(arg, s.Star) for arg in call.args):
            raise QueryCompileError("* can only be used in count(*)")
        makers.append(_new(call, args))
        slot = f"\0{len(slots)}"
        slots.append(slot)
        return lambda record: record.get(slot)

    final = compile_expr(item.expr, aggregate)
    if not makers:
        raise QueryCompileError(f"{item.text} is not an aggregate function: stats needs one")
    return StatsItem(item.name, makers, slots, final)
