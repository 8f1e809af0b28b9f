"""A parsed query compiled into stages that records flow through, in the commands' order.

    Pipeline(commands, limit)   .feed(record) for each log event, then .results()

filter, fields, parse, dedup, unmask and limit pass records along as they come; stats and
sort hold them until the end (after a stats, later commands see its rows). Which fields a
result shows: those `fields` and `stats` named (and `display` chose, last one wins); with
none named, every field of the record. Records (not stats rows) also carry @ptr.
"""

from __future__ import annotations

import re
from typing import Any

from . import syntax as s
from .aggregates import compile_item
from .evaluate import Evaluator, QueryCompileError, compile_expr, compile_regex
from .values import as_text, sort_key, truthy

MAX_RESULTS = 10_000


class Stage:
    def feed(self, record: dict) -> list[dict]:
        return [record]

    def finish(self) -> list[dict]:
        return []


def stats_column(call: s.Call) -> str:
    """Where a stats row keeps an aggregate's value for later commands (`sort count(*) desc`)."""
    return "\0" + repr(call)


def _column_reader(call: s.Call) -> Evaluator:
    column = stats_column(call)
    return lambda row: row.get(column)


class FilterStage(Stage):
    def __init__(self, command: s.Filter, aggregate=None) -> None:
        self.condition = compile_expr(command.condition, aggregate)

    def feed(self, record):
        return [record] if truthy(self.condition(record)) else []


class FieldsStage(Stage):
    def __init__(self, items: list[s.Named], aggregate=None) -> None:
        # a plain field keeps its name; anything else (or an alias) is computed into one
        self.computed = [(item.name, compile_expr(item.expr, aggregate)) for item in items if not _plain(item)]

    def feed(self, record):
        for name, evaluate in self.computed:
            value = evaluate(record)
            if value is None:
                record.pop(name, None)
            else:
                record[name] = value
        return [record]


class ParseStage(Stage):
    def __init__(self, command: s.Parse) -> None:
        self.source = command.source
        if command.is_regex:
            self.regex = compile_regex(command.pattern, command.flags)
            self.names = list(self.regex.groupindex)
            if command.names:
                raise QueryCompileError("A parse regex names its fields with (?<name>...), not with as")
            if not self.names:
                raise QueryCompileError("A parse regex must have at least one named group (?<name>...)")
        else:
            parts = command.pattern.split("*")
            if len(parts) - 1 != len(command.names):
                raise QueryCompileError(
                    f"The parse pattern has {len(parts) - 1} wildcards but {len(command.names)} field names"
                )
            # each * is the shortest text that lets the rest match; a trailing one takes the rest
            body = "(.*?)".join(re.escape(part) for part in parts)
            if command.pattern.endswith("*"):
                body = body[: -len("(.*?)")] + "(.*)"
            self.regex = re.compile(body, re.DOTALL)
            self.names = command.names

    def feed(self, record):
        value = record.get(self.source)
        found = self.regex.search(as_text(value) or "") if value is not None else None
        for index, name in enumerate(self.names):
            part = found.group(index + 1) if found is not None else None
            if part is None:
                record.pop(name, None)
            else:
                record[name] = part
        return [record]


class DedupStage(Stage):
    def __init__(self, command: s.Dedup) -> None:
        self.fields = command.fields
        self.seen: set = set()

    def feed(self, record):
        key = tuple(record.get(name) for name in self.fields)
        if any(value is None for value in key):
            return [record]  # AWS keeps every record missing one of the fields
        if key in self.seen:
            return []
        self.seen.add(key)
        return [record]


class LimitStage(Stage):
    def __init__(self, count: int) -> None:
        self.left = count

    def feed(self, record):
        if self.left <= 0:
            return []
        self.left -= 1
        return [record]


class SortStage(Stage):
    def __init__(self, command: s.Sort, aggregate=None) -> None:
        self.keys = [(compile_expr(key.expr, aggregate), key.descending) for key in command.keys]
        self.held: list[dict] = []

    def feed(self, record):
        self.held.append(record)
        return []

    def finish(self):
        rows = self.held
        for evaluate, descending in reversed(self.keys):  # stable sorts, last key first
            present = [row for row in rows if evaluate(row) is not None]
            missing = [row for row in rows if evaluate(row) is None]
            present.sort(key=lambda row, e=evaluate: sort_key(e(row)), reverse=descending)
            rows = present + missing  # missing values last either way
        self.held = []
        return rows


