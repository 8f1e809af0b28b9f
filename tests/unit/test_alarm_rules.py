"""Composite alarms' rule language and the metric math alarms use, as pure functions."""

from __future__ import annotations

import math

import pytest

from lamina.services.cloudwatch import composite, metric_math


def test_rule_precedence_and_evaluation():
    rule = composite.parse('ALARM(a) OR ALARM("b c") AND NOT OK(arn:aws:cloudwatch:us-east-1:1:alarm:d)')
    assert composite.children(rule) == ["a", "b c", "arn:aws:cloudwatch:us-east-1:1:alarm:d"]
    states = {"a": "OK", "b c": "ALARM", "arn:aws:cloudwatch:us-east-1:1:alarm:d": "ALARM"}
    assert composite.holds(rule, states.get)
    states["arn:aws:cloudwatch:us-east-1:1:alarm:d"] = "OK"
    assert not composite.holds(rule, states.get)
    assert composite.holds(composite.parse("(TRUE OR FALSE) AND NOT FALSE"), states.get)
    assert composite.holds(composite.parse("INSUFFICIENT_DATA(x)"), {"x": "INSUFFICIENT_DATA"}.get)


@pytest.mark.parametrize("text", ["", "ALARM(a", "ALARM()", "ALARM(a) AND", "alarm(a)", "ALARM(a) XOR OK(b)", "(TRUE"])
def test_bad_rules(text):
    with pytest.raises(composite.RuleError):
        composite.parse(text)


GRID = [0.0, 60.0, 120.0, 180.0]


def test_math_arithmetic_and_functions():
    series = {"m1": {0.0: 1.0, 60.0: 2.0, 180.0: 4.0}, "m2": {0.0: 10.0, 60.0: 20.0, 120.0: 30.0}}
    assert metric_math.evaluate("m1 + m2", series, GRID) == {0.0: 11.0, 60.0: 22.0}
    assert metric_math.evaluate("(m1 * 2 - 1) / 2", series, GRID) == {0.0: 0.5, 60.0: 1.5, 180.0: 3.5}
    assert metric_math.evaluate("SUM([m1, m2])", series, GRID) == {0.0: 11.0, 60.0: 22.0, 120.0: 30.0, 180.0: 4.0}
    assert metric_math.evaluate("MAX(METRICS())", series, GRID)[180.0] == 4.0
    assert metric_math.evaluate("AVG(m1)", series, GRID) == pytest.approx(7 / 3)
    assert metric_math.evaluate("FILL(m1, 0)", series, GRID) == {0.0: 1.0, 60.0: 2.0, 120.0: 0.0, 180.0: 4.0}
    assert metric_math.evaluate("FILL(m1, REPEAT)", series, GRID)[120.0] == 2.0
    assert metric_math.evaluate("FILL(m1, LINEAR)", series, GRID)[120.0] == 3.0
    assert metric_math.evaluate("IF(m1 > 1, m1, 0)", series, GRID) == {0.0: 0.0, 60.0: 2.0, 180.0: 4.0}
    assert metric_math.evaluate("IF(m1 >= 2 AND m1 < 4, 1)", series, GRID) == {60.0: 1.0}
    assert metric_math.evaluate("-m1 ^ 2", series, GRID)[60.0] == -4.0
    assert metric_math.evaluate("DIFF(m1)", series, GRID) == {60.0: 1.0, 180.0: 2.0}
    assert metric_math.evaluate("RATE(m2)", series, GRID)[60.0] == pytest.approx(10 / 60)
    assert metric_math.evaluate("m1 / 0", series, GRID) == {}  # no division results: missing
    assert math.isclose(metric_math.evaluate("2 * 3 + 1", {}, GRID), 7.0)
    assert metric_math.references("m1 / SUM(METRICS()) * 100") == {"m1", "*"}


@pytest.mark.parametrize("text", ["m1 +", "UNKNOWN(m1)", "m3", "m1 $ 2", "FILL(m1)"])
def test_bad_expressions(text):
    with pytest.raises(metric_math.MathError):
        metric_math.evaluate(text, {"m1": {0.0: 1.0}}, GRID)
