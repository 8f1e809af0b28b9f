"""EventBridge's event-pattern language, operator by operator, against AWS's documented
behaviour (EventBridge user guide: "Event patterns", "Content filtering", "Comparison
operators", "Arrays", "Null values and empty strings"; the SNS filter-policy and Lambda
event-filtering guides) and, where the guides are silent, the engine AWS runs
(aws/event-ruler). Cases marked "recorded on AWS" reproduce TestEventPattern results and
error messages recorded against AWS itself (LocalStack's AWS-validated snapshots).

Each table holds (pattern, event, expected); every pattern is also tried as JSON text, the
form PutRule and TestEventPattern receive.
"""

import json
import time
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
    wildcard,
)


def event(**detail):
    """An EventBridge event with the given detail."""
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "EC2 Instance State-change Notification",
        "source": "aws.ec2",
        "account": "111122223333",
        "time": "2017-12-22T18:43:48Z",
        "region": "us-west-1",
        "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
        "detail": detail,
    }


EC2 = event(**{"instance-id": "i-1234567890abcdef0", "state": "terminated"})


def ids(cases):
    return [json.dumps(case[0], default=str)[:90] for case in cases]


def check(pattern, sample, expected):
    assert matches(pattern, sample) is expected
    assert compile_pattern(json.dumps(pattern)).matches(sample) is expected


# ---------------------------------------------------------------- exact values

EXACT = [
    # The documentation's first example: fields are ANDed, values in a list are ORed.
    (
        {
            "source": ["aws.ec2"],
            "detail-type": ["EC2 Instance State-change Notification"],
            "detail": {"state": ["terminated"]},
        },
        EC2,
        True,
    ),
    ({"source": ["aws.ec2"], "detail": {"state": ["running"]}}, EC2, False),
    ({"detail": {"state": ["pending", "terminated"]}}, EC2, True),
    ({"source": ["aws.s3", "aws.ec2"]}, EC2, True),
    # Matching is character by character: case-sensitive, no trimming.
    ({"source": ["AWS.EC2"]}, EC2, False),
    ({"source": ["aws.ec2 "]}, EC2, False),
    # Fields of the event absent from the pattern are ignored; a pattern field absent from the
    # event does not match (whatever the value asked for).
    ({"region": ["us-west-1"]}, EC2, True),
    ({"detail": {"color": ["red"]}}, EC2, False),
    ({"missing": {"deeper": ["x"]}}, EC2, False),
    # Numbers: compared as numbers, not as text; 300, 300.0 and 3.0e2 are equal. (The guide's
    # "Considerations" say the opposite, but AWS matches [300] against 300.0 — recorded on
    # AWS: number_comparison_float — as its engine adds a numeric match for every number.)
    ({"detail": {"price": [300]}}, event(price=300), True),
    ({"number": [300]}, {**EC2, "number": 300.0}, True),
    ({"detail": {"price": [300.0]}}, event(price=300), True),
    ({"detail": {"price": [3.0e2]}}, event(price=300.0), True),
    ({"detail": {"price": [301]}}, event(price=300), False),
    ({"detail": {"price": [-1.5]}}, event(price=-1.5), True),
    # ... exact values have no range limit: an account number keeps all its digits.
    ({"detail": {"owner": [123456789012]}}, event(owner=123456789012), True),
    ({"detail": {"owner": [123456789013]}}, event(owner=123456789012), False),
    # Types are strict: the string "300" is not the number 300, true is not 1, nor "true".
    ({"detail": {"price": ["300"]}}, event(price=300), False),
    ({"detail": {"price": [300]}}, event(price="300"), False),
    ({"detail": {"flag": [True]}}, event(flag=True), True),
    ({"detail": {"flag": [False]}}, event(flag=True), False),
    ({"detail": {"flag": [1]}}, event(flag=True), False),
    ({"detail": {"flag": ["true"]}}, event(flag=True), False),
    ({"detail": {"count": [True]}}, event(count=1), False),
    # Null values and empty strings (their own documentation page): [null] matches null,
    # [""] matches the empty string, and "null values and empty strings are not
    # interchangeable".
    ({"detail": {"responseElements": [None]}}, event(eventVersion="", responseElements=None), True),
    ({"detail": {"eventVersion": [""]}}, event(eventVersion="", responseElements=None), True),
    ({"detail": {"eventVersion": [None]}}, event(eventVersion="", responseElements=None), False),
    ({"detail": {"responseElements": [""]}}, event(eventVersion="", responseElements=None), False),
    # [null] does not match a missing field.
    ({"detail": {"responseElements": [None]}}, event(), False),
    # The string "null" is a string.
    ({"detail": {"value": ["null"]}}, event(value=None), False),
    # A leaf list never matches an object (only leaves have values).
    ({"detail": ["terminated"]}, EC2, False),
    ({"detail": {"sub": [1]}}, event(sub={"leaf": 1}), False),
    # Unicode is compared as is.
    ({"detail": {"name": ["Ünïcødé"]}}, event(name="Ünïcødé"), True),
    ({"detail": {"name": ["Unicode"]}}, event(name="Ünïcødé"), False),
    # An exact value that is an IP address matches any spelling of that address
    # (event-ruler turns it into a one-address range).
    ({"detail": {"ip": ["2001:db8::1"]}}, event(ip="2001:DB8:0:0:0:0:0:1"), True),
    ({"detail": {"ip": ["2001:db8::1"]}}, event(ip="2001:db8::2"), False),
    ({"detail": {"ip": ["10.0.0.1"]}}, event(ip="10.0.0.1"), True),
    # Event keys are case-sensitive (recorded on AWS: key_case_sensitive_NEG).
    ({"detail": {"State": ["terminated"]}}, EC2, False),
]


@pytest.mark.parametrize("pattern, sample, expected", EXACT, ids=ids(EXACT))
def test_exact_values(pattern, sample, expected):
    check(pattern, sample, expected)


# ---------------------------------------------------------------- arrays and nesting

EMPLOYEES = {
    "detail": {
        "employees": [
            [{"firstName": "John", "lastName": "Doe"}, {"firstName": "Anna", "lastName": "Smith"}],
            [{"firstName": "Peter", "lastName": "Jones"}],
        ]
    }
}

