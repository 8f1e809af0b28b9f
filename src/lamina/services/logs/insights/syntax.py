"""The parsed form of an Insights query: commands holding expression trees.

Expressions are small immutable nodes; evaluate.py compiles them into closures over a
record (a dict of field name to value).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Node:
    pass


@dataclass(frozen=True)
class Field(Node):
    name: str


@dataclass(frozen=True)
class Literal(Node):
    value: Any


@dataclass(frozen=True)
class Duration(Node):
    """A time period such as 5m or 1h (bin(), datefloor()); as a number it is milliseconds."""

    text: str
    millis: int


@dataclass(frozen=True)
class Regex(Node):
    pattern: str
    flags: str = ""


@dataclass(frozen=True)
class Star(Node):
    """count(*)"""


@dataclass(frozen=True)
class Call(Node):
    name: str  # lower-cased
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Unary(Node):
    op: str  # "-" or "not"
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str  # + - * / % ^ = != < <= > >= and or
    left: Node
    right: Node


@dataclass(frozen=True)
class Like(Node):
    subject: Node
    pattern: Node  # Regex, or an expression whose value must appear as a substring
    negated: bool = False


@dataclass(frozen=True)
class In(Node):
    subject: Node
    values: tuple[Any, ...]
    negated: bool = False


@dataclass(frozen=True)
class Named:
    expr: Node
    alias: str | None
    text: str  # the expression as written: the field's name in results when there is no alias

    @property
    def name(self) -> str:
        return self.alias or self.text


@dataclass
class Command:
    pass


@dataclass
class Fields(Command):
    items: list[Named]


@dataclass
class Display(Command):
    items: list[Named]


@dataclass
class Filter(Command):
    condition: Node


@dataclass
class Stats(Command):
    items: list[Named]
    groups: list[Named] = field(default_factory=list)


@dataclass
class SortKey:
    expr: Node
    text: str
    descending: bool


@dataclass
class Sort(Command):
    keys: list[SortKey]


@dataclass
class Limit(Command):
    count: int


@dataclass
class Parse(Command):
    source: str
    pattern: str  # a glob with * (names given by `as`) or a regex with named groups
    is_regex: bool
    flags: str
    names: list[str]


@dataclass
class Dedup(Command):
    fields: list[str]


@dataclass
class Unmask(Command):
    field: str
