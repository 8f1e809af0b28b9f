"""CloudWatch Logs filter patterns: parsed once, then matched against many messages.

    compile_pattern(text) -> Matcher      a callable message -> bool; FilterPatternError if invalid

The first character tells the three forms apart:

    { ... }   JSON: conditions on fields of a message that is a JSON document
              { $.a.b[0] = "x*" && ($.n > 5 || $.ok IS TRUE) }, IS NULL, NOT EXISTS, %regex%
    [ ... ]   space-delimited: names for the fields of a message split on spaces ("..." and
              [...] group a field), with conditions: [ip, ..., status = 4* || status = 5*, bytes > 1000]
    other     terms: words and "quoted phrases" that must all appear (case-sensitive
              substrings), ?term (at least one of these), -term (none of these), %regex%

An empty pattern matches everything. Pure functions, no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

Matcher = Callable[[str], bool]
_Env = Any  # what a condition looks at: a parsed JSON document, or field name -> text
_Condition = Callable[[_Env], bool]


class FilterPatternError(ValueError):
    """The pattern is not valid CloudWatch Logs filter-pattern syntax."""


@lru_cache(maxsize=256)
def compile_pattern(text: str | None) -> Matcher:
    pattern = (text or "").strip()
    if not pattern:
        return _match_all
    if pattern.startswith("{"):
        return _json_matcher(_Parser(_lex(pattern)).json_pattern())
    if pattern.startswith("["):
        items, conditions = _Parser(_lex(pattern)).delimited_pattern()
        return _delimited_matcher(items, conditions)
    return _terms_matcher(pattern)


def matches(pattern: str | None, message: str) -> bool:
    return compile_pattern(pattern)(message)


def _match_all(message: str) -> bool:
    return True


# --- values shared by the forms ------------------------------------------------------------

_NUMBER = re.compile(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def _number(text: str) -> float | None:
    return float(text) if _NUMBER.fullmatch(text) else None


@lru_cache(maxsize=1024)
def _wildcard(text: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in text.split("*")), re.DOTALL)


def _regex(source: str) -> re.Pattern[str]:
    try:
        return re.compile(source)
    except re.error as error:
        raise FilterPatternError(f"invalid regular expression %{source}%: {error}") from None


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    """The phrase in double quotes at text[start]; backslash escapes the next character."""
    out = []
    index = start + 1
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            out.append(text[index + 1])
            index += 2
        elif char == '"':
            return "".join(out), index + 1
        else:
            out.append(char)
            index += 1
    raise FilterPatternError("unterminated quoted string")


def _read_regex(text: str, start: int) -> tuple[str, int]:
    """The regular expression between percent signs at text[start]; \\% is a literal %."""
    out = []
    index = start + 1
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] == "%":
            out.append("%")
            index += 2
        elif char == "%":
            if not out:
                raise FilterPatternError("empty regular expression")
            return "".join(out), index + 1
        else:
            out.append(char)
            index += 1
    raise FilterPatternError("unterminated regular expression")


# --- terms -------------------------------------------------------------------------------------


def _terms_matcher(pattern: str) -> Matcher:
    required: list[Matcher] = []
    any_of: list[Matcher] = []
    none_of: list[Matcher] = []
    index = 0
    while index < len(pattern):
        if pattern[index].isspace():
            index += 1
            continue
        bucket = required
        if pattern[index] in "?-":
            bucket = any_of if pattern[index] == "?" else none_of
            index += 1
            if index == len(pattern) or pattern[index].isspace():
                raise FilterPatternError(f"{pattern[index - 1]} must be followed by a term")
        if pattern[index] == '"':
            phrase, index = _read_quoted(pattern, index)
            term = _match_all if not phrase.strip() else _contains(phrase)
        elif pattern[index] == "%":
            source, index = _read_regex(pattern, index)
            term = _regex(source).search
        else:
            end = index
            while end < len(pattern) and not pattern[end].isspace():
                end += 1
            word = pattern[index:end]
            if '"' in word:
                raise FilterPatternError(f"unexpected quote in term {word!r}")
            term, index = _contains(word), end
        if index < len(pattern) and not pattern[index].isspace():
            raise FilterPatternError("terms must be separated by spaces")
        bucket.append(term)

    def match(message: str) -> bool:
        return (
            all(term(message) for term in required)
            and (not any_of or any(term(message) for term in any_of))
            and not any(term(message) for term in none_of)
        )

    return match


def _contains(phrase: str) -> Matcher:
    return lambda message: phrase in message


# --- lexer for the JSON and space-delimited forms ------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # "op", "punct", "string", "regex", "word", "end"
    text: str


_TWO_CHAR_OPS = ("&&", "||", "!=", "<=", ">=")
_COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
_WORD_STOP = set('"(){}[],=!<>&|%') | {" ", "\t", "\r", "\n"}
_SELECTOR_STOP = set('"(){},=!<>&|') | {" ", "\t", "\r", "\n"}


def _lex(text: str) -> list[_Token]:
    tokens = []
    index = 0
    while index < len(text):
        char = text[index]
        if char.isspace():
            index += 1
        elif char == '"':
            value, index = _read_quoted(text, index)
            tokens.append(_Token("string", value))
        elif char == "%":
            value, index = _read_regex(text, index)
            tokens.append(_Token("regex", value))
        elif text[index : index + 2] in _TWO_CHAR_OPS:
            tokens.append(_Token("op", text[index : index + 2]))
            index += 2
        elif char in "=<>":
            tokens.append(_Token("op", char))
            index += 1
        elif char in "(){}[],":
            tokens.append(_Token("punct", char))
            index += 1
        elif char in "!&|":
            raise FilterPatternError(f"unexpected {char!r}")
        else:
            end = _selector_end(text, index) if char == "$" else _word_end(text, index)
            tokens.append(_Token("word", text[index:end]))
            index = end
    tokens.append(_Token("end", ""))
    return tokens


def _word_end(text: str, index: int) -> int:
    while index < len(text) and text[index] not in _WORD_STOP:
        index += 1
    return index


def _selector_end(text: str, index: int) -> int:
    """Where the selector at text[index] ends; ['a key'] may hold any character but its quote."""
    while index < len(text) and text[index] not in _SELECTOR_STOP:
        if text[index] == "[" and text[index + 1 : index + 2] in ("'", '"'):
            close = text.find(text[index + 1] + "]", index + 2)
            if close == -1:
                raise FilterPatternError("unterminated quoted key in selector")
            index = close + 2
        else:
            index += 1
    return index


# --- parser ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Value:
    """The right-hand side of a comparison: a number, a string with * wildcards, or a %regex%."""

    text: str
    number: float | None
    regex: re.Pattern[str] | None

    def text_matches(self, text: str) -> bool:
        if self.regex is not None:
            return self.regex.search(text) is not None
        return _wildcard(self.text).fullmatch(text) is not None


_ELLIPSIS = "..."


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.position = 0

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.position + ahead, len(self.tokens) - 1)]

    def take(self) -> _Token:
        token = self.peek()
        self.position += 1
        return token

    def expect(self, kind: str, text: str | None = None) -> _Token:
        token = self.take()
        if token.kind != kind or (text is not None and token.text != text):
            raise FilterPatternError(f"expected {text or kind}, found {token.text or 'end of pattern'!r}")
        return token

    # boolean expressions over conditions, && binding tighter than ||

    def expression(self, condition: Callable[[], _Condition]) -> _Condition:
        alternatives = [self._conjunction(condition)]
        while self.peek().kind == "op" and self.peek().text == "||":
            self.take()
            alternatives.append(self._conjunction(condition))
        if len(alternatives) == 1:
            return alternatives[0]
        return lambda env: any(alternative(env) for alternative in alternatives)

    def _conjunction(self, condition: Callable[[], _Condition]) -> _Condition:
        parts = [self._operand(condition)]
        while self.peek().kind == "op" and self.peek().text == "&&":
            self.take()
            parts.append(self._operand(condition))
        if len(parts) == 1:
            return parts[0]
        return lambda env: all(part(env) for part in parts)

    def _operand(self, condition: Callable[[], _Condition]) -> _Condition:
        if self.peek().kind == "punct" and self.peek().text == "(":
            self.take()
            inner = self.expression(condition)
            self.expect("punct", ")")
            return inner
        return condition()

    def comparison(self) -> tuple[str, _Value]:
        operator = self.take()
        if operator.kind != "op" or operator.text not in _COMPARISONS:
            raise FilterPatternError(f"expected a comparison, found {operator.text or 'end of pattern'!r}")
        token = self.take()
        if token.kind not in ("string", "regex", "word"):
            raise FilterPatternError(f"expected a value after {operator.text}")
        number = _number(token.text) if token.kind in ("word", "string") else None
        if operator.text not in ("=", "!=") and number is None:
            raise FilterPatternError(f"{operator.text} needs a number")
        regex = _regex(token.text) if token.kind == "regex" else None
        return operator.text, _Value(token.text, number, regex)

    # { json conditions }

    def json_pattern(self) -> _Condition:
        self.expect("punct", "{")
        condition = self.expression(self._json_condition)
        self.expect("punct", "}")
        self.expect("end")
        return condition

    def _json_condition(self) -> _Condition:
        token = self.take()
        if token.kind != "word" or not token.text.startswith("$"):
            raise FilterPatternError(f"expected a selector such as $.field, found {token.text or 'end'!r}")
        steps = _selector(token.text)
        keyword = self.peek().text.upper() if self.peek().kind == "word" else ""
        if keyword == "IS":
            self.take()
            what = self.expect("word").text.upper()
            expected = {"NULL": None, "TRUE": True, "FALSE": False}
            if what not in expected:
                raise FilterPatternError(f"IS must be followed by NULL, TRUE or FALSE, not {what!r}")
            wanted = expected[what]
            return lambda doc: any(value is wanted for value in _resolve(doc, steps))
        if keyword == "NOT":
            self.take()
            if self.expect("word").text.upper() != "EXISTS":
                raise FilterPatternError("NOT must be followed by EXISTS")
            return lambda doc: not _resolve(doc, steps)
        operator, value = self.comparison()
        return lambda doc: any(_compare_json(found, operator, value) for found in _resolve(doc, steps))

    # [ space-delimited fields ]

    def delimited_pattern(self) -> tuple[list[str], list[_Condition]]:
        self.expect("punct", "[")
        items: list[str] = []
        conditions: list[_Condition] = []
        while True:
            token = self.peek()
            if token.kind != "word":
                raise FilterPatternError(f"expected a field name, found {token.text or 'end of pattern'!r}")
            if token.text == _ELLIPSIS:
                self.take()
                if not items or items[-1] != _ELLIPSIS:
                    items.append(_ELLIPSIS)
            else:
                items.append(token.text)
                if self.peek(1).kind == "op" and self.peek(1).text in _COMPARISONS:
                    conditions.append(self.expression(self._field_condition))
                else:
                    self.take()
            separator = self.take()
            if separator.kind == "punct" and separator.text == "]":
                break
            if separator.kind != "punct" or separator.text != ",":
                raise FilterPatternError(f"expected , or ], found {separator.text or 'end of pattern'!r}")
        self.expect("end")
        return items, conditions

    def _field_condition(self) -> _Condition:
        name = self.expect("word").text
        operator, value = self.comparison()

        def condition(fields: dict[str, str]) -> bool:
            text = fields.get(name)
            return text is not None and _compare_text(text, operator, value)

        return condition


# --- JSON selectors and comparisons --------------------------------------------------------------

_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+|\*)\]|\.?\[(['\"])(.*?)\3\]")


def _selector(text: str) -> list[tuple[str, Any]]:
    """$.a.b[0][*].c -> [("key", "a"), ("key", "b"), ("index", 0), ("any", None), ("key", "c")]"""
    steps: list[tuple[str, Any]] = []
    index = 1
    while index < len(text):
        found = _STEP.match(text, index)
        if found is None:
            raise FilterPatternError(f"invalid selector {text!r}")
        name, position, _, quoted = found.groups()
        if name == "*" or position == "*":
            steps.append(("any", None))
        elif name is not None:
            steps.append(("key", name))
        elif position is not None:
            steps.append(("index", int(position)))
        else:
            steps.append(("key", quoted))
        index = found.end()
    if not steps:
        raise FilterPatternError(f"selector {text!r} names no field")
    return steps


def _resolve(doc: Any, steps: list[tuple[str, Any]]) -> list[Any]:
    values = [doc]
    for kind, arg in steps:
        found = []
        for value in values:
            if kind == "key" and isinstance(value, dict) and arg in value:
                found.append(value[arg])
            elif kind == "index" and isinstance(value, list) and arg < len(value):
                found.append(value[arg])
            elif kind == "any" and isinstance(value, (dict, list)):
                found.extend(value.values() if isinstance(value, dict) else value)
        values = found
    return values


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))  # true, 5, 2.5, {"a":1}


def _compare_json(found: Any, operator: str, value: _Value) -> bool:
    if isinstance(found, (int, float)) and not isinstance(found, bool) and value.number is not None:
        return _compare_numbers(float(found), operator, value.number)
    if operator not in ("=", "!="):
        return False
    text = _json_text(found)
    if text is None:
        return False
    return value.text_matches(text) == (operator == "=")


def _compare_text(text: str, operator: str, value: _Value) -> bool:
    number = _number(text)
    if number is not None and value.number is not None:
        return _compare_numbers(number, operator, value.number)
    if operator not in ("=", "!="):
        return False
    return value.text_matches(text) == (operator == "=")


def _compare_numbers(left: float, operator: str, right: float) -> bool:
    return {
        "=": left == right,
        "!=": left != right,
        "<": left < right,
        "<=": left <= right,
        ">": left > right,
        ">=": left >= right,
    }[operator]


def _json_matcher(condition: _Condition) -> Matcher:
    def match(message: str) -> bool:
        body = message.strip()
        if not body.startswith(("{", "[")):
            return False
        try:
            doc = json.loads(body)
        except ValueError:
            return False
        return condition(doc)

    return match


# --- space-delimited messages --------------------------------------------------------------------


def _split_fields(message: str) -> list[str]:
    """Fields separated by spaces; "a quoted field" and [a bracketed field] are one field each."""
    fields = []
    index = 0
    length = len(message)
    while index < length:
        char = message[index]
        if char.isspace():
            index += 1
            continue
        closing = {'"': '"', "[": "]"}.get(char)
        if closing is not None:
            end = message.find(closing, index + 1)
            if end != -1:
                fields.append(message[index + 1 : end])
                index = end + 1
                continue
        end = index
        while end < length and not message[end].isspace():
            end += 1
        fields.append(message[index:end])
        index = end
    return fields


def _bindings(items: list[str], fields: list[str], item: int = 0, field: int = 0):
    """Every way of giving the named items fields, "..." standing for any number of fields."""
    if item == len(items):
        if field == len(fields):
            yield {}
        return
    name = items[item]
    if name == _ELLIPSIS:
        for skip in range(len(fields) - field, -1, -1):
            yield from _bindings(items, fields, item + 1, field + skip)
        return
    if field == len(fields):
        return
    for rest in _bindings(items, fields, item + 1, field + 1):
        rest[name] = fields[field]
        yield rest


def _delimited_matcher(items: list[str], conditions: list[_Condition]) -> Matcher:
    def match(message: str) -> bool:
        for binding in _bindings(items, _split_fields(message)):
            if all(condition(binding) for condition in conditions):
                return True
        return False

    return match


# --- extracting values (metric filters) ----------------------------------------------------------


class Extracted:
    """What a matching message offers a metric filter: its JSON document (a JSON pattern), or
    its named fields (a space-delimited pattern); neither for a terms pattern."""

    __slots__ = ("doc", "fields")

    def __init__(self, doc: Any = None, fields: dict[str, str] | None = None) -> None:
        self.doc = doc
        self.fields = fields

    def value(self, selector: str) -> str | None:
        """A metric value or dimension selector's value as text: "$.a.b" in the JSON
        document, "$name" among the named fields; None if it is not there (or null)."""
        if self.fields is not None:
            return self.fields.get(selector[1:]) if selector.startswith("$") else None
        found = self._found(selector)
        if found is None:
            return None
        return found if isinstance(found, str) else _json_text(found)

    def number(self, selector: str) -> float | None:
        """The selector's value as a number (a JSON number, or text that is one), else None."""
        found = self._found(selector) if self.fields is None else self.value(selector)
        if isinstance(found, (int, float)) and not isinstance(found, bool):
            return float(found)
        return _number(found.strip()) if isinstance(found, str) else None

    def _found(self, selector: str) -> Any:
        if self.fields is not None:
            return self.fields.get(selector[1:]) if selector.startswith("$") else None
        if self.doc is None or not selector.startswith("$."):
            return None
        steps = _cached_selector(selector)
        if steps is None:
            return None
        found = _resolve(self.doc, steps)
        return found[0] if found else None

    def extracted_values(self) -> dict[str, str]:
        """TestMetricFilter's extractedValues: a space-delimited pattern's named fields, as "$name"."""
        return {f"${name}": text for name, text in (self.fields or {}).items()}


