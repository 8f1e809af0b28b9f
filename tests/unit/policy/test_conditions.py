"""Every condition operator (IAM JSON policy elements: Condition operators), ...IfExists, the
set operators (Single-valued vs multivalued context keys), and how blocks combine (Condition
element: "Evaluation logic for conditions with multiple context keys or values")."""

import pytest

from .helpers import SESSION, condition_holds

# --- strings ---------------------------------------------------------------------------------


def test_string_equals_principal_tag():
    # Condition operators, String: StringEquals aws:PrincipalTag/job-category "iamuser-admin".
    block = {"StringEquals": {"aws:PrincipalTag/job-category": "iamuser-admin"}}
    assert condition_holds(block, principal_tags={"job-category": "iamuser-admin"})
    assert not condition_holds(block, principal_tags={"job-category": "IAMUser-Admin"})  # values are case-sensitive
    assert not condition_holds(block)  # missing key: false


def test_condition_key_names_are_case_insensitive():
    # Condition element: "Condition key names are not case-sensitive."
    block = {"StringEquals": {"AWS:PRINCIPALTAG/JOB-CATEGORY": "iamuser-admin"}}
    assert condition_holds(block, principal_tags={"Job-Category": "iamuser-admin"})
    assert condition_holds({"StringEquals": {"aws:sourcevpc": "vpc-1"}}, {"aws:SourceVpc": "vpc-1"})


def test_string_not_equals_and_missing_key():
    # Condition operators: a negated operator is true when the key is absent.
    block = {"StringNotEquals": {"aws:PrincipalTag/team": ["red", "blue"]}}
    assert condition_holds(block, principal_tags={"team": "green"})
    assert not condition_holds(block, principal_tags={"team": "red"})  # NOR of the values
    assert not condition_holds(block, principal_tags={"team": "blue"})
    assert condition_holds(block)


def test_string_equals_ignore_case():
    # Condition operators: StringEqualsIgnoreCase aws:PrincipalTag/name "ProductionApp".
    block = {"StringEqualsIgnoreCase": {"aws:PrincipalTag/name": "ProductionApp"}}
    assert condition_holds(block, principal_tags={"name": "productionapp"})
    assert not condition_holds(block, principal_tags={"name": "StagingApp"})
    negated = {"StringNotEqualsIgnoreCase": {"aws:PrincipalTag/name": "ProductionApp"}}
    assert not condition_holds(negated, principal_tags={"name": "PRODUCTIONAPP"})
    assert condition_holds(negated, principal_tags={"name": "StagingApp"})


def test_string_like_with_variable():
    # Condition operators, StringLike: "s3:prefix": ["", "home/", "home/${aws:username}/"].
    block = {"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/*"]}}
    assert condition_holds(block, {"s3:prefix": "home/alice/photos"})
    assert condition_holds(block, {"s3:prefix": ""})
    assert not condition_holds(block, {"s3:prefix": "home/bob/photos"})
    assert condition_holds({"StringLike": {"s3:prefix": "h?me/*"}}, {"s3:prefix": "home/x"})


def test_string_not_like():
    block = {"StringNotLike": {"s3:prefix": ["private/*", "secret*"]}}
    assert condition_holds(block, {"s3:prefix": "public/x"})
    assert not condition_holds(block, {"s3:prefix": "private/x"})
    assert condition_holds(block)


# --- numbers, dates, booleans, binary ----------------------------------------------------------


@pytest.mark.parametrize(
    "operator, value, expected",
    [
        # Condition operators, Numeric: NumericLessThanEquals s3:max-keys 10.
        ("NumericLessThanEquals", "10", True),
        ("NumericLessThanEquals", "11", False),
        ("NumericLessThan", "10", False),
        ("NumericLessThan", "9", True),
        ("NumericEquals", "10.0", True),
        ("NumericNotEquals", "10", False),
        ("NumericNotEquals", "7", True),
        ("NumericGreaterThan", "11", True),
        ("NumericGreaterThan", "10", False),
        ("NumericGreaterThanEquals", "10", True),
        ("NumericEquals", "ten", False),
    ],
)
def test_numeric(operator, value, expected):
    assert condition_holds({operator: {"s3:max-keys": "10"}}, {"s3:max-keys": value}) is expected


def test_numeric_policy_value_may_be_a_json_number():
    assert condition_holds({"NumericLessThanEquals": {"s3:max-keys": 10}}, {"s3:max-keys": "3"})


