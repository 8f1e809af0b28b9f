"""Running alarms: evaluating them on schedule against the stored metrics, changing their
state, and acting on the change.

One scheduler job (engine/timers/scheduler.py) ticks every 10 seconds of the scheduler's
clock: high-resolution alarms (Period < 60) are evaluated at every tick, the others at
every sixth (each minute), as CloudWatch does; a new or changed alarm is evaluated at once.
Metrics are kept per minute, so a high-resolution alarm's datapoints are minutes (its
Period is answered at 60 seconds, as GetMetricData answers it); only complete periods are
evaluated (the one in progress is not yet a datapoint). Metric windows use the wall clock:
LAMINA_SCHEDULER_SPEEDUP makes evaluations more frequent, not metrics older.

A state change is one store write: the alarm, its StateUpdate history item and one outbox
item per delivery (engine/delivery/outbox.py: retried, surviving a restart):
- the alarm's actions for the new state, when ActionsEnabled: an SNS topic gets AWS's alarm
  notification JSON (as cloudwatch.amazonaws.com, with aws:SourceOwner); a Lambda function
  is invoked asynchronously with AWS's alarm event (as lambda.alarms.cloudwatch.amazonaws.com,
  which the function's policy must allow). Each delivery adds an Action history item.
- always, AWS's "CloudWatch Alarm State Change" event on the account's default event bus.
Then the composite alarms whose rules name the alarm are evaluated again.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from ...engine.delivery.destinations import Destinations
from ...engine.delivery.outbox import Outbox, new_key
from ...engine.delivery.retry import RetryPolicy
from ...engine.timers.expressions import Schedule
from ...engine.timers.scheduler import Scheduler
from ...observability.queries import query_buckets
from ...observability.recorder import MetricsRecorder
from . import composite, metric_math
from .alarm_book import ACTION_KIND, AlarmBook, Scope
from .alarm_evaluation import (
    ALARM,
    INSUFFICIENT_DATA,
    OK,
    Datapoint,
    Outcome,
    Rule,
    aws_time,
    evaluate,
    range_size,
)
from .common import effective_period, percentile_of, statistic

log = logging.getLogger("lamina.cloudwatch.alarms")

# One evaluation round's metric reads: a series asked for by several alarms (the same metric,
# statistic's samples, unit and window) is read from the store once, and the round's distinct
# reads run together; the round's tasks see it, an alarm evaluated on its own does not.
_ROUND_READS: contextvars.ContextVar[dict | None] = contextvars.ContextVar("alarm_round_reads", default=None)

TICK_S = 10
JOB_ID = "cloudwatch-alarms"
ACTION_POLICY = RetryPolicy.exponential(1.0, 30.0, jitter=0.2, max_retries=3, max_age_s=3600)
REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)",
    "af-south-1": "Africa (Cape Town)",
    "ap-east-1": "Asia Pacific (Hong Kong)",
    "ap-south-1": "Asia Pacific (Mumbai)",
    "ap-northeast-1": "Asia Pacific (Tokyo)",
    "ap-northeast-2": "Asia Pacific (Seoul)",
    "ap-northeast-3": "Asia Pacific (Osaka)",
    "ap-southeast-1": "Asia Pacific (Singapore)",
    "ap-southeast-2": "Asia Pacific (Sydney)",
    "ca-central-1": "Canada (Central)",
    "eu-central-1": "EU (Frankfurt)",
    "eu-west-1": "EU (Ireland)",
    "eu-west-2": "EU (London)",
    "eu-west-3": "EU (Paris)",
    "eu-north-1": "EU (Stockholm)",
    "eu-south-1": "EU (Milan)",
    "me-south-1": "Middle East (Bahrain)",
    "sa-east-1": "South America (Sao Paulo)",
}
LAMBDA_PRINCIPAL = "lambda.alarms.cloudwatch.amazonaws.com"
SERVICE_PRINCIPAL = "cloudwatch.amazonaws.com"


def alarm_arn(scope: Scope, name: str) -> str:
    return f"arn:aws:cloudwatch:{scope[1]}:{scope[0]}:alarm:{name}"


class AlarmRunner:
    def __init__(
        self,
        book: AlarmBook,
        recorder: MetricsRecorder,
        destinations: Destinations | None,
        scheduler: Scheduler | None,
    ) -> None:
        self.book = book
        self.recorder = recorder
        self.destinations = destinations
        self.scheduler = scheduler
        self.lock = asyncio.Lock()  # every change of an alarm is committed under it
        self.outbox = Outbox(book.store, ACTION_KIND, self._send, dead_letter=self._failed, policy=ACTION_POLICY)  # type: ignore[arg-type]
        self._round: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()
        self.clock: Callable[[], float] = time.time
        self.reads = 0  # metric reads from the store (a round shares its alarms' reads)

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        if self.book.store is not None and self.destinations is not None:
            await self.outbox.start()
        if self.scheduler is not None:
            schedule = Schedule(f"rate({TICK_S} seconds)", "rate", period=timedelta(seconds=TICK_S))
            self.scheduler.add(JOB_ID, schedule, self._tick)
        for scope, alarms in self.book.all_scopes():
            for alarm in list(alarms.values()):
                self.soon(scope, alarm)

    async def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.remove(JOB_ID)
        tasks = list(self._tasks) + ([self._round] if self._round else [])
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._round = None
        await self.outbox.stop()

    def soon(self, scope: Scope, alarm: dict) -> None:
        """Evaluate an alarm now, in the background (a new or changed one)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self.evaluate_one(scope, alarm))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _tick(self, moment: datetime) -> None:
        if self._round is not None and not self._round.done():
            return  # the previous round is still running: skip, as a slow round must not pile up
        standard = int(moment.timestamp()) // TICK_S % (60 // TICK_S) == 0
        self._round = asyncio.get_running_loop().create_task(self.evaluate_all(standard))
        await asyncio.shield(self._round)

    # --- evaluating ---------------------------------------------------------------------

    async def evaluate_all(self, standard: bool = True, concurrency: int = 32) -> int:
        """One evaluation round: metric alarms due (all when standard, else high-resolution
        ones), then composite ones. The number of alarms evaluated."""
        due = [
            (scope, alarm)
            for scope, alarms in self.book.all_scopes()
            for alarm in list(alarms.values())
            if alarm["Type"] == "MetricAlarm" and (standard or _period(alarm) < 60)
        ]
        token = _ROUND_READS.set({})
        try:
            for start in range(0, len(due), concurrency):
                await asyncio.gather(
                    *(self.evaluate_one(scope, alarm) for scope, alarm in due[start : start + concurrency])
                )
        finally:
            _ROUND_READS.reset(token)
        composites = [
            (scope, alarm)
            for scope, alarms in self.book.all_scopes()
            for alarm in list(alarms.values())
            if alarm["Type"] == "CompositeAlarm"
        ]
        for scope, alarm in composites:
            await self.evaluate_one(scope, alarm)
        return len(due) + len(composites)

    async def evaluate_one(self, scope: Scope, alarm: dict) -> None:
        try:
            if alarm["Type"] == "CompositeAlarm":
                outcome = self.composite_outcome(scope, alarm)
            else:
                outcome = await self.metric_outcome(scope, alarm, self.clock())
            if outcome is not None and not outcome.retained and outcome.state != alarm["StateValue"]:
                await self.change_state(scope, alarm, outcome.state, outcome.reason, outcome.reason_data)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("evaluating alarm %s failed", alarm.get("AlarmName"))

    async def metric_outcome(self, scope: Scope, alarm: dict, now: float) -> Outcome | None:
        rule, points = await self.datapoints(scope, alarm, now)
        return evaluate(points, rule, alarm["StateValue"], now)

    async def datapoints(self, scope: Scope, alarm: dict, now: float) -> tuple[Rule, list[Datapoint]]:
        period = effective_period(_period(alarm)) or 60
        n = alarm["EvaluationPeriods"]
        end = int(now // period) * period
        start = end - range_size(n) * period
        grid = [float(start + i * period) for i in range(range_size(n))]
        stat = alarm.get("Statistic") or alarm.get("ExtendedStatistic")
        percentile = percentile_of(alarm["ExtendedStatistic"]) if alarm.get("ExtendedStatistic") else None
        if alarm.get("Metrics"):
            values, counts, stat, percentile = await self._math(scope, alarm, start, end, period, grid)
        else:
            values, counts = await self._series(
                scope,
                alarm["Namespace"],
                alarm["MetricName"],
                alarm.get("Dimensions"),
                stat,
                alarm.get("Unit"),
                start,
                end,
                period,
            )
        rule = Rule(
            comparison=alarm["ComparisonOperator"],
            threshold=alarm["Threshold"],
            evaluation_periods=n,
            datapoints_to_alarm=alarm.get("DatapointsToAlarm") or n,
            treat_missing=alarm.get("TreatMissingData") or "missing",
            period=_period(alarm),
            statistic=stat if not alarm.get("Metrics") else None,
            percentile=percentile,
            low_sample_ignore=alarm.get("EvaluateLowSampleCountPercentile") == "ignore",
        )
        points = [Datapoint(t, values.get(t), counts.get(t, 0.0)) for t in grid]
        return rule, points

    async def _series(
        self,
        scope: Scope,
        namespace: str,
        name: str,
        dimensions: list[dict] | None,
        stat: str,
        unit: str | None,
        start: float,
        end: float,
        period: int,
    ) -> tuple[dict[float, float], dict[float, float]]:
        buckets = await self._buckets(scope, namespace, name, dimensions, unit, start, end, period, stat)
        values: dict[float, float] = {}
        counts: dict[float, float] = {}
        for bucket in buckets:
            value = statistic(bucket, stat)
            if value is not None:
                values[bucket.timestamp] = value
                counts[bucket.timestamp] = float(bucket.count)
        return values, counts

    async def _buckets(
        self,
        scope: Scope,
        namespace: str,
        name: str,
        dimensions: list[dict] | None,
        unit: str | None,
        start: float,
        end: float,
        period: int,
        stat: str,
    ) -> list:
        """A series' buckets, read once per evaluation round whoever asks (_ROUND_READS)."""
        dims = {d["Name"]: d["Value"] for d in dimensions or []}
        samples = percentile_of(stat) is not None
        reads = _ROUND_READS.get()
        key = (scope, namespace, name, tuple(sorted(dims.items())), unit, start, end, period, samples)
        if reads is not None:
            # A read of the same series with samples serves one without them too.
            shared = reads.get(key) or (reads.get(key[:-1] + (True,)) if not samples else None)
            if shared is not None:
                return await asyncio.shield(shared)
        self.reads += 1
        read = asyncio.ensure_future(
            query_buckets(
                self.recorder,
                namespace,
                name,
                dims,
                start,
                end,
                period,
                unit=unit,
                samples=samples,
                scope=(scope[1], scope[0]),
            )
        )
        if reads is not None:
            reads[key] = read
        return await asyncio.shield(read)

    async def _math(
        self, scope: Scope, alarm: dict, start: float, end: float, period: int, grid: list[float]
    ) -> tuple[dict[float, float], dict[float, float], str | None, float | None]:
        series: dict[str, dict[float, float]] = {}
        counts: dict[str, dict[float, float]] = {}
        returned = None
        stats: dict[str, str] = {}
        for query in alarm["Metrics"]:
            stat = query.get("MetricStat")
            if stat is not None:
                metric = stat["Metric"]
                values, tally = await self._series(
                    scope,
                    metric["Namespace"],
                    metric["MetricName"],
                    metric.get("Dimensions"),
                    stat["Stat"],
                    stat.get("Unit"),
                    start,
                    end,
                    period,
                )
                series[query["Id"]], counts[query["Id"]] = values, tally
                stats[query["Id"]] = stat["Stat"]
            if query.get("ReturnData", True) is not False:
                returned = query
        for query in alarm["Metrics"]:  # expressions in order; one may use an earlier one
            if query.get("Expression") is not None:
                value = metric_math.evaluate(query["Expression"], series, grid)
                if isinstance(value, dict):
                    series[query["Id"]] = value
                elif isinstance(value, (int, float)):
                    series[query["Id"]] = {t: float(value) for t in grid}
                else:
                    raise metric_math.MathError("an alarm's expression must give one time series")
        assert returned is not None, "validated: exactly one query returns data"
        chosen = returned["Id"]
        stat_name = stats.get(chosen)
        percentile = percentile_of(stat_name) if stat_name else None
        return series.get(chosen, {}), counts.get(chosen, {}), stat_name, percentile

    def composite_outcome(self, scope: Scope, alarm: dict) -> Outcome:
        rule = composite.parse(alarm["AlarmRule"])
        alarms = self.book.scope(scope)

        def child(name: str) -> dict | None:
            return self.book.by_arn(name) if name.startswith("arn:") else alarms.get(name)

        def state_of(name: str) -> str | None:
            found = child(name)
            return found["StateValue"] if found else None

        state = ALARM if composite.holds(rule, state_of) else OK
        triggering = [c for c in (child(n) for n in composite.children(rule)) if c is not None]
        triggering = [c for c in triggering if c["StateValue"] == state] or triggering
        triggering.sort(key=lambda c: c.get("StateUpdatedTimestamp") or 0, reverse=True)
        if triggering:
            top = triggering[0]
            moment = datetime.fromtimestamp(top.get("StateUpdatedTimestamp") or self.clock())
            reason = (
                f"{top['AlarmArn']} transitioned to {top['StateValue']} at "
                f"{moment.strftime('%A %d %B, %Y %H:%M:%S')} UTC"
            )
        else:
            reason = f"The alarm rule {alarm['AlarmRule']} evaluated to {state == ALARM}"
        data = {
            "triggeringAlarms": [
                {
                    "arn": c["AlarmArn"],
                    "state": {"value": c["StateValue"], "timestamp": aws_time(c.get("StateUpdatedTimestamp") or 0)},
                }
                for c in triggering
            ]
        }
        return Outcome(state, reason, json.dumps(data, separators=(",", ":")))

    # --- changing state -------------------------------------------------------------------

    async def change_state(
        self, scope: Scope, alarm: dict, state: str, reason: str, reason_data: str, *, force: bool = False
    ) -> dict | None:
        """Commit a state change (if `alarm` is still the alarm of its name) with its history
        item and deliveries; then schedule them and evaluate the composite parents. The new
        alarm, or None if it changed meanwhile."""
        async with self.lock:
            current = self.book.get(scope, alarm["AlarmName"])
            if current is not alarm and not (force and current is not None):
                return None
            alarm = current
            assert alarm is not None
            now = self.clock()
            old = alarm["StateValue"]
            changed = {
                **alarm,
                "StateValue": state,
                "StateReason": reason,
                "StateReasonData": reason_data,
                "StateUpdatedTimestamp": now,
            }
            if old != state:
                changed["StateTransitionedTimestamp"] = now
            history = [
                self.book.history_item(
                    scope,
                    changed,
                    "StateUpdate",
                    f"Alarm updated from {old} to {state}",
                    _state_history(alarm, changed),
                    now,
                )
            ]
            deliveries = self._deliveries(scope, alarm, changed, now) if old != state else []
            ops: list[Any] = [self.book.put_op(scope, changed)]
            ops += [self.book.history_op(key, item) for key, item in history]
            ops += self.outbox.puts(deliveries)
            await self.book.write(ops)
            self.book.scope(scope)[changed["AlarmName"]] = changed
            stale = self.book.remember(scope, history)
            if stale:
                await self.book.write(stale)
        if self.destinations is not None:
            for key, item in deliveries:
                self.outbox.schedule(key, item)
        if old != state:
            self.parents_soon(scope, changed)
        return changed

    def parents_soon(self, scope: Scope, alarm: dict) -> None:
        for other in list(self.book.scope(scope).values()):
            if other["Type"] == "CompositeAlarm" and _names(other, alarm):
                self.soon(scope, other)

    # --- deliveries -----------------------------------------------------------------------

    def _deliveries(self, scope: Scope, old: dict, new: dict, now: float) -> list[tuple[str, dict]]:
        if self.destinations is None:
            return []
        account, region = scope
        created_ms = int(now * 1000)
        items: list[tuple[str, dict]] = []
        base = {"created_ms": created_ms}
        record = {
            "account": account,
            "region": region,
            "alarm": new["AlarmName"],
            "type": new["Type"],
            "at_ms": created_ms,
        }
        if new.get("ActionsEnabled", True):
            member = {ALARM: "AlarmActions", OK: "OKActions", INSUFFICIENT_DATA: "InsufficientDataActions"}
            for arn in new.get(member[new["StateValue"]]) or []:
                service = arn.split(":")[2] if arn.count(":") >= 5 else ""
                if service == "sns":
                    body = json.dumps(sns_notification(scope, old, new, now))
                    options = {
                        "source_service": SERVICE_PRINCIPAL,
                        "source_arn": new["AlarmArn"],
                        "source_owner": account,
                        "subject": f'{new["StateValue"]}: "{new["AlarmName"]}" in {region_name(region)}'[:100],
                        "record": record,
                    }
                elif service == "lambda":
                    body = json.dumps(alarm_event(scope, old, new, now))
                    options = {
                        "source_service": LAMBDA_PRINCIPAL,
                        "source_arn": new["AlarmArn"],
                        "source_owner": account,
                        "record": record,
                    }
                else:
                    continue  # validated at PutMetricAlarm: nothing else is accepted
                items.append((new_key(created_ms), {**base, "target": arn, "body": body, "options": options}))
        bus = f"arn:aws:events:{region}:{account}:event-bus/default"
        event = {
            "version": "0",
            "source": "aws.cloudwatch",
            "account": account,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
            "region": region,
            "resources": [new["AlarmArn"]],
            "detail-type": "CloudWatch Alarm State Change",
            "detail": state_change_detail(old, new, now),
        }
        if self.destinations.supports(bus):
            items.append((new_key(created_ms), {**base, "target": bus, "body": json.dumps(event), "options": {}}))
        return items

    async def _send(self, arn: str, body: bytes, attributes: dict, **options: Any) -> None:
        """Outbox's send: Destinations.send, then an action's Action history item."""
        assert self.destinations is not None
        record = options.pop("record", None)
        await self.destinations.send(arn, body, attributes, **options)
        if record:
            await self._action_history(record, arn, body.decode("utf-8", "replace"), True)

    async def _failed(self, item: dict, error: Exception, condition: str) -> None:
        record = (item.get("options") or {}).get("record")
        if record:
            await self._action_history(record, item["target"], item.get("body", ""), False, str(error))

    async def _action_history(self, record: dict, target: str, body: str, succeeded: bool, error: str = "") -> None:
        scope = (record["account"], record["region"])
        alarm = self.book.get(scope, record["alarm"]) or {"AlarmName": record["alarm"], "Type": record["type"]}
        if succeeded:
            summary = f"Successfully executed action {target}"
            data: dict = {"actionState": "Succeeded", "stateUpdateTimestamp": record["at_ms"]}
        else:
            summary = f'Failed to execute action {target}. Received error: "{error}"'
            data = {"actionState": "Failed", "stateUpdateTimestamp": record["at_ms"], "error": error}
        if target.split(":")[2] == "sns":
            data["notificationResource"] = target
            try:
                data["publishedMessage"] = json.loads(body)
            except ValueError:
                data["publishedMessage"] = body
        else:
            data["actionResource"] = target
        text = json.dumps(data, separators=(",", ":"))
        async with self.lock:
            key, entry = self.book.history_item(scope, alarm, "Action", summary, text, self.clock())
            await self.book.write([self.book.history_op(key, entry)])
            stale = self.book.remember(scope, [(key, entry)])
            if stale:
                await self.book.write(stale)


def _period(alarm: dict) -> int:
    if alarm.get("Metrics"):
        for query in alarm["Metrics"]:
            if query.get("MetricStat"):
                return int(query["MetricStat"]["Period"])
            if query.get("Period"):
                return int(query["Period"])
        return 60
    return int(alarm.get("Period") or 60)


def _names(parent: dict, child: dict) -> bool:
    try:
        named = composite.children(composite.parse(parent["AlarmRule"]))
    except composite.RuleError:
        return False
    return child["AlarmName"] in named or child["AlarmArn"] in named


def _state_history(old: dict, new: dict) -> str:
    def state(alarm: dict) -> dict:
        entry: dict = {"stateValue": alarm["StateValue"], "stateReason": alarm.get("StateReason") or ""}
        raw = alarm.get("StateReasonData")
        if raw:
            try:
                entry["stateReasonData"] = json.loads(raw)
            except ValueError:
                pass
        return entry

    return json.dumps({"version": "1.0", "oldState": state(old), "newState": state(new)}, separators=(",", ":"))


def region_name(region: str) -> str:
    return REGION_NAMES.get(region, region)


def sns_notification(scope: Scope, old: dict, new: dict, now: float) -> dict:
    """AWS's alarm notification, the Message of the SNS message."""
    account, region = scope
    message: dict[str, Any] = {
        "AlarmName": new["AlarmName"],
        "AlarmDescription": new.get("AlarmDescription"),
        "AWSAccountId": account,
        "AlarmConfigurationUpdatedTimestamp": aws_time(new.get("AlarmConfigurationUpdatedTimestamp") or now),
        "NewStateValue": new["StateValue"],
        "NewStateReason": new.get("StateReason") or "",
        "StateChangeTime": aws_time(now),
        "Region": region_name(region),
        "AlarmArn": new["AlarmArn"],
        "OldStateValue": old["StateValue"],
        "OKActions": list(new.get("OKActions") or []),
        "AlarmActions": list(new.get("AlarmActions") or []),
        "InsufficientDataActions": list(new.get("InsufficientDataActions") or []),
    }
    if new["Type"] == "CompositeAlarm":
        message["AlarmRule"] = new["AlarmRule"]
        return message
    trigger: dict[str, Any]
    if new.get("Metrics"):
        trigger = {"Metrics": [_trigger_query(q) for q in new["Metrics"]]}
    else:
        trigger = {
            "MetricName": new["MetricName"],
            "Namespace": new["Namespace"],
            "StatisticType": "ExtendedStatistic" if new.get("ExtendedStatistic") else "Statistic",
        }
        if new.get("ExtendedStatistic"):
            trigger["ExtendedStatistic"] = new["ExtendedStatistic"]
        else:
            trigger["Statistic"] = new["Statistic"].upper()
        trigger["Unit"] = new.get("Unit")
        trigger["Dimensions"] = [{"value": d["Value"], "name": d["Name"]} for d in new.get("Dimensions") or []]
        trigger["Period"] = new["Period"]
    trigger.update(
        {
            "EvaluationPeriods": new["EvaluationPeriods"],
            "DatapointsToAlarm": new.get("DatapointsToAlarm") or new["EvaluationPeriods"],
            "ComparisonOperator": new["ComparisonOperator"],
            "Threshold": new["Threshold"],
            "TreatMissingData": new.get("TreatMissingData") or "missing",
            "EvaluateLowSampleCountPercentile": new.get("EvaluateLowSampleCountPercentile") or "",
        }
    )
    message["Trigger"] = trigger
    return message


def _trigger_query(query: dict) -> dict:
    entry: dict[str, Any] = {"Id": query["Id"], "ReturnData": query.get("ReturnData", True) is not False}
    if query.get("Label"):
        entry["Label"] = query["Label"]
    if query.get("Expression") is not None:
        entry["Expression"] = query["Expression"]
    stat = query.get("MetricStat")
    if stat:
        metric = stat["Metric"]
        entry["MetricStat"] = {
            "Metric": {
                "Dimensions": [{"value": d["Value"], "name": d["Name"]} for d in metric.get("Dimensions") or []],
                "MetricName": metric["MetricName"],
                "Namespace": metric["Namespace"],
            },
            "Period": stat["Period"],
            "Stat": stat["Stat"],
        }
        if stat.get("Unit"):
            entry["MetricStat"]["Unit"] = stat["Unit"]
    return entry


def _configuration(alarm: dict) -> dict:
    """An alarm's configuration as alarm events and the Lambda action's event carry it."""
    config: dict[str, Any] = {}
    if alarm.get("AlarmDescription") is not None:
        config["description"] = alarm["AlarmDescription"]
    if alarm["Type"] == "CompositeAlarm":
        config["alarmRule"] = alarm["AlarmRule"]
        return config
    metrics = []
    if alarm.get("Metrics"):
        for query in alarm["Metrics"]:
            entry: dict[str, Any] = {"id": query["Id"], "returnData": query.get("ReturnData", True) is not False}
            if query.get("Expression") is not None:
                entry["expression"] = query["Expression"]
            if query.get("Label"):
                entry["label"] = query["Label"]
            stat = query.get("MetricStat")
            if stat:
                entry["metricStat"] = _metric_stat(stat["Metric"], stat["Period"], stat["Stat"], stat.get("Unit"))
            metrics.append(entry)
    else:
        metrics.append(
            {
                "id": alarm["MetricQueryId"],
                "metricStat": _metric_stat(
                    alarm,
                    alarm["Period"],
                    alarm.get("Statistic") or alarm.get("ExtendedStatistic"),
                    alarm.get("Unit"),
                ),
                "returnData": True,
            }
        )
    config["metrics"] = metrics
    return config


def _metric_stat(metric: dict, period: int, stat: str | None, unit: str | None) -> dict:
    entry: dict[str, Any] = {
        "metric": {
            "namespace": metric["Namespace"],
            "name": metric["MetricName"],
            "dimensions": {d["Name"]: d["Value"] for d in metric.get("Dimensions") or []},
        },
        "period": period,
        "stat": stat,
    }
    if unit:
        entry["unit"] = unit
    return entry


def _state(alarm: dict) -> dict:
    entry = {"value": alarm["StateValue"], "reason": alarm.get("StateReason") or ""}
    if alarm.get("StateReasonData"):
        entry["reasonData"] = alarm["StateReasonData"]
    entry["timestamp"] = aws_time(alarm.get("StateUpdatedTimestamp") or 0)
    return entry


def state_change_detail(old: dict, new: dict, now: float) -> dict:
    """The detail of the "CloudWatch Alarm State Change" event."""
    return {
        "alarmName": new["AlarmName"],
        "state": _state(new),
        "previousState": _state(old),
        "configuration": _configuration(new),
    }


def alarm_event(scope: Scope, old: dict, new: dict, now: float) -> dict:
    """What a Lambda action receives."""
    account, region = scope
    return {
        "source": "aws.cloudwatch",
        "alarmArn": new["AlarmArn"],
        "accountId": account,
        "time": aws_time(now),
        "region": region,
        "alarmData": {
            "alarmName": new["AlarmName"],
            "state": _state(new),
            "previousState": _state(old),
            "configuration": _configuration(new),
        },
    }
