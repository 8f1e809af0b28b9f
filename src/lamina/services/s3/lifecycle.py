"""Lifecycle configuration: Put/Get/DeleteBucketLifecycleConfiguration with S3's checks,
which rules apply to a version (Filter: Prefix, Tag, And, ObjectSizeGreaterThan/LessThan),
when a version expires as S3 counts it, and the x-amz-expiration header of the objects a
rule will expire. The sweep that does the expiring is lifecycle_sweep.py.

S3's count (User Guide, "Lifecycle rules: based on an object's age"): the days are added to
the object's creation time (for NoncurrentDays, to the moment it became noncurrent: its
successor's creation) and the result rounded up to the next midnight UTC. Transitions are
taken, kept and answered; Lamina has one storage tier, so they move nothing."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any

from ..context import RequestContext
from .configs import LIFECYCLE, BucketConfigs
from .errors import invalid_argument, invalid_request, malformed_xml, not_found_config
from .objects import STORAGE_CLASSES
from .state import Bucket, S3State, Version

DAY_S = 86400
MAX_RULES = 1000
DEFAULT_MINIMUM_SIZE = "all_storage_classes_128K"
_MINIMUM_SIZES = ("varies_by_storage_class", "all_storage_classes_128K")
_MIN_TRANSITION_DAYS = {"STANDARD_IA": 30, "ONEZONE_IA": 30}


def _epoch(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


def _positive(value: Any, message: str) -> int:
    if not isinstance(value, int) or value <= 0:
        raise invalid_argument(message)
    return value


def filter_of(rule: dict) -> tuple[str, dict[str, str], int | None, int | None]:
    """(prefix, tags, size greater than, size less than) a rule selects by."""
    if "Filter" not in rule:
        return rule.get("Prefix") or "", {}, None, None
    given = rule.get("Filter") or {}
    both = given.get("And") or given
    tags = {t["Key"]: t.get("Value", "") for t in both.get("Tags") or []}
    if given.get("Tag"):
        tags[given["Tag"]["Key"]] = given["Tag"].get("Value", "")
    return both.get("Prefix") or "", tags, both.get("ObjectSizeGreaterThan"), both.get("ObjectSizeLessThan")


def applies(rule: dict, version: Version) -> bool:
    prefix, tags, greater, less = filter_of(rule)
    if not version.key.startswith(prefix):
        return False
    if any(version.tags.get(key) != value for key, value in tags.items()):
        return False
    if greater is not None and not version.size > greater:
        return False
    return less is None or version.size < less


def midnight_after(moment: float, days: int) -> float:
    """`days` after `moment`, rounded up to the next midnight UTC."""
    return math.ceil((moment + days * DAY_S) / DAY_S) * DAY_S


def expires_at(rule: dict, version: Version) -> float | None:
    """When a rule's Expiration (Days or Date) expires the current version `version`."""
    expiration = rule.get("Expiration") or {}
    if expiration.get("Days"):
        return midnight_after(version.last_modified, expiration["Days"])
    if expiration.get("Date") is not None:
        return float(expiration["Date"])
    return None


def enabled_rules(configs: BucketConfigs, bucket: Bucket) -> list[dict]:
    config = configs.get(bucket, LIFECYCLE)
    return [rule for rule in (config or {}).get("Rules", []) if rule.get("Status") == "Enabled"]


def expiration_header(configs: BucketConfigs, bucket: Bucket, version: Version) -> str | None:
    """x-amz-expiration for a current version a rule will expire: the earliest such rule."""
    if version.delete_marker:
        return None
    best: tuple[float, str] | None = None
    for rule in enabled_rules(configs, bucket):
        if not applies(rule, version):
            continue
        moment = expires_at(rule, version)
        if moment is not None and (best is None or moment < best[0]):
            best = (moment, rule.get("ID", ""))
    if best is None:
        return None
    when = format_datetime(datetime.fromtimestamp(best[0], timezone.utc), usegmt=True)
    return f'expiry-date="{when}", rule-id="{best[1]}"'


def checked_rules(config: dict) -> list[dict]:
    rules = config.get("Rules") or []
    if not rules or len(rules) > MAX_RULES:
        raise malformed_xml()
    ids: set[str] = set()
    out = []
    for rule in rules:
        rule_id = rule.get("ID") or ""
        if len(rule_id) > 255:
            raise invalid_argument("ID length should not exceed allowed limit of 255")
        if rule_id and rule_id in ids:
            raise invalid_argument("Rule ID must be unique. Found same ID for more than one rule")
        ids.add(rule_id)
        out.append(_checked_rule(rule))
    return out


