"""Lamina's policy evaluator against an independent one: @cloud-copilot/iam-simulate (npm,
pinned in tests/oracle/package-lock.json), on a seeded random corpus and on AWS's documented
examples. Any disagreement fails, printing the case and both answers.

The oracle runs once, as one Node process for every case (tests/oracle/simulate.mjs). It does
not derive context keys from the request, so the corpus hands it the keys AWS documents for
the principal and the resource (global condition context keys); Lamina derives its own, so a
wrong derivation shows up as a disagreement. Where the oracle models AWS differently, those
cases are left out of the comparison by `oracle_differs`, each with the documentation that
settles it.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any

import pytest

from lamina.policy import EXPLICIT_DENY, RESOURCE, PolicySet, RequestContext, evaluate, parse_policy

ORACLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "oracle")
SEED = 20240615
CORPUS_SIZE = 1500
CONDITION_CASES = 1000

A = "111122223333"  # the resources' account
B = "444455556666"  # another account
NOW = "2024-06-15T12:00:00Z"
NOW_EPOCH = "1718452800"

ALLOWED, IMPLICIT, EXPLICIT = "Allowed", "ImplicitlyDenied", "ExplicitlyDenied"


# --- principals ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Principal:
    """A caller: `arn` as AWS shows it, `kind` user | session | root | service; `role` the
    role ARN behind a session."""

    arn: str
    kind: str
    account: str | None
    role: str | None = None

    @property
    def username(self) -> str | None:
        return self.arn.rsplit("/", 1)[-1] if self.kind == "user" else None


ALICE = Principal(f"arn:aws:iam::{A}:user/alice", "user", A)
BOB = Principal(f"arn:aws:iam::{A}:user/eng/bob", "user", A)
WORKER = Principal(f"arn:aws:sts::{A}:assumed-role/Worker/w-1", "session", A, f"arn:aws:iam::{A}:role/Worker")
CAROL = Principal(f"arn:aws:iam::{B}:user/carol", "user", B)
REMOTE = Principal(f"arn:aws:sts::{B}:assumed-role/Remote/r-1", "session", B, f"arn:aws:iam::{B}:role/Remote")
ROOT_A = Principal(f"arn:aws:iam::{A}:root", "root", A)
ROOT_B = Principal(f"arn:aws:iam::{B}:root", "root", B)
SNS = Principal("sns.amazonaws.com", "service", None)
PRINCIPALS = [ALICE, ALICE, BOB, WORKER, WORKER, CAROL, REMOTE, REMOTE, ROOT_A, ROOT_B, SNS]


def derived_keys(principal: Principal, resource_account: str) -> dict[str, Any]:
    """The keys AWS puts in every request's context for this principal and resource (IAM User
    Guide, "AWS global condition context keys"): aws:PrincipalArn is the role's ARN for a role
    session, aws:username only for IAM users, aws:PrincipalType User / AssumedRole / Account."""
    keys: dict[str, Any] = {"aws:ResourceAccount": resource_account}
    if principal.kind == "service":
        return keys
    keys["aws:PrincipalArn"] = principal.role or principal.arn
    keys["aws:PrincipalAccount"] = principal.account
    keys["aws:PrincipalType"] = {"user": "User", "session": "AssumedRole", "root": "Account"}[principal.kind]
    if principal.username:
        keys["aws:username"] = principal.username
    return keys


# --- the cases -------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    principal: Principal
    action: str
    resource: str
    resource_account: str
    identity: list[dict[str, Any]] = field(default_factory=list)
    resource_policy: dict[str, Any] | None = None
    boundary: dict[str, Any] | None = None
    session: dict[str, Any] | None = None
    principal_tags: dict[str, str] = field(default_factory=dict)
    resource_tags: dict[str, str] = field(default_factory=dict)
    request_tags: dict[str, str] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)  # keys the caller supplies
    expected: str | None = None  # for the documented examples

    def oracle_input(self) -> dict[str, Any]:
        context = {**derived_keys(self.principal, self.resource_account), **self.context}
        context.update({f"aws:PrincipalTag/{k}": v for k, v in self.principal_tags.items()})
        context.update({f"aws:ResourceTag/{k}": v for k, v in self.resource_tags.items()})
        context.update({f"aws:RequestTag/{k}": v for k, v in self.request_tags.items()})
        if self.request_tags:
            context["aws:TagKeys"] = list(self.request_tags)
        identity = self.identity
        if self.principal.kind == "root":
            # The root user has every permission in its own account without any policy (and
            # can have none attached); the oracle knows no root user, so give it an Allow-all.
            identity = [doc({"Effect": "Allow", "Action": "*", "Resource": "*"})]
        return {
            "principal": self.principal.arn,
            "action": self.action,
            "resource": self.resource,
            "resourceAccount": self.resource_account,
            "context": context,
            "identity": identity,
            "resourcePolicy": self.resource_policy,
            "boundary": self.boundary,
            "session": self.session,
        }

    def describe(self) -> str:
        return json.dumps(
            {
                "name": self.name,
                "principal": self.principal.arn,
                "action": self.action,
                "resource": self.resource,
                "resource_account": self.resource_account,
                "identity": self.identity,
                "resource_policy": self.resource_policy,
                "boundary": self.boundary,
                "session": self.session,
                "principal_tags": self.principal_tags,
                "resource_tags": self.resource_tags,
                "request_tags": self.request_tags,
                "context": self.context,
            },
            indent=1,
        )


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def lamina_decision(case: Case) -> str:
    principal = case.principal
    request = RequestContext(
        principal_arn=principal.arn,
        action=case.action,
        resource=case.resource,
        resource_account=case.resource_account,
        principal_type="Service" if principal.kind == "service" else "AWS",
        principal_tags=case.principal_tags,
        resource_tags=case.resource_tags,
        request_tags=case.request_tags,
        context_keys=case.context,
    )
    policies = PolicySet(
        identity=[parse_policy(d) for d in case.identity],
        resource=parse_policy(case.resource_policy, kind=RESOURCE) if case.resource_policy else None,
        boundary=parse_policy(case.boundary) if case.boundary else None,
        session=[parse_policy(case.session)] if case.session else (),
        # A role's trust policy must allow AssumeRole even within its account.
        resource_policy_required=case.action == "sts:AssumeRole",
    )
    decision = evaluate(request, policies)
    if decision.allowed:
        return ALLOWED
    return EXPLICIT if decision.reason == EXPLICIT_DENY else IMPLICIT


# --- where the oracle models AWS differently -------------------------------------------------


def oracle_differs(case: Case) -> str | None:
    """Why the oracle's answer for this case is not AWS's, or None when it should be."""
    principal, policy = case.principal, case.resource_policy
    if policy and principal.kind != "service" and case.boundary is None:
        # NotPrincipal: the oracle leaves out of a Deny every principal one of whose
        # identities is listed, so listing an account spares all of its users and roles. AWS:
        # "all principals *except* the user named Bob in AWS account 444455556666 are
        # explicitly denied" for a NotPrincipal listing Bob *and* the account, and AWS checks
        # "the account first, then the role, and then the assumed-role user" -- a caller is
        # spared only when each of those is listed (IAM JSON policy elements: NotPrincipal).
        # (With a permissions boundary both deny everyone: no difference to skip.)
        for statement in statements(policy):
            if "NotPrincipal" in statement:
                listed = aws_names(statement["NotPrincipal"])
                if spared_by_oracle(listed, principal) != spared_by_aws(listed, principal):
                    return "NotPrincipal listing only some of the caller's identities"
    if case.session and principal.kind == "session" and principal.account == case.resource_account:
        # Session policies: "A resource-based policy can specify the ARN of the session as a
        # principal. [...] The resource-based policy permissions are not limited by the
        # session policy." (IAM User Guide, Policies and permissions, "Session policies".) The
        # oracle lets any session policy's implicit deny stand (its README lists session
        # policies as "coming soon"). Lamina reads a Principal of everyone as naming the
        # session too, as both evaluators do for permissions boundaries.
        for statement in statements(policy):
            named = aws_names(statement.get("Principal", {}))
            if statement["Effect"] == "Allow" and ({"*", principal.arn} & named):
                return "resource policy naming the session itself, with a session policy"
    for document in (*case.identity, policy, case.boundary, case.session):
        for statement in statements(document):
            for operator, tests in statement.get("Condition", {}).items():
                values = [v for vs in tests.values() for v in as_list(vs)]
                if "IpAddress" in operator and any(str(v).endswith("/0") for v in values):
                    # A /0 block holds every address (IAM JSON policy elements: Condition
                    # operators, "IP address condition operators": "a standard CIDR format
                    # (RFC 4632)"); the oracle computes the /0 mask as `-1 << 32`, which is -1
                    # in JavaScript, so it matches only the block's own address.
                    return "IpAddress with a /0 block"
    present = {key.lower() for key in case.oracle_input()["context"]}
    for document in (*case.identity, policy, case.boundary, case.session):
        for statement in statements(document):
            for operator, tests in statement.get("Condition", {}).items():
                base = operator.split(":")[-1].lower()
                values = [str(v) for vs in tests.values() for v in as_list(vs)]
                if base.startswith(("stringnot", "arnnot")) and any(
                    name.lower() not in present
                    for value in values
                    for name in re.findall(r"\$\{([^},]+)\}", value)  # no default
                ):
                    # Policy variables with no value: "Inverted condition operators like
                    # StringNotEquals or StringNotLike do match against a null value" (IAM
                    # policy elements: Variables and tags); the oracle has such a condition
                    # never match, whatever the operator.
                    return "inverted operator against a policy variable with no value"
    missing = {"aws:username"} - set(derived_keys(principal, case.resource_account))
    missing |= {"aws:principaltag/team"} - {f"aws:principaltag/{k}" for k in case.principal_tags}
    for document in (*case.identity, policy, case.boundary, case.session):
        for statement in statements(document):
            # A variable with no value in NotResource: AWS says "the resource that includes a
            # policy variable with no value will not match any resource" (for "the Resource
            # or NotResource element"; IAM policy elements: Variables and tags, "Policy
            # variables with no value"), so the NotResource entry excludes nothing and the
            # statement applies. The oracle treats the whole statement as not applying.
            for entry in as_list(statement.get("NotResource", [])):
                if any("${" + key in entry.lower() for key in missing):
                    return "NotResource with a policy variable that has no value"
    return None


def statements(document: dict[str, Any] | None) -> list[dict[str, Any]]:
    return list(as_list(document["Statement"])) if document else []


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def aws_names(element: Any) -> set[str]:
    """The AWS principals a Principal/NotPrincipal names, accounts as root ARNs."""
    names = as_list(element.get("AWS", [])) if isinstance(element, dict) else [element]
    names = [n for n in names if isinstance(n, str)]
    return {f"arn:aws:iam::{n}:root" if n.isdigit() else n for n in names}


def identities(principal: Principal) -> list[str]:
    """The account, the role and the session or user: what a request carries."""
    chain = [f"arn:aws:iam::{principal.account}:root"]
    if principal.role:
        chain.append(principal.role)
    if principal.kind != "root":
        chain.append(principal.arn)
    return chain


def spared_by_aws(listed: set[str], principal: Principal) -> bool:
    return "*" in listed or all(name in listed for name in identities(principal))


def spared_by_oracle(listed: set[str], principal: Principal) -> bool:
    return "*" in listed or any(name in listed for name in identities(principal))


# --- the generated corpus --------------------------------------------------------------------

QUEUE = f"arn:aws:sqs:us-east-1:{A}:orders"
DLQ = f"arn:aws:sqs:us-east-1:{A}:orders-dlq"
OBJECT = "arn:aws:s3:::reports/alice/q1.csv"
BOB_OBJECT = "arn:aws:s3:::reports/bob/q1.csv"
TABLE = f"arn:aws:dynamodb:us-east-1:{A}:table/Orders"
TARGETS = [
    ("sqs:SendMessage", QUEUE),
    ("sqs:ReceiveMessage", QUEUE),
    ("sqs:SendMessage", DLQ),
    ("s3:GetObject", OBJECT),
    ("s3:PutObject", BOB_OBJECT),
    ("dynamodb:GetItem", TABLE),
]

ACTIONS = [
    "*",
    "sqs:*",
    "sqs:Send*",
    "sqs:SendMessage",
    "SQS:sendmessage",
    "sqs:?eceiveMessage",
    ["sqs:SendMessage", "s3:GetObject"],
    "s3:Get*",
    "s3:*Object",
    "dynamodb:GetItem",
    "dynamodb:*",
    "sns:Publish",
]
RESOURCES = [
    "*",
    QUEUE,
    DLQ,
    f"arn:aws:sqs:*:{A}:*",
    f"arn:aws:sqs:us-east-1:{A}:orders*",
    f"arn:aws:sqs:us-east-1:{A}:order?",
    "arn:aws:s3:::reports/*",
    "arn:aws:s3:::reports/${aws:username}/*",
    "arn:aws:s3:::reports/${aws:PrincipalTag/team}/*",
    [OBJECT, TABLE],
    "arn:aws:dynamodb:*:*:table/*",
    f"arn:aws:sqs:us-east-1:{B}:*",
]

IPS = ["10.1.2.3", "192.0.2.10", "203.0.113.7", "2001:db8::1"]
SOURCE_ARNS = [f"arn:aws:sns:us-east-1:{A}:alerts", f"arn:aws:sns:eu-west-1:{B}:alerts", "arn:aws:s3:::reports"]
TEAMS = ["blue", "Blue", "red", "alice"]


def random_condition(rng: random.Random) -> dict[str, Any]:
    """One Condition block of one to two operators over the global keys the corpus sets."""
    templates: list[tuple[str, str, Any]] = [
        ("StringEquals", "aws:RequestedRegion", rng.choice(["us-east-1", ["us-east-1", "eu-west-1"], "eu-west-1"])),
        ("StringNotEquals", "aws:RequestedRegion", "eu-west-1"),
        ("StringEqualsIgnoreCase", "aws:PrincipalTag/team", "BLUE"),
        ("StringNotEqualsIgnoreCase", "aws:PrincipalTag/team", "blue"),
        ("StringEquals", "aws:PrincipalTag/team", rng.choice(["blue", "${aws:ResourceTag/team}"])),
        ("StringEquals", "aws:ResourceTag/owner", rng.choice(["${aws:username}", "alice", "${aws:PrincipalTag/team}"])),
        ("StringLike", "aws:SourceArn", rng.choice([f"arn:aws:sns:*:{A}:*", "arn:aws:sns:*", "*:alerts"])),
        ("StringNotLike", "aws:SourceArn", f"arn:aws:sns:*:{B}:*"),
        ("StringLike", "aws:PrincipalArn", rng.choice([f"arn:aws:iam::{A}:user/*", "arn:aws:iam::*:role/Work?r"])),
        ("StringEquals", "aws:SourceAccount", rng.choice([A, B])),
        ("StringEquals", "aws:PrincipalAccount", rng.choice([A, B])),
        ("StringEquals", "aws:ResourceAccount", "${aws:PrincipalAccount}"),
        ("StringEquals", "aws:PrincipalType", rng.choice(["User", "AssumedRole"])),
        ("StringEquals", "aws:username", rng.choice(["alice", "bob"])),
        ("NumericLessThan", "aws:MultiFactorAuthAge", rng.choice(["3600", "60"])),
        ("NumericGreaterThanEquals", "aws:MultiFactorAuthAge", "30"),
        ("NumericEquals", "aws:MultiFactorAuthAge", "30"),
        ("NumericNotEquals", "aws:MultiFactorAuthAge", ["30", "60"]),
        ("DateGreaterThan", "aws:CurrentTime", rng.choice(["2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"])),
        ("DateLessThan", "aws:CurrentTime", rng.choice(["2024-06-15T12:00:01Z", "2024-06-15"])),
        ("DateLessThanEquals", "aws:EpochTime", rng.choice([NOW_EPOCH, "1700000000"])),
        ("DateEquals", "aws:CurrentTime", NOW),
        ("DateNotEquals", "aws:CurrentTime", "2024-06-15T12:00:00+00:00"),
        ("Bool", "aws:SecureTransport", rng.choice(["true", "false"])),
        ("Bool", "aws:MultiFactorAuthPresent", "true"),
        ("IpAddress", "aws:SourceIp", rng.choice(["10.0.0.0/8", ["192.0.2.0/24", "203.0.113.7/32"], "2001:db8::/32"])),
        ("NotIpAddress", "aws:SourceIp", rng.choice(["10.0.0.0/8", "192.0.2.0/24"])),
        ("ArnEquals", "aws:SourceArn", rng.choice(SOURCE_ARNS)),
        ("ArnLike", "aws:SourceArn", rng.choice([f"arn:aws:sns:*:{A}:*", "arn:aws:s3:::*", "arn:aws:sns:*:*:al*"])),
        ("ArnNotEquals", "aws:PrincipalArn", f"arn:aws:iam::{A}:role/Worker"),
        ("ArnNotLike", "aws:SourceArn", f"arn:aws:sns:*:{A}:*"),
        ("ArnLike", "aws:PrincipalArn", f"arn:aws:iam::{A}:*"),
        (
            "Null",
            rng.choice(["aws:SourceIp", "aws:PrincipalTag/team", "aws:SourceArn", "aws:TagKeys"]),
            rng.choice(["true", "false"]),
        ),
        ("ForAnyValue:StringEquals", "aws:TagKeys", rng.choice([["env", "team"], "cost"])),
        ("ForAllValues:StringLike", "aws:TagKeys", rng.choice([["env*", "team"], "env"])),
        ("ForAllValues:StringEquals", "aws:TagKeys", ["env", "team", "cost"]),
        ("ForAnyValue:StringLike", "aws:TagKeys", "t*"),
        ("StringEquals", "aws:RequestTag/env", rng.choice(["prod", "dev"])),
        ("StringLike", "aws:PrincipalTag/team", rng.choice(["*lu*", "?ed", "${aws:username}", "B*"])),
        ("StringEquals", "aws:PrincipalTag/team", "${aws:PrincipalTag/missing, 'blue'}"),
        ("StringNotEquals", "aws:ResourceTag/owner", "${aws:username}"),
        ("StringNotLike", "aws:PrincipalTag/team", "${aws:username}*"),
        ("NumericLessThanEquals", "aws:MultiFactorAuthAge", rng.choice(["30.0", "7200", "29.9"])),
        ("NumericGreaterThan", "aws:MultiFactorAuthAge", rng.choice(["29", "-1"])),
        (
            "DateGreaterThanEquals",
            "aws:CurrentTime",
            rng.choice(["2024-06-15T12:00:00Z", NOW_EPOCH, "2024-06-15T13:00:00+01:00"]),
        ),
        ("DateLessThan", "aws:EpochTime", rng.choice(["2025-01-01T00:00:00Z", "1718452801"])),
        ("Bool", "aws:SecureTransport", rng.choice(["True", ["false", "true"]])),
        ("IpAddress", "aws:SourceIp", rng.choice(["10.1.2.3", "10.1.2.3/32", "0.0.0.0/0", "::/0", "203.0.113.0/25"])),
        ("NotIpAddress", "aws:SourceIp", ["10.0.0.0/8", "2001:db8::/32"]),
        ("ArnLike", "aws:SourceArn", rng.choice(["arn:aws:sns:*:*:*", "arn:aws:*:*:*:*", "arn:aws:sns:us-*:*:alerts"])),
        ("ArnEquals", "aws:PrincipalArn", rng.choice([WORKER.role, ALICE.arn, REMOTE.role])),
        ("ArnNotLike", "aws:PrincipalArn", "arn:aws:iam::*:user/*"),
        ("ForAnyValue:StringEquals", "aws:RequestedRegion", ["us-east-1"]),
        ("ForAllValues:StringEquals", "aws:PrincipalTag/team", ["blue", "red"]),
        ("ForAnyValue:StringNotEquals", "aws:TagKeys", "env"),
        ("ForAllValues:StringNotLike", "aws:TagKeys", "c*"),
        ("StringEquals", "aws:SourceAccount", "${aws:ResourceAccount}"),
        ("StringLike", "aws:SourceArn", "arn:aws:sns:*:${aws:PrincipalAccount}:*"),
    ]
    block: dict[str, dict[str, Any]] = {}
    for _ in range(rng.choice([1, 1, 2])):
        operator, key, values = rng.choice(templates)
        if rng.random() < 0.2 and not operator.startswith(("Null", "For")):
            operator += "IfExists"
        block.setdefault(operator, {})[key] = values
    return block


def near_actions(action: str) -> list[str]:
    """Patterns that match `action`, and some that just miss it."""
    service, name = action.split(":")
    return [
        action,
        action.lower(),
        f"{service}:*",
        "*",
        f"{service}:{name[:4]}*",
        f"{service}:?{name[1:]}",
        f"{service}:*{name[-3:]}",
        f"{service}:{name}s",
        f"{service}:{name[:-1]}",
    ]


def near_resources(resource: str) -> list[str]:
    """Patterns that match `resource`, and some that just miss it."""
    head, _, tail = resource.rpartition(":")
    cut = resource.rfind("/") if "/" in tail else len(head) + 1
    return [
        resource,
        "*",
        resource[:cut] + "*",
        resource[:-1] + "?",
        f"{head}:{tail.upper()}",
        resource + "x",
        head + ":*",
        resource.replace("111122223333", "*"),
        resource.replace("us-east-1", "eu-west-1"),
    ]


def random_statement(rng: random.Random, target: tuple[str, str] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": rng.choice(["Allow", "Allow", "Allow", "Deny"])}
    near = target is not None and rng.random() < 0.65
    action = rng.choice(near_actions(target[0]) if near and target else ACTIONS)
    statement["NotAction" if rng.random() < 0.12 else "Action"] = action
    near = target is not None and rng.random() < 0.65
    resource = rng.choice(near_resources(target[1]) if near and target else RESOURCES)
    statement["NotResource" if rng.random() < 0.1 else "Resource"] = resource
    if rng.random() < 0.45:
        statement["Condition"] = random_condition(rng)
    return statement


def random_identity(rng: random.Random, count: int, target: tuple[str, str]) -> dict[str, Any]:
    return doc(*(random_statement(rng, target) for _ in range(count)))


PRINCIPAL_ELEMENTS: list[Any] = [
    "*",
    {"AWS": "*"},
    {"AWS": A},
    {"AWS": f"arn:aws:iam::{A}:root"},
    {"AWS": B},
    {"AWS": ALICE.arn},
    {"AWS": BOB.arn},
    {"AWS": WORKER.role},
    {"AWS": WORKER.arn},
    {"AWS": CAROL.arn},
    {"AWS": REMOTE.role},
    {"AWS": REMOTE.arn},
    {"AWS": [ALICE.arn, CAROL.arn]},
    {"AWS": [f"arn:aws:iam::{B}:root", WORKER.role]},
    {"Service": "sns.amazonaws.com"},
]

NOT_PRINCIPALS: list[Any] = [
    {"AWS": [ALICE.arn, f"arn:aws:iam::{A}:root"]},
    {"AWS": [WORKER.arn, WORKER.role, f"arn:aws:iam::{A}:root"]},
    {"AWS": [CAROL.arn, f"arn:aws:iam::{B}:root"]},
    {"AWS": [REMOTE.arn, REMOTE.role, B]},
]


def random_resource_policy(rng: random.Random, target: tuple[str, str]) -> dict[str, Any]:
    statements = []
    for _ in range(rng.choice([1, 1, 2, 3])):
        statement = random_statement(rng, target)
        if statement["Effect"] == "Deny" and rng.random() < 0.3:
            statement["NotPrincipal"] = rng.choice(NOT_PRINCIPALS)
        else:
            statement["Principal"] = rng.choice(PRINCIPAL_ELEMENTS)
        statements.append(statement)
    return doc(*statements)


def random_case(rng: random.Random, index: int) -> Case:
    principal = rng.choice(PRINCIPALS)
    if rng.random() < 0.06:
        # AssumeRole: the role's trust policy is the resource policy.
        action, resource = "sts:AssumeRole", f"arn:aws:iam::{A}:role/Target"
    else:
        action, resource = rng.choice(TARGETS)
    case = Case(f"generated-{index}", principal, action, resource, A)
    if principal.kind in ("user", "session"):
        case.identity = [
            random_identity(rng, rng.choice([1, 2, 3]), (action, resource)) for _ in range(rng.choice([0, 1, 1, 2]))
        ]
        if rng.random() < 0.25:
            case.boundary = random_identity(rng, rng.choice([1, 2]), (action, resource))
        if principal.kind == "session" and rng.random() < 0.25:
            case.session = random_identity(rng, rng.choice([1, 2]), (action, resource))
    if action == "sts:AssumeRole" or rng.random() < (0.8 if principal.kind in ("root", "service") else 0.5):
        # Every role has a trust policy.
        case.resource_policy = random_resource_policy(rng, (action, resource))
    # The request's context: every key may be missing.
    context: dict[str, Any] = {"aws:CurrentTime": NOW, "aws:EpochTime": NOW_EPOCH}
    if rng.random() < 0.8:
        context["aws:SourceIp"] = rng.choice(IPS)
    if rng.random() < 0.8:
        context["aws:RequestedRegion"] = rng.choice(["us-east-1", "eu-west-1"])
    if rng.random() < 0.7:
        context["aws:SecureTransport"] = rng.choice(["true", "false"])
    if rng.random() < 0.4:
        context["aws:SourceArn"] = rng.choice(SOURCE_ARNS)
        context["aws:SourceAccount"] = context["aws:SourceArn"].split(":")[4] or A
    if principal.kind in ("user", "session") and rng.random() < 0.5:
        context["aws:MultiFactorAuthPresent"] = "true"
        context["aws:MultiFactorAuthAge"] = rng.choice(["30", "7200"])
    case.context = context
    if principal.kind in ("user", "session") and rng.random() < 0.6:
        case.principal_tags = {"team": rng.choice(TEAMS)}
    if not resource.startswith("arn:aws:s3:") and rng.random() < 0.5:
        # S3 objects have no aws:ResourceTag (their tags are s3:ExistingObjectTag/).
        case.resource_tags = {"team": rng.choice(TEAMS), "owner": rng.choice(["alice", "bob"])}
    if rng.random() < 0.4:
        keys = rng.sample(["env", "team", "cost"], rng.choice([1, 2]))
        case.request_tags = {k: rng.choice(["prod", "dev"]) for k in keys}
    return case


def generated_corpus() -> list[Case]:
    rng = random.Random(SEED)
    cases = [random_case(rng, i) for i in range(CORPUS_SIZE)]
    # Then cases where one Condition block alone decides: an Allow (or a Deny under an
    # Allow-all) of exactly the request, in an identity policy or a resource policy.
    for i in range(CONDITION_CASES):
        case = random_case(rng, i)
        case.name = f"condition-{i}"
        statement = {
            "Effect": "Allow",
            "Action": case.action,
            "Resource": case.resource,
            "Condition": random_condition(rng),
        }
        case.boundary = case.session = None
        if case.principal.kind == "service":
            case.identity = []  # a service principal has no identity policies
        elif rng.random() < 0.3:
            case.identity = [
                doc({"Effect": "Allow", "Action": "*", "Resource": "*"}),
                doc({**statement, "Effect": "Deny"}),
            ]
        else:
            case.identity = [doc(statement)]
        if case.principal.kind in ("root", "service") or case.action == "sts:AssumeRole" or rng.random() < 0.3:
            case.resource_policy = doc({**statement, "Principal": "*"})
        cases.append(case)
    return cases


def matrix_corpus() -> list[Case]:
    """Every combination of who asks, how the resource policy names them, and whether the
    identity policy, the permissions boundary and the session policy allow, deny or say
    nothing: the policy types' interplay, without conditions in the way."""
    cases = []
    verdicts: dict[str, dict[str, Any] | None] = {
        "none": None,
        "allow": {"Effect": "Allow", "Action": "*", "Resource": "*"},
        "other": {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
        "deny": {"Effect": "Deny", "Action": "*", "Resource": "*"},
    }
    for action, resource in (("sqs:SendMessage", QUEUE), ("sts:AssumeRole", f"arn:aws:iam::{A}:role/Target")):
        for principal in (ALICE, WORKER, CAROL, REMOTE, ROOT_A, ROOT_B, SNS):
            human = principal.kind in ("user", "session")
            for element in (None, *PRINCIPAL_ELEMENTS):
                if element is None and action == "sts:AssumeRole":
                    continue  # every role has a trust policy
                for identity in ("none", "allow", "deny") if human else ("none",):
                    for boundary in ("none", "allow", "other", "deny") if human else ("none",):
                        for session in ("none", "allow", "other") if principal.kind == "session" else ("none",):
                            if action == "sts:AssumeRole" and "deny" in (identity, boundary):
                                continue  # an explicit deny is an explicit deny; enough of those
                            case = Case(
                                f"matrix-{action}-{principal.arn}-{element}-{identity}-{boundary}-{session}",
                                principal,
                                action,
                                resource,
                                A,
                                context={"aws:CurrentTime": NOW, "aws:EpochTime": NOW_EPOCH},
                            )
                            statement = {"Effect": "Allow", "Action": action, "Resource": resource}
                            if element is not None:
                                case.resource_policy = doc({**statement, "Principal": element})
                            if verdicts[identity]:
                                case.identity = [doc(verdicts[identity])]
                            if verdicts[boundary]:
                                case.boundary = doc(verdicts[boundary])
                            if verdicts[session]:
                                case.session = doc(verdicts[session])
                            cases.append(case)
    return cases


# --- AWS's documented examples ---------------------------------------------------------------


def documented_examples() -> list[Case]:
    """Cases from the IAM User Guide's evaluation logic pages, each with AWS's answer."""
    allow_send = {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": QUEUE}
    return [
        # Policy evaluation logic: an identity-based policy allows within the account.
        Case("identity allows", ALICE, "sqs:SendMessage", QUEUE, A, identity=[doc(allow_send)], expected=ALLOWED),
        # "By default, all requests are implicitly denied".
        Case("default deny", ALICE, "sqs:SendMessage", QUEUE, A, expected=IMPLICIT),
        # "An explicit deny in any policy overrides any allows".
        Case(
            "explicit deny overrides",
            ALICE,
            "sqs:SendMessage",
            QUEUE,
            A,
            identity=[doc(allow_send, {"Effect": "Deny", "Action": "sqs:*", "Resource": "*"})],
            expected=EXPLICIT,
        ),
        # Same account: a resource-based policy naming the user allows without any identity policy.
        Case(
            "resource policy alone, same account",
            ALICE,
            "sqs:SendMessage",
            QUEUE,
            A,
            resource_policy=doc({**allow_send, "Principal": {"AWS": ALICE.arn}}),
            expected=ALLOWED,
        ),
        # Cross-account policy evaluation logic: the resource policy alone is not enough...
        Case(
            "cross-account needs identity allow",
            CAROL,
            "sqs:SendMessage",
            QUEUE,
            A,
            resource_policy=doc({**allow_send, "Principal": {"AWS": B}}),
            expected=IMPLICIT,
        ),
        # ...and neither is the identity policy alone.
        Case(
            "cross-account needs resource allow",
            CAROL,
            "sqs:SendMessage",
            QUEUE,
            A,
            identity=[doc(allow_send)],
            expected=IMPLICIT,
        ),
        Case(
            "cross-account both allow",
            CAROL,
            "sqs:SendMessage",
            QUEUE,
            A,
            identity=[doc(allow_send)],
            resource_policy=doc({**allow_send, "Principal": {"AWS": B}}),
            expected=ALLOWED,
        ),
        # Permissions boundaries: the effective permissions are the intersection.
        Case(
            "boundary caps identity",
            ALICE,
            "sqs:SendMessage",
            QUEUE,
            A,
            identity=[doc(allow_send)],
            boundary=doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}),
            expected=IMPLICIT,
        ),
        # Permissions boundaries: a resource-based policy naming the IAM user is not limited by
        # an implicit deny in the boundary.
        Case(
            "resource policy naming user passes boundary",
            ALICE,
            "sqs:SendMessage",
            QUEUE,
            A,
            boundary=doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}),
            resource_policy=doc({**allow_send, "Principal": {"AWS": ALICE.arn}}),
            expected=ALLOWED,
        ),
        # ...but one naming the role is limited by it (for a role session).
        Case(
            "resource policy naming role capped by boundary",
            WORKER,
            "sqs:SendMessage",
            QUEUE,
            A,
            boundary=doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}),
            resource_policy=doc({**allow_send, "Principal": {"AWS": WORKER.role}}),
            expected=IMPLICIT,
        ),
        # Session policies: the session's permissions are the intersection of the role's
        # identity-based policies and the session policy.
        Case(
            "session policy caps identity",
            WORKER,
            "sqs:SendMessage",
            QUEUE,
            A,
            identity=[doc(allow_send)],
            session=doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}),
            expected=IMPLICIT,
        ),
        Case(
            "session policy and identity allow",
            WORKER,
            "sqs:SendMessage",
            QUEUE,
            A,
            identity=[doc(allow_send)],
            session=doc({"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}),
            expected=ALLOWED,
        ),
        # Policy variables: ${aws:username} in a Resource.
        Case(
            "aws:username in Resource",
            ALICE,
            "s3:GetObject",
            OBJECT,
            A,
            identity=[
                doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/${aws:username}/*"})
            ],
            expected=ALLOWED,
        ),
        Case(
            "aws:username in Resource, other user's prefix",
            BOB,
            "s3:GetObject",
            OBJECT,
            A,
            identity=[
                doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/${aws:username}/*"})
            ],
            expected=IMPLICIT,
        ),
        # NotPrincipal: a Deny with NotPrincipal must list the account too; listing the user
        # and its account spares that user.
        Case(
            "NotPrincipal deny spares listed user",
            CAROL,
            "sqs:SendMessage",
            QUEUE,
            A,
            identity=[doc(allow_send)],
            resource_policy=doc(
                {**allow_send, "Principal": {"AWS": B}},
                {
                    "Effect": "Deny",
                    "NotPrincipal": {"AWS": [CAROL.arn, f"arn:aws:iam::{B}:root"]},
                    "Action": "*",
                    "Resource": QUEUE,
                },
            ),
            expected=ALLOWED,
        ),
        # Condition operators: a condition on a missing key does not match (StringEquals), but
        # ...IfExists does.
        Case(
            "missing key fails StringEquals",
            ALICE,
            "sqs:SendMessage",
            QUEUE,
            A,
            identity=[doc({**allow_send, "Condition": {"StringEquals": {"aws:SourceArn": SOURCE_ARNS[0]}}})],
            expected=IMPLICIT,
        ),
        Case(
            "missing key passes StringEqualsIfExists",
            ALICE,
            "sqs:SendMessage",
            QUEUE,
            A,
            identity=[doc({**allow_send, "Condition": {"StringEqualsIfExists": {"aws:SourceArn": SOURCE_ARNS[0]}}})],
            expected=ALLOWED,
        ),
        # Cases the oracle answers differently (see `oracle_differs`); AWS's answer only.
        # NotPrincipal: "all principals *except* the user named Bob in AWS account
        # 444455556666 are explicitly denied" -- another user of Bob's account included.
        Case(
            "NotPrincipal deny still denies the listed account's other users",
            ALICE,
            "sqs:SendMessage",
            QUEUE,
            A,
            identity=[doc(allow_send)],
            resource_policy=doc(
                {
                    "Effect": "Deny",
                    "NotPrincipal": {"AWS": [BOB.arn, f"arn:aws:iam::{A}:root"]},
                    "Action": "*",
                    "Resource": QUEUE,
                },
            ),
            expected=EXPLICIT,
        ),
        # Session policies: a resource-based policy naming the session ARN "is not limited by
        # the session policy".
        Case(
            "resource policy naming the session passes the session policy",
            WORKER,
            "sqs:SendMessage",
            QUEUE,
            A,
            session=doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}),
            resource_policy=doc({**allow_send, "Principal": {"AWS": WORKER.arn}}),
            expected=ALLOWED,
        ),
        # ...while one naming the role is limited by it.
        Case(
            "resource policy naming the role is capped by the session policy",
            WORKER,
            "sqs:SendMessage",
            QUEUE,
            A,
            session=doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}),
            resource_policy=doc({**allow_send, "Principal": {"AWS": WORKER.role}}),
            expected=IMPLICIT,
        ),
        # Policy variables with no value: in NotResource the entry "will not match any
        # resource", so it excludes nothing and a Deny applies (a role session has no
        # aws:username).
        Case(
            "NotResource with a variable without value excludes nothing",
            WORKER,
            "s3:GetObject",
            OBJECT,
            A,
            identity=[
                doc(
                    {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                    {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::reports/${aws:username}/*"},
                )
            ],
            expected=EXPLICIT,
        ),
        # IP address condition operators take CIDR blocks (RFC 4632): /0 holds every address.
        Case(
            "IpAddress 0.0.0.0/0",
            ALICE,
            "sqs:SendMessage",
            QUEUE,
            A,
            identity=[doc({**allow_send, "Condition": {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}})],
            context={"aws:SourceIp": "203.0.113.7"},
            expected=ALLOWED,
        ),
        # Cross-account policy evaluation logic, with a role session: the resource policy may
        # name the role, and the session's own policies must allow too.
        Case(
            "cross-account role session named by its role",
            REMOTE,
            "sqs:SendMessage",
            QUEUE,
            A,
            identity=[doc(allow_send)],
            resource_policy=doc({**allow_send, "Principal": {"AWS": REMOTE.role}}),
            expected=ALLOWED,
        ),
        # Permissions boundaries: "The NotPrincipal element with a Deny effect will always
        # deny any IAM principal that has a permissions boundary policy attached".
        Case(
            "NotPrincipal deny always denies a principal with a boundary",
            ALICE,
            "sqs:SendMessage",
            QUEUE,
            A,
            identity=[doc(allow_send)],
            boundary=doc({"Effect": "Allow", "Action": "*", "Resource": "*"}),
            resource_policy=doc(
                {
                    "Effect": "Deny",
                    "NotPrincipal": {"AWS": [ALICE.arn, f"arn:aws:iam::{A}:root"]},
                    "Action": "*",
                    "Resource": QUEUE,
                },
            ),
            expected=EXPLICIT,
        ),
        # Condition operators: ForAnyValue with a missing key is false.
        Case(
            "ForAnyValue on missing key",
            ALICE,
            "sqs:SendMessage",
            QUEUE,
            A,
            identity=[doc({**allow_send, "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["env"]}}})],
            expected=IMPLICIT,
        ),
        # Policy variables with no value: "Inverted condition operators like StringNotEquals
        # [...] do match against a null value".
        Case(
            "StringNotEquals against a variable without value",
            WORKER,
            "sqs:SendMessage",
            QUEUE,
            A,
            identity=[
                doc({**allow_send, "Condition": {"StringNotEquals": {"aws:PrincipalTag/team": "${aws:username}"}}})
            ],
            principal_tags={"team": "blue"},
            expected=ALLOWED,
        ),
        # ...AWS's own example: "Access is explicitly denied when aws:principaltag/Team is not
        # set."
        Case(
            "Deny StringNotEquals against an unset principal tag",
            WORKER,
            "s3:GetObject",
            OBJECT,
            A,
            identity=[
                doc(
                    {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                    {
                        "Effect": "Deny",
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::reports/*",
                        "Condition": {"StringNotEquals": {"s3:ExistingObjectTag/Team": "${aws:PrincipalTag/Team}"}},
                    },
                )
            ],
            context={"s3:ExistingObjectTag/Team": "blue"},
            expected=EXPLICIT,
        ),
        # ForAllValues with a missing multivalued key evaluates to true.
        Case(
            "ForAllValues on missing key",
            ALICE,
            "sqs:SendMessage",
            QUEUE,
            A,
            identity=[doc({**allow_send, "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["env"]}}})],
            expected=ALLOWED,
        ),
    ]


# --- running both ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def oracle_ready() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the iam-simulate oracle cannot run")
    if not os.path.isdir(os.path.join(ORACLE, "node_modules", "@cloud-copilot", "iam-simulate")):
        npm = shutil.which("npm")
        assert npm is not None, "node is installed but npm is not: cannot install tests/oracle"
        subprocess.run(
            [npm, "ci", "--prefix", ORACLE, "--no-audit", "--no-fund", "--loglevel=error"],
            check=True,
            timeout=600,
        )
    return node


def run_oracle(node: str, cases: list[Case]) -> list[dict[str, Any]]:
    batch = json.dumps([case.oracle_input() for case in cases])
    done = subprocess.run(
        [node, os.path.join(ORACLE, "simulate.mjs")],
        input=batch,
        capture_output=True,
        text=True,
        cwd=ORACLE,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"the oracle failed:\n{done.stderr}"
    answers = json.loads(done.stdout)
    assert len(answers) == len(cases)
    return answers


def compare(node: str, cases: list[Case]) -> tuple[list[str], int]:
    """Disagreements as printable reports, and how many cases were compared."""
    answers = run_oracle(node, cases)
    problems: list[str] = []
    compared = 0
    for case, answer in zip(cases, answers, strict=True):
        ours = lamina_decision(case)
        if oracle_differs(case):
            # Only AWS's documented answer to compare with, where the case has one.
            if case.expected is not None and ours != case.expected:
                problems.append(f"{case.name}: lamina={ours} documented={case.expected}\n{case.describe()}")
            continue
        if answer.get("ignored"):
            # The oracle drops keys the action does not offer (iam-data): a corpus mistake.
            problems.append(f"{case.name}: the oracle ignored keys {answer['ignored']}\n{case.describe()}")
            continue
        if "error" in answer:
            problems.append(f"{case.name}: the oracle refused it: {answer['error']}\n{case.describe()}")
            continue
        compared += 1
        theirs = answer["result"]
        wrong = ours != theirs or (case.expected is not None and ours != case.expected)
        if wrong:
            problems.append(
                f"{case.name}: lamina={ours} oracle={theirs}"
                + (f" documented={case.expected}" if case.expected else "")
                + f"\n{case.describe()}"
            )
    return problems, compared


def test_generated_corpus_agrees_with_oracle(oracle_ready: str) -> None:
    cases = generated_corpus()
    problems, compared = compare(oracle_ready, cases)
    assert compared >= len(cases) // 2, f"only {compared} of {len(cases)} cases compared"
    assert not problems, f"{len(problems)} disagreements of {compared} cases:\n\n" + "\n\n".join(problems[:15])


def test_policy_type_matrix_agrees_with_oracle(oracle_ready: str) -> None:
    cases = matrix_corpus()
    problems, compared = compare(oracle_ready, cases)
    assert not problems, f"{len(problems)} disagreements of {compared} cases:\n\n" + "\n\n".join(problems[:15])


def test_documented_examples_agree(oracle_ready: str) -> None:
    cases = documented_examples()
    problems, _ = compare(oracle_ready, cases)
    assert not problems, "\n\n".join(problems)
