"""Whether a role's trust policy lets a federated principal (an OpenID Connect provider's
user) assume it: what STS's AssumeRoleWithWebIdentity asks before it issues a session.

Only the trust policy decides (the federated user has no identity policies of its own): it
must allow `sts:AssumeRoleWithWebIdentity` to `{"Federated": <the provider's ARN>}`, its
conditions reading the token's keys (`<provider url>:sub`, `:aud`, `:oaud`, `:amr`...,
which STS puts in `context`), and no statement may deny it.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..policy import RESOURCE, MalformedPolicy, Policy, PolicySet, RequestContext, evaluate, parse_policy
from ..policy.principals import FEDERATED

ACTION = "sts:AssumeRoleWithWebIdentity"
_KEPT = 1024
_parsed: dict[str, Policy | None] = {}  # trust policy text -> parsed (None: malformed)


def _trust(document: str) -> Policy | None:
    if document in _parsed:
        return _parsed[document]
    try:
        policy: Policy | None = parse_policy(document, kind=RESOURCE)
    except MalformedPolicy:
        policy = None  # refused when it was set; one that slipped through trusts nobody
    if len(_parsed) >= _KEPT:
        _parsed.clear()
    _parsed[document] = policy
    return policy


def trusts_federated(
    trust_policy: str, role_arn: str, provider_arn: str, context: Mapping[str, object], action: str = ACTION
) -> bool:
    """Whether `trust_policy` (the role's) lets the users of the identity provider
    `provider_arn` perform `action` on the role, given the request's context keys."""
    trust = _trust(trust_policy)
    if trust is None:
        return False
    request = RequestContext(
        principal_arn=provider_arn,
        action=action,
        resource=role_arn,
        principal_type=FEDERATED,
        context_keys=context,
    )
    return evaluate(request, PolicySet(resource=trust, resource_policy_required=True)).allowed
