"""API Gateway's updates: a list of JSON-patch-like `patchOperations`
[{op: add|remove|replace|move|copy|test, path, value, from}], applied in order to a copy of
the record (the caller installs it only when all of them applied).

Each resource type declares its paths (`Rule`): a pattern of segments where `*` stands for
one segment (a JSON-pointer-escaped name: `~1` is "/", `~0` is "~"), the ops it allows, and
what an op there does. AWS refuses what a type does not declare in one of two wordings,
depending on the type (`style`):

    "plain"   "Invalid patch path /x"; a known path with an op it does not allow:
              "Invalid patch operation specified. Must be one of: [replace]"
    "listed"  "Invalid patch path  '/x' specified for op 'replace'. Must be one of: [/a, /b]",
              or "... Please choose supported operations" when the op is allowed nowhere
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..api_gateway_errors import bad_request


def unescape(segment: str) -> str:
    return segment.replace("~1", "/").replace("~0", "~")


def escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


@dataclass
class Change:
    op: str
    path: str
    value: str | None
    source: str | None
    names: list[str]  # what the pattern's `*` segments matched, unescaped
    raw: list[str]  # the same, as written (escaped)

    def text(self) -> str:
        return self.value if self.value is not None else ""

    def flag(self) -> bool:
        return (self.value or "").strip().lower() == "true"

    def integer(self, message: str | None = None) -> int:
        try:
            return int(self.value or "")
        except ValueError:
            raise bad_request(message or f"Invalid value for {self.path}: {self.value}") from None

    def number(self, message: str | None = None) -> float:
        try:
            return float(self.value or "")
        except ValueError:
            raise bad_request(message or f"Invalid value for {self.path}: {self.value}") from None


@dataclass(frozen=True)
class Rule:
    pattern: str
    ops: tuple[str, ...]
    apply: Callable[[Change], None]
    op_error: str | None = None  # AWS's words for an op this path does not allow, if its own

    def match(self, path: str) -> tuple[list[str], list[str]] | None:
        want = self.pattern.split("/")[1:]
        got = path.split("/")[1:] if path.startswith("/") else None
        if got is None or len(want) != len(got):
            return None
        raw = []
        for pattern, segment in zip(want, got, strict=True):
            if pattern == "*":
                if not segment:
                    return None
                raw.append(segment)
            elif pattern != segment:
                return None
        return [unescape(segment) for segment in raw], raw


def apply(operations: list[dict[str, Any]] | None, rules: list[Rule], style: str = "plain") -> None:
    for operation in operations or []:
        op = operation.get("op") or ""
        path = operation.get("path")
        if path is None:
            raise bad_request("Invalid patch path null")
        chosen = None
        for rule in rules:
            matched = rule.match(path)
            if matched is not None and (op in rule.ops or style == "plain"):
                chosen = (rule, matched)
                if op in rule.ops:
                    break
        if chosen is None:
            raise _refused(op, path, rules, style)
        rule, (names, raw) = chosen
        if op not in rule.ops:
            ops = ", ".join(rule.ops)
            raise bad_request(rule.op_error or f"Invalid patch operation specified. Must be one of: [{ops}]")
        rule.apply(Change(op, path, operation.get("value"), operation.get("from"), names, raw))


def _refused(op: str, path: str, rules: list[Rule], style: str):
    if style == "plain":
        return bad_request(f"Invalid patch path {path}")
    allowed = [rule.pattern for rule in rules if op in rule.ops]
    if not allowed:
        return bad_request(f"Invalid patch path  '{path}' specified for op '{op}'. Please choose supported operations")
    return bad_request(f"Invalid patch path  '{path}' specified for op '{op}'. Must be one of: [{', '.join(allowed)}]")


# --- common rules ---------------------------------------------------------------------------


def field(record: dict[str, Any], name: str, convert: Callable[[Change], Any] | None = None, ops=("replace",)) -> Rule:
    """`/name`: replace sets the member (an empty value, or remove, drops it)."""

    def run(change: Change) -> None:
        if change.op == "remove" or (change.value in (None, "") and convert is None):
            record.pop(name, None)
        else:
            record[name] = convert(change) if convert else change.text()

    return Rule(f"/{name}", ops, run)


def entry(
    record: dict[str, Any],
    name: str,
    convert: Callable[[Change], Any] | None = None,
    ops=("add", "remove", "replace"),
    missing: str | None = None,
) -> Rule:
    """`/name/{key}`: add/replace sets a map's entry, remove drops it. `missing`: the message
    (NotFoundException) for replacing or removing an entry that is not there."""

    def run(change: Change) -> None:
        table = record.setdefault(name, {})
        key = change.names[0]
        if change.op in ("replace", "remove") and missing is not None and key not in table:
            from ..api_gateway_errors import not_found

            raise not_found(missing)
        if change.op == "remove":
            table.pop(key, None)
        else:
            table[key] = convert(change) if convert else change.text()

    return Rule(f"/{name}/*", ops, run)