class StatsStage(Stage):
    def __init__(self, command: s.Stats) -> None:
        self.items = [compile_item(item) for item in command.items]
        self.exprs = [item.expr for item in command.items]
        self.groups = [(group.name, compile_expr(group.expr)) for group in command.groups]
        self.accumulators: dict[tuple, list[list]] = {}

    def feed(self, record):
        key = tuple(evaluate(record) for _, evaluate in self.groups)
        accumulators = self.accumulators.get(key)
        if accumulators is None:
            accumulators = self.accumulators[key] = [[make() for make in item.makers] for item in self.items]
        for per_item in accumulators:
            for accumulator in per_item:
                accumulator.add(record)
        return []

    def finish(self):
        rows = []
        if not self.accumulators and not self.groups:
            # stats over no records still answers one row (count(*) = 0)
            self.accumulators[()] = [[make() for make in item.makers] for item in self.items]
        for key, accumulators in self.accumulators.items():
            row: dict[str, Any] = {}
            for (name, _), value in zip(self.groups, key, strict=True):
                if value is not None:
                    row[name] = value
            for item, expr, per_item in zip(self.items, self.exprs, accumulators, strict=True):
                slots = {slot: acc.result() for slot, acc in zip(item.slots, per_item, strict=True)}
                value = item.final(slots)
                if value is not None:
                    row[item.name] = value
                    if isinstance(expr, s.Call):
                        row[stats_column(expr)] = value
            rows.append(row)
        return rows


def _plain(item: s.Named) -> bool:
    return isinstance(item.expr, s.Field) and item.alias is None


def _stage(command: s.Command, after_stats: bool) -> Stage:
    aggregate = _column_reader if after_stats else None
    if isinstance(command, s.Filter):
        return FilterStage(command, aggregate)
    if isinstance(command, s.Fields | s.Display):
        return FieldsStage(command.items, aggregate)
    if isinstance(command, s.Parse):
        return ParseStage(command)
    if isinstance(command, s.Dedup):
        return DedupStage(command)
    if isinstance(command, s.Limit):
        return LimitStage(command.count)
    if isinstance(command, s.Sort):
        return SortStage(command, aggregate)
    if isinstance(command, s.Stats):
        return StatsStage(command)
    return Stage()  # unmask: Lamina masks nothing, so every value is already unmasked


class Pipeline:
    def __init__(self, commands: list[s.Command], limit: int = MAX_RESULTS) -> None:
        self.stages = [
            _stage(command, any(isinstance(c, s.Stats) for c in commands[:index]))
            for index, command in enumerate(commands)
        ]
        self.limit = min(limit, MAX_RESULTS)
        self.shown, self.aggregated = _shown_fields(commands)
        # records that passed the filters (AWS's recordsMatched): counted before the first
        # command that aggregates, orders or cuts them
        self.match_at = next(
            (i for i, c in enumerate(commands) if isinstance(c, s.Stats | s.Sort | s.Limit)), len(commands)
        )
        self.matched = 0
        self.out: list[dict] = []
        self.done = False

    def _run(self, records: list[dict], start: int) -> None:
        for index in range(start, len(self.stages)):
            if index == self.match_at:
                self.matched += len(records)
            passed: list[dict] = []
            for record in records:
                passed.extend(self.stages[index].feed(record))
            records = passed
            if not records:
                return
        if len(self.stages) == self.match_at:
            self.matched += len(records)
        self.out.extend(records[: self.limit - len(self.out)])

    def feed(self, record: dict) -> None:
        self._run([record], 0)

    def finish(self) -> None:
        for index, stage in enumerate(self.stages):
            held = stage.finish()
            if held:
                self._run_from(held, index + 1)
        self.done = True

    def _run_from(self, records: list[dict], start: int) -> None:
        if start > self.match_at:
            # past the first stats: these are its rows, not matched records
            saved, self.match_at = self.match_at, -1
            self._run(records, start)
            self.match_at = saved
        else:
            self._run(records, start)

    def results(self) -> list[list[dict[str, str]]]:
        return [self._result(record) for record in self.out[: self.limit]]

    def _result(self, record: dict) -> list[dict[str, str]]:
        names = self.shown if self.shown is not None else [name for name in record if not name.startswith("\0")]
        shown = [{"field": name, "value": as_text(record[name])} for name in names if record.get(name) is not None]
        if not self.aggregated and "@ptr" in record and (self.shown is not None and "@ptr" not in self.shown):
            shown.append({"field": "@ptr", "value": record["@ptr"]})
        return shown  # type: ignore[return-value]


def _shown_fields(commands: list[s.Command]) -> tuple[list[str] | None, bool]:
    """The fields results show (None: all of each record's), and whether they are stats rows."""
    shown: list[str] | None = None
    aggregated = False
    display: list[str] | None = None
    for command in commands:
        if isinstance(command, s.Fields):
            shown = (shown or []) + [item.name for item in command.items if item.name not in (shown or [])]
        elif isinstance(command, s.Display):
            display = [item.name for item in command.items]
        elif isinstance(command, s.Stats):
            shown = [group.name for group in command.groups] + [item.name for item in command.items]
            aggregated, display = True, None
    return (display if display is not None else shown), aggregated
