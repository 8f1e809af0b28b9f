"""The event-pattern language of Amazon EventBridge, which is also the language of SNS
subscription filter policies and of Lambda event source mapping FilterCriteria.

Pure functions, standard library only, no I/O. A pattern is compiled once into nested
closures (`compile_pattern`), then matched against any number of events
(`Pattern.matches`). Semantics follow the AWS documentation and, where it is silent, the
reference implementation AWS published (aws/event-ruler):

* Fields of a pattern object are ANDed; the values in a leaf list are ORed; objects nest
  like the event does. Fields of the event absent from the pattern are ignored.
* A leaf list holds strings, numbers, true/false/null (exact, type-strict matches: the
  string "5" never matches the number 5, true never matches 1) and operator objects:
  prefix, suffix (each also as {"equals-ignore-case": ...}), equals-ignore-case,
  wildcard, anything-but, numeric, exists, cidr. Unknown operators are rejected.
* Numbers are compared as decimals: 300, 300.0 and 3.0e2 are equal, and an account number
  such as 123456789012 keeps every digit. No magnitude limit is enforced (AWS documents
  ranges of +-1e9 or +-5e9 depending on the service and year).
* Arrays in the event: a leaf matches if any element matches (arrays of arrays are
  flattened). Under a nested pattern object an array of objects matches if one element
  matches the whole sub-pattern (array-consistent matching: fields are never combined
  from different elements of the same array).
* "exists" applies to leaf values only: a field whose value is an object, or an empty
  array, does not exist as a leaf, so {"exists": false} matches it and {"exists": true}
  does not. A field whose value is null exists. anything-but never matches a missing field.
* anything-but excludes what it names and matches every other leaf value, whatever its
  type: {"anything-but": "x"} matches 5 and null; {"anything-but": {"prefix": "a"}}
  matches the number 7.
* "$or" takes a list of at least two pattern objects, at the top or at any nested level;
  operator names may not be used as field names inside it.
* Empty objects and empty lists are invalid anywhere, so `{}` is not a valid pattern (AWS:
  "Empty objects are not allowed"). SNS treats an empty filter policy as "no policy":
  `compile_sns_policy` returns None for it and `sns_policy_matches` then matches all.
"""
from __future__ import annotations

import ipaddress
import json
import math
import operator
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Callable, Iterator

__all__ = [
    "InvalidPattern",
    "Pattern",
    "compile_pattern",
    "matches",
    "compile_sns_policy",
    "sns_attributes_to_event",
    "sns_policy_matches",
]

ValueTest = Callable[[Any], bool]
ObjectTest = Callable[[dict], bool]

_OPERATORS = ("prefix", "suffix", "equals-ignore-case", "wildcard", "anything-but",
              "numeric", "exists", "cidr")
# Names event-ruler refuses as field names inside "$or" (operators and reserved words).
_RESERVED_IN_OR = frozenset(_OPERATORS) | {
    "exactly", "=", "<", "<=", ">", ">=", "regex", "not-wildcard", "not-equals-ignore-case",
    "date-after", "date-on-or-after", "date-before", "date-on-or-before", "in-date-range",
    "ip-address-in-range", "ip-address-not-in-range"}
_LOWER = {">": operator.gt, ">=": operator.ge}
_UPPER = {"<": operator.lt, "<=": operator.le}
SNS_SCOPES = ("MessageAttributes", "MessageBody")


class InvalidPattern(ValueError):
    """A malformed pattern; services turn it into InvalidEventPatternException,
    InvalidParameter or InvalidParameterValueException."""


class Pattern:
    """A compiled event pattern."""

    __slots__ = ("source", "_test")

    def __init__(self, source: dict, test: ObjectTest) -> None:
        self.source = source
        self._test = test

    def matches(self, event: Any) -> bool:
        return _match_nested(self._test, event)

    def __repr__(self) -> str:
        return f"Pattern({json.dumps(self.source, default=str)})"


def compile_pattern(pattern: dict | str) -> Pattern:
    """Compile a pattern given as a dict or as JSON text; raises InvalidPattern."""
    if isinstance(pattern, (str, bytes)):
        text = pattern.decode() if isinstance(pattern, bytes) else pattern
        return _compile_text(text)
    return _compile_data(pattern)


