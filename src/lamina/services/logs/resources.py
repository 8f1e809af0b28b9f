"""Finding log groups and streams from request parameters, and the errors when they are missing.

The record layout itself (keys, documents) is defined once in engine/logsink.py.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from ...errors import ServiceError
from ...observability.logsink import group_key, stream_key
from ...store.base import Store
from ..context import RequestContext

GROUP_KIND = "log_group"
STREAM_KIND = "log_stream"

GROUP_NOT_FOUND = "The specified log group does not exist."
STREAM_NOT_FOUND = "The specified log stream does not exist."

# Document members kept for ourselves, never part of an API answer.
PRIVATE_GROUP_FIELDS = ("tags",)

_GROUP_ARN = re.compile(r"arn:aws[\w-]*:logs:([\w-]*):(\d{12}):log-group:([^:]+)(?::\*)?")


def now_ms() -> int:
    return int(time.time() * 1000)


def invalid_parameter(message: str) -> ServiceError:
    return ServiceError("InvalidParameterException", message, 400)


def not_found(message: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", message, 400)


@dataclass(frozen=True)
class GroupRef:
    name: str
    key: str  # the store key, "<account>:<region>:<name>"

    def streams_prefix(self) -> str:
        return stream_key(self.key, "")


def group_ref(ctx: RequestContext, name: str) -> GroupRef:
    return GroupRef(name, group_key(ctx.account_id, ctx.region, name))


def group_from_arn(arn: str, ctx: RequestContext) -> GroupRef:
    found = _GROUP_ARN.fullmatch(arn)
    if found is None:
        raise invalid_parameter(f"Invalid log group ARN: {arn}")
    region, account, name = found.groups()
    if account != ctx.account_id or region != ctx.region:
        raise not_found(GROUP_NOT_FOUND)  # no cross-account observability here
    return group_ref(ctx, name)


def group_from_identifier(identifier: str, ctx: RequestContext) -> GroupRef:
    """A log group given by name or by ARN (logGroupIdentifier)."""
    if identifier.startswith("arn:"):
        return group_from_arn(identifier, ctx)
    return group_ref(ctx, identifier)


def group_from_params(params: dict, ctx: RequestContext) -> GroupRef:
    """For operations that take logGroupName or logGroupIdentifier, exactly one of them."""
    name = params.get("logGroupName")
    identifier = params.get("logGroupIdentifier")
    if name and identifier:
        raise invalid_parameter("LogGroupName and LogGroupIdentifier are mutually exclusive parameters.")
    if identifier:
        return group_from_identifier(identifier, ctx)
    if name:
        return group_ref(ctx, name)
    raise invalid_parameter("Either LogGroupName or LogGroupIdentifier must be specified.")


async def load_group(store: Store, group: GroupRef) -> dict[str, Any]:
    doc = await store.get(GROUP_KIND, group.key)
    if doc is None:
        raise not_found(GROUP_NOT_FOUND)
    return doc


async def load_stream(store: Store, group: GroupRef, stream: str) -> dict[str, Any]:
    doc = await store.get(STREAM_KIND, stream_key(group.key, stream))
    if doc is None:
        await load_group(store, group)  # say which of the two is missing
        raise not_found(STREAM_NOT_FOUND)
    return doc


def check_deletable(group: dict[str, Any]) -> None:
    if group.get("deletionProtectionEnabled"):
        raise ServiceError(
            "ValidationException",
            f"Log group {group['logGroupName']} has deletion protection enabled; "
            "disable it with PutLogGroupDeletionProtection first.",
            400,
        )
