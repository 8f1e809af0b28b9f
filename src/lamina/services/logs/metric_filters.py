"""PutMetricFilter, DescribeMetricFilters, DeleteMetricFilter, TestMetricFilter.

A metric filter turns a log group's events into CloudWatch metric values: each event that
matches its pattern gives one value of its metric (metricValue: a number, "$.field" of a JSON
event, "$field" of a space-delimited one), with dimensions taken from the event the same way;
a minute in which events arrived and none matched gets defaultValue once, if there is one.
Values are stamped with the event's timestamp, in the log group's account and Region.

Filters are kept in memory (ingest.py's Filters, loaded at start) and in the store:

    kind "logs_metric_filter"   key "<group key>:<filter name>"   (filter names hold no ":")
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...errors import ServiceError
from ...store.base import Delete, Put, Store
from ..context import RequestContext
from .filter_pattern import Extractor, FilterPatternError, compile_extractor, pattern_kind
from .paging import decode_token, encode_token
from .resources import GroupRef, group_ref, invalid_parameter, load_group, not_found, now_ms

KIND = "logs_metric_filter"
MAX_FILTERS_PER_GROUP = 100
MAX_DIMENSIONS = 3
DEFAULT_LIMIT = 50
_NUMBER = re.compile(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_JSON_SELECTOR = re.compile(r"\$\.\S+")
_FIELD_SELECTOR = re.compile(r"\$[A-Za-z_][\w-]*")

# put(namespace, name, dimensions, value, unit, timestamp in ms, (region, account))
Put_ = Callable[[str, str, dict[str, str], float, str, int, tuple[str, str]], None]


def limit_exceeded() -> ServiceError:
    return ServiceError("LimitExceededException", "Resource limit exceeded.", 400)


def filter_key(group_key: str, name: str) -> str:
    return f"{group_key}:{name}"


def compile_filter_pattern(pattern: str) -> Extractor:
    try:
        return compile_extractor(pattern)
    except FilterPatternError:
        raise invalid_parameter("Invalid filter pattern") from None


def _number(text: str | None) -> float | None:
    return float(text) if text is not None and _NUMBER.fullmatch(text.strip()) else None


@dataclass
class MetricFilter:
    """One metric filter: its document (as DescribeMetricFilters shows it) and what matching needs."""

    group_key: str
    doc: dict[str, Any]
    extract: Extractor
    scope: tuple[str, str]  # (region, account)
    default_minutes: set[int] = field(default_factory=set)  # minutes given their defaultValue

    @classmethod
    def from_doc(cls, group_key: str, doc: dict[str, Any]) -> MetricFilter:
        account, region, _ = group_key.split(":", 2)
        return cls(group_key, doc, compile_extractor(doc.get("filterPattern") or ""), (region, account))

    @property
    def name(self) -> str:
        return self.doc["filterName"]

    def emit(self, events: list[tuple[int, str]], put: Put_) -> None:
        """The metric values of these events (timestamp ms, message), through put."""
        transformation = self.doc["metricTransformations"][0]
        namespace, metric = transformation["metricNamespace"], transformation["metricName"]
        unit = transformation.get("unit") or "None"
        selector = transformation["metricValue"]
        literal = _number(selector)
        default = transformation.get("defaultValue")
        dimensions = transformation.get("dimensions") or {}
        for timestamp, message in events:
            found = self.extract(message)
            if found is None:
                if default is not None:
                    minute = timestamp // 60_000
                    if minute not in self.default_minutes:
                        if len(self.default_minutes) > 1000:
                            self.default_minutes = {m for m in self.default_minutes if m > minute - 60}
                        self.default_minutes.add(minute)
                        put(namespace, metric, {}, float(default), unit, timestamp, self.scope)
                continue
            value = literal if literal is not None else found.number(selector)
            if value is None:
                continue  # the field is missing or not a number: no value, as on AWS
            dims: dict[str, str] = {}
            for dimension, source in dimensions.items():
                text = found.value(source)
                if text is None:
                    break
                dims[dimension] = text
            else:
                put(namespace, metric, dims, value, unit, timestamp, self.scope)


def _check_transformation(transformation: dict[str, Any], pattern: str) -> dict[str, Any]:
    """The transformation as stored, or InvalidParameterException as AWS refuses it."""
    kind = pattern_kind(pattern)
    value = transformation["metricValue"].strip()
    if _number(value) is None:
        if _JSON_SELECTOR.fullmatch(value):
            if kind != "json":
                raise invalid_parameter(f"Invalid metric value: {value} (a $.field needs a JSON filter pattern)")
        elif _FIELD_SELECTOR.fullmatch(value):
            if kind != "delimited":
                raise invalid_parameter(
                    f"Invalid metric value: {value} (a $field needs a space-delimited filter pattern)"
                )
        else:
            raise invalid_parameter(f"Invalid metric value: {value}")
    dimensions = transformation.get("dimensions") or {}
    if dimensions:
        if kind == "terms":
            raise invalid_parameter("The specified filter pattern does not support dimensions")
        if transformation.get("defaultValue") is not None:
            raise invalid_parameter(
                "Invalid metric transformation: dimensions and default value are mutually exclusive properties"
            )
        if len(dimensions) > MAX_DIMENSIONS:
            raise limit_exceeded()
        wanted = _JSON_SELECTOR if kind == "json" else _FIELD_SELECTOR
        for name, source in dimensions.items():
            if not name or not wanted.fullmatch(source or ""):
                raise invalid_parameter(f"Invalid dimension value: {source}")
    stored = {
        "metricName": transformation["metricName"],
        "metricNamespace": transformation["metricNamespace"],
        "metricValue": value,
    }
    for member in ("defaultValue", "unit"):
        if transformation.get(member) is not None:
            stored[member] = transformation[member]
    if dimensions:
        stored["dimensions"] = dict(dimensions)
    return stored


class MetricFiltersApi:
    store: Store
    metric_filters: dict[str, dict[str, MetricFilter]]  # group key -> filter name -> filter

    async def put_metric_filter(self, params: dict, ctx: RequestContext) -> dict:
        group = group_ref(ctx, params["logGroupName"])
        pattern = params["filterPattern"]
        compile_filter_pattern(pattern)
        transformation = _check_transformation(params["metricTransformations"][0], pattern)
        await load_group(self.store, group)
        current = self.metric_filters.get(group.key, {})
        name = params["filterName"]
        if name not in current and len(current) >= MAX_FILTERS_PER_GROUP:
            raise limit_exceeded()
        doc: dict[str, Any] = {
            "filterName": name,
            "filterPattern": pattern,
            "metricTransformations": [transformation],
            "creationTime": now_ms(),
            "logGroupName": group.name,
        }
        if params.get("applyOnTransformedLogs"):
            doc["applyOnTransformedLogs"] = True
        await self.store.write([Put(KIND, filter_key(group.key, name), doc)])
        self.metric_filters.setdefault(group.key, {})[name] = MetricFilter.from_doc(group.key, doc)
        return {}

    async def delete_metric_filter(self, params: dict, ctx: RequestContext) -> dict:
        group = group_ref(ctx, params["logGroupName"])
        await load_group(self.store, group)
        name = params["filterName"]
        if name not in self.metric_filters.get(group.key, {}):
            raise not_found("The specified metric filter does not exist.")
        await self.store.write([Delete(KIND, filter_key(group.key, name))])
        filters = self.metric_filters.get(group.key, {})
        filters.pop(name, None)
        if not filters:
            self.metric_filters.pop(group.key, None)
        return {}

    async def describe_metric_filters(self, params: dict, ctx: RequestContext) -> dict:
        metric_name, namespace = params.get("metricName"), params.get("metricNamespace")
        if metric_name and not namespace:
            raise invalid_parameter("If you specify metricName, you must also specify metricNamespace.")
        limit = params.get("limit") or DEFAULT_LIMIT
        cursor = decode_token(params.get("nextToken"), "after")
        after = tuple(cursor["after"]) if cursor else None
        name = params.get("logGroupName")
        if name:
            groups = [self.metric_filters.get(group_ref(ctx, name).key, {})]
            prefix = params.get("filterNamePrefix") or ""
        else:
            scope = group_ref(ctx, "").key
            groups = [filters for key, filters in self.metric_filters.items() if key.startswith(scope)]
            prefix = ""  # AWS reads filterNamePrefix only with logGroupName

        def wanted(doc: dict) -> bool:
            transformation = doc["metricTransformations"][0]
            return (
                doc["filterName"].startswith(prefix)
                and (not namespace or transformation["metricNamespace"] == namespace)
                and (not metric_name or transformation["metricName"] == metric_name)
            )

        docs = sorted(
            (record.doc for filters in groups for record in filters.values() if wanted(record.doc)),
            key=lambda doc: (doc["logGroupName"], doc["filterName"]),
        )
        if after is not None:
            docs = [doc for doc in docs if (doc["logGroupName"], doc["filterName"]) > after]
        page = docs[:limit]
        result: dict[str, Any] = {"metricFilters": [dict(doc) for doc in page]}
        if len(docs) > limit:
            result["nextToken"] = encode_token({"after": [page[-1]["logGroupName"], page[-1]["filterName"]]})
        return result

    async def test_metric_filter(self, params: dict, ctx: RequestContext) -> dict:
        extract = compile_filter_pattern(params["filterPattern"])
        matches = []
        for number, message in enumerate(params["logEventMessages"], 1):
            found = extract(message)
            if found is not None:
                matches.append(
                    {"eventNumber": number, "eventMessage": message, "extractedValues": found.extracted_values()}
                )
        return {"matches": matches}

    def _forget_metric_filters(self, group: GroupRef) -> list[Delete]:
        """A deleted group's metric filters: gone from memory; the store operations that delete them."""
        filters = self.metric_filters.pop(group.key, {})
        return [Delete(KIND, filter_key(group.key, name)) for name in filters]
