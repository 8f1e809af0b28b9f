"""Schedule group operations: CreateScheduleGroup, GetScheduleGroup, DeleteScheduleGroup
(which deletes the group's schedules with it), ListScheduleGroups, and the tags of groups
(TagResource, UntagResource, ListTagsForResource)."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

from ...errors import ServiceError
from ..context import RequestContext
from .firing import Firing
from .paging import page
from .state import DEFAULT_GROUP, Group, SchedulerState, conflict, now_ms, validation
from .tokens import RecentTokens

MAX_GROUPS = 500  # AWS's default quota per account and region
MAX_TAGS = 200


def _tags(given: list[dict] | None) -> dict[str, str]:
    tags: dict[str, str] = {}
    for tag in given or []:
        if tag["Key"].lower().startswith("aws:"):
            raise validation("Tag keys starting with aws: are reserved for AWS use.")
        tags[tag["Key"]] = tag["Value"]
    return tags


def _described(group: Group) -> dict[str, Any]:
    return {
        "Arn": group.arn,
        "Name": group.name,
        "State": "ACTIVE",
        "CreationDate": group.created_ms / 1000,
        "LastModificationDate": group.modified_ms / 1000,
    }


class GroupsApi:
    state: SchedulerState
    firing: Firing
    tokens: RecentTokens

    async def create_schedule_group(self, params: dict, ctx: RequestContext) -> dict:
        await self.state.ensure_default(ctx.account_id, ctx.region)
        name = params["Name"]
        key = f"{ctx.account_id}:{ctx.region}:{name}"
        tags = _tags(params.get("Tags"))
        if key in self.state.groups:
            raise conflict(f"Schedule group {name} already exists.")
        mine = [g for g in self.state.groups.values() if (g.account, g.region) == (ctx.account_id, ctx.region)]
        if len(mine) >= MAX_GROUPS:
            raise ServiceError(
                "ServiceQuotaExceededException", f"The quota of {MAX_GROUPS} schedule groups has been reached.", 402
            )
        ms = now_ms()
        group = Group(ctx.account_id, ctx.region, name, tags, ms, ms)
        await self.state.save_group(group)
        return {"ScheduleGroupArn": group.arn}

    async def get_schedule_group(self, params: dict, ctx: RequestContext) -> dict:
        return _described(await self.state.group(ctx.account_id, ctx.region, params["Name"]))

    async def delete_schedule_group(self, params: dict, ctx: RequestContext) -> dict:
        name, token = params["Name"], params.get("ClientToken")
        if name == DEFAULT_GROUP:
            raise validation("The default schedule group cannot be deleted.")
        if token and self.tokens.seen("DeleteScheduleGroup", ctx.account_id, ctx.region, name, token):
            return {}
        group = await self.state.group(ctx.account_id, ctx.region, name)
        async with AsyncExitStack() as held:
            # Hold every schedule of the group, so that no occurrence firing meanwhile writes
            # its schedule back after the group is gone.
            for record in self.state.schedules_of(group):
                await held.enter_async_context(self.firing.lock(record.key))
                self.firing.disarm(record)
            gone = await self.state.delete_group(group)
        for record in gone:
            self.firing.locks.pop(record.key, None)
        if token:
            self.tokens.remember("DeleteScheduleGroup", ctx.account_id, ctx.region, name, token)
        return {}

    async def list_schedule_groups(self, params: dict, ctx: RequestContext) -> dict:
        await self.state.ensure_default(ctx.account_id, ctx.region)
        prefix = f"{ctx.account_id}:{ctx.region}:{params.get('NamePrefix') or ''}"
        keys = sorted(key for key in self.state.groups if key.startswith(prefix))
        chosen, token = page(keys, params.get("NextToken"), params.get("MaxResults"))
        result: dict[str, Any] = {"ScheduleGroups": [_described(self.state.groups[key]) for key in chosen]}
        if token:
            result["NextToken"] = token
        return result

    # --- tags ---------------------------------------------------------------------------------------

    async def tag_resource(self, params: dict, ctx: RequestContext) -> dict:
        group = self.state.group_by_arn(params["ResourceArn"])
        tags = {**group.tags, **_tags(params.get("Tags"))}
        if len(tags) > MAX_TAGS:
            raise validation(f"A schedule group can have at most {MAX_TAGS} tags.")
        group.tags = tags
        await self.state.save_group(group)
        return {}

    async def untag_resource(self, params: dict, ctx: RequestContext) -> dict:
        group = self.state.group_by_arn(params["ResourceArn"])
        gone = set(params.get("TagKeys") or [])
        group.tags = {k: v for k, v in group.tags.items() if k not in gone}
        await self.state.save_group(group)
        return {}

    async def list_tags_for_resource(self, params: dict, ctx: RequestContext) -> dict:
        group = self.state.group_by_arn(params["ResourceArn"])
        return {"Tags": [{"Key": k, "Value": v} for k, v in group.tags.items()]}