ARRAYS = [
    # "If the value in the event is an array, then the event pattern matches if the
    # intersection of the event pattern array and the event array is non-empty."
    ({"resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0", "other"]}, EC2, True),
    ({"resources": ["other"]}, EC2, False),
    ({"detail": {"type": ["A", "B"]}}, event(type=["C", "A"]), True),
    ({"detail": {"type": ["A", "B"]}}, event(type=["C", "D"]), False),
    # Arrays of arrays are flattened.
    ({"detail": {"tags": ["d"]}}, event(tags=[["a", "b"], ["c", ["d"]]]), True),
    # An empty array has no values: [null] does not match it (recorded on AWS:
    # arrays_empty_null_NEG), nor does [""].
    ({"resources": [None]}, {**EC2, "resources": []}, False),
    ({"resources": [""]}, {**EC2, "resources": []}, False),
    # Arrays of objects: the array is "crushed out", each object is the field's value ...
    ({"detail": {"employees": {"firstName": ["Anna"]}}}, EMPLOYEES, True),
    ({"detail": {"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}}}, EMPLOYEES, True),
    # ... but array-consistently: fields never come from different elements of one array
    # (event-ruler README, "JSON Array Matching": Anna and Jones do not match).
    ({"detail": {"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}}, EMPLOYEES, False),
    ({"detail": {"employees": {"firstName": ["John"], "lastName": ["Smith"]}}}, EMPLOYEES, False),
    ({"detail": {"employees": {"firstName": ["Zoe"]}}}, EMPLOYEES, False),
    ({"detail": {"employees": ["John"]}}, EMPLOYEES, False),  # objects are not leaf values
    # Consistency holds within one array only: values from elements of two different arrays
    # combine freely.
    ({"detail": {"a": {"x": [1]}, "b": {"y": [2]}}}, event(a=[{"x": 0}, {"x": 1}], b=[{"y": 2}]), True),
    # A pattern level below an array of scalars finds nothing.
    ({"detail": {"tags": {"name": ["x"]}}}, event(tags=["x"]), False),
    # Mixed arrays: scalars at the leaf, objects below it.
    ({"detail": {"a": [1], "a.b": [2]}}, event(a=[1, {"b": 2}]), False),  # two elements
    ({"detail": {"a": {"b": [2]}}}, event(a=[1, {"b": 2}]), True),
]


@pytest.mark.parametrize("pattern, sample, expected", ARRAYS, ids=ids(ARRAYS))
def test_arrays(pattern, sample, expected):
    check(pattern, sample, expected)


NESTING = [
    ({"detail": {"sub": {"leaf": [1]}}}, event(sub={"leaf": 1}), True),
    ({"detail": {"sub": {"deeper": {"leaf": ["x"]}}}}, event(sub={"deeper": {"leaf": "x"}}), True),
    ({"detail": {"sub": {"deeper": {"leaf": ["y"]}}}}, event(sub={"deeper": {"leaf": "x"}}), False),
    # A nested pattern against a scalar in the event: nothing below a scalar.
    ({"detail": {"state": {"name": ["terminated"]}}}, EC2, False),
    # Dotted names: AWS joins paths with "." on both sides, so a dotted key and nesting are
    # the same field ("Considerations when creating event patterns"; recorded on AWS:
    # dot_joining_pattern, dot_joining_event and their _NEG twins).
    ({"detail": {"state.status": ["running"]}}, event(state={"status": "running"}), True),
    ({"detail.state.status": ["running"]}, event(state={"status": "running"}), True),
    ({"detail": {"state": {"status": ["running"]}}}, event(**{"state.status": "running"}), True),
    ({"detail": {"state": {"status": ["running"]}}}, event(**{"state.status": {"status": "running"}}), False),
    ({"detail": {"state.status": {"status": ["running"]}}}, event(state={"status": "running"}), False),
    # ... which is also how a pattern reaches keys that themselves hold dots.
    (
        {"detail": {"labels": {"app.kubernetes.io/name": ["web"]}}},
        event(labels={"app.kubernetes.io/name": "web"}),
        True,
    ),
    # A path given twice: the later one wins (documented for duplicate keys).
    (
        {"detail": {"state.status": ["running"], "state": {"status": ["stopped"]}}},
        event(state={"status": "running"}),
        False,
    ),
    # Leaves at the top level of the event.
    (
        {"EventBusArn": ["arn:aws:events:us-east-1:123456789012:event-bus/bus"]},
        {**EC2, "EventBusArn": "arn:aws:events:us-east-1:123456789012:event-bus/bus"},
        True,
    ),
    # A string that holds JSON is a string (recorded on AWS: nested_json_NEG).
    ({"detail": {"my-key": ["my-value"]}}, {**EC2, "detail": '{"my-key": "my-value"}'}, False),
]


@pytest.mark.parametrize("pattern, sample, expected", NESTING, ids=ids(NESTING))
def test_nesting_and_dotted_paths(pattern, sample, expected):
    check(pattern, sample, expected)


# ---------------------------------------------------------------- prefix, suffix, equals-ignore-case

PREFIX = [
    ({"time": [{"prefix": "2017-12-22"}]}, EC2, True),
    ({"time": [{"prefix": "2017-12-23"}]}, EC2, False),
    ({"time": [{"prefix": ""}]}, EC2, True),  # every string starts with ""
    ({"time": [{"prefix": "2017-12-22T18:43:48Z-and-more"}]}, EC2, False),
    ({"source": [{"prefix": "AWS."}]}, EC2, False),  # case-sensitive
    # "You can use prefix matching for string values": numbers, null, booleans never match.
    ({"detail": {"n": [{"prefix": "1"}]}}, event(n=12), False),
    ({"detail": {"n": [{"prefix": "n"}]}}, event(n=None), False),
    ({"detail": {"n": [{"prefix": "t"}]}}, event(n=True), False),
    ({"detail": {"n": [{"prefix": "x"}]}}, event(), False),
    ({"resources": [{"prefix": "arn:aws:ec2:"}]}, EC2, True),  # any element of an array
    # Prefix ignoring case: {"prefix": {"equals-ignore-case": "EventB"}} matches EventB, EVENTB,
    # eventb...
    ({"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}}, event(service="EVENTBRIDGE"), True),
    ({"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}}, event(service="eventbus"), True),
    ({"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}}, event(service="Event"), False),
    ({"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}}, event(service="AnEventB"), False),
    ({"detail": {"service": [{"prefix": {"equals-ignore-case": ""}}]}}, event(service="x"), True),
    # Java's per-character case rules: the Kelvin sign is not a "k".
    ({"detail": {"unit": [{"prefix": {"equals-ignore-case": "k"}}]}}, event(unit="\u212aelvin"), False),
    ({"detail": {"word": [{"prefix": {"equals-ignore-case": "Straße"}}]}}, event(word="STRASSE-1"), True),
]

SUFFIX = [
    ({"detail": {"FileName": [{"suffix": ".png"}]}}, event(FileName="image.png"), True),
    ({"detail": {"FileName": [{"suffix": ".png"}]}}, event(FileName="image.PNG"), False),
    ({"detail": {"FileName": [{"suffix": ".png"}]}}, event(FileName="image.png.txt"), False),
    ({"detail": {"FileName": [{"suffix": ""}]}}, event(FileName="image"), True),
    ({"detail": {"FileName": [{"suffix": "5"}]}}, event(FileName=5), False),  # strings only
    ({"detail": {"FileName": [{"suffix": ".png"}, {"suffix": ".jpg"}]}}, event(FileName="a.jpg"), True),
    # Suffix ignoring case: {"suffix": {"equals-ignore-case": ".png"}} also matches .PNG.
    ({"detail": {"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]}}, event(FileName="image.PNG"), True),
    ({"detail": {"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]}}, event(FileName="image.pNg"), True),
    ({"detail": {"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]}}, event(FileName="image.gif"), False),
    ({"detail": {"service": [{"suffix": {"equals-ignore-case": "tBridge"}}]}}, event(service="EVENTBRIDGE"), True),
    ({"detail": {"service": [{"suffix": {"equals-ignore-case": "é"}}]}}, event(service="CAFÉ"), True),
    ({"detail": {"service": [{"suffix": {"equals-ignore-case": "x"}}]}}, event(service=""), False),
]

EQUALS_IGNORE_CASE = [
    ({"detail": {"name": [{"equals-ignore-case": "alice"}]}}, event(name="Alice"), True),
    ({"detail": {"name": [{"equals-ignore-case": "alice"}]}}, event(name="ALICE"), True),
    ({"detail": {"name": [{"equals-ignore-case": "alice"}]}}, event(name="Alice "), False),
    ({"detail": {"name": [{"equals-ignore-case": "alice"}]}}, event(name="Alicia"), False),
    ({"detail-type": [{"equals-ignore-case": "ec2 instance state-change notification"}]}, EC2, True),
    ({"detail": {"name": [{"equals-ignore-case": ""}]}}, event(name=""), True),
    ({"detail": {"value": [{"equals-ignore-case": ""}]}}, event(value="test-value"), False),  # recorded on AWS
    ({"detail": {"name": [{"equals-ignore-case": "true"}]}}, event(name=True), False),  # strings only
    ({"detail": {"name": [{"equals-ignore-case": "null"}]}}, event(name=None), False),
    ({"detail": {"name": [{"equals-ignore-case": "ÉCOLE"}]}}, event(name="école"), True),
    ({"detail": {"name": [{"equals-ignore-case": "k"}]}}, event(name="\u212a"), False),  # Kelvin sign
    ({"detail": {"name": [{"equals-ignore-case": "a"}]}}, event(name=["B", "A"]), True),
]


@pytest.mark.parametrize("pattern, sample, expected", PREFIX, ids=ids(PREFIX))
def test_prefix(pattern, sample, expected):
    check(pattern, sample, expected)


@pytest.mark.parametrize("pattern, sample, expected", SUFFIX, ids=ids(SUFFIX))
def test_suffix(pattern, sample, expected):
    check(pattern, sample, expected)


@pytest.mark.parametrize("pattern, sample, expected", EQUALS_IGNORE_CASE, ids=ids(EQUALS_IGNORE_CASE))
def test_equals_ignore_case(pattern, sample, expected):
    check(pattern, sample, expected)


# ---------------------------------------------------------------- wildcard


def wild(text, value):
    return {"detail": {"f": [{"wildcard": text}]}}, event(f=value)


WILDCARD = [
    # The documentation's examples: "dir/*.png" (any .png under dir), "*Title*".
    (*wild("dir/*.png", "dir/vacation/photo.png"), True),
    (*wild("dir/*.png", "dir/photo.png"), True),
    (*wild("dir/*.png", "other/photo.png"), False),
    (*wild("*Title*", "A Title Here"), True),
    (*wild("*Title*", "Title"), True),  # * matches nothing too
    (*wild("*Title*", "A title here"), False),
    (*wild("*", ""), True),
    (*wild("*", "anything"), True),
    (*wild("", ""), True),
    (*wild("", "x"), False),
    (*wild("abc", "abc"), True),  # no * is an exact match
    (*wild("abc", "abcd"), False),
    (*wild("a*b*c", "abc"), True),
    (*wild("a*b*c", "aXbYbZc"), True),
    (*wild("a*b*c", "acb"), False),
    (*wild("ab*ba", "aba"), False),  # the parts around a * may not overlap
    (*wild("*.png", "a.png.txt"), False),
    # Recorded on AWS: content_wildcard_simplified, _nonrepeating, _repeating and _NEG.
    (
        *wild("arn:aws:events:us-east-1:*:event-bus/*", "arn:aws:events:us-east-1:123456789012:event-bus/myEventBus"),
        True,
    ),
    (*wild("/Users/*/doc.txt", "/Users/ls_user/dir/dir/dir/dir/dir/doc.txt"), True),
    (*wild("/Users/*/dir/dir/dir/dir/dir/doc.txt", "/Users/ls_user/dir/dir/dir/dir/dir/doc.txt"), True),
    (*wild("/Users/*/dir/dir/dir/dir/dir/doc.txt", "/Users/ls_user/dir/dir/dir/dir/otherdir/doc.txt"), False),
    # Escapes: "\*" is a literal asterisk, "\\" a literal backslash.
    (*wild(r"a\*b", "a*b"), True),
    (*wild(r"a\*b", "aXb"), False),
    (*wild(r"a\\b", "a\\b"), True),
    (*wild(r"a\\*", "a\\anything"), True),
    (*wild(r"\**", "*star"), True),
    (*wild(r"\**", "star"), False),
    (*wild("ü*ß", "üXYß"), True),
    # Strings only.
    (*wild("*", 5), False),
    (*wild("*", None), False),
    (*wild("1*", 12), False),
    ({"resources": [{"wildcard": "arn:aws:ec2:*:instance/*"}]}, EC2, True),
]


@pytest.mark.parametrize("pattern, sample, expected", WILDCARD, ids=ids(WILDCARD))
def test_wildcard(pattern, sample, expected):
    check(pattern, sample, expected)


# ---------------------------------------------------------------- anything-but


def but(arg, value, **more):
    return {"detail": {"state": [{"anything-but": arg}]}}, event(state=value, **more)


ANYTHING_BUT = [
    (*but("initializing", "running"), True),
    (*but("initializing", "initializing"), False),
    (*but(["stopped", "overloaded"], "running"), True),
    (*but(["stopped", "overloaded"], "stopped"), False),
    (*but(123, 124), True),
    (*but(123, 123), False),
    (*but(123, 123.0), False),  # compared as numbers
    (*but([100, 200, 300], 301.8), True),
    (*but([100, 200, 300], 200), False),
    (*but(0, 789), True),  # recorded on AWS: content_anything_but_number_zero
    # Values of another type are not excluded (only the named values are): a string list
    # passes numbers, null and booleans; a number list passes strings.
    (*but("123", 123), True),
    (*but(123, "123"), True),
    (*but("initializing", None), True),  # recorded on AWS: content_anything_but_string_null
    (*but("true", True), True),
    # ... but the field must be there: anything-but never matches a missing field (recorded
    # on AWS: content_anything_but_string_missing_NEG).
    ({"detail": {"state": [{"anything-but": "initializing"}]}}, event(), False),
    # Arrays: matches when some element is not excluded (the AWS SNS guide: [100, 50]
    # matches anything-but [100, 500] "because it contains a value that isn't 100 or 500").
    (*but([100, 500], [100, 50]), True),
    (*but([100, 500], [100, 500]), False),
    (*but(["rugby", "tennis"], ["rugby", "baseball"]), True),
    (*but("x", []), False),  # no values at all
    # anything-but with prefix: "Region is not in the US".
    ({"detail": {"Region": [{"anything-but": {"prefix": "us-"}}]}}, event(Region="eu-west-1"), True),
    ({"detail": {"Region": [{"anything-but": {"prefix": "us-"}}]}}, event(Region="us-east-1"), False),
    (*but({"prefix": "init"}, "initializing"), False),
    (*but({"prefix": "init"}, "running"), True),
    (*but({"prefix": "init"}, 12), True),  # recorded on AWS: content_anything_prefix_int_value
    (*but({"prefix": "init"}, None), True),
    ({"detail": {"state": [{"anything-but": {"prefix": "init"}}]}}, event(), False),
    (*but({"prefix": ["init", "pend"]}, "pending"), False),  # a list of prefixes
    (*but({"prefix": ["init", "pend"]}, "running"), True),
    (*but({"prefix": ["init", "test"]}, None), True),  # recorded on AWS: content_anything_prefix_list_null
    (*but({"prefix": "Init"}, "initializing"), True),  # case-sensitive: not excluded
    # anything-but with suffix: "FileName does not end with .png".
    ({"detail": {"FileName": [{"anything-but": {"suffix": ".png"}}]}}, event(FileName="a.jpg"), True),
    ({"detail": {"FileName": [{"anything-but": {"suffix": ".png"}}]}}, event(FileName="a.png"), False),
    ({"detail": {"FileName": [{"anything-but": {"suffix": [".png", ".txt"]}}]}}, event(FileName="a.txt"), False),
    ({"detail": {"FileName": [{"anything-but": {"suffix": ".png"}}]}}, event(FileName=["a.png", "b.gif"]), True),
    # anything-but ignoring case: "initializing or any other casing variation".
    (*but({"equals-ignore-case": "initializing"}, "INITIALIZING"), False),
    (*but({"equals-ignore-case": "initializing"}, "Initializing"), False),
    (*but({"equals-ignore-case": "initializing"}, "running"), True),
    (*but({"equals-ignore-case": ["Stopped", "OVERLOADED"]}, "overloaded"), False),
    (*but({"equals-ignore-case": ["Stopped", "OVERLOADED"]}, "pending"), True),
    (*but({"equals-ignore-case": "initializing"}, None), True),  # recorded on AWS: ..._ignorecase_null
    # anything-but with a wildcard: "FileName is not a file path that includes /lib/".
    ({"detail": {"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}}, event(FilePath="/usr/lib/libc.so"), False),
    ({"detail": {"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}}, event(FilePath="/usr/bin/ls"), True),
    # Recorded on AWS: content_anything_wildcard_list ("dir/post/dir" has no "/dir/"),
    # content_anything_wildcard_int, content_anything_wildcard_empty.
    (*but({"wildcard": ["*/init/*", "*/dir/*"]}, "dir/post/dir"), True),
    (*but({"wildcard": ["*/init/*", "*/dir/*"]}, "a/dir/b"), False),
    (*but({"wildcard": "*/dir/*"}, 123), True),
    (*but({"wildcard": ""}, "dir/init/file"), True),
    (*but({"wildcard": ""}, ""), False),
]


@pytest.mark.parametrize("pattern, sample, expected", ANYTHING_BUT, ids=ids(ANYTHING_BUT))
def test_anything_but(pattern, sample, expected):
    check(pattern, sample, expected)


# ---------------------------------------------------------------- numeric


def num(arg, value):
    return {"detail": {"n": [{"numeric": arg}]}}, event(n=value)


NUMERIC = [
    # The documentation's example: c-count > 0 and <= 5, d-count < 10, x-limit = 3.018e2.
    (
        {
            "detail": {
                "c-count": [{"numeric": [">", 0, "<=", 5]}],
                "d-count": [{"numeric": ["<", 10]}],
                "x-limit": [{"numeric": ["=", 3.018e2]}],
            }
        },
        event(**{"c-count": 5, "d-count": 3, "x-limit": 301.8}),
        True,
    ),
    (
        {
            "detail": {
                "c-count": [{"numeric": [">", 0, "<=", 5]}],
                "d-count": [{"numeric": ["<", 10]}],
                "x-limit": [{"numeric": ["=", 3.018e2]}],
            }
        },
        event(**{"c-count": 5, "d-count": 10, "x-limit": 301.8}),
        False,
    ),
    # Each operator, at and around its bound.
    (*num(["=", 100], 100), True),
    (*num(["=", 100], 100.0), True),
    (*num(["=", 100], 100.000001), False),
    (*num([">", 100], 100), False),
    (*num([">", 100], 100.000001), True),
    (*num([">=", 100], 100), True),
    (*num([">=", 100], 99.999999), False),
    (*num(["<", 100], 100), False),
    (*num(["<", 100], -1e9), True),
    (*num(["<=", 100], 100), True),
    (*num(["<=", 100], 100.000001), False),
    # Ranges: > or >= a low bound, then < or <= a high bound ("Price is more than 10, and
    # less than or equal to 20").
    (*num([">", 10, "<=", 20], 10), False),
    (*num([">", 10, "<=", 20], 10.5), True),
    (*num([">", 10, "<=", 20], 20), True),
    (*num([">", 10, "<=", 20], 20.000001), False),
    (*num([">=", 10, "<", 20], 10), True),
    (*num([">=", 10, "<", 20], 20), False),
    (*num([">=", -5.5, "<", -1.25], -3), True),
    # Several numeric entries in one list are ORed (two disjoint ranges).
    ({"detail": {"n": [{"numeric": ["<", 0]}, {"numeric": [">", 100]}]}}, event(n=-1), True),
    ({"detail": {"n": [{"numeric": ["<", 0]}, {"numeric": [">", 100]}]}}, event(n=50), False),
    # Number formats: exponents, negative zero, integers written with a fraction.
    (*num(["=", 3.018e2], 301.8), True),
    (*num(["=", 0], -0.0), True),
    (*num(["=", 5e-6], 0.000005), True),
    (*num([">", 0], 1e-6), True),
    # Numeric matching works with values that are JSON numbers: strings, null and booleans
    # never match (recorded on AWS: numeric-string_NEG, numeric-null_NEG).
    (*num([">", 0], "5"), False),
    (*num([">", 0], None), False),
    (*num([">", 0], True), False),
    (*num([">", 0], [-1, 5]), True),  # any element of an array
    ({"number": [{"numeric": [">", 100]}]}, {**EC2, "number": 101.0}, True),  # recorded on AWS: numeric-int-float
    # The documentation's complex example (recorded on AWS: complex_multi_match_NEG: 300 is
    # one of the excluded numbers).
    (
        {
            "time": [{"prefix": "2022-07-13"}],
            "detail": {
                "state": [{"anything-but": "initializing"}],
                "c-count": [{"numeric": [">", 0, "<=", 5]}],
                "d-count": [{"numeric": ["<", 10]}],
                "x-limit": [{"anything-but": [100, 200, 300]}],
            },
        },
        {**event(state="processing", **{"c-count": 3, "d-count": 9, "x-limit": 300}), "time": "2022-07-13T13:48:01Z"},
        False,
    ),
    (
        {
            "time": [{"prefix": "2022-07-13"}],
            "detail": {
                "state": [{"anything-but": "initializing"}],
                "c-count": [{"numeric": [">", 0, "<=", 5]}],
                "d-count": [{"numeric": ["<", 10]}],
                "x-limit": [{"anything-but": [100, 200, 300]}],
            },
        },
        {**event(state="processing", **{"c-count": 3, "d-count": 9, "x-limit": 301.8}), "time": "2022-07-13T13:48:01Z"},
        True,
    ),
    (*num([">", 0], []), False),
    ({"detail": {"n": [{"numeric": [">", 0]}]}}, event(), False),
    # The engine compares numbers between -5.0e9 and +5.0e9 with six decimals; an event
    # value outside that is not a number to the numeric operators.
    (*num([">=", -5e9, "<=", 5e9], 5e9), True),
    (*num([">=", -5e9, "<=", 5e9], -5e9), True),
    (*num([">", 0], 5000000000.000001), False),
    (*num([">", 0], 1e10), False),
    (*num(["<", 0], -1e10), False),
    (*num([">", 0], 0.1234567), False),
    (*num([">", 0], 0.123456), True),
    (*num([">", 0], 0.12345600), True),  # trailing zeros are not decimals
    # ... the precision is exact: no float rounding.
    (*num(["=", 0.3], 0.3), True),
    (*num(["=", 0.3], 0.1 + 0.2), False),  # 0.30000000000000004 has more than six decimals
    (*num([">", 0.1, "<", 0.3], 0.2), True),
]


@pytest.mark.parametrize("pattern, sample, expected", NUMERIC, ids=ids(NUMERIC))
def test_numeric(pattern, sample, expected):
    check(pattern, sample, expected)


def test_numbers_from_json_text_keep_their_digits():
    pattern = compile_pattern('{"detail": {"n": [{"numeric": ["=", 4999999999.999999]}]}}')
    assert pattern.matches(event(n=Decimal("4999999999.999999")))
    assert not pattern.matches(event(n=Decimal("4999999999.999998")))
    exact = compile_pattern('{"detail": {"n": [12345678901234567890.5]}}')  # exact values: no limit
    assert exact.matches(event(n=Decimal("12345678901234567890.50")))


# ---------------------------------------------------------------- exists

EXISTS = [
    ({"detail": {"state": [{"exists": True}]}}, EC2, True),
    ({"detail": {"state": [{"exists": False}]}}, EC2, False),
    ({"detail": {"c-count": [{"exists": False}]}}, EC2, True),
    ({"detail": {"c-count": [{"exists": True}]}}, EC2, False),
    # "Exists matching only works on leaf nodes. It does not work on intermediate nodes":
    # an object is not a value, so exists:false matches it (the documentation's c-count
    # example) and exists:true does not (recorded on AWS: exists_dynamodb_NEG).
    ({"detail": {"c-count": [{"exists": False}]}}, event(state="running", **{"c-count": {"c1": 100}}), True),
    ({"detail": {"c-count": [{"exists": True}]}}, event(**{"c-count": {"c1": 100}}), False),
    ({"dynamodb": {"presentKey": [{"exists": True}]}}, {**EC2, "dynamodb": {"presentKey": {"S": "test123"}}}, False),
    (
        {"dynamodb": {"presentKey": {"S": [{"exists": True}]}}},
        {**EC2, "dynamodb": {"presentKey": {"S": "test123"}}},
        True,
    ),
    # null is a value: the field exists.
    ({"detail": {"key": [{"exists": True}]}}, event(key=None), True),
    ({"detail": {"key": [{"exists": False}]}}, event(key=None), False),
    # Empty strings and false exist too.
    ({"detail": {"key": [{"exists": True}]}}, event(key=""), True),
    ({"detail": {"key": [{"exists": True}]}}, event(key=False), True),
    # An empty array has no value: it does not exist (recorded on AWS: exists_list_empty_NEG).
    ({"resources": [{"exists": True}]}, {**EC2, "resources": []}, False),
    ({"resources": [{"exists": False}]}, {**EC2, "resources": []}, True),
    ({"resources": [{"exists": True}]}, EC2, True),
    # In an array of objects, one element having the field is enough (recorded on AWS:
    # list_within_dict).
    (
        {"detail": {"automations": {"id": [{"exists": True}]}}},
        event(automations=[{"key1": "value1"}, {"id": "match-does-exist"}, {"key2": "value2"}]),
        True,
    ),
    # exists:true ORed with operators that cannot match (recorded on AWS: operator_multiple_list).
    ({"my_key": [{"exists": True}, {"prefix": "IGNORED"}, {"suffix": "IGNORED"}]}, {**EC2, "my_key": "my-value"}, True),
    # Below a missing parent, the field is missing too.
    ({"nothere": {"deeper": [{"exists": False}]}}, EC2, True),
    ({"nothere": {"deeper": [{"exists": True}]}}, EC2, False),
    # Combined with values: the field is absent, or has one of the values (recorded on AWS:
    # or-exists-parent, the DynamoDB "homemade" example of the Lambda guide).
    (
        {"dynamodb": {"NewImage": {"homemade": {"S": [{"anything-but": ["roses"]}, {"exists": False}]}}}},
        {**EC2, "dynamodb": {"NewImage": {"purchased": {"N": "789"}}}},
        True,
    ),
    (
        {"dynamodb": {"NewImage": {"homemade": {"S": [{"anything-but": ["roses"]}, {"exists": False}]}}}},
        {**EC2, "dynamodb": {"NewImage": {"homemade": {"S": "roses"}}}},
        False,
    ),
    (
        {"dynamodb": {"NewImage": {"homemade": {"S": [{"anything-but": ["roses"]}, {"exists": False}]}}}},
        {**EC2, "dynamodb": {"NewImage": {"homemade": {"S": "tulips"}}}},
        True,
    ),
    # Inside arrays of objects, absence is judged in the element the earlier fields (in path
    # order) chose; with no earlier field, anywhere in the event.
    (
        {"detail": {"employees": {"firstName": ["Anna"], "middleName": [{"exists": False}]}}},
        event(employees=[{"firstName": "Anna"}, {"firstName": "Bob", "middleName": "X"}]),
        True,
    ),
    (
        {"detail": {"employees": {"firstName": ["Bob"], "middleName": [{"exists": False}]}}},
        event(employees=[{"firstName": "Anna"}, {"firstName": "Bob", "middleName": "X"}]),
        False,
    ),
    (
        {"detail": {"employees": {"middleName": [{"exists": False}]}}},
        event(employees=[{"firstName": "Anna"}, {"firstName": "Bob", "middleName": "X"}]),
        False,
    ),
    (
        {"detail": {"employees": {"middleName": [{"exists": False}]}}},
        event(employees=[{"firstName": "Anna"}, {"firstName": "Bob"}]),
        True,
    ),
]


@pytest.mark.parametrize("pattern, sample, expected", EXISTS, ids=ids(EXISTS))
def test_exists(pattern, sample, expected):
    check(pattern, sample, expected)


# ---------------------------------------------------------------- cidr


def ip(block, value):
    return {"detail": {"sourceIPAddress": [{"cidr": block}]}}, event(sourceIPAddress=value)


CIDR = [
    # "IP addresses that start with 10.0.0 and end with a number between 0 and 255".
    (*ip("10.0.0.0/24", "10.0.0.0"), True),
    (*ip("10.0.0.0/24", "10.0.0.255"), True),
    (*ip("10.0.0.0/24", "10.0.1.0"), False),
    (*ip("10.0.0.0/24", "9.255.255.255"), False),
    (*ip("10.0.0.0/8", "10.200.3.4"), True),
    (*ip("0.0.0.0/0", "255.255.255.255"), True),
    (*ip("10.0.0.0/31", "10.0.0.1"), True),
    (*ip("10.0.0.0/31", "10.0.0.2"), False),
    # AWS's range starts at the address as written: the host bits are not masked off.
    (*ip("10.0.0.33/24", "10.0.0.33"), True),
    (*ip("10.0.0.33/24", "10.0.0.255"), True),
    (*ip("10.0.0.33/24", "10.0.0.32"), False),
    # IPv6 (recorded on AWS: content_ip_address_v6 and _NEG).
    (*ip("2001:db8:1234:1a00::/64", "2001:db8:1234:1a00::1"), True),
    (*ip("2001:db8:1234:1a00::/64", "2001:DB8:1234:1A00:0:0:0:FFFF"), True),
    (*ip("2001:db8:1234:1a00::/64", "2001:db8:1234:1a01::1"), False),
    (*ip("::/0", "::1"), True),
    # An address of the other family never matches.
    (*ip("10.0.0.0/8", "::ffff:10.0.0.1"), False),
    (*ip("::/0", "10.0.0.1"), False),
    # Only strings that are addresses: host names, numbers, junk never match (recorded on
    # AWS: content_ip_address_bad_type_NEG).
    (*ip("10.0.0.0/24", "10.0.0.1.example.com"), False),
    (*ip("10.0.0.0/24", 123), False),
    (*ip("10.0.0.0/24", "10.0.0.256"), False),
    (*ip("10.0.0.0/24", None), False),
    (*ip("10.0.0.0/24", ["192.168.0.1", "10.0.0.7"]), True),
]


@pytest.mark.parametrize("pattern, sample, expected", CIDR, ids=ids(CIDR))
def test_cidr(pattern, sample, expected):
    check(pattern, sample, expected)


# ---------------------------------------------------------------- $or

METRIC = {
    "source": "aws.cloudwatch",
    "metricName": "CPUUtilization",
    "metricType": "MetricType",
    "namespace": "AWS/EC2",
    "scope": "Service",
    "detail": {"c-count": 3, "d-count": 20, "x-limit": 100, "source": "other", "detail-type": "x"},
}

OR = [
    # "Location is New York, or Day is Monday".
    ({"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]}, {"Location": "Boston", "Day": "Monday"}, True),
    ({"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]}, {"Location": "Boston", "Day": "Friday"}, False),
    # $or beside other fields: source AND (metricName OR namespace).
    (
        {"source": ["aws.cloudwatch"], "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/ES"]}]},
        METRIC,
        True,
    ),
    ({"source": ["aws.ec2"], "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/ES"]}]}, METRIC, False),
    (
        {"source": ["aws.cloudwatch"], "$or": [{"metricName": ["ReadLatency"]}, {"namespace": ["AWS/ES"]}]},
        METRIC,
        False,
    ),
    # Only the chosen branch's fields must match (one "$or" of a source that is neither must
    # not match: the classic emulator bug).
    ({"$or": [{"source": ["aws.ec2"]}, {"source": ["aws.s3"]}]}, {"source": "my.app"}, False),
    ({"$or": [{"source": ["aws.ec2"]}, {"source": ["aws.s3"]}]}, {"source": "aws.s3"}, True),
    # An "and" inside an "or": metricName OR (metricType AND namespace) OR scope.
    (
        {
            "source": ["aws.cloudwatch"],
            "$or": [
                {"metricName": ["ReadLatency"]},
                {"metricType": ["MetricType"], "namespace": ["AWS/EC2"]},
                {"scope": ["Other"]},
            ],
        },
        METRIC,
        True,
    ),
    (
        {
            "source": ["aws.cloudwatch"],
            "$or": [
                {"metricName": ["ReadLatency"]},
                {"metricType": ["MetricType"], "namespace": ["AWS/ES"]},
                {"scope": ["Other"]},
            ],
        },
        METRIC,
        False,
    ),
    # Nested levels: an $or inside a branch of an $or.
    (
        {
            "source": ["aws.cloudwatch"],
            "$or": [
                {"metricName": ["ReadLatency"]},
                {"metricType": ["MetricType"], "$or": [{"metricId": [1234]}, {"namespace": ["AWS/EC2"]}]},
            ],
        },
        METRIC,
        True,
    ),
    (
        {
            "source": ["aws.cloudwatch"],
            "$or": [
                {"metricName": ["ReadLatency"]},
                {"metricType": ["MetricType"], "$or": [{"metricId": [1234]}, {"namespace": ["AWS/ES"]}]},
            ],
        },
        METRIC,
        False,
    ),
    # $or inside a nested object ("c-count" OR "d-count" OR "x-limit" under detail).
    (
        {
            "detail": {
                "$or": [
                    {"c-count": [{"numeric": [">", 0, "<=", 5]}]},
                    {"d-count": [{"numeric": ["<", 10]}]},
                    {"x-limit": [{"numeric": ["=", 3.018e2]}]},
                ]
            }
        },
        METRIC,
        True,
    ),
    ({"detail": {"$or": [{"c-count": [{"numeric": [">", 5]}]}, {"d-count": [{"numeric": ["<", 10]}]}]}}, METRIC, False),
    # Parallel ors: (metricName OR namespace) AND (detail.source OR detail.detail-type).
    (
        {
            "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/ES"]}],
            "detail": {"$or": [{"source": ["aws.cloudwatch"]}, {"detail-type": ["x"]}]},
        },
        METRIC,
        True,
    ),
    (
        {
            "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/ES"]}],
            "detail": {"$or": [{"source": ["aws.cloudwatch"]}, {"detail-type": ["y"]}]},
        },
        METRIC,
        False,
    ),
    # An OR of numeric and anything-but in one list (recorded on AWS: or-numeric-anything-but
    # and _NEG: "N" holds strings, so only anything-but can match).
    (
        {"dynamodb": {"NewImage": {"numericFilter": {"N": [{"numeric": [">", 100]}, {"anything-but": "101"}]}}}},
        {**EC2, "dynamodb": {"NewImage": {"numericFilter": {"N": "42"}}}},
        True,
    ),
    (
        {"dynamodb": {"NewImage": {"numericFilter": {"N": [{"numeric": [">", 100]}, {"anything-but": "101"}]}}}},
        {**EC2, "dynamodb": {"NewImage": {"numericFilter": {"N": "101"}}}},
        False,
    ),
    # The documentation's $or example (recorded on AWS: complex_or_NEG: none of the three holds).
    (
        {
            "detail": {
                "$or": [
                    {"c-count": [{"numeric": [">", 0, "<=", 5]}]},
                    {"d-count": [{"numeric": ["<", 10]}]},
                    {"x-limit": [{"numeric": ["=", 3.018e2]}]},
                ]
            }
        },
        event(**{"c-count": 0, "d-count": 10, "x-limit": 9.018e2}),
        False,
    ),
    # Branches with exists and anything-but (recorded on AWS: or-exists, or-anything-but).
    (
        {"$or": [{"detail": {"missing": [{"exists": True}]}}, {"detail": {"c-count": [{"anything-but": 4}]}}]},
        METRIC,
        True,
    ),
    (
        {"$or": [{"detail": {"missing": [{"exists": True}]}}, {"detail": {"c-count": [{"anything-but": 3}]}}]},
        METRIC,
        False,
    ),
    # A branch is a whole alternative: array consistency holds across it and the fields
    # around it (the same employee must have both names).
    (
        {
            "detail": {"employees": {"firstName": ["Anna"]}},
            "$or": [{"detail": {"employees": {"lastName": ["Jones"]}}}, {"region": ["nowhere"]}],
        },
        EMPLOYEES,
        False,
    ),
    (
        {
            "detail": {"employees": {"firstName": ["Anna"]}},
            "$or": [{"detail": {"employees": {"lastName": ["Smith"]}}}, {"region": ["nowhere"]}],
        },
        EMPLOYEES,
        True,
    ),
    # A path in a branch overrides the same path given before the $or (the later wins).
    ({"source": ["aws.cloudwatch"], "$or": [{"source": ["aws.ec2"]}, {"scope": ["Other"]}]}, METRIC, False),
    # "$or" is not reserved outside an "$or" and an operator name is an ordinary field there.
    ({"prefix": ["x"]}, {"prefix": "x"}, True),
    ({"detail": {"numeric": [1]}}, {"detail": {"numeric": 1}}, True),
]


@pytest.mark.parametrize("pattern, sample, expected", OR, ids=ids(OR))
def test_or(pattern, sample, expected):
    check(pattern, sample, expected)


# ---------------------------------------------------------------- refusals, with AWS's reasons

INVALID = [
    # Structure (recorded on AWS: Filter is not an object, int_nolist_EXC, string_nolist_EXC,
    # arrays_empty_EXC).
    ('["not", "a", "dict", "but valid json"]', "Filter is not an object"),
    ("42", "Filter is not an object"),
    ({"int": 42}, '"int" must be an object or an array'),
    ({"string": "my-value"}, '"string" must be an object or an array'),
    ({"detail": {"state": None}}, '"state" must be an object or an array'),
    ({"detail": {"state": True}}, '"state" must be an object or an array'),
    ({"resources": []}, "Empty arrays are not allowed"),
    ({}, "Empty objects are not allowed"),
    ({"detail": {}}, "Empty objects are not allowed"),
    ({"source": [["aws.ec2"]]}, "Match value must be String, number, true, false, or null"),
    ({"source": [{}]}, "Match expression name not found"),
    ({"source": [{"prefix": "a", "suffix": "b"}]}, "Only one key allowed in match expression"),
    # Operators are case-sensitive (recorded on AWS: operator_case_sensitive_EXC,
    # content_numeric_operatorcasing_EXC); unknown ones are refused.
    ({"my_key": [{"EXISTS": True}]}, "Unrecognized match type EXISTS"),
    ({"detail": {"equal": [{"NUMERIC": ["=", 5]}]}}, "Unrecognized match type NUMERIC"),
    ({"source": [{"contains": "ec2"}]}, "Unrecognized match type contains"),
    ({"source": [{"regex": "a.*"}]}, "Unrecognized match type regex"),
    # prefix / suffix / equals-ignore-case (recorded on AWS: content_prefix_int_EXC,
    # content_prefix_list_EXC, content_suffix_int_EXC, content_suffix_list_EXC,
    # content_ignorecase_EXC, content_ignorecase_list_EXC).
    ({"time": [{"prefix": 123}]}, "prefix match pattern must be a string"),
    ({"time": [{"prefix": ["2022-07-13"]}]}, "prefix match pattern must be a string"),
    ({"FileName": [{"suffix": 123}]}, "suffix match pattern must be a string"),
    ({"FileName": [{"suffix": [".png"]}]}, "suffix match pattern must be a string"),
    (
        {"detail-type": [{"equals-ignore-case": ["ec2 instance state-change notification"]}]},
        "equals-ignore-case match pattern must be a string",
    ),
    ({"detail-type": [{"equals-ignore-case": {"prefix": "ec2"}}]}, "equals-ignore-case match pattern must be a string"),
    ({"s": [{"prefix": {"suffix": "a"}}]}, "Unsupported prefix pattern: suffix"),
    ({"s": [{"suffix": {"prefix": "a"}}]}, "Unsupported suffix pattern: prefix"),
    ({"s": [{"prefix": {}}]}, "Prefix expression name not found"),
    ({"s": [{"prefix": {"equals-ignore-case": 1}}]}, "equals-ignore-case match pattern must be a string"),
    ({"s": [{"suffix": {"equals-ignore-case": "a", "x": 1}}]}, "Only one key allowed in match expression"),
    # wildcard (recorded on AWS: content_wildcard_int_EXC, content_wildcard_list_EXC,
    # content_wildcard_repeating_star_EXC: the position counts from the opening quote).
    ({"EventBusArn": [{"wildcard": 123}]}, "wildcard match pattern must be a string"),
    (
        {"EventBusArn": [{"wildcard": ["arn:aws:events:us-east-1:**:event-bus/*"]}]},
        "wildcard match pattern must be a string",
    ),
    (
        {"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:**:event-bus/*"}]},
        "Consecutive wildcard characters at pos 26",
    ),
    ({"f": [{"wildcard": "**"}]}, "Consecutive wildcard characters at pos 1"),
    ({"f": [{"wildcard": r"a\b"}]}, "Invalid escape character at pos 2"),
    ({"f": [{"wildcard": "trailing\\"}]}, "Invalid escape character at pos 9"),
    ({"f": [{"wildcard": "é\\x"}]}, "Invalid escape character at pos 3"),  # UTF-8 bytes
    # anything-but (recorded on AWS: content_anything_but_ignorecase_EXC and _list_EXC,
    # content_anything_prefix_int_EXC and _list_type_EXC, content_anything_suffix_int_EXC
    # and _list_type_EXC, content_anything_wildcard_type_EXC and _list_type_EXC,
    # content_anything_prefix_ignorecase_EXC, content_anything_suffix_ignorecase_EXC).
    (
        {"s": [{"anything-but": {"equals-ignore-case": 123}}]},
        "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.",
    ),
    (
        {"s": [{"anything-but": {"equals-ignore-case": [123, 456]}}]},
        "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.",
    ),
    ({"s": [{"anything-but": {"prefix": 123}}]}, "prefix/suffix match pattern must be a string"),
    ({"s": [{"anything-but": {"prefix": [123, "test"]}}]}, "prefix/suffix match pattern must be a string"),
    ({"s": [{"anything-but": {"suffix": 123}}]}, "prefix/suffix match pattern must be a string"),
    ({"s": [{"anything-but": {"suffix": [123, ".txt"]}}]}, "prefix/suffix match pattern must be a string"),
    ({"s": [{"anything-but": {"wildcard": 123}}]}, "wildcard match pattern must be a string"),
    ({"s": [{"anything-but": {"wildcard": [123, "*/dir/*"]}}]}, "wildcard match pattern must be a string"),
    (
        {"s": [{"anything-but": {"prefix": {"equals-ignore-case": "file"}}}]},
        "Value of anything-but must be an array or single string/number value.",
    ),
    (
        {"s": [{"anything-but": {"suffix": {"equals-ignore-case": ".png"}}}]},
        "Value of anything-but must be an array or single string/number value.",
    ),
    ({"s": [{"anything-but": {"prefix": ""}}]}, "Null prefix/suffix not allowed"),
    ({"s": [{"anything-but": {"suffix": ["x", ""]}}]}, "Null prefix/suffix not allowed"),
    ({"s": [{"anything-but": {"numeric": [">", 1]}}]}, "Unsupported anything-but pattern: numeric"),
    ({"s": [{"anything-but": {}}]}, "Anything-But expression name not found"),
    ({"s": [{"anything-but": {"wildcard": "a**"}}]}, "Consecutive wildcard characters at pos 2"),
    ({"s": [{"anything-but": None}]}, "Value of anything-but must be an array or single string/number value."),
    ({"s": [{"anything-but": True}]}, "Value of anything-but must be an array or single string/number value."),
    # Lists hold only strings or only numbers (recorded on AWS:
    # content_anything_but_string_list_null_type_EXC, ..._null_type_EXC).
    (
        {"s": [{"anything-but": ["a", 1]}]},
        "Inside anything but list, either all values are number or string, mixed type is not supported",
    ),
    (
        {"s": [{"anything-but": []}]},
        "Inside anything but list, either all values are number or string, mixed type is not supported",
    ),
    ({"s": [{"anything-but": ["a", None]}]}, "Inside anything but list, start|null|boolean is not supported."),
    ({"s": [{"anything-but": [True]}]}, "Inside anything but list, start|null|boolean is not supported."),
    ({"s": [{"anything-but": [["a"]]}]}, "Inside anything but list, start|null|boolean is not supported."),
    ({"s": [{"anything-but": "a", "prefix": "b"}]}, "Too many elements in numeric expression"),  # sic
    ({"n": [{"anything-but": 1e10}]}, "Value must be between -5.0E9 and 5.0E9, inclusive"),
    ({"n": [{"anything-but": [1, 0.0000001]}]}, "Only values upto 6 decimals are supported"),
    # numeric (recorded on AWS: content_numeric_EXC, content_numeric_syntax_EXC).
    ({"detail": {"c-count": [{"numeric": [">", 0, ">", 0]}]}}, "Bad numeric range operator: >"),
    ({"detail": {"c-count": [{"numeric": [">", 0, "<"]}]}}, "Value of < must be numeric"),
    ({"n": [{"numeric": 5}]}, "Value of numeric must be an array."),
    ({"n": [{"numeric": []}]}, "Invalid member in numeric match: ]"),
    ({"n": [{"numeric": [5, ">"]}]}, "Invalid member in numeric match: 5"),
    ({"n": [{"numeric": ["!=", 0]}]}, "Unrecognized numeric range operator: !="),
    ({"n": [{"numeric": ["between", 0, 5]}]}, "Unrecognized numeric range operator: between"),
    ({"n": [{"numeric": ["="]}]}, "Value of equals must be numeric"),
    ({"n": [{"numeric": ["=", "5"]}]}, "Value of equals must be numeric"),
    ({"n": [{"numeric": ["=", 5, "<", 6]}]}, "Too many elements in numeric expression"),
    ({"n": [{"numeric": [">", "0"]}]}, "Value of > must be numeric"),
    ({"n": [{"numeric": [">=", True]}]}, "Value of >= must be numeric"),
    ({"n": [{"numeric": ["<", 5, ">", 0]}]}, "Too many elements in numeric expression"),
    ({"n": [{"numeric": ["<=", None]}]}, "Value of <= must be numeric"),
    ({"n": [{"numeric": [">", 0, 5]}]}, "Bad value in numeric range: 5"),
    ({"n": [{"numeric": [">", 0, "<", "5"]}]}, "Value of < must be numeric"),
    ({"n": [{"numeric": [">", 0, "<", 5, "<", 6]}]}, "Too many terms in numeric range expression"),
    ({"n": [{"numeric": [">", 5, "<", 5]}]}, "Bottom must be less than top"),
    ({"n": [{"numeric": [">=", 6, "<=", 5]}]}, "Bottom must be less than top"),
    ({"n": [{"numeric": [">", 0], "x": 1}]}, "Too many elements in numeric expression"),
    # ... and the engine's range: -5.0e9 to 5.0e9, six decimals.
    ({"n": [{"numeric": [">", 5000000001]}]}, "Value must be between -5.0E9 and 5.0E9, inclusive"),
    ({"n": [{"numeric": ["<", -5.1e9]}]}, "Value must be between -5.0E9 and 5.0E9, inclusive"),
    ({"n": [{"numeric": ["=", 0.0000001]}]}, "Only values upto 6 decimals are supported"),
    ({"n": [{"numeric": [">", 0, "<", 1.1234567]}]}, "Only values upto 6 decimals are supported"),
    # exists.
    ({"s": [{"exists": "true"}]}, "exists match pattern must be either true or false."),
    ({"s": [{"exists": None}]}, "exists match pattern must be either true or false."),
    ({"s": [{"exists": True, "prefix": "a"}]}, "Only one key allowed in match expression"),
    # cidr (recorded on AWS: content_ip_address_EXC, _bad_mask_EXC, _bad_ip_EXC,
    # _v6_bad_ip_EXC, _type_EXC — which really says "prefix").
    ({"detail": {"sourceIPAddress": [{"cidr": "bad-filter"}]}}, "Malformed CIDR, one '/' required"),
    ({"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/x"}]}}, "Malformed CIDR, mask bits must be an integer"),
    ({"detail": {"sourceIPAddress": [{"cidr": "xx.11.xx/8"}]}}, "Nonstandard IP address: xx.11.xx"),
    (
        {"detail": {"sourceIPAddress": [{"cidr": "xxxx:db8:1234:1a00::/64"}]}},
        "Nonstandard IP address: xxxx:db8:1234:1a00::",
    ),
    ({"detail": {"sourceIPAddress": [{"cidr": ["bad-type"]}]}}, "prefix match pattern must be a string"),
    ({"ip": [{"cidr": "10.0.0.0/"}]}, "Malformed CIDR, one '/' required"),
    ({"ip": [{"cidr": "10.0.0.0/8/8"}]}, "Malformed CIDR, one '/' required"),
    ({"ip": [{"cidr": "10.0.0.0/-1"}]}, "Malformed CIDR, mask bits must not be negative"),
    ({"ip": [{"cidr": "10.0.0.0/32"}]}, "IPv4 mask bits must be < 32"),
    ({"ip": [{"cidr": "2001:db8::/128"}]}, "IPv6 mask bits must be < 128"),
    ({"ip": [{"cidr": "10.0.0.256/8"}]}, "Invalid IP address: 10.0.0.256"),
    ({"ip": [{"cidr": "1::2::3/64"}]}, "Invalid IP address: 1::2::3"),
    # $or.
    ({"$or": {"a": ["x"]}}, "It must be an Array followed with $or."),
    ({"$or": [{"a": ["x"]}]}, "There must have at least 2 Objects in $or relationship."),
    ({"$or": []}, "There must have at least 2 Objects in $or relationship."),
    ({"$or": [{"a": ["x"]}, "b"]}, "Only JSON object is allowed in array of $or relationship."),
    ({"$or": [{"a": ["x"]}, {}]}, "Empty objects are not allowed"),
    (
        {"$or": [{"numeric": [1]}, {"prefix": ["abc"]}]},
        "numeric is Ruler reserved fieldName which cannot be used inside $or.",
    ),
    (
        {"$or": [{"a": {"exists": ["x"]}}, {"b": ["y"]}]},
        "exists is Ruler reserved fieldName which cannot be used inside $or.",
    ),
    (
        {"detail": {"$or": [{"a": ["x"]}, {"$or": [{"b": ["y"]}, {"<=": ["z"]}]}]}},
        "<= is Ruler reserved fieldName which cannot be used inside $or.",
    ),
    # Wildcard complexity (recorded on AWS: content_wildcard_complex_EXC).
    ({"EventBusArn": [{"wildcard": "*:*:*:*:*:event-bus/*"}]}, wildcard.TOO_COMPLEX),
    (
        {"stack": [{"wildcard": f"*:stack/{name}/*"} for name in ("Shared", "Api", "Data", "Monitoring")]},
        wildcard.TOO_COMPLEX,
    ),
    ({"s": [{"anything-but": {"wildcard": ["*a*a*a*", "*b*b*b*"]}}]}, wildcard.TOO_COMPLEX),
]


@pytest.mark.parametrize("pattern, reason", INVALID, ids=ids(INVALID))
def test_invalid_patterns_give_aws_reasons(pattern, reason):
    with pytest.raises(InvalidPattern) as info:
        compile_pattern(pattern)
    assert str(info.value) == reason
    if not isinstance(pattern, str):
        with pytest.raises(InvalidPattern) as info:
            compile_pattern(json.dumps(pattern))
        assert str(info.value) == reason


@pytest.mark.parametrize(
    "text", ["not json", "{'bad': 'quotation'}", '{"not": closed mark"', "NaN", '{"n": [NaN]}', '{"n": [Infinity]}', ""]
)
def test_text_that_is_not_json_is_refused(text):
    with pytest.raises(InvalidPattern, match="not valid JSON"):
        compile_pattern(text)


def test_errors_name_the_field_they_were_found_at():
    with pytest.raises(InvalidPattern) as info:
        compile_pattern({"detail": {"state": [{"prefix": 1}]}})
    assert info.value.path == "detail.state" and str(info.value) == "prefix match pattern must be a string"
    with pytest.raises(InvalidPattern) as info:
        compile_pattern({"detail": {"$or": [{"a": ["x"]}]}})
    assert info.value.path == "detail.$or"


def test_the_first_mistake_in_document_order_is_reported():
    with pytest.raises(InvalidPattern, match="^Empty arrays are not allowed$"):
        compile_pattern('{"a": [], "b": [{"prefix": 1}]}')
    with pytest.raises(InvalidPattern, match="^prefix match pattern must be a string$"):
        compile_pattern('{"b": [{"prefix": 1}], "a": []}')


# ---------------------------------------------------------------- wildcard complexity

ACCEPTED_WILDCARDS = [
    ["*.png"],
    ["dir/*.png"],
    ["*Title*"],
    ["*/lib/*"],
    ["arn:aws:s3:::*/uploads/*"],
    ["arn:aws:events:us-east-1:*:event-bus/*"],  # recorded on AWS
    ["/Users/*/dir/dir/dir/dir/dir/doc.txt"],  # recorded on AWS (repeating)
    [f"*:stack/{name}/*" for name in ("Shared", "Api", "Data")],  # accepted on AWS with three
    ["*cmd.exe*mycommand*"],
    ["a*b*c*d*e"],
]


@pytest.mark.parametrize("values", ACCEPTED_WILDCARDS, ids=[" ".join(v) for v in ACCEPTED_WILDCARDS])
def test_wildcards_that_are_not_too_complex(values):
    assert isinstance(compile_pattern({"f": [{"wildcard": value} for value in values]}), Pattern)


# event-ruler's own tests of its complexity measure (MachineComplexityEvaluatorTest).
COMPLEXITY = [
    (["*"], 1),
    (["abc"], 1),
    (["*ab"], 2),
    (["*aa"], 3),
    (["a*b"], 2),
    (["aa*"], 2),
    (["a*bc"], 2),
    (["a*bb"], 3),
    (["a*bcb"], 3),
    (["a*bbb"], 4),
    (["*ab*ad"], 4),
    (["*ab*d"], 3),
    (["*aba*"], 4),
    (["a*b*bb"], 5),
    (["a*b*cb"], 4),
    (["a*b*cd"], 3),
    (["a*b*b"], 4),
    (["a*bb*"], 4),
    (["ab*b*"], 3),
    (["*", "ab*c"], 3),
    (["ab*c", "x*xx"], 3),
    (["*abc", "*abcde"], 4),
    (["a*bcd", "ab*cd"], 4),
    (["a*bc", "a*bcde"], 4),
    (["a*aaa", "aa*aa"], 7),
    (["a*bc", "abc*d"], 4),
    (["a*aaa", "aaa*a"], 6),
    (["a*aax", "aaa*x"], 5),
    (["a*bc", "abc*"], 4),
    (["a*aa", "aaa*"], 5),
    (["abc*", "abcde*"], 3),
    (["ab*cd", "ab*wx", "ab*yz"], 6),
    (["*ab*b*b*"], 7),
    (["*a*a*a*a*a*a*a*a*"], 17),
    (["ab*c", "ab*c"], 2),  # duplicates count once
]


@pytest.mark.parametrize("values, expected", COMPLEXITY, ids=[" ".join(c[0]) for c in COMPLEXITY])
def test_complexity_measure_agrees_with_event_ruler(values, expected):
    assert wildcard.complexity([wildcard.parse(value) for value in values], limit=100) == expected


def test_complexity_counts_one_field_at_a_time():
    # Three wildcards per field, in two fields: each field scores 9, the rule is accepted.
    values = [{"wildcard": f"*:stack/{name}/*"} for name in ("Shared", "Api", "Data")]
    assert compile_pattern({"a": values, "b": values})
    # The same field in both branches of an $or is one field.
    with pytest.raises(InvalidPattern, match="Rule is too complex"):
        compile_pattern({"$or": [{"a": values}, {"a": [{"wildcard": "*:stack/Monitoring/*"}]}]})


# ---------------------------------------------------------------- compiling once, matching many


def test_a_compiled_pattern_is_reusable_and_keeps_its_source():
    compiled = compile_pattern('{"source": ["aws.ec2"]}')
    assert compiled is compile_pattern('{"source": ["aws.ec2"]}')  # JSON text is compiled once
    assert compiled.source == {"source": ["aws.ec2"]} and "aws.ec2" in repr(compiled)
    assert compiled.matches(EC2) and matches(compiled, EC2)
    assert not compiled.matches({"source": "aws.s3"})
    assert not compiled.matches("not an object") and not compiled.matches(None)


def test_matching_is_fast_enough_for_put_events():
    pattern = compile_pattern(
        {
            "source": ["aws.ec2"],
            "detail-type": [{"prefix": "EC2 Instance"}],
            "detail": {"state": [{"anything-but": ["pending", "stopping"]}], "instance-id": [{"wildcard": "i-*"}]},
        }
    )
    events = [
        event(state=state, **{"instance-id": f"i-{n:017x}"})
        for n, state in enumerate(["terminated", "pending", "running"] * 700)
    ]
    started = time.perf_counter()
    matched = sum(pattern.matches(sample) for sample in events)
    elapsed = time.perf_counter() - started
    assert matched == 1400
    assert elapsed < 2.0, f"{len(events)} matches took {elapsed:.3f}s"


# ---------------------------------------------------------------- SNS filter policies

ORDER = {
    "store": {"Type": "String", "Value": "example_corp"},
    "event": {"Type": "String", "Value": "order_placed"},
    "customer_interests": {"Type": "String.Array", "Value": '["soccer", "rugby", "hockey"]'},
    "price_usd": {"Type": "Number", "Value": "210.75"},
    "encrypted": {"Type": "Binary", "Value": "AAEC"},
}

SNS_ATTRIBUTE_CASES = [
    ({"store": ["example_corp"], "event": ["order_placed"]}, True),
    ({"customer_interests": ["rugby", "tennis"]}, True),
    ({"customer_interests": [{"anything-but": ["rugby", "tennis"]}]}, True),  # soccer isn't
    ({"price_usd": [{"numeric": [">=", 100, "<", 300]}]}, True),
    ({"price_usd": [{"numeric": ["=", 210.75]}]}, True),
    ({"price_usd": [210.75]}, True),
    ({"store": [{"prefix": "example"}]}, True),
    ({"store": [{"suffix": "_corp"}]}, True),
    ({"store": [{"equals-ignore-case": "EXAMPLE_CORP"}]}, True),
    ({"event": [{"anything-but": {"prefix": "order_"}}]}, False),
    ({"promo": [{"exists": False}]}, True),
    ({"encrypted": [{"exists": True}]}, False),  # Binary attributes are never compared
    ({"$or": [{"store": ["other"]}, {"price_usd": [{"numeric": [">", 200]}]}]}, True),
    ({"$or": [{"store": ["other"]}, {"price_usd": [{"numeric": [">", 300]}]}]}, False),
]


@pytest.mark.parametrize("policy, expected", SNS_ATTRIBUTE_CASES, ids=ids(SNS_ATTRIBUTE_CASES))
def test_sns_policies_on_message_attributes(policy, expected):
    assert sns_policy_matches(json.dumps(policy), ORDER, None) is expected


SNS_INVALID = [
    # SNS has its own operator set: no wildcard, plain prefix/suffix, anything-but with a
    # prefix only, and no "between" (ranges are numeric [">", a, "<=", b]).
    ({"a": [{"wildcard": "*x"}]}, "MessageAttributes", "Unrecognized match type wildcard"),
    ({"a": [{"prefix": {"equals-ignore-case": "x"}}]}, "MessageAttributes", "prefix match pattern must be a string"),
    ({"a": [{"suffix": {"equals-ignore-case": "x"}}]}, "MessageBody", "suffix match pattern must be a string"),
    ({"a": [{"anything-but": {"suffix": "x"}}]}, "MessageAttributes", "Unsupported anything-but pattern: suffix"),
    (
        {"a": [{"anything-but": {"equals-ignore-case": "x"}}]},
        "MessageAttributes",
        "Unsupported anything-but pattern: equals-ignore-case",
    ),
    ({"a": [{"anything-but": {"wildcard": "x*"}}]}, "MessageAttributes", "Unsupported anything-but pattern: wildcard"),
    ({"a": [{"numeric": ["between", 0, 10]}]}, "MessageAttributes", "Unrecognized numeric range operator: between"),
    # Limits: five keys, 150 combinations, no nesting in the attribute scope.
    (
        {"a": ["1"], "b": ["1"], "c": ["1"], "d": ["1"], "e": ["1"], "f": ["1"]},
        "MessageAttributes",
        "Filter policy can not have more than 5 keys",
    ),
    (
        {"a": ["1"], "b": ["1"], "c": ["1"], "d": ["1"], "e": ["1"], "f": ["1"]},
        "MessageBody",
        "Filter policy can not have more than 5 keys",
    ),
    ({"a": [str(n) for n in range(151)]}, "MessageAttributes", "Filter policy is too complex"),
    (
        {"a": [str(n) for n in range(13)], "b": [str(n) for n in range(12)]},
        "MessageAttributes",
        "Filter policy is too complex",
    ),
    ({"a": {"b": {"c": [str(n) for n in range(51)]}}}, "MessageBody", "Filter policy is too complex"),  # 51 x 3
    (
        {"customer": {"tier": ["gold"]}},
        "MessageAttributes",
        "Filter policy scope MessageAttributes does not support nested filter policy",
    ),
    (
        {"$or": [{"a": ["x"]}, {"b": {"c": ["y"]}}]},
        "MessageAttributes",
        "Filter policy scope MessageAttributes does not support nested filter policy",
    ),
    # The shared rules still apply.
    ({"a": "x"}, "MessageAttributes", '"a" must be an object or an array'),
    ({"a": [{"nonsense": 1}]}, "MessageAttributes", "Unrecognized match type nonsense"),
]


@pytest.mark.parametrize("policy, scope, reason", SNS_INVALID, ids=ids(SNS_INVALID))
def test_sns_refusals(policy, scope, reason):
    with pytest.raises(InvalidPattern) as info:
        compile_sns_policy(json.dumps(policy), scope)
    assert str(info.value) == reason


def test_sns_limits_count_as_the_sns_guide_does():
    # The guide's example: key_c (4 values, depth 3) and key_e (3 values, depth 2): 72.
    nested = {"key_a": {"key_b": {"key_c": ["1", "2", "3", "4"]}}, "key_d": {"key_e": ["1", "2", "3"]}}
    assert compile_sns_policy(nested, "MessageBody")
    assert compile_sns_policy({"a": [str(n) for n in range(150)]})  # 150 is allowed
    assert compile_sns_policy({"a": [str(n) for n in range(10)], "b": [str(n) for n in range(15)]})
    # "$or" adds its branches up: 100 + 50.
    assert compile_sns_policy({"$or": [{"a": [str(n) for n in range(100)]}, {"b": [str(n) for n in range(50)]}]})
    # Five keys, one of them "$or", are allowed; nesting is allowed in the body scope.
    assert compile_sns_policy({"a": ["1"], "b": ["1"], "c": ["1"], "d": ["1"], "$or": [{"e": ["1"]}, {"f": ["1"]}]})
    assert compile_sns_policy({"customer": {"tier": ["gold"]}}, "MessageBody")


def test_sns_message_body_scope():
    body = json.dumps(
        {
            "store": "example_corp",
            "customer": {"tier": "gold", "interests": ["rugby"]},
            "price_usd": 210.75,
            "items": [{"sku": "A1", "qty": 2}, {"sku": "B2", "qty": 0}],
        }
    )
    assert sns_policy_matches({"customer": {"tier": ["gold"]}}, {}, body, "MessageBody")
    assert sns_policy_matches({"customer.tier": ["gold"]}, {}, body, "MessageBody")  # dotted keys
    assert sns_policy_matches({"price_usd": [{"numeric": [">", 200]}]}, {}, body, "MessageBody")
    assert not sns_policy_matches({"items": {"sku": ["A1"], "qty": [0]}}, {}, body, "MessageBody")
    assert sns_policy_matches({"items": {"sku": ["B2"], "qty": [0]}}, {}, body, "MessageBody")
    assert not sns_policy_matches({"store": ["example_corp"]}, {}, "not json", "MessageBody")
    assert not sns_policy_matches({"store": [{"exists": False}]}, {}, "[1, 2]", "MessageBody")


def test_sns_attribute_types():
    attributes = {
        "sizes": {"DataType": "String.Array", "StringValue": '["S", "M", 10, true, null]'},
        "weights": {"Type": "Number.Array", "Value": "[100, 50]"},
        "price": {"DataType": "Number", "StringValue": "1.5e2"},
        "label": {"DataType": "String", "StringValue": "150"},
    }
    assert sns_attributes_to_event(attributes) == {
        "sizes": ["S", "M", 10, True, None],
        "weights": [100, 50],
        "price": Decimal("1.5e2"),
        "label": "150",
    }
    assert sns_policy_matches({"sizes": ["M"]}, attributes, None)
    assert sns_policy_matches({"sizes": [10]}, attributes, None)
    assert sns_policy_matches({"price": [150]}, attributes, None)
    assert not sns_policy_matches({"label": [150]}, attributes, None)  # a String stays a string
    # The SNS guide: anything-but [100, 500] matches Number.Array [100, 50].
    assert sns_policy_matches({"weights": [{"anything-but": [100, 500]}]}, attributes, None)
    assert not sns_policy_matches({"weights": [{"anything-but": [100, 50]}]}, attributes, None)


# ---------------------------------------------------------------- Lambda FilterCriteria


def test_lambda_filter_criteria_use_eventbridge_rules():
    # The Lambda guide's SQS example: a body that is JSON is matched as an object.
    record = {
        "messageId": "1",
        "body": {"RequestCode": "BBBB", "Size": 12},
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
    }
    assert matches({"body": {"RequestCode": ["BBBB"]}}, record)
    assert matches({"body": {"Size": [{"numeric": [">", 10]}]}}, record)
    assert not matches({"body": {"RequestCode": [{"anything-but": ["BBBB"]}]}}, record)
    # A plain-string body is matched as a string.
    assert matches({"body": [{"prefix": "hello"}]}, {**record, "body": "hello world"})
    # The guide's DynamoDB examples (values are typed attribute maps: "N" is a string).
    insert = {"eventName": "INSERT", "dynamodb": {"NewImage": {"id": {"BOOL": True}, "n": {"N": "5"}}}}
    assert matches({"eventName": ["INSERT"], "dynamodb": {"NewImage": {"id": {"BOOL": [True]}}}}, insert)
    assert not matches({"dynamodb": {"NewImage": {"n": {"N": [5]}}}}, insert)
    assert matches({"dynamodb": {"NewImage": {"n": {"N": ["5"]}}}}, insert)
    assert matches({"dynamodb": {"NewImage": {"homemade": {"S": [{"exists": False}]}}}}, insert)
    # Operators the Lambda guide does not list are EventBridge's all the same.
    assert matches({"eventName": [{"wildcard": "INS*"}]}, insert)
