"""What the S3 service tells whoever listens (the bucket notifications, built next) after
each committed change of an object: `S3Service.events`, an async callable, None until the
composition root sets one. It is called after the change is durable and in memory, and
before the caller's answer; what it raises is logged, never the caller's error."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

# AWS's event names (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-event-types-and-destinations.html)
OBJECT_CREATED_PUT = "ObjectCreated:Put"
OBJECT_CREATED_COPY = "ObjectCreated:Copy"
OBJECT_CREATED_COMPLETE_MULTIPART = "ObjectCreated:CompleteMultipartUpload"
OBJECT_REMOVED_DELETE = "ObjectRemoved:Delete"
OBJECT_REMOVED_DELETE_MARKER = "ObjectRemoved:DeleteMarkerCreated"
OBJECT_TAGGING_PUT = "ObjectTagging:Put"
OBJECT_TAGGING_DELETE = "ObjectTagging:Delete"


@dataclass(frozen=True)
class ObjectEvent:
    name: str  # one of the names above
    bucket: str
    account: str  # the bucket owner's
    region: str  # the bucket's
    key: str
    size: int  # 0 for removals and delete markers
    etag: str  # without quotes, as notifications carry it; "" for removals
    version_id: str | None  # None in a bucket never versioned
    sequencer: str  # hex, increasing per key (AWS's ordering of events of one key)
    principal_id: str  # who made the change: the caller's principal id (AWS:<id>)
    source_ip: str
    request_id: str
    event_time: float  # epoch seconds


Listener = Callable[[ObjectEvent], Awaitable[None]]
