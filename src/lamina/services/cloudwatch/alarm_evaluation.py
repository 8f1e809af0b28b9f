"""Evaluating a metric alarm: a pure function of its datapoints, configuration and state.

What CloudWatch's documentation ("Evaluating an alarm", "Configuring how CloudWatch alarms
treat missing data") specifies, for N = EvaluationPeriods and M = DatapointsToAlarm:

- The alarm looks at an *evaluation range* of the most recent periods, a few more than N
  (AWS's example: 5 for N = 3; Lamina takes N + 2), so that a late or missing datapoint
  does not decide alone.
- When at least M real datapoints are in the range, TreatMissingData is not needed: the
  most recent N real datapoints are evaluated, ALARM when M of them breach, OK otherwise.
- When some, but fewer than M, are real, every real one is evaluated, and missing ones
  are filled in by TreatMissingData up to N datapoints: `breaching` and `notBreaching`
  fill them as such; `missing` evaluates the real ones alone (ALARM when all of them
  breach); `ignore` goes to OK when a real datapoint does not breach (M breaching ones can
  no longer come about) and otherwise keeps the current state.
- When none is real: `missing` -> INSUFFICIENT_DATA, `ignore` keeps the state, `breaching`
  -> ALARM, `notBreaching` -> OK.

EvaluateLowSampleCountPercentile=ignore: a percentile datapoint from fewer samples than
10 / (1 - p) is not statistically significant; while the most recent datapoint is such
one, the state is kept.

    evaluate(points, rule, current_state) -> Outcome   (points oldest first, value None = missing)
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timezone

OK, ALARM, INSUFFICIENT_DATA = "OK", "ALARM", "INSUFFICIENT_DATA"
STATES = (OK, ALARM, INSUFFICIENT_DATA)
EXTRA_PERIODS = 2  # the evaluation range is N + 2 periods

PHRASES = {
    "GreaterThanThreshold": "greater than",
    "GreaterThanOrEqualToThreshold": "greater than or equal to",
    "LessThanThreshold": "less than",
    "LessThanOrEqualToThreshold": "less than or equal to",
}
ANOMALY_OPERATORS = (
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
)
TREATMENTS = ("breaching", "notBreaching", "ignore", "missing")


@dataclass(frozen=True)
class Datapoint:
    timestamp: float  # start of the period, seconds since the epoch
    value: float | None  # None: missing
    sample_count: float = 0.0


@dataclass(frozen=True)
class Rule:
    comparison: str
    threshold: float
    evaluation_periods: int
    datapoints_to_alarm: int
    treat_missing: str = "missing"
    period: int = 60
    statistic: str | None = None  # for StateReasonData
    percentile: float | None = None  # the p of an ExtendedStatistic
    low_sample_ignore: bool = False  # EvaluateLowSampleCountPercentile=ignore


@dataclass(frozen=True)
class Outcome:
    state: str
    reason: str
    reason_data: str  # JSON, "" when there is none
    retained: bool = False  # the rule kept the current state (ignore, low sample counts)


def breaches(comparison: str, value: float, threshold: float) -> bool:
    if comparison == "GreaterThanThreshold":
        return value > threshold
    if comparison == "GreaterThanOrEqualToThreshold":
        return value >= threshold
    if comparison == "LessThanThreshold":
        return value < threshold
    if comparison == "LessThanOrEqualToThreshold":
        return value <= threshold
    raise ValueError(f"not a static threshold comparison: {comparison}")


def range_size(evaluation_periods: int) -> int:
    return evaluation_periods + EXTRA_PERIODS


def minimum_samples(percentile: float) -> float:
    """How many samples make a percentile statistically significant (10 / (1 - p))."""
    share = percentile / 100.0
    return math.inf if share >= 1 else 10.0 / (1.0 - share)


def evaluate(points: list[Datapoint], rule: Rule, current_state: str, now: float) -> Outcome:
    """The alarm's state after this evaluation (points: the evaluation range, oldest first)."""
    n, m = rule.evaluation_periods, rule.datapoints_to_alarm
    points = points[-range_size(n) :]
    if rule.low_sample_ignore and rule.percentile is not None:
        latest = next((p for p in reversed(points) if p.value is not None), None)
        if latest is not None and latest.sample_count < minimum_samples(rule.percentile):
            return Outcome(current_state, "", "", retained=True)
    real = [p for p in points if p.value is not None]
    phrase = PHRASES[rule.comparison]

    def breach(point: Datapoint) -> bool:
        return point.value is not None and breaches(rule.comparison, point.value, rule.threshold)

    if len(real) >= m:
        chosen = real[-n:]
        hits = [p for p in chosen if breach(p)]
        state = ALARM if len(hits) >= m else OK
        return _crossed(rule, state, current_state, chosen, hits, 0, phrase, now)
    if not real:
        missing = points[-n:] if len(points) >= n else points
        if rule.treat_missing == "ignore":
            return Outcome(current_state, "", "", retained=True)
        if rule.treat_missing == "missing":
            reason = f"Insufficient Data: {_count(n, 'datapoint')} {'was' if n == 1 else 'were'} unknown."
            return Outcome(INSUFFICIENT_DATA, reason, _reason_data(rule, now, missing, []))
        state = ALARM if rule.treat_missing == "breaching" else OK
        label = "Breaching" if state == ALARM else "NotBreaching"
        reason = (
            f"Threshold Crossed: no datapoints were received for {_count(n, 'period')} and "
            f"{_count(n, 'missing datapoint')} {'was' if n == 1 else 'were'} treated as [{label}]."
        )
        return Outcome(state, reason, _reason_data(rule, now, missing, []))
    # Some real datapoints, fewer than M.
    hits = [p for p in real if breach(p)]
    if rule.treat_missing in ("breaching", "notBreaching"):
        fills = min(n - len(real), len(points) - len(real))
        breaching_fills = fills if rule.treat_missing == "breaching" else 0
        state = ALARM if len(hits) + breaching_fills >= m else OK
        return _crossed(rule, state, current_state, real, hits, fills, phrase, now)
    if len(hits) < len(real):  # a real datapoint within the threshold: M breaching ones are out of reach
        return _crossed(rule, OK, current_state, real, hits, 0, phrase, now)
    if rule.treat_missing == "ignore":
        return Outcome(current_state, "", "", retained=True)
    return _crossed(rule, ALARM, current_state, real, hits, 0, phrase, now, needed=len(real))