@lru_cache(maxsize=1024)
def _cached_selector(selector: str) -> list[tuple[str, Any]] | None:
    try:
        return _selector(selector)
    except FilterPatternError:
        return None


Extractor = Callable[[str], "Extracted | None"]
_NO_FIELDS = Extracted()


def pattern_kind(text: str | None) -> str:
    """ "json", "delimited" or "terms" (an empty pattern is terms: it matches everything)."""
    pattern = (text or "").strip()
    return "json" if pattern.startswith("{") else "delimited" if pattern.startswith("[") else "terms"


@lru_cache(maxsize=256)
def compile_extractor(text: str | None) -> Extractor:
    """Like compile_pattern, but a match hands back what was matched (None: no match)."""
    kind = pattern_kind(text)
    pattern = (text or "").strip()
    if kind == "json":
        condition = _Parser(_lex(pattern)).json_pattern()

        def json_extract(message: str) -> Extracted | None:
            body = message.strip()
            if not body.startswith(("{", "[")):
                return None
            try:
                doc = json.loads(body)
            except ValueError:
                return None
            return Extracted(doc=doc) if condition(doc) else None

        return json_extract
    if kind == "delimited":
        items, conditions = _Parser(_lex(pattern)).delimited_pattern()

        def delimited_extract(message: str) -> Extracted | None:
            for binding in _bindings(items, _split_fields(message)):
                if all(condition(binding) for condition in conditions):
                    return Extracted(fields=binding)
            return None

        return delimited_extract
    matcher = compile_pattern(text)
    return lambda message: _NO_FIELDS if matcher(message) else None
