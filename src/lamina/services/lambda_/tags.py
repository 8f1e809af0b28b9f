"""TagResource, UntagResource, ListTags (on functions, by ARN)."""

from __future__ import annotations

from ...errors import invalid_parameter
from ...store.base import Put
from ..context import RequestContext
from .arns import FunctionRef, parse_resource_arn
from .state import LambdaState

MAX_TAGS = 50


async def _tagged(state: LambdaState, params: dict) -> tuple[FunctionRef, dict]:
    """The function the request's Resource ARN names, and a copy of its document to change."""
    ref = parse_resource_arn(params["Resource"])
    return ref, dict(await state.function(ref))


class TagsApi:
    state: LambdaState

    async def tag_resource(self, params: dict, ctx: RequestContext) -> dict:
        ref, function = await _tagged(self.state, params)
        tags = dict(function.get("tags") or {}, **(params.get("Tags") or {}))
        if len(tags) > MAX_TAGS:
            raise invalid_parameter(f"Number of tags exceeds resource tag limit of {MAX_TAGS}.")
        function["tags"] = tags
        await self.state.write([Put("function", ref.key, function)])
        return {}

    async def untag_resource(self, params: dict, ctx: RequestContext) -> dict:
        ref, function = await _tagged(self.state, params)
        function["tags"] = {k: v for k, v in (function.get("tags") or {}).items() if k not in params["TagKeys"]}
        await self.state.write([Put("function", ref.key, function)])
        return {}

    async def list_tags(self, params: dict, ctx: RequestContext) -> dict:
        _, function = await _tagged(self.state, params)
        return {"Tags": function.get("tags") or {}}
