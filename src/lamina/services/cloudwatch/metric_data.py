"""PutMetricData: each datum is checked first, then all are committed to the store at once
(all or nothing) before the answer: an accepted datapoint survives a kill -9."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from ...observability.recorder import MetricBatch, MetricsRecorder
from ..context import RequestContext
from .common import dimensions_of, invalid_combination, invalid_value, missing_parameter

MAX_DATA = 1000
MAX_VALUES = 150
MAX_PAST_S = 14 * 24 * 3600  # CloudWatch takes data up to two weeks old
MAX_FUTURE_S = 2 * 3600  # and up to two hours ahead
LARGEST_VALUE = 1.174271e108  # CloudWatch's range for a value is 2^-360 .. 2^360
STORAGE_RESOLUTIONS = (1, 60)


class MetricDataApi:
    recorder: MetricsRecorder

    async def put_metric_data(self, params: dict, ctx: RequestContext) -> dict:
        namespace = params["Namespace"]
        if namespace.startswith("AWS/"):
            raise invalid_value("The value AWS/ for parameter Namespace is invalid.")
        data = list(params.get("MetricData") or [])
        for entity in params.get("EntityMetricData") or []:
            data.extend(entity.get("MetricData") or [])
        if not data:
            raise missing_parameter("The parameter MetricData is required.")
        if len(data) > MAX_DATA:
            raise invalid_value(f"The collection MetricData must not have a size greater than {MAX_DATA}.")
        now = time.time()
        batch = self.recorder.batch()
        records = [
            record
            for index, datum in enumerate(data, 1)
            for record in _records(
                batch, namespace, datum, f"MetricData.member.{index}", now, (ctx.region, ctx.account_id)
            )
        ]
        for record in records:
            record()
        await self.recorder.write(batch)  # committed before acknowledged
        return {}


def _records(
    batch: MetricBatch, namespace: str, datum: dict, where: str, now: float, scope: tuple[str, str]
) -> list[Callable[[], None]]:
    """The batch calls one datum asks for, once it has been checked."""
    name = datum["MetricName"]
    dimensions = dimensions_of(datum.get("Dimensions"), f"{where}.Dimensions")
    unit = datum.get("Unit") or "None"
    timestamp = datum["Timestamp"].timestamp() if datum.get("Timestamp") is not None else now
    if timestamp < now - MAX_PAST_S:
        raise invalid_value(f"The parameter {where}.Timestamp must specify a time no more than two weeks in the past.")
    if timestamp > now + MAX_FUTURE_S:
        raise invalid_value(
            f"The parameter {where}.Timestamp must specify a time no more than two hours in the future."
        )
    resolution = datum.get("StorageResolution")
    if resolution is not None and resolution not in STORAGE_RESOLUTIONS:
        raise invalid_value(
            f"The value {resolution} for parameter {where}.StorageResolution is invalid. Valid values are 1 and 60."
        )

    value, stats, values, counts = (datum.get(k) for k in ("Value", "StatisticValues", "Values", "Counts"))
    given = [
        member
        for member, item in (("Value", value), ("StatisticValues", stats), ("Values", values))
        if item is not None
    ]
    if len(given) > 1:
        raise invalid_combination(
            f"The parameters {where}.{given[0]} and {where}.{given[1]} are mutually exclusive and you have "
            "specified both."
        )
    if counts is not None and values is None:
        raise invalid_combination(f"The parameter {where}.Counts requires the parameter {where}.Values.")
    if not given:
        raise missing_parameter(
            f"At least one of the parameters {where}.Value, {where}.StatisticValues or {where}.Values "
            "must be specified."
        )

    def put(item: float, count: float = 1) -> Callable[[], None]:
        return lambda: batch.put(namespace, name, dimensions, item, unit, timestamp, count=count, scope=scope)

    if value is not None:
        _check_value(value, f"{where}.Value")
        return [put(value)]
    if stats is not None:
        for member in ("SampleCount", "Sum", "Minimum", "Maximum"):
            _check_value(stats[member], f"{where}.StatisticValues.{member}")
        if stats["SampleCount"] <= 0:
            raise invalid_value(f"The parameter {where}.StatisticValues.SampleCount must be greater than 0.")
        if stats["Minimum"] > stats["Maximum"]:
            raise invalid_value(
                f"The parameter {where}.StatisticValues.Maximum must be greater than or equal to "
                f"{where}.StatisticValues.Minimum."
            )
        return [
            lambda: batch.put_statistics(
                namespace,
                name,
                dimensions,
                stats["SampleCount"],
                stats["Sum"],
                stats["Minimum"],
                stats["Maximum"],
                unit,
                timestamp,
                scope=scope,
            )
        ]
    if len(values) > MAX_VALUES:
        raise invalid_value(f"The collection {where}.Values must not have a size greater than {MAX_VALUES}.")
    if counts is not None and len(counts) != len(values):
        raise invalid_value(f"The parameters {where}.Values and {where}.Counts must be of the same size.")
    weights = counts if counts is not None else [1.0] * len(values)
    for position, (item, count) in enumerate(zip(values, weights, strict=True), 1):
        _check_value(item, f"{where}.Values.member.{position}")
        if not math.isfinite(count) or count < 0:
            raise invalid_value(f"The value {count} for parameter {where}.Counts.member.{position} is invalid.")
    return [put(item, count) for item, count in zip(values, weights, strict=True)]


def _check_value(value: float, where: str) -> None:
    if not math.isfinite(value) or abs(value) > LARGEST_VALUE:
        raise invalid_value(f"The value {value} for parameter {where} is invalid.")
