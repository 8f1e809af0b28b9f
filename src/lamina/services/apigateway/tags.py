"""TagResource, UntagResource, GetTags: the tags of a REST API
(`arn:aws:apigateway:<region>::/restapis/<id>`), a stage (`.../restapis/<id>/stages/<name>`),
an API key (`::/apikeys/<id>`) or a usage plan (`::/usageplans/<id>`)."""

from __future__ import annotations

import copy
import re
from typing import Any

from ..api_gateway_errors import api_not_found, not_found
from ..context import RequestContext
from . import checks
from .stages import stage_of
from .state import RestApiState

_ARN = re.compile(
    r"^arn:aws[a-zA-Z-]*:apigateway:([a-z0-9-]+)::/(restapis|apikeys|usageplans)/([A-Za-z0-9]+)(?:/stages/([^/]+))?$"
)


class TagsApi:
    state: RestApiState

    async def _tagged(self, arn: str, ctx: RequestContext, change=None) -> dict[str, str]:
        """The tags of the resource the ARN names, changed by `change(tags) -> tags` if given."""
        match = _ARN.match(arn)
        if match is None:
            raise not_found(f"Invalid resource identifier specified {arn}")
        region, kind, ident, stage_name = match.groups()
        if kind == "restapis":
            if region != ctx.region:
                raise api_not_found(ctx.account_id, ident)
            api = self.state.api(ctx.account_id, ctx.region, ident)
            if stage_name is not None:
                stage_of(api, stage_name)
            if change is None:
                return dict((api.stages[stage_name].get("tags") or {}) if stage_name else api.tags)
            async with self.state.edit(ctx.account_id, ctx.region, ident) as draft:
                if stage_name:
                    stage = draft.stages[stage_name]
                    stage["tags"] = checks.tags(change(stage.get("tags") or {}))
                    if not stage["tags"]:
                        del stage["tags"]
                    return dict(stage.get("tags") or {})
                draft.tags = checks.tags(change(draft.tags))
                return dict(draft.tags)
        if stage_name is not None or region != ctx.region:
            raise not_found(f"Invalid resource identifier specified {arn}")
        async with self.state.scope_lock(ctx.account_id, ctx.region):
            if kind == "apikeys":
                record: dict[str, Any] = dict(self.state.key(ctx.account_id, ctx.region, ident))
                if change is None:
                    return dict(record.get("tags") or {})
                record["tags"] = checks.tags(change(record.get("tags") or {}))
                await self.state.save_key(ctx.account_id, ctx.region, record)
                return dict(record["tags"])
            held = copy.deepcopy(self.state.plan(ctx.account_id, ctx.region, ident))
            if change is None:
                return dict(held["plan"].get("tags") or {})
            held["plan"]["tags"] = checks.tags(change(held["plan"].get("tags") or {}))
            await self.state.save_plan(ctx.account_id, ctx.region, held)
            return dict(held["plan"]["tags"])

    async def tag_resource(self, params: dict, ctx: RequestContext) -> dict:
        given = params.get("tags") or {}
        await self._tagged(params["resourceArn"], ctx, lambda tags: {**tags, **given})
        return {}

    async def untag_resource(self, params: dict, ctx: RequestContext) -> dict:
        gone = set(params.get("tagKeys") or [])
        await self._tagged(params["resourceArn"], ctx, lambda tags: {k: v for k, v in tags.items() if k not in gone})
        return {}

    async def get_tags(self, params: dict, ctx: RequestContext) -> dict[str, Any]:
        return {"tags": await self._tagged(params["resourceArn"], ctx)}
