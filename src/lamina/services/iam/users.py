"""Users, groups and access keys: CreateUser ... DeleteUser, CreateGroup ... DeleteGroup,
AddUserToGroup, RemoveUserFromGroup, ListGroupsForUser, CreateAccessKey ... DeleteAccessKey,
TagUser, UntagUser, ListUserTags."""

from __future__ import annotations

from ...errors import ServiceError
from ..context import RequestContext
from .common import (
    access_key_id,
    boundary_arn,
    by_name,
    caller,
    group_out,
    list_tags,
    merged_tags,
    page,
    path_of,
    secret_access_key,
    unique_id,
    untagged,
    user_out,
    with_prefix,
)
from .state import (
    AccessKey,
    Group,
    IamState,
    User,
    already_exists,
    delete_conflict,
    limit_exceeded,
    no_such_entity,
    now,
)

MAX_ACCESS_KEYS = 2
MAX_GROUPS_PER_USER = 10


class UsersApi:
    state: IamState

    def _user_named(self, params: dict, ctx: RequestContext) -> User:
        """The user named, or (no UserName) the user who signed."""
        name = params.get("UserName")
        if name:
            return self.state.user(ctx.account_id, name)
        principal = caller(ctx)
        if principal is not None and principal.kind == "user":
            return self.state.user(ctx.account_id, principal.name)
        raise ServiceError("ValidationError", "Must specify userName when calling with non-User credentials", 400)

    # --- users --------------------------------------------------------------------------------

    async def create_user(self, params: dict, ctx: RequestContext) -> dict:
        account, name = ctx.account_id, params["UserName"]
        path = path_of(params)
        if name.lower() in self.state.account(account).users:
            raise already_exists(f"User with name {name} already exists.")
        boundary = boundary_arn(self.state, account, params.get("PermissionsBoundary"))
        tags = merged_tags({}, params.get("Tags"))
        user = User(account, name, unique_id("AIDA"), path, now(), tags, boundary)
        await self.state.save(user)
        return {"User": user_out(user, full=True)}

    async def get_user(self, params: dict, ctx: RequestContext) -> dict:
        if not params.get("UserName"):
            principal = caller(ctx)
            if principal is not None and principal.kind == "root":
                return {"User": {"UserId": ctx.account_id, "Arn": principal.arn, "CreateDate": 0}}
        return {"User": user_out(self._user_named(params, ctx), full=True)}

    async def list_users(self, params: dict, ctx: RequestContext) -> dict:
        users = with_prefix(by_name(list(self.state.account(ctx.account_id).users.values())), params)
        chosen, extra = page(users, params, key=lambda u: u.name)
        return {"Users": [user_out(user) for user in chosen], **extra}

    async def update_user(self, params: dict, ctx: RequestContext) -> dict:
        account = ctx.account_id
        user = self.state.user(account, params["UserName"])
        new_name = params.get("NewUserName")
        if new_name and new_name.lower() != user.name.lower() and new_name.lower() in self.state.account(account).users:
            raise already_exists(f"User with name {new_name} already exists.")
        new_path = path_of(params, "NewPath") if params.get("NewPath") else user.path
        if new_name and new_name != user.name:
            renamed = User.from_doc(account, {**user.doc(), "name": new_name, "path": new_path})
            await self.state.rename(user, [renamed])
        elif new_path != user.path:
            user.path = new_path
            await self.state.save(user)
        return {}

    async def delete_user(self, params: dict, ctx: RequestContext) -> dict:
        user = self.state.user(ctx.account_id, params["UserName"])
        if user.keys:
            raise delete_conflict("Cannot delete entity, must delete access keys first.")
        if user.groups:
            raise delete_conflict("Cannot delete entity, must remove users from group first.")
        if user.attached:
            raise delete_conflict("Cannot delete entity, must detach all policies first.")
        if user.inline:
            raise delete_conflict("Cannot delete entity, must delete policies first.")
        await self.state.delete(user)
        return {}

    async def tag_user(self, params: dict, ctx: RequestContext) -> dict:
        user = self.state.user(ctx.account_id, params["UserName"])
        user.tags = merged_tags(user.tags, params.get("Tags"))
        await self.state.save(user)
        return {}

    async def untag_user(self, params: dict, ctx: RequestContext) -> dict:
        user = self.state.user(ctx.account_id, params["UserName"])
        user.tags = untagged(user.tags, params.get("TagKeys"))
        await self.state.save(user)
        return {}

    async def list_user_tags(self, params: dict, ctx: RequestContext) -> dict:
        return list_tags(self.state.user(ctx.account_id, params["UserName"]).tags, params)

    # --- groups -------------------------------------------------------------------------------

    async def create_group(self, params: dict, ctx: RequestContext) -> dict:
        account, name = ctx.account_id, params["GroupName"]
        path = path_of(params)
        if name.lower() in self.state.account(account).groups:
            raise already_exists(f"Group with name {name} already exists.")
        group = Group(account, name, unique_id("AGPA"), path, now())
        await self.state.save(group)
        return {"Group": group_out(group)}

    async def get_group(self, params: dict, ctx: RequestContext) -> dict:
        group = self.state.group(ctx.account_id, params["GroupName"])
        chosen, extra = page(by_name(self.state.members(group)), params, key=lambda u: u.name)
        return {"Group": group_out(group), "Users": [user_out(user) for user in chosen], **extra}

    async def list_groups(self, params: dict, ctx: RequestContext) -> dict:
        groups = with_prefix(by_name(list(self.state.account(ctx.account_id).groups.values())), params)
        chosen, extra = page(groups, params, key=lambda g: g.name)
        return {"Groups": [group_out(group) for group in chosen], **extra}

    async def update_group(self, params: dict, ctx: RequestContext) -> dict:
        account = ctx.account_id
        group = self.state.group(account, params["GroupName"])
        new_name = params.get("NewGroupName")
        new_path = path_of(params, "NewPath") if params.get("NewPath") else group.path
        if (
            new_name
            and new_name.lower() != group.name.lower()
            and new_name.lower() in self.state.account(account).groups
        ):
            raise already_exists(f"Group with name {new_name} already exists.")
        if new_name and new_name != group.name:
            members = self.state.members(group)
            old_key, new_key = group.name.lower(), new_name.lower()
            renamed = Group.from_doc(account, {**group.doc(), "name": new_name, "path": new_path})
            for user in members:
                user.groups = [new_key if g == old_key else g for g in user.groups]
            await self.state.rename(group, [renamed, *members])
        elif new_path != group.path:
            group.path = new_path
            await self.state.save(group)
        return {}

    async def delete_group(self, params: dict, ctx: RequestContext) -> dict:
        group = self.state.group(ctx.account_id, params["GroupName"])
        if self.state.members(group):
            raise delete_conflict("Cannot delete entity, must remove users from group first.")
        if group.attached:
            raise delete_conflict("Cannot delete entity, must detach all policies first.")
        if group.inline:
            raise delete_conflict("Cannot delete entity, must delete policies first.")
        await self.state.delete(group)
        return {}

    async def add_user_to_group(self, params: dict, ctx: RequestContext) -> dict:
        group = self.state.group(ctx.account_id, params["GroupName"])
        user = self.state.user(ctx.account_id, params["UserName"])
        key = group.name.lower()
        if key not in user.groups:
            if len(user.groups) >= MAX_GROUPS_PER_USER:
                raise limit_exceeded(f"Cannot exceed quota for GroupsPerUser: {MAX_GROUPS_PER_USER}")
            user.groups = [*user.groups, key]
            await self.state.save(user)
        return {}

    async def remove_user_from_group(self, params: dict, ctx: RequestContext) -> dict:
        group = self.state.group(ctx.account_id, params["GroupName"])
        user = self.state.user(ctx.account_id, params["UserName"])
        key = group.name.lower()
        if key not in user.groups:
            raise no_such_entity(f"User {user.name} is not in group {group.name}.")
        user.groups = [g for g in user.groups if g != key]
        await self.state.save(user)
        return {}

    async def list_groups_for_user(self, params: dict, ctx: RequestContext) -> dict:
        user = self.state.user(ctx.account_id, params["UserName"])
        tables = self.state.account(ctx.account_id)
        groups = by_name([tables.groups[g] for g in user.groups if g in tables.groups])
        chosen, extra = page(groups, params, key=lambda g: g.name)
        return {"Groups": [group_out(group) for group in chosen], **extra}

    # --- access keys --------------------------------------------------------------------------

    async def create_access_key(self, params: dict, ctx: RequestContext) -> dict:
        user = self._user_named(params, ctx)
        if len(user.keys) >= MAX_ACCESS_KEYS:
            raise limit_exceeded(f"Cannot exceed quota for AccessKeysPerUser: {MAX_ACCESS_KEYS}")
        key = AccessKey(access_key_id(), secret_access_key(), "Active", now())
        user.keys = [*user.keys, key]
        try:
            await self.state.save(user)
        except BaseException:
            user.keys = [k for k in user.keys if k is not key]
            raise
        return {
            "AccessKey": {
                "UserName": user.name,
                "AccessKeyId": key.id,
                "Status": key.status,
                "SecretAccessKey": key.secret,
                "CreateDate": key.created,
            }
        }

    def _key_of(self, user: User, key_id: str) -> AccessKey:
        for key in user.keys:
            if key.id == key_id:
                return key
        raise no_such_entity(f"The Access Key with id {key_id} cannot be found.")

    async def list_access_keys(self, params: dict, ctx: RequestContext) -> dict:
        user = self._user_named(params, ctx)
        chosen, extra = page(user.keys, params, key=lambda k: k.id)
        metadata = [
            {"UserName": user.name, "AccessKeyId": k.id, "Status": k.status, "CreateDate": k.created} for k in chosen
        ]
        return {"AccessKeyMetadata": metadata, **extra}

    async def update_access_key(self, params: dict, ctx: RequestContext) -> dict:
        user = self._user_named(params, ctx)
        key = self._key_of(user, params["AccessKeyId"])
        key.status = params["Status"]
        await self.state.save(user)
        return {}

    async def delete_access_key(self, params: dict, ctx: RequestContext) -> dict:
        user = self._user_named(params, ctx)
        key = self._key_of(user, params["AccessKeyId"])
        user.keys = [k for k in user.keys if k is not key]
        await self.state.save(user)
        self.state.forget_key(key.id)
        return {}

    async def get_access_key_last_used(self, params: dict, ctx: RequestContext) -> dict:
        found = self.state.keys.get(params["AccessKeyId"])
        if found is None or found[0].account != ctx.account_id:
            raise ServiceError(
                "AccessDenied", "The specified access key does not exist or belongs to another account.", 403
            )
        return {"UserName": found[0].name, "AccessKeyLastUsed": {"ServiceName": "N/A", "Region": "N/A"}}
