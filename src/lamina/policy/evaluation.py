"""Whether a request is allowed: AWS's policy evaluation logic, for the policy types a single
Lamina deployment has (identity-based policies, a resource-based policy, a permissions
boundary, session policies; no Organizations SCPs/RCPs, no VPC endpoint policies).

Sources, all in the IAM User Guide: "Policy evaluation logic", "How AWS enforcement code
logic evaluates requests to allow or deny access", "Policy evaluation for requests within a
single account", "Cross-account policy evaluation logic", "Permissions boundaries for IAM
entities", "Session policies". In order:

1. An explicit Deny in any applicable policy is final.
2. The account's root user is not subject to identity-based policies, boundaries or session
   policies: it may do anything to its own account's resources that a resource-based policy
   does not explicitly deny (and S3 lets it manage a bucket policy even then).
3. Principals without an IAM identity (services, federated providers, anonymous) are allowed
   only by a resource-based policy that names them.
4. Same account: the identity-based policies or the resource-based policy may allow. A
   resource-based Allow naming the exact caller (user ARN, role session ARN, or everyone) is
   enough on its own; one naming the role of a role session is capped by the boundary and the
   session policies; one naming the account delegates to the identity-based policies. An
   identity-based Allow is capped by the permissions boundary and by the session policies.
   Resources whose policy must always allow (a role's trust policy, a KMS key policy:
   `PolicySet.resource_policy_required`) are evaluated as if cross-account.
5. Cross-account: the identity side (identity-based Allow within boundary and session
   policies) and the resource-based policy must both allow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .context import RequestContext
from .document import IDENTITY, RESOURCE, Policy, Statement
from .principals import ACCOUNT, AWS, DIRECT, ISSUER, NONE

# Decision.reason values: the tail of AWS's denial messages names the same things.
EXPLICIT_DENY = "explicit deny"
NO_IDENTITY_ALLOW = "no identity-based policy allows"
NO_RESOURCE_ALLOW = "no resource-based policy allows"
PERMISSIONS_BOUNDARY = "permissions boundary"
SESSION_POLICY = "session policy"

# Decision.policy_type values.
IDENTITY_BASED = "identity-based policy"
RESOURCE_BASED = "resource-based policy"
BOUNDARY = "permissions boundary"
SESSION = "session policy"
ROOT = "root user"

# "The root user of the AWS account that owns a bucket can always use the GetBucketPolicy,
# PutBucketPolicy, and DeleteBucketPolicy API actions" (Amazon S3 User Guide, bucket policies).
_ROOT_ALWAYS = frozenset({"s3:getbucketpolicy", "s3:putbucketpolicy", "s3:deletebucketpolicy"})


@dataclass(frozen=True, slots=True)
class Decision:
    """`allowed`, and why: `reason` is None when allowed, else one of EXPLICIT_DENY,
    NO_IDENTITY_ALLOW, NO_RESOURCE_ALLOW, PERMISSIONS_BOUNDARY, SESSION_POLICY.
    `policy_type` is the kind of policy that decided (IDENTITY_BASED, RESOURCE_BASED, BOUNDARY,
    SESSION, ROOT); `statement` the statement that did: the Deny for an explicit deny, the
    Allow that granted access, None for an implicit deny."""

    allowed: bool
    reason: str | None = None
    policy_type: str | None = None
    statement: Statement | None = None


class PolicySet:
    """The policies that apply to one principal acting on one resource, compiled documents
    only. Build it once per (principal's policies, resource policy) and reuse it: it is also
    the version the decision cache keys on."""

    __slots__ = ("identity", "resource", "boundary", "session", "resource_policy_required", "referenced_keys", "token")

    def __init__(
        self,
        identity: Sequence[Policy] = (),
        resource: Policy | None = None,
        boundary: Policy | None = None,
        session: Sequence[Policy] = (),
        resource_policy_required: bool = False,
    ) -> None:
        for policy in (*identity, *session, *((boundary,) if boundary else ())):
            if policy.kind != IDENTITY:
                raise ValueError("identity-based, boundary and session policies must be identity policies")
        if resource is not None and resource.kind != RESOURCE:
            raise ValueError("the resource-based policy must be a resource policy")
        self.identity = tuple(identity)
        self.resource = resource
        self.boundary = boundary
        self.session = tuple(session)
        self.resource_policy_required = resource_policy_required
        keys: set[str] = set()
        for policy in (*self.identity, *self.session, resource, boundary):
            if policy is not None:
                keys |= policy.referenced_keys
        # Sorted so that equal sets give equal cache keys.
        self.referenced_keys: tuple[str, ...] = tuple(sorted(keys))
        # Policies hash by identity: a changed policy is a new object, hence a new token.
        self.token = (self.identity, resource, boundary, self.session, resource_policy_required)


def _scan(policies: Sequence[Policy], request: RequestContext) -> tuple[Statement | None, Statement | None]:
    """(first applicable Deny, first applicable Allow) across identity-style policies. Stops at
    the first Deny: nothing overrides it."""
    action, resource, keys = request.action_key, request.resource, request.keys
    allow: Statement | None = None
    for policy in policies:
        for statement in policy.statements:
            if statement.is_deny:
                if statement.matches_request(action, resource, keys):
                    return statement, allow
            elif allow is None and statement.matches_request(action, resource, keys):
                allow = statement
    return None, allow


def _scan_resource(
    policy: Policy | None, request: RequestContext, has_boundary: bool
) -> tuple[Statement | None, Statement | None, int]:
    """(applicable Deny, strongest applicable Allow, its principal strength) of a resource
    policy."""
    if policy is None:
        return None, None, NONE
    action, resource, keys, caller = request.action_key, request.resource, request.keys, request.caller
    best: Statement | None = None
    strength = NONE
    for statement in policy.statements:
        if statement.is_deny:
            if statement.not_principal and has_boundary and caller.kind == AWS:
                # "The NotPrincipal element with a Deny effect will always deny any IAM
                # principal that has a permissions boundary policy attached, regardless of the
                # values specified in the NotPrincipal element." (Permissions boundaries)
                named = DIRECT
            else:
                named = statement.principal_match(caller)
            if named != NONE and statement.matches_request(action, resource, keys):
                return statement, best, strength
        else:
            named = statement.principal_match(caller)
            if named > strength and statement.matches_request(action, resource, keys):
                best, strength = statement, named
    return None, best, strength


def evaluate(request: RequestContext, policies: PolicySet) -> Decision:
    """The decision for `request` under `policies`."""
    caller = request.caller
    root = bool(request.is_root)
    has_boundary = policies.boundary is not None and not root
    resource_deny, resource_allow, strength = _scan_resource(policies.resource, request, has_boundary)
    if resource_deny is not None and not (root and request.action_key in _ROOT_ALWAYS):
        return Decision(False, EXPLICIT_DENY, RESOURCE_BASED, resource_deny)

    if caller.kind != AWS:
        if strength == DIRECT:
            return Decision(True, None, RESOURCE_BASED, resource_allow)
        return Decision(False, NO_RESOURCE_ALLOW, RESOURCE_BASED)

    same_account = request.principal_account == request.resource_account
    if root:
        # The root user has every identity permission in its own account; elsewhere, and for
        # resources that must allow it by name, the resource-based policy decides.
        if same_account and not policies.resource_policy_required:
            return Decision(True, None, ROOT)
        if strength != NONE:
            return Decision(True, None, RESOURCE_BASED, resource_allow)
        return Decision(False, NO_RESOURCE_ALLOW, RESOURCE_BASED)

    identity_deny, identity_allow = _scan(policies.identity, request)
    if identity_deny is not None:
        return Decision(False, EXPLICIT_DENY, IDENTITY_BASED, identity_deny)
    boundary_allow: Statement | None = None
    if policies.boundary is not None:
        boundary_deny, boundary_allow = _scan((policies.boundary,), request)
        if boundary_deny is not None:
            return Decision(False, EXPLICIT_DENY, BOUNDARY, boundary_deny)
    session_allow: Statement | None = None
    if policies.session:
        session_deny, session_allow = _scan(policies.session, request)
        if session_deny is not None:
            return Decision(False, EXPLICIT_DENY, SESSION, session_deny)
    boundary_ok = policies.boundary is None or boundary_allow is not None
    session_ok = not policies.session or session_allow is not None

    if same_account and not policies.resource_policy_required:
        if strength == DIRECT:
            # Granted to this very user or session (or to everyone): implicit denies in
            # identity-based policies, the boundary and session policies do not matter.
            return Decision(True, None, RESOURCE_BASED, resource_allow)
        if identity_allow is None and strength != ISSUER:
            return Decision(False, NO_IDENTITY_ALLOW, IDENTITY_BASED)
        if not boundary_ok:
            return Decision(False, PERMISSIONS_BOUNDARY, BOUNDARY)
        if not session_ok:
            return Decision(False, SESSION_POLICY, SESSION)
        if identity_allow is not None:
            return Decision(True, None, IDENTITY_BASED, identity_allow)
        return Decision(True, None, RESOURCE_BASED, resource_allow)

    if policies.resource_policy_required and same_account:
        # A trust or key policy must allow; naming the caller exactly is enough, naming its
        # role is capped like an identity grant, naming the account delegates to IAM.
        if strength == NONE:
            return Decision(False, NO_RESOURCE_ALLOW, RESOURCE_BASED)
        if strength == DIRECT:
            return Decision(True, None, RESOURCE_BASED, resource_allow)
        if strength == ACCOUNT and identity_allow is None:
            return Decision(False, NO_IDENTITY_ALLOW, IDENTITY_BASED)
        if not boundary_ok:
            return Decision(False, PERMISSIONS_BOUNDARY, BOUNDARY)
        if not session_ok:
            return Decision(False, SESSION_POLICY, SESSION)
        return Decision(True, None, RESOURCE_BASED, resource_allow)

    # Cross-account: the principal's account must allow (identity-based policies within the
    # boundary and session policies) and the resource's account must allow (its policy).
    if identity_allow is None:
        return Decision(False, NO_IDENTITY_ALLOW, IDENTITY_BASED)
    if not boundary_ok:
        return Decision(False, PERMISSIONS_BOUNDARY, BOUNDARY)
    if not session_ok:
        return Decision(False, SESSION_POLICY, SESSION)
    if strength == NONE:
        return Decision(False, NO_RESOURCE_ALLOW, RESOURCE_BASED)
    return Decision(True, None, IDENTITY_BASED, identity_allow)
