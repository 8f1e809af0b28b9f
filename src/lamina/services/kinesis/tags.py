"""Tags: AddTagsToStream, RemoveTagsFromStream, ListTagsForStream (by stream name or ARN)
and TagResource, UntagResource, ListTagsForResource (by resource ARN: a stream's or an
enhanced fan-out consumer's)."""

from __future__ import annotations

from ..context import RequestContext
from .consumer import Consumer, is_consumer_arn
from .errors import invalid_argument, stream_not_found
from .state import KinesisState, parse_arn
from .stream import Stream

MAX_TAGS = 50


def _tag_list(tags: dict[str, str], keys: list[str]) -> list[dict]:
    return [{"Key": key, "Value": tags[key]} for key in keys]


def check_tag_keys(tags: dict[str, str]) -> None:
    if any(key.startswith("aws:") for key in tags):
        raise invalid_argument("Tag keys starting with 'aws:' are reserved for system use.")


class TagsApi:
    state: KinesisState

    def _by_resource(self, arn: str, ctx: RequestContext) -> tuple[Stream, Consumer | None]:
        if is_consumer_arn(arn):
            return self.state.find_consumer(arn, ctx)
        stream = self.state.by_arn(arn)
        if stream is None:
            parsed = parse_arn(arn)
            name, account = (parsed[2], parsed[1]) if parsed else (arn.rsplit("/", 1)[-1], arn.split(":")[4])
            raise stream_not_found(name, account)
        return stream, None

    async def _add(self, stream: Stream, tags: dict[str, str], consumer: Consumer | None = None) -> None:
        check_tag_keys(tags)
        holder = consumer or stream
        merged = {**holder.tags, **tags}
        if len(merged) > MAX_TAGS:
            what = f"consumer {consumer.name}" if consumer else f"stream {stream.name} under account {stream.account}"
            kind = "consumer" if consumer else "stream"
            raise invalid_argument(
                f"Failed to add tags to {what} because a given {kind} cannot have more than {MAX_TAGS} tags "
                "associated with it."
            )
        holder.tags = merged
        await self.state.save(stream)

    async def _remove(self, stream: Stream, keys: list[str], consumer: Consumer | None = None) -> None:
        holder = consumer or stream
        holder.tags = {k: v for k, v in holder.tags.items() if k not in set(keys)}
        await self.state.save(stream)

    async def add_tags_to_stream(self, params: dict, ctx: RequestContext) -> dict:
        await self._add(self.state.find(params, ctx), params["Tags"])
        return {}

    async def remove_tags_from_stream(self, params: dict, ctx: RequestContext) -> dict:
        await self._remove(self.state.find(params, ctx), params["TagKeys"])
        return {}

    async def list_tags_for_stream(self, params: dict, ctx: RequestContext) -> dict:
        stream = self.state.find(params, ctx)
        start = params.get("ExclusiveStartTagKey")
        keys = sorted(k for k in stream.tags if start is None or k > start)
        limit = params.get("Limit") or MAX_TAGS
        return {"Tags": _tag_list(stream.tags, keys[:limit]), "HasMoreTags": len(keys) > limit}

    async def tag_resource(self, params: dict, ctx: RequestContext) -> dict:
        stream, consumer = self._by_resource(params["ResourceARN"], ctx)
        await self._add(stream, params["Tags"], consumer)
        return {}

    async def untag_resource(self, params: dict, ctx: RequestContext) -> dict:
        stream, consumer = self._by_resource(params["ResourceARN"], ctx)
        await self._remove(stream, params["TagKeys"], consumer)
        return {}

    async def list_tags_for_resource(self, params: dict, ctx: RequestContext) -> dict:
        stream, consumer = self._by_resource(params["ResourceARN"], ctx)
        tags = (consumer or stream).tags
        return {"Tags": _tag_list(tags, sorted(tags))}
