"""CloudWatch alarms' API: PutMetricAlarm, PutCompositeAlarm, DescribeAlarms,
DescribeAlarmsForMetric, DescribeAlarmHistory, SetAlarmState, Enable/DisableAlarmActions,
DeleteAlarms and the tagging operations (for alarms).

Alarms live in the AlarmBook (alarm_book.py); every change is committed with its history
item under the runner's lock before the answer; evaluating them is alarm_runner.py's.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import uuid
from datetime import datetime
from typing import Any

from ...errors import ServiceError
from ..context import RequestContext
from . import composite, metric_math
from .alarm_book import AlarmBook, Scope
from .alarm_evaluation import ANOMALY_OPERATORS, INSUFFICIENT_DATA, PHRASES, TREATMENTS
from .alarm_runner import AlarmRunner, alarm_arn
from .common import STATISTICS, as_datetime, invalid_combination, invalid_value, percentile_of, validation_error

MAX_ALARMS_PAGE = 100
DEFAULT_ALARMS_PAGE = 50
DEFAULT_HISTORY_PAGE = 100
MAX_COMPOSITE_DEPTH = 100
_QUERY_ID = re.compile(r"[a-z][a-zA-Z0-9_]*")
METRIC_MEMBERS = ("MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period", "Unit")
METRIC_ALARM_MEMBERS = (
    "AlarmName",
    "AlarmArn",
    "AlarmDescription",
    "AlarmConfigurationUpdatedTimestamp",
    "ActionsEnabled",
    "OKActions",
    "AlarmActions",
    "InsufficientDataActions",
    "StateValue",
    "StateReason",
    "StateReasonData",
    "StateUpdatedTimestamp",
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Dimensions",
    "Period",
    "Unit",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
    "Metrics",
    "ThresholdMetricId",
    "StateTransitionedTimestamp",
)
COMPOSITE_MEMBERS = (
    "ActionsEnabled",
    "AlarmActions",
    "AlarmArn",
    "AlarmConfigurationUpdatedTimestamp",
    "AlarmDescription",
    "AlarmName",
    "AlarmRule",
    "InsufficientDataActions",
    "OKActions",
    "StateReason",
    "StateReasonData",
    "StateUpdatedTimestamp",
    "StateValue",
    "StateTransitionedTimestamp",
    "ActionsSuppressor",
    "ActionsSuppressorWaitPeriod",
    "ActionsSuppressorExtensionPeriod",
)
TIMESTAMPS = (
    "AlarmConfigurationUpdatedTimestamp",
    "StateUpdatedTimestamp",
    "StateTransitionedTimestamp",
)


def not_found(message: str) -> ServiceError:
    return ServiceError("ResourceNotFound", message, 404)


class AlarmsApi:
    book: AlarmBook
    runner: AlarmRunner

    # --- creating -------------------------------------------------------------------------

    async def put_metric_alarm(self, params: dict, ctx: RequestContext) -> dict:
        scope: Scope = (ctx.account_id, ctx.region)
        _check_metric_alarm(params, ctx.region)
        record: dict[str, Any] = {"Type": "MetricAlarm"}
        for member in (
            "AlarmName",
            "AlarmDescription",
            "MetricName",
            "Namespace",
            "Statistic",
            "ExtendedStatistic",
            "Period",
            "Unit",
            "EvaluationPeriods",
            "DatapointsToAlarm",
            "Threshold",
            "ComparisonOperator",
            "TreatMissingData",
            "EvaluateLowSampleCountPercentile",
            "Metrics",
            "ThresholdMetricId",
        ):
            if params.get(member) is not None:
                record[member] = params[member]
        if "Metrics" not in record:
            record["Dimensions"] = list(params.get("Dimensions") or [])
            record["MetricQueryId"] = str(uuid.uuid4())  # the id alarm events give the metric
        await self._put(scope, params, record)
        return {}

    async def put_composite_alarm(self, params: dict, ctx: RequestContext) -> dict:
        scope: Scope = (ctx.account_id, ctx.region)
        name = params["AlarmName"]
        try:
            rule = composite.parse(params["AlarmRule"])
        except composite.RuleError as error:
            raise validation_error(f"Error in AlarmRule [{error}]") from None
        alarms = self.book.scope(scope)
        missing = []
        for child in composite.children(rule):
            found = self.book.by_arn(child) if child.startswith("arn:") else alarms.get(child)
            if found is None:
                missing.append(child)
        if missing:
            raise validation_error(
                f"Could not save the composite alarm as alarms [{', '.join(missing)}] in the alarm rule do not exist"
            )
        if name in _descendants(self.book, scope, rule):
            raise validation_error("Could not save the composite alarm as the alarm rule creates a cycle")
        _check_actions(params, ctx.region, composite_alarm=True)
        if params.get("ActionsSuppressor"):
            raise validation_error("ActionsSuppressor is not supported by Lamina.")
        record = {"Type": "CompositeAlarm", "AlarmName": name, "AlarmRule": params["AlarmRule"]}
        if params.get("AlarmDescription") is not None:
            record["AlarmDescription"] = params["AlarmDescription"]
        await self._put(scope, params, record)
        return {}

    async def _put(self, scope: Scope, params: dict, record: dict) -> None:
        name = record["AlarmName"]
        runner = self.runner
        async with runner.lock:
            existing = self.book.get(scope, name)
            if existing is not None and existing["Type"] != record["Type"]:
                kind = "composite" if existing["Type"] == "CompositeAlarm" else "metric"
                raise invalid_value(f"The alarm {name} already exists as a {kind} alarm.")
            now = runner.clock()
            record.update(
                AlarmArn=alarm_arn(scope, name),
                ActionsEnabled=params.get("ActionsEnabled", True) is not False,
                OKActions=list(params.get("OKActions") or []),
                AlarmActions=list(params.get("AlarmActions") or []),
                InsufficientDataActions=list(params.get("InsufficientDataActions") or []),
                AlarmConfigurationUpdatedTimestamp=now,
            )
            if existing is None:
                record.update(
                    StateValue=INSUFFICIENT_DATA,
                    StateReason="Unchecked: Initial alarm creation",
                    StateUpdatedTimestamp=now,
                    StateTransitionedTimestamp=now,
                    Tags=list(params.get("Tags") or []),
                )
                summary, data = f'Alarm "{name}" created', {"type": "Create", "createdAlarm": _configuration(record)}
            else:
                # AWS: an update keeps the state and ignores Tags.
                for member in ("StateValue", "StateReason", "StateReasonData", "StateUpdatedTimestamp"):
                    if member in existing:
                        record[member] = existing[member]
                record["StateTransitionedTimestamp"] = existing.get("StateTransitionedTimestamp", now)
                record["Tags"] = existing.get("Tags") or []
                if "MetricQueryId" in existing and "MetricQueryId" in record:
                    record["MetricQueryId"] = existing["MetricQueryId"]
                summary = f'Alarm "{name}" updated'
                data = {
                    "type": "Update",
                    "originalAlarm": _configuration(existing),
                    "updatedAlarm": _configuration(record),
                }
            item = self.book.history_item(scope, record, "ConfigurationUpdate", summary, _history_json(data), now)
            await self.book.write([self.book.put_op(scope, record), self.book.history_op(*item)])
            self.book.scope(scope)[name] = record
            self.book.remember(scope, [item])
        runner.soon(scope, record)

    # --- reading --------------------------------------------------------------------------

    async def describe_alarms(self, params: dict, ctx: RequestContext) -> dict:
        scope: Scope = (ctx.account_id, ctx.region)
        alarms = self.book.scope(scope)
        children_of, parents_of = params.get("ChildrenOfAlarmName"), params.get("ParentsOfAlarmName")
        if children_of or parents_of:
            others = [
                k
                for k in ("AlarmNames", "AlarmNamePrefix", "AlarmTypes", "StateValue", "ActionPrefix")
                if params.get(k)
            ]
            if children_of and parents_of:
                others.append("ParentsOfAlarmName")
            if others:
                which = "ChildrenOfAlarmName" if children_of else "ParentsOfAlarmName"
                raise invalid_combination(
                    f"If you specify {which}, you cannot specify any other parameters in the request except for "
                    "MaxRecords and NextToken."
                )
        if children_of:
            parent = alarms.get(children_of)
            chosen = []
            if parent is not None and parent["Type"] == "CompositeAlarm":
                for child in composite.children(composite.parse(parent["AlarmRule"])):
                    found = self.book.by_arn(child) if child.startswith("arn:") else alarms.get(child)
                    if found is not None and found not in chosen:
                        chosen.append(found)
        elif parents_of:
            child = alarms.get(parents_of)
            chosen = []
            if child is not None:
                for other in alarms.values():
                    if other["Type"] == "CompositeAlarm":
                        named = composite.children(composite.parse(other["AlarmRule"]))
                        if child["AlarmName"] in named or child["AlarmArn"] in named:
                            chosen.append(other)
        else:
            types = params.get("AlarmTypes") or ["MetricAlarm"]
            names = params.get("AlarmNames")
            if names and params.get("AlarmNamePrefix"):
                raise invalid_combination("AlarmNames and AlarmNamePrefix cannot be specified together.")
            chosen = [a for a in alarms.values() if a["Type"] in types]
            if names:
                chosen = [a for a in chosen if a["AlarmName"] in names]
            if params.get("AlarmNamePrefix"):
                chosen = [a for a in chosen if a["AlarmName"].startswith(params["AlarmNamePrefix"])]
            if params.get("StateValue"):
                chosen = [a for a in chosen if a["StateValue"] == params["StateValue"]]
            if params.get("ActionPrefix"):
                prefix = params["ActionPrefix"]
                chosen = [
                    a
                    for a in chosen
                    if any(
                        arn.startswith(prefix)
                        for member in ("AlarmActions", "OKActions", "InsufficientDataActions")
                        for arn in a.get(member) or []
                    )
                ]
        chosen.sort(key=lambda a: a["AlarmName"])
        after = _decode_token(params.get("NextToken"))
        if after is not None:
            chosen = [a for a in chosen if a["AlarmName"] > after]
        size = params.get("MaxRecords") or DEFAULT_ALARMS_PAGE
        page = chosen[:size]
        answer: dict[str, Any] = {
            "MetricAlarms": [describe(a) for a in page if a["Type"] == "MetricAlarm"],
            "CompositeAlarms": [describe(a) for a in page if a["Type"] == "CompositeAlarm"],
        }
        if len(chosen) > size:
            answer["NextToken"] = _encode_token(page[-1]["AlarmName"])
        return answer

    async def describe_alarms_for_metric(self, params: dict, ctx: RequestContext) -> dict:
        scope: Scope = (ctx.account_id, ctx.region)
        wanted_dims = _dimension_set(params.get("Dimensions"))
        found = []
        for alarm in sorted(self.book.scope(scope).values(), key=lambda a: a["AlarmName"]):
            if alarm["Type"] != "MetricAlarm" or alarm.get("Metrics"):
                continue
            if alarm["MetricName"] != params["MetricName"] or alarm["Namespace"] != params["Namespace"]:
                continue
            if params.get("Statistic") and alarm.get("Statistic") != params["Statistic"]:
                continue
            if params.get("ExtendedStatistic") and alarm.get("ExtendedStatistic") != params["ExtendedStatistic"]:
                continue
            if params.get("Period") and alarm.get("Period") != params["Period"]:
                continue
            if params.get("Unit") and alarm.get("Unit") != params["Unit"]:
                continue
            if params.get("Dimensions") is not None and _dimension_set(alarm.get("Dimensions")) != wanted_dims:
                continue
            found.append(describe(alarm))
        return {"MetricAlarms": found}

    async def describe_alarm_history(self, params: dict, ctx: RequestContext) -> dict:
        scope: Scope = (ctx.account_id, ctx.region)
        items = list(self.book.history.get(scope, []))
        types = params.get("AlarmTypes") or ["MetricAlarm"]
        items = [pair for pair in items if pair[1]["AlarmType"] in types]
        if params.get("AlarmName"):
            items = [pair for pair in items if pair[1]["AlarmName"] == params["AlarmName"]]
        if params.get("HistoryItemType"):
            items = [pair for pair in items if pair[1]["HistoryItemType"] == params["HistoryItemType"]]
        if params.get("StartDate") is not None:
            start = params["StartDate"].timestamp()
            items = [pair for pair in items if pair[1]["Timestamp"] >= start]
        if params.get("EndDate") is not None:
            end = params["EndDate"].timestamp()
            items = [pair for pair in items if pair[1]["Timestamp"] <= end]
        if (params.get("ScanBy") or "TimestampDescending") == "TimestampDescending":
            items.reverse()
        after = _decode_token(params.get("NextToken"))
        if after is not None:
            keys = [key for key, _ in items]
            items = items[keys.index(after) + 1 :] if after in keys else []
        size = params.get("MaxRecords") or DEFAULT_HISTORY_PAGE
        page = items[:size]
        answer: dict[str, Any] = {
            "AlarmHistoryItems": [
                {
                    "AlarmName": item["AlarmName"],
                    "AlarmType": item["AlarmType"],
                    "Timestamp": as_datetime(item["Timestamp"]),
                    "HistoryItemType": item["HistoryItemType"],
                    "HistorySummary": item["HistorySummary"],
                    "HistoryData": item["HistoryData"],
                }
                for _, item in page
            ]
        }
        if len(items) > size:
            answer["NextToken"] = _encode_token(page[-1][0])
        return answer

    # --- changing -------------------------------------------------------------------------

    async def set_alarm_state(self, params: dict, ctx: RequestContext) -> dict:
        scope: Scope = (ctx.account_id, ctx.region)
        name = params["AlarmName"]
        alarm = self.book.get(scope, name)
        if alarm is None:
            raise not_found(f"Alarm {name} not found")
        data = params.get("StateReasonData") or ""
        if data:
            try:
                json.loads(data)
            except ValueError:
                raise ServiceError("InvalidFormat", "StateReasonData is not valid JSON.", 400) from None
        await self.runner.change_state(scope, alarm, params["StateValue"], params["StateReason"], data, force=True)
        return {}

    async def enable_alarm_actions(self, params: dict, ctx: RequestContext) -> dict:
        await self._set_actions((ctx.account_id, ctx.region), params["AlarmNames"], True)
        return {}

    async def disable_alarm_actions(self, params: dict, ctx: RequestContext) -> dict:
        await self._set_actions((ctx.account_id, ctx.region), params["AlarmNames"], False)
        return {}

    async def _set_actions(self, scope: Scope, names: list[str], enabled: bool) -> None:
        async with self.runner.lock:
            changed = []
            for name in names:
                alarm = self.book.get(scope, name)
                if alarm is not None and alarm.get("ActionsEnabled", True) != enabled:
                    changed.append({**alarm, "ActionsEnabled": enabled})
            if changed:
                await self.book.write([self.book.put_op(scope, alarm) for alarm in changed])
                for alarm in changed:
                    self.book.scope(scope)[alarm["AlarmName"]] = alarm

    async def delete_alarms(self, params: dict, ctx: RequestContext) -> dict:
        scope: Scope = (ctx.account_id, ctx.region)
        names = list(dict.fromkeys(params["AlarmNames"]))
        async with self.runner.lock:
            alarms = self.book.scope(scope)
            missing = [name for name in names if name not in alarms]
            if missing:
                raise not_found(
                    f"{', '.join(missing)} does not exist"
                    if len(missing) == 1
                    else f"{', '.join(missing)} do not exist"
                )
            doomed = set(names)
            for other in alarms.values():
                if other["Type"] != "CompositeAlarm" or other["AlarmName"] in doomed:
                    continue
                named = composite.children(composite.parse(other["AlarmRule"]))
                for name in names:
                    if name in named or alarms[name]["AlarmArn"] in named:
                        raise validation_error(
                            f"Could not delete alarm {name} because it is referenced by the composite alarm "
                            f"{other['AlarmName']}. Remove it from the alarm rule first."
                        )
            now = self.runner.clock()
            ops: list = []
            items = []
            for name in names:
                alarm = alarms[name]
                item = self.book.history_item(
                    scope,
                    alarm,
                    "ConfigurationUpdate",
                    f'Alarm "{name}" deleted',
                    _history_json({"type": "Delete", "deletedAlarm": _configuration(alarm)}),
                    now,
                )
                items.append(item)
                ops += [self.book.delete_op(scope, name), self.book.history_op(*item)]
            await self.book.write(ops)
            for name in names:
                del alarms[name]
            self.book.remember(scope, items)
        return {}

    # --- tags -----------------------------------------------------------------------------

    def _tagged(self, arn: str) -> dict:
        alarm = self.book.by_arn(arn)
        if alarm is None:
            resource = arn.split(":", 6)[-1] if arn.count(":") >= 6 else arn
            raise ServiceError(
                "ResourceNotFoundException",
                f"{arn} not found",
                404,
                ResourceType="Alarm",
                ResourceId=resource,
            )
        return alarm

    async def list_tags_for_resource(self, params: dict, ctx: RequestContext) -> dict:
        return {"Tags": list(self._tagged(params["ResourceARN"]).get("Tags") or [])}

    async def tag_resource(self, params: dict, ctx: RequestContext) -> dict:
        await self._retag(
            params["ResourceARN"], lambda tags: {**tags, **{t["Key"]: t["Value"] for t in params["Tags"]}}
        )
        return {}

    async def untag_resource(self, params: dict, ctx: RequestContext) -> dict:
        keys = set(params["TagKeys"])
        await self._retag(params["ResourceARN"], lambda tags: {k: v for k, v in tags.items() if k not in keys})
        return {}

    async def _retag(self, arn: str, change) -> None:
        async with self.runner.lock:
            alarm = self._tagged(arn)
            tags = change({t["Key"]: t["Value"] for t in alarm.get("Tags") or []})
            if len(tags) > 50:
                raise ServiceError("LimitExceededException", "", 400)
            parts = arn.split(":", 6)
            scope = (parts[4], parts[3])
            updated = {**alarm, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
            await self.book.write([self.book.put_op(scope, updated)])
            self.book.scope(scope)[alarm["AlarmName"]] = updated

    def resource_tags(self, arn: str) -> dict[str, str] | None:
        alarm = self.book.by_arn(arn)
        if alarm is None:
            return None
        return {t["Key"]: t["Value"] for t in alarm.get("Tags") or []}


# --- what an alarm looks like ---------------------------------------------------------------


def describe(alarm: dict) -> dict:
    members = COMPOSITE_MEMBERS if alarm["Type"] == "CompositeAlarm" else METRIC_ALARM_MEMBERS
    out: dict[str, Any] = {}
    for member in members:
        if member in alarm and alarm[member] is not None:
            value = alarm[member]
            out[member] = as_datetime(value) if member in TIMESTAMPS else value
    if alarm["Type"] == "MetricAlarm" and "Metrics" not in alarm:
        out.setdefault("Dimensions", [])
    if alarm["Type"] == "MetricAlarm" and "TreatMissingData" not in alarm:
        out["TreatMissingData"] = "missing"
    return out


def _configuration(alarm: dict) -> dict:
    """An alarm's configuration as history data carries it (camelCase members)."""
    view = describe(alarm)
    result = {}
    for member, value in view.items():
        if member in (
            "StateValue",
            "StateReason",
            "StateReasonData",
            "StateUpdatedTimestamp",
            "StateTransitionedTimestamp",
        ):
            continue
        if isinstance(value, datetime):
            value = value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"
        result[member[0].lower() + member[1:]] = value
    return result


