"""TagResource, UntagResource, GetTags: the tags of an API
(`arn:aws:apigateway:<region>::/apis/<apiId>`) or of a stage
(`arn:aws:apigateway:<region>::/apis/<apiId>/stages/<stageName>`)."""

from __future__ import annotations

import re
from typing import Any

from ..api_gateway_errors import api_not_found, not_found
from ..context import RequestContext
from . import checks
from .errors import stage_not_found
from .state import ApiGatewayState

_ARN = re.compile(r"^arn:aws[a-zA-Z-]*:apigateway:([a-z0-9\-]+)::/apis/([a-z0-9]+)(?:/stages/([^/]+))?$")


class TagsApi:
    state: ApiGatewayState

    async def _tagged(self, arn: str, ctx: RequestContext, change=None) -> dict[str, str]:
        """The tags of the resource the ARN names, changed by `change(tags) -> tags` if given."""
        match = _ARN.match(arn)
        if match is None:
            raise not_found(f"Invalid resource identifier specified {arn}")
        region, api_id, stage_name = match.groups()
        if region != ctx.region:
            raise api_not_found(ctx.account_id, api_id)
        api = self.state.api(ctx.account_id, ctx.region, api_id)
        if stage_name is not None and stage_name not in api.stages:
            raise stage_not_found(stage_name)
        if change is None:
            return dict(api.stages[stage_name]["Tags"] if stage_name else api.tags)
        async with self.state.edit(ctx.account_id, ctx.region, api_id) as draft:
            if stage_name:
                stage = draft.stages[stage_name]
                stage["Tags"] = checks.tags(change(stage.get("Tags") or {}))
                return dict(stage["Tags"])
            draft.tags = checks.tags(change(draft.tags))
            return dict(draft.tags)

    async def tag_resource(self, params: dict, ctx: RequestContext) -> dict:
        given = params.get("Tags") or {}
        await self._tagged(params["ResourceArn"], ctx, lambda tags: {**tags, **given})
        return {}

    async def untag_resource(self, params: dict, ctx: RequestContext) -> dict:
        gone = set(params.get("TagKeys") or [])
        await self._tagged(params["ResourceArn"], ctx, lambda tags: {k: v for k, v in tags.items() if k not in gone})
        return {}

    async def get_tags(self, params: dict, ctx: RequestContext) -> dict[str, Any]:
        return {"Tags": await self._tagged(params["ResourceArn"], ctx)}
