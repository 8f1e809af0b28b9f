"""Topic operations: CreateTopic, DeleteTopic, ListTopics, Get/SetTopicAttributes,
Add/RemovePermission, Tag/Untag/ListTagsForResource."""

from __future__ import annotations

import base64
import json

from ...errors import ServiceError
from ..context import RequestContext
from . import attributes as attrs
from . import data_protection
from .state import TOPIC_NAME, SnsState, Topic, invalid, now_ms, parse_topic_arn, topic_arn

PAGE_SIZE = 100
MAX_TAGS = 50


def page(keys: list[str], token: str | None) -> tuple[list[str], str | None]:
    """One page of sorted keys after the token (the last key of the previous page)."""
    start = 0
    if token:
        try:
            after = base64.urlsafe_b64decode(token.encode()).decode()
        except Exception:
            raise invalid("NextToken") from None
        start = next((i for i, key in enumerate(keys) if key > after), len(keys))
    chosen = keys[start : start + PAGE_SIZE]
    more = start + PAGE_SIZE < len(keys)
    return chosen, base64.urlsafe_b64encode(chosen[-1].encode()).decode() if more else None


def _tags(given: list[dict] | None) -> dict[str, str]:
    tags: dict[str, str] = {}
    for tag in given or []:
        key, value = tag.get("Key", ""), tag.get("Value", "")
        if not 1 <= len(key) <= 128 or len(value) > 256:
            raise ServiceError(
                "InvalidParameter",
                "Invalid parameter: Tags Reason: tag keys must be 1 to 128 characters and values at most 256",
                400,
            )
        tags[key] = value
    return tags


def _tag_limit() -> ServiceError:
    return ServiceError("TagLimitExceeded", "Could not complete request: tag quota of per resource exceeded", 400)


