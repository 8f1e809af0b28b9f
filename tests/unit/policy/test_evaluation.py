"""The evaluation logic: explicit deny, same-account and cross-account requests, resource-based
policies and the principal they name, permissions boundaries, session policies, the root
user, service principals, NotPrincipal (IAM User Guide: Policy evaluation logic and its
sub-pages, Permissions boundaries for IAM entities, Session policies)."""

from lamina.policy import (
    BOUNDARY,
    EXPLICIT_DENY,
    IDENTITY_BASED,
    NO_IDENTITY_ALLOW,
    NO_RESOURCE_ALLOW,
    PERMISSIONS_BOUNDARY,
    RESOURCE_BASED,
    SESSION,
    SESSION_POLICY,
    RequestContext,
)

from .helpers import (
    ACCOUNT,
    ALICE,
    OTHER,
    QUEUE,
    ROLE,
    ROOT,
    allow,
    decide,
    deny,
    identity,
    request,
    resource,
)
from .helpers import (
    SESSION as ROLE_SESSION,
)

SEND = allow("sqs:SendMessage", QUEUE)
OTHER_ALICE = f"arn:aws:iam::{OTHER}:user/alice"
OTHER_SESSION = f"arn:aws:sts::{OTHER}:assumed-role/Writer/s1"


def queue_policy(principal, action="sqs:SendMessage", effect="Allow", **more):
    return resource({"Effect": effect, "Principal": principal, "Action": action, "Resource": QUEUE, **more})


# --- the basics ------------------------------------------------------------------------------


def test_implicit_deny_by_default():
    # Enforcement code logic: "By default, all requests are implicitly denied".
    decision = decide(request())
    assert not decision.allowed and decision.reason == NO_IDENTITY_ALLOW


def test_identity_allow():
    decision = decide(request(), identity=[identity(SEND)])
    assert decision.allowed and decision.policy_type == IDENTITY_BASED
    assert decision.statement is not None and decision.statement.actions.matches("sqs:sendmessage")


def test_explicit_deny_overrides_allow():
    # The difference between explicit and implicit denies: "the Deny statement trumps the
    # Allow statement".
    policies = [identity(allow("sqs:*", "*")), identity({"Sid": "NoSend", **deny("sqs:SendMessage", "*")})]
    decision = decide(request(), identity=policies)
    assert not decision.allowed
    assert decision.reason == EXPLICIT_DENY and decision.policy_type == IDENTITY_BASED
    assert decision.statement is not None and decision.statement.sid == "NoSend"


def test_explicit_deny_in_resource_policy_overrides_identity_allow():
    decision = decide(request(), identity=[identity(SEND)], resource=queue_policy("*", effect="Deny"))
    assert decision.reason == EXPLICIT_DENY and decision.policy_type == RESOURCE_BASED


def test_explicit_deny_in_boundary_and_session_policy():
    boundary = identity(allow("*"), deny("sqs:SendMessage"))
    decision = decide(request(), identity=[identity(SEND)], boundary=boundary)
    assert (decision.reason, decision.policy_type) == (EXPLICIT_DENY, BOUNDARY)
    session = identity(allow("*"), deny("sqs:*"))
    decision = decide(request(principal=ROLE_SESSION), identity=[identity(SEND)], session=[session])
    assert (decision.reason, decision.policy_type) == (EXPLICIT_DENY, SESSION)


def test_explicit_deny_wins_over_a_direct_resource_grant():
    decision = decide(request(), identity=[identity(deny("sqs:*"))], resource=queue_policy({"AWS": ALICE}))
    assert decision.reason == EXPLICIT_DENY


# --- same account ----------------------------------------------------------------------------


def test_same_account_identity_or_resource_policy_suffices():
    # Policy evaluation for requests within a single account: "If either the identity-based
    # policy or the resource-based policy within the same account allows the request and the
    # other doesn't, the request is still allowed." (the carlossalazar example)
    by_resource = decide(request(), resource=queue_policy({"AWS": ALICE}))
    assert by_resource.allowed and by_resource.policy_type == RESOURCE_BASED
    by_identity = decide(request(), identity=[identity(SEND)], resource=queue_policy({"AWS": f"{ACCOUNT}"}, "sqs:Get*"))
    assert by_identity.allowed


