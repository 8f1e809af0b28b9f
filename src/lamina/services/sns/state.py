"""SNS's topics and subscriptions: what they are, where they are kept, how they are found.

    kind "sns_topic"         key <topic ARN>          settable attributes, tags, creation time
    kind "sns_subscription"  key <subscription ARN>   protocol, endpoint, attributes, confirmation
    kind "sns_outbox"        one delivery of a published message to one subscription, not
                             yet made: the engine's outbox keeps it (delivery.py)

Every change is written to the store before the caller hears about it; the in-memory maps
are rebuilt from the store at startup.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from ...engine.delivery.dedup import DedupWindow, load_windows
from ...errors import ServiceError
from ...patterns import Pattern, compile_sns_policy
from ...store.base import Delete, Put, Store
from . import data_protection

TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_-]{1,256}(?:\.fifo)?)$")
DEDUP_KIND = "sns_dedup"
OUTBOX_KIND = "sns_outbox"
_SUBSCRIPTION_ARN = re.compile(r"^(arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,261}):([0-9a-f-]{36})$")


def now_ms() -> int:
    return int(time.time() * 1000)


def invalid(what: str) -> ServiceError:
    return ServiceError("InvalidParameter", f"Invalid parameter: {what}", 400)


def topic_not_found() -> ServiceError:
    return ServiceError("NotFound", "Topic does not exist", 404)


def subscription_not_found() -> ServiceError:
    return ServiceError("NotFound", "Subscription does not exist", 404)


def topic_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:sns:{region}:{account}:{name}"


def parse_topic_arn(arn: str, what: str = "TopicArn") -> tuple[str, str, str]:
    """(region, account, name) of a well-formed topic ARN; InvalidParameter otherwise."""
    match = _TOPIC_ARN.match(arn or "")
    if match is None:
        raise invalid(what)
    return match.group(1), match.group(2), match.group(3)


@dataclass
class Topic:
    arn: str
    name: str
    attributes: dict[str, str]  # as set: DisplayName, Policy, DeliveryPolicy, FifoTopic, ...
    tags: dict[str, str]
    created_ms: int
    sequence: int = 0
    data_protection: str = ""  # the data protection policy as given ("" for none)
    # FIFO: MessageDeduplicationId -> the message first published with it, for 5 minutes
    # (kept in the store too, so that a restart keeps the window).
    dedup: DedupWindow = field(init=False)

    def __post_init__(self) -> None:
        self.dedup = DedupWindow(DEDUP_KIND, self.arn)

    @property
    def fifo(self) -> bool:
        return self.attributes.get("FifoTopic") == "true"

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]

    @property
    def protection(self) -> data_protection.Policy | None:
        """The data protection policy, parsed (it was checked when set)."""
        if not self.data_protection:
            return None
        cached = getattr(self, "_protection", None)
        if cached is None or cached.text != self.data_protection:
            cached = data_protection.parse(self.data_protection)
            self._protection = cached
        return cached

    def doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "name": self.name,
            "attributes": self.attributes,
            "tags": self.tags,
            "created": self.created_ms,
        }
        if self.data_protection:
            doc["data_protection"] = self.data_protection
        return doc


@dataclass
class Subscription:
    arn: str
    topic_arn: str
    protocol: str
    endpoint: str
    owner: str
    attributes: dict[str, str]  # as set: RawMessageDelivery, FilterPolicy, FilterPolicyScope, ...
    pending: bool
    token: str | None
    created_ms: int
    authenticated: bool = False  # ConfirmationWasAuthenticated
    principal: str = ""  # SubscriptionPrincipal: who subscribed (their ARN)
    _filter: tuple[str, str, Pattern | None] | None = field(default=None, repr=False)

    @property
    def raw(self) -> bool:
        return self.attributes.get("RawMessageDelivery") == "true"

    @property
    def filter_scope(self) -> str:
        return self.attributes.get("FilterPolicyScope") or "MessageAttributes"

    @property
    def filter(self) -> Pattern | None:
        """The compiled FilterPolicy (validated when it was set), cached."""
        policy, scope = self.attributes.get("FilterPolicy") or "", self.filter_scope
        if self._filter is None or self._filter[:2] != (policy, scope):
            self._filter = (policy, scope, compile_sns_policy(policy or None, scope))
        return self._filter[2]

    def doc(self) -> dict[str, Any]:
        return {
            "topic": self.topic_arn,
            "protocol": self.protocol,
            "endpoint": self.endpoint,
            "owner": self.owner,
            "attributes": self.attributes,
            "pending": self.pending,
            "token": self.token,
            "created": self.created_ms,
            "authenticated": self.authenticated,
            "principal": self.principal,
        }

    @classmethod
    def from_doc(cls, arn: str, doc: dict[str, Any]) -> Subscription:
        return cls(
            arn,
            doc["topic"],
            doc["protocol"],
            doc["endpoint"],
            doc["owner"],
            doc.get("attributes") or {},
            doc.get("pending", False),
            doc.get("token"),
            doc.get("created", 0),
            doc.get("authenticated", False),
            doc.get("principal", ""),
        )


class SnsState:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.topics: dict[str, Topic] = {}
        self.subscriptions: dict[str, Subscription] = {}
        self.by_topic: dict[str, dict[str, Subscription]] = {}  # topic ARN -> its subscriptions, in order

    async def load(self) -> None:
        for arn, doc in await self.store.scan("sns_topic"):
            self.topics[arn] = Topic(
                arn,
                doc["name"],
                doc.get("attributes") or {},
                doc.get("tags") or {},
                doc.get("created", 0),
                data_protection=doc.get("data_protection", ""),
            )
            self.by_topic[arn] = {}
        await load_windows(
            self.store, DEDUP_KIND, {arn: topic.dedup for arn, topic in self.topics.items()}, int(time.time() * 1000)
        )
        subscriptions = [Subscription.from_doc(arn, doc) for arn, doc in await self.store.scan("sns_subscription")]
        for subscription in sorted(subscriptions, key=lambda s: s.created_ms):
            self._index(subscription)

    def reset(self) -> None:
        """Lamina's reset: no topic, no subscription."""
        self.topics.clear()
        self.subscriptions.clear()
        self.by_topic.clear()

    def _index(self, subscription: Subscription) -> None:
        self.subscriptions[subscription.arn] = subscription
        self.by_topic.setdefault(subscription.topic_arn, {})[subscription.arn] = subscription

    # --- finding ----------------------------------------------------------------------------

    def topic(self, arn: str, what: str = "TopicArn", region: str | None = None) -> Topic:
        """The topic an ARN names; with `region` (a request's), only one of that region: a
        topic lives in its region, and another region's endpoint does not know it."""
        parse_topic_arn(arn, what)
        topic = self.topics.get(arn)
        if topic is None or (region is not None and arn.split(":", 4)[3] != region):
            raise topic_not_found()
        return topic

    def subscription(self, arn: str, region: str | None = None) -> Subscription:
        if not _SUBSCRIPTION_ARN.match(arn or ""):
            raise invalid("SubscriptionId")
        subscription = self.subscriptions.get(arn)
        if subscription is None or (region is not None and arn.split(":", 4)[3] != region):
            raise subscription_not_found()
        return subscription

    @staticmethod
    def is_subscription_arn(arn: str) -> bool:
        return bool(_SUBSCRIPTION_ARN.match(arn or ""))

    def subscriptions_of(self, topic: Topic) -> list[Subscription]:
        return list(self.by_topic.get(topic.arn, {}).values())

    # --- persisting ---------------------------------------------------------------------------

    async def save_topic(self, topic: Topic) -> None:
        await self.store.write([Put("sns_topic", topic.arn, topic.doc())])
        self.topics[topic.arn] = topic
        self.by_topic.setdefault(topic.arn, {})

    async def delete_topic(self, topic: Topic) -> list[Subscription]:
        gone = self.subscriptions_of(topic)
        await self.store.write(
            [Delete("sns_topic", topic.arn), topic.dedup.forget_all()]
            + [Delete("sns_subscription", s.arn) for s in gone]
        )
        self.topics.pop(topic.arn, None)
        self.by_topic.pop(topic.arn, None)
        for subscription in gone:
            self.subscriptions.pop(subscription.arn, None)
        return gone

    async def save_subscription(self, subscription: Subscription) -> None:
        await self.store.write([Put("sns_subscription", subscription.arn, subscription.doc())])
        self._index(subscription)

    async def delete_subscription(self, subscription: Subscription) -> None:
        await self.store.write([Delete("sns_subscription", subscription.arn)])
        self.subscriptions.pop(subscription.arn, None)
        self.by_topic.get(subscription.topic_arn, {}).pop(subscription.arn, None)
