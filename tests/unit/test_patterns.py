"""EventBridge event patterns (also SNS filter policies and Lambda FilterCriteria)."""

import json
from decimal import Decimal

import pytest

from lamina.patterns import (
    InvalidPattern,
    Pattern,
    compile_pattern,
    compile_sns_policy,
    matches,
    sns_attributes_to_event,
    sns_policy_matches,
)

# The EC2 event of the AWS documentation and the event-ruler README.
EC2 = {
    "version": "0",
    "id": "ddddd4-aaaa-7777-4444-345dd43cc333",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "012345679012",
    "time": "2017-10-02T16:24:49Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
    "detail": {
        "c-count": 5,
        "d-count": 3,
        "x-limit": 301.8,
        "source-ip": "10.0.0.33",
        "instance-id": "i-000000aaaaaa00000",
        "state": "running",
        "empty": "",
        "nothing": None,
        "flag": True,
        "tags": ["a", "b", ["c", "d"]],
        "no-tags": [],
        "sub": {"leaf": 1},
    },
}

CASES = [
    # --- exact values, AND of fields, OR of values
    ({"source": ["aws.ec2"]}, True),
    ({"source": ["aws.s3"]}, False),
    ({"source": ["aws.s3", "aws.ec2"]}, True),
    ({"source": ["aws.ec2"], "region": ["us-east-1"]}, True),
    ({"source": ["aws.ec2"], "region": ["eu-west-1"]}, False),
    ({"source": ["AWS.EC2"]}, False),  # case-sensitive
    ({"detail": {"state": ["initializing", "running"]}}, True),
    ({"detail": {"state": ["stopped"]}}, False),
    ({"missing": ["x"]}, False),
    ({"detail": {"missing": ["x"]}}, False),
    ({"nothere": {"state": ["running"]}}, False),
    ({"detail": {"empty": [""]}}, True),
    ({"detail": {"empty": [None]}}, False),  # empty string is not null
    ({"detail": {"nothing": [None]}}, True),
    ({"detail": {"nothing": [""]}}, False),
    ({"detail": {"flag": [True]}}, True),
    ({"detail": {"flag": [False]}}, False),
    ({"detail": {"flag": ["true"]}}, False),
    ({"detail": {"c-count": [1]}}, False),
    ({"detail": {"flag": [1]}}, False),  # true is not the number 1
    # --- numbers: compared as decimals, type-strict
    ({"detail": {"c-count": [5]}}, True),
    ({"detail": {"c-count": [5.0]}}, True),
    ({"detail": {"c-count": ["5"]}}, False),
    ({"detail": {"x-limit": [301.8]}}, True),
    ({"detail": {"x-limit": [3.018e2]}}, True),
    ({"account": [12345679012]}, False),  # the account is a string
    # --- arrays in the event
    ({"resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"]}, True),
    ({"resources": ["arn:aws:ec2:us-east-1:123456789012:instance/other"]}, False),
    ({"detail": {"tags": ["b"]}}, True),
    ({"detail": {"tags": ["d"]}}, True),  # nested arrays are flattened
    ({"detail": {"tags": ["z"]}}, False),
    ({"detail": {"tags": [{"prefix": "c"}]}}, True),
    # --- a leaf pattern never matches an object value
    ({"detail": ["running"]}, False),
    ({"detail": {"sub": [1]}}, False),
    ({"detail": {"sub": {"leaf": [1]}}}, True),
    # --- prefix / suffix / equals-ignore-case
    ({"time": [{"prefix": "2017-10-02"}]}, True),
    ({"time": [{"prefix": "2017-10-03"}]}, False),
    ({"time": [{"prefix": ""}]}, True),
    ({"detail": {"c-count": [{"prefix": "5"}]}}, False),  # strings only
    ({"source": [{"prefix": {"equals-ignore-case": "AWS."}}]}, True),
    ({"source": [{"prefix": "AWS."}]}, False),
    ({"source": [{"suffix": "ec2"}]}, True),
    ({"source": [{"suffix": "s3"}]}, False),
    ({"source": [{"suffix": {"equals-ignore-case": "EC2"}}]}, True),
    ({"source": [{"suffix": {"equals-ignore-case": "S3"}}]}, False),
    ({"source": [{"equals-ignore-case": "AWS.Ec2"}]}, True),
    ({"source": [{"equals-ignore-case": "aws.ec"}]}, False),
    ({"detail": {"flag": [{"equals-ignore-case": "true"}]}}, False),
    # --- wildcard
    ({"source": [{"wildcard": "aws.*"}]}, True),
    ({"source": [{"wildcard": "*.ec2"}]}, True),
    ({"source": [{"wildcard": "a*.e*2"}]}, True),
    ({"source": [{"wildcard": "*"}]}, True),
    ({"source": [{"wildcard": "aws.ec2*"}]}, True),  # * matches nothing too
    ({"source": [{"wildcard": "*s3*"}]}, False),
    ({"source": [{"wildcard": "aws.ec2"}]}, True),
    ({"source": [{"wildcard": "aws.ec"}]}, False),
    ({"source": [{"wildcard": "aws*ws.ec2"}]}, False),  # segments may not overlap
    ({"detail": {"c-count": [{"wildcard": "*"}]}}, False),
    # --- anything-but
    ({"detail": {"state": [{"anything-but": "initializing"}]}}, True),
    ({"detail": {"state": [{"anything-but": "running"}]}}, False),
    ({"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}}, True),
    ({"detail": {"state": [{"anything-but": ["stopped", "running"]}]}}, False),
    ({"detail": {"c-count": [{"anything-but": 123}]}}, True),
    ({"detail": {"c-count": [{"anything-but": 5}]}}, False),
    ({"detail": {"c-count": [{"anything-but": [5.0, 6]}]}}, False),
    ({"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}}, True),
    ({"detail": {"c-count": [{"anything-but": "5"}]}}, True),  # other types pass
    ({"detail": {"nothing": [{"anything-but": "x"}]}}, True),
    ({"detail": {"missing": [{"anything-but": "x"}]}}, False),  # needs the field
    ({"detail": {"state": [{"anything-but": {"prefix": "init"}}]}}, True),
    ({"detail": {"state": [{"anything-but": {"prefix": "run"}}]}}, False),
    ({"detail": {"state": [{"anything-but": {"prefix": ["x", "ru"]}}]}}, False),
    ({"detail": {"c-count": [{"anything-but": {"prefix": "5"}}]}}, True),
    ({"detail": {"state": [{"anything-but": {"suffix": "ing"}}]}}, False),
    ({"detail": {"state": [{"anything-but": {"suffix": ".png"}}]}}, True),
    ({"detail": {"state": [{"anything-but": {"equals-ignore-case": "RUNNING"}}]}}, False),
    ({"detail": {"state": [{"anything-but": {"equals-ignore-case": ["X", "Y"]}}]}}, True),
    ({"detail": {"state": [{"anything-but": {"wildcard": "r*g"}}]}}, False),
    ({"detail": {"state": [{"anything-but": {"wildcard": "*/lib/*"}}]}}, True),
    # an array matches anything-but when any element is not excluded
    ({"detail": {"tags": [{"anything-but": ["a", "b", "c"]}]}}, True),
    ({"detail": {"tags": [{"anything-but": ["a", "b", "c", "d"]}]}}, False),
    # --- numeric
    ({"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}]}}, True),
    ({"detail": {"c-count": [{"numeric": [">", 0, "<", 5]}]}}, False),
    ({"detail": {"c-count": [{"numeric": [">=", 5, "<", 6]}]}}, True),
    ({"detail": {"c-count": [{"numeric": [">", 5]}]}}, False),
    ({"detail": {"c-count": [{"numeric": [">=", 5]}]}}, True),
    ({"detail": {"d-count": [{"numeric": ["<", 10]}]}}, True),
    ({"detail": {"d-count": [{"numeric": ["<=", 2.999999]}]}}, False),
    ({"detail": {"x-limit": [{"numeric": ["=", 3.018e2]}]}}, True),
    ({"detail": {"x-limit": [{"numeric": ["=", 301.800001]}]}}, False),
    ({"detail": {"state": [{"numeric": [">", 0]}]}}, False),  # numbers only
    ({"detail": {"flag": [{"numeric": [">", 0]}]}}, False),
    (
        {
            "detail": {
                "c-count": [{"numeric": [">", 0, "<=", 5]}],
                "d-count": [{"numeric": ["<", 10]}],
                "x-limit": [{"numeric": ["=", 3.018e2]}],
            }
        },
        True,
    ),
    ({"detail": {"c-count": [{"numeric": [">", 10]}, {"numeric": ["<", 0]}, 5]}}, True),
    # --- exists (leaf values only)
    ({"detail": {"c-count": [{"exists": True}]}}, True),
    ({"detail": {"c-count": [{"exists": False}]}}, False),
    ({"detail": {"missing": [{"exists": False}]}}, True),
    ({"detail": {"missing": [{"exists": True}]}}, False),
    ({"nothere": {"deeper": [{"exists": False}]}}, True),
    ({"detail": {"sub": [{"exists": False}]}}, True),  # an object is not a leaf
    ({"detail": {"sub": [{"exists": True}]}}, False),
    ({"detail": {"nothing": [{"exists": True}]}}, True),  # null is a value
    ({"detail": {"no-tags": [{"exists": False}]}}, True),  # [] has no leaf value
    ({"detail": {"no-tags": [{"exists": True}]}}, False),
    ({"detail": {"missing": ["x", {"exists": False}]}}, True),
    # --- cidr
    ({"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}}, True),
    ({"detail": {"source-ip": [{"cidr": "10.0.1.0/24"}]}}, False),
    ({"detail": {"source-ip": [{"cidr": "10.0.0.0/8"}]}}, True),
    ({"detail": {"source-ip": [{"cidr": "10.0.0.33/31"}]}}, True),
    ({"detail": {"source-ip": [{"cidr": "10.0.0.1/24"}]}}, True),  # 10.0.0.1 to 10.0.0.255
    ({"detail": {"source-ip": [{"cidr": "10.0.0.34/24"}]}}, False),  # host bits are not masked
    ({"detail": {"source-ip": [{"cidr": "2001:db8::/32"}]}}, False),
    ({"detail": {"state": [{"cidr": "10.0.0.0/8"}]}}, False),
    # --- $or
    ({"source": ["aws.ec2"], "$or": [{"region": ["eu-west-1"]}, {"detail": {"c-count": [5]}}]}, True),
    ({"source": ["aws.ec2"], "$or": [{"region": ["eu-west-1"]}, {"detail": {"c-count": [6]}}]}, False),
    ({"source": ["aws.s3"], "$or": [{"region": ["us-east-1"]}, {"account": ["x"]}]}, False),
    ({"detail": {"$or": [{"state": ["stopped"]}, {"d-count": [{"numeric": ["<", 10]}]}]}}, True),
    ({"detail": {"$or": [{"state": ["stopped"]}, {"d-count": [{"numeric": [">", 10]}]}]}}, False),
    (
        {
            "$or": [
                {"region": ["x"]},
                {"source": ["aws.ec2"], "$or": [{"detail": {"c-count": [1]}}, {"detail": {"d-count": [3]}}]},
            ]
        },
        True,
    ),
    (
        {
            "$or": [
                {"region": ["x"]},
                {"source": ["aws.ec2"], "$or": [{"detail": {"c-count": [1]}}, {"detail": {"d-count": [4]}}]},
            ]
        },
        False,
    ),
    ({"$or": [{"region": ["x"]}, {"detail": {"missing": [{"exists": False}]}}]}, True),
    (
        {"$or": [{"region": ["x"]}, {"source": ["y"]}], "detail": {"$or": [{"state": ["running"]}, {"c-count": [9]}]}},
        False,
    ),
]


@pytest.mark.parametrize("pattern, expected", CASES, ids=[json.dumps(c[0]) for c in CASES])
def test_patterns_against_the_ec2_event(pattern, expected):
    assert matches(pattern, EC2) is expected
    assert compile_pattern(json.dumps(pattern)).matches(EC2) is expected


EMPLOYEES = {
    "employees": [
        [{"firstName": "John", "lastName": "Doe"}, {"firstName": "Anna", "lastName": "Smith"}],
        [{"firstName": "Peter", "lastName": "Jones"}],
    ]
}


@pytest.mark.parametrize(
    "pattern, expected",
    [
        ({"employees": {"firstName": ["Anna"]}}, True),
        ({"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}}, True),
        # array consistency: fields never come from different elements
        ({"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}, False),
        ({"employees": {"firstName": ["Zoe"]}}, False),
        ({"employees": {"middleName": [{"exists": False}]}}, True),
        ({"employees": ["John"]}, False),
    ],
)
def test_arrays_of_objects(pattern, expected):
    assert matches(pattern, EMPLOYEES) is expected


def test_nested_arrays_and_scalars_under_nested_pattern():
    assert matches({"a": {"b": ["x"]}}, {"a": [1, {"b": "x"}]})
    assert not matches({"a": {"b": ["x"]}}, {"a": "b"})
    assert matches({"a": {"b": [{"exists": False}]}}, {"a": [1, 2]})
    assert not matches({"a": {"b": [{"exists": False}]}}, {"a": [{"b": 1}]})


def test_exists_false_matches_an_intermediate_object_as_documented():
    pattern = {"detail": {"c-count": [{"exists": False}]}}
    assert matches(pattern, {"detail": {"state": ["initializing", "running"]}})
    assert matches(pattern, {"detail": {"state": "running", "c-count": {"c1": 100}}})
    assert not matches(pattern, {"detail": {"c-count": 0}})


def test_numbers_are_exact_decimals():
    assert matches({"n": [0.1]}, {"n": 0.1})
    assert matches({"n": [{"numeric": ["=", 0.3]}]}, {"n": Decimal("0.30")})
    assert not matches({"n": [{"numeric": ["=", 0.3]}]}, {"n": 0.1 + 0.2})
    big = 123456789012345678901234567890
    assert matches({"n": [big]}, {"n": big})
    assert not matches({"n": [big]}, {"n": big + 1})
    text = '{"n": [12345678901234567890.5]}'  # exact values have no range limit
    assert compile_pattern(text).matches({"n": Decimal("12345678901234567890.5")})


@pytest.mark.parametrize(
    "wildcard, value, expected",
    [
        ("*.png", "a/b.png", True),
        ("*.png", "a/b.png.txt", False),
        ("dir/*.png", "dir/sub/x.png", True),
        ("a*b*c", "abc", True),
        ("a*b*c", "aXbYbZc", True),
        ("a*b*c", "acb", False),
        ("ab*ba", "aba", False),
        (r"a\*b", "a*b", True),
        (r"a\*b", "aXb", False),
        (r"a\\b", "a\\b", True),
        (r"a\\*", "a\\anything", True),
        (r"\**", "*star", True),
        (r"\**", "star", False),
        ("", "", True),
        ("*", "", True),
    ],
)
def test_wildcards(wildcard, value, expected):
    assert matches({"f": [{"wildcard": wildcard}]}, {"f": value}) is expected


def test_ipv6_cidr():
    pattern = {"ip": [{"cidr": "2001:db8::/32"}]}
    assert matches(pattern, {"ip": "2001:db8:0:1::7"})
    assert matches(pattern, {"ip": "2001:0db8:0000:0000:0000:0000:0000:0001"})
    assert not matches(pattern, {"ip": "2001:db9::1"})
    assert not matches(pattern, {"ip": "10.0.0.1"})
    assert not matches(pattern, {"ip": "not-an-ip"})


def test_compiled_pattern_is_reusable_and_keeps_its_source():
    compiled = compile_pattern({"source": ["aws.ec2"]})
    assert isinstance(compiled, Pattern)
    assert compiled.source == {"source": ["aws.ec2"]}
    assert compiled.matches(EC2) and not compiled.matches({"source": "x"})
    assert matches(compiled, EC2)
    assert "aws.ec2" in repr(compiled)


def test_a_field_named_like_an_operator_is_fine_outside_or():
    assert matches({"prefix": ["x"]}, {"prefix": "x"})
    assert matches({"detail": {"numeric": [1]}}, {"detail": {"numeric": 1}})


INVALID = [
    ({}, "Empty objects"),
    ("{}", "Empty objects"),
    ({"detail": {}}, "Empty objects"),
    ([], "not an object"),
    ("[1]", "not an object"),
    ("not json", "not valid JSON"),
    ("NaN", "not valid JSON"),
    ({"source": "aws.ec2"}, "must be an object or an array"),
    ({"source": 5}, "must be an object or an array"),
    ({"source": None}, "must be an object or an array"),
    ({"source": []}, "Empty arrays"),
    ({"source": [["aws.ec2"]]}, "Match value must be String, number, true, false, or null"),
    ({"n": [float("inf")]}, "Match value must be String"),
    ({"source": [{}]}, "Match expression name not found"),
    ({"source": [{"prefix": "a", "suffix": "b"}]}, "Only one key allowed in match expression"),
    ({"source": [{"regex": "a.*"}]}, "Unrecognized match type regex"),
    ({"source": [{"contains": "a"}]}, "Unrecognized match type contains"),
    ({"source": [{"prefix": 5}]}, "must be a string"),
    ({"source": [{"prefix": {"suffix": "a"}}]}, "Unsupported prefix pattern: suffix"),
    ({"source": [{"prefix": {"equals-ignore-case": 1}}]}, "must be a string"),
    ({"source": [{"suffix": None}]}, "must be a string"),
    ({"source": [{"equals-ignore-case": ["a"]}]}, "must be a string"),
    ({"source": [{"wildcard": 1}]}, "must be a string"),
    ({"source": [{"wildcard": "a**b"}]}, "Consecutive wildcard characters at pos 2"),
    ({"source": [{"wildcard": r"a\b"}]}, "Invalid escape character at pos 2"),
    ({"source": [{"wildcard": "trailing\\"}]}, "Invalid escape character at pos 9"),
    ({"source": [{"exists": "true"}]}, "true or false"),
    ({"source": [{"exists": 1}]}, "true or false"),
    ({"source": [{"anything-but": None}]}, "anything-but"),
    ({"source": [{"anything-but": True}]}, "anything-but"),
    ({"source": [{"anything-but": []}]}, "either all values are number or string"),
    ({"source": [{"anything-but": ["a", 1]}]}, "mixed type is not supported"),
    ({"source": [{"anything-but": ["a", None]}]}, r"start\|null\|boolean is not supported"),
    ({"source": [{"anything-but": {"prefix": ""}}]}, "Null prefix/suffix not allowed"),
    ({"source": [{"anything-but": {"suffix": ["x", ""]}}]}, "Null prefix/suffix not allowed"),
    ({"source": [{"anything-but": {"prefix": 1}}]}, "string"),
    ({"source": [{"anything-but": {"numeric": [">", 1]}}]}, "Unsupported anything-but pattern: numeric"),
    ({"source": [{"anything-but": {"prefix": "a", "suffix": "b"}}]}, "Too many elements in numeric expression"),
    ({"source": [{"anything-but": {"wildcard": "a**"}}]}, "Consecutive wildcard characters"),
    ({"n": [{"numeric": 5}]}, "Value of numeric must be an array."),
    ({"n": [{"numeric": []}]}, "Invalid member in numeric match: ]"),
    ({"n": [{"numeric": [">"]}]}, "Value of > must be numeric"),
    ({"n": [{"numeric": [">", 0, "<"]}]}, "Value of < must be numeric"),
    ({"n": [{"numeric": [">", 0, "<", 5, "<", 6]}]}, "Too many terms in numeric range expression"),
    ({"n": [{"numeric": ["!=", 0]}]}, "Unrecognized numeric range operator: !="),
    ({"n": [{"numeric": [">", "0"]}]}, "Value of > must be numeric"),
    ({"n": [{"numeric": [">", True]}]}, "Value of > must be numeric"),
    ({"n": [{"numeric": [">", 5, "<", 5]}]}, "Bottom must be less than top"),
    ({"n": [{"numeric": [">=", 6, "<=", 5]}]}, "Bottom must be less than top"),
    ({"n": [{"numeric": ["<", 5, ">", 0]}]}, "Too many elements in numeric expression"),
    ({"n": [{"numeric": [">", 0, ">", 5]}]}, "Bad numeric range operator: >"),
    ({"n": [{"numeric": ["=", 0, "<", 5]}]}, "Too many elements in numeric expression"),
    ({"ip": [{"cidr": "10.0.0.0"}]}, "Malformed CIDR, one '/' required"),
    ({"ip": [{"cidr": "10.0.0.0/33"}]}, "IPv4 mask bits must be < 32"),
    ({"ip": [{"cidr": "10.0.0.0/x"}]}, "Malformed CIDR, mask bits must be an integer"),
    ({"ip": [{"cidr": "host/8"}]}, "Nonstandard IP address: host"),
    ({"ip": [{"cidr": 10}]}, "prefix match pattern must be a string"),  # sic, as AWS says
    ({"$or": {"a": ["x"]}}, r"It must be an Array followed with \$or."),
    ({"$or": [{"a": ["x"]}]}, "There must have at least 2 Objects"),
    ({"$or": [{"a": ["x"]}, "b"]}, "Only JSON object is allowed"),
    ({"$or": [{"a": ["x"]}, {}]}, "Empty objects"),
    ({"$or": [{"numeric": [1]}, {"prefix": ["abc"]}]}, "reserved"),
    ({"$or": [{"a": {"exists": ["x"]}}, {"b": ["y"]}]}, "reserved"),
]


@pytest.mark.parametrize("pattern, message", INVALID, ids=[repr(c[0]) for c in INVALID])
def test_invalid_patterns(pattern, message):
    with pytest.raises(InvalidPattern, match=message) as info:
        compile_pattern(pattern)
    assert isinstance(info.value, ValueError)


def test_error_messages_are_aws_reasons_and_name_the_field():
    with pytest.raises(InvalidPattern, match=r"^prefix match pattern must be a string$") as info:
        compile_pattern({"detail": {"state": [{"prefix": 1}]}})
    assert info.value.path == "detail.state"


# ---------------------------------------------------------------- SNS


def attr(kind, value):
    return {"Type": kind, "Value": value}


ATTRIBUTES = {
    "store": attr("String", "example_corp"),
    "event": attr("String", "order-placed"),
    "customer_interests": attr("String.Array", '["soccer", "rugby", "hockey"]'),
    "price_usd": attr("Number", "210.75"),
    "scaled": attr("Number", "3.015e2"),
    "mixed": attr("String.Array", '["a", 5, true, null]'),
    "source_ip": attr("String", "10.0.0.7"),
    "blob": {"Type": "Binary", "Value": "AAEC"},
}

SNS_CASES = [
    ({"store": ["example_corp"]}, True),
    ({"store": ["other"]}, False),
    ({"store": ["example_corp"], "event": ["order-placed"]}, True),
    ({"store": ["example_corp"], "event": ["order-cancelled"]}, False),
    ({"customer_interests": ["rugby", "tennis"]}, True),
    ({"customer_interests": ["baseball"]}, False),
    ({"customer_interests": [{"prefix": "hock"}]}, True),
    ({"customer_interests": [{"anything-but": ["rugby", "tennis"]}]}, True),  # soccer is not
    ({"customer_interests": [{"anything-but": ["rugby", "soccer", "hockey"]}]}, False),
    ({"price_usd": [{"numeric": [">=", 100, "<", 300]}]}, True),
    ({"price_usd": [{"numeric": [">", 210.75]}]}, False),
    ({"price_usd": [210.75]}, True),
    ({"price_usd": ["210.75"]}, False),  # a Number attribute is compared numerically
    ({"scaled": [{"numeric": ["=", 301.5]}]}, True),
    ({"scaled": [301.5]}, True),
    ({"price_usd": [{"anything-but": [100, 500]}]}, True),
    ({"price_usd": [{"anything-but": [210.75]}]}, False),
    ({"mixed": [5]}, True),
    ({"mixed": [True]}, True),
    ({"mixed": [None]}, True),
    ({"mixed": ["5"]}, False),
    ({"event": [{"anything-but": {"prefix": "order-"}}]}, False),
    ({"event": [{"anything-but": {"prefix": "data-"}}]}, True),
    ({"event": [{"suffix": "-placed"}]}, True),
    ({"event": [{"equals-ignore-case": "ORDER-PLACED"}]}, True),
    ({"source_ip": [{"cidr": "10.0.0.0/24"}]}, True),
    ({"source_ip": [{"cidr": "10.1.1.0/24"}]}, False),
    ({"store": [{"exists": True}]}, True),
    ({"store": [{"exists": False}]}, False),
    ({"absent": [{"exists": False}]}, True),
    ({"absent": [{"exists": True}]}, False),
    ({"absent": [{"anything-but": "x"}]}, False),
    ({"blob": [{"exists": True}]}, False),  # Binary attributes are never compared
    ({"blob": ["AAEC"]}, False),
    ({"blob": [{"exists": False}]}, True),
    ({"$or": [{"store": ["nope"]}, {"price_usd": [{"numeric": [">", 200]}]}]}, True),
    ({"$or": [{"store": ["nope"]}, {"price_usd": [{"numeric": [">", 300]}]}]}, False),
]


@pytest.mark.parametrize("policy, expected", SNS_CASES, ids=[json.dumps(c[0]) for c in SNS_CASES])
def test_sns_message_attributes(policy, expected):
    assert sns_policy_matches(policy, ATTRIBUTES, "not json") is expected
    assert sns_policy_matches(json.dumps(policy), ATTRIBUTES, None, "MessageAttributes") is expected


def test_sns_api_form_attributes():
    api_form = {
        "color": {"DataType": "String", "StringValue": "red"},
        "sizes": {"DataType": "String.Array", "StringValue": '["S", "M"]'},
        "price": {"DataType": "Number", "StringValue": "12"},
        "weight": {"DataType": "Number.float", "StringValue": "1.5"},
        "raw": {"DataType": "Binary", "BinaryValue": b"\x00"},
    }
    event = sns_attributes_to_event(api_form)
    assert event == {"color": "red", "sizes": ["S", "M"], "price": Decimal(12), "weight": Decimal("1.5")}
    assert sns_policy_matches({"sizes": ["M"], "price": [{"numeric": ["<", 20]}]}, api_form, None)
    assert sns_policy_matches({"weight": [1.5]}, api_form, None)
    assert not sns_policy_matches({"raw": [{"exists": True}]}, api_form, None)


BODY = json.dumps(
    {
        "store": "example_corp",
        "customer": {"interests": ["rugby", "soccer"], "tier": "gold", "age": 41},
        "price_usd": 210.75,
        "items": [{"sku": "A1", "qty": 2}, {"sku": "B2", "qty": 0}],
    }
)

BODY_CASES = [
    ({"store": ["example_corp"]}, True),
    ({"customer": {"interests": ["rugby"]}}, True),
    ({"customer": {"tier": ["silver"]}}, False),
    ({"customer": {"age": [{"numeric": [">", 40]}]}, "price_usd": [{"numeric": ["<", 300]}]}, True),
    ({"items": {"sku": ["B2"], "qty": [0]}}, True),
    ({"items": {"sku": ["A1"], "qty": [0]}}, False),  # not from different elements
    ({"customer": {"email": [{"exists": False}]}}, True),
    ({"$or": [{"store": ["x"]}, {"customer": {"tier": ["gold"]}}]}, True),
]


@pytest.mark.parametrize("policy, expected", BODY_CASES, ids=[json.dumps(c[0]) for c in BODY_CASES])
def test_sns_message_body(policy, expected):
    assert sns_policy_matches(policy, {}, BODY, scope="MessageBody") is expected
    # the same policy ignores attributes in MessageBody scope
    assert sns_policy_matches(policy, ATTRIBUTES, BODY, "MessageBody") is expected


@pytest.mark.parametrize("body", ["not json", "", None, "[1, 2]", '"text"', "42", "{broken"])
def test_sns_message_body_that_is_not_a_json_object_never_matches(body):
    assert not sns_policy_matches({"store": [{"exists": False}]}, {}, body, "MessageBody")


@pytest.mark.parametrize("policy", [None, "", "  ", {}, "{}"])
def test_sns_empty_policy_delivers_everything(policy):
    assert compile_sns_policy(policy) is None
    assert sns_policy_matches(policy, {}, None)
    assert sns_policy_matches(policy, {}, "not json", "MessageBody")


def test_sns_attribute_scope_rejects_nested_policies():
    nested = {"customer": {"tier": ["gold"]}}
    with pytest.raises(InvalidPattern, match="does not support nested filter policy"):
        compile_sns_policy(nested)
    with pytest.raises(InvalidPattern, match="does not support nested filter policy"):
        sns_policy_matches({"$or": [{"a": ["x"]}, {"b": {"c": ["y"]}}]}, {}, None)
    assert isinstance(compile_sns_policy(nested, "MessageBody"), Pattern)


def test_sns_invalid_policy_and_scope():
    with pytest.raises(InvalidPattern):
        compile_sns_policy({"store": "example_corp"})
    with pytest.raises(InvalidPattern, match="not valid JSON"):
        compile_sns_policy("{oops")
    with pytest.raises(InvalidPattern, match="FilterPolicyScope"):
        sns_policy_matches({"a": ["b"]}, {}, None, scope="Body")


def test_sns_accepts_a_precompiled_policy():
    compiled = compile_sns_policy('{"store": ["example_corp"]}')
    assert sns_policy_matches(compiled, ATTRIBUTES, None)
    assert not sns_policy_matches(compiled, {}, None)


# ---------------------------------------------------------------- Lambda FilterCriteria


def test_lambda_filter_criteria_on_sqs_and_dynamodb_records():
    sqs_record = {
        "messageId": "1",
        "body": '{"a": 1}',
        "attributes": {"ApproximateReceiveCount": "1"},
        "data": {"kind": "order", "total": 99.5},
    }
    assert matches('{"data": {"kind": ["order"], "total": [{"numeric": [">", 50]}]}}', sqs_record)
    assert not matches('{"data": {"kind": [{"anything-but": "order"}]}}', sqs_record)
    ddb_record = {"eventName": "INSERT", "dynamodb": {"NewImage": {"id": {"BOOL": True}, "n": {"N": "5"}}}}
    assert matches({"eventName": ["INSERT"], "dynamodb": {"NewImage": {"id": {"BOOL": [True]}}}}, ddb_record)
    assert not matches({"dynamodb": {"NewImage": {"n": {"N": [5]}}}}, ddb_record)  # N is a string
    assert matches({"dynamodb": {"NewImage": {"n": {"N": ["5"]}}}}, ddb_record)