def _crossed(
    rule: Rule,
    state: str,
    current_state: str,
    chosen: list[Datapoint],
    hits: list[Datapoint],
    fills: int,
    phrase: str,
    now: float,
    needed: int | None = None,
) -> Outcome:
    """AWS's "Threshold Crossed" reason for an evaluation of real datapoints (and fills)."""
    total = len(chosen) + fills
    old = current_state
    if state == ALARM:
        listed = list(reversed(hits))
        count, verb = len(hits), ("was" if len(hits) == 1 else "were")
        minimum = rule.datapoints_to_alarm if needed is None else needed
        what = f"{verb} {phrase}"
    else:
        listed = [p for p in reversed(chosen) if p not in hits]
        count, verb = len(listed), ("was" if len(listed) == 1 else "were")
        minimum = max(1, rule.evaluation_periods - rule.datapoints_to_alarm + 1)
        what = f"{verb} not {phrase}"
    shown = ", ".join(f"{_number(p.value)} ({_short_time(p.timestamp)})" for p in listed)
    treated = ""
    if fills:
        label = "Breaching" if rule.treat_missing == "breaching" else "NotBreaching"
        treated = f" and {_count(fills, 'missing datapoint')} {'was' if fills == 1 else 'were'} treated as [{label}]"
    transition = f"{old} -> {state}" if old != state else f"{state} -> {state}"
    reason = (
        f"Threshold Crossed: {count} out of the last {total} datapoints [{shown}] {what} the threshold "
        f"({_number(rule.threshold)}){treated} (minimum {_count(minimum, 'datapoint')} for {transition} transition)."
    )
    return Outcome(state, reason, _reason_data(rule, now, chosen, list(reversed(chosen))))


def _reason_data(rule: Rule, now: float, evaluated: list[Datapoint], recent: list[Datapoint]) -> str:
    data: dict = {"version": "1.0", "queryDate": aws_time(now)}
    if evaluated:
        data["startDate"] = aws_time(min(p.timestamp for p in evaluated))
    if rule.statistic:
        data["statistic"] = rule.statistic
    data["period"] = rule.period
    data["recentDatapoints"] = [p.value for p in recent if p.value is not None]
    data["threshold"] = rule.threshold
    data["evaluatedDatapoints"] = [
        {"timestamp": aws_time(p.timestamp), "sampleCount": p.sample_count, "value": p.value}
        if p.value is not None
        else {"timestamp": aws_time(p.timestamp)}
        for p in reversed(evaluated)
    ]
    return json.dumps(data, separators=(",", ":"))


def aws_time(seconds: float) -> str:
    """CloudWatch's timestamps in alarm documents: 2024-03-12T10:00:00.000+0000."""
    moment = datetime.fromtimestamp(seconds, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _short_time(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%d/%m/%y %H:%M:%S")


def _number(value: float | None) -> str:
    return repr(float(value)) if value is not None else "null"


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
