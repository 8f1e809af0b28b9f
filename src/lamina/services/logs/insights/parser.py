"""Query text to commands (syntax.py), with AWS's MalformedQueryException for what does not parse.

parse_query(text) -> list[Command]     QuerySyntaxError (message, start, end offsets)
"""

from __future__ import annotations

import re
from functools import lru_cache

import lark
from lark import Token, Transformer, v_args

from . import syntax as s
from .grammar import GRAMMAR

_UNITS_MS = {
    "ms": 1,
    "s": 1000,
    "m": 60_000,
    "h": 3_600_000,
    "d": 86_400_000,
    "w": 7 * 86_400_000,
    "mo": 30 * 86_400_000,
    "q": 91 * 86_400_000,
    "y": 365 * 86_400_000,
}
_ALIAS_TAIL = re.compile(r"\s+as\s+(`[^`]+`|\S+)\s*$", re.IGNORECASE)


class QuerySyntaxError(Exception):
    def __init__(self, message: str, start: int, end: int) -> None:
        super().__init__(message)
        self.message = message
        self.start = start
        self.end = end


@lru_cache(maxsize=1)
def _parser() -> lark.Lark:
    return lark.Lark(GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=True)


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def _field_name(token: Token) -> str:
    return token[1:-1] if token.startswith("`") else str(token)


def _regex(token: str) -> tuple[str, str]:
    end = token.rindex("/")
    return token[1:end].replace("\\/", "/"), token[end + 1 :]


def _chain(items: list, build) -> s.Node:
    """Left-associative operators: items are operand (op operand)*."""
    node = items[0]
    for index in range(1, len(items), 2):
        node = build(str(items[index]), node, items[index + 1])
    return node


def _logical(op: str, operands: list) -> s.Node:
    node = operands[0]
    for operand in operands[1:]:
        node = s.Binary(op, node, operand)
    return node


class _ToSyntax(Transformer):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    # expressions

    def field(self, items):
        return s.Field(_field_name(items[0]))

    def source(self, items):
        return _field_name(items[0])

    def string(self, items):
        return s.Literal(_unquote(items[0]))

    def number(self, items):
        text = str(items[0])
        return s.Literal(int(text) if text.isdigit() else float(text))

    def duration(self, items):
        found = re.fullmatch(r"(\d+)([a-z]+)", str(items[0]))
        assert found is not None
        return s.Duration(str(items[0]), int(found.group(1)) * _UNITS_MS[found.group(2)])

    def regex(self, items):
        return s.Regex(*_regex(items[0]))

    def star(self, items):
        return s.Star()

    def list(self, items):
        return tuple(item.value for item in items if item is not None)

    def args(self, items):
        return tuple(items)

    def call(self, items):
        return s.Call(str(items[0]).lower(), items[1] or ())

    def neg(self, items):
        return s.Unary("-", items[0])

    def not_(self, items):
        return s.Unary("not", items[0])

    def or_(self, items):
        return _logical("or", items)

    def and_(self, items):
        return _logical("and", items)

    def arith(self, items):
        return _chain(items, s.Binary)

    def power(self, items):
        # right-associative: 2^3^2 is 2^(3^2)
        node = items[-1]
        for operand in reversed(items[:-1]):
            node = s.Binary("^", operand, node)
        return node

    def compare(self, items):
        return s.Binary(str(items[1]), items[0], items[2])

    def like(self, items):
        return s.Like(items[0], items[1])

    def not_like(self, items):
        return s.Like(items[0], items[1], negated=True)

    def in_(self, items):
        return s.In(items[0], items[1])

    def not_in(self, items):
        return s.In(items[0], items[1], negated=True)

    @v_args(meta=True)
    def named(self, meta, items):
        text = self.text[meta.start_pos : meta.end_pos]
        alias = items[1].name if items[1] is not None else None
        if alias is not None:
            text = _ALIAS_TAIL.sub("", text)
        return s.Named(items[0], alias, text.strip())

    # commands

    def query(self, items):
        return list(items)

    def fields_cmd(self, items):
        return s.Fields(items)

    def display_cmd(self, items):
        return s.Display(items)

    def filter_cmd(self, items):
        return s.Filter(items[0])

    def stats_cmd(self, items):
        # the BY token (kept to split the list) separates the groups; None when absent
        items = [item for item in items if item is not None]
        groups_at = next((i for i, item in enumerate(items) if isinstance(item, Token)), len(items))
        return s.Stats(items[:groups_at], items[groups_at + 1 :])

    @v_args(meta=True)
    def sort_key(self, meta, items):
        text = self.text[meta.start_pos : meta.end_pos]
        descending = items[1] is not None and str(items[1]).lower() == "desc"
        if items[1] is not None:
            text = text[: text.lower().rstrip().rfind(str(items[1]).lower())].strip()
        return s.SortKey(items[0], text, descending)

    def sort_cmd(self, items):
        return s.Sort(items)

    def limit_cmd(self, items):
        return s.Limit(int(items[0]))

    def parse_cmd(self, items):
        source, pattern, *names = items
        names = [name.name for name in names if name is not None]
        if pattern.type == "REGEX":
            body, flags = _regex(pattern)
            return s.Parse(source or "@message", body, True, flags, names)
        return s.Parse(source or "@message", _unquote(pattern), False, "", names)

    def dedup_cmd(self, items):
        return s.Dedup([item.name for item in items])

    def unmask_cmd(self, items):
        return s.Unmask(items[0].name)


def _symbol(text: str, position: int) -> str:
    found = re.match(r"\w+|\S", text[position:])
    return found.group(0) if found else text[position:]


def parse_query(text: str) -> list[s.Command]:
    try:
        tree = _parser().parse(text)
    except lark.UnexpectedCharacters as error:
        symbol = _symbol(text, error.pos_in_stream)
        raise QuerySyntaxError(
            f"unexpected symbol found {symbol} at line {error.line} and position {error.column}",
            error.pos_in_stream,
            error.pos_in_stream + len(symbol) - 1,
        ) from None
    except lark.UnexpectedToken as error:
        token = error.token
        if token.type == "$END":
            end = max(len(text) - 1, 0)
            raise QuerySyntaxError("unexpected end of query", end, end) from None
        start = token.start_pos or 0
        raise QuerySyntaxError(
            f"unexpected symbol found {token} at line {token.line} and position {token.column}",
            start,
            start + len(str(token)) - 1,
        ) from None
    except lark.UnexpectedEOF:
        end = max(len(text) - 1, 0)
        raise QuerySyntaxError("unexpected end of query", end, end) from None
    return _ToSyntax(text).transform(tree)
