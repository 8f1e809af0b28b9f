"""An alarm evaluation round reads each metric series once, however many alarms watch it."""

from __future__ import annotations

import asyncio

from lamina.observability.recorder import MetricsRecorder
from lamina.services.cloudwatch.alarm_book import AlarmBook
from lamina.services.cloudwatch.alarm_runner import AlarmRunner

SCOPE = ("000000000000", "us-east-1")
NOW = 1_700_000_000.0


def _alarm(name: str, metric: str, stat: str = "Maximum", threshold: float = 1.0) -> dict:
    return {
        "Type": "MetricAlarm",
        "AlarmName": name,
        "Namespace": "App",
        "MetricName": metric,
        "Dimensions": [],
        "Statistic": stat,
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": threshold,
        "ComparisonOperator": "GreaterThanThreshold",
        "StateValue": "INSUFFICIENT_DATA",
    }


def test_a_round_shares_reads_and_every_alarm_still_sees_its_data():
    async def run():
        recorder = MetricsRecorder()
        minute = int(NOW // 60) * 60 - 60
        recorder.put("App", "Errors", {}, 5.0, timestamp=minute + 1, scope=("us-east-1", "000000000000"))
        book = AlarmBook(None)
        alarms = {f"a{i}": _alarm(f"a{i}", "Errors", threshold=float(i)) for i in range(8)}
        alarms["avg"] = _alarm("avg", "Errors", stat="Average", threshold=10.0)
        alarms["other"] = _alarm("other", "Latency")
        book.alarms[SCOPE] = alarms
        runner = AlarmRunner(book, recorder, None, None)
        runner.clock = lambda: NOW
        outcomes = {}

        async def change_state(scope, alarm, state, reason, data):
            outcomes[alarm["AlarmName"]] = state

        runner.change_state = change_state  # type: ignore[method-assign]
        await runner.evaluate_all()
        return runner.reads, outcomes

    reads, outcomes = asyncio.run(run())
    assert reads == 2  # Errors (nine alarms, two statistics) and Latency
    assert {name: outcomes[name] for name in ("a0", "a4", "a5", "a7", "avg")} == {
        "a0": "ALARM",
        "a4": "ALARM",
        "a5": "OK",
        "a7": "OK",
        "avg": "OK",
    }
    assert "other" not in outcomes  # no data: it stays INSUFFICIENT_DATA
