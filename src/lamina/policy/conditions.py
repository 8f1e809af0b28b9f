"""The Condition element: every operator AWS documents (IAM JSON policy elements: Condition
operators), the ...IfExists forms, and the ForAllValues:/ForAnyValue: set operators.

A condition block is compiled once into `Condition`s; `Condition.holds(keys)` answers it for
a request's context keys (lower-cased names: condition key names are case-insensitive).

The rules, as AWS documents them:
- several operators in a block, and several keys under one operator, are ANDed; several values
  for one key are ORed; for a negated operator (StringNotEquals, NotIpAddress, ...) the key's
  value must match none of them (NOR);
- a key missing from the request: the condition is false, except that a negated operator is
  then true ("If the policy condition requires that the key is not matched, such as
  StringNotLike or ArnNotLike, and the right key is not present, the condition is true");
  ...IfExists makes a missing key true; Null tests for absence;
- set operators compare each value of a multivalued key: ForAnyValue is true when at least
  one value matches (false for a missing or empty key), ForAllValues when every value matches
  (true for a missing or empty key: "returns true if there are no keys in the request or if the
  key values resolve to a null data set");
- a single-valued operator on a multivalued key matches when any of its values does.
A policy value an operator cannot read (a CIDR that is not one, a date that is not one)
matches nothing; a policy variable without a value makes the condition false.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from . import errors
from .errors import MalformedPolicy
from .variables import Template, parse_template
from .wildcard import Parts, arn_like_source, compiled, string_like_source

NO_SET, ANY_VALUE, ALL_VALUES = 0, 1, 2


def _identity(value: str) -> str:
    return value


def _casefold(value: str) -> str:
    return value.casefold()


def _like(parts: Parts) -> Any:
    return compiled(string_like_source(parts))


def _arn(parts: Parts) -> Any:
    source = arn_like_source(parts)
    if source is None:
        raise ValueError("not an ARN")
    return compiled(source)


def _fullmatch(value: str, pattern: Any) -> bool:
    return pattern.fullmatch(value) is not None


def parse_date(text: str) -> float:
    """A date condition value or context value as epoch seconds: ISO 8601 (with or without a
    time, `Z` or an offset; no offset means UTC) or a number of seconds since the epoch, the
    two forms AWS accepts."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _binary(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as error:
        raise ValueError(str(error)) from None


def _network(text: str) -> Any:
    return ipaddress.ip_network(text.strip(), strict=False)


def _address(text: str) -> Any:
    return ipaddress.ip_address(text.strip())


def _in_network(address: Any, network: Any) -> bool:
    return address in network  # False, not an error, across IPv4 and IPv6


@dataclass(frozen=True, slots=True)
class Operator:
    name: str
    negated: bool
    prepare: Callable[[str], Any]  # a policy value, ready to compare; ValueError: unusable
    convert: Callable[[str], Any]  # a context value, ready to compare; ValueError: no match
    compare: Callable[[Any, Any], bool]  # (context value, policy value)
    from_parts: Callable[[Parts], Any] | None = None  # takes variables: prepares a filled value


def _string_ops() -> list[Operator]:
    def plain(parts: Parts) -> str:
        return "".join(text for text, _ in parts)

    def folded(parts: Parts) -> str:
        return plain(parts).casefold()

    def like_static(text: str) -> Any:
        return _like([(text, True)])

    def arn_static(text: str) -> Any:
        return _arn([(text, True)])

    ops = []
    for negated, prefix in ((False, ""), (True, "Not")):
        ops += [
            Operator(f"String{prefix}Equals", negated, _identity, _identity, operator.eq, plain),
            Operator(f"String{prefix}EqualsIgnoreCase", negated, _casefold, _casefold, operator.eq, folded),
            Operator(f"String{prefix}Like", negated, like_static, _identity, _fullmatch, _like),
            # ArnEquals and ArnLike are the same test: segment-wise, wildcards allowed.
            Operator(f"Arn{prefix}Equals", negated, arn_static, _identity, _fullmatch, _arn),
            Operator(f"Arn{prefix}Like", negated, arn_static, _identity, _fullmatch, _arn),
        ]
    return ops


def _ordered_ops(family: str, read: Callable[[str], Any]) -> list[Operator]:
    return [
        Operator(f"{family}Equals", False, read, read, operator.eq),
        Operator(f"{family}NotEquals", True, read, read, operator.eq),
        Operator(f"{family}LessThan", False, read, read, operator.lt),
        Operator(f"{family}LessThanEquals", False, read, read, operator.le),
        Operator(f"{family}GreaterThan", False, read, read, operator.gt),
        Operator(f"{family}GreaterThanEquals", False, read, read, operator.ge),
    ]


NULL = Operator("Null", False, _casefold, _casefold, operator.eq)