def _history_json(data: dict) -> str:
    return json.dumps({"version": "1.0", **data}, separators=(",", ":"), default=str)


def _dimension_set(dimensions: list[dict] | None) -> frozenset:
    return frozenset((d["Name"], d["Value"]) for d in dimensions or [])


def _descendants(book: AlarmBook, scope: Scope, rule: composite.Rule, depth: int = 0) -> set[str]:
    """Every alarm name a rule reaches through composite children (cycles stop)."""
    names: set[str] = set()
    if depth > MAX_COMPOSITE_DEPTH:
        return names
    alarms = book.scope(scope)
    for child in composite.children(rule):
        found = book.by_arn(child) if child.startswith("arn:") else alarms.get(child)
        if found is None or found["AlarmName"] in names:
            continue
        names.add(found["AlarmName"])
        if found["Type"] == "CompositeAlarm":
            names |= _descendants(book, scope, composite.parse(found["AlarmRule"]), depth + 1)
    return names


# --- validation -------------------------------------------------------------------------------


def _check_metric_alarm(params: dict, region: str) -> None:
    comparison = params["ComparisonOperator"]
    if comparison in ANOMALY_OPERATORS:
        if not params.get("ThresholdMetricId"):
            raise validation_error("Comparison operators for ranges require ThresholdMetricId to be set")
        raise validation_error(
            f"Lamina does not evaluate anomaly detection bands: ComparisonOperator {comparison} is not supported."
        )
    if params.get("ThresholdMetricId") and params.get("Threshold") is not None:
        raise validation_error("Threshold and ThresholdMetricId cannot both be set")
    if params.get("ThresholdMetricId"):
        raise validation_error(
            f"ThresholdMetricId is only used with the comparison operators for ranges, not {comparison}."
        )
    if params.get("Threshold") is None:
        raise validation_error("Threshold must not be null")
    if not math.isfinite(params["Threshold"]):
        raise invalid_value(f"The value {params['Threshold']} for parameter Threshold is invalid.")
    assert comparison in PHRASES
    n = params["EvaluationPeriods"]
    m = params.get("DatapointsToAlarm")
    if m is not None and m > n:
        raise validation_error("DatapointsToAlarm must be less than or equal to EvaluationPeriods")
    treat = params.get("TreatMissingData")
    if treat is not None and treat not in TREATMENTS:
        raise validation_error(
            f"The value {treat} for parameter TreatMissingData is invalid. Valid values: {', '.join(TREATMENTS)}."
        )
    low = params.get("EvaluateLowSampleCountPercentile")
    if low is not None and low not in ("evaluate", "ignore"):
        raise validation_error(
            f"The value {low} for parameter EvaluateLowSampleCountPercentile is invalid. "
            "Valid values: evaluate, ignore."
        )
    if params.get("Metrics"):
        for member in METRIC_MEMBERS:
            if params.get(member) is not None and not (member == "Dimensions" and not params[member]):
                raise validation_error(f"{member} should not be set if list of Metrics is set.")
        period = _check_queries(params["Metrics"])
        if low is not None:
            raise validation_error("EvaluateLowSampleCountPercentile should not be set if list of Metrics is set.")
    else:
        for member in ("MetricName", "Namespace", "Period"):
            if params.get(member) is None:
                raise validation_error(f"{member} must not be null")
        statistic, extended = params.get("Statistic"), params.get("ExtendedStatistic")
        if statistic and extended:
            raise invalid_combination("Statistic and ExtendedStatistic cannot both be set")
        if not statistic and not extended:
            raise validation_error("Statistic or ExtendedStatistic must be set")
        if statistic and statistic not in STATISTICS:
            raise invalid_value(f"The value {statistic} for parameter Statistic is not supported.")
        if extended and percentile_of(extended) is None:
            raise invalid_value(f"The value {extended} for parameter ExtendedStatistic is not supported.")
        if low is not None and not extended:
            raise validation_error(
                "EvaluateLowSampleCountPercentile can only be set with an ExtendedStatistic percentile."
            )
        period = params["Period"]
        _check_period(period, "Period")
        seen: set[str] = set()
        for item in params.get("Dimensions") or []:
            if item["Name"] in seen:
                raise invalid_value(f"The dimension {item['Name']} for parameter Dimensions is duplicated.")
            seen.add(item["Name"])
    span = period * n
    if period < 3600 and span > 86400:
        raise validation_error(
            "Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= 86400)"
        )
    if span > 7 * 86400:
        raise validation_error(
            "Metrics cannot be checked across more than 7 days (EvaluationPeriods * Period must be <= 604800)"
        )
    _check_actions(params, region, composite_alarm=False)


