"""What every group of IAM operations shares: ids as IAM makes them, paging with
Marker/MaxItems/IsTruncated, tags, paths, the calling principal, and the answers' shapes."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ...errors import ServiceError
from ..context import RequestContext
from . import documents
from .state import IamState, InstanceProfile, Policy, RoleRecord, User, invalid_input, limit_exceeded, no_such_entity

T = TypeVar("T")

_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_SECRET_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
MAX_TAGS = 50
DEFAULT_MAX_ITEMS = 100


def unique_id(prefix: str) -> str:
    """AIDA (user), AGPA (group), AROA (role), ANPA (policy), AIPA (instance profile) + 17."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(17))


def access_key_id() -> str:
    return "AKIA" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))


def secret_access_key() -> str:
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))


def caller(ctx: RequestContext) -> Any:
    """The Principal who signed the request, if the gateway tells (None otherwise)."""
    return getattr(ctx, "principal", None)


def path_of(params: dict, name: str = "Path") -> str:
    path = params.get(name) or "/"
    if not (path == "/" or (path.startswith("/") and path.endswith("/") and "//" not in path)):
        raise ServiceError(
            "ValidationError",
            f"The specified value for {name[0].lower() + name[1:]} is invalid. "
            "It must begin and end with / and contain only alphanumeric characters and/or / characters.",
            400,
        )
    return path


def boundary_arn(state: IamState, account: str, arn: str | None) -> str | None:
    """A permissions boundary's ARN, checked: a managed policy this account sees."""
    if arn is None:
        return None
    if state.find_policy(account, arn) is None:
        raise no_such_entity(f"Scope ARN: {arn} does not exist or is not attachable.")
    return arn


# --- paging --------------------------------------------------------------------------------


def page(
    items: Sequence[T], params: dict, key: Callable[[T], str], max_items: int | None = None
) -> tuple[list[T], dict[str, Any]]:
    """One page of `items` (already in their order) after the Marker, at most MaxItems of
    them; the extra members of the answer (IsTruncated, Marker)."""
    limit = max_items or params.get("MaxItems") or DEFAULT_MAX_ITEMS
    start = 0
    marker = params.get("Marker")
    if marker:
        try:
            start = int(base64.urlsafe_b64decode(marker.encode()).decode().split("|", 1)[0])
        except Exception:
            raise ServiceError("ValidationError", "Invalid Marker.", 400) from None
    chosen = list(items[start : start + limit])
    more = start + limit < len(items)
    extra: dict[str, Any] = {"IsTruncated": more}
    if more:
        extra["Marker"] = base64.urlsafe_b64encode(f"{start + limit}|{key(chosen[-1])}".encode()).decode()
    return chosen, extra


# --- tags ----------------------------------------------------------------------------------


def tags_out(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def merged_tags(current: dict[str, str], given: list[dict] | None) -> dict[str, str]:
    """`current` with `given` applied (a key's case is the key: IAM tag keys are case
    sensitive but may not be given twice in different cases)."""
    tags = dict(current)
    seen: set[str] = set()
    for tag in given or []:
        key, value = tag["Key"], tag.get("Value", "")
        if key.lower() in seen:
            raise invalid_input("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
        seen.add(key.lower())
        for existing in [k for k in tags if k.lower() == key.lower() and k != key]:
            del tags[existing]
        tags[key] = value
    if len(tags) > MAX_TAGS:
        raise limit_exceeded("The number of tags has reached the maximum limit.")
    return tags


def untagged(current: dict[str, str], keys: list[str] | None) -> dict[str, str]:
    gone = {k.lower() for k in keys or []}
    return {k: v for k, v in current.items() if k.lower() not in gone}


def list_tags(tags: dict[str, str], params: dict) -> dict:
    chosen, extra = page(list(tags.items()), params, key=lambda item: item[0])
    return {"Tags": [{"Key": k, "Value": v} for k, v in chosen], **extra}


# --- answers -------------------------------------------------------------------------------


def boundary_out(arn: str | None) -> dict[str, Any]:
    if not arn:
        return {}
    return {
        "PermissionsBoundary": {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": arn}
    }


def user_out(user: User, full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Path": user.path,
        "UserName": user.name,
        "UserId": user.id,
        "Arn": user.arn,
        "CreateDate": user.created,
    }
    if full:
        out.update(boundary_out(user.boundary))
        if user.tags:
            out["Tags"] = tags_out(user.tags)
    return out


def group_out(group: Any) -> dict[str, Any]:
    return {
        "Path": group.path,
        "GroupName": group.name,
        "GroupId": group.id,
        "Arn": group.arn,
        "CreateDate": group.created,
    }


def role_out(role: RoleRecord, full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Path": role.path,
        "RoleName": role.name,
        "RoleId": role.id,
        "Arn": role.arn,
        "CreateDate": role.created,
        "AssumeRolePolicyDocument": documents.encode(role.trust),
        "MaxSessionDuration": role.max_session,
    }
    if role.description is not None:
        out["Description"] = role.description
    if full:
        out.update(boundary_out(role.boundary))
        if role.tags:
            out["Tags"] = tags_out(role.tags)
        out["RoleLastUsed"] = {}
    return out


def policy_out(policy: Policy, attachments: int, boundaries: int, tags: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "PolicyName": policy.name,
        "PolicyId": policy.id,
        "Arn": policy.arn,
        "Path": policy.path,
        "DefaultVersionId": policy.default,
        "AttachmentCount": attachments,
        "PermissionsBoundaryUsageCount": boundaries,
        "IsAttachable": True,
        "CreateDate": policy.created,
        "UpdateDate": policy.updated,
    }
    if policy.description:
        out["Description"] = policy.description
    if tags and policy.tags:
        out["Tags"] = tags_out(policy.tags)
    return out


def profile_out(profile: InstanceProfile, roles: list[RoleRecord], tags: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Path": profile.path,
        "InstanceProfileName": profile.name,
        "InstanceProfileId": profile.id,
        "Arn": profile.arn,
        "CreateDate": profile.created,
        "Roles": [role_out(role) for role in roles],
    }
    if tags and profile.tags:
        out["Tags"] = tags_out(profile.tags)
    return out


def by_name(items: list[T]) -> list[T]:
    return sorted(items, key=lambda item: item.name.lower())  # type: ignore[attr-defined]


def with_prefix(items: list[T], params: dict) -> list[T]:
    prefix = params.get("PathPrefix") or "/"
    return [item for item in items if item.path.startswith(prefix)]  # type: ignore[attr-defined]