OPERATORS: dict[str, Operator] = {
    op.name.lower(): op
    for op in [
        *_string_ops(),
        *_ordered_ops("Numeric", float),
        *_ordered_ops("Date", parse_date),
        Operator("Bool", False, _casefold, _casefold, operator.eq),
        Operator("BinaryEquals", False, _binary, _binary, operator.eq),
        Operator("IpAddress", False, _network, _address, _in_network),
        Operator("NotIpAddress", True, _network, _address, _in_network),
        NULL,
    ]
}


@dataclass(frozen=True, slots=True)
class Condition:
    """One key under one operator, e.g. `"ForAnyValue:StringLike": {"aws:TagKeys": [...]}`."""

    operator: str  # as written in the policy
    key: str  # lower-cased
    op: Operator
    set_op: int
    if_exists: bool
    values: tuple[Any, ...]  # prepared values without variables
    templates: tuple[Template, ...]  # values holding variables, filled per request

    @property
    def referenced_keys(self) -> frozenset[str]:
        keys = {self.key}
        for template in self.templates:
            keys |= template.keys
        return frozenset(keys)

    def holds(self, keys: Mapping[str, Any]) -> bool:
        raw = keys.get(self.key)
        missing = raw is None or (type(raw) is list and not raw)
        op = self.op
        if op is NULL:
            # "true": the key must be absent (or an empty set); "false": present. ORed.
            return any((value == "true") == missing for value in self.values)
        if missing:
            if self.if_exists or self.set_op == ALL_VALUES:
                return True
            if self.set_op == ANY_VALUE:
                return False
            return op.negated
        values = self.values
        if self.templates:
            filled = list(values)
            assert op.from_parts is not None
            for template in self.templates:
                parts = template.fill(keys)
                if parts is None:
                    continue
                try:
                    filled.append(op.from_parts(parts))
                except ValueError:
                    continue
            # A variable with no value leaves no value to compare: "There is no equal or like
            # value", so a positive operator does not match and an inverted one ("like
            # StringNotEquals or StringNotLike") does (IAM policy elements: Variables and
            # tags, "Policy variables with no value"). Hence no early answer when none filled.
            values = tuple(filled)
        convert, compare = op.convert, op.compare
        if type(raw) is list:
            contexts = raw
        else:
            contexts = [raw]
        results = []
        for item in contexts:
            try:
                value = convert(item)
            except (ValueError, TypeError):
                results.append(False)
                continue
            results.append(any(compare(value, policy_value) for policy_value in values))
        if self.set_op == ANY_VALUE:
            return any(r != op.negated for r in results)
        if self.set_op == ALL_VALUES:
            return all(r != op.negated for r in results)
        matched = any(results)
        return not matched if op.negated else matched


def _value_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise MalformedPolicy(errors.SYNTAX)


def parse_operator(name: str) -> tuple[Operator, int, bool]:
    """(operator, set operator, IfExists) for a name like `ForAllValues:StringLikeIfExists`."""
    base, set_op = name, NO_SET
    lowered = name.lower()
    if lowered.startswith("forallvalues:"):
        base, set_op = name[len("ForAllValues:") :], ALL_VALUES
    elif lowered.startswith("foranyvalue:"):
        base, set_op = name[len("ForAnyValue:") :], ANY_VALUE
    if_exists = base.lower().endswith("ifexists")
    if if_exists:
        base = base[: -len("IfExists")]
    op = OPERATORS.get(base.lower())
    if op is None or (op is NULL and (if_exists or set_op != NO_SET)):
        raise MalformedPolicy(errors.unknown_operator(name))
    return op, set_op, if_exists


def parse_conditions(block: object, substitute: bool) -> tuple[Condition, ...]:
    """The Condition element of one statement. `substitute` is False for 2008-10-17 documents,
    where `${...}` is plain text."""
    if not isinstance(block, dict):
        raise MalformedPolicy(errors.SYNTAX)
    out: list[Condition] = []
    for name, entries in block.items():
        op, set_op, if_exists = parse_operator(str(name))
        if not isinstance(entries, dict):
            raise MalformedPolicy(errors.SYNTAX)
        for key, raw in entries.items():
            texts = [_value_text(v) for v in raw] if isinstance(raw, list) else [_value_text(raw)]
            values: list[Any] = []
            templates: list[Template] = []
            for text in texts:
                template = parse_template(text) if substitute and op.from_parts is not None else None
                if template is not None:
                    templates.append(template)
                    continue
                if op is NULL:
                    values.append(text.lower())
                    continue
                try:
                    values.append(op.prepare(text))
                except ValueError:
                    pass  # a value this operator cannot read matches nothing
            out.append(Condition(str(name), str(key).lower(), op, set_op, if_exists, tuple(values), tuple(templates)))
    return tuple(out)
