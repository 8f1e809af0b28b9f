"""Put/GetBucketNotificationConfiguration: which of a bucket's object events go to which
function, queue or topic, and whether they all go to EventBridge; checked as S3 checks them.

A configuration is kept as S3 answers it (FilterRules' names as "Prefix"/"Suffix", an Id made
for a configuration given none) in `NotificationBook`, its owner: memory, and one document
per bucket in the store (kind "s3_notification", key the bucket name, with the bucket's
creation time: a bucket deleted and made again under the same name starts with none).

The legacy Get/PutBucketNotification share the wire (PUT/GET /{Bucket}?notification) and
their XML is a subset of the new one's: the router hands both to these operations.

What S3 refuses, word for word (InvalidArgument, 400):
    an event name the model does not list     The event is not supported for notifications
    a destination ARN of another service      The ARN is not well formed
    a filter rule other than prefix/suffix    filter rule name must be either prefix or suffix
    two prefix (suffix) rules                 Cannot specify more than one prefix rule in a filter.
    a value over 1024 bytes                   Size of filter rule value cannot exceed 1024 bytes in UTF-8 representation
    two configurations sharing an event type  Configurations overlap. Configurations on the same
    whose filters could match one key         bucket cannot share a common event type.
    destinations missing, or whose policy     Unable to validate the following destination
    does not let s3.amazonaws.com send         configurations (ArgumentName1/ArgumentValue1... per
    for this bucket (SkipDestinationValidation  destination: what is wrong with it)
    skips it)
Then S3 sends s3:TestEvent to each queue and topic named (notification_delivery.py).
"""

from __future__ import annotations

import base64
import uuid
from typing import TYPE_CHECKING, Any

from ...store.base import Delete, Put, Store
from ..context import RequestContext
from .errors import invalid_argument
from .state import Bucket

if TYPE_CHECKING:
    from .notification_delivery import Notifications

KIND = "s3_notification"
LISTS = {  # the configuration list, its ARN member, the ARN's service
    "TopicConfigurations": ("TopicArn", "sns"),
    "QueueConfigurations": ("QueueArn", "sqs"),
    "LambdaFunctionConfigurations": ("LambdaFunctionArn", "lambda"),
}
EVENTS = frozenset(
    {"s3:ReducedRedundancyLostObject", "s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Post",
     "s3:ObjectCreated:Copy", "s3:ObjectCreated:CompleteMultipartUpload", "s3:ObjectRemoved:*",
     "s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated", "s3:ObjectRestore:*",
     "s3:ObjectRestore:Post", "s3:ObjectRestore:Completed", "s3:ObjectRestore:Delete", "s3:Replication:*",
     "s3:Replication:OperationFailedReplication", "s3:Replication:OperationNotTracked",
     "s3:Replication:OperationMissedThreshold", "s3:Replication:OperationReplicatedAfterThreshold",
     "s3:LifecycleTransition", "s3:IntelligentTiering", "s3:ObjectAcl:Put", "s3:LifecycleExpiration:*",
     "s3:LifecycleExpiration:Delete", "s3:LifecycleExpiration:DeleteMarkerCreated", "s3:ObjectTagging:*",
     "s3:ObjectTagging:Put", "s3:ObjectTagging:Delete"}
)  # fmt: skip
OVERLAP = "Configurations overlap. Configurations on the same bucket cannot share a common event type."
UNABLE = "Unable to validate the following destination configurations"


def new_id() -> str:
    """What S3 names a configuration given no Id: a UUID's text, base64-encoded."""
    return base64.b64encode(str(uuid.uuid4()).encode()).decode()


