"""One enhanced fan-out consumer in memory: its name, ARN, status and tags. No I/O here.

A consumer lives in its stream's document. Its status follows from the clock, so nothing
has to run for it to change: CREATING until `ready_ms`, then ACTIVE; after
DeregisterStreamConsumer, DELETING until `gone_ms`, then gone (the stream drops it the next
time it looks). AWS takes some seconds for each step; Lamina a moment.

The ARN is AWS's: arn:aws:kinesis:<region>:<account>:stream/<stream>/consumer/<name>:<created,
epoch seconds>.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CREATING, ACTIVE, DELETING = "CREATING", "ACTIVE", "DELETING"


@dataclass
class Consumer:
    name: str
    created_ms: int
    ready_ms: int  # CREATING before this, ACTIVE from it
    tags: dict[str, str] = field(default_factory=dict)
    policy: str | None = None  # the resource-based policy (policies.py), as given
    gone_ms: int | None = None  # set by DeregisterStreamConsumer: DELETING until then

    @property
    def created_s(self) -> int:
        return self.created_ms // 1000

    def arn(self, stream_arn: str) -> str:
        return f"{stream_arn}/consumer/{self.name}:{self.created_s}"

    def status(self, now_ms: int) -> str:
        if self.gone_ms is not None:
            return DELETING
        return ACTIVE if now_ms >= self.ready_ms else CREATING

    def gone(self, now_ms: int) -> bool:
        return self.gone_ms is not None and now_ms >= self.gone_ms

    def describe(self, stream_arn: str, now_ms: int) -> dict:
        """The Consumer shape (RegisterStreamConsumer, ListStreamConsumers)."""
        return {
            "ConsumerName": self.name,
            "ConsumerARN": self.arn(stream_arn),
            "ConsumerStatus": self.status(now_ms),
            "ConsumerCreationTimestamp": self.created_ms / 1000,
        }

    def to_doc(self) -> dict:
        return {
            "name": self.name,
            "created": self.created_ms,
            "ready": self.ready_ms,
            "tags": self.tags,
            "policy": self.policy,
            "gone": self.gone_ms,
        }

    @classmethod
    def from_doc(cls, doc: dict) -> Consumer:
        return cls(
            doc["name"], doc["created"], doc["ready"], dict(doc.get("tags") or {}), doc.get("policy"), doc.get("gone")
        )


def parse_consumer_arn(arn: str) -> tuple[str, str, int] | None:
    """(stream ARN, consumer name, creation second) of a consumer ARN, or None."""
    stream_arn, marker, rest = arn.partition("/consumer/")
    name, colon, created = rest.rpartition(":")
    if not marker or not colon or not name or not created.isdigit():
        return None
    return stream_arn, name, int(created)


def is_consumer_arn(arn: str) -> bool:
    return "/consumer/" in arn.split(":", 5)[-1]
