"""API keys: CreateApiKey, GetApiKey (includeValue), GetApiKeys (nameQuery, customerId,
includeValues), UpdateApiKey, DeleteApiKey, ImportApiKeys (CSV).

Keys belong to an account and region; a key's value is unique there ("API Key already
exists"), at least 20 characters, generated (40 letters and digits) when not given. A new
key is disabled unless `enabled` is given, as AWS makes it. stageKeys are kept as
"<restApiId>/<stage>" (UpdateApiKey's /stages add and remove). Usage plans say what a key
may do (usage_plans.py).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from ..api_gateway_apis import now
from ..api_gateway_errors import bad_request, conflict
from ..context import RequestContext
from . import checks, patch
from .errors import STAGE_NOT_FOUND
from .ids import LONG, new_id, new_key_value
from .paging import listed
from .state import RestApiState


def shown_key(record: dict[str, Any], include_value: bool) -> dict[str, Any]:
    out = {k: v for k, v in record.items() if k != "value" or include_value}
    if not out.get("tags"):
        out.pop("tags", None)
    return out


def check_value(state: RestApiState, account: str, region: str, value: str, key_id: str | None = None) -> None:
    if len(value) < 20:
        raise bad_request("API Key value should be at least 20 characters")
    held = state.key_values.get(value)
    if held is not None and held[:2] == (account, region) and held[2] != key_id:
        raise conflict("API Key already exists")


def stage_key(state: RestApiState, ctx: RequestContext, api_id: str, stage: str) -> str:
    api = state.api(ctx.account_id, ctx.region, api_id)
    if stage not in api.stages:
        raise bad_request(STAGE_NOT_FOUND)
    return f"{api_id}/{stage}"


class ApiKeysApi:
    state: RestApiState

    async def create_api_key(self, params: dict, ctx: RequestContext) -> dict:
        checks.description(params.get("description"))
        value = params.get("value") or new_key_value()
        stages = [
            stage_key(self.state, ctx, s.get("restApiId", ""), s.get("stageName", ""))
            for s in params.get("stageKeys") or []
        ]
        async with self.state.scope_lock(ctx.account_id, ctx.region):
            check_value(self.state, ctx.account_id, ctx.region, value)
            ms = now()
            record: dict[str, Any] = {
                "id": new_id(LONG, self.state.keys.get((ctx.account_id, ctx.region), {})),
                "value": value,
                "name": params.get("name") or "",
                "enabled": bool(params.get("enabled")),
                "createdDate": ms,
                "lastUpdatedDate": ms,
                "stageKeys": stages,
            }
            for name in ("description", "customerId"):
                if params.get(name) is not None:
                    record[name] = params[name]
            if not record["name"]:
                del record["name"]
            if params.get("tags"):
                record["tags"] = checks.tags(params["tags"])
            await self.state.save_key(ctx.account_id, ctx.region, record)
        return shown_key(record, include_value=True)

    async def get_api_key(self, params: dict, ctx: RequestContext) -> dict:
        record = self.state.key(ctx.account_id, ctx.region, params["apiKey"])
        return shown_key(record, bool(params.get("includeValue")))

    async def get_api_keys(self, params: dict, ctx: RequestContext) -> dict:
        keys = self.state.keys.get((ctx.account_id, ctx.region), {})
        prefix = params.get("nameQuery")
        customer = params.get("customerId")
        chosen = [
            key_id
            for key_id, record in keys.items()
            if (not prefix or (record.get("name") or "").startswith(prefix))
            and (not customer or record.get("customerId") == customer)
        ]
        chosen.sort(key=lambda k: (keys[k].get("name") or "", k))
        include = bool(params.get("includeValues"))
        return listed(chosen, lambda k: shown_key(keys[k], include), params)

    async def update_api_key(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.scope_lock(ctx.account_id, ctx.region):
            record = dict(self.state.key(ctx.account_id, ctx.region, params["apiKey"]))
            record["stageKeys"] = list(record.get("stageKeys") or [])

            def stages(change: patch.Change) -> None:
                api_id, _, stage = change.text().partition("/")
                entry = stage_key(self.state, ctx, api_id, stage) if change.op == "add" else change.text()
                if change.op == "add" and entry not in record["stageKeys"]:
                    record["stageKeys"].append(entry)
                elif change.op == "remove":
                    record["stageKeys"] = [s for s in record["stageKeys"] if s != entry]

            def value(change: patch.Change) -> None:
                check_value(self.state, ctx.account_id, ctx.region, change.text(), record["id"])
                record["value"] = change.text()

            rules = [
                patch.field(record, "name"),
                patch.field(record, "description"),
                patch.field(record, "customerId"),
                patch.Rule("/enabled", ("replace",), lambda c: record.__setitem__("enabled", c.flag())),
                patch.Rule("/value", ("replace",), value),
                patch.Rule("/stages", ("add", "remove"), stages),
            ]
            patch.apply(params.get("patchOperations"), rules)
            record["lastUpdatedDate"] = now()
            await self.state.save_key(ctx.account_id, ctx.region, record)
        return shown_key(record, include_value=False)

    async def delete_api_key(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.scope_lock(ctx.account_id, ctx.region):
            self.state.key(ctx.account_id, ctx.region, params["apiKey"])
            await self.state.delete_key(ctx.account_id, ctx.region, params["apiKey"])
        return {}

    async def import_api_keys(self, params: dict, ctx: RequestContext) -> dict:
        """CSV with a header row: name, key, description, enabled, usageplanIds (any case and
        order; usage plan ids separated by ';' or ',' in a quoted field)."""
        if params.get("format") != "csv":
            raise bad_request(f"Invalid format specified: {params.get('format')}. Valid values are csv")
        body = params.get("body") or b""
        try:
            rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
        except (UnicodeDecodeError, csv.Error):
            raise bad_request("Invalid CSV input") from None
        if not rows:
            raise bad_request("Invalid CSV input: no header row")
        header = [h.strip().lower() for h in rows[0]]
        if "key" not in header:
            raise bad_request("Invalid CSV input: the header has no Key column")
        warnings: list[str] = []
        made: list[tuple[dict[str, Any], list[str]]] = []
        async with self.state.scope_lock(ctx.account_id, ctx.region):
            plans = self.state.plans.get((ctx.account_id, ctx.region), {})
            values: set[str] = set()
            for number, row in enumerate(rows[1:], start=2):
                if not any(cell.strip() for cell in row):
                    continue
                cells = dict(zip(header, (c.strip() for c in row), strict=False))
                value = cells.get("key", "")
                try:
                    check_value(self.state, ctx.account_id, ctx.region, value)
                    if value in values:
                        raise conflict("API Key already exists")
                except Exception as error:  # noqa: BLE001 - reported as a warning of the row
                    warnings.append(f"Line {number}: {getattr(error, 'message', error)}")
                    continue
                values.add(value)
                plan_ids = [p.strip() for p in cells.get("usageplanids", "").replace(",", ";").split(";") if p.strip()]
                unknown = [p for p in plan_ids if p not in plans]
                if unknown:
                    warnings.append(f"Line {number}: Invalid Usage Plan ID specified: {', '.join(unknown)}")
                    continue
                ms = now()
                record: dict[str, Any] = {
                    "id": new_id(LONG, self.state.keys.get((ctx.account_id, ctx.region), {})),
                    "value": value,
                    "enabled": cells.get("enabled", "").lower() == "true",
                    "createdDate": ms,
                    "lastUpdatedDate": ms,
                    "stageKeys": [],
                }
                if cells.get("name"):
                    record["name"] = cells["name"]
                if cells.get("description"):
                    record["description"] = cells["description"]
                made.append((record, plan_ids))
            if warnings and params.get("failOnWarnings"):
                raise bad_request("Warnings found during import:\n" + "\n".join(warnings))
            for record, plan_ids in made:
                await self.state.save_key(ctx.account_id, ctx.region, record)
                for plan_id in plan_ids:
                    held = self.state.plan(ctx.account_id, ctx.region, plan_id)
                    if record["id"] not in held["keys"]:
                        await self.state.save_plan(
                            ctx.account_id, ctx.region, {**held, "keys": [*held["keys"], record["id"]]}
                        )
        result: dict[str, Any] = {"ids": [record["id"] for record, _ in made]}
        if warnings:
            result["warnings"] = warnings
        return result