def _rules(item: dict) -> dict[str, str]:
    """{"prefix": value, "suffix": value} of a configuration's filter."""
    rules: dict[str, str] = {}
    for rule in ((item.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []:
        name, value = (rule.get("Name") or "").lower(), rule.get("Value") or ""
        if name not in ("prefix", "suffix"):
            raise invalid_argument("filter rule name must be either prefix or suffix", "FilterRule", rule.get("Name"))
        if name in rules:
            raise invalid_argument(f"Cannot specify more than one {name} rule in a filter.", "FilterRule", name)
        if len(value.encode()) > 1024:
            raise invalid_argument(
                "Size of filter rule value cannot exceed 1024 bytes in UTF-8 representation", "FilterRule", name
            )
        rules[name] = value
    return rules


def normalized(config: dict) -> dict[str, Any]:
    """The configuration as S3 keeps and answers it; raises what S3 refuses (but for the
    destinations, which `Notifications.validate` checks)."""
    out: dict[str, Any] = {}
    for name, (arn_member, service) in LISTS.items():
        items = []
        for given in config.get(name) or []:
            arn = given.get(arn_member) or ""
            parts = arn.split(":")
            if len(parts) < 6 or parts[0] != "arn" or parts[2] != service:
                raise invalid_argument("The ARN is not well formed", arn_member, arn)
            events = list(dict.fromkeys(given.get("Events") or []))
            for event in events:
                if event not in EVENTS:
                    raise invalid_argument("The event is not supported for notifications", "Event", event)
            item: dict[str, Any] = {"Id": given.get("Id") or new_id(), arn_member: arn, "Events": events}
            rules = _rules(given)
            if rules:
                item["Filter"] = {
                    "Key": {"FilterRules": [{"Name": n.capitalize(), "Value": v} for n, v in rules.items()]}
                }
            items.append(item)
        if items:
            out[name] = items
    if config.get("EventBridgeConfiguration") is not None:
        out["EventBridgeConfiguration"] = {}
    _check_overlaps([item for name in LISTS for item in out.get(name, [])])
    return out


def _events_overlap(a: str, b: str) -> bool:
    if a == b:
        return True
    for wild, other in ((a, b), (b, a)):
        if wild.endswith(":*") and other.startswith(wild[:-1]):
            return True
    return False


def _filters_overlap(a: dict[str, str], b: dict[str, str]) -> bool:
    """Whether some key could pass both filters."""
    pa, pb = a.get("prefix", ""), b.get("prefix", "")
    sa, sb = a.get("suffix", ""), b.get("suffix", "")
    return (pa.startswith(pb) or pb.startswith(pa)) and (sa.endswith(sb) or sb.endswith(sa))


def _check_overlaps(items: list[dict]) -> None:
    for i, first in enumerate(items):
        for second in items[i + 1 :]:
            shared = any(_events_overlap(a, b) for a in first["Events"] for b in second["Events"])
            if shared and _filters_overlap(_rules(first), _rules(second)):
                raise invalid_argument(OVERLAP)


def matches(item: dict, event_name: str, encoded_key: str) -> bool:
    """Whether a configuration wants an event (`event_name` without "s3:") of a key, its
    filter matched against the key as records carry it (URL-encoded), as S3 matches it."""
    wanted = "s3:" + event_name
    if not any(event == wanted or (event.endswith(":*") and wanted.startswith(event[:-1])) for event in item["Events"]):
        return False
    rules = _rules(item)
    return encoded_key.startswith(rules.get("prefix", "")) and encoded_key.endswith(rules.get("suffix", ""))


class NotificationBook:
    """The owner of the buckets' notification configurations."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._docs: dict[str, dict[str, Any]] = {}

    async def load(self) -> None:
        self._docs = dict(await self.store.scan(KIND))

    def reset(self) -> None:
        self._docs.clear()

    def of(self, bucket: Bucket) -> dict[str, Any]:
        doc = self._docs.get(bucket.name)
        return doc["config"] if doc is not None and doc.get("created") == bucket.created else {}

    async def put(self, bucket: Bucket, config: dict[str, Any]) -> None:
        if config:
            doc = {"created": bucket.created, "config": config}
            await self.store.write([Put(KIND, bucket.name, doc)])
            self._docs[bucket.name] = doc
        else:
            await self.store.write([Delete(KIND, bucket.name)])
            self._docs.pop(bucket.name, None)


def _legacy(config: dict) -> dict:
    """The deprecated NotificationConfiguration (one TopicConfiguration, QueueConfiguration,
    CloudFunctionConfiguration, each with Event or Events) in the new shape."""
    out: dict[str, list] = {}
    for old, new, arn_old, arn_new in (
        ("TopicConfiguration", "TopicConfigurations", "Topic", "TopicArn"),
        ("QueueConfiguration", "QueueConfigurations", "Queue", "QueueArn"),
        ("CloudFunctionConfiguration", "LambdaFunctionConfigurations", "CloudFunction", "LambdaFunctionArn"),
    ):
        given = config.get(old)
        if given and given.get(arn_old):
            events = list(given.get("Events") or []) + ([given["Event"]] if given.get("Event") else [])
            out[new] = [{"Id": given.get("Id"), arn_new: given[arn_old], "Events": events}]
    return out


class NotificationsApi:
    state: Any
    notifications: Notifications

    async def put_bucket_notification_configuration(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        config = normalized(params.get("NotificationConfiguration") or {})
        await self.notifications.validate(bucket, config, ctx, skip=bool(params.get("SkipDestinationValidation")))
        await self.notifications.book.put(bucket, config)
        return {}

    async def get_bucket_notification_configuration(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        return dict(self.notifications.book.of(bucket))

    async def put_bucket_notification(self, params: dict, ctx: RequestContext) -> dict:
        legacy = dict(params, NotificationConfiguration=_legacy(params.get("NotificationConfiguration") or {}))
        return await self.put_bucket_notification_configuration(legacy, ctx)

    async def get_bucket_notification(self, params: dict, ctx: RequestContext) -> dict:
        config = await self.get_bucket_notification_configuration(params, ctx)
        out: dict[str, Any] = {}
        for new, old, arn_new, arn_old in (
            ("TopicConfigurations", "TopicConfiguration", "TopicArn", "Topic"),
            ("QueueConfigurations", "QueueConfiguration", "QueueArn", "Queue"),
            ("LambdaFunctionConfigurations", "CloudFunctionConfiguration", "LambdaFunctionArn", "CloudFunction"),
        ):
            if config.get(new):
                first = config[new][0]
                out[old] = {"Id": first["Id"], arn_old: first[arn_new], "Events": first["Events"]}
        return out
