"""Roles and instance profiles: CreateRole ... DeleteRole, UpdateAssumeRolePolicy,
TagRole, UntagRole, ListRoleTags; CreateInstanceProfile ... DeleteInstanceProfile,
AddRoleToInstanceProfile, RemoveRoleFromInstanceProfile, ListInstanceProfilesForRole,
TagInstanceProfile, UntagInstanceProfile, ListInstanceProfileTags."""

from __future__ import annotations

import re

from ...errors import ServiceError
from ...policy.errors import invalid_principal
from ..context import RequestContext
from . import documents
from .common import (
    boundary_arn,
    by_name,
    list_tags,
    merged_tags,
    page,
    path_of,
    profile_out,
    role_out,
    unique_id,
    untagged,
    with_prefix,
)
from .state import (
    IamState,
    InstanceProfile,
    RoleRecord,
    already_exists,
    delete_conflict,
    limit_exceeded,
    no_such_entity,
    now,
)

MIN_SESSION, MAX_SESSION = 3600, 43200


def _session_duration(value: int | None, default: int) -> int:
    if value is None:
        return default
    if not MIN_SESSION <= value <= MAX_SESSION:
        bound = "greater than or equal to 3600" if value < MIN_SESSION else "less than or equal to 43200"
        raise ServiceError(
            "ValidationError",
            f"1 validation error detected: Value '{value}' at 'maxSessionDuration' failed to satisfy constraint: "
            f"Member must have value {bound}",
            400,
        )
    return value


_IAM_PRINCIPAL = re.compile(r"^arn:aws:iam::(\d{12}):(user|role)/(?:.*/)?([^/]+)$")


def check_trust(document: str, state: IamState) -> None:
    decoded = documents.check(document, trust=True)
    if documents.size(document) > documents.TRUST_SIZE:
        raise limit_exceeded(f"Cannot exceed quota for ACLSizePerRole: {documents.TRUST_SIZE}")
    _check_principals(decoded, state)


def _check_principals(decoded: dict, state: IamState) -> None:
    """A user or role a trust policy names must exist, as IAM checks (it keeps the principal's
    unique id): MalformedPolicyDocument "Invalid principal in policy" otherwise."""
    statements = decoded.get("Statement")
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, dict):
            continue
        for element in ("Principal", "NotPrincipal"):
            named = statement.get(element)
            values = named.get("AWS") if isinstance(named, dict) else None
            for value in values if isinstance(values, list) else [values] if isinstance(values, str) else []:
                matched = _IAM_PRINCIPAL.match(value)
                if matched is None:
                    continue
                account, kind, name = matched.groups()
                tables = state.accounts.get(account)
                found = (tables.users if kind == "user" else tables.roles).get(name.lower()) if tables else None
                if found is None or found.arn != value:
                    raise documents.malformed(invalid_principal("AWS", value))


