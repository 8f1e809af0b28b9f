"""SNS subscription filter policies: the pattern language with SNS's own rules.

* Scope MessageAttributes (the default) matches the message attributes, and the policy must
  be flat (only "$or" may hold objects); scope MessageBody matches the message as a JSON
  object and may nest. A body that is not a JSON object matches no policy.
* A policy may have at most 5 top-level keys and at most 150 "combinations": the product of
  the lengths of its value lists, each multiplied by its nesting depth ("$or" adds up its
  branches), as the SNS documentation computes it (key_a.key_b.key_c with 4 values and
  key_d.key_e with 3 make 3 x 4 x 2 x 3 = 72).
* Operators: no wildcard; prefix and suffix take plain strings; anything-but takes strings,
  numbers and {"prefix": ...} only. There is no "between": ranges are
  {"numeric": [">", low, "<=", high]}.
* None, "" and {} mean "no policy": every message is delivered.

Attributes become the event a policy sees: String as a string, Number as a number (so
"price": [210.75] matches the Number attribute "210.75" and the string "210.75" does not),
String.Array (and Number.Array) as an array matched element by element, Binary never.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from .compiler import Pattern, compile_data, load_json
from .errors import InvalidPattern
from .operators import SNS

SNS_SCOPES = ("MessageAttributes", "MessageBody")
MAX_KEYS = 5
MAX_COMBINATIONS = 150


def compile_sns_policy(policy: dict | str | None, scope: str = "MessageAttributes") -> Pattern | None:
    """Validate and compile a FilterPolicy for a FilterPolicyScope; None for "no policy"."""
    _check_scope(scope)
    if policy is None or (isinstance(policy, str) and not policy.strip()):
        return None
    data = load_json(policy, "FilterPolicy") if isinstance(policy, str) else policy
    if data == {}:
        return None
    if isinstance(data, dict):
        if len(data) > MAX_KEYS:
            raise InvalidPattern(f"Filter policy can not have more than {MAX_KEYS} keys")
        if scope == "MessageAttributes" and _nested(data):
            raise InvalidPattern("Filter policy scope MessageAttributes does not support nested filter policy")
        if _combinations(data) > MAX_COMBINATIONS:
            raise InvalidPattern("Filter policy is too complex")
    return compile_data(data, SNS)


def sns_policy_matches(
    policy: dict | str | Pattern | None,
    message_attributes: dict | None,
    body: str | None,
    scope: str = "MessageAttributes",
) -> bool:
    """Does an SNS message pass a subscription's filter policy? Raises InvalidPattern for a
    malformed policy (validate with compile_sns_policy when the policy is set)."""
    _check_scope(scope)
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


def sns_attributes_to_event(message_attributes: dict | None) -> dict:
    """SNS message attributes as the event a policy is matched against. Takes the
    notification form {"Type", "Value"} and the API form {"DataType", "StringValue"}."""
    event: dict[str, Any] = {}
    for name, attribute in (message_attributes or {}).items():
        if not isinstance(attribute, dict):
            event[name] = attribute
            continue
        kind = str(attribute.get("Type") or attribute.get("DataType") or "String")
        raw = attribute.get("Value", attribute.get("StringValue"))
        base = kind.split(".", 1)[0]
        if raw is None or base == "Binary":
            continue
        if kind.endswith(".Array"):
            try:
                event[name] = json.loads(raw, parse_float=Decimal) if isinstance(raw, str) else raw
            except ValueError:
                event[name] = raw
        elif base == "Number" and isinstance(raw, str):
            try:
                event[name] = Decimal(raw.strip())
            except InvalidOperation:
                event[name] = raw
        else:
            event[name] = raw
    return event


def _check_scope(scope: str) -> None:
    if scope not in SNS_SCOPES:
        raise InvalidPattern(f"FilterPolicyScope must be one of {', '.join(SNS_SCOPES)}")


def _nested(policy: dict) -> bool:
    """Does a policy nest objects anywhere outside "$or"?"""
    for key, value in policy.items():
        if key == "$or" and isinstance(value, list):
            if any(isinstance(branch, dict) and _nested(branch) for branch in value):
                return True
        elif isinstance(value, dict):
            return True
    return False


def _combinations(policy: dict, depth: int = 1, combinations: int = 1) -> int:
    for key, value in policy.items():
        if isinstance(value, dict):
            combinations = _combinations(value, depth + 1, combinations)
        elif isinstance(value, list):
            if key == "$or":
                combinations = sum(
                    _combinations(branch, depth, combinations) for branch in value if isinstance(branch, dict)
                )
            else:
                combinations *= len(value) * depth
    return combinations