def _check_period(period: int, where: str) -> None:
    if period not in (10, 20, 30) and (period <= 0 or period % 60):
        raise validation_error(f"{where} must be 10, 20, 30 or a multiple of 60")


def _check_queries(queries: list[dict]) -> int:
    returning = [q for q in queries if q.get("ReturnData", True) is not False]
    if len(returning) != 1:
        raise validation_error("Exactly one element of the metrics list should return data.")
    ids: set[str] = set()
    period = None
    for index, query in enumerate(queries, 1):
        where = f"Metrics.member.{index}"
        if not _QUERY_ID.fullmatch(query["Id"]):
            raise validation_error(
                f"The value {query['Id']} for parameter {where}.Id is invalid: it must start with a lowercase letter "
                "and contain only letters, numbers and underscores."
            )
        if query["Id"] in ids:
            raise validation_error(f"The value {query['Id']} for parameter {where}.Id is duplicated.")
        ids.add(query["Id"])
        stat, expression = query.get("MetricStat"), query.get("Expression")
        if (stat is None) == (expression is None):
            raise validation_error(f"Exactly one of {where}.MetricStat and {where}.Expression must be set.")
        if stat is not None:
            if stat["Stat"] not in STATISTICS and percentile_of(stat["Stat"]) is None:
                raise invalid_value(f"The value {stat['Stat']} for parameter {where}.MetricStat.Stat is not supported.")
            _check_period(stat["Period"], f"{where}.MetricStat.Period")
            period = period or stat["Period"]
        else:
            try:
                names = metric_math.references(expression)
                known = {q["Id"] for q in queries if q is not query}
                unknown = sorted(n for n in names if n != "*" and n not in known)
                if unknown:
                    raise metric_math.MathError(f"Unknown metric or expression id {unknown[0]!r}.")
                metric_math.evaluate(expression, {i: {} for i in known}, [])
            except metric_math.MathError as error:
                raise validation_error(f"Error in expression '{query['Id']}': {error}") from None
            if query.get("Period"):
                _check_period(query["Period"], f"{where}.Period")
                period = period or query["Period"]
    return period or 60


def _check_actions(params: dict, region: str, composite_alarm: bool) -> None:
    for member in ("AlarmActions", "OKActions", "InsufficientDataActions"):
        for arn in params.get(member) or []:
            parts = arn.split(":")
            if len(parts) < 6 or parts[0] != "arn":
                raise validation_error(f"Invalid arn syntax: {arn}")
            service, action_region = parts[2], parts[3]
            if service in ("sns", "lambda") and action_region != region:
                raise validation_error(f"Invalid region {action_region} specified. Only {region} is supported.")
            if service not in ("sns", "lambda"):
                raise validation_error(
                    f"The action {arn} is not supported by Lamina: alarm actions may be SNS topics or Lambda functions."
                )


def _encode_token(value: str) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def _decode_token(token: str | None) -> str | None:
    if token is None:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ServiceError("InvalidNextToken", "The service cannot process the NextToken you specified.", 400) from None
    if not isinstance(value, str):
        raise ServiceError("InvalidNextToken", "The service cannot process the NextToken you specified.", 400)
    return value
