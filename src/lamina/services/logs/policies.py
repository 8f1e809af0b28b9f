"""PutResourcePolicy, DescribeResourcePolicies, DeleteResourcePolicy: who else (AWS services,
mostly) may write to this account's log groups.

Two kinds of policy, as on AWS:

    account-scoped   named, up to 10 per account and Region; their statements name the log
                     groups they cover in Resource
    resource-scoped  one per log group (resourceArn), with a revision id that a change must
                     name (expectedRevisionId); it goes when its log group is deleted

Both are kept in memory (loaded at start) and in the store:

    kind "logs_resource_policy"   key "<account>:<region>:A:<policy name>"   account-scoped
                                  key "<account>:<region>:R:<log group>"     resource-scoped

`resource_policy(arn)` is what authorization reads for a call on a log group: one document
made of the account's statements that could apply to the group and the group's own policy.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from ...errors import ServiceError
from ...observability.logsink import group_arn, group_key
from ...policy import RESOURCE, MalformedPolicy, parse_policy
from ...store.base import Delete, Put, Store
from ..context import RequestContext
from .paging import decode_token, encode_token
from .resources import GROUP_KIND, GroupRef, group_from_arn, invalid_parameter, load_group, not_found, now_ms

KIND = "logs_resource_policy"
MAX_ACCOUNT_POLICIES = 10  # per account and Region; AWS does not raise it
MAX_DOCUMENT_CHARS = 5120
DEFAULT_LIMIT = 50
ACCOUNT, RESOURCE_SCOPE = "ACCOUNT", "RESOURCE"

_LOG_GROUP_ARN = re.compile(r"arn:aws[\w-]*:logs:([\w-]*):(\d{12}):log-group:([^:]+)(?::.*)?")


def _operation_aborted() -> ServiceError:
    return ServiceError(
        "OperationAbortedException",
        "The expected revision id does not match the current revision id of the resource policy.",
        400,
    )


@dataclass
class PolicyRecord:
    account: str
    region: str
    scope: str  # ACCOUNT or RESOURCE
    name: str | None  # the policy name (optional for a resource-scoped policy)
    document: str
    updated_ms: int
    group: str | None = None  # the log group's name, for a resource-scoped policy
    revision: str | None = None
    _usable: list[dict] | None = field(default=None, repr=False)

    @property
    def key(self) -> str:
        if self.scope == ACCOUNT:
            return f"{self.account}:{self.region}:A:{self.name}"
        return f"{self.account}:{self.region}:R:{self.group}"

    @property
    def resource_arn(self) -> str | None:
        return group_arn(self.account, self.region, self.group) if self.group is not None else None

    def shown(self) -> dict[str, Any]:
        """As the API shows a ResourcePolicy."""
        out: dict[str, Any] = {}
        if self.name is not None:
            out["policyName"] = self.name
        out["policyDocument"] = self.document
        out["lastUpdatedTime"] = self.updated_ms
        out["policyScope"] = self.scope
        if self.scope == RESOURCE_SCOPE:
            out["resourceArn"] = self.resource_arn
            out["revisionId"] = self.revision
        return out

    def doc(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "region": self.region,
            "scope": self.scope,
            "name": self.name,
            "document": self.document,
            "updated": self.updated_ms,
            "group": self.group,
            "revision": self.revision,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> PolicyRecord:
        return cls(
            doc["account"],
            doc["region"],
            doc["scope"],
            doc.get("name"),
            doc["document"],
            doc.get("updated", 0),
            doc.get("group"),
            doc.get("revision"),
        )

    def usable(self) -> list[dict]:
        """The document's statements that the policy language accepts one by one (AWS takes a
        logs policy with little checking; authorization can only use what parses)."""
        if self._usable is None:
            self._usable = []
            try:
                data = json.loads(self.document)
            except ValueError:
                data = None
            if isinstance(data, dict):
                raw = data.get("Statement")
                version = data.get("Version", "2008-10-17")
                for statement in raw if isinstance(raw, list) else [raw]:
                    if not isinstance(statement, dict):
                        continue
                    try:
                        parse_policy({"Version": version, "Statement": [statement]}, kind=RESOURCE)
                    except MalformedPolicy:
                        continue
                    self._usable.append(statement)
        return self._usable


def group_policy_key(group: GroupRef) -> str:
    """The key of log group `group`'s resource-scoped policy."""
    account, region, _ = group.key.split(":", 2)
    return f"{account}:{region}:R:{group.name}"


def _wildcard(pattern: str) -> re.Pattern:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.DOTALL)


def _may_start_with(pattern: str, prefix: str) -> bool:
    """Whether some string that starts with `prefix` matches the wildcard `pattern`."""
    states = {0}  # positions in the pattern reachable after the prefix read so far
    for char in prefix:
        following: set[int] = set()
        for at in states:
            while at < len(pattern) and pattern[at] == "*":
                following.add(at)  # the star takes the char and stays
                at += 1
            if at < len(pattern) and pattern[at] in (char, "?"):
                following.add(at + 1)
        if not following:
            return False
        states = following
    return True


def _applies(statement: dict, arn: str) -> bool:
    """Whether the statement's Resource could name log group `arn`, its `:*` form or one of
    its streams (the evaluator does the exact matching; this only leaves out the rest)."""
    if "NotResource" in statement:
        return True
    resources = statement.get("Resource")
    for pattern in resources if isinstance(resources, list) else [resources]:
        if not isinstance(pattern, str):
            continue
        if "${" in pattern:
            return True  # a policy variable: decided only at evaluation
        matcher = _wildcard(pattern)
        if matcher.fullmatch(arn) or matcher.fullmatch(arn + ":*") or _may_start_with(pattern, arn + ":log-stream:"):
            return True
    return False


