"""Where in a pattern's text an error was found, as AWS's parser (Jackson) words it:

    <reason> at [Source: (String)"<the text>"; line: L, column: C]

EventBridge appends this to an invalid pattern's reason. L and C are Jackson's "current
location", where it stood when the error was raised: just after the token it had read (for a
string value, just after its opening quote, since Jackson reads strings lazily). Which token
that is depends on the error: the offending value for "must be an object or an array", the
closing brace for "Empty objects are not allowed", the first value inside an operator for the
errors of a leaf list (the closest this reconstruction gets for those). The text is shown up
to 500 characters, then `[truncated N chars]`, as Jackson does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

MAX_SOURCE = 500


@dataclass
class Spots:
    """Per member path (its raw keys joined with "."): where its value's first token ends,
    where the value ends, and, for a leaf list, where the first value inside it ends."""

    start: dict[str, int] = field(default_factory=dict)
    end: dict[str, int] = field(default_factory=dict)
    inner: dict[str, int] = field(default_factory=dict)


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0
        self.spots = Spots()

    def blank(self) -> None:
        text = self.text
        while self.at < len(text) and text[self.at] in " \t\r\n":
            self.at += 1

    def string_end(self) -> int:
        """From an opening quote, the index just after the closing one."""
        at = self.at + 1
        text = self.text
        while text[at] != '"':
            at += 2 if text[at] == "\\" else 1
        return at + 1

    def value(self, path: str | None) -> None:
        """Reads one value; records where its first token ends and where it ends."""
        self.blank()
        char = self.text[self.at]
        if char == "{":
            self.at += 1
            if path is not None:
                self.spots.start[path] = self.at
            self.members(path)
        elif char == "[":
            self.at += 1
            if path is not None:
                self.spots.start[path] = self.at
            self.items(path)
        elif char == '"':
            if path is not None:
                self.spots.start[path] = self.at + 1
            self.at = self.string_end()
        else:
            while self.at < len(self.text) and self.text[self.at] not in ",]} \t\r\n":
                self.at += 1
            if path is not None:
                self.spots.start[path] = self.at
        if path is not None:
            self.spots.end[path] = self.at

    def members(self, path: str | None) -> None:
        self.blank()
        if self.text[self.at] == "}":
            self.at += 1
            return
        while True:
            self.blank()
            end = self.string_end()
            key = json.loads(self.text[self.at : end])
            self.at = end
            self.blank()
            self.at += 1  # the colon
            self.value(key if not path else f"{path}.{key}")
            self.blank()
            closing = self.text[self.at]
            self.at += 1
            if closing == "}":
                return

    def items(self, path: str | None) -> None:
        self.blank()
        if self.text[self.at] == "]":
            self.at += 1
            return
        first = True
        while True:
            self.blank()
            if first and path is not None and self.text[self.at] == "{":
                # An operator: where the first value inside it ends.
                self.at += 1
                self.blank()
                if self.text[self.at] == '"':
                    self.at = self.string_end()
                    self.blank()
                    self.at += 1
                    self.value("\0")
                    self.spots.inner[path] = self.spots.start.pop("\0")
                    self.spots.end.pop("\0", None)
                    self.blank()
                    while self.text[self.at] == ",":
                        self.at += 1
                        self.blank()
                        self.at = self.string_end()
                        self.blank()
                        self.at += 1
                        self.value(None)
                        self.blank()
                self.at += 1  # the closing brace
            else:
                if first and path is not None:
                    saved = self.at
                    self.value(None)
                    self.spots.inner[path] = self.at if self.text[saved] != '"' else saved + 1
                else:
                    self.value(None)
            first = False
            self.blank()
            closing = self.text[self.at]
            self.at += 1
            if closing == "]":
                return


def spots(text: str) -> Spots | None:
    """The locations of a pattern text that is valid JSON (None if it cannot be scanned)."""
    scanner = _Scanner(text)
    try:
        scanner.value("")
    except (IndexError, ValueError):
        return None
    return scanner.spots


def suffix(text: str, offset: int) -> str:
    """` at [Source: ...; line: L, column: C]` for the index `offset` (the next character)."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    line_start = text.rfind("\n", 0, offset) + 1
    column = offset - line_start + 1
    shown = text if len(text) <= MAX_SOURCE else f'{text[:MAX_SOURCE]}"[truncated {len(text) - MAX_SOURCE} chars]'
    if len(text) <= MAX_SOURCE:
        shown = f'{shown}"'
    return f' at [Source: (String)"{shown}; line: {line}, column: {column}]'


def offset_of(text: str, reason: str, path: str) -> int | None:
    """Where Jackson would stand when raising `reason` about `path` in `text`."""
    found = spots(text)
    if found is None:
        return None
    if reason == "Filter is not an object":
        return found.start.get("")
    if reason.startswith("Empty objects are not allowed"):
        return found.end.get(path) if path else found.end.get("")
    if path.endswith("$or") and ("at least 2" in reason):
        return found.end.get(path)
    if "must be an object or an array" in reason or path.endswith("$or"):
        return found.start.get(path)
    if path in found.inner:
        return found.inner[path]
    return found.start.get(path)
