"""Action and Resource matching, NotAction/NotResource, and policy variables."""

import pytest

from .helpers import ALICE, QUEUE, SESSION, allow, allows, decide, deny, identity, request


@pytest.mark.parametrize(
    "pattern, action, expected",
    [
        # Elements reference: Action: "Prefixes and action names are case insensitive";
        # wildcards: "s3:*", "iam:*AccessKey*", "sqs:Send*", "?".
        ("sqs:SendMessage", "sqs:SendMessage", True),
        ("SQS:sendmessage", "sqs:SendMessage", True),
        ("sqs:Send*", "sqs:SendMessageBatch", True),
        ("sqs:*", "sqs:DeleteQueue", True),
        ("iam:*AccessKey*", "iam:CreateAccessKey", True),
        ("iam:*AccessKey*", "iam:CreateUser", False),
        ("sqs:?endMessage", "sqs:SendMessage", True),
        ("sqs:?endMessage", "sqs:SSendMessage", False),
        ("s?s:SendMessage", "sqs:SendMessage", True),
        ("*:SendMessage", "sns:SendMessage", True),
        ("*", "anything:Goes", True),
        ("sqs:SendMessage", "sqs:SendMessageBatch", False),
        ("sns:Publish", "sqs:SendMessage", False),
    ],
)
def test_action_patterns(pattern, action, expected):
    assert allows(allow(pattern), request(action=action)) is expected


def test_action_list_is_ored():
    assert allows(allow(["sns:Publish", "sqs:Send*"]))


def test_not_action_allow():
    # Elements reference: NotAction: "Allow" + "NotAction": "iam:*" + "Resource": "*"
    # allows every action except IAM's.
    statement = {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}
    assert allows(statement, request(action="s3:GetObject"))
    assert not allows(statement, request(action="iam:CreateUser"))


def test_not_action_deny_with_mfa():
    # Elements reference: NotAction: deny everything but IAM's actions when MFA is absent
    # (BoolIfExists aws:MultiFactorAuthPresent false).
    deny_all_but_iam = {
        "Effect": "Deny",
        "NotAction": "iam:*",
        "Resource": "*",
        "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
    }
    policies = [identity(allow("*"), deny_all_but_iam)]
    assert not decide(request(action="s3:ListBucket"), identity=policies).allowed
    assert decide(request(action="iam:ListUsers"), identity=policies).allowed
    mfa = request(action="s3:ListBucket", context_keys={"aws:MultiFactorAuthPresent": "true"})
    assert decide(mfa, identity=policies).allowed


@pytest.mark.parametrize(
    "pattern, resource, expected",
    [
        # Elements reference: Resource, "Using wildcards in resource ARNs".
        ("arn:aws:s3:::amzn-s3-demo-bucket/*", "arn:aws:s3:::amzn-s3-demo-bucket/a/b.txt", True),
        ("arn:aws:s3:::amzn-s3-demo-bucket/*", "arn:aws:s3:::amzn-s3-demo-bucket", False),
        ("arn:aws:iam::111122223333:user/accounting/*", "arn:aws:iam::111122223333:user/accounting/bob", True),
        # Case-sensitive: "In the Resource element, the IAM user name is case sensitive."
        ("arn:aws:iam::111122223333:user/Bob", "arn:aws:iam::111122223333:user/bob", False),
        ("arn:aws:sqs:us-east-?:111122223333:orders", QUEUE, True),
        ("arn:aws:sqs:*:111122223333:orders", QUEUE, True),
        ("arn:aws:sqs:us-*-1:111122223333:orders", QUEUE, True),
        # A * inside a segment stays in it...
        ("arn:aws:sqs:us-*1:111122223333:orders", "arn:aws:sqs:us-east-1:1:111122223333:orders", False),
        # ...but "if the * wildcard is the last character of a resource ARN segment, it can
        # expand to match beyond the colon boundaries".
        ("arn:aws:logs:*", "arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/f:*", True),
        (
            "arn:aws:logs:us-east-1:111122223333:log-group:*",
            "arn:aws:logs:us-east-1:111122223333:log-group:g:log-stream:s",
            True,
        ),
        ("*", QUEUE, True),
        ("arn:aws:sqs:us-east-1:111122223333:orders", QUEUE, True),
        ("arn:aws:sqs:us-east-1:111122223333:order", QUEUE, False),
    ],
)
def test_resource_patterns(pattern, resource, expected):
    assert allows(allow("*", pattern), request(resource=resource)) is expected


def test_not_resource_deny():
    # Elements reference: NotResource: deny everything outside one bucket.
    policies = [
        identity(
            allow("s3:*", "*"),
            {
                "Effect": "Deny",
                "Action": "s3:*",
                "NotResource": ["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"],
            },
        )
    ]
    assert decide(request(action="s3:GetObject", resource="arn:aws:s3:::HRBucket/Payroll/x"), identity=policies).allowed
    assert not decide(request(action="s3:GetObject", resource="arn:aws:s3:::other/x"), identity=policies).allowed


