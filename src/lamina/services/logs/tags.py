"""Tags on log groups: TagResource, UntagResource, ListTagsForResource (by ARN) and the older
TagLogGroup, UntagLogGroup, ListTagsLogGroup (by name). Tags live in the group document."""

from __future__ import annotations

from ...errors import ServiceError
from ...observability.logsink import group_arn
from ...store.base import Put, Store
from ..context import RequestContext
from .resources import GROUP_KIND, GroupRef, group_from_arn, group_ref, invalid_parameter, load_group

MAX_TAGS = 50


def check_tag_count(tags: dict, group: GroupRef) -> None:
    if len(tags) > MAX_TAGS:
        raise invalid_parameter(
            f"A log group can have no more than {MAX_TAGS} tags; {group.name} would have {len(tags)}."
        )


class TagsApi:
    store: Store

    async def _change_tags(self, group: GroupRef, add: dict | None, remove: list | None, too_many=None) -> None:
        doc = dict(await load_group(self.store, group))
        tags = dict(doc.get("tags") or {})
        tags.update(add or {})
        for key in remove or ():
            tags.pop(key, None)
        if too_many is not None and len(tags) > MAX_TAGS:
            raise too_many()
        doc["tags"] = tags
        await self.store.write([Put(GROUP_KIND, group.key, doc)])

    async def _tags(self, group: GroupRef) -> dict:
        return dict((await load_group(self.store, group)).get("tags") or {})

    # by ARN

    async def tag_resource(self, params: dict, ctx: RequestContext) -> dict:
        arn = params["resourceArn"]
        group = group_from_arn(arn, ctx)

        def too_many() -> ServiceError:
            return ServiceError(
                "TooManyTagsException", f"A resource can have no more than {MAX_TAGS} tags.", 400, resourceName=arn
            )

        await self._change_tags(group, params["tags"], None, too_many)
        return {}

    async def untag_resource(self, params: dict, ctx: RequestContext) -> dict:
        await self._change_tags(group_from_arn(params["resourceArn"], ctx), None, params["tagKeys"])
        return {}

    async def list_tags_for_resource(self, params: dict, ctx: RequestContext) -> dict:
        return {"tags": await self._tags(group_from_arn(params["resourceArn"], ctx))}

    # by name (deprecated by AWS, still used by older tools)

    async def tag_log_group(self, params: dict, ctx: RequestContext) -> dict:
        group = group_ref(ctx, params["logGroupName"])

        def too_many() -> ServiceError:
            arn = group_arn(ctx.account_id, ctx.region, group.name)
            return invalid_parameter(f"A resource can have no more than {MAX_TAGS} tags: {arn}")

        await self._change_tags(group, params["tags"], None, too_many)
        return {}

    async def untag_log_group(self, params: dict, ctx: RequestContext) -> dict:
        await self._change_tags(group_ref(ctx, params["logGroupName"]), None, params["tags"])
        return {}

    async def list_tags_log_group(self, params: dict, ctx: RequestContext) -> dict:
        return {"tags": await self._tags(group_ref(ctx, params["logGroupName"]))}
