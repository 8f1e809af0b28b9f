"""AWS Identity and Access Management: users, groups, access keys, roles, managed and inline
policies, permissions boundaries, instance profiles and tags, per account (IAM is global: no
region), durable in the store, served over the query protocol.

    state.py      the entities, their store layout, finding and persisting them
    managed.py    the AWS managed policies shipped in managed/*.json
    documents.py  checking policy documents, their size quotas, URL-encoding them
    common.py     ids, paging (Marker/MaxItems), tags, the answers' shapes
    users.py      users, groups, membership, access keys
    roles.py      roles, trust policies, instance profiles
    oidc.py       OpenID Connect identity providers (what AssumeRoleWithWebIdentity trusts)
    policies.py   managed policies and versions, attaching, inline policies, boundaries,
                  GetAccountAuthorizationDetails

What the rest of Lamina asks of it (the composition root hands these out):
    access_key(key_id)             an Active key's secret and its user's Principal
    role(account, name_or_arn)     a role as STS and Lambda need it (Role)
    oidc_provider(account, issuer) the OpenID Connect provider of a token's issuer (OpenIdProvider)
    identity_policies(principal)   the policy documents that apply to a principal
"""

from __future__ import annotations

from dataclasses import dataclass

from ...identity.principals import Principal, user
from ...identity.web_identity import without_scheme
from ...store.base import Store
from ..base import StateService
from . import managed
from .oidc import OidcApi
from .policies import PoliciesApi
from .roles import RolesApi
from .state import IamState, RoleRecord
from .users import UsersApi


@dataclass(frozen=True)
class Role:
    """A role, as what assumes it (STS AssumeRole, Lambda's execution role) sees it."""

    arn: str
    role_id: str
    name: str
    path: str
    trust_policy: str  # the trust (assume role) policy document, JSON as given
    max_session_duration: int
    permissions_boundary: str | None
    tags: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class OpenIdProvider:
    """An OpenID Connect provider, as STS's AssumeRoleWithWebIdentity sees it."""

    arn: str
    url: str  # without the scheme: the prefix of its condition keys (`example.com:sub`)
    client_ids: tuple[str, ...]


def _role(record: RoleRecord) -> Role:
    return Role(
        record.arn,
        record.id,
        record.name,
        record.path,
        record.trust,
        record.max_session,
        record.boundary,
        tuple(record.tags.items()),
    )


class IamService(UsersApi, RolesApi, PoliciesApi, OidcApi, StateService):
    service_name = "iam"

    def __init__(self, store: Store) -> None:
        self.state = IamState(store, managed.load())

    # --- for the rest of Lamina ---------------------------------------------------------------

    @property
    def generation(self) -> int:
        """Changes whenever anything in IAM does (what authorization caches by)."""
        return self.state.generation

    def access_key(self, key_id: str) -> tuple[str, Principal] | None:
        """(secret, the user's Principal) of an Active access key; None if unknown or inactive."""
        found = self.state.keys.get(key_id)
        if found is None:
            return None
        owner, key = found
        if key.status != "Active":
            return None
        return key.secret, user(owner.account, owner.name, owner.id, owner.path, tuple(owner.tags.items()))

    def active_keys(self) -> dict[str, tuple[str, Principal]]:
        """Every Active access key with its secret and user: what front processes verify
        requests with (http/fronts.py shares it whenever `generation` changes)."""
        keys = {}
        for key_id in self.state.keys:
            found = self.access_key(key_id)
            if found is not None:
                keys[key_id] = found
        return keys

    def role(self, account: str, role_name_or_arn: str) -> Role | None:
        """The role of `account` named (by name, or by ARN in that account: the path in the
        ARN must be the role's), or None."""
        name = role_name_or_arn
        if name.startswith("arn:"):
            parts = name.split(":", 5)
            if len(parts) != 6 or parts[2] != "iam" or parts[4] != account or not parts[5].startswith("role/"):
                return None
            name = parts[5].rsplit("/", 1)[-1]
            record = self.state.account(account).roles.get(name.lower())
            if record is None or record.arn != role_name_or_arn:
                return None
            return _role(record)
        record = self.state.account(account).roles.get(name.lower())
        return _role(record) if record is not None else None

    def oidc_provider(self, account: str, issuer: str) -> OpenIdProvider | None:
        """The provider of `account` whose URL is the token issuer `issuer` (compared without
        the scheme; the host's case does not matter), or None."""
        tables = self.state.accounts.get(account)
        found = tables.oidc_providers.get(without_scheme(issuer).lower()) if tables is not None else None
        if found is None:
            return None
        return OpenIdProvider(found.arn, found.name, tuple(found.client_ids))

    def entity_arn(self, arn: str) -> str | None:
        """The ARN, with its path, of the user, group, role or instance profile an ARN
        without one names (`arn:aws:iam::A:role/Name` -> `arn:aws:iam::A:role/app/Name`), or
        None: what a policy's Resource is matched against for a call naming it by name."""
        parts = arn.split(":", 5)
        if len(parts) != 6 or "/" not in parts[5]:
            return None
        kind, name = parts[5].split("/", 1)[0], parts[5].rsplit("/", 1)[-1]
        table = {"user": "users", "group": "groups", "role": "roles", "instance-profile": "profiles"}.get(kind)
        tables = self.state.accounts.get(parts[4])
        if table is None or tables is None:
            return None
        found = getattr(tables, table).get(name.lower())
        return found.arn if found is not None else None

    def managed_policy(self, account: str, arn: str) -> str | None:
        """The default version's document of a managed policy `account` can see (its own,
        AWS's), or None: what a session's PolicyArns cap it with."""
        policy = self.state.find_policy(account, arn)
        return policy.document if policy is not None else None

    def identity_policies(self, principal: Principal) -> tuple[list[str], str | None]:
        """The documents of every policy that applies to an IAM user (its attached managed
        policies' default versions, its inline policies, and its groups' of both) or to an
        assumed-role session (its role's), and its permissions boundary's document or None.
        Nothing applies to a principal IAM does not know (root, a federated user)."""
        tables = self.state.accounts.get(principal.account)
        if tables is None:
            return [], None
        holders: list = []
        boundary: str | None = None
        if principal.kind == "user":
            found = tables.users.get(principal.name.lower())
            if found is None or found.arn != principal.arn:
                return [], None
            holders = [found] + [tables.groups[g] for g in found.groups if g in tables.groups]
            boundary = found.boundary
        elif principal.kind == "assumed-role" and principal.role_arn:
            role = tables.roles.get(principal.role_arn.rsplit("/", 1)[-1].lower())
            if role is None or role.arn != principal.role_arn:
                return [], None
            holders = [role]
            boundary = role.boundary
        else:
            return [], None
        docs: list[str] = []
        for holder in holders:
            for arn in holder.attached:
                policy = self.state.find_policy(principal.account, arn)
                if policy is not None:
                    docs.append(policy.document)
            docs.extend(holder.inline.values())
        boundary_doc = None
        if boundary is not None:
            policy = self.state.find_policy(principal.account, boundary)
            boundary_doc = policy.document if policy is not None else None
        return docs, boundary_doc
