"""Policy documents: parsed and validated once into `Policy`, so that evaluation never touches
JSON again (IAM JSON policy elements reference; the grammar: IAM JSON policy grammar).

Two kinds: an identity policy (attached to a user, group or role; also a permissions boundary
or a session policy) must not name a principal; a resource policy (a bucket, queue or key
policy, a role's trust policy) must. A document AWS would refuse raises `MalformedPolicy` with
AWS's message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import errors
from .conditions import Condition, parse_conditions
from .errors import MalformedPolicy
from .principals import (
    AWS,
    DIRECT,
    NONE,
    PRINCIPAL_KINDS,
    Caller,
    Principals,
    match,
    not_principal_excludes,
)
from .variables import Template, parse_template
from .wildcard import Parts, action_regex, compiled, has_wildcard, resource_source

IDENTITY, RESOURCE = "identity", "resource"
VERSIONS = ("2012-10-17", "2008-10-17")
_TOP_FIELDS = {"Version", "Id", "Statement"}
_STATEMENT_FIELDS = {
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
}
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ROOT_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):root$")


@dataclass(frozen=True, slots=True)
class ActionMatch:
    """Action or NotAction: exact names (lower-cased) in a set, wildcard patterns in one regex."""

    names: frozenset[str]
    pattern: Any  # re.Pattern | None
    everything: bool

    def matches(self, action: str) -> bool:  # `action` lower-cased
        if self.everything or action in self.names:
            return True
        return self.pattern is not None and self.pattern.fullmatch(action) is not None


@dataclass(frozen=True, slots=True)
class ResourceMatch:
    """Resource or NotResource: plain ARNs in a set, wildcard patterns in one regex, patterns
    with policy variables kept as templates and filled per request."""

    arns: frozenset[str]
    pattern: Any  # re.Pattern | None
    everything: bool
    templates: tuple[Template, ...]

    def matches(self, resource: str, keys: Mapping[str, Any]) -> bool:
        if self.everything or resource in self.arns:
            return True
        if self.pattern is not None and self.pattern.fullmatch(resource) is not None:
            return True
        for template in self.templates:
            parts: Parts | None = template.fill(keys)
            if parts is not None and compiled(resource_source(parts)).fullmatch(resource) is not None:
                return True
        return False


@dataclass(frozen=True, slots=True)
class Statement:
    index: int  # position in its policy, from 0
    sid: str | None
    effect: str  # "Allow" or "Deny"
    actions: ActionMatch
    not_action: bool
    resources: ResourceMatch | None  # None: a resource policy without Resource (its own resource)
    not_resource: bool
    principals: Principals | None  # None in identity policies
    not_principal: bool
    conditions: tuple[Condition, ...]
    source: Mapping[str, Any] = field(compare=False, repr=False)

    @property
    def is_deny(self) -> bool:
        return self.effect == "Deny"

    def matches_request(self, action: str, resource: str, keys: Mapping[str, Any]) -> bool:
        """Action, resource and conditions (not the principal): whether this statement applies."""
        if self.actions.matches(action) == self.not_action:
            return False
        if self.resources is not None and self.resources.matches(resource, keys) == self.not_resource:
            return False
        for condition in self.conditions:
            if not condition.holds(keys):
                return False
        return True

    def principal_match(self, caller: Caller) -> int:
        """How this statement's Principal/NotPrincipal names the caller (principals.NONE ..
        DIRECT); everyone, for statements of identity policies."""
        if self.principals is None:
            return DIRECT
        if self.not_principal:
            return NONE if not_principal_excludes(self.principals, caller) else DIRECT
        return match(self.principals, caller)


@dataclass(frozen=True, slots=True, eq=False)
class Policy:
    """A parsed policy document. Compared and hashed by identity: a changed policy is a new
    `Policy`, which is what keeps the decision cache right."""

    kind: str  # IDENTITY or RESOURCE
    version: str
    id: str | None
    statements: tuple[Statement, ...]
    referenced_keys: frozenset[str]  # context keys its conditions and variables read

    @property
    def has_not_principal_deny(self) -> bool:
        return any(s.not_principal and s.is_deny for s in self.statements)


def parse_policy(document: str | bytes | Mapping[str, Any], kind: str = IDENTITY) -> Policy:
    """Parse and validate a policy document (JSON text or an already decoded dict)."""
    if kind not in (IDENTITY, RESOURCE):
        raise ValueError(f"kind must be {IDENTITY!r} or {RESOURCE!r}, not {kind!r}")
    if isinstance(document, (str, bytes)):
        try:
            data = json.loads(document)
        except ValueError:
            raise MalformedPolicy(errors.SYNTAX) from None
    else:
        data = document
    if not isinstance(data, Mapping) or set(data) - _TOP_FIELDS:
        raise MalformedPolicy(errors.SYNTAX)
    # No Version means the original policy language; its variables are plain text.
    version = data.get("Version", "2008-10-17")
    if version not in VERSIONS:
        raise MalformedPolicy(errors.SYNTAX)
    policy_id = data.get("Id")
    if policy_id is not None and not isinstance(policy_id, str):
        raise MalformedPolicy(errors.SYNTAX)
    if "Statement" not in data:
        raise MalformedPolicy(errors.SYNTAX)
    raw = data["Statement"]
    items = raw if isinstance(raw, list) else [raw]
    substitute = version == "2012-10-17"
    statements = []
    sids: set[str] = set()
    for index, item in enumerate(items):
        statement = _statement(index, item, kind, substitute)
        if statement.sid:
            if statement.sid in sids:
                raise MalformedPolicy(errors.DUPLICATE_SID)
            sids.add(statement.sid)
        statements.append(statement)
    referenced: set[str] = set()
    for statement in statements:
        for condition in statement.conditions:
            referenced |= condition.referenced_keys
        if statement.resources is not None:
            for template in statement.resources.templates:
                referenced |= template.keys
    return Policy(kind, version, policy_id, tuple(statements), frozenset(referenced))


def _strings(value: object) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) for item in items):
        raise MalformedPolicy(errors.SYNTAX)
    return [item for item in items if isinstance(item, str)]


def _statement(index: int, item: object, kind: str, substitute: bool) -> Statement:
    if not isinstance(item, Mapping) or set(item) - _STATEMENT_FIELDS:
        raise MalformedPolicy(errors.SYNTAX)
    sid = item.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise MalformedPolicy(errors.SYNTAX)
    has_principal = "Principal" in item or "NotPrincipal" in item
    if kind == IDENTITY and has_principal:
        raise MalformedPolicy(errors.NO_PRINCIPAL_ALLOWED)
    if kind == RESOURCE and not has_principal:
        raise MalformedPolicy(errors.MISSING_PRINCIPAL)
    if "Effect" not in item:
        raise MalformedPolicy(errors.MISSING_EFFECT)
    effect = item["Effect"]
    if effect not in ("Allow", "Deny"):
        raise MalformedPolicy(errors.SYNTAX)
    if ("Action" in item) == ("NotAction" in item):
        raise MalformedPolicy(errors.SYNTAX if "Action" in item else errors.MISSING_ACTIONS)
    not_action = "NotAction" in item
    actions = _actions(_strings(item["NotAction" if not_action else "Action"]))
    if "Resource" in item and "NotResource" in item:
        raise MalformedPolicy(errors.SYNTAX)
    not_resource = "NotResource" in item
    resources: ResourceMatch | None = None
    if "Resource" in item or not_resource:
        resources = _resources(_strings(item["NotResource" if not_resource else "Resource"]), substitute)
    elif kind == IDENTITY:
        raise MalformedPolicy(errors.MISSING_RESOURCES)
    if "Principal" in item and "NotPrincipal" in item:
        raise MalformedPolicy(errors.SYNTAX)
    not_principal = "NotPrincipal" in item
    principals = _principals(item["NotPrincipal" if not_principal else "Principal"]) if has_principal else None
    conditions = parse_conditions(item["Condition"], substitute) if "Condition" in item else ()
    return Statement(
        index, sid, effect, actions, not_action, resources, not_resource, principals, not_principal, conditions, item
    )


def _actions(values: list[str]) -> ActionMatch:
    names: set[str] = set()
    patterns: list[str] = []
    everything = False
    for value in values:
        if value == "*":
            everything = True
            continue
        colons = value.count(":")
        if colons == 0:
            raise MalformedPolicy(errors.ACTION_VENDOR)
        if colons > 1:
            raise MalformedPolicy(errors.ACTION_COLONS)
        if has_wildcard(value):
            patterns.append(value)
        else:
            names.add(value.lower())
    return ActionMatch(frozenset(names), action_regex(patterns) if patterns else None, everything)


def _resources(values: list[str], substitute: bool) -> ResourceMatch:
    arns: set[str] = set()
    sources: list[str] = []
    templates: list[Template] = []
    everything = False
    for value in values:
        if value == "*":
            everything = True
            continue
        if not value.startswith("arn:") and value[:1] != "*":
            raise MalformedPolicy(errors.invalid_resource(value))
        template = parse_template(value) if substitute else None
        if template is not None:
            templates.append(template)
        elif has_wildcard(value):
            sources.append(resource_source([(value, True)]))
        else:
            arns.add(value)
    pattern = compiled("|".join(f"(?:{s})" for s in sources)) if sources else None
    return ResourceMatch(frozenset(arns), pattern, everything, tuple(templates))


def _principals(value: object) -> Principals:
    if value == "*":
        return Principals(True, frozenset(), frozenset(), frozenset())
    if not isinstance(value, Mapping) or not value:
        raise MalformedPolicy(errors.SYNTAX)
    everyone = False
    accounts: set[str] = set()
    arns: set[str] = set()
    others: set[tuple[str, str]] = set()
    for principal_kind, raw in value.items():
        if principal_kind not in PRINCIPAL_KINDS:
            raise MalformedPolicy(errors.SYNTAX)
        for entry in _strings(raw):
            if principal_kind != AWS:
                if entry == "*":
                    everyone = True
                else:
                    others.add((principal_kind, entry))
                continue
            root = _ROOT_ARN.match(entry)
            if entry == "*":
                everyone = True
            elif _ACCOUNT_ID.match(entry):
                accounts.add(entry)
            elif root:
                accounts.add(root.group(1))
            elif entry.startswith("arn:") and ":" in entry[4:] and not has_wildcard(entry):
                arns.add(entry)
            else:
                # "You cannot use a wildcard to match part of a principal name or ARN."
                raise MalformedPolicy(errors.invalid_principal(principal_kind, entry))
    return Principals(everyone, frozenset(accounts), frozenset(arns), frozenset(others))


__all__ = ["IDENTITY", "RESOURCE", "Policy", "Statement", "parse_policy"]