def test_resource_policy_naming_the_account_delegates_to_iam():
    # Naming the account (id or root ARN) grants nothing by itself: the account's identity-
    # based policies decide.
    for principal in ({"AWS": ACCOUNT}, {"AWS": ROOT}):
        assert not decide(request(), resource=queue_policy(principal)).allowed
        assert decide(request(), identity=[identity(SEND)], resource=queue_policy(principal)).allowed


def test_user_arn_grant_is_not_limited_by_boundary():
    # Permissions boundaries, "Resource-based policies": "Within the same account, resource-
    # based policies that grant permissions to an IAM user ARN ... are not limited by an
    # implicit deny in an identity-based policy or permissions boundary."
    boundary = identity(allow("s3:*"))
    decision = decide(request(), resource=queue_policy({"AWS": ALICE}), boundary=boundary)
    assert decision.allowed


def test_boundary_caps_identity_allow():
    # Permissions boundaries: "An entity's permissions boundary allows it to perform only the
    # actions that are allowed by both its identity-based policies and its permissions boundaries."
    boundary = identity(allow("s3:*"))
    decision = decide(request(), identity=[identity(SEND)], boundary=boundary)
    assert not decision.allowed and decision.reason == PERMISSIONS_BOUNDARY
    assert decide(request(), identity=[identity(SEND)], boundary=identity(allow("sqs:*"))).allowed
    # A boundary alone grants nothing.
    assert decide(request(), boundary=identity(allow("*"))).reason == NO_IDENTITY_ALLOW


def test_role_arn_grant_is_capped_by_boundary_and_session_policy():
    # Enforcement code logic, Resource-based policies, "IAM role": "Resource-based policies
    # that grant permissions to an IAM role ARN are limited by an implicit deny in a
    # permissions boundary or session policy."
    session_request = request(principal=ROLE_SESSION)
    granted = queue_policy({"AWS": ROLE})
    assert decide(session_request, resource=granted).allowed  # no identity allow needed
    capped = decide(session_request, resource=granted, boundary=identity(allow("s3:*")))
    assert not capped.allowed and capped.reason == PERMISSIONS_BOUNDARY
    capped = decide(session_request, resource=granted, session=[identity(allow("s3:*"))])
    assert not capped.allowed and capped.reason == SESSION_POLICY


def test_role_session_arn_grant_is_not_capped():
    # "IAM role session": "resource-based policies that grant permissions to an IAM role
    # session ARN grant permissions directly to the assumed role session. Permissions granted
    # directly to a session are not limited by an implicit deny in an identity-based policy,
    # a permissions boundary, or session policy."
    granted = queue_policy({"AWS": ROLE_SESSION})
    decision = decide(
        request(principal=ROLE_SESSION),
        resource=granted,
        boundary=identity(allow("s3:*")),
        session=[identity(allow("s3:*"))],
    )
    assert decision.allowed and decision.policy_type == RESOURCE_BASED


def test_role_arn_with_path_matches_its_sessions():
    # A role with a path: the session ARN drops the path; the caller may pass the role's ARN.
    path_role = f"arn:aws:iam::{ACCOUNT}:role/team/Admin"
    granted = queue_policy({"AWS": path_role})
    assert decide(request(principal=ROLE_SESSION), resource=granted).allowed
    with_issuer = request(principal=ROLE_SESSION, session_issuer_arn=path_role)
    assert decide(with_issuer, resource=granted).allowed
    other_role = queue_policy({"AWS": f"arn:aws:iam::{ACCOUNT}:role/Reader"})
    assert not decide(request(principal=ROLE_SESSION), resource=other_role).allowed


