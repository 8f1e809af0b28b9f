"""Policies: managed policies and their versions (CreatePolicy ... DeletePolicy,
CreatePolicyVersion ... SetDefaultPolicyVersion, TagPolicy, UntagPolicy, ListPolicyTags),
attaching them (Attach/Detach/ListAttached User/Group/RolePolicies, ListEntitiesForPolicy),
inline policies (Put/Get/Delete/List User/Group/RolePolicy), permissions boundaries
(Put/Delete User/RolePermissionsBoundary) and GetAccountAuthorizationDetails."""

from __future__ import annotations

from typing import Any

from ...errors import ServiceError
from ..context import RequestContext
from . import documents
from .common import (
    boundary_arn,
    boundary_out,
    by_name,
    group_out,
    list_tags,
    merged_tags,
    page,
    path_of,
    policy_out,
    profile_out,
    role_out,
    tags_out,
    unique_id,
    untagged,
    user_out,
)
from .state import (
    Group,
    IamState,
    Policy,
    PolicyVersion,
    RoleRecord,
    User,
    already_exists,
    delete_conflict,
    limit_exceeded,
    no_such_entity,
    now,
)

MAX_VERSIONS = 5
MAX_ATTACHED = 10
_INLINE_SIZES = {
    "user": documents.USER_INLINE_SIZE,
    "group": documents.GROUP_INLINE_SIZE,
    "role": documents.ROLE_INLINE_SIZE,
}
_QUOTA_NAMES = {"user": "PoliciesPerUser", "group": "PoliciesPerGroup", "role": "PoliciesPerRole"}

Holder = User | Group | RoleRecord


def check_managed(document: str) -> None:
    documents.check(document)
    if documents.size(document) > documents.MANAGED_SIZE:
        raise limit_exceeded(f"Cannot exceed quota for PolicySize: {documents.MANAGED_SIZE}")