class TopicsApi:
    state: SnsState

    async def create_topic(self, params: dict, ctx: RequestContext) -> dict:
        name = params["Name"]
        fifo = name.endswith(".fifo")
        given = dict(params.get("Attributes") or {})
        wants_fifo = given.get("FifoTopic", "false").lower() == "true"
        if not TOPIC_NAME.match(name[:-5] if fifo else name) or len(name) > 256 or (fifo and not wants_fifo):
            raise invalid("Topic Name")
        checked = attrs.check_topic_attributes(given, fifo, creating=True)
        if fifo:
            checked["FifoTopic"] = "true"
        tags = _tags(params.get("Tags"))
        if len(tags) > MAX_TAGS:
            raise _tag_limit()
        protection = params.get("DataProtectionPolicy") or ""
        if protection:
            data_protection.parse(protection)
        arn = topic_arn(ctx.region, ctx.account_id, name)
        existing = self.state.topics.get(arn)
        if existing is not None:
            defaults = {"ContentBasedDeduplication": "false", "DisplayName": ""}
            if any(existing.attributes.get(k, defaults.get(k)) != v for k, v in checked.items()):
                raise invalid("Attributes Reason: Topic already exists with different attributes")
            if tags and any(existing.tags.get(k) != v for k, v in tags.items()):
                raise invalid("Tags Reason: Topic already exists with different tags")
            return {"TopicArn": arn}
        await self.state.save_topic(Topic(arn, name, checked, tags, now_ms(), data_protection=protection))
        return {"TopicArn": arn}

    async def put_data_protection_policy(self, params: dict, ctx: RequestContext) -> dict:
        topic = self.state.topic(params["ResourceArn"], "ResourceArn", ctx.region)
        text = params.get("DataProtectionPolicy") or ""
        if text:
            data_protection.parse(text)
        topic.data_protection = text
        await self.state.save_topic(topic)
        return {}

    async def get_data_protection_policy(self, params: dict, ctx: RequestContext) -> dict:
        topic = self.state.topic(params["ResourceArn"], "ResourceArn", ctx.region)
        return {"DataProtectionPolicy": topic.data_protection} if topic.data_protection else {}

    async def delete_topic(self, params: dict, ctx: RequestContext) -> dict:
        parse_topic_arn(params["TopicArn"])
        topic = self.state.topics.get(params["TopicArn"])
        if topic is not None:  # deleting a topic that does not exist is not an error
            await self.state.delete_topic(topic)
        return {}

    async def list_topics(self, params: dict, ctx: RequestContext) -> dict:
        prefix = f"arn:aws:sns:{ctx.region}:{ctx.account_id}:"
        keys = sorted(arn for arn in self.state.topics if arn.startswith(prefix))
        chosen, token = page(keys, params.get("NextToken"))
        result: dict = {"Topics": [{"TopicArn": arn} for arn in chosen]}
        if token:
            result["NextToken"] = token
        return result

    async def get_topic_attributes(self, params: dict, ctx: RequestContext) -> dict:
        topic = self.state.topic(params["TopicArn"], region=ctx.region)
        return {"Attributes": attrs.topic_attributes(topic, self.state.subscriptions_of(topic))}

    async def set_topic_attributes(self, params: dict, ctx: RequestContext) -> dict:
        topic = self.state.topic(params["TopicArn"], region=ctx.region)
        name = params["AttributeName"]
        changes = attrs.check_topic_attributes({name: params.get("AttributeValue") or ""}, topic.fifo, creating=False)
        attributes = dict(topic.attributes)
        attrs.apply(attributes, changes)
        topic.attributes = attributes
        await self.state.save_topic(topic)
        return {}

    # --- the access policy: what authorization and the delivery gate read for the topic ----------

    async def resource_policy(self, arn: str) -> str | None:
        """The topic's policy (its default one if none was set), or None if there is no such
        topic."""
        topic = self.state.topics.get(arn)
        if topic is None:
            return None
        return topic.attributes.get("Policy") or attrs.default_policy(topic)

    async def resource_tags(self, arn: str) -> dict[str, str]:
        """The topic's tags (aws:ResourceTag/...)."""
        topic = self.state.topics.get(arn)
        return dict(topic.tags) if topic is not None else {}

    async def add_permission(self, params: dict, ctx: RequestContext) -> dict:
        topic = self.state.topic(params["TopicArn"], region=ctx.region)
        policy = json.loads(topic.attributes.get("Policy") or attrs.default_policy(topic))
        statements = policy.setdefault("Statement", [])
        label = params["Label"]
        if any(statement.get("Sid") == label for statement in statements):
            raise invalid("Statement already exists")
        statements.append(
            {
                "Sid": label,
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:aws:iam::{account}:root" for account in params["AWSAccountId"]]},
                "Action": [f"SNS:{action}" for action in params["ActionName"]],
                "Resource": topic.arn,
            }
        )
        topic.attributes = dict(topic.attributes, Policy=json.dumps(policy, separators=(",", ":")))
        await self.state.save_topic(topic)
        return {}

    async def remove_permission(self, params: dict, ctx: RequestContext) -> dict:
        topic = self.state.topic(params["TopicArn"], region=ctx.region)
        policy = json.loads(topic.attributes.get("Policy") or attrs.default_policy(topic))
        kept = [s for s in policy.get("Statement", []) if s.get("Sid") != params["Label"]]
        if len(kept) != len(policy.get("Statement", [])):
            policy["Statement"] = kept
            topic.attributes = dict(topic.attributes, Policy=json.dumps(policy, separators=(",", ":")))
            await self.state.save_topic(topic)
        return {}

    # --- tags -----------------------------------------------------------------------------------

    def _tagged(self, arn: str) -> Topic:
        topic = self.state.topics.get(arn)
        if topic is None:
            raise ServiceError("ResourceNotFound", "Resource does not exist", 404)
        return topic

    async def tag_resource(self, params: dict, ctx: RequestContext) -> dict:
        topic = self._tagged(params["ResourceArn"])
        tags = dict(topic.tags, **_tags(params.get("Tags")))
        if len(tags) > MAX_TAGS:
            raise _tag_limit()
        topic.tags = tags
        await self.state.save_topic(topic)
        return {}

    async def untag_resource(self, params: dict, ctx: RequestContext) -> dict:
        topic = self._tagged(params["ResourceArn"])
        topic.tags = {k: v for k, v in topic.tags.items() if k not in set(params.get("TagKeys") or [])}
        await self.state.save_topic(topic)
        return {}

    async def list_tags_for_resource(self, params: dict, ctx: RequestContext) -> dict:
        topic = self._tagged(params["ResourceArn"])
        return {"Tags": [{"Key": k, "Value": v} for k, v in topic.tags.items()]}
