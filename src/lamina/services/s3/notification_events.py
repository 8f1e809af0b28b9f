"""What a bucket's notifications carry, built from an ObjectEvent (events.py), as AWS writes it:

record()        one entry of the {"Records": [...]} message that functions, queues and
                topics receive (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html):
                eventVersion 2.1 (2.3 for tagging, ACL, lifecycle and restore-delete events),
                the key URL-encoded as S3 writes it (spaces as "+", "/" kept), size and eTag
                for all but removals
eventbridge()   the detail-type and detail of the event sent to the default bus when the
                bucket's EventBridgeConfiguration is on (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html)
test_event()    s3:TestEvent, which S3 sends to a queue or topic when a configuration names it
encoded_key()   the key as records carry it, which filter rules are matched against
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any
from urllib.parse import quote_plus

from .events import ObjectEvent

SUBJECT = "Amazon S3 Notification"  # an SNS message's Subject
_LATER_VERSION = ("ObjectTagging:", "ObjectAcl:", "LifecycleExpiration:", "LifecycleTransition",
                  "IntelligentTiering", "ObjectRestore:Delete")  # fmt: skip

# EventBridge's detail-type per event name (EventBridge.html), and its `reason` for creations and deletions.
DETAIL_TYPES = {
    "ObjectCreated": "Object Created",
    "ObjectRemoved": "Object Deleted",
    "LifecycleExpiration": "Object Deleted",
    "ObjectTagging:Put": "Object Tags Added",
    "ObjectTagging:Delete": "Object Tags Deleted",
    "ObjectAcl:Put": "Object ACL Updated",
    "ObjectRestore:Post": "Object Restore Initiated",
    "ObjectRestore:Completed": "Object Restore Completed",
    "ObjectRestore:Delete": "Object Restore Expired",
    "LifecycleTransition": "Object Storage Class Changed",
    "IntelligentTiering": "Object Access Tier Changed",
}
_CREATED_REASONS = {
    "Put": "PutObject",
    "Post": "POST Object",
    "Copy": "CopyObject",
    "CompleteMultipartUpload": "CompleteMultipartUpload",
}


def iso_millis(epoch_s: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_s)) + f".{int(epoch_s * 1000) % 1000:03d}Z"


def encoded_key(key: str) -> str:
    return quote_plus(key, safe="/")


def owner_id(account: str) -> str:
    """The bucket owner's id as notifications show it (AWS's short customer id, A...):
    stable per account."""
    digest = base64.b32encode(hashlib.sha256(f"lamina-s3-owner:{account}".encode()).digest()).decode()
    return "A" + digest[:13]


def _removal(name: str) -> bool:
    return name.startswith(("ObjectRemoved:", "LifecycleExpiration:"))


def record(event: ObjectEvent, configuration_id: str) -> dict[str, Any]:
    obj: dict[str, Any] = {"key": encoded_key(event.key)}
    if not _removal(event.name):
        obj["size"] = event.size
        obj["eTag"] = event.etag
    if event.version_id is not None:
        obj["versionId"] = event.version_id
    obj["sequencer"] = event.sequencer
    return {
        "eventVersion": "2.3" if event.name.startswith(_LATER_VERSION) else "2.1",
        "eventSource": "aws:s3",
        "awsRegion": event.region,
        "eventTime": iso_millis(event.event_time),
        "eventName": event.name,
        "userIdentity": {"principalId": event.principal_id},
        "requestParameters": {"sourceIPAddress": event.source_ip or "127.0.0.1"},
        "responseElements": {"x-amz-request-id": event.request_id, "x-amz-id-2": event.request_id},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id,
            "bucket": {
                "name": event.bucket,
                "ownerIdentity": {"principalId": owner_id(event.account)},
                "arn": f"arn:aws:s3:::{event.bucket}",
            },
            "object": obj,
        },
    }


def message(event: ObjectEvent, configuration_id: str) -> str:
    return json.dumps({"Records": [record(event, configuration_id)]}, separators=(",", ":"))


def detail_type(name: str) -> str | None:
    return DETAIL_TYPES.get(name) or DETAIL_TYPES.get(name.split(":", 1)[0])


def eventbridge(event: ObjectEvent) -> tuple[str, dict[str, Any]] | None:
    """(detail-type, detail), or None for an event S3 does not send to EventBridge."""
    kind = detail_type(event.name)
    if kind is None:
        return None
    family, _, action = event.name.partition(":")
    obj: dict[str, Any] = {"key": event.key}
    if kind == "Object Created":
        obj.update(size=event.size, etag=event.etag)
    elif kind.startswith("Object Tags") or kind == "Object ACL Updated":
        obj["etag"] = event.etag
    if event.version_id is not None:
        obj["version-id"] = event.version_id
    if not kind.startswith("Object Tags") and kind != "Object ACL Updated":
        obj["sequencer"] = event.sequencer
    detail: dict[str, Any] = {
        "version": "0",
        "bucket": {"name": event.bucket},
        "object": obj,
        "request-id": event.request_id,
        # The requester's account (Lamina's writers are the bucket owner's principals).
        "requester": event.account,
        "source-ip-address": event.source_ip or "127.0.0.1",
    }
    if kind == "Object Created":
        detail["reason"] = _CREATED_REASONS.get(action, "PutObject")
    elif kind == "Object Deleted":
        detail["reason"] = "Lifecycle Expiration" if family == "LifecycleExpiration" else "DeleteObject"
        detail["deletion-type"] = "Delete Marker Created" if action == "DeleteMarkerCreated" else "Permanently Deleted"
    return kind, detail


def test_event(bucket: str, request_id: str, now: float | None = None) -> str:
    return json.dumps(
        {
            "Service": "Amazon S3",
            "Event": "s3:TestEvent",
            "Time": iso_millis(time.time() if now is None else now),
            "Bucket": bucket,
            "RequestId": request_id,
            "HostId": request_id,
        },
        separators=(",", ":"),
    )
