"""AccessDenied messages, word for word as in "Troubleshoot access denied error messages"
(IAM User Guide)."""

import pytest

from lamina.policy import Decision, denial_message

from .helpers import ALICE, OTHER, QUEUE, SESSION, allow, decide, deny, identity, request, resource

QUEUE_123 = "arn:aws:sqs:us-east-1:123456789012:q"
ALICE_123 = "arn:aws:iam::123456789012:user/alice"


def message(req, **policies) -> str:
    decision = decide(req, **policies)
    assert not decision.allowed
    return denial_message(req, decision)


def test_no_identity_based_policy_allows():
    req = request(principal=ALICE_123, resource=QUEUE_123)
    assert message(req) == (
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sqs:SendMessage on resource: "
        "arn:aws:sqs:us-east-1:123456789012:q because no identity-based policy allows the sqs:SendMessage action"
    )


def test_without_a_resource():
    # The documented form for an action without a resource: "User: arn:aws:iam::777788889999:
    # user/MaryMajor is not authorized to perform: codecommit:ListRepositories because no
    # identity-based policy allows the codecommit:ListRepositories action".
    req = request(
        principal="arn:aws:iam::777788889999:user/MaryMajor", action="codecommit:ListRepositories", resource="*"
    )
    assert message(req) == (
        "User: arn:aws:iam::777788889999:user/MaryMajor is not authorized to perform: codecommit:ListRepositories "
        "because no identity-based policy allows the codecommit:ListRepositories action"
    )


def test_explicit_deny_variants():
    req = request()
    head = f"User: {ALICE} is not authorized to perform: sqs:SendMessage on resource: {QUEUE} "
    assert (
        message(req, identity=[identity(deny("sqs:*"))]) == head + "with an explicit deny in an identity-based policy"
    )
    queue_deny = resource({"Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": QUEUE})
    assert message(req, resource=queue_deny) == head + "with an explicit deny in a resource-based policy"
    boundary = identity(allow("*"), deny("sqs:*"))
    assert message(req, identity=[identity(allow())], boundary=boundary) == (
        head + "with an explicit deny in a permissions boundary"
    )
    session_req = request(principal=SESSION)
    session_head = f"User: {SESSION} is not authorized to perform: sqs:SendMessage on resource: {QUEUE} "
    assert message(session_req, identity=[identity(allow())], session=[identity(deny("sqs:*"))]) == (
        session_head + "with an explicit deny in a session policy"
    )


def test_implicit_deny_variants():
    cross = request(principal=f"arn:aws:iam::{OTHER}:user/bob")
    tail = "allows the sqs:SendMessage action"
    assert message(cross, identity=[identity(allow())]).endswith(f"because no resource-based policy {tail}")
    assert message(request(), identity=[identity(allow())], boundary=identity(allow("s3:*"))).endswith(
        f"because no permissions boundary {tail}"
    )
    session_req = request(principal=SESSION)
    assert message(session_req, identity=[identity(allow())], session=[identity(allow("s3:*"))]).endswith(
        f"because no session policy {tail}"
    )


def test_an_allowed_decision_has_no_message():
    with pytest.raises(ValueError):
        denial_message(request(), Decision(True))