def matches(pattern: dict | str | Pattern, event: Any) -> bool:
    compiled = pattern if isinstance(pattern, Pattern) else compile_pattern(pattern)
    return compiled.matches(event)


@lru_cache(maxsize=512)
def _compile_text(text: str) -> Pattern:
    return _compile_data(_load_json(text, "pattern"))


def _compile_data(data: Any) -> Pattern:
    if not isinstance(data, dict):
        raise InvalidPattern("Filter is not an object")
    return Pattern(data, _compile_object(data, "", in_or=False))


def _load_json(text: str, what: str) -> Any:
    try:
        return json.loads(text, parse_float=Decimal)
    except ValueError as exc:
        raise InvalidPattern(f"{what} is not valid JSON: {exc}") from None


# ---------------------------------------------------------------- compile: structure

def _compile_object(obj: dict, path: str, in_or: bool) -> ObjectTest:
    if not obj:
        raise InvalidPattern(f"{_at(path)}Empty objects are not allowed")
    tests: list[ObjectTest] = []
    for key, value in obj.items():
        if not isinstance(key, str):
            raise InvalidPattern(f"{_at(path)}field names must be strings")
        where = f"{path}.{key}" if path else key
        if key == "$or":
            tests.append(_compile_or(value, path))
            continue
        if in_or and key in _RESERVED_IN_OR:
            raise InvalidPattern(
                f"{_at(where)}{key} is a reserved name which cannot be used inside $or")
        if isinstance(value, dict):
            tests.append(_field_nested(key, _compile_object(value, where, in_or)))
        elif isinstance(value, list):
            tests.append(_field_leaf(key, _compile_leaf(value, where)))
        else:
            raise InvalidPattern(f'"{where}" must be an object or an array')
    return lambda event: all(test(event) for test in tests)


def _compile_or(branches: Any, path: str) -> ObjectTest:
    where = f"{path}.$or" if path else "$or"
    if not isinstance(branches, list):
        raise InvalidPattern(f"{where}: $or must be followed by an array")
    if len(branches) < 2:
        raise InvalidPattern(f"{where}: there must be at least 2 objects in $or")
    if not all(isinstance(branch, dict) for branch in branches):
        raise InvalidPattern(f"{where}: only JSON objects are allowed in the $or array")
    tests = [_compile_object(branch, path, in_or=True) for branch in branches]
    return lambda event: any(test(event) for test in tests)


_ABSENT = object()


def _field_nested(key: str, test: ObjectTest) -> ObjectTest:
    return lambda event: _match_nested(test, event.get(key, _ABSENT))


def _field_leaf(key: str, test: Callable[[list], bool]) -> ObjectTest:
    return lambda event: test(_leaf_values(event.get(key, _ABSENT)))


def _match_nested(test: ObjectTest, value: Any) -> bool:
    """A sub-pattern against an event value: an object, an array (one element must match
    the whole sub-pattern) or anything else (then every field below is missing)."""
    if isinstance(value, dict):
        return test(value)
    if isinstance(value, list):
        objects = list(_objects_in(value))
        if objects:
            return any(test(obj) for obj in objects)
    return test({})


def _objects_in(values: list) -> Iterator[dict]:
    for value in values:
        if isinstance(value, dict):
            yield value
        elif isinstance(value, list):
            yield from _objects_in(value)


def _leaf_values(value: Any) -> list:
    """The leaf values of a field: none if missing or an object, the flattened scalars of
    an array, else the value itself."""
    if value is _ABSENT or isinstance(value, dict):
        return []
    if isinstance(value, list):
        out: list = []
        for item in value:
            out.extend(_leaf_values(item))
        return out
    return [value]


# ---------------------------------------------------------------- compile: leaf values