def test_action_without_resource_matches_only_star():
    # An action with no resource (ListQueues) is authorized against "*".
    assert allows(allow("sqs:ListQueues", "*"), request(action="sqs:ListQueues", resource="*"))
    assert not allows(allow("sqs:ListQueues", "arn:aws:sqs:*"), request(action="sqs:ListQueues", resource="*"))


# --- policy variables ---------------------------------------------------------------------


def test_username_variable_in_resource():
    # Variables and tags: "arn:aws:s3:::amzn-s3-demo-bucket/${aws:username}/*".
    statement = allow("s3:*", "arn:aws:s3:::amzn-s3-demo-bucket/${aws:username}/*")
    assert allows(statement, request(action="s3:GetObject", resource="arn:aws:s3:::amzn-s3-demo-bucket/alice/x"))
    assert not allows(statement, request(action="s3:GetObject", resource="arn:aws:s3:::amzn-s3-demo-bucket/bob/x"))


def test_variables_are_text_in_2008_documents():
    # Variables and tags: without Version 2012-10-17, "${aws:username}" is a literal string.
    statement = allow("s3:*", "arn:aws:s3:::bucket/${aws:username}/*")
    literal = request(action="s3:GetObject", resource="arn:aws:s3:::bucket/${aws:username}/x")
    assert allows(statement, literal, version="2008-10-17")
    assert not allows(
        statement, request(action="s3:GetObject", resource="arn:aws:s3:::bucket/alice/x"), version="2008-10-17"
    )


def test_variable_without_value_makes_the_element_not_match():
    # Variables and tags: a role session has no aws:username, so the Resource does not match
    # (and a Deny using it would not apply either).
    statement = allow("s3:*", "arn:aws:s3:::bucket/${aws:username}/*")
    assert not allows(
        statement, request(principal=SESSION, action="s3:GetObject", resource="arn:aws:s3:::bucket/alice/x")
    )


def test_variable_default_value():
    # Variables and tags, "Specifying default values": ${aws:PrincipalTag/team, 'company-wide'}.
    statement = allow("s3:GetObject", "arn:aws:s3:::bucket/${aws:PrincipalTag/team, 'company-wide'}/*")
    tagged = request(action="s3:GetObject", resource="arn:aws:s3:::bucket/red/x", principal_tags={"team": "red"})
    untagged = request(action="s3:GetObject", resource="arn:aws:s3:::bucket/company-wide/x")
    assert allows(statement, tagged)
    assert allows(statement, untagged)
    assert not allows(statement, request(action="s3:GetObject", resource="arn:aws:s3:::bucket/red/x"))


def test_special_character_variables_are_literal():
    # Variables and tags, "Special characters": ${*}, ${?}, ${$} stand for the characters
    # themselves, not wildcards.
    statement = allow("s3:*", "arn:aws:s3:::bucket/literal${*}${?}${$}")
    assert allows(statement, request(action="s3:GetObject", resource="arn:aws:s3:::bucket/literal*?$"))
    assert not allows(statement, request(action="s3:GetObject", resource="arn:aws:s3:::bucket/literalXY$"))


def test_variable_value_is_not_a_wildcard():
    statement = allow("s3:*", "arn:aws:s3:::bucket/${aws:PrincipalTag/dir}/x")
    starred = request(action="s3:GetObject", resource="arn:aws:s3:::bucket/abc/x", principal_tags={"dir": "*"})
    assert not allows(statement, starred)


def test_userid_and_principal_tag_variables_in_conditions():
    # Variables and tags: ${aws:userid} and ${aws:PrincipalTag/...} in condition values.
    statement = allow(
        "s3:ListBucket",
        "arn:aws:s3:::bucket",
        Condition={"StringLike": {"s3:prefix": ["home/${aws:userid}/*", "teams/${aws:PrincipalTag/team}/*"]}},
    )
    keys = {"aws:userid": "AIDAEXAMPLE", "s3:prefix": "home/AIDAEXAMPLE/docs"}
    assert allows(statement, request(action="s3:ListBucket", resource="arn:aws:s3:::bucket", context_keys=keys))
    team = request(
        action="s3:ListBucket",
        resource="arn:aws:s3:::bucket",
        context_keys={"s3:prefix": "teams/red/a"},
        principal_tags={"team": "red"},
    )
    assert allows(statement, team)


def test_deny_with_unresolvable_variable_does_not_apply():
    policies = [identity(allow("*"), deny("s3:*", "arn:aws:s3:::bucket/${aws:username}/*"))]
    role = request(principal=SESSION, action="s3:GetObject", resource="arn:aws:s3:::bucket/x/y")
    assert decide(role, identity=policies).allowed
    user = request(principal=ALICE, action="s3:GetObject", resource="arn:aws:s3:::bucket/alice/y")
    assert not decide(user, identity=policies).allowed
