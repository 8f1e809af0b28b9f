"""IAM's entities: what they are, where they are kept, how they are found.

IAM is global: every entity belongs to an account, never to a region, and one account
never sees another's. Names are unique within an account and kind whatever their case or
path ("Bob" and "bob" are the same user), so entities are filed under the lower-cased name.

    kind "iam_user"     key <account>/<name>   path, id, tags, boundary, attached ARNs, inline
                                               policies, groups, access keys
    kind "iam_group"    key <account>/<name>   path, id, attached ARNs, inline policies
    kind "iam_role"     key <account>/<name>   path, id, trust policy, max session, tags,
                                               boundary, attached ARNs, inline policies
    kind "iam_policy"   key <account>/<name>   a customer managed policy and its versions
    kind "iam_profile"  key <account>/<name>   an instance profile and its role
    kind "iam_oidc_provider" key <account>/<url>  an OpenID Connect provider (its URL without
                                               the scheme, lower-cased in the key): client
                                               ids, thumbprints, tags

A user's group memberships live on the user (AddUserToGroup changes one document); a
profile's role on the profile. Every change is written to the store before the caller hears
of it; the maps are rebuilt from the store at start. The AWS managed policies are data
shipped with the package (managed.py), the same in every account.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any, ClassVar

from ...errors import ServiceError
from ...store.base import Delete, Put, Store

KINDS = ("iam_user", "iam_group", "iam_role", "iam_policy", "iam_profile", "iam_oidc_provider")


def now() -> float:
    return time.time()


def no_such_entity(message: str) -> ServiceError:
    return ServiceError("NoSuchEntity", message, 404)


def already_exists(message: str) -> ServiceError:
    return ServiceError("EntityAlreadyExists", message, 409)


def delete_conflict(message: str) -> ServiceError:
    return ServiceError("DeleteConflict", message, 409)


def limit_exceeded(message: str) -> ServiceError:
    return ServiceError("LimitExceeded", message, 409)


def invalid_input(message: str) -> ServiceError:
    return ServiceError("InvalidInput", message, 400)


@dataclass
class AccessKey:
    id: str
    secret: str
    status: str
    created: float


@dataclass
class Stored:
    """The store document of an entity and back: every field but `account` under its own
    name (the account is in the key), lists of nested records (a user's access keys) as
    lists of their fields. A field missing from an older document takes its default."""

    NESTED: ClassVar[dict[str, type]] = {}

    def doc(self) -> dict[str, Any]:
        document: dict[str, Any] = {}
        for item in fields(self):
            if item.name == "account":
                continue
            value = getattr(self, item.name)
            document[item.name] = [asdict(v) for v in value] if item.name in self.NESTED else value
        return document

    @classmethod
    def from_doc(cls, account: str, doc: dict[str, Any]) -> Any:
        values: dict[str, Any] = {"account": account}
        for item in fields(cls):
            if item.name == "account" or item.name not in doc:
                continue
            value = doc[item.name]
            if item.name in cls.NESTED:
                value = [cls.NESTED[item.name](**v) for v in value or ()]
            elif value is None and item.default_factory is not MISSING:
                value = item.default_factory()
            elif isinstance(value, (list, dict)):
                value = type(value)(value)  # the entity's own, not the cached document's
            values[item.name] = value
        return cls(**values)


@dataclass
class User(Stored):
    account: str
    name: str
    id: str
    path: str
    created: float
    tags: dict[str, str] = field(default_factory=dict)
    boundary: str | None = None
    attached: list[str] = field(default_factory=list)
    inline: dict[str, str] = field(default_factory=dict)
    groups: list[str] = field(default_factory=list)  # lower-cased group names
    keys: list[AccessKey] = field(default_factory=list)
    NESTED: ClassVar[dict[str, type]] = {"keys": AccessKey}

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account}:user{self.path}{self.name}"


@dataclass
class Group(Stored):
    account: str
    name: str
    id: str
    path: str
    created: float
    attached: list[str] = field(default_factory=list)
    inline: dict[str, str] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account}:group{self.path}{self.name}"


@dataclass
class RoleRecord(Stored):
    account: str
    name: str
    id: str
    path: str
    created: float
    trust: str
    description: str | None = None
    max_session: int = 3600
    tags: dict[str, str] = field(default_factory=dict)
    boundary: str | None = None
    attached: list[str] = field(default_factory=list)
    inline: dict[str, str] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account}:role{self.path}{self.name}"


@dataclass
class PolicyVersion:
    id: str  # v1, v2, ...
    document: str
    created: float


@dataclass
class Policy:
    """A managed policy: a customer's (account = 12 digits) or AWS's (account "aws")."""

    account: str
    name: str
    id: str
    path: str
    created: float
    updated: float
    default: str
    versions: dict[str, PolicyVersion]
    next_version: int
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account}:policy{self.path}{self.name}"

    @property
    def aws_managed(self) -> bool:
        return self.account == "aws"

    @property
    def document(self) -> str:
        return self.versions[self.default].document

    def doc(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "id": self.id,
            "path": self.path,
            "created": self.created,
            "updated": self.updated,
            "default": self.default,
            "versions": [{"id": v.id, "document": v.document, "created": v.created} for v in self.versions.values()],
            "next": self.next_version,
            "description": self.description,
            "tags": self.tags,
        }

    @classmethod
    def from_doc(cls, account: str, doc: dict[str, Any]) -> Policy:
        return cls(
            account,
            doc["name"],
            doc["id"],
            doc["path"],
            doc["created"],
            doc["updated"],
            doc["default"],
            {v["id"]: PolicyVersion(v["id"], v["document"], v["created"]) for v in doc["versions"]},
            int(doc["next"]),
            doc.get("description"),
            dict(doc.get("tags") or {}),
        )


@dataclass
class InstanceProfile(Stored):
    account: str
    name: str
    id: str
    path: str
    created: float
    tags: dict[str, str] = field(default_factory=dict)
    roles: list[str] = field(default_factory=list)  # lower-cased role names (at most one)

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account}:instance-profile{self.path}{self.name}"


@dataclass
class OidcProvider(Stored):
    """An OpenID Connect identity provider: `name` is its URL without the scheme
    (`token.actions.githubusercontent.com`), what its ARN and its condition keys use."""

    account: str
    name: str
    created: float
    client_ids: list[str] = field(default_factory=list)
    thumbprints: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account}:oidc-provider/{self.name}"


@dataclass
class Account:
    users: dict[str, User] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    roles: dict[str, RoleRecord] = field(default_factory=dict)
    policies: dict[str, Policy] = field(default_factory=dict)
    profiles: dict[str, InstanceProfile] = field(default_factory=dict)
    oidc_providers: dict[str, OidcProvider] = field(default_factory=dict)


Entity = User | Group | RoleRecord | Policy | InstanceProfile | OidcProvider
_KIND_OF = {
    User: "iam_user",
    Group: "iam_group",
    RoleRecord: "iam_role",
    Policy: "iam_policy",
    OidcProvider: "iam_oidc_provider",
}


def kind_of(entity: Entity) -> str:
    return "iam_profile" if isinstance(entity, InstanceProfile) else _KIND_OF[type(entity)]


def _table(account: Account, kind: str) -> dict[str, Any]:
    tables: dict[str, dict[str, Any]] = {
        "iam_user": account.users,
        "iam_group": account.groups,
        "iam_role": account.roles,
        "iam_policy": account.policies,
        "iam_profile": account.profiles,
        "iam_oidc_provider": account.oidc_providers,
    }
    return tables[kind]


class IamState:
    def __init__(self, store: Store, aws_policies: dict[str, Policy] | None = None) -> None:
        self.store = store
        self.accounts: dict[str, Account] = {}
        self.keys: dict[str, tuple[User, AccessKey]] = {}  # access key id -> its user and key
        self.aws_policies: dict[str, Policy] = aws_policies or {}  # ARN -> AWS managed policy (managed.py)
        # Counts every change: what reads IAM for authorization caches by it (access/).
        self.generation = 0

    async def load(self) -> None:
        self.generation += 1
        for kind, cls in (
            ("iam_user", User),
            ("iam_group", Group),
            ("iam_role", RoleRecord),
            ("iam_policy", Policy),
            ("iam_profile", InstanceProfile),
            ("iam_oidc_provider", OidcProvider),
        ):
            for key, doc in await self.store.scan(kind):
                account = key.split("/", 1)[0]
                entity = cls.from_doc(account, doc)
                _table(self.account(account), kind)[entity.name.lower()] = entity
                if isinstance(entity, User):
                    for access_key in entity.keys:
                        self.keys[access_key.id] = (entity, access_key)

    def reset(self) -> None:
        self.generation += 1
        self.accounts.clear()
        self.keys.clear()

    def account(self, account: str) -> Account:
        found = self.accounts.get(account)
        if found is None:
            found = self.accounts[account] = Account()
        return found

    # --- persisting -----------------------------------------------------------------------

    async def save(self, entity: Entity) -> None:
        self.generation += 1
        kind = kind_of(entity)
        await self.store.write([Put(kind, f"{entity.account}/{entity.name.lower()}", entity.doc())])
        _table(self.account(entity.account), kind)[entity.name.lower()] = entity
        if isinstance(entity, User):
            for access_key in entity.keys:
                self.keys[access_key.id] = (entity, access_key)

    async def save_all(self, entities: list[Entity]) -> None:
        self.generation += 1
        await self.store.write(
            [Put(kind_of(e), f"{e.account}/{e.name.lower()}", e.doc()) for e in entities]  # one atomic batch
        )
        for entity in entities:
            _table(self.account(entity.account), kind_of(entity))[entity.name.lower()] = entity
            if isinstance(entity, User):
                for access_key in entity.keys:
                    self.keys[access_key.id] = (entity, access_key)

    async def rename(self, old: Entity, entities: list[Entity]) -> None:
        """`old` gone and `entities` (its renamed self first) saved, in one atomic batch."""
        self.generation += 1
        kind = kind_of(old)
        await self.store.write(
            [Delete(kind, f"{old.account}/{old.name.lower()}")]
            + [Put(kind_of(e), f"{e.account}/{e.name.lower()}", e.doc()) for e in entities]
        )
        _table(self.account(old.account), kind).pop(old.name.lower(), None)
        for entity in entities:
            _table(self.account(entity.account), kind_of(entity))[entity.name.lower()] = entity
            if isinstance(entity, User):
                for access_key in entity.keys:
                    self.keys[access_key.id] = (entity, access_key)

    async def delete(self, entity: Entity) -> None:
        self.generation += 1
        kind = kind_of(entity)
        await self.store.write([Delete(kind, f"{entity.account}/{entity.name.lower()}")])
        _table(self.account(entity.account), kind).pop(entity.name.lower(), None)
        if isinstance(entity, User):
            for access_key in entity.keys:
                self.keys.pop(access_key.id, None)

    def forget_key(self, key_id: str) -> None:
        self.generation += 1
        self.keys.pop(key_id, None)

    # --- finding --------------------------------------------------------------------------

    def _find(self, table: str, account: str, name: str, missing: str) -> Any:
        found = getattr(self.account(account), table).get(name.lower())
        if found is None:
            raise no_such_entity(missing)
        return found

    def user(self, account: str, name: str) -> User:
        return self._find("users", account, name, f"The user with name {name} cannot be found.")

    def group(self, account: str, name: str) -> Group:
        return self._find("groups", account, name, f"The group with name {name} cannot be found.")

    def role(self, account: str, name: str) -> RoleRecord:
        return self._find("roles", account, name, f"The role with name {name} cannot be found.")

    def profile(self, account: str, name: str) -> InstanceProfile:
        return self._find("profiles", account, name, f"Instance Profile {name} cannot be found.")

    def find_policy(self, account: str, arn: str) -> Policy | None:
        """The managed policy an ARN names, if this account can see it (its own, AWS's)."""
        if arn.startswith("arn:aws:iam::aws:policy/"):
            return self.aws_policies.get(arn)
        prefix = f"arn:aws:iam::{account}:policy/"
        if not arn.startswith(prefix):
            return None
        name = arn.rsplit("/", 1)[-1]
        found = self.account(account).policies.get(name.lower())
        return found if found is not None and found.arn == arn else None

    def policy(self, account: str, arn: str) -> Policy:
        found = self.find_policy(account, arn)
        if found is None:
            raise no_such_entity(f"Policy {arn} was not found.")
        return found

    def attachable(self, account: str, arn: str) -> Policy:
        found = self.find_policy(account, arn)
        if found is None:
            raise no_such_entity(f"Policy {arn} does not exist or is not attachable.")
        return found

    def holders(self, account: str) -> Iterator[User | Group | RoleRecord]:
        """Every user, group and role of the account: what policies attach to."""
        tables = self.account(account)
        yield from tables.users.values()
        yield from tables.groups.values()
        yield from tables.roles.values()

    def attachment_count(self, account: str, arn: str) -> int:
        return sum(1 for holder in self.holders(account) if arn in holder.attached)

    def boundary_count(self, account: str, arn: str) -> int:
        tables = self.account(account)
        users = sum(1 for u in tables.users.values() if u.boundary == arn)
        return users + sum(1 for r in tables.roles.values() if r.boundary == arn)

    def members(self, group: Group) -> list[User]:
        key = group.name.lower()
        return [user for user in self.account(group.account).users.values() if key in user.groups]

    def profiles_of(self, role: RoleRecord) -> list[InstanceProfile]:
        key = role.name.lower()
        return [p for p in self.account(role.account).profiles.values() if key in p.roles]