def _compile_leaf(values: list, where: str) -> Callable[[list], bool]:
    if not values:
        raise InvalidPattern(f"{where}: Empty arrays are not allowed")
    tests: list[ValueTest] = []
    match_missing = False
    for value in values:
        if isinstance(value, dict):
            test = _compile_operator(value, where)
            if test is None:                       # {"exists": false}
                match_missing = True
            else:
                tests.append(test)
        else:
            tests.append(_exact(value, where))

    def test_field(leaves: list) -> bool:
        if not leaves:
            return match_missing
        return any(test(leaf) for leaf in leaves for test in tests)
    return test_field


def _exact(value: Any, where: str) -> ValueTest:
    if value is None:
        return lambda v: v is None
    if isinstance(value, bool):
        return lambda v: isinstance(v, bool) and v == value
    if isinstance(value, str):
        return lambda v: isinstance(v, str) and v == value
    if not _is_number(value):
        raise InvalidPattern(f"{where}: match values must be strings, numbers, true, false, "
                             f"null or operator objects, got {value!r}")
    number = _pattern_number(value, where, "match value")
    return lambda v: _num(v) == number


def _compile_operator(spec: dict, where: str) -> ValueTest | None:
    """One operator object; None stands for {"exists": false}."""
    if len(spec) != 1:
        raise InvalidPattern(f"{where}: an operator object must have exactly one key, "
                             f"got {sorted(spec) or 'none'}")
    (name, arg), = spec.items()
    if name in ("prefix", "suffix"):
        if isinstance(arg, dict):
            text = _ignore_case_arg(arg, where, name).lower()
            if name == "prefix":
                return lambda v: isinstance(v, str) and v.lower().startswith(text)
            return lambda v: isinstance(v, str) and v.lower().endswith(text)
        text = _string(arg, where, name)
        if name == "prefix":
            return lambda v: isinstance(v, str) and v.startswith(text)
        return lambda v: isinstance(v, str) and v.endswith(text)
    if name == "equals-ignore-case":
        text = _string(arg, where, name).lower()
        return lambda v: isinstance(v, str) and v.lower() == text
    if name == "wildcard":
        return _wildcard(_string(arg, where, name), where)
    if name == "anything-but":
        return _anything_but(arg, where)
    if name == "numeric":
        return _numeric(arg, where)
    if name == "exists":
        if not isinstance(arg, bool):
            raise InvalidPattern(f"{where}: exists match pattern must be either true or false")
        return (lambda v: True) if arg else None
    if name == "cidr":
        return _cidr(arg, where)
    raise InvalidPattern(f"{where}: unrecognized match type {name!r}")


def _ignore_case_arg(arg: dict, where: str, name: str) -> str:
    if list(arg) != ["equals-ignore-case"]:
        raise InvalidPattern(f"{where}: unsupported {name} pattern {sorted(arg)}; "
                             f"only equals-ignore-case may be nested in {name}")
    return _string(arg["equals-ignore-case"], where, f"{name}/equals-ignore-case")


def _string(arg: Any, where: str, name: str) -> str:
    if not isinstance(arg, str):
        raise InvalidPattern(f"{where}: {name} match pattern must be a string")
    return arg


def _anything_but(arg: Any, where: str) -> ValueTest:
    if isinstance(arg, dict):                      # prefix / suffix / ignore case / wildcard
        if len(arg) != 1:
            raise InvalidPattern(f"{where}: anything-but takes exactly one nested operator")
        (name, inner), = arg.items()
        if name not in ("prefix", "suffix", "equals-ignore-case", "wildcard"):
            raise InvalidPattern(f"{where}: unsupported anything-but pattern {name!r}")
        items = inner if isinstance(inner, list) else [inner]
        if not items or not all(isinstance(item, str) for item in items):
            raise InvalidPattern(
                f"{where}: anything-but/{name} takes a string or a non-empty list of strings")
        excluded: list[ValueTest]
        if name in ("prefix", "suffix"):
            if any(item == "" for item in items):
                raise InvalidPattern(f"{where}: empty prefix/suffix not allowed in anything-but")
            method = str.startswith if name == "prefix" else str.endswith
            excluded = [lambda v, s=s: isinstance(v, str) and method(v, s) for s in items]
        elif name == "equals-ignore-case":
            lowered = {item.lower() for item in items}
            excluded = [lambda v: isinstance(v, str) and v.lower() in lowered]
        else:
            excluded = [_wildcard(item, where) for item in items]
        return lambda v: not any(test(v) for test in excluded)
    items = arg if isinstance(arg, list) else [arg]
    if not items:
        raise InvalidPattern(f"{where}: anything-but list must not be empty")
    if all(isinstance(item, str) for item in items):
        strings = set(items)
        return lambda v: not (isinstance(v, str) and v in strings)
    if all(_is_number(item) for item in items):
        numbers = {_pattern_number(item, where, "anything-but") for item in items}
        return lambda v: _num(v) not in numbers
    if isinstance(arg, list):
        raise InvalidPattern(f"{where}: inside an anything-but list, all values must be "
                             "strings or all numbers (no mixed types, null or booleans)")
    raise InvalidPattern(f"{where}: value of anything-but must be a string, a number, "
                         "an array of them, or an object (prefix, suffix, "
                         "equals-ignore-case, wildcard)")