@pytest.mark.parametrize(
    "operator, current, expected",
    [
        # Condition operators, Date: aws:CurrentTime against "2020-04-01T00:00:00Z"; ISO 8601
        # or epoch (UNIX) time.
        ("DateGreaterThan", "2020-04-02T00:00:00Z", True),
        ("DateGreaterThan", "2020-04-01T00:00:00Z", False),
        ("DateGreaterThanEquals", "2020-04-01T00:00:00Z", True),
        ("DateLessThan", "2020-03-31T23:59:59Z", True),
        ("DateLessThan", "2020-04-01T00:00:01Z", False),
        ("DateLessThanEquals", "2020-04-01T00:00:00Z", True),
        ("DateEquals", "1585699200", True),  # the same instant as epoch seconds
        ("DateEquals", "2020-04-01T02:00:00+02:00", True),
        ("DateNotEquals", "2020-04-01T00:00:00Z", False),
        ("DateNotEquals", "2021-01-01", True),
    ],
)
def test_date(operator, current, expected):
    block = {operator: {"aws:CurrentTime": "2020-04-01T00:00:00Z"}}
    assert condition_holds(block, {"aws:CurrentTime": current}) is expected


def test_date_against_the_real_clock():
    # aws:CurrentTime is filled in when the caller does not give it.
    assert condition_holds({"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}})
    assert condition_holds({"DateLessThan": {"aws:EpochTime": "4102444800"}})  # 2100-01-01


def test_bool_secure_transport():
    # Condition operators, Boolean: "Bool": {"aws:SecureTransport": "true"}.
    block = {"Bool": {"aws:SecureTransport": "true"}}
    assert condition_holds(block, {"aws:SecureTransport": "true"})
    assert condition_holds(block, {"aws:SecureTransport": True})
    assert not condition_holds(block, {"aws:SecureTransport": "false"})
    assert not condition_holds(block)
    assert condition_holds({"Bool": {"aws:SecureTransport": True}}, {"aws:SecureTransport": "TRUE"})


def test_bool_if_exists_mfa():
    # Condition operators, ...IfExists: BoolIfExists aws:MultiFactorAuthPresent "false" is
    # true for long-term credentials, which carry no such key.
    block = {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
    assert condition_holds(block)
    assert condition_holds(block, {"aws:MultiFactorAuthPresent": "false"})
    assert not condition_holds(block, {"aws:MultiFactorAuthPresent": "true"})


def test_binary_equals():
    # Condition operators, Binary: "BinaryEquals": {"key": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}.
    block = {"BinaryEquals": {"key": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}
    assert condition_holds(block, {"key": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="})
    assert not condition_holds(block, {"key": "T3RoZXI="})
    assert not condition_holds(block, {"key": "not base64!"})


# --- addresses and ARNs ----------------------------------------------------------------------


def test_ip_address_ipv4():
    # Condition operators, IP address: IpAddress aws:SourceIp "203.0.113.0/24".
    block = {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}
    assert condition_holds(block, {"aws:SourceIp": "203.0.113.7"})
    assert not condition_holds(block, {"aws:SourceIp": "198.51.100.7"})
    assert not condition_holds(block)
    assert condition_holds({"IpAddress": {"aws:SourceIp": "203.0.113.7"}}, {"aws:SourceIp": "203.0.113.7"})


def test_ip_address_ipv6_and_mixed():
    # Condition operators, IP address: "aws:SourceIp": ["203.0.113.0/24", "2001:DB8:1234:5678::/64"].
    block = {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:DB8:1234:5678::/64"]}}
    assert condition_holds(block, {"aws:SourceIp": "2001:db8:1234:5678::1"})
    assert condition_holds(block, {"aws:SourceIp": "203.0.113.1"})
    assert not condition_holds(block, {"aws:SourceIp": "2001:db8:1234:9999::1"})


def test_not_ip_address():
    # Condition operators: NotIpAddress -- the deny-outside-a-range example.
    block = {"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24"]}}
    assert condition_holds(block, {"aws:SourceIp": "198.51.100.1"})
    assert not condition_holds(block, {"aws:SourceIp": "192.0.2.5"})
    assert condition_holds(block)  # negated: a missing key is true


def test_arn_equals_and_like():
    # Condition operators, ARN: ArnEquals aws:SourceArn "arn:aws:sns:REGION:123456789012:TOPIC-ID";
    # "each of the six colon-delimited components of the ARN is checked separately".
    topic = "arn:aws:sns:us-east-1:123456789012:topic"
    assert condition_holds({"ArnEquals": {"aws:SourceArn": topic}}, {"aws:SourceArn": topic})
    assert not condition_holds({"ArnEquals": {"aws:SourceArn": topic}}, {"aws:SourceArn": topic + "2"})
    like = {"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:123456789012:*"}}
    assert condition_holds(like, {"aws:SourceArn": topic})
    assert not condition_holds(like, {"aws:SourceArn": "arn:aws:sns:us-east-1:999999999999:topic"})
    # A wildcard does not cross into the next component, except in the last one.
    assert not condition_holds({"ArnLike": {"aws:SourceArn": "arn:aws:sns:*"}}, {"aws:SourceArn": topic})
    assert condition_holds(
        {"ArnLike": {"aws:SourceArn": "arn:aws:logs:*:*:log-group:*"}},
        {"aws:SourceArn": "arn:aws:logs:us-east-1:1:log-group:g:log-stream:s"},
    )
    assert not condition_holds(like, {"aws:SourceArn": "not-an-arn"})


def test_arn_not_equals_and_not_like():
    topic = "arn:aws:sns:us-east-1:123456789012:topic"
    assert not condition_holds({"ArnNotEquals": {"aws:SourceArn": topic}}, {"aws:SourceArn": topic})
    assert condition_holds({"ArnNotLike": {"aws:SourceArn": "arn:aws:sns:*:*:other*"}}, {"aws:SourceArn": topic})
    assert condition_holds({"ArnNotLike": {"aws:SourceArn": "arn:aws:sns:*:*:*"}})  # missing key


def test_principal_arn_of_a_role_session_is_the_role():
    # Global condition context keys, aws:PrincipalArn: for a role session, the role's ARN.
    block = {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/Admin"}}
    assert condition_holds(block, principal=SESSION)


# --- Null and IfExists -----------------------------------------------------------------------


def test_null():
    # Condition operators, Null: "aws:TokenIssueTime": "true" -- the key is absent
    # (long-term credentials); "false" -- present.
    absent = {"Null": {"aws:TokenIssueTime": "true"}}
    present = {"Null": {"aws:TokenIssueTime": "false"}}
    assert condition_holds(absent)
    assert not condition_holds(absent, {"aws:TokenIssueTime": "2024-01-01T00:00:00Z"})
    assert condition_holds(present, {"aws:TokenIssueTime": "2024-01-01T00:00:00Z"})
    assert not condition_holds(present)
    assert condition_holds({"Null": {"aws:TagKeys": True}}, {"aws:TagKeys": []})  # an empty set is null


def test_if_exists_on_every_operator_family():
    # Condition operators, ...IfExists: "If the policy key is present in the context of the
    # request, process the key as specified in the policy. If it is not present, evaluate
    # the condition element as true."
    for block, present, failing in [
        ({"StringEqualsIfExists": {"ec2:InstanceType": ["t1.*", "t2.*"]}}, "t1.*", "m5.large"),
        ({"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*"]}}, "t2.micro", "m5.large"),
        ({"NumericLessThanIfExists": {"k": "5"}}, "3", "9"),
        ({"DateLessThanIfExists": {"k": "2020-01-01"}}, "2019-01-01", "2021-01-01"),
        ({"IpAddressIfExists": {"k": "10.0.0.0/8"}}, "10.1.1.1", "11.1.1.1"),
        ({"ArnLikeIfExists": {"k": "arn:aws:s3:::*"}}, "arn:aws:s3:::b", "arn:aws:sqs:r:1:q"),
        ({"BinaryEqualsIfExists": {"k": "YQ=="}}, "YQ==", "Yg=="),
        ({"StringNotEqualsIfExists": {"k": "x"}}, "y", "x"),
    ]:
        key = next(iter(next(iter(block.values()))))
        assert condition_holds(block), block
        assert condition_holds(block, {key: present}), block
        assert not condition_holds(block, {key: failing}), block


# --- several keys, several values, several operators ---------------------------------------


def test_keys_are_anded_values_ored():
    # Condition element: "If your policy has multiple condition operators or multiple keys
    # attached to a single condition operator, the conditions are evaluated using a logical AND";
    # "multiple values for one key ... logical OR".
    block = {
        "StringEquals": {"aws:PrincipalTag/team": ["red", "blue"], "aws:PrincipalTag/env": "prod"},
        "Bool": {"aws:SecureTransport": "true"},
    }
    secure = {"aws:SecureTransport": "true"}
    assert condition_holds(block, secure, principal_tags={"team": "blue", "env": "prod"})
    assert not condition_holds(block, secure, principal_tags={"team": "blue", "env": "dev"})
    assert not condition_holds(block, {}, principal_tags={"team": "blue", "env": "prod"})


def test_single_valued_operator_on_multivalued_key():
    # Without a set operator, a multivalued key matches when any of its values does.
    assert condition_holds({"StringEquals": {"aws:TagKeys": "env"}}, {"aws:TagKeys": ["team", "env"]})
    assert not condition_holds({"StringNotEquals": {"aws:TagKeys": "env"}}, {"aws:TagKeys": ["team", "env"]})


# --- set operators ---------------------------------------------------------------------------


def test_for_all_values():
    # Single-valued vs multivalued context keys: ForAllValues:StringLike aws:TagKeys
    # ["key1*"]: every tag key in the request must match.
    block = {"ForAllValues:StringLike": {"aws:TagKeys": ["key1*", "key2"]}}
    assert condition_holds(block, request_tags={"key1a": "x", "key2": "y"})
    assert not condition_holds(block, request_tags={"key1a": "x", "key3": "y"})


def test_for_all_values_missing_or_empty_key_is_true():
    # "ForAllValues ... returns true if there are no keys in the request or if the key values
    # resolve to a null data set, such as an empty string" -- why it needs a Null check.
    block = {"ForAllValues:StringEquals": {"aws:TagKeys": ["env"]}}
    assert condition_holds(block)
    assert condition_holds(block, {"aws:TagKeys": []})


def test_for_any_value():
    # ForAnyValue:StringEquals aws:TagKeys: at least one request value matches.
    block = {"ForAnyValue:StringEquals": {"aws:TagKeys": ["env", "team"]}}
    assert condition_holds(block, request_tags={"env": "x", "other": "y"})
    assert not condition_holds(block, request_tags={"other": "y"})


def test_for_any_value_missing_or_empty_key_is_false():
    block = {"ForAnyValue:StringEquals": {"aws:TagKeys": ["env"]}}
    assert not condition_holds(block)
    assert not condition_holds(block, {"aws:TagKeys": []})


def test_set_operators_with_negated_operators():
    # ForAllValues:StringNotEquals: no request value equals any policy value.
    all_not = {"ForAllValues:StringNotEquals": {"aws:TagKeys": ["secret"]}}
    assert condition_holds(all_not, {"aws:TagKeys": ["a", "b"]})
    assert not condition_holds(all_not, {"aws:TagKeys": ["a", "secret"]})
    # ForAnyValue:StringNotEquals: at least one request value is not any of the policy values.
    any_not = {"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["secret"]}}
    assert condition_holds(any_not, {"aws:TagKeys": ["a", "secret"]})
    assert not condition_holds(any_not, {"aws:TagKeys": ["secret"]})
    assert not condition_holds(any_not)


def test_set_operator_with_if_exists():
    block = {"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": ["env"]}}
    assert condition_holds(block)
    assert not condition_holds(block, {"aws:TagKeys": ["x"]})


def test_set_operators_on_other_families():
    assert condition_holds({"ForAnyValue:IpAddress": {"k": "10.0.0.0/8"}}, {"k": ["192.0.2.1", "10.2.3.4"]})
    assert not condition_holds({"ForAllValues:IpAddress": {"k": "10.0.0.0/8"}}, {"k": ["192.0.2.1", "10.2.3.4"]})
    assert condition_holds({"ForAllValues:NumericLessThan": {"k": "5"}}, {"k": ["1", "2"]})
    assert condition_holds({"ForAnyValue:ArnLike": {"k": "arn:aws:s3:::*"}}, {"k": ["x", "arn:aws:s3:::b"]})


def test_request_tags_give_tag_keys():
    # aws:TagKeys and aws:RequestTag/key come from the request's tags.
    block = {"StringEquals": {"aws:RequestTag/env": "prod"}, "ForAllValues:StringEquals": {"aws:TagKeys": ["env"]}}
    assert condition_holds(block, request_tags={"env": "prod"})
    assert not condition_holds(block, request_tags={"env": "prod", "x": "y"})


def test_resource_tag():
    block = {"StringEquals": {"aws:ResourceTag/owner": "${aws:username}"}}
    assert condition_holds(block, resource_tags={"owner": "alice"})
    assert not condition_holds(block, resource_tags={"owner": "bob"})
    # No aws:username for a role session: the value does not resolve, the condition fails.
    assert not condition_holds(block, principal=SESSION, resource_tags={"owner": "alice"})
