"""A principal: who a request is from, as IAM names it."""

from __future__ import annotations

from dataclasses import dataclass

ROOT = "root"
USER = "user"
ASSUMED_ROLE = "assumed-role"
FEDERATED_USER = "federated-user"
ANONYMOUS = "anonymous"  # an unsigned S3 request: only a policy naming everyone ("*") lets it in


@dataclass(frozen=True)
class Principal:
    """The caller of a request, with what policy evaluation needs to know of it.

    `arn` is what GetCallerIdentity answers and denial messages name:
      root            arn:aws:iam::123456789012:root
      user            arn:aws:iam::123456789012:user/path/alice
      assumed-role    arn:aws:sts::123456789012:assumed-role/RoleName/session-name
      federated-user  arn:aws:sts::123456789012:federated-user/bob
    `user_id` is aws:userid: the account id for root, AIDA... for a user, AROA...:session
    for a role session, account:name for a federated user."""

    account: str
    arn: str
    user_id: str
    kind: str = ROOT
    name: str = ""  # a user's name (aws:username), a role session's session name
    role_arn: str = ""  # an assumed-role session's role (arn:aws:iam::...:role/path/Name)
    session_policies: tuple[str, ...] = ()  # policy JSON passed to AssumeRole (they cap the role's)
    session_policy_arns: tuple[str, ...] = ()  # managed policies passed as PolicyArns (the same)
    tags: tuple[tuple[str, str], ...] = ()  # principal tags (aws:PrincipalTag/...), session tags included
    source_identity: str = ""
    expires: float | None = None  # temporary credentials: epoch seconds

    @property
    def is_root(self) -> bool:
        return self.kind == ROOT

    @property
    def temporary(self) -> bool:
        return self.expires is not None


def root(account: str) -> Principal:
    return Principal(account, f"arn:aws:iam::{account}:root", account, ROOT)


def anonymous(account: str) -> Principal:
    """The caller of an unsigned S3 request (`account`: the default account it is served in)."""
    return Principal(account, "*", "Anonymous", ANONYMOUS)


def user(account: str, name: str, user_id: str, path: str = "/", tags: tuple[tuple[str, str], ...] = ()) -> Principal:
    return Principal(account, f"arn:aws:iam::{account}:user{path}{name}", user_id, USER, name=name, tags=tags)


def role_session(account: str, role, session_name: str, expires: float | None = None) -> Principal:
    """A session of `role` (anything with name, role_id and arn) named `session_name`: what a
    function's instance, or a service acting through a role, is."""
    return Principal(
        account,
        f"arn:aws:sts::{account}:assumed-role/{role.name}/{session_name}",
        f"{role.role_id}:{session_name}",
        ASSUMED_ROLE,
        name=session_name,
        role_arn=role.arn,
        expires=expires,
    )
