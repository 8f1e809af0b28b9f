"""Policy variables: `${aws:username}`, `${aws:PrincipalTag/team}`, `${aws:x, 'default'}`, and
the three escapes `${*}`, `${?}`, `${$}` (IAM policy elements: Variables and tags).

They are substituted only in documents whose Version is 2012-10-17 ("If you don't include the
Version element ... variables such as ${aws:username} aren't recognized as variables and are
instead treated as literal strings"), only in the Resource element and in the values of string
and ARN conditions. A template is parsed once, when the policy is; at request time it is filled
from the request's context keys. A variable whose key has no value, and no default, leaves no
value (never the empty string): a Resource or NotResource entry holding it "will not match any
resource", and a condition value holding it is equal to or like nothing, so only inverted
operators such as StringNotEquals hold ("Policy variables with no value").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

# `${` anything but `}` `}`: the name is checked below, so `${not a var}` stays literal text.
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_NAME = re.compile(r"^[A-Za-z0-9_:/.\-@+=,]+$")
_DEFAULT = re.compile(r"^\s*'([^']*)'\s*$")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}

TEXT, LITERAL, VARIABLE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Template:
    """A value holding at least one variable or escape. `parts` are (kind, text, default):
    TEXT is policy text (its wildcards are live), LITERAL an escape's character (matched as
    is), VARIABLE a lower-cased context key name with its default or None."""

    source: str
    parts: tuple[tuple[int, str, str | None], ...]

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(text for kind, text, _ in self.parts if kind == VARIABLE)

    def fill(self, keys: Mapping[str, object]) -> list[tuple[str, bool]] | None:
        """(text, wildcards live) parts with every variable replaced, or None when one has no
        value. A variable's value is matched literally: a user named `a*` is not a wildcard."""
        out: list[tuple[str, bool]] = []
        for kind, text, default in self.parts:
            if kind == TEXT:
                out.append((text, True))
            elif kind == LITERAL:
                out.append((text, False))
            else:
                value = keys.get(text)
                if isinstance(value, list):
                    # A multivalued key has no single value to put in its place.
                    value = value[0] if len(value) == 1 else None
                if value is None or value == "":
                    if default is None:
                        return None
                    value = default
                out.append((str(value), False))
        return out


def parse_template(value: str) -> Template | None:
    """The template for `value`, or None when it holds no variable (the common case, which is
    then matched as plain policy text with no per-request work)."""
    if "${" not in value:
        return None
    parts: list[tuple[int, str, str | None]] = []
    position = 0
    found = False
    for match in _VARIABLE.finditer(value):
        inner = match.group(1)
        name, default = inner, None
        if "," in inner:
            name, _, rest = inner.partition(",")
            quoted = _DEFAULT.match(rest)
            if quoted is None:
                continue  # not a variable: left as literal policy text
            default = quoted.group(1)
        name = name.strip()
        if name in _ESCAPES and default is None:
            kind, text = LITERAL, _ESCAPES[name]
        elif _NAME.match(name):
            kind, text = VARIABLE, name.lower()
        else:
            continue
        if match.start() > position:
            parts.append((TEXT, value[position : match.start()], None))
        parts.append((kind, text, default))
        position = match.end()
        found = True
    if not found:
        return None
    if position < len(value):
        parts.append((TEXT, value[position:], None))
    return Template(value, tuple(parts))
