"""IAM policy evaluation: AWS's policy language and evaluation logic, for Lamina's IAM and STS
and every service's authorization on the request path.

Pure functions and dataclasses, standard library only, imports nothing else of Lamina. AWS's
documentation is the specification (IAM User Guide: IAM JSON policy elements reference,
Policy evaluation logic, Cross-account policy evaluation logic, Condition operators, Policy
variables, Permissions boundaries, Session policies, Troubleshoot access denied errors).

    errors.py      MalformedPolicy and AWS's refusal messages
    document.py    parse_policy: a JSON document -> Policy (statements compiled once)
    wildcard.py    `*`/`?` for actions, Resource ARNs and ArnLike, as regexes
    variables.py   ${aws:username}, ${aws:PrincipalTag/x}, ${x, 'default'}, ${*} ${?} ${$}
    conditions.py  every condition operator, ...IfExists, ForAllValues:/ForAnyValue:
    principals.py  Principal/NotPrincipal matching, and how strongly a principal is named
    context.py     RequestContext: the request, with its context keys
    evaluation.py  PolicySet, evaluate -> Decision
    messages.py    denial_message: AWS's AccessDenied text
    cache.py       DecisionCache: decisions keyed by exactly what they depend on

Usage:

    identity = parse_policy(document_json)                     # an identity policy
    queue = parse_policy(queue_policy_json, kind=RESOURCE)     # a resource policy
    policies = PolicySet(identity=[identity], resource=queue)
    request = RequestContext(principal_arn=..., action="sqs:SendMessage", resource=queue_arn,
                             context_keys={"aws:SourceIp": "10.0.0.1"})
    decision = evaluate(request, policies)       # or DecisionCache().evaluate(request, policies)
    if not decision.allowed:
        raise AccessDenied(denial_message(request, decision))
"""

from .cache import DecisionCache
from .context import RequestContext
from .document import IDENTITY, RESOURCE, Policy, Statement, parse_policy
from .errors import MalformedPolicy
from .evaluation import (
    BOUNDARY,
    EXPLICIT_DENY,
    IDENTITY_BASED,
    NO_IDENTITY_ALLOW,
    NO_RESOURCE_ALLOW,
    PERMISSIONS_BOUNDARY,
    RESOURCE_BASED,
    ROOT,
    SESSION,
    SESSION_POLICY,
    Decision,
    PolicySet,
    evaluate,
)
from .messages import denial_message

__all__ = [
    "BOUNDARY",
    "EXPLICIT_DENY",
    "IDENTITY",
    "IDENTITY_BASED",
    "NO_IDENTITY_ALLOW",
    "NO_RESOURCE_ALLOW",
    "PERMISSIONS_BOUNDARY",
    "RESOURCE",
    "RESOURCE_BASED",
    "ROOT",
    "SESSION",
    "SESSION_POLICY",
    "Decision",
    "DecisionCache",
    "MalformedPolicy",
    "Policy",
    "PolicySet",
    "RequestContext",
    "Statement",
    "denial_message",
    "evaluate",
    "parse_policy",
]
