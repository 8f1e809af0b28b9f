"""SNS filter policies' numbers: AWS's documented range (-1e9..1e9) and precision (five digits
after the decimal point), which differ from EventBridge's (-5e9..5e9, six decimals)."""

from __future__ import annotations

import pytest

from lamina.patterns import InvalidPattern, compile_pattern, compile_sns_policy, sns_policy_matches


def number(value: str) -> dict:
    return {"price": {"Type": "Number", "Value": value}}


@pytest.mark.parametrize("bound", [1_000_000_001, -1_000_000_001, 1.5e9, 1e10])
def test_a_bound_outside_a_billion_is_refused_with_aws_reason(bound):
    for spec in ({"numeric": [">", bound]}, {"numeric": ["=", bound]}, {"anything-but": [bound]}):
        with pytest.raises(InvalidPattern) as caught:
            compile_sns_policy({"price": [spec]})
        assert str(caught.value) == "Value must be between -1.0E9 and 1.0E9, inclusive"


def test_the_edges_of_the_range_are_allowed():
    assert sns_policy_matches({"price": [{"numeric": ["<=", 1_000_000_000]}]}, number("1000000000"), None)
    assert sns_policy_matches({"price": [{"numeric": [">=", -1e9]}]}, number("-1e9"), None)
    # EventBridge still takes up to 5e9.
    compile_pattern({"detail": {"n": [{"numeric": [">", 4e9]}]}})


def test_a_message_value_outside_the_range_is_not_a_number_to_numeric_operators():
    assert not sns_policy_matches({"price": [{"numeric": [">", 0]}]}, number("1000000001"), None)
    assert not sns_policy_matches({"price": [{"numeric": ["<", 0]}]}, number("-2e9"), None)
    body = '{"price": 3e9}'
    assert not sns_policy_matches({"price": [{"numeric": [">", 0]}]}, {}, body, "MessageBody")
    # anything-but numbers: a value it cannot compare is not excluded (as EventBridge does).
    assert sns_policy_matches({"price": [{"anything-but": [5]}]}, number("5000000000"), None)


def test_five_decimals_of_accuracy():
    # More decimals are compared at five: 301.500001 equals 301.5 ...
    assert sns_policy_matches({"price": [{"numeric": ["=", 301.5]}]}, number("301.500001"), None)
    assert sns_policy_matches({"price": [{"numeric": ["=", 301.500009]}]}, number("301.5"), None)
    # ... and 0.000009 is not above 0.000001 (both are 0.00000 at five decimals).
    assert not sns_policy_matches({"price": [{"numeric": [">", 0.000001]}]}, number("0.000009"), None)
    # The fifth decimal still counts.
    assert sns_policy_matches({"price": [{"numeric": [">", 0.00001]}]}, number("0.00002"), None)
    assert not sns_policy_matches({"price": [{"numeric": ["=", 301.5]}]}, number("301.50001"), None)
    assert sns_policy_matches({"price": [{"anything-but": [100]}]}, number("100.00001"), None)
    assert not sns_policy_matches({"price": [{"anything-but": [100]}]}, number("100.000001"), None)
    # A bound with six decimals is not refused, as EventBridge refuses a seventh.
    compile_sns_policy({"price": [{"numeric": [">", 0.123456]}]})


def test_ranges_and_exponents_as_the_documentation_shows():
    policy = {"price_usd": [{"numeric": [">", 0, "<=", 150]}]}
    assert sns_policy_matches(policy, {"price_usd": {"Type": "Number", "Value": "150"}}, None)
    assert not sns_policy_matches(policy, {"price_usd": {"Type": "Number", "Value": "0"}}, None)
    assert not sns_policy_matches(policy, {"price_usd": {"Type": "Number", "Value": "150.00001"}}, None)
    exact = {"price_usd": [{"numeric": ["=", 301.5]}]}
    assert sns_policy_matches(exact, {"price_usd": {"Type": "Number", "Value": "3.015e2"}}, None)
    assert sns_policy_matches(exact, {}, '{"price_usd": 3.015e2}', "MessageBody")
    assert sns_policy_matches(
        {"price_usd": [{"numeric": ["<", 0]}]}, {"price_usd": {"Type": "Number", "Value": "-0.5"}}, None
    )


def test_bounds_equal_at_five_decimals_make_an_empty_range():
    with pytest.raises(InvalidPattern) as caught:
        compile_sns_policy({"price": [{"numeric": [">", 1.000001, "<", 1.000009]}]})
    assert str(caught.value) == "Bottom must be less than top"