def _numeric(arg: Any, where: str) -> ValueTest:
    if not isinstance(arg, list) or len(arg) not in (2, 4):
        raise InvalidPattern(f"{where}: numeric takes [op, number] or "
                             "[lower-op, number, upper-op, number]")
    ops, bounds = arg[0::2], arg[1::2]
    for op in ops:
        if not isinstance(op, str) or op not in ("=", *_LOWER, *_UPPER):
            raise InvalidPattern(f"{where}: unrecognized numeric operator {op!r}")
    numbers = [_pattern_number(b, where, f"value of {op}") for op, b in zip(ops, bounds)]
    if len(arg) == 2:
        op, bound = ops[0], numbers[0]
        compare = operator.eq if op == "=" else _LOWER.get(op) or _UPPER[op]
        return lambda v: (d := _num(v)) is not None and compare(d, bound)
    (low_op, high_op), (low, high) = ops, numbers
    if low_op not in _LOWER or high_op not in _UPPER:
        raise InvalidPattern(f"{where}: a numeric range is [\">\" or \">=\", low, "
                             f"\"<\" or \"<=\", high], got {low_op!r} then {high_op!r}")
    if not low < high:
        raise InvalidPattern(f"{where}: numeric range bottom must be less than top")
    above, below = _LOWER[low_op], _UPPER[high_op]
    return lambda v: (d := _num(v)) is not None and above(d, low) and below(d, high)


def _cidr(arg: Any, where: str) -> ValueTest:
    text = _string(arg, where, "cidr")
    address, slash, bits = text.partition("/")
    if not slash or not bits.isdigit():
        raise InvalidPattern(f"{where}: malformed CIDR {text!r}, expected address/bits")
    try:
        network = ipaddress.ip_network(f"{address}/{int(bits)}", strict=False)
    except ValueError as exc:
        raise InvalidPattern(f"{where}: invalid CIDR {text!r}: {exc}") from None

    def test(v: Any) -> bool:
        if not isinstance(v, str):
            return False
        try:
            ip = ipaddress.ip_address(v)
        except ValueError:
            return False
        return ip.version == network.version and ip in network
    return test


def _wildcard(text: str, where: str) -> ValueTest:
    """`*` matches any run of characters (including none); `\\*` is a literal asterisk,
    `\\\\` a literal backslash; any other escape and consecutive `**` are invalid."""
    segments, current, i = [], [], 0
    while i < len(text):
        char = text[i]
        if char == "*":
            if text[i + 1:i + 2] == "*":
                raise InvalidPattern(f"{where}: consecutive wildcard characters at pos {i}")
            segments.append("".join(current))
            current = []
        elif char == "\\":
            if text[i + 1:i + 2] not in ("*", "\\"):
                raise InvalidPattern(f"{where}: invalid escape character at pos {i}")
            current.append(text[i + 1])
            i += 1
        else:
            current.append(char)
        i += 1
    segments.append("".join(current))
    if len(segments) == 1:
        literal = segments[0]
        return lambda v: isinstance(v, str) and v == literal
    head, middle, tail = segments[0], segments[1:-1], segments[-1]

    def test(v: Any) -> bool:
        if not isinstance(v, str) or len(v) < len(head) + len(tail):
            return False
        if not (v.startswith(head) and v.endswith(tail)):
            return False
        pos, end = len(head), len(v) - len(tail)
        for segment in middle:                     # leftmost greedy placement is optimal
            found = v.find(segment, pos, end)
            if found < 0:
                return False
            pos = found + len(segment)
        return True
    return test


