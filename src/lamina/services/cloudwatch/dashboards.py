"""Dashboards: PutDashboard (the body checked as CloudWatch checks its structure),
GetDashboard, ListDashboards (by prefix, pages of 1000) and DeleteDashboards (all or none).

Dashboards are global to an account (their ARN has no region), committed to the store
before the answer (alarm_book.py's cw_dashboard documents).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from ...errors import ServiceError
from ...store.base import Delete, Put
from ..context import RequestContext
from .alarm_book import DASHBOARD_KIND, AlarmBook
from .alarm_runner import AlarmRunner
from .common import as_datetime

PAGE_SIZE = 1000
INVALID_TOKEN = "The service cannot process the NextToken you specified."
_NAME = re.compile(r"[A-Za-z0-9_-]+")
WIDGET_TYPES = ("metric", "text", "log", "alarm", "explorer", "custom")
GRID_WIDTH = 24


NOT_JSON = "The field DashboardBody must be a valid JSON object"


def _invalid(messages: list[dict], message: str = "The dashboard body is invalid") -> ServiceError:
    return ServiceError("InvalidParameterInput", message, 400, dashboardValidationMessages=messages)


def dashboard_arn(account: str, name: str) -> str:
    return f"arn:aws:cloudwatch::{account}:dashboard/{name}"


def validate_body(body: str) -> list[dict]:
    """The DashboardValidationMessages of a body that parses (errors raise)."""
    try:
        document = json.loads(body)
    except ValueError:
        raise _invalid([{"DataPath": "", "Message": NOT_JSON}], NOT_JSON) from None
    if not isinstance(document, dict):
        raise _invalid([{"DataPath": "", "Message": "Should be object"}], NOT_JSON)
    problems: list[dict] = []
    widgets = document.get("widgets")
    if widgets is None:
        problems.append({"DataPath": "", "Message": "Should have required property 'widgets'"})
    elif not isinstance(widgets, list):
        problems.append({"DataPath": "/widgets", "Message": "Should be array"})
    else:
        for index, widget in enumerate(widgets):
            problems += _widget(widget, f"/widgets/{index}")
    for member, kind in (("start", str), ("end", str), ("periodOverride", str), ("variables", list)):
        if member in document and not isinstance(document[member], kind):
            problems.append(
                {
                    "DataPath": f"/{member}",
                    "Message": f"Should be {kind.__name__.replace('str', 'string').replace('list', 'array')}",
                }
            )
    if problems:
        raise _invalid(problems)
    return []


def _widget(widget: Any, path: str) -> list[dict]:
    if not isinstance(widget, dict):
        return [{"DataPath": path, "Message": "Should be object"}]
    problems = []
    kind = widget.get("type")
    if kind is None:
        problems.append({"DataPath": path, "Message": "Should have required property 'type'"})
    elif kind not in WIDGET_TYPES:
        problems.append(
            {
                "DataPath": f"{path}/type",
                "Message": f"Should be equal to one of the allowed values {list(WIDGET_TYPES)}",
            }
        )
    for member, low, high in (("x", 0, GRID_WIDTH - 1), ("y", 0, None), ("width", 1, GRID_WIDTH), ("height", 1, 1000)):
        if member not in widget:
            continue
        value = widget[member]
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append({"DataPath": f"{path}/{member}", "Message": "Should be integer"})
        elif value < low:
            problems.append({"DataPath": f"{path}/{member}", "Message": f"Should be >= {low}"})
        elif high is not None and value > high:
            problems.append({"DataPath": f"{path}/{member}", "Message": f"Should be <= {high}"})
    properties = widget.get("properties")
    if kind in WIDGET_TYPES and kind != "explorer":
        if properties is None:
            problems.append({"DataPath": path, "Message": "Should have required property 'properties'"})
        elif not isinstance(properties, dict):
            problems.append({"DataPath": f"{path}/properties", "Message": "Should be object"})
        elif kind == "text" and "markdown" not in properties:
            problems.append({"DataPath": f"{path}/properties", "Message": "Should have required property 'markdown'"})
        elif kind == "metric" and "metrics" in properties and not isinstance(properties["metrics"], list):
            problems.append({"DataPath": f"{path}/properties/metrics", "Message": "Should be array"})
        elif kind == "alarm" and not isinstance(properties.get("alarms"), list):
            problems.append({"DataPath": f"{path}/properties", "Message": "Should have required property 'alarms'"})
    return problems


class DashboardsApi:
    book: AlarmBook
    runner: AlarmRunner

    async def put_dashboard(self, params: dict, ctx: RequestContext) -> dict:
        name, body = params["DashboardName"], params["DashboardBody"]
        if not _NAME.fullmatch(name):
            raise ServiceError(
                "InvalidParameterInput",
                "The value for field DashboardName contains invalid characters. It can only contain alphanumerics, "
                "dash (-) and underscore (_).",
                400,
            )
        messages = validate_body(body)
        document = {"DashboardName": name, "DashboardBody": body, "LastModified": self.runner.clock()}
        key = f"{ctx.account_id}:{name}"
        await self.book.write([Put(DASHBOARD_KIND, key, document)])
        self.book.dashboards.setdefault(ctx.account_id, {})[name] = document
        return {"DashboardValidationMessages": messages}

    async def get_dashboard(self, params: dict, ctx: RequestContext) -> dict:
        name = params["DashboardName"]
        document = self.book.dashboards.get(ctx.account_id, {}).get(name)
        if document is None:
            raise ServiceError("ResourceNotFound", f"Dashboard {name} does not exist", 404)
        return {
            "DashboardArn": dashboard_arn(ctx.account_id, name),
            "DashboardBody": document["DashboardBody"],
            "DashboardName": name,
        }

    async def list_dashboards(self, params: dict, ctx: RequestContext) -> dict:
        prefix = params.get("DashboardNamePrefix") or ""
        names = sorted(n for n in self.book.dashboards.get(ctx.account_id, {}) if n.startswith(prefix))
        token = params.get("NextToken")
        if token is not None:
            try:
                after = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            except (binascii.Error, UnicodeDecodeError):
                raise ServiceError(
                    "InvalidNextToken", "The service cannot process the NextToken you specified.", 400
                ) from None
            names = [n for n in names if n > after]
        page = names[:PAGE_SIZE]
        dashboards = self.book.dashboards.get(ctx.account_id, {})
        answer: dict[str, Any] = {
            "DashboardEntries": [
                {
                    "DashboardName": n,
                    "DashboardArn": dashboard_arn(ctx.account_id, n),
                    "LastModified": as_datetime(dashboards[n]["LastModified"]),
                    "Size": len(dashboards[n]["DashboardBody"].encode()),
                }
                for n in page
            ]
        }
        if len(names) > PAGE_SIZE:
            answer["NextToken"] = base64.urlsafe_b64encode(page[-1].encode()).decode().rstrip("=")
        return answer

    async def delete_dashboards(self, params: dict, ctx: RequestContext) -> dict:
        names = list(dict.fromkeys(params["DashboardNames"]))
        dashboards = self.book.dashboards.get(ctx.account_id, {})
        missing = [n for n in names if n not in dashboards]
        if missing:
            raise ServiceError("ResourceNotFound", "The specified dashboard does not exist.", 404)
        await self.book.write([Delete(DASHBOARD_KIND, f"{ctx.account_id}:{n}") for n in names])
        for name in names:
            del dashboards[name]
        return {}
