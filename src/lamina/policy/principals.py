"""Who is asking, and how a Principal or NotPrincipal element names them.

A request's principal is one ARN (`arn:aws:iam::111122223333:user/alice`,
`arn:aws:sts::111122223333:assumed-role/Admin/alice`, `arn:aws:iam::111122223333:root`), or a
service (`sqs.amazonaws.com`), a federated provider, a canonical user, or anonymous. How a
resource-based policy named it matters to the outcome (Policy evaluation logic, "Resource-
based policies"), so matching answers with a strength, not a yes/no:

    DIRECT    the exact principal: the user ARN, the role session ARN, the federated user ARN,
              a service, or everyone ("*", or what a NotPrincipal does not exclude); an Allow
              like this stands on its own within the account
    ISSUER    the role whose session is asking (or the IAM user behind a federated user
              session): it stands in for the identity-based policies, but "resource-based
              policies that grant permissions to an IAM role ARN are limited by an implicit
              deny in a permissions boundary or session policy"
    ACCOUNT   the account ("123456789012" or "arn:aws:iam::123456789012:root"): the account
              delegates to its own identity-based policies
"""

from __future__ import annotations

from dataclasses import dataclass

NONE, ACCOUNT, ISSUER, DIRECT = 0, 1, 2, 3

AWS, SERVICE, FEDERATED, CANONICAL_USER, ANONYMOUS = "AWS", "Service", "Federated", "CanonicalUser", "Anonymous"
PRINCIPAL_KINDS = (AWS, SERVICE, FEDERATED, CANONICAL_USER)


def arn_account(arn: str) -> str | None:
    """The account id of an ARN (its fifth field), or None."""
    parts = arn.split(":", 5)
    return parts[4] or None if len(parts) == 6 and parts[0] == "arn" else None


def session_role_arn(arn: str) -> str | None:
    """`arn:aws:sts::A:assumed-role/R/S` -> `arn:aws:iam::A:role/R` (without the role's path,
    which a session ARN does not carry)."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "sts" or not parts[5].startswith("assumed-role/"):
        return None
    pieces = parts[5].split("/")
    if len(pieces) < 3:
        return None
    return f"arn:{parts[1]}:iam::{parts[4]}:role/{pieces[1]}"


def role_name(arn: str) -> str | None:
    """The name of a role from its ARN (the last part of `role/path/Name`)."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
        return None
    return parts[5].rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class Principals:
    """A Principal or NotPrincipal element, normalized: `everyone` for "*" (or {"AWS": "*"});
    `accounts` (ids) and `arns` for AWS principals; `others` as (kind, value) pairs."""

    everyone: bool
    accounts: frozenset[str]
    arns: frozenset[str]
    others: frozenset[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Caller:
    """The request's principal as the matching needs it (built once per request)."""

    kind: str
    arn: str
    account: str | None
    issuer: str | None  # the role ARN for a role session (with path when the caller knows it)
    is_root: bool


def match(principals: Principals, caller: Caller) -> int:
    """How strongly a Principal element names the caller (NONE .. DIRECT)."""
    if principals.everyone:
        return DIRECT
    if caller.kind != AWS:
        return DIRECT if (caller.kind, caller.arn) in principals.others else NONE
    if caller.arn in principals.arns:
        return DIRECT
    if caller.issuer is not None and _names_issuer(principals, caller):
        return ISSUER
    if caller.account is not None and caller.account in principals.accounts:
        return ACCOUNT
    return NONE


def _names_issuer(principals: Principals, caller: Caller) -> bool:
    issuer = caller.issuer
    if issuer in principals.arns:
        return True
    # The caller may only know the session ARN, which drops the role's path: compare by
    # account and role name.
    name = role_name(issuer or "")
    if name is None:
        return False
    for arn in principals.arns:
        if role_name(arn) == name and arn_account(arn) == caller.account:
            return True
    return False


def not_principal_excludes(principals: Principals, caller: Caller) -> bool:
    """Whether a NotPrincipal element leaves the caller out. AWS checks every identity the
    request carries -- the account, the role or user, the session -- and the statement applies
    unless all of them are listed (IAM JSON policy elements: NotPrincipal: a Deny that lists
    only a role session must also list the role and the account)."""
    if principals.everyone:
        return True
    if caller.kind != AWS:
        return (caller.kind, caller.arn) in principals.others
    if caller.account is not None and caller.account not in principals.accounts:
        return False
    if caller.is_root:
        return True
    if caller.arn not in principals.arns:
        return False
    return caller.issuer is None or _names_issuer(principals, caller)
