"""CreateLogGroup, DeleteLogGroup, DescribeLogGroups, Put/DeleteRetentionPolicy,
PutLogGroupDeletionProtection."""

from __future__ import annotations

from typing import Any

from ...errors import ServiceError
from ...observability.logsink import LogSink, group_key, new_group_doc
from ...store.base import Delete, DeleteLogs, DeletePrefix, Put, Store
from ..context import RequestContext
from .live_tail import LiveTails
from .metric_filters import KIND as METRIC_FILTER_KIND
from .metric_filters import MetricFilter, filter_key
from .paging import decode_token, encode_token
from .policies import KIND as POLICY_KIND
from .policies import PolicyRecord, group_policy_key
from .resources import (
    GROUP_KIND,
    PRIVATE_GROUP_FIELDS,
    STREAM_KIND,
    check_deletable,
    group_from_identifier,
    group_ref,
    invalid_parameter,
    load_group,
    now_ms,
)
from .subscriptions import KIND as SUBSCRIPTION_KIND
from .subscriptions import SubscriptionFilter, subscription_key
from .tags import check_tag_count

DEFAULT_LIMIT = 50
_SCAN_CHUNK = 200
RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


def describe_group(doc: dict[str, Any], brief: bool = False) -> dict[str, Any]:
    """A group document as DescribeLogGroups shows it."""
    if brief:  # AWS answers a logGroupNamePattern search with these three only
        return {key: doc[key] for key in ("logGroupName", "creationTime", "arn") if key in doc}
    shown = {key: value for key, value in doc.items() if key not in PRIVATE_GROUP_FIELDS}
    shown.setdefault("storedBytes", 0)
    return shown


