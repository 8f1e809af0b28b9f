"""DescribeScalingActivities, and the tags of scalable targets (the only taggable resource)."""

from __future__ import annotations

from ...errors import ServiceError
from ..context import RequestContext
from .checks import check_namespace
from .paging import page
from .state import AutoScalingState, ref_of

_HIDDEN = ("_key",)


class ActivitiesApi:
    state: AutoScalingState

    async def describe_scaling_activities(self, params: dict, ctx: RequestContext) -> dict:
        namespace = params["ServiceNamespace"]
        check_namespace(namespace)
        prefix = f"{ctx.account_id}:{ctx.region}:{namespace}:"
        if params.get("ScalableDimension"):
            prefix += params["ScalableDimension"] + ":"
            if params.get("ResourceId"):
                prefix += params["ResourceId"] + "|"
        found = [
            {k: v for k, v in activity.items() if k not in _HIDDEN}
            for activity in await self.state.activities(prefix)
            if not params.get("ResourceId") or activity["ResourceId"] == params["ResourceId"]
        ]
        if not params.get("IncludeNotScaledActivities"):
            found = [a for a in found if not a.get("NotScaledReasons")]
        found.sort(key=lambda a: a["StartTime"], reverse=True)  # newest first, as AWS lists them
        return page(found, params, "ScalingActivities")


def _target(state: AutoScalingState, arn: str) -> tuple[str, dict]:
    found = state.target_by_arn(arn)
    if found is None:
        raise ServiceError("ResourceNotFoundException", f"No scalable target found for ARN {arn}", 400)
    return found


class TagsApi:
    state: AutoScalingState

    async def tag_resource(self, params: dict, ctx: RequestContext) -> dict:
        key, record = _target(self.state, params["ResourceARN"])
        tags = dict(record.get("Tags") or {}, **params["Tags"])
        if len(tags) > 50:
            raise ServiceError("TooManyTagsException", "The resource has too many tags (at most 50).", 400)
        await self.state.put_target(ref_of(key), dict(record, Tags=tags))
        return {}

    async def untag_resource(self, params: dict, ctx: RequestContext) -> dict:
        key, record = _target(self.state, params["ResourceARN"])
        tags = {k: v for k, v in (record.get("Tags") or {}).items() if k not in set(params["TagKeys"])}
        await self.state.put_target(ref_of(key), dict(record, Tags=tags))
        return {}

    async def list_tags_for_resource(self, params: dict, ctx: RequestContext) -> dict:
        _, record = _target(self.state, params["ResourceARN"])
        return {"Tags": dict(record.get("Tags") or {})}