def _checked_rule(rule: dict) -> dict:
    if rule.get("Status") not in ("Enabled", "Disabled"):
        raise malformed_xml()
    if ("Filter" in rule) == ("Prefix" in rule):
        raise malformed_xml()
    rule = dict(rule)
    if "Filter" in rule:
        _check_filter(rule.get("Filter") or {})
    _, tags, _, _ = filter_of(rule)
    actions = ("Expiration", "Transitions", "NoncurrentVersionTransitions", "NoncurrentVersionExpiration",
               "AbortIncompleteMultipartUpload")  # fmt: skip
    if not any(rule.get(name) for name in actions):
        raise invalid_request("At least one action needs to be specified in a rule")
    if "Expiration" in rule:
        rule["Expiration"] = _checked_expiration(rule["Expiration"] or {}, tags)
    noncurrent = rule.get("NoncurrentVersionExpiration")
    if noncurrent is not None:
        _positive(
            noncurrent.get("NoncurrentDays"),
            "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer",
        )
        newer = noncurrent.get("NewerNoncurrentVersions")
        if newer is not None and not (isinstance(newer, int) and 0 < newer <= 100):
            raise invalid_argument(
                "'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be a positive integer up to 100"
            )
    abort = rule.get("AbortIncompleteMultipartUpload")
    if abort is not None:
        if tags:
            raise invalid_request("AbortIncompleteMultipartUpload cannot be specified with Tags.")
        _positive(
            abort.get("DaysAfterInitiation"),
            "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer",
        )
    rule["Transitions"] = [_checked_transition(t, "Days", "Transition") for t in rule.get("Transitions") or []]
    rule["NoncurrentVersionTransitions"] = [
        _checked_transition(t, "NoncurrentDays", "NoncurrentVersionTransition")
        for t in rule.get("NoncurrentVersionTransitions") or []
    ]
    return {name: value for name, value in rule.items() if value not in (None, [])}


def _check_filter(given: dict) -> None:
    predicates = [name for name in ("Prefix", "Tag", "ObjectSizeGreaterThan", "ObjectSizeLessThan", "And")
                  if given.get(name) is not None]  # fmt: skip
    if len(predicates) > 1:
        raise malformed_xml()
    both = given.get("And")
    if both is not None:
        keys = [tag.get("Key") for tag in both.get("Tags") or []]
        if len(keys) != len(set(keys)):
            raise invalid_request("Duplicate Tag Keys are not allowed.")
    both = both or given
    greater, less = both.get("ObjectSizeGreaterThan"), both.get("ObjectSizeLessThan")
    for value in (greater, less):
        if value is not None and value < 0:
            raise invalid_argument("ObjectSize must be a non-negative integer")
    if greater is not None and less is not None and greater >= less:
        raise invalid_argument("ObjectSizeGreaterThan must be less than ObjectSizeLessThan")


def _checked_expiration(expiration: dict, tags: dict) -> dict:
    days, date, marker = expiration.get("Days"), expiration.get("Date"), expiration.get("ExpiredObjectDeleteMarker")
    if days is not None and date is not None:
        raise malformed_xml()
    if days is None and date is None and marker is None:
        raise malformed_xml()
    if marker is not None and (days is not None or date is not None):
        raise invalid_argument(
            "ExpiredObjectDeleteMarker cannot be specified with Days or Date in a Lifecycle Expiration Policy."
        )
    if marker and tags:
        raise invalid_argument("ExpiredObjectDeleteMarker cannot be specified with object tag-based filters.")
    out = dict(expiration)
    if days is not None:
        _positive(days, "'Days' for Expiration action must be a positive integer")
    if date is not None:
        moment = _epoch(date)
        if moment % DAY_S:
            raise invalid_argument("'Date' must be at midnight GMT")
        out["Date"] = moment
    return out


def _checked_transition(transition: dict, days_name: str, action: str) -> dict:
    storage = transition.get("StorageClass")
    if storage not in STORAGE_CLASSES or storage == "STANDARD":
        raise malformed_xml()
    out = dict(transition)
    days = transition.get(days_name)
    if days is not None:
        if days < 0:
            raise invalid_argument(f"'{days_name}' in {action} action must be nonnegative")
        least = _MIN_TRANSITION_DAYS.get(storage, 0)
        if days < least:
            raise invalid_argument(
                f"'{days_name}' in {action} action must be greater than or equal to {least} for storageClass "
                f"'{storage}'"
            )
    if transition.get("Date") is not None:
        moment = _epoch(transition["Date"])
        if moment % DAY_S:
            raise invalid_argument("'Date' must be at midnight GMT")
        out["Date"] = moment
    return out


class LifecycleApi:
    state: S3State
    configs: BucketConfigs

    async def put_bucket_lifecycle_configuration(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        rules = checked_rules(params.get("LifecycleConfiguration") or {})
        size = params.get("TransitionDefaultMinimumObjectSize") or DEFAULT_MINIMUM_SIZE
        if size not in _MINIMUM_SIZES:
            raise invalid_request("Invalid TransitionDefaultMinimumObjectSize")
        await self.configs.put(bucket, LIFECYCLE, {"Rules": rules, "TransitionDefaultMinimumObjectSize": size})
        return {"TransitionDefaultMinimumObjectSize": size}

    async def get_bucket_lifecycle_configuration(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        config = self.configs.get(bucket, LIFECYCLE)
        if config is None:
            raise not_found_config(
                "NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist", bucket.name
            )
        return {
            "Rules": config["Rules"],
            "TransitionDefaultMinimumObjectSize": config["TransitionDefaultMinimumObjectSize"],
        }

    async def delete_bucket_lifecycle(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        await self.configs.delete(bucket, LIFECYCLE)
        return {}