class GroupsApi:
    store: Store
    sink: LogSink
    policies: dict[str, PolicyRecord]
    metric_filters: dict[str, dict[str, MetricFilter]]
    subscription_filters: dict[str, dict[str, SubscriptionFilter]]
    live_tails: LiveTails

    async def create_log_group(self, params: dict, ctx: RequestContext) -> dict:
        group = group_ref(ctx, params["logGroupName"])
        if await self.store.get(GROUP_KIND, group.key) is not None:
            raise ServiceError("ResourceAlreadyExistsException", "The specified log group already exists", 400)
        doc = new_group_doc(ctx.account_id, ctx.region, group.name, now_ms())
        for member in ("logGroupClass", "kmsKeyId"):
            if params.get(member):
                doc[member] = params[member]
        if params.get("deletionProtectionEnabled"):
            doc["deletionProtectionEnabled"] = True
        if params.get("tags"):
            check_tag_count(params["tags"], group)
            doc["tags"] = dict(params["tags"])
        await self.store.write([Put(GROUP_KIND, group.key, doc)])
        return {}

    async def delete_log_group(self, params: dict, ctx: RequestContext) -> dict:
        group = group_ref(ctx, params["logGroupName"])
        check_deletable(await load_group(self.store, group))
        policy_key = group_policy_key(group)  # its resource-scoped policy goes with it
        await self.sink.flush()  # buffered lines of this group go with it
        metric_filters = list(self.metric_filters.get(group.key, {}))
        subscriptions = list(self.subscription_filters.get(group.key, {}))
        await self.store.write(
            [
                Delete(GROUP_KIND, group.key),
                DeletePrefix(STREAM_KIND, group.streams_prefix()),
                DeleteLogs(group.key),
                *([Delete(POLICY_KIND, policy_key)] if policy_key in self.policies else []),
                *(Delete(METRIC_FILTER_KIND, filter_key(group.key, name)) for name in metric_filters),
                *(Delete(SUBSCRIPTION_KIND, subscription_key(group.key, name)) for name in subscriptions),
            ]
        )
        self.sink.forget_group(group.key)
        self.live_tails.group_deleted(group.key, group.name)
        self.policies.pop(policy_key, None)
        self.metric_filters.pop(group.key, None)  # its filters go with it, as on AWS
        self.subscription_filters.pop(group.key, None)
        return {}

    async def describe_log_groups(self, params: dict, ctx: RequestContext) -> dict:
        prefix = params.get("logGroupNamePrefix")
        pattern = params.get("logGroupNamePattern")
        identifiers = params.get("logGroupIdentifiers")
        if prefix and pattern:
            raise invalid_parameter("LogGroupNamePrefix and LogGroupNamePattern are mutually exclusive parameters.")
        if identifiers and (prefix or pattern):
            raise invalid_parameter(
                "LogGroupIdentifiers is mutually exclusive with LogGroupNamePrefix and LogGroupNamePattern."
            )
        limit = params.get("limit") or DEFAULT_LIMIT
        cursor = decode_token(params.get("nextToken"), "after")
        after = cursor["after"] if cursor else None
        group_class = params.get("logGroupClass")

        def wanted(doc: dict) -> bool:
            return (not pattern or pattern in doc["logGroupName"]) and (
                not group_class or doc.get("logGroupClass", "STANDARD") == group_class
            )

        if identifiers:
            docs = await self._groups_by_identifier(identifiers, ctx)
            found = [doc for doc in docs if wanted(doc) and (after is None or doc["logGroupName"] > after)]
        else:
            found = await self._scan_groups(ctx, prefix or "", after, wanted, limit + 1)
        page = found[:limit]
        shown = [describe_group(doc, brief=bool(pattern)) for doc in page]
        for group in shown:
            if "metricFilterCount" in group:
                group["metricFilterCount"] = len(self.metric_filters.get(group_ref(ctx, group["logGroupName"]).key, ()))
        result: dict[str, Any] = {"logGroups": shown}
        if len(found) > limit:
            result["nextToken"] = encode_token({"after": page[-1]["logGroupName"]})
        return result

    async def _scan_groups(self, ctx: RequestContext, prefix: str, after: str | None, wanted, count: int) -> list:
        """Up to count groups, in name order, whose name starts with prefix and comes after after."""
        base = group_key(ctx.account_id, ctx.region, "")
        position = base + after if after is not None else None
        found: list[dict] = []
        while len(found) < count:
            rows = await self.store.scan(GROUP_KIND, prefix=base + prefix, after=position, limit=_SCAN_CHUNK)
            for key, doc in rows:
                position = key
                if wanted(doc):
                    found.append(doc)
                    if len(found) == count:
                        break
            if len(rows) < _SCAN_CHUNK:
                break
        return found

    async def _groups_by_identifier(self, identifiers: list[str], ctx: RequestContext) -> list[dict]:
        docs = []
        for identifier in sorted(set(identifiers)):
            try:
                group = group_from_identifier(identifier, ctx)
            except ServiceError as error:
                if error.code == "ResourceNotFoundException":
                    continue  # another account's group: simply not listed
                raise
            doc = await self.store.get(GROUP_KIND, group.key)
            if doc is not None:
                docs.append(doc)
        return sorted(docs, key=lambda doc: doc["logGroupName"])

    async def put_retention_policy(self, params: dict, ctx: RequestContext) -> dict:
        days = params["retentionInDays"]
        if days not in RETENTION_DAYS:
            raise invalid_parameter(
                f"1 validation error detected: Value '{days}' at 'retentionInDays' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(map(str, RETENTION_DAYS))}]"
            )
        await self._update_group(ctx, params["logGroupName"], retentionInDays=days)
        return {}

    async def delete_retention_policy(self, params: dict, ctx: RequestContext) -> dict:
        await self._update_group(ctx, params["logGroupName"], retentionInDays=None)
        return {}

    async def put_log_group_deletion_protection(self, params: dict, ctx: RequestContext) -> dict:
        group = group_from_identifier(params["logGroupIdentifier"], ctx)
        enabled = bool(params["deletionProtectionEnabled"])
        await self._update_group(ctx, group.name, deletionProtectionEnabled=enabled or None)
        return {}

    async def _update_group(self, ctx: RequestContext, name: str, **changes: Any) -> None:
        """Set members of a group's document (None removes one)."""
        group = group_ref(ctx, name)
        doc = dict(await load_group(self.store, group))
        for member, value in changes.items():
            if value is None:
                doc.pop(member, None)
            else:
                doc[member] = value
        await self.store.write([Put(GROUP_KIND, group.key, doc)])
