"""Checking a parsed request against the model's constraints, as AWS's front door does.

Required members, lengths, numeric ranges, patterns and enums. Problems are reported in
AWS's words ("Value 'x' at 'functionName' failed to satisfy constraint: ...") and raised
together as one ValidationException.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from botocore.model import Shape

from ..errors import validation_error
from .shapes import memo

MAX_PROBLEMS = 10


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None  # a Java-only construct: we do not guess


def _at(path: str, name: str) -> str:
    name = name[:1].lower() + name[1:]
    return f"{path}.{name}" if path else name


def _show(value: Any) -> str:
    # AWS prints the value as Java's toString does: [a, b] and {k=v}, not Python's repr.
    if isinstance(value, bytes):
        return "java.nio.HeapByteBuffer"
    if isinstance(value, list):
        return "[" + ", ".join(_show(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_show(k)}={_show(v)}" for k, v in value.items()) + "}"
    return str(value)


def check(shape: Shape | None, params: dict[str, Any], enums: bool = True) -> None:
    """`enums=False` leaves enum members to the service (whose values may be wider than the model's)."""
    if shape is None:
        return
    problems: list[str] = []
    _check_structure(shape, params, None, problems, enums)
    if problems:
        raise validation_error(problems[:MAX_PROBLEMS])


# Paths are built only for the report: a path is None (the top) or (parent path, text), where
# text is a member name (lower-camel-cased when shown) or a ready ".N.member" suffix.
def _render(path) -> str:
    parts = []
    while path is not None:
        path, text = path
        parts.append(text)
    out = ""
    for text in reversed(parts):
        if text.startswith("."):
            out += text
        else:
            out = _at(out, text)
    return out


def _rules(shape: Shape) -> tuple:
    """(required names, members worth checking), once per shape: members without constraints
    (no length, range, pattern or enum, and nothing inside to check) are skipped outright."""
    return memo(
        shape,
        "_lamina_rules",
        lambda s: (tuple(s.required_members), tuple((name, m) for name, m in s.members.items() if _needs_check(m))),
    )


def _needs_check(shape: Shape) -> bool:
    return memo(shape, "_lamina_needs_check", lambda s: _constrained(s, set()))


def _constrained(shape: Shape, seen: set) -> bool:
    if id(shape) in seen:
        return True  # recursive shapes: check them the slow way
    seen.add(id(shape))
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        return bool(shape.required_members) or any(_constrained(m, seen) for m in shape.members.values())
    if kind == "list":
        return "min" in meta or "max" in meta or _constrained(shape.member, seen)
    if kind == "map":
        return "min" in meta or "max" in meta or _constrained(shape.key, seen) or _constrained(shape.value, seen)
    if kind == "string":
        return "min" in meta or "max" in meta or "pattern" in meta or bool(shape.enum)
    return "min" in meta or "max" in meta


def _check_structure(shape: Shape, value: dict, path, problems: list[str], enums: bool) -> None:
    required, checked = _rules(shape)
    for name in required:
        if value.get(name) is None:
            problems.append(
                f"Value null at '{_render((path, name))}' failed to satisfy constraint: Member must not be null"
            )
    for name, member in checked:
        item = value.get(name)
        if item is not None:
            _check_value(member, item, (path, name), problems, enums)


def _check_value(shape: Shape, value: Any, path, problems: list[str], enums: bool) -> None:
    meta = shape.metadata
    kind = shape.type_name
    if kind == "structure":
        if isinstance(value, dict) and not getattr(shape, "is_document_type", False):
            _check_structure(shape, value, path, problems, enums)
        return
    if kind in ("string", "blob", "list", "map"):
        size = len(value)
        if "min" in meta and size < meta["min"]:
            problems.append(
                f"Value '{_show(value)}' at '{_render(path)}' failed to satisfy constraint: "
                f"Member must have length greater than or equal to {meta['min']}"
            )
        if "max" in meta and size > meta["max"]:
            problems.append(
                f"Value '{_show(value) if kind != 'blob' else 'java.nio.HeapByteBuffer'}' at '{_render(path)}' "
                f"failed to satisfy constraint: Member must have length less than or equal to {meta['max']}"
            )
    if kind == "string":
        pattern = meta.get("pattern")
        if pattern:
            compiled = _compiled(pattern)
            if compiled is not None and not compiled.fullmatch(value):
                problems.append(
                    f"Value '{value}' at '{_render(path)}' failed to satisfy constraint: "
                    f"Member must satisfy regular expression pattern: {pattern}"
                )
        enum = shape.enum if enums else None
        if enum and value not in enum:
            problems.append(
                f"Value '{value}' at '{_render(path)}' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(enum)}]"
            )
    elif kind in ("integer", "long", "float", "double"):
        if "min" in meta and value < meta["min"]:
            problems.append(
                f"Value '{value}' at '{_render(path)}' failed to satisfy constraint: "
                f"Member must have value greater than or equal to {meta['min']}"
            )
        if "max" in meta and value > meta["max"]:
            problems.append(
                f"Value '{value}' at '{_render(path)}' failed to satisfy constraint: "
                f"Member must have value less than or equal to {meta['max']}"
            )
    elif kind == "list":
        member = shape.member
        if _needs_check(member):
            for index, item in enumerate(value):
                _check_value(member, item, (path, f".{index + 1}.member"), problems, enums)
    elif kind == "map":
        for key, item in value.items():
            _check_value(shape.key, key, (path, ".key"), problems, enums)
            _check_value(shape.value, item, (path, f".{key}.member"), problems, enums)