# ---------------------------------------------------------------- numbers

def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _num(value: Any) -> Decimal | None:
    """An event value as a Decimal, or None if it is not a (finite) JSON number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    return None


def _pattern_number(value: Any, where: str, what: str) -> Decimal:
    number = _num(value) if _is_number(value) else None
    if number is None:
        raise InvalidPattern(f"{where}: {what} must be a finite number, got {value!r}")
    return number


def _at(path: str) -> str:
    return f"{path}: " if path else ""


# ---------------------------------------------------------------- SNS filter policies

def compile_sns_policy(policy: dict | str | None,
                       scope: str = "MessageAttributes") -> Pattern | None:
    """Validate and compile an SNS FilterPolicy for a FilterPolicyScope. None, "" and {}
    mean "no policy" and give None (deliver everything). With MessageAttributes the policy
    must be flat (only "$or" may hold objects): SNS rejects nested attribute policies."""
    if scope not in SNS_SCOPES:
        raise InvalidPattern(f"FilterPolicyScope must be one of {', '.join(SNS_SCOPES)}")
    if policy is None or (isinstance(policy, str) and not policy.strip()):
        return None
    data = _load_json(policy, "FilterPolicy") if isinstance(policy, str) else policy
    if data == {}:
        return None
    compiled = _compile_data(data)
    if scope == "MessageAttributes":
        _check_flat(data)
    return compiled


def _check_flat(policy: dict) -> None:
    for key, value in policy.items():
        if key == "$or":
            for branch in value:
                _check_flat(branch)
        elif isinstance(value, dict):
            raise InvalidPattern(f"{key}: nested filter policies need "
                                 "FilterPolicyScope MessageBody")


def sns_attributes_to_event(message_attributes: dict | None) -> dict:
    """SNS message attributes as the event a policy is matched against. Accepts both the
    notification form {"Type", "Value"} and the API form {"DataType", "StringValue"}.
    String.Array values are decoded (matched element-wise), Number values become decimals,
    Binary attributes are left out (SNS never compares them)."""
    event: dict[str, Any] = {}
    for name, attribute in (message_attributes or {}).items():
        if not isinstance(attribute, dict):
            event[name] = attribute
            continue
        kind = str(attribute.get("Type") or attribute.get("DataType") or "String")
        raw = attribute.get("Value", attribute.get("StringValue"))
        if raw is None or kind.split(".", 1)[0] == "Binary":
            continue
        if kind == "String.Array":
            try:
                decoded = json.loads(raw, parse_float=Decimal) if isinstance(raw, str) else raw
            except ValueError:
                decoded = raw
            event[name] = decoded
        elif kind.split(".", 1)[0] == "Number" and isinstance(raw, str):
            try:
                event[name] = Decimal(raw.strip())
            except InvalidOperation:
                event[name] = raw
        else:
            event[name] = raw
    return event


def sns_policy_matches(policy: dict | str | Pattern | None, message_attributes: dict | None,
                       body: str | None, scope: str = "MessageAttributes") -> bool:
    """Does an SNS message pass a subscription's filter policy? Raises InvalidPattern for a
    malformed policy (validate with compile_sns_policy when the policy is set)."""
    if scope not in SNS_SCOPES:
        raise InvalidPattern(f"FilterPolicyScope must be one of {', '.join(SNS_SCOPES)}")
    compiled = policy if isinstance(policy, Pattern) else compile_sns_policy(policy, scope)
    if compiled is None:
        return True
    if scope == "MessageBody":
        try:
            document = json.loads(body, parse_float=Decimal) if body is not None else None
        except ValueError:
            return False
        return isinstance(document, dict) and compiled.matches(document)
    return compiled.matches(sns_attributes_to_event(message_attributes))
