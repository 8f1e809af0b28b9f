"""From a pattern (JSON text or dict) to a compiled Pattern.

The pattern is read as AWS's engine reads it, in document order, so the first mistake is the
one reported, with AWS's reason:

* Fields of an object are ANDed; an object value nests, an array value is a leaf list
  (operators.py); anything else is refused. Empty objects and empty arrays are refused, so
  `{}` is not a pattern.
* A field name is a dotted path: {"detail.state": [...]} is {"detail": {"state": [...]}}.
  When one path is given twice, the later one wins (AWS documents this for duplicate keys).
* "$or" takes an array of at least two objects, at any level; it multiplies the rule into
  alternatives that each carry the fields around it (AWS's "sub-rules"), so array consistency
  holds across an alternative as a whole. Inside "$or" the operator names and a few reserved
  words may not be field names.
* EventBridge refuses wildcards that make a field too complex to match (wildcard.py).
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import lru_cache
from typing import Any

from . import locations, wildcard
from .errors import InvalidPattern
from .matcher import Field, Rule
from .operators import EVENTBRIDGE, Dialect, compile_leaf

# Names AWS's engine refuses as field names inside "$or" (operators and reserved words).
RESERVED_IN_OR = frozenset(
    {
        "exactly",
        "equals-ignore-case",
        "prefix",
        "suffix",
        "anything-but",
        "exists",
        "wildcard",
        "numeric",
        "cidr",
        "html",
        "=",
        "<",
        "<=",
        ">",
        ">=",
        "regex",
        "not-wildcard",
        "not-equals-ignore-case",
        "date-after",
        "date-on-or-after",
        "date-before",
        "date-on-or-before",
        "in-date-range",
        "ip-address-in-range",
        "ip-address-not-in-range",
    }
)
# Our own bound on how far "$or" may multiply one pattern (AWS bounds it by pattern size).
MAX_ALTERNATIVES = 10_000


class Pattern:
    """A compiled event pattern or filter policy; `matches` is safe to call from any thread."""

    __slots__ = ("source", "_rules")

    def __init__(self, source: dict, rules: tuple[Rule, ...]) -> None:
        self.source = source
        self._rules = rules

    def matches(self, event: Any) -> bool:
        for rule in self._rules:
            if rule.matches(event):
                return True
        return False

    def __repr__(self) -> str:
        return f"Pattern({json.dumps(self.source, default=str)})"


def compile_pattern(pattern: dict | str | bytes) -> Pattern:
    """An EventBridge event pattern (also Lambda FilterCriteria), given as JSON text or as a
    dict; raises InvalidPattern with AWS's reason."""
    if isinstance(pattern, (str, bytes)):
        return _compile_text(pattern.decode() if isinstance(pattern, bytes) else pattern)
    return compile_data(pattern, EVENTBRIDGE)


def matches(pattern: dict | str | Pattern, event: Any) -> bool:
    compiled = pattern if isinstance(pattern, Pattern) else compile_pattern(pattern)
    return compiled.matches(event)


@lru_cache(maxsize=512)
def _compile_text(text: str) -> Pattern:
    data = load_json(text, "Event pattern")
    try:
        return compile_data(data, EVENTBRIDGE)
    except InvalidPattern as error:
        offset = locations.offset_of(text, error.reason, error.path)
        error.location = locations.suffix(text, len(text) if offset is None else offset)
        raise


def load_json(text: str, what: str) -> Any:
    """JSON with exact decimals; NaN and Infinity are not JSON."""
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_not_json)
    except json.JSONDecodeError as error:
        invalid = InvalidPattern(f"{what} is not valid JSON: {error.msg}")
        invalid.location = locations.suffix(text, error.pos + 1)
        raise invalid from None
    except ValueError as error:
        raise InvalidPattern(f"{what} is not valid JSON: {error}") from None


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON value")


def compile_data(data: Any, dialect: Dialect) -> Pattern:
    if not isinstance(data, dict):
        raise InvalidPattern("Filter is not an object")
    builder = _Builder(dialect)
    rules: list[dict[str, Field]] = [{}]
    builder.object(data, [], rules, in_or=False)
    builder.check_complexity()
    return Pattern(data, tuple(Rule(list(rule.values())) for rule in rules))


class _Builder:
    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.wildcards: dict[str, set] = {}  # path -> parsed wildcards, for the complexity limit

    def object(self, node: dict, path: list[str], rules: list[dict[str, Field]], in_or: bool) -> None:
        if not node:
            raise InvalidPattern("Empty objects are not allowed", ".".join(path))
        for key, value in node.items():
            if not isinstance(key, str):
                raise InvalidPattern(f"Field names must be strings, not {key!r}", ".".join(path))
            if key == "$or":
                rules[:] = self.alternatives(value, path, rules)
                continue
            where = path + key.split(".")
            if in_or and key in RESERVED_IN_OR:
                raise InvalidPattern(
                    f"{key} is Ruler reserved fieldName which cannot be used inside $or.", ".".join(where)
                )
            if isinstance(value, dict):
                self.object(value, where, rules, in_or)
            elif isinstance(value, list):
                field = self.field(where, value)
                for rule in rules:
                    rule[field.path] = field
            else:
                raise InvalidPattern(f'"{key}" must be an object or an array', ".".join(where))

    def alternatives(self, branches: Any, path: list[str], rules: list[dict[str, Field]]) -> list[dict[str, Field]]:
        where = ".".join(path + ["$or"])
        if not isinstance(branches, list):
            raise InvalidPattern("It must be an Array followed with $or.", where)
        expanded: list[dict[str, Field]] = []
        for branch in branches:
            if not isinstance(branch, dict):
                raise InvalidPattern("Only JSON object is allowed in array of $or relationship.", where)
            copies = [dict(rule) for rule in rules]
            self.object(branch, path, copies, in_or=True)
            expanded.extend(copies)
            if len(expanded) > MAX_ALTERNATIVES:
                raise InvalidPattern(
                    f"Event pattern is too complex: its $or combinations make more "
                    f"than {MAX_ALTERNATIVES} alternatives",
                    where,
                )
        if len(branches) < 2:
            raise InvalidPattern("There must have at least 2 Objects in $or relationship.", where)
        return expanded

    def field(self, segments: list[str], values: list) -> Field:
        path = ".".join(segments)
        leaf = compile_leaf(values, path, self.dialect)
        if leaf.wildcards:
            self.wildcards.setdefault(path, set()).update(leaf.wildcards)
        return Field(segments, leaf)

    def check_complexity(self) -> None:
        for path, patterns in self.wildcards.items():
            if wildcard.complexity(patterns) >= wildcard.MAX_COMPLEXITY:
                raise InvalidPattern(wildcard.TOO_COMPLEX, path)
