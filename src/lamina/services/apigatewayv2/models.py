"""CreateModel, GetModel(s), UpdateModel, DeleteModel, GetModelTemplate (WebSocket APIs):
a model is a JSON schema (draft 4) for a content type, named by letters and digits."""

from __future__ import annotations

import json
import re

from ..api_gateway_errors import bad_request, conflict
from ..context import RequestContext
from . import checks
from .ids import CHILD_ID_LENGTH, new_id
from .paging import listed
from .state import Api, ApiGatewayState

_NAME = re.compile(r"^[a-zA-Z0-9]{1,128}$")
_KEPT = ("ContentType", "Description", "Name", "Schema")


def _check(api: Api, record: dict) -> None:
    if not api.websocket:
        raise bad_request("Models are supported only for WebSocket APIs")
    if not _NAME.match(record["Name"]):
        raise bad_request("Model name must be alphanumeric")
    checks.description(record.get("Description"))
    for other in api.models.values():
        if other["Name"] == record["Name"] and other["ModelId"] != record["ModelId"]:
            raise conflict(f"Model name already exists for this API: {record['Name']}")
    try:
        schema = json.loads(record["Schema"])
    except ValueError:
        raise bad_request(
            "Invalid model specified: Validation Result: warnings : [], errors : [Invalid model schema specified]"
        ) from None
    if not isinstance(schema, dict):
        raise bad_request(
            "Invalid model specified: Validation Result: warnings : [], errors : [Invalid model schema specified]"
        )


class ModelsApi:
    state: ApiGatewayState

    async def create_model(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["ApiId"]) as api:
            record = {name: params[name] for name in _KEPT if params.get(name) is not None}
            record["ModelId"] = new_id(CHILD_ID_LENGTH, api.models)
            record.setdefault("ContentType", "application/json")
            _check(api, record)
            api.models[record["ModelId"]] = record
            api.changed = True
        return dict(record)

    async def get_model(self, params: dict, ctx: RequestContext) -> dict:
        api = self.state.api(ctx.account_id, ctx.region, params["ApiId"])
        return dict(api.child("models", "Model", params["ModelId"]))

    async def get_models(self, params: dict, ctx: RequestContext) -> dict:
        return listed(self.state.api(ctx.account_id, ctx.region, params["ApiId"]).models, params)

    async def get_model_template(self, params: dict, ctx: RequestContext) -> dict:
        api = self.state.api(ctx.account_id, ctx.region, params["ApiId"])
        api.child("models", "Model", params["ModelId"])
        return {"Value": "#set($inputRoot = $input.path('$'))\n{}"}

    async def update_model(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["ApiId"]) as api:
            record = api.child("models", "Model", params["ModelId"])
            for name in _KEPT:
                if params.get(name) is not None:
                    record[name] = params[name]
            _check(api, record)
            api.changed = True
        return dict(record)

    async def delete_model(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["ApiId"]) as api:
            record = api.child("models", "Model", params["ModelId"])
            del api.models[record["ModelId"]]
            api.changed = True
        return {}
