"""The alarm evaluator as a pure function over datapoint sequences: CloudWatch's documented
table of missing-data treatments, M of N, comparisons, low sample counts, reason texts."""

from __future__ import annotations

import json

import pytest

from lamina.services.cloudwatch.alarm_evaluation import (
    ALARM,
    INSUFFICIENT_DATA,
    OK,
    Datapoint,
    Rule,
    aws_time,
    breaches,
    evaluate,
)

T0 = 1_700_000_040.0  # a minute boundary
NOW = T0 + 5 * 60 + 7


def points(pattern: str, breach: float = 5.0, within: float = 0.0) -> list[Datapoint]:
    """'0 - X - X' (oldest first): 0 within the threshold, X breaching, - missing."""
    values = {"0": within, "X": breach, "-": None}
    chosen = [values[c] for c in pattern.split()]
    return [Datapoint(T0 + i * 60, v, 1.0 if v is not None else 0.0) for i, v in enumerate(chosen)]


def rule(treat: str = "missing", n: int = 3, m: int = 3, **more) -> Rule:
    return Rule("GreaterThanThreshold", 1.0, n, m, treat, 60, "Maximum", **more)


# AWS's table (Evaluation Periods 3, Datapoints to Alarm 3, an evaluation range of 5):
# MISSING, IGNORE, BREACHING, NOT BREACHING; None = the current state is kept.
TABLE = [
    ("0 - X - X", (OK, OK, OK, OK)),
    ("0 - - - -", (OK, OK, OK, OK)),
    ("- - - - -", (INSUFFICIENT_DATA, None, ALARM, OK)),
    ("0 X X - X", (ALARM, ALARM, ALARM, ALARM)),
    ("- - X - -", (ALARM, None, ALARM, OK)),
]


@pytest.mark.parametrize("pattern, expected", TABLE)
@pytest.mark.parametrize("column, treat", list(enumerate(("missing", "ignore", "breaching", "notBreaching"))))
@pytest.mark.parametrize("current", (OK, ALARM, INSUFFICIENT_DATA))
def test_the_documented_missing_data_table(pattern, expected, column, treat, current):
    outcome = evaluate(points(pattern), rule(treat), current, NOW)
    wanted = expected[column]
    if wanted is None:
        assert outcome.retained and outcome.state == current
    else:
        assert (outcome.state, outcome.retained) == (wanted, False)


def test_a_non_breaching_point_leaving_the_range_lets_breaching_fills_alarm():
    # Row 2 of the table, one evaluation later: the lone 0 is out of the range.
    assert evaluate(points("0 - - - -"), rule("breaching"), OK, NOW).state == OK
    assert evaluate(points("- - - - -"), rule("breaching"), OK, NOW).state == ALARM


@pytest.mark.parametrize(
    "pattern, state",
    [
        ("0 0 X 0 X", ALARM),  # the last three: X 0 X, two breach
        ("0 0 0 X X", ALARM),
        ("X X 0 0 X", OK),
        ("0 X 0 X 0", OK),
        ("X 0 X 0 X", ALARM),
    ],
)
def test_m_of_n(pattern, state):
    assert evaluate(points(pattern), rule(n=3, m=2), OK, NOW).state == state


def test_only_the_most_recent_n_real_datapoints_count():
    # Five real points; N=3 looks at the last three only.
    assert evaluate(points("X X 0 0 0"), rule(n=3, m=1), ALARM, NOW).state == OK
    assert evaluate(points("0 0 0 0 X"), rule(n=3, m=1), OK, NOW).state == ALARM


@pytest.mark.parametrize(
    "comparison, value, expected",
    [
        ("GreaterThanThreshold", 1.0, False),
        ("GreaterThanThreshold", 1.5, True),
        ("GreaterThanOrEqualToThreshold", 1.0, True),
        ("LessThanThreshold", 1.0, False),
        ("LessThanThreshold", 0.5, True),
        ("LessThanOrEqualToThreshold", 1.0, True),
        ("LessThanOrEqualToThreshold", 1.5, False),
    ],
)
def test_comparisons(comparison, value, expected):
    assert breaches(comparison, value, 1.0) is expected


def test_low_sample_percentiles_keep_the_state_when_asked():
    few = [Datapoint(T0, 99.0, 5.0)]
    low = Rule("GreaterThanThreshold", 1.0, 1, 1, "missing", 60, "p99", percentile=99.0, low_sample_ignore=True)
    assert evaluate(few, low, OK, NOW).retained
    evaluated = Rule("GreaterThanThreshold", 1.0, 1, 1, "missing", 60, "p99", percentile=99.0)
    assert evaluate(few, evaluated, OK, NOW).state == ALARM
    many = [Datapoint(T0, 99.0, 1000.0)]
    assert evaluate(many, low, OK, NOW).state == ALARM


def test_reason_and_reason_data():
    outcome = evaluate(points("- - - 0 X", breach=5.0), rule(n=1, m=1), OK, NOW)
    assert outcome.state == ALARM
    assert outcome.reason == (
        "Threshold Crossed: 1 out of the last 1 datapoints [5.0 (14/11/23 22:18:00)] was greater than the "
        "threshold (1.0) (minimum 1 datapoint for OK -> ALARM transition)."
    )
    data = json.loads(outcome.reason_data)
    assert data["version"] == "1.0"
    assert data["statistic"] == "Maximum" and data["period"] == 60 and data["threshold"] == 1.0
    assert data["recentDatapoints"] == [5.0]
    assert data["evaluatedDatapoints"] == [{"timestamp": aws_time(T0 + 240), "sampleCount": 1.0, "value": 5.0}]
    assert data["queryDate"] == aws_time(NOW)

    back = evaluate(points("X X X 0 0"), rule(n=2, m=2), ALARM, NOW)
    assert back.state == OK
    assert back.reason.startswith("Threshold Crossed: 2 out of the last 2 datapoints [0.0 (")
    assert "were not greater than the threshold (1.0)" in back.reason
    assert back.reason.endswith("(minimum 1 datapoint for ALARM -> OK transition).")

    none = evaluate(points("- - - - -"), rule(n=2, m=2), OK, NOW)
    assert none.reason == "Insufficient Data: 2 datapoints were unknown."
    filled = evaluate(points("- - - - -"), rule("breaching", n=1, m=1), OK, NOW)
    assert filled.reason == (
        "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as "
        "[Breaching]."
    )


def test_aws_time_format():
    assert aws_time(T0 + 0.25) == "2023-11-14T22:14:00.250+0000"