class PoliciesApi:
    store: Store
    policies: dict[str, PolicyRecord]

    async def load_policies(self) -> None:
        self.policies = {key: PolicyRecord.from_doc(doc) for key, doc in await self.store.scan(KIND)}

    def _account_policies(self, account: str, region: str) -> list[PolicyRecord]:
        prefix = f"{account}:{region}:A:"
        return [record for key, record in self.policies.items() if key.startswith(prefix)]

    async def _resource_target(self, arn: str, ctx: RequestContext) -> GroupRef:
        group = group_from_arn(arn, ctx)
        await load_group(self.store, group)
        return group

    async def put_resource_policy(self, params: dict, ctx: RequestContext) -> dict:
        document = params.get("policyDocument")
        if not document:
            raise invalid_parameter("PolicyDocument is required.")
        if len(document) > MAX_DOCUMENT_CHARS:
            raise invalid_parameter(
                f"1 validation error detected: Value '{document}' at 'policyDocument' failed to satisfy "
                f"constraint: Member must have length less than or equal to {MAX_DOCUMENT_CHARS}"
            )
        try:
            json.loads(document)
        except ValueError:
            raise invalid_parameter("Policy document is not valid JSON.") from None
        name = params.get("policyName")
        arn = params.get("resourceArn")
        if arn:
            group = await self._resource_target(arn, ctx)
            existing = self.policies.get(group_policy_key(group))
            expected = params.get("expectedRevisionId")
            if (existing.revision if existing else None) != expected:
                raise _operation_aborted()
            record = PolicyRecord(
                ctx.account_id,
                ctx.region,
                RESOURCE_SCOPE,
                name or (existing.name if existing else None),
                document,
                now_ms(),
                group.name,
                uuid.uuid4().hex,
            )
        else:
            if not name:
                raise invalid_parameter("PolicyName is required.")
            key = f"{ctx.account_id}:{ctx.region}:A:{name}"
            if key not in self.policies and len(self._account_policies(ctx.account_id, ctx.region)) >= (
                MAX_ACCOUNT_POLICIES
            ):
                raise ServiceError("LimitExceededException", "Resource limit exceeded.", 400)
            record = PolicyRecord(ctx.account_id, ctx.region, ACCOUNT, name, document, now_ms())
        await self.store.write([Put(KIND, record.key, record.doc())])
        self.policies[record.key] = record
        out: dict[str, Any] = {"resourcePolicy": record.shown()}
        if record.revision:
            out["revisionId"] = record.revision
        return out

    async def describe_resource_policies(self, params: dict, ctx: RequestContext) -> dict:
        arn = params.get("resourceArn")
        scope = params.get("policyScope") or (RESOURCE_SCOPE if arn else ACCOUNT)
        if scope == ACCOUNT:
            found = [] if arn else self._account_policies(ctx.account_id, ctx.region)
        else:
            prefix = f"{ctx.account_id}:{ctx.region}:R:"
            found = [record for key, record in self.policies.items() if key.startswith(prefix)]
            if arn:
                match = _LOG_GROUP_ARN.fullmatch(arn)
                found = [record for record in found if match is not None and record.group == match.group(3)]
        ordered = sorted(found, key=lambda record: record.key)
        cursor = decode_token(params.get("nextToken"), "after")
        if cursor:
            ordered = [record for record in ordered if record.key > cursor["after"]]
        limit = params.get("limit") or DEFAULT_LIMIT
        page = ordered[:limit]
        result: dict[str, Any] = {"resourcePolicies": [record.shown() for record in page]}
        if len(ordered) > limit:
            result["nextToken"] = encode_token({"after": page[-1].key})
        return result

    async def delete_resource_policy(self, params: dict, ctx: RequestContext) -> dict:
        arn = params.get("resourceArn")
        if arn:
            group = group_from_arn(arn, ctx)
            record = self.policies.get(group_policy_key(group))
            if record is None:
                await load_group(self.store, group)  # say which of the two is missing
                raise not_found(f"No resource policy found for {arn}.")
            expected = params.get("expectedRevisionId")
            if expected is not None and expected != record.revision:
                raise _operation_aborted()
        else:
            name = params.get("policyName")
            if not name:
                raise invalid_parameter("PolicyName is required.")
            record = self.policies.get(f"{ctx.account_id}:{ctx.region}:A:{name}")
            if record is None:
                raise not_found(f"Policy with name [{name}] does not exist")
        await self.store.write([Delete(KIND, record.key)])
        self.policies.pop(record.key, None)
        return {}

    async def resource_policy(self, arn: str) -> str | None:
        """The policy that applies to a call on log group `arn` (also given as `...:*` or as
        one of its streams): the account-scoped statements whose Resource could name it and
        the group's own policy, as one document; "" when there are none; None when there is
        no such log group."""
        match = _LOG_GROUP_ARN.fullmatch(arn)
        if match is None:
            return None
        region, account, name = match.groups()
        if await self.store.get(GROUP_KIND, group_key(account, region, name)) is None:
            return None
        base = group_arn(account, region, name)
        statements = [
            statement
            for record in sorted(self._account_policies(account, region), key=lambda record: record.key)
            for statement in record.usable()
            if _applies(statement, base)
        ]
        own = self.policies.get(f"{account}:{region}:R:{name}")
        if own is not None:
            statements.extend(own.usable())
        if not statements:
            return ""
        combined, sids = [], set()
        for statement in statements:
            sid = statement.get("Sid")
            if sid in sids:  # one document may not repeat a Sid; the Sid decides nothing
                statement = {k: v for k, v in statement.items() if k != "Sid"}
            elif sid is not None:
                sids.add(sid)
            combined.append(statement)
        return json.dumps({"Version": "2012-10-17", "Statement": combined}, separators=(",", ":"))