def test_wildcard_principal_grant_is_not_capped():
    # "Permissions boundaries and session policies do not limit permissions granted using the
    # aws:PrincipalArn condition key with a wildcard(*) in the Principal element".
    granted = queue_policy("*", Condition={"ArnEquals": {"aws:PrincipalArn": ROLE}})
    decision = decide(request(principal=ROLE_SESSION), resource=granted, boundary=identity(allow("s3:*")))
    assert decision.allowed


def test_session_policy_caps_identity_allow():
    # Session policies: "The resulting session's permissions are the intersection of the
    # entity's identity-based policy and the session policies."
    session_request = request(principal=ROLE_SESSION)
    decision = decide(session_request, identity=[identity(allow("sqs:*"))], session=[identity(allow("s3:*"))])
    assert not decision.allowed and decision.reason == SESSION_POLICY
    # Several session policies (inline and managed) together: any of them may allow.
    both = [identity(allow("s3:*")), identity(allow("sqs:SendMessage"))]
    assert decide(session_request, identity=[identity(allow("sqs:*"))], session=both).allowed
    # A session policy alone grants nothing.
    assert decide(session_request, session=[identity(allow("*"))]).reason == NO_IDENTITY_ALLOW


def test_denial_reason_order_same_account():
    # Identity allows, boundary allows, session policy does not: "session policy".
    decision = decide(
        request(principal=ROLE_SESSION),
        identity=[identity(SEND)],
        boundary=identity(allow("sqs:*")),
        session=[identity(allow("s3:*"))],
    )
    assert decision.reason == SESSION_POLICY


# --- cross-account ---------------------------------------------------------------------------


def test_cross_account_needs_both_sides():
    # Cross-account policy evaluation logic: "the identity-based policy and the resource-based
    # policy must both allow".
    req = request(principal=OTHER_ALICE)
    send_any = identity(allow("sqs:SendMessage", "*"))
    only_identity = decide(req, identity=[send_any])
    assert not only_identity.allowed and only_identity.reason == NO_RESOURCE_ALLOW
    only_resource = decide(req, resource=queue_policy({"AWS": OTHER_ALICE}))
    assert not only_resource.allowed and only_resource.reason == NO_IDENTITY_ALLOW
    assert decide(req, identity=[send_any], resource=queue_policy({"AWS": OTHER_ALICE})).allowed


def test_cross_account_account_principal():
    # Trusting the other account: its identity-based policies decide for its principals.
    req = request(principal=OTHER_SESSION)
    send_any = identity(allow("sqs:SendMessage", "*"))
    assert decide(req, identity=[send_any], resource=queue_policy({"AWS": OTHER})).allowed
    assert decide(req, identity=[send_any], resource=queue_policy({"AWS": f"arn:aws:iam::{OTHER}:root"})).allowed
    assert not decide(req, identity=[send_any], resource=queue_policy({"AWS": "999999999999"})).allowed


def test_cross_account_boundary_and_session_policy_still_cap():
    req = request(principal=OTHER_SESSION)
    send_any = identity(allow("sqs:SendMessage", "*"))
    granted = queue_policy({"AWS": OTHER_SESSION})
    assert (
        decide(req, identity=[send_any], resource=granted, boundary=identity(allow("s3:*"))).reason
        == PERMISSIONS_BOUNDARY
    )
    assert (
        decide(req, identity=[send_any], resource=granted, session=[identity(allow("s3:*"))]).reason == SESSION_POLICY
    )
    # A direct grant does not replace the identity side across accounts.
    assert decide(req, resource=granted).reason == NO_IDENTITY_ALLOW


