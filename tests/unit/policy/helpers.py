"""Small builders for the policy tests: documents as dicts, requests by name."""

from __future__ import annotations

from typing import Any

from lamina.policy import RESOURCE, Decision, PolicySet, RequestContext, evaluate, parse_policy

ACCOUNT = "111122223333"
OTHER = "444455556666"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/Admin"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/alice-session"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
QUEUE = f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders"
OTHER_QUEUE = f"arn:aws:sqs:us-east-1:{OTHER}:orders"


def doc(*statements: dict[str, Any], version: str = "2012-10-17") -> dict[str, Any]:
    return {"Version": version, "Statement": list(statements)}


def identity(*statements: dict[str, Any], version: str = "2012-10-17"):
    return parse_policy(doc(*statements, version=version))


def resource(*statements: dict[str, Any], version: str = "2012-10-17"):
    return parse_policy(doc(*statements, version=version), kind=RESOURCE)


def allow(action: Any = "*", resource: Any = "*", **more: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **more}


def deny(action: Any = "*", resource: Any = "*", **more: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **more}


def request(principal: str = ALICE, action: str = "sqs:SendMessage", resource: str = QUEUE, **more: Any):
    return RequestContext(principal_arn=principal, action=action, resource=resource, **more)


def decide(req: RequestContext, identity=(), resource=None, boundary=None, session=(), **more: Any) -> Decision:
    return evaluate(req, PolicySet(identity=identity, resource=resource, boundary=boundary, session=session, **more))


def allows(statement: dict[str, Any], req: RequestContext | None = None, version: str = "2012-10-17") -> bool:
    """Whether one identity statement allows the request (alice sends to the queue)."""
    return decide(req or request(), identity=[identity(statement, version=version)]).allowed


def condition_holds(block: dict[str, Any], keys: dict[str, Any] | None = None, **more: Any) -> bool:
    """Whether a Condition block holds for a request with these context keys."""
    return allows(allow(Condition=block), request(context_keys=keys or {}, **more))
