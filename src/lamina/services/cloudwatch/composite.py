"""Composite alarms' AlarmRule language: ALARM(x), OK(x), INSUFFICIENT_DATA(x), TRUE, FALSE,
AND, OR, NOT and parentheses (NOT binds tightest, then AND, then OR, as CloudWatch's).

An alarm is named by its name or ARN, quoted ("my alarm") or not. A rule is parsed once
into a tree of tuples and evaluated against the children's states:

    parse(text) -> Rule                 raises RuleError with what is wrong
    children(rule) -> list[str]         the names/ARNs it refers to, in order
    holds(rule, state_of) -> bool       state_of(name or ARN) -> "OK" | "ALARM" | ...
"""

from __future__ import annotations

import re
from collections.abc import Callable

Rule = bool | tuple  # True/False, ("state", STATE, name), ("not", r), ("and", a, b), ("or", a, b)
STATE_FUNCTIONS = ("ALARM", "OK", "INSUFFICIENT_DATA")
MAX_RULE_LENGTH = 10240

_TOKEN = re.compile(r"\s*(\(|\)|\"(?:[^\"\\]|\\.)*\"|[^\s()\"]+)")


class RuleError(ValueError):
    pass


def _tokens(text: str) -> list[str]:
    found, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise RuleError(f"Unexpected character at position {position + 1}")
        found.append(match.group(1))
        position = match.end()
    return found


class _Parser:
    def __init__(self, text: str) -> None:
        self.items = _tokens(text)
        self.at = 0

    def peek(self) -> str | None:
        return self.items[self.at] if self.at < len(self.items) else None

    def take(self) -> str:
        if self.at >= len(self.items):
            raise RuleError("Unexpected end of the rule")
        self.at += 1
        return self.items[self.at - 1]

    def rule(self) -> Rule:
        left = self.conjunction()
        while self.peek() == "OR":
            self.take()
            left = ("or", left, self.conjunction())
        return left

    def conjunction(self) -> Rule:
        left = self.negation()
        while self.peek() == "AND":
            self.take()
            left = ("and", left, self.negation())
        return left

    def negation(self) -> Rule:
        if self.peek() == "NOT":
            self.take()
            return ("not", self.negation())
        return self.primary()

    def primary(self) -> Rule:
        token = self.take()
        if token == "(":
            inner = self.rule()
            if self.take() != ")":
                raise RuleError("Missing closing parenthesis")
            return inner
        if token == "TRUE":
            return True
        if token == "FALSE":
            return False
        if token in STATE_FUNCTIONS:
            if self.take() != "(":
                raise RuleError(f"Expected '(' after {token}")
            parts = []
            while self.peek() not in (")", None):
                parts.append(self.take())
            if self.take() != ")" or not parts:
                raise RuleError(f"Expected an alarm name in {token}()")
            name = " ".join(parts)
            if len(parts) == 1 and name.startswith('"'):
                name = name[1:-1].replace('\\"', '"')
            return ("state", token, name)
        raise RuleError(f"Unexpected token '{token}'")


def parse(text: str) -> Rule:
    if not text.strip():
        raise RuleError("The rule is empty")
    parser = _Parser(text)
    rule = parser.rule()
    if parser.peek() is not None:
        raise RuleError(f"Unexpected token '{parser.peek()}'")
    return rule


def children(rule: Rule) -> list[str]:
    if isinstance(rule, bool):
        return []
    if rule[0] == "state":
        return [rule[2]]
    found: list[str] = []
    for part in rule[1:]:
        for name in children(part):
            if name not in found:
                found.append(name)
    return found


def holds(rule: Rule, state_of: Callable[[str], str | None]) -> bool:
    if isinstance(rule, bool):
        return rule
    kind = rule[0]
    if kind == "state":
        return state_of(rule[2]) == rule[1]
    if kind == "not":
        return not holds(rule[1], state_of)
    if kind == "and":
        return holds(rule[1], state_of) and holds(rule[2], state_of)
    return holds(rule[1], state_of) or holds(rule[2], state_of)
