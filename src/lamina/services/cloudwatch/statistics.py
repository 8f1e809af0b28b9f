"""GetMetricStatistics and GetMetricData: buckets from the recorder, statistics from buckets.

Buckets start at StartTime (rounded down to the minute) and step by the period; only
buckets with data become datapoints. GetMetricData pages its datapoints, across all its
queries in order, by MaxDatapoints, with an opaque NextToken.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from ...errors import ServiceError
from ...observability.queries import query_buckets
from ...observability.recorder import MetricsRecorder
from ..context import RequestContext
from .common import (
    STATISTICS,
    as_datetime,
    datapoint_count,
    dimensions_of,
    effective_period,
    invalid_combination,
    invalid_value,
    percentile_of,
    statistic,
    validation_error,
)

MAX_STATISTICS_DATAPOINTS = 1440
MAX_QUERIES = 500
DEFAULT_MAX_DATAPOINTS = 100_800
_QUERY_ID = re.compile(r"[a-z][a-zA-Z0-9_]*")


class StatisticsApi:
    recorder: MetricsRecorder

    async def get_metric_statistics(self, params: dict, ctx: RequestContext) -> dict:
        statistics = params.get("Statistics") or []
        extended = params.get("ExtendedStatistics") or []
        if not statistics and not extended:
            raise invalid_combination("Must specify either Statistics or ExtendedStatistics")
        if statistics and extended:
            raise invalid_combination("Must specify either Statistics or ExtendedStatistics, but not both")
        for stat in statistics:
            if stat not in STATISTICS:
                raise invalid_value(f"The value {stat} for parameter Statistics is not supported.")
        for stat in extended:
            if percentile_of(stat) is None:
                raise invalid_value(f"The value {stat} for parameter ExtendedStatistics is not supported.")
        start, end = params["StartTime"].timestamp(), params["EndTime"].timestamp()
        if start >= end:
            raise invalid_value("The parameter StartTime must be less than the parameter EndTime.")
        period = effective_period(params["Period"])
        if period is None:
            raise invalid_value("The parameter Period must be a multiple of 60.")
        count = datapoint_count(start, end, period)
        if count > MAX_STATISTICS_DATAPOINTS:
            raise invalid_combination(
                f"You have requested up to {count} datapoints, which exceeds the limit of "
                f"{MAX_STATISTICS_DATAPOINTS}. You may reduce the datapoints requested by increasing Period, "
                "or decreasing the time range."
            )
        dimensions = dimensions_of(params.get("Dimensions"), "Dimensions")
        buckets = await query_buckets(
            self.recorder,
            params["Namespace"],
            params["MetricName"],
            dimensions,
            start,
            end,
            period,
            unit=params.get("Unit"),
            samples=bool(extended),
            scope=(ctx.region, ctx.account_id),
        )
        datapoints = []
        for bucket in buckets:
            point: dict[str, Any] = {"Timestamp": as_datetime(bucket.timestamp), "Unit": bucket.unit}
            for stat in statistics:
                point[stat] = statistic(bucket, stat)
            percentiles = {stat: statistic(bucket, stat) for stat in extended}
            percentiles = {stat: value for stat, value in percentiles.items() if value is not None}
            if percentiles:
                point["ExtendedStatistics"] = percentiles
            datapoints.append(point)
        return {"Label": params["MetricName"], "Datapoints": datapoints}

    async def get_metric_data(self, params: dict, ctx: RequestContext) -> dict:
        queries = params["MetricDataQueries"]
        if not queries:
            raise validation_error("The collection MetricDataQueries must not be empty.")
        if len(queries) > MAX_QUERIES:
            raise validation_error(f"The collection MetricDataQueries must not have a size greater than {MAX_QUERIES}.")
        start, end = params["StartTime"].timestamp(), params["EndTime"].timestamp()
        if start >= end:
            raise validation_error("The parameter StartTime must be less than the parameter EndTime.")
        descending = (params.get("ScanBy") or "TimestampDescending") == "TimestampDescending"
        page_size = params.get("MaxDatapoints") or DEFAULT_MAX_DATAPOINTS
        if page_size < 1:
            raise validation_error("The parameter MaxDatapoints must be greater than 0.")
        offset = _decode_token(params.get("NextToken"))

        seen_ids: set[str] = set()
        for index, query in enumerate(queries, 1):
            _check_query(query, f"MetricDataQueries.member.{index}", seen_ids)

        series: list[tuple[dict, list[tuple[float, float]]]] = []
        for query in queries:
            if query.get("ReturnData") is False:
                continue
            series.append((query, await self._points(query, start, end, descending, (ctx.region, ctx.account_id))))

        remaining = offset
        budget = page_size
        results = []
        more = False
        for query, points in series:
            skipped = min(remaining, len(points))
            remaining -= skipped
            chosen = points[skipped : skipped + budget]
            budget -= len(chosen)
            partial = skipped + len(chosen) < len(points)
            more = more or partial
            stat = query["MetricStat"]
            results.append(
                {
                    "Id": query["Id"],
                    "Label": query.get("Label") or stat["Metric"]["MetricName"],
                    "Timestamps": [as_datetime(timestamp) for timestamp, _ in chosen],
                    "Values": [value for _, value in chosen],
                    "StatusCode": "PartialData" if partial else "Complete",
                }
            )
        answer: dict[str, Any] = {"MetricDataResults": results, "Messages": []}
        if more:
            answer["NextToken"] = _encode_token(offset + page_size)
        return answer

    async def _points(
        self, query: dict, start: float, end: float, descending: bool, scope: tuple[str, str]
    ) -> list[tuple[float, float]]:
        stat = query["MetricStat"]
        metric = stat["Metric"]
        buckets = await query_buckets(
            self.recorder,
            metric["Namespace"],
            metric["MetricName"],
            dimensions_of(metric.get("Dimensions"), "Dimensions"),
            start,
            end,
            effective_period(stat["Period"]),
            unit=stat.get("Unit"),
            samples=percentile_of(stat["Stat"]) is not None,
            scope=scope,
        )
        points = [(bucket.timestamp, statistic(bucket, stat["Stat"])) for bucket in buckets]
        points = [(timestamp, value) for timestamp, value in points if value is not None]
        if descending:
            points.reverse()
        return points


def _check_query(query: dict, where: str, seen_ids: set[str]) -> None:
    query_id = query["Id"]
    if not _QUERY_ID.fullmatch(query_id):
        raise validation_error(
            f"The value {query_id} for parameter {where}.Id is invalid: it must start with a lowercase letter "
            "and contain only letters, numbers and underscores."
        )
    if query_id in seen_ids:
        raise validation_error(f"The value {query_id} for parameter {where}.Id is duplicated.")
    seen_ids.add(query_id)
    stat, expression = query.get("MetricStat"), query.get("Expression")
    if stat is not None and expression is not None:
        raise validation_error(
            f"The parameters {where}.MetricStat and {where}.Expression are mutually exclusive and you have "
            "specified both."
        )
    if expression is not None:
        raise validation_error(
            f"Metric math is not supported by Lamina yet: {where}.Expression ({expression!r}). Use MetricStat queries."
        )
    if stat is None:
        raise validation_error(f"One of the parameters {where}.MetricStat or {where}.Expression must be specified.")
    metric = stat["Metric"]
    for member in ("Namespace", "MetricName"):
        if not metric.get(member):
            raise validation_error(f"The parameter {where}.MetricStat.Metric.{member} is required.")
    if stat["Stat"] not in STATISTICS and percentile_of(stat["Stat"]) is None:
        raise validation_error(
            f"The value {stat['Stat']} for parameter {where}.MetricStat.Stat is not supported by Lamina: "
            f"use one of {', '.join(STATISTICS)} or a percentile such as p99."
        )
    if effective_period(stat["Period"]) is None:
        raise validation_error(f"The parameter {where}.MetricStat.Period must be 1, 5, 10, 20, 30 or a multiple of 60.")


def _encode_token(offset: int) -> str:
    raw = json.dumps({"offset": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str | None) -> int:
    if token is None:
        return 0
    try:
        cursor = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset = cursor["offset"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise ServiceError("InvalidNextToken", "The service cannot process the NextToken you specified.", 400) from None
    if not isinstance(offset, int) or offset < 0:
        raise ServiceError("InvalidNextToken", "The service cannot process the NextToken you specified.", 400)
    return offset