def test_cross_account_explicit_deny_on_either_side():
    req = request(principal=OTHER_ALICE)
    send_any = identity(allow("sqs:SendMessage", "*"))
    both = resource(
        {"Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "sqs:*", "Resource": QUEUE},
        {"Effect": "Deny", "Principal": {"AWS": OTHER_ALICE}, "Action": "sqs:SendMessage", "Resource": QUEUE},
    )
    assert decide(req, identity=[send_any], resource=both).reason == EXPLICIT_DENY


def test_resource_account_from_the_arn_or_given():
    # An S3 bucket ARN has no account: the caller says whose it is.
    bucket = "arn:aws:s3:::shared-bucket/key"
    read = identity(allow("s3:GetObject", "*"))
    same = RequestContext(principal_arn=ALICE, action="s3:GetObject", resource=bucket)
    assert decide(same, identity=[read]).allowed
    foreign = RequestContext(principal_arn=ALICE, action="s3:GetObject", resource=bucket, resource_account=OTHER)
    assert decide(foreign, identity=[read]).reason == NO_RESOURCE_ALLOW


# --- the root user ---------------------------------------------------------------------------


def test_root_is_allowed_everything_in_its_account():
    # Enforcement code logic: "all requests are implicitly denied with the exception of the
    # AWS account root user, which has full access."
    decision = decide(request(principal=ROOT))
    assert decision.allowed
    # Identity-based policies, boundaries and session policies cannot be attached to root.
    assert decide(request(principal=ROOT), identity=[identity(deny("*"))], boundary=identity(allow("s3:*"))).allowed


def test_root_is_denied_by_a_resource_policy_deny():
    # A resource-based policy's explicit Deny applies to the root user too (the bucket policy
    # that locks everyone out, root included).
    lock = resource({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::locked/*"})
    req = RequestContext(principal_arn=ROOT, action="s3:GetObject", resource="arn:aws:s3:::locked/x")
    decision = decide(req, resource=lock)
    assert not decision.allowed and decision.reason == EXPLICIT_DENY
    # ...but S3 lets the bucket owner's root user manage the bucket policy regardless.
    lock_bucket = resource({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::locked"})
    fix = RequestContext(principal_arn=ROOT, action="s3:DeleteBucketPolicy", resource="arn:aws:s3:::locked")
    assert decide(fix, resource=lock_bucket).allowed


def test_root_cross_account_needs_the_resource_policy():
    other_root = f"arn:aws:iam::{OTHER}:root"
    req = request(principal=other_root)
    assert decide(req).reason == NO_RESOURCE_ALLOW
    assert decide(req, resource=queue_policy({"AWS": OTHER})).allowed


# --- principals without an IAM identity ------------------------------------------------------


def test_service_principal_with_source_arn():
    # The SNS -> SQS queue policy: Principal {"Service": "sns.amazonaws.com"}, ArnEquals
    # aws:SourceArn.
    topic = f"arn:aws:sns:us-east-1:{ACCOUNT}:orders"
    policy = queue_policy({"Service": "sns.amazonaws.com"}, Condition={"ArnEquals": {"aws:SourceArn": topic}})

    def sns(source):
        return RequestContext(
            principal_arn="sns.amazonaws.com",
            principal_type="Service",
            action="sqs:SendMessage",
            resource=QUEUE,
            context_keys={"aws:SourceArn": source},
        )

    assert decide(sns(topic), resource=policy).allowed
    assert decide(sns(topic + "-other"), resource=policy).reason == NO_RESOURCE_ALLOW
    assert decide(sns(topic)).reason == NO_RESOURCE_ALLOW
    # A service principal is not an AWS account principal.
    assert not decide(sns(topic), resource=queue_policy({"AWS": ACCOUNT})).allowed


def test_anonymous_needs_everyone():
    anonymous = RequestContext(
        principal_arn="anonymous", principal_type="Anonymous", action="s3:GetObject", resource="arn:aws:s3:::pub/x"
    )
    public = resource({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::pub/*"})
    assert decide(anonymous, resource=public).allowed
    assert not decide(anonymous).allowed


def test_federated_trust_policy():
    # A web identity trust policy: Principal {"Federated": "cognito-identity.amazonaws.com"}.
    trust = resource(
        {
            "Effect": "Allow",
            "Principal": {"Federated": "cognito-identity.amazonaws.com"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {"cognito-identity.amazonaws.com:aud": "us-east-1:pool"}},
        }
    )
    req = RequestContext(
        principal_arn="cognito-identity.amazonaws.com",
        principal_type="Federated",
        action="sts:AssumeRoleWithWebIdentity",
        resource=ROLE,
        context_keys={"cognito-identity.amazonaws.com:aud": "us-east-1:pool"},
    )
    assert decide(req, resource=trust, resource_policy_required=True).allowed


# --- trust and key policies: the resource policy must allow ----------------------------------


def test_trust_policy_must_allow_even_in_the_same_account():
    # Enforcement code logic: "IAM role trust policies and KMS key policies are exceptions to
    # this logic, because they must explicitly allow access for principals."
    assume = identity(allow("sts:AssumeRole", "*"))
    req = request(action="sts:AssumeRole", resource=ROLE)
    assert decide(req, identity=[assume], resource_policy_required=True).reason == NO_RESOURCE_ALLOW
    trusts_account = resource({"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"})
    assert decide(req, identity=[assume], resource=trusts_account, resource_policy_required=True).allowed
    # Trusting the account delegates to IAM: the user needs an identity allow too.
    assert decide(req, resource=trusts_account, resource_policy_required=True).reason == NO_IDENTITY_ALLOW
    trusts_alice = resource({"Effect": "Allow", "Principal": {"AWS": ALICE}, "Action": "sts:AssumeRole"})
    assert decide(req, resource=trusts_alice, resource_policy_required=True).allowed


def test_kms_key_policy_and_root():
    # The default key policy trusts the account root; without it even root cannot use the key.
    key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234"
    req = request(principal=ROOT, action="kms:Decrypt", resource=key)
    assert decide(req, resource_policy_required=True).reason == NO_RESOURCE_ALLOW
    default = resource({"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*", "Resource": "*"})
    assert decide(req, resource=default, resource_policy_required=True).allowed


# --- NotPrincipal ----------------------------------------------------------------------------


def test_not_principal_deny_needs_role_session_and_account_listed():
    # Elements reference: NotPrincipal with Deny: to exempt a role session, list the session
    # ARN, the role ARN and the account ARN; AWS checks each identity in the request.
    everyone = {"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": QUEUE}
    all_three = resource(
        everyone,
        {
            "Effect": "Deny",
            "NotPrincipal": {"AWS": [ROLE_SESSION, ROLE, ROOT]},
            "Action": "sqs:*",
            "Resource": QUEUE,
        },
    )
    assert decide(request(principal=ROLE_SESSION), resource=all_three).allowed
    assert decide(request(principal=ALICE), resource=all_three).reason == EXPLICIT_DENY
    session_only = resource(
        everyone, {"Effect": "Deny", "NotPrincipal": {"AWS": [ROLE_SESSION]}, "Action": "sqs:*", "Resource": QUEUE}
    )
    assert decide(request(principal=ROLE_SESSION), resource=session_only).reason == EXPLICIT_DENY
    user_and_account = resource(
        everyone, {"Effect": "Deny", "NotPrincipal": {"AWS": [ALICE, ACCOUNT]}, "Action": "sqs:*", "Resource": QUEUE}
    )
    assert decide(request(principal=ALICE), resource=user_and_account).allowed


def test_not_principal_deny_always_denies_principals_with_a_boundary():
    # Permissions boundaries: "The NotPrincipal element with a Deny effect will always deny any
    # IAM principal that has a permissions boundary policy attached, regardless of the values
    # specified in the NotPrincipal element."
    policy = resource(
        {"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": QUEUE},
        {"Effect": "Deny", "NotPrincipal": {"AWS": [ALICE, ACCOUNT]}, "Action": "sqs:*", "Resource": QUEUE},
    )
    decision = decide(request(principal=ALICE), resource=policy, boundary=identity(allow("*")))
    assert decision.reason == EXPLICIT_DENY and decision.policy_type == RESOURCE_BASED


def test_not_principal_allow():
    policy = resource(
        {"Effect": "Allow", "NotPrincipal": {"AWS": [OTHER_ALICE, OTHER]}, "Action": "sqs:*", "Resource": QUEUE}
    )
    assert decide(request(principal=ALICE), resource=policy).allowed
    send_any = identity(allow("sqs:*", "*"))
    assert not decide(request(principal=OTHER_ALICE), identity=[send_any], resource=policy).allowed
