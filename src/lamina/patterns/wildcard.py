"""The `wildcard` operator: parsing, matching, and AWS's complexity limit.

`*` matches any run of characters, including none; `\\*` is a literal asterisk and `\\\\` a
literal backslash. Two consecutive `*`, and a backslash before anything else, are refused,
with AWS's positions (a UTF-8 byte offset, counted from the opening quote of the JSON string).

EventBridge refuses rules whose wildcards make matching expensive ("Rule is too complex"). Its
engine measures, per field, the largest number of wildcard-pattern prefixes that one input
can match at the same time (aws/event-ruler's MachineComplexityEvaluator); `complexity`
computes that measure, and reproduces every figure in event-ruler's own tests of it. AWS does
not publish the threshold: rejecting from 10 on agrees with every case we know of
(`*:*:*:*:*:event-bus/*` scores 11 and is refused; three `*:stack/<name>/*` values score 9
and are accepted, four score 12 and are refused; `/Users/*/dir/dir/dir/dir/dir/doc.txt`
scores 7 and is accepted).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

STAR = None  # the wildcard, in a parsed pattern; every other token is one character
Tokens = tuple  # of single characters and STAR

TOO_COMPLEX = (
    "Rule is too complex - try using fewer wildcard characters or fewer repeating "
    "character sequences after a wildcard character"
)
MAX_COMPLEXITY = 10
_MAX_STATES = 20_000  # subsets explored before giving up (and calling the rule too complex)


def parse(text: str) -> Tokens:
    """The pattern as tokens; ValueError carries AWS's reason."""
    tokens: list = []
    position = 1  # AWS counts UTF-8 bytes from the opening quote
    after_star = False
    chars = iter(text)
    for char in chars:
        if char == "*":
            if after_star:
                raise ValueError(f"Consecutive wildcard characters at pos {position - 1}")
            tokens.append(STAR)
            position += 1
            after_star = True
            continue
        after_star = False
        if char == "\\":
            escaped = next(chars, "")
            if escaped not in ("*", "\\"):
                raise ValueError(f"Invalid escape character at pos {position}")
            tokens.append(escaped)
            position += 2
        else:
            tokens.append(char)
            position += len(char.encode("utf-8"))
    return tuple(tokens)


def literal(tokens: Tokens) -> str | None:
    """The text a pattern without wildcards stands for, else None."""
    return None if STAR in tokens else "".join(tokens)


def matcher(tokens: Tokens) -> Callable[[Any], bool]:
    """A test for strings matching the pattern."""
    segments: list[str] = [""]
    for token in tokens:
        if token is STAR:
            segments.append("")
        else:
            segments[-1] += token
    if len(segments) == 1:
        text = segments[0]
        return lambda value: isinstance(value, str) and value == text
    head, middle, tail = segments[0], segments[1:-1], segments[-1]
    least = len(head) + len(tail) + sum(map(len, middle))

    def test(value: Any) -> bool:
        if not isinstance(value, str) or len(value) < least:
            return False
        if not (value.startswith(head) and value.endswith(tail)):
            return False
        position, end = len(head), len(value) - len(tail)
        for segment in middle:  # the leftmost place for each segment never loses a match
            found = value.find(segment, position, end)
            if found < 0:
                return False
            position = found + len(segment)
        return True

    return test


def complexity(patterns: Iterable[Tokens], limit: int = MAX_COMPLEXITY) -> int:
    """The largest number of wildcard-pattern prefixes one input matches at once, across the
    patterns of one field (identical patterns count once); stops counting at `limit`.

    A prefix is a transition of the matching automaton: reading a character either advances
    over a literal or loops on a `*`, and advancing right before a `*` also counts that `*`'s
    loop (what matches "ab" matches "ab*" too)."""
    patterns = list(dict.fromkeys(patterns))
    alphabet = {token for pattern in patterns for token in pattern if token is not STAR}
    alphabet.add("\0\uffff")  # a character no pattern names
    start = frozenset((index, 0) for index in range(len(patterns)))
    seen, pending, worst = {start}, [start], 0
    while pending:
        positions = pending.pop()
        for char in alphabet:
            taken: set = set()
            after: set = set()
            for index, position in positions:
                pattern = patterns[index]
                for ready in _ready(pattern, position):
                    if ready == len(pattern):
                        continue
                    token = pattern[ready]
                    if token is STAR:
                        taken.add((index, ready, True))
                        after.add((index, ready))
                    elif token == char:
                        taken.add((index, ready + 1, False))
                        after.add((index, ready + 1))
            if not taken:
                continue
            size = len(taken) + sum(
                1
                for index, position, looped in taken
                if not looped
                and position < len(patterns[index])
                and patterns[index][position] is STAR
                and (index, position, True) not in taken
            )
            worst = max(worst, size)
            if worst >= limit:
                return limit
            state = frozenset(after)
            if state not in seen:
                if len(seen) >= _MAX_STATES:
                    return limit
                seen.add(state)
                pending.append(state)
    return worst


def _ready(pattern: Sequence, position: int) -> Iterable[int]:
    """The positions reachable without reading: a `*` may match nothing."""
    yield position
    while position < len(pattern) and pattern[position] is STAR:
        position += 1
        yield position
