"""Parsing and validating policy documents (IAM JSON policy elements reference; IAM JSON
policy grammar), with AWS's MalformedPolicyDocument messages."""

import json

import pytest

from lamina.policy import IDENTITY, RESOURCE, MalformedPolicy, parse_policy

from .helpers import ACCOUNT


def malformed(document, kind=IDENTITY) -> str:
    with pytest.raises(MalformedPolicy) as caught:
        parse_policy(document, kind=kind)
    return caught.value.message


def test_json_text_and_dict_give_the_same_policy():
    # Elements reference: Statement may be one object or a list of them.
    document = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}
    from_text = parse_policy(json.dumps(document))
    from_dict = parse_policy(document)
    assert len(from_text.statements) == len(from_dict.statements) == 1
    assert from_text.version == "2012-10-17"


def test_statement_list_sid_and_id_are_kept():
    # Elements reference: Id, Sid.
    policy = parse_policy(
        {
            "Version": "2012-10-17",
            "Id": "S3-Account-Permissions",
            "Statement": [
                {"Sid": "1", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                {"Sid": "2", "Effect": "Deny", "Action": "s3:Delete*", "Resource": "*"},
            ],
        }
    )
    assert policy.id == "S3-Account-Permissions"
    assert [s.sid for s in policy.statements] == ["1", "2"]
    assert [s.effect for s in policy.statements] == ["Allow", "Deny"]


def test_missing_version_is_the_2008_language():
    # Elements reference: Version: "If you do not include a Version element, the value
    # defaults to 2008-10-17".
    policy = parse_policy({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}})
    assert policy.version == "2008-10-17"


def test_invalid_json_is_a_syntax_error():
    assert malformed('{"Version": "2012-10-17", "Statement": [') == "Syntax errors in policy."


@pytest.mark.parametrize(
    "document",
    [
        {"Version": "2012-10-18", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}},
        {"Version": "2012-10-17"},
        {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}, "Extra": 1},
        {"Version": "2012-10-17", "Statement": {"Effect": "allow", "Action": "s3:*", "Resource": "*"}},
        {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Foo": 1}},
        {
            "Version": "2012-10-17",
            "Statement": {"Effect": "Allow", "Action": "s3:*", "NotAction": "s3:x", "Resource": "*"},
        },
        {
            "Version": "2012-10-17",
            "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "NotResource": "*"},
        },
        {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": {"s3": "x"}, "Resource": "*"}},
        {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": []}},
        [{"Effect": "Allow"}],
    ],
)
def test_syntax_errors(document):
    # Grammar: the fields, their types, Effect is exactly "Allow" or "Deny", Action xor NotAction.
    assert malformed(document) == "Syntax errors in policy."


def test_identity_policy_must_not_name_a_principal():
    document = {
        "Version": "2012-10-17",
        "Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"},
    }
    assert malformed(document) == "Policy document should not specify a principal."


def test_resource_policy_must_name_a_principal():
    document = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}}
    assert malformed(document, kind=RESOURCE) == "Missing required field Principal"


def test_missing_effect_actions_and_resources():
    assert malformed({"Statement": {"Action": "s3:*", "Resource": "*"}}) == "Missing required field Effect"
    assert malformed({"Statement": {"Effect": "Allow", "Resource": "*"}}) == "Policy statement must contain actions."
    assert malformed({"Statement": {"Effect": "Allow", "Action": "s3:*"}}) == "Policy statement must contain resources."


def test_resource_policy_may_leave_out_resource():
    # A trust policy has no Resource: the statement is about the resource it is attached to.
    trust = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            },
        },
        kind=RESOURCE,
    )
    assert trust.statements[0].resources is None


def test_action_needs_one_vendor_prefix():
    # IAM's messages for "ListBuckets" and "ec2:ec2:CreateNetworkInterface".
    vendor = {"Statement": {"Effect": "Allow", "Action": "ListBuckets", "Resource": "*"}}
    colons = {"Statement": {"Effect": "Allow", "Action": "ec2:ec2:CreateNetworkInterface", "Resource": "*"}}
    assert malformed(vendor) == "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
    assert malformed(colons) == "Actions/Condition can contain only one colon."


def test_resource_must_be_an_arn_or_star():
    document = {"Statement": {"Effect": "Allow", "Action": "ec2:*", "Resource": "vpc-123"}}
    assert malformed(document) == 'Resource vpc-123 must be in ARN format or "*".'


def test_unknown_condition_operator():
    document = {
        "Statement": {
            "Effect": "Allow",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {"StringEqualz": {"aws:username": "alice"}},
        }
    }
    assert malformed(document) == "Invalid Condition type : StringEqualz"


def test_null_has_no_ifexists_or_set_form():
    # Condition operators: "...IfExists" exists for every operator except Null.
    document = {
        "Statement": {
            "Effect": "Allow",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {"NullIfExists": {"k": "true"}},
        }
    }
    assert malformed(document) == "Invalid Condition type : NullIfExists"


def test_duplicate_sids():
    document = {
        "Statement": [
            {"Sid": "A", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Sid": "A", "Effect": "Deny", "Action": "s3:*", "Resource": "*"},
        ]
    }
    assert malformed(document) == "Statement IDs (SID) in a single policy must be unique."


def test_principal_forms():
    # Elements reference: Principal: everyone, account ids and the account's root ARN (both
    # mean the account), IAM ARNs, services, federated providers, canonical users.
    policy = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": {
                "Effect": "Allow",
                "Principal": {
                    "AWS": [ACCOUNT, "arn:aws:iam::444455556666:root", "arn:aws:iam::111122223333:user/alice"],
                    "Service": "sns.amazonaws.com",
                    "Federated": "cognito-identity.amazonaws.com",
                    "CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",
                },
                "Action": "sqs:SendMessage",
            },
        },
        kind=RESOURCE,
    )
    principals = policy.statements[0].principals
    assert principals is not None
    assert principals.accounts == {ACCOUNT, "444455556666"}
    assert principals.arns == {"arn:aws:iam::111122223333:user/alice"}
    assert ("Service", "sns.amazonaws.com") in principals.others
    assert not principals.everyone
    everyone = parse_policy(
        {"Statement": {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject"}}, kind=RESOURCE
    )
    assert everyone.statements[0].principals.everyone


def test_principal_with_a_partial_wildcard_is_refused():
    # Elements reference: Principal: "You cannot use a wildcard to match part of a principal
    # name or ARN."
    document = {
        "Statement": {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/*"}, "Action": "s3:*"}
    }
    assert malformed(document, kind=RESOURCE) == 'Invalid principal in policy: "AWS":"arn:aws:iam::111122223333:user/*"'


def test_principal_of_unknown_type_is_a_syntax_error():
    document = {"Statement": {"Effect": "Allow", "Principal": {"Users": "alice"}, "Action": "s3:*"}}
    assert malformed(document, kind=RESOURCE) == "Syntax errors in policy."


def test_referenced_keys_are_the_condition_keys_and_variables():
    policy = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": {
                "Effect": "Allow",
                "Action": "s3:*",
                "Resource": "arn:aws:s3:::bucket/${aws:username}/*",
                "Condition": {
                    "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
                    "StringEquals": {"s3:prefix": "${aws:PrincipalTag/team}"},
                },
            },
        }
    )
    assert policy.referenced_keys == {"aws:username", "aws:sourceip", "s3:prefix", "aws:principaltag/team"}
