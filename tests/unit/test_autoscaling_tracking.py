"""Target tracking's decision on recorded metrics: ProvisionedConcurrencyUtilization put in a
real MetricsRecorder minute by minute, read back as the policy reads it each minute, and
the rule of AlarmHigh (3 of 3 minutes above the target) and AlarmLow (15 of 15 below 90%)
with AWS's proportional new capacity, bounds and DisableScaleIn."""

from __future__ import annotations

import asyncio

from lamina.observability.recorder import MetricsRecorder
from lamina.services.autoscaling.state import TargetRef
from lamina.services.autoscaling.tracking import Decision, decide, minute_averages

REF = TargetRef("000000000000", "us-east-1", "lambda", "function:shop:live", "lambda:function:ProvisionedConcurrency")
NOW = 1_800_000_030.0  # half a minute into a minute
DIMENSIONS = {"FunctionName": "shop", "Resource": "shop:live"}


def _recorded(per_minute: list[list[float]]) -> list[float | None]:
    """Per complete minute before NOW (oldest first), the values the telemetry put each
    second; the averages the policy reads back."""
    recorder = MetricsRecorder(default_scope=("us-east-1", "000000000000"))
    last_minute = int(NOW // 60) * 60 - 60
    first = last_minute - 60 * (len(per_minute) - 1)
    for index, values in enumerate(per_minute):
        for second, value in enumerate(values):
            recorder.put(
                "AWS/Lambda",
                "ProvisionedConcurrencyUtilization",
                DIMENSIONS,
                value,
                "None",
                timestamp=first + index * 60 + second,
                scope=("us-east-1", "000000000000"),
            )
    # A value of the minute in progress is not read: only complete minutes count.
    recorder.put("AWS/Lambda", "ProvisionedConcurrencyUtilization", DIMENSIONS, 1.0, "None", timestamp=NOW - 1)
    return asyncio.run(minute_averages(recorder, REF, NOW, 15))


def _plan(decision: Decision | None) -> tuple[int, str] | None:
    return None if decision is None else (decision.desired, decision.direction)


def test_three_busy_minutes_scale_out_in_proportion():
    averages = _recorded([[0.2] * 60] * 12 + [[1.0] * 60, [0.9, 1.0] * 30, [1.0] * 60])
    assert averages[-1] == 1.0 and round(averages[-2], 6) == 0.95
    # 2 instances at 100% with a target of 70%: ceil(2 * 1.0 / 0.7) = 3.
    assert decide(averages, current=2, target_value=0.7, low=1, high=10, scale_in=True) == Decision(3, "out", 1.0)
    # Never above MaxCapacity, and nothing to do when already there.
    assert decide(averages, current=2, target_value=0.5, low=1, high=3, scale_in=True) == Decision(3, "out", 1.0)
    assert decide(averages, current=3, target_value=0.5, low=1, high=3, scale_in=True) is None


def test_two_busy_minutes_or_a_gap_do_not():
    averages = _recorded([[0.2] * 60] * 13 + [[1.0] * 60, [1.0] * 60])
    assert decide(averages, current=2, target_value=0.7, low=1, high=10, scale_in=True) is None
    with_gap = _recorded([[1.0] * 60, [], [1.0] * 60])
    assert with_gap[-2] is None
    assert decide(with_gap, current=2, target_value=0.7, low=1, high=10, scale_in=True) is None


def test_fifteen_quiet_minutes_scale_in_unless_disabled():
    averages = _recorded([[0.1] * 60] * 15)
    # 10 instances at 10% with a target of 50%: ceil(10 * 0.1 / 0.5) = 2, not below MinCapacity.
    assert _plan(decide(averages, current=10, target_value=0.5, low=1, high=10, scale_in=True)) == (2, "in")
    assert _plan(decide(averages, current=10, target_value=0.5, low=4, high=10, scale_in=True)) == (4, "in")
    assert decide(averages, current=10, target_value=0.5, low=1, high=10, scale_in=False) is None
    # One minute above 90% of the target breaks the 15 of 15.
    busy_once = _recorded([[0.1] * 60] * 7 + [[0.46] * 60] + [[0.1] * 60] * 7)
    assert decide(busy_once, current=10, target_value=0.5, low=1, high=10, scale_in=True) is None
