"""ListMetrics: every metric with data, filtered, in pages of 500."""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import Any

from ...observability.queries import list_metric_ids
from ...observability.recorder import MetricsRecorder
from ...observability.series import MetricId
from ..context import RequestContext
from .common import invalid_value

PAGE_SIZE = 500
RECENTLY_ACTIVE_S = 3 * 3600  # RecentlyActive=PT3H
INVALID_TOKEN = "The specified NextToken is invalid."


class ListingApi:
    recorder: MetricsRecorder

    async def list_metrics(self, params: dict, ctx: RequestContext) -> dict:
        filters: dict[str, str | None] = {}
        for item in params.get("Dimensions") or []:
            filters[item["Name"]] = item.get("Value")
        since = time.time() - RECENTLY_ACTIVE_S if params.get("RecentlyActive") == "PT3H" else None
        after = _decode_token(params.get("NextToken"))
        metrics = await list_metric_ids(
            self.recorder,
            params.get("Namespace"),
            params.get("MetricName"),
            filters,
            since=since,
            scope=(ctx.region, ctx.account_id),
        )
        if after is not None:
            metrics = [metric for metric in metrics if _sort_key(metric) > after]
        page = metrics[:PAGE_SIZE]
        answer: dict[str, Any] = {"Metrics": [_describe(metric) for metric in page]}
        if params.get("IncludeLinkedAccounts"):
            answer["OwningAccounts"] = [ctx.account_id] * len(page)
        if len(metrics) > PAGE_SIZE:
            answer["NextToken"] = _encode_token(_sort_key(page[-1]))
        return answer


def _describe(metric: MetricId) -> dict:
    return {
        "Namespace": metric.namespace,
        "MetricName": metric.name,
        "Dimensions": [{"Name": name, "Value": value} for name, value in metric.dimensions],
    }


def _sort_key(metric: MetricId) -> tuple:
    return (metric.namespace, metric.name, [list(pair) for pair in metric.dimensions])


def _encode_token(key: tuple) -> str:
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str | None) -> tuple | None:
    if token is None:
        return None
    try:
        namespace, name, dimensions = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not (isinstance(namespace, str) and isinstance(name, str) and isinstance(dimensions, list)):
            raise ValueError
        return (namespace, name, [[str(k), str(v)] for k, v in dimensions])
    except (binascii.Error, ValueError, TypeError):
        raise invalid_value(INVALID_TOKEN) from None
