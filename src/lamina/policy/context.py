"""The request as policy evaluation sees it (Policy evaluation logic, "Processing the request
context"): who, what action, on which resource, and the context keys conditions and policy
variables read.

Context key names are case-insensitive, so they are lower-cased once here. Keys AWS derives
from the principal and the resource (aws:PrincipalArn, aws:PrincipalAccount, aws:username,
aws:PrincipalType, aws:ResourceAccount, aws:PrincipalTag/..., aws:ResourceTag/...,
aws:RequestTag/..., aws:TagKeys, aws:CurrentTime, aws:EpochTime) are filled in unless the
caller gave them; the rest (aws:SourceIp, aws:SecureTransport, aws:userid, service keys...)
come from the caller in `context_keys`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from .principals import AWS, Caller, arn_account, session_role_arn

ContextValue = str | list[str]


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(eq=False)
class RequestContext:
    """One request. `principal_arn` is the caller's ARN as AWS shows it (for a role session
    the `arn:aws:sts::...:assumed-role/Role/session` ARN); `principal_type` is "AWS", or
    "Service", "Federated", "CanonicalUser", "Anonymous" for principals without an IAM
    identity. `session_issuer_arn` is the role's ARN (with its path) for a role session, or
    the IAM user behind a federated user session. `resource` is "*" for actions without a
    resource. `resource_account` defaults to the account in the resource ARN, and to the
    principal's account when the ARN has none (S3 buckets): pass it for those."""

    principal_arn: str
    action: str
    resource: str = "*"
    principal_account: str | None = None
    resource_account: str | None = None
    is_root: bool | None = None
    principal_type: str = AWS
    session_issuer_arn: str | None = None
    context_keys: Mapping[str, object] = field(default_factory=dict)
    principal_tags: Mapping[str, str] = field(default_factory=dict)
    resource_tags: Mapping[str, str] = field(default_factory=dict)
    request_tags: Mapping[str, str] = field(default_factory=dict)
    # Derived once, in __post_init__:
    keys: dict[str, ContextValue] = field(init=False, repr=False)
    action_key: str = field(init=False, repr=False)  # the action lower-cased
    caller: Caller = field(init=False, repr=False)

    def __post_init__(self) -> None:
        arn = self.principal_arn
        is_aws = self.principal_type == AWS
        if self.principal_account is None and is_aws:
            self.principal_account = arn_account(arn)
        if self.is_root is None:
            self.is_root = is_aws and arn.endswith(":root") and ":iam::" in arn
        if self.resource_account is None:
            self.resource_account = arn_account(self.resource) or self.principal_account
        issuer = self.session_issuer_arn
        if issuer is None and is_aws:
            issuer = session_role_arn(arn)
        self.action_key = self.action.lower()
        self.caller = Caller(self.principal_type, arn, self.principal_account, issuer, bool(self.is_root))
        self.keys = self._derived_keys(issuer)
        for name, value in self.context_keys.items():
            if isinstance(value, (list, tuple, set, frozenset)):
                self.keys[name.lower()] = [_text(v) for v in value]
            else:
                self.keys[name.lower()] = _text(value)

    def _derived_keys(self, issuer: str | None) -> dict[str, ContextValue]:
        keys: dict[str, ContextValue] = {}
        now = time.time()
        keys["aws:currenttime"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
        keys["aws:epochtime"] = str(int(now))
        if self.resource_account:
            keys["aws:resourceaccount"] = self.resource_account
        if self.principal_type == AWS:
            arn = self.principal_arn
            # aws:PrincipalArn of a role session is the role's ARN (global condition context
            # keys), so policies can name the role whatever the session is called.
            keys["aws:principalarn"] = issuer if issuer and ":assumed-role/" in arn else arn
            if self.principal_account:
                keys["aws:principalaccount"] = self.principal_account
            resource = arn.split(":", 5)[-1]
            if self.is_root:
                keys["aws:principaltype"] = "Account"
                if self.principal_account:
                    keys["aws:userid"] = self.principal_account
            elif resource.startswith("user/"):
                keys["aws:principaltype"] = "User"
                keys["aws:username"] = resource.rsplit("/", 1)[-1]
            elif resource.startswith("assumed-role/"):
                keys["aws:principaltype"] = "AssumedRole"
            elif resource.startswith("federated-user/"):
                keys["aws:principaltype"] = "FederatedUser"
        elif self.principal_type == "Anonymous":
            keys["aws:principaltype"] = "Anonymous"
        for name, value in self.principal_tags.items():
            keys[f"aws:principaltag/{name.lower()}"] = value
        for name, value in self.resource_tags.items():
            keys[f"aws:resourcetag/{name.lower()}"] = value
        if self.request_tags:
            for name, value in self.request_tags.items():
                keys[f"aws:requesttag/{name.lower()}"] = value
            keys["aws:tagkeys"] = list(self.request_tags)
        return keys