class RolesApi:
    state: IamState

    # --- roles --------------------------------------------------------------------------------

    async def create_role(self, params: dict, ctx: RequestContext) -> dict:
        account, name = ctx.account_id, params["RoleName"]
        path = path_of(params)
        trust = params["AssumeRolePolicyDocument"]
        check_trust(trust, self.state)
        if name.lower() in self.state.account(account).roles:
            raise already_exists(f"Role with name {name} already exists.")
        role = RoleRecord(
            account,
            name,
            unique_id("AROA"),
            path,
            now(),
            trust,
            params.get("Description"),
            _session_duration(params.get("MaxSessionDuration"), MIN_SESSION),
            merged_tags({}, params.get("Tags")),
            boundary_arn(self.state, account, params.get("PermissionsBoundary")),
        )
        await self.state.save(role)
        return {"Role": _created(role)}

    async def get_role(self, params: dict, ctx: RequestContext) -> dict:
        return {"Role": role_out(self.state.role(ctx.account_id, params["RoleName"]), full=True)}

    async def list_roles(self, params: dict, ctx: RequestContext) -> dict:
        roles = with_prefix(by_name(list(self.state.account(ctx.account_id).roles.values())), params)
        chosen, extra = page(roles, params, key=lambda r: r.name)
        return {"Roles": [role_out(role) for role in chosen], **extra}

    async def update_role(self, params: dict, ctx: RequestContext) -> dict:
        role = self.state.role(ctx.account_id, params["RoleName"])
        duration = _session_duration(params.get("MaxSessionDuration"), role.max_session)
        if "Description" in params:
            role.description = params["Description"]
        role.max_session = duration
        await self.state.save(role)
        return {}

    async def update_role_description(self, params: dict, ctx: RequestContext) -> dict:
        role = self.state.role(ctx.account_id, params["RoleName"])
        role.description = params["Description"]
        await self.state.save(role)
        return {"Role": role_out(role, full=True)}

    async def update_assume_role_policy(self, params: dict, ctx: RequestContext) -> dict:
        role = self.state.role(ctx.account_id, params["RoleName"])
        check_trust(params["PolicyDocument"], self.state)
        role.trust = params["PolicyDocument"]
        await self.state.save(role)
        return {}

    async def delete_role(self, params: dict, ctx: RequestContext) -> dict:
        role = self.state.role(ctx.account_id, params["RoleName"])
        if self.state.profiles_of(role):
            raise delete_conflict("Cannot delete entity, must remove roles from instance profile first.")
        if role.attached:
            raise delete_conflict("Cannot delete entity, must detach all policies first.")
        if role.inline:
            raise delete_conflict("Cannot delete entity, must delete policies first.")
        await self.state.delete(role)
        return {}

    async def tag_role(self, params: dict, ctx: RequestContext) -> dict:
        role = self.state.role(ctx.account_id, params["RoleName"])
        role.tags = merged_tags(role.tags, params.get("Tags"))
        await self.state.save(role)
        return {}

    async def untag_role(self, params: dict, ctx: RequestContext) -> dict:
        role = self.state.role(ctx.account_id, params["RoleName"])
        role.tags = untagged(role.tags, params.get("TagKeys"))
        await self.state.save(role)
        return {}

    async def list_role_tags(self, params: dict, ctx: RequestContext) -> dict:
        return list_tags(self.state.role(ctx.account_id, params["RoleName"]).tags, params)

    # --- instance profiles --------------------------------------------------------------------

    def _roles_of(self, profile: InstanceProfile) -> list[RoleRecord]:
        roles = self.state.account(profile.account).roles
        return [roles[name] for name in profile.roles if name in roles]

    async def create_instance_profile(self, params: dict, ctx: RequestContext) -> dict:
        account, name = ctx.account_id, params["InstanceProfileName"]
        path = path_of(params)
        if name.lower() in self.state.account(account).profiles:
            raise already_exists(f"Instance Profile {name} already exists.")
        profile = InstanceProfile(account, name, unique_id("AIPA"), path, now(), merged_tags({}, params.get("Tags")))
        await self.state.save(profile)
        return {"InstanceProfile": profile_out(profile, [], tags=True)}

    async def get_instance_profile(self, params: dict, ctx: RequestContext) -> dict:
        profile = self.state.profile(ctx.account_id, params["InstanceProfileName"])
        return {"InstanceProfile": profile_out(profile, self._roles_of(profile), tags=True)}

    async def list_instance_profiles(self, params: dict, ctx: RequestContext) -> dict:
        profiles = with_prefix(by_name(list(self.state.account(ctx.account_id).profiles.values())), params)
        chosen, extra = page(profiles, params, key=lambda p: p.name)
        return {"InstanceProfiles": [profile_out(p, self._roles_of(p)) for p in chosen], **extra}

    async def list_instance_profiles_for_role(self, params: dict, ctx: RequestContext) -> dict:
        role = self.state.role(ctx.account_id, params["RoleName"])
        chosen, extra = page(by_name(self.state.profiles_of(role)), params, key=lambda p: p.name)
        return {"InstanceProfiles": [profile_out(p, self._roles_of(p)) for p in chosen], **extra}

    async def delete_instance_profile(self, params: dict, ctx: RequestContext) -> dict:
        profile = self.state.profile(ctx.account_id, params["InstanceProfileName"])
        if profile.roles:
            raise delete_conflict("Cannot delete entity, must remove roles from instance profile first.")
        await self.state.delete(profile)
        return {}

    async def add_role_to_instance_profile(self, params: dict, ctx: RequestContext) -> dict:
        profile = self.state.profile(ctx.account_id, params["InstanceProfileName"])
        role = self.state.role(ctx.account_id, params["RoleName"])
        if role.name.lower() in profile.roles:
            raise limit_exceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
        if profile.roles:
            raise limit_exceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
        profile.roles = [role.name.lower()]
        await self.state.save(profile)
        return {}

    async def remove_role_from_instance_profile(self, params: dict, ctx: RequestContext) -> dict:
        profile = self.state.profile(ctx.account_id, params["InstanceProfileName"])
        role = self.state.role(ctx.account_id, params["RoleName"])
        if role.name.lower() not in profile.roles:
            raise no_such_entity(f"The role with name {role.name} cannot be found.")
        profile.roles = [r for r in profile.roles if r != role.name.lower()]
        await self.state.save(profile)
        return {}

    async def tag_instance_profile(self, params: dict, ctx: RequestContext) -> dict:
        profile = self.state.profile(ctx.account_id, params["InstanceProfileName"])
        profile.tags = merged_tags(profile.tags, params.get("Tags"))
        await self.state.save(profile)
        return {}

    async def untag_instance_profile(self, params: dict, ctx: RequestContext) -> dict:
        profile = self.state.profile(ctx.account_id, params["InstanceProfileName"])
        profile.tags = untagged(profile.tags, params.get("TagKeys"))
        await self.state.save(profile)
        return {}

    async def list_instance_profile_tags(self, params: dict, ctx: RequestContext) -> dict:
        return list_tags(self.state.profile(ctx.account_id, params["InstanceProfileName"]).tags, params)


def _created(role: RoleRecord) -> dict:
    """CreateRole's answer: the role, without RoleLastUsed (it has never been used)."""
    out = role_out(role, full=True)
    out.pop("RoleLastUsed", None)
    return out