class PoliciesApi:
    state: IamState

    def _holder(self, kind: str, account: str, name: str) -> Holder:
        if kind == "user":
            return self.state.user(account, name)
        if kind == "group":
            return self.state.group(account, name)
        return self.state.role(account, name)

    def _customer_policy(self, account: str, arn: str) -> Policy:
        policy = self.state.policy(account, arn)
        if policy.aws_managed:
            raise ServiceError(
                "AccessDenied", f"Policy {arn} is an AWS managed policy: it cannot be modified or deleted.", 403
            )
        return policy

    # --- managed policies ---------------------------------------------------------------------

    async def create_policy(self, params: dict, ctx: RequestContext) -> dict:
        account, name = ctx.account_id, params["PolicyName"]
        path = path_of(params)
        document = params["PolicyDocument"]
        check_managed(document)
        if name.lower() in self.state.account(account).policies:
            raise already_exists(f"A policy called {name} already exists. Duplicate names are not allowed.")
        created = now()
        policy = Policy(
            account,
            name,
            unique_id("ANPA"),
            path,
            created,
            created,
            "v1",
            {"v1": PolicyVersion("v1", document, created)},
            2,
            params.get("Description"),
            merged_tags({}, params.get("Tags")),
        )
        await self.state.save(policy)
        out = policy_out(policy, 0, 0)
        out.pop("Description", None)  # CreatePolicy does not echo it
        return {"Policy": out}

    def _policy_out(self, account: str, policy: Policy, tags: bool = True) -> dict[str, Any]:
        return policy_out(
            policy,
            self.state.attachment_count(account, policy.arn),
            self.state.boundary_count(account, policy.arn),
            tags,
        )

    async def get_policy(self, params: dict, ctx: RequestContext) -> dict:
        policy = self.state.policy(ctx.account_id, params["PolicyArn"])
        return {"Policy": self._policy_out(ctx.account_id, policy)}

    async def list_policies(self, params: dict, ctx: RequestContext) -> dict:
        account = ctx.account_id
        scope = params.get("Scope") or "All"
        chosen: list[Policy] = []
        if scope in ("All", "AWS"):
            chosen += list(self.state.aws_policies.values())
        if scope in ("All", "Local"):
            chosen += list(self.state.account(account).policies.values())
        prefix = params.get("PathPrefix") or "/"
        chosen = [p for p in chosen if p.path.startswith(prefix)]
        if params.get("OnlyAttached"):
            chosen = [p for p in chosen if self.state.attachment_count(account, p.arn) > 0]
        usage = params.get("PolicyUsageFilter")
        if usage == "PermissionsBoundary":
            chosen = [p for p in chosen if self.state.boundary_count(account, p.arn) > 0]
        elif usage == "PermissionsPolicy":
            chosen = [p for p in chosen if self.state.attachment_count(account, p.arn) > 0]
        chosen.sort(key=lambda p: (p.name.lower(), p.account))
        window, extra = page(chosen, params, key=lambda p: p.arn)
        return {"Policies": [self._policy_out(account, p, tags=False) for p in window], **extra}

    async def delete_policy(self, params: dict, ctx: RequestContext) -> dict:
        account = ctx.account_id
        policy = self._customer_policy(account, params["PolicyArn"])
        if self.state.attachment_count(account, policy.arn) or self.state.boundary_count(account, policy.arn):
            raise delete_conflict("Cannot delete a policy attached to entities.")
        if len(policy.versions) > 1:
            raise delete_conflict(
                "This policy has more than one version. Before you delete a policy, you must delete the "
                "policy's versions. The default version is deleted with the policy."
            )
        await self.state.delete(policy)
        return {}

    async def tag_policy(self, params: dict, ctx: RequestContext) -> dict:
        policy = self._customer_policy(ctx.account_id, params["PolicyArn"])
        policy.tags = merged_tags(policy.tags, params.get("Tags"))
        await self.state.save(policy)
        return {}

    async def untag_policy(self, params: dict, ctx: RequestContext) -> dict:
        policy = self._customer_policy(ctx.account_id, params["PolicyArn"])
        policy.tags = untagged(policy.tags, params.get("TagKeys"))
        await self.state.save(policy)
        return {}

    async def list_policy_tags(self, params: dict, ctx: RequestContext) -> dict:
        return list_tags(self.state.policy(ctx.account_id, params["PolicyArn"]).tags, params)

    # --- versions -----------------------------------------------------------------------------

    @staticmethod
    def _version_out(policy: Policy, version: PolicyVersion, document: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "VersionId": version.id,
            "IsDefaultVersion": version.id == policy.default,
            "CreateDate": version.created,
        }
        if document:
            out["Document"] = documents.encode(version.document)
        return out

    def _version(self, policy: Policy, version_id: str) -> PolicyVersion:
        version = policy.versions.get(version_id)
        if version is None:
            raise no_such_entity(f"Policy {policy.arn} version {version_id} does not exist or is not attachable.")
        return version

    async def create_policy_version(self, params: dict, ctx: RequestContext) -> dict:
        policy = self._customer_policy(ctx.account_id, params["PolicyArn"])
        document = params["PolicyDocument"]
        check_managed(document)
        if len(policy.versions) >= MAX_VERSIONS:
            raise limit_exceeded(
                f"A managed policy can have up to {MAX_VERSIONS} versions. "
                "Before you create a new version, you must delete an existing version."
            )
        version = PolicyVersion(f"v{policy.next_version}", document, now())
        policy.versions = {**policy.versions, version.id: version}
        policy.next_version += 1
        if params.get("SetAsDefault"):
            policy.default = version.id
            policy.updated = version.created
        await self.state.save(policy)
        return {"PolicyVersion": self._version_out(policy, version, document=False)}

    async def get_policy_version(self, params: dict, ctx: RequestContext) -> dict:
        policy = self.state.policy(ctx.account_id, params["PolicyArn"])
        return {"PolicyVersion": self._version_out(policy, self._version(policy, params["VersionId"]))}

    async def list_policy_versions(self, params: dict, ctx: RequestContext) -> dict:
        policy = self.state.policy(ctx.account_id, params["PolicyArn"])
        versions = sorted(policy.versions.values(), key=lambda v: int(v.id[1:]), reverse=True)
        chosen, extra = page(versions, params, key=lambda v: v.id)
        return {"Versions": [self._version_out(policy, v, document=False) for v in chosen], **extra}

    async def delete_policy_version(self, params: dict, ctx: RequestContext) -> dict:
        policy = self._customer_policy(ctx.account_id, params["PolicyArn"])
        version = self._version(policy, params["VersionId"])
        if version.id == policy.default:
            raise delete_conflict("Cannot delete the default version of a policy.")
        policy.versions = {k: v for k, v in policy.versions.items() if k != version.id}
        await self.state.save(policy)
        return {}

    async def set_default_policy_version(self, params: dict, ctx: RequestContext) -> dict:
        policy = self._customer_policy(ctx.account_id, params["PolicyArn"])
        version = self._version(policy, params["VersionId"])
        policy.default = version.id
        policy.updated = now()
        await self.state.save(policy)
        return {}

    # --- attaching ----------------------------------------------------------------------------

    async def _attach(self, kind: str, name: str, arn: str, ctx: RequestContext) -> dict:
        holder = self._holder(kind, ctx.account_id, name)
        policy = self.state.attachable(ctx.account_id, arn)
        if policy.arn not in holder.attached:
            if len(holder.attached) >= MAX_ATTACHED:
                raise limit_exceeded(f"Cannot exceed quota for {_QUOTA_NAMES[kind]}: {MAX_ATTACHED}")
            holder.attached = [*holder.attached, policy.arn]
            await self.state.save(holder)
        return {}

    async def _detach(self, kind: str, name: str, arn: str, ctx: RequestContext) -> dict:
        holder = self._holder(kind, ctx.account_id, name)
        if arn not in holder.attached:
            raise no_such_entity(f"Policy {arn} was not found.")
        holder.attached = [a for a in holder.attached if a != arn]
        await self.state.save(holder)
        return {}

    def _attached(self, kind: str, name: str, params: dict, ctx: RequestContext) -> dict:
        holder = self._holder(kind, ctx.account_id, name)
        prefix = params.get("PathPrefix") or "/"
        policies = [p for arn in holder.attached if (p := self.state.find_policy(ctx.account_id, arn)) is not None]
        policies = [p for p in policies if p.path.startswith(prefix)]
        chosen, extra = page(policies, params, key=lambda p: p.arn)
        return {"AttachedPolicies": [{"PolicyName": p.name, "PolicyArn": p.arn} for p in chosen], **extra}

    async def attach_user_policy(self, params: dict, ctx: RequestContext) -> dict:
        return await self._attach("user", params["UserName"], params["PolicyArn"], ctx)

    async def attach_group_policy(self, params: dict, ctx: RequestContext) -> dict:
        return await self._attach("group", params["GroupName"], params["PolicyArn"], ctx)

    async def attach_role_policy(self, params: dict, ctx: RequestContext) -> dict:
        return await self._attach("role", params["RoleName"], params["PolicyArn"], ctx)

    async def detach_user_policy(self, params: dict, ctx: RequestContext) -> dict:
        return await self._detach("user", params["UserName"], params["PolicyArn"], ctx)

    async def detach_group_policy(self, params: dict, ctx: RequestContext) -> dict:
        return await self._detach("group", params["GroupName"], params["PolicyArn"], ctx)

    async def detach_role_policy(self, params: dict, ctx: RequestContext) -> dict:
        return await self._detach("role", params["RoleName"], params["PolicyArn"], ctx)

    async def list_attached_user_policies(self, params: dict, ctx: RequestContext) -> dict:
        return self._attached("user", params["UserName"], params, ctx)

    async def list_attached_group_policies(self, params: dict, ctx: RequestContext) -> dict:
        return self._attached("group", params["GroupName"], params, ctx)

    async def list_attached_role_policies(self, params: dict, ctx: RequestContext) -> dict:
        return self._attached("role", params["RoleName"], params, ctx)

    async def list_entities_for_policy(self, params: dict, ctx: RequestContext) -> dict:
        account = ctx.account_id
        policy = self.state.policy(account, params["PolicyArn"])
        usage = params.get("PolicyUsageFilter")
        wanted = params.get("EntityFilter")
        prefix = params.get("PathPrefix") or "/"

        def uses(holder: Any) -> bool:
            if not holder.path.startswith(prefix):
                return False
            attached = policy.arn in holder.attached
            bounded = getattr(holder, "boundary", None) == policy.arn
            if usage == "PermissionsPolicy":
                return attached
            if usage == "PermissionsBoundary":
                return bounded
            return attached or bounded

        tables = self.state.account(account)
        entities: list[tuple[str, Any]] = []
        if wanted in (None, "Group"):
            entities += [("group", g) for g in by_name(list(tables.groups.values())) if uses(g)]
        if wanted in (None, "User"):
            entities += [("user", u) for u in by_name(list(tables.users.values())) if uses(u)]
        if wanted in (None, "Role"):
            entities += [("role", r) for r in by_name(list(tables.roles.values())) if uses(r)]
        chosen, extra = page(entities, params, key=lambda e: e[0] + "/" + e[1].name)
        return {
            "PolicyGroups": [{"GroupName": e.name, "GroupId": e.id} for k, e in chosen if k == "group"],
            "PolicyUsers": [{"UserName": e.name, "UserId": e.id} for k, e in chosen if k == "user"],
            "PolicyRoles": [{"RoleName": e.name, "RoleId": e.id} for k, e in chosen if k == "role"],
            **extra,
        }

    # --- inline policies ----------------------------------------------------------------------

    async def _put_inline(self, kind: str, name: str, params: dict, ctx: RequestContext) -> dict:
        holder = self._holder(kind, ctx.account_id, name)
        document = params["PolicyDocument"]
        documents.check(document)
        policy_name = params["PolicyName"]
        others = sum(documents.size(d) for n, d in holder.inline.items() if n != policy_name)
        quota = _INLINE_SIZES[kind]
        if others + documents.size(document) > quota:
            raise limit_exceeded(f"Maximum policy size of {quota} bytes exceeded for {kind} {holder.name}")
        holder.inline = {**holder.inline, policy_name: document}
        await self.state.save(holder)
        return {}

    def _inline(self, kind: str, holder: Holder, policy_name: str) -> str:
        document = holder.inline.get(policy_name)
        if document is None:
            raise no_such_entity(f"The {kind} policy with name {policy_name} cannot be found.")
        return document

    async def _get_inline(self, kind: str, name: str, params: dict, ctx: RequestContext) -> dict:
        holder = self._holder(kind, ctx.account_id, name)
        document = self._inline(kind, holder, params["PolicyName"])
        label = {"user": "UserName", "group": "GroupName", "role": "RoleName"}[kind]
        return {label: holder.name, "PolicyName": params["PolicyName"], "PolicyDocument": documents.encode(document)}

    async def _delete_inline(self, kind: str, name: str, params: dict, ctx: RequestContext) -> dict:
        holder = self._holder(kind, ctx.account_id, name)
        self._inline(kind, holder, params["PolicyName"])
        holder.inline = {k: v for k, v in holder.inline.items() if k != params["PolicyName"]}
        await self.state.save(holder)
        return {}

    def _list_inline(self, kind: str, name: str, params: dict, ctx: RequestContext) -> dict:
        holder = self._holder(kind, ctx.account_id, name)
        chosen, extra = page(sorted(holder.inline), params, key=lambda n: n)
        return {"PolicyNames": chosen, **extra}

    async def put_user_policy(self, params: dict, ctx: RequestContext) -> dict:
        return await self._put_inline("user", params["UserName"], params, ctx)

    async def put_group_policy(self, params: dict, ctx: RequestContext) -> dict:
        return await self._put_inline("group", params["GroupName"], params, ctx)

    async def put_role_policy(self, params: dict, ctx: RequestContext) -> dict:
        return await self._put_inline("role", params["RoleName"], params, ctx)

    async def get_user_policy(self, params: dict, ctx: RequestContext) -> dict:
        return await self._get_inline("user", params["UserName"], params, ctx)

    async def get_group_policy(self, params: dict, ctx: RequestContext) -> dict:
        return await self._get_inline("group", params["GroupName"], params, ctx)

    async def get_role_policy(self, params: dict, ctx: RequestContext) -> dict:
        return await self._get_inline("role", params["RoleName"], params, ctx)

    async def delete_user_policy(self, params: dict, ctx: RequestContext) -> dict:
        return await self._delete_inline("user", params["UserName"], params, ctx)

    async def delete_group_policy(self, params: dict, ctx: RequestContext) -> dict:
        return await self._delete_inline("group", params["GroupName"], params, ctx)

    async def delete_role_policy(self, params: dict, ctx: RequestContext) -> dict:
        return await self._delete_inline("role", params["RoleName"], params, ctx)

    async def list_user_policies(self, params: dict, ctx: RequestContext) -> dict:
        return self._list_inline("user", params["UserName"], params, ctx)

    async def list_group_policies(self, params: dict, ctx: RequestContext) -> dict:
        return self._list_inline("group", params["GroupName"], params, ctx)

    async def list_role_policies(self, params: dict, ctx: RequestContext) -> dict:
        return self._list_inline("role", params["RoleName"], params, ctx)

    # --- permissions boundaries ---------------------------------------------------------------

    async def put_user_permissions_boundary(self, params: dict, ctx: RequestContext) -> dict:
        user = self.state.user(ctx.account_id, params["UserName"])
        user.boundary = boundary_arn(self.state, ctx.account_id, params["PermissionsBoundary"])
        await self.state.save(user)
        return {}

    async def put_role_permissions_boundary(self, params: dict, ctx: RequestContext) -> dict:
        role = self.state.role(ctx.account_id, params["RoleName"])
        role.boundary = boundary_arn(self.state, ctx.account_id, params["PermissionsBoundary"])
        await self.state.save(role)
        return {}

    async def delete_user_permissions_boundary(self, params: dict, ctx: RequestContext) -> dict:
        user = self.state.user(ctx.account_id, params["UserName"])
        if user.boundary is not None:
            user.boundary = None
            await self.state.save(user)
        return {}

    async def delete_role_permissions_boundary(self, params: dict, ctx: RequestContext) -> dict:
        role = self.state.role(ctx.account_id, params["RoleName"])
        if role.boundary is not None:
            role.boundary = None
            await self.state.save(role)
        return {}

    # --- the whole account --------------------------------------------------------------------

    async def get_account_authorization_details(self, params: dict, ctx: RequestContext) -> dict:
        account = ctx.account_id
        tables = self.state.account(account)
        wanted = set(params.get("Filter") or ["User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"])

        def attached(holder: Holder) -> list[dict]:
            found = [self.state.find_policy(account, arn) for arn in holder.attached]
            return [{"PolicyName": p.name, "PolicyArn": p.arn} for p in found if p is not None]

        def inline(holder: Holder) -> list[dict]:
            return [{"PolicyName": n, "PolicyDocument": documents.encode(d)} for n, d in holder.inline.items()]

        items: list[tuple[str, dict]] = []
        if "User" in wanted:
            for user in by_name(list(tables.users.values())):
                detail = user_out(user) | {
                    "UserPolicyList": inline(user),
                    "GroupList": [tables.groups[g].name for g in user.groups if g in tables.groups],
                    "AttachedManagedPolicies": attached(user),
                }
                detail.update(boundary_out(user.boundary))
                if user.tags:
                    detail["Tags"] = tags_out(user.tags)
                items.append(("UserDetailList", detail))
        if "Group" in wanted:
            for group in by_name(list(tables.groups.values())):
                detail = group_out(group) | {
                    "GroupPolicyList": inline(group),
                    "AttachedManagedPolicies": attached(group),
                }
                items.append(("GroupDetailList", detail))
        if "Role" in wanted:
            for role in by_name(list(tables.roles.values())):
                profiles = by_name(self.state.profiles_of(role))
                detail = role_out(role, full=True) | {
                    "InstanceProfileList": [profile_out(p, [role], tags=True) for p in profiles],
                    "RolePolicyList": inline(role),
                    "AttachedManagedPolicies": attached(role),
                }
                detail.pop("MaxSessionDuration", None)
                detail.pop("Description", None)
                items.append(("RoleDetailList", detail))
        policies: list[Policy] = []
        if "LocalManagedPolicy" in wanted:
            policies += by_name(list(tables.policies.values()))
        if "AWSManagedPolicy" in wanted:
            policies += [
                p
                for p in by_name(list(self.state.aws_policies.values()))
                if self.state.attachment_count(account, p.arn) or self.state.boundary_count(account, p.arn)
            ]
        for policy in policies:
            detail = self._policy_out(account, policy, tags=False)
            detail.pop("Tags", None)
            detail["PolicyVersionList"] = [
                self._version_out(policy, v)
                for v in sorted(policy.versions.values(), key=lambda v: int(v.id[1:]), reverse=True)
            ]
            items.append(("Policies", detail))
        chosen, extra = page(items, params, key=lambda item: item[0])
        out: dict[str, Any] = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}
        for where, detail in chosen:
            out[where].append(detail)
        return out | extra
