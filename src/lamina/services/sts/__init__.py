"""AWS STS: who am I, and temporary credentials, over the query protocol.

    GetCallerIdentity   the signer's account, ARN and user id (needs no permission, as on AWS)
    AssumeRole          a session of a role whose trust policy lets the caller assume it
    AssumeRoleWithWebIdentity
                        a session of a role for the holder of an OpenID Connect token whose
                        issuer is one of the role's account's IAM OIDC providers (unsigned,
                        as on AWS: the token is the credential)
    GetSessionToken     temporary credentials of the caller itself (an IAM user or root)
    GetAccessKeyInfo    the account an access key belongs to

Credentials are sealed tokens (identity/tokens.py): issuing them writes nothing, so STS
keeps no state of its own. It finds roles through the IAM service (`roles`, a callable the
composition root hands it) and asks `authorize` whether the caller may assume one (the
role's trust policy, and the caller's own policies: policy evaluation). For web identities
it finds the token's provider through `providers` (IAM's OIDC providers), verifies the
token with `web_identity` (identity/web_identity.py: the issuer's keys) and asks
`trusts_federated` (access/federation.py) whether the role's trust policy lets the
provider's user in.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, Protocol

from ...errors import ServiceError
from ...identity.keyring import KeyRing
from ...identity.principals import ASSUMED_ROLE, ROOT, USER, Principal
from ...identity.web_identity import WebIdentityError, WebIdentityVerifier, condition_keys
from ..context import RequestContext

ROLE_CHAINING_MAX_S = 3600  # a role assumed with a role's credentials: one hour at most
SESSION_TOKEN_LIMITS = {ROOT: (900, 3600), USER: (900, 129600)}
PACKED_POLICY_LIMIT = 2048  # characters of the session policy, spaces removed (AWS's packed size)
_ROLE_ARN = re.compile(r"^arn:aws:iam::(\d{12}):role/(?:.*/)?([\w+=,.@-]+)$")


class Role(Protocol):
    """What STS needs of a role (the IAM service's roles have these)."""

    arn: str
    role_id: str
    name: str
    trust_policy: str
    max_session_duration: int


class OpenIdProvider(Protocol):
    """What STS needs of an IAM OpenID Connect provider (the IAM service's have these)."""

    @property
    def arn(self) -> str: ...

    @property
    def url(self) -> str: ...  # without the scheme

    @property
    def client_ids(self) -> tuple[str, ...]: ...


RoleLookup = Callable[[str, str], "Role | None"]  # (account, role ARN) -> the role, or None
# (account, a token's issuer) -> the account's provider of that issuer, or None
ProviderLookup = Callable[[str, str], "OpenIdProvider | None"]
# (trust policy, role ARN, provider ARN, the request's context keys) -> allowed?
FederatedTrust = Callable[[str, str, str, Mapping[str, object]], bool]
# (caller, role, the request's context keys) -> None if allowed, else why not
Authorize = Callable[[Principal, Role, dict[str, Any]], "str | None"]


def _denied(caller: Principal, action: str, resource: str) -> ServiceError:
    return ServiceError(
        "AccessDenied", f"User: {caller.arn} is not authorized to perform: {action} on resource: {resource}", 403
    )


def _iso(epoch: float) -> datetime:
    return datetime.fromtimestamp(int(epoch), tz=timezone.utc)


class StsService:
    service_name = "sts"

    def __init__(
        self,
        keys: KeyRing,
        roles: RoleLookup | None = None,
        authorize: Authorize | None = None,
        providers: ProviderLookup | None = None,
        trusts_federated: FederatedTrust | None = None,
        web_identity: WebIdentityVerifier | None = None,
    ) -> None:
        self.keys = keys
        self.roles = roles
        self.authorize = authorize
        self.providers = providers
        self.trusts_federated = trusts_federated
        self.web_identity = web_identity or WebIdentityVerifier()

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def reset(self) -> None:
        pass  # nothing held: credentials issued before a reset stay valid until they expire, as tokens

    # --- operations -----------------------------------------------------------------------

    async def get_caller_identity(self, params: dict, ctx: RequestContext) -> dict:
        caller = self._caller(ctx)
        return {"UserId": caller.user_id, "Account": caller.account, "Arn": caller.arn}

    async def get_access_key_info(self, params: dict, ctx: RequestContext) -> dict:
        key = params["AccessKeyId"]
        account = self.keys.root_account(key) or self.keys.sealer.account_of(key)
        if account is None and self.keys.user_keys is not None:
            found = self.keys.user_keys(key)
            account = found[1].account if found else None
        # A key this server never issued: AWS decodes any key id; ours name no account, so
        # the answer is the caller's own (what a key of unknown origin most likely is).
        return {"Account": account or self._caller(ctx).account}

    async def get_session_token(self, params: dict, ctx: RequestContext) -> dict:
        caller = self._caller(ctx)
        if caller.temporary:
            raise ServiceError("AccessDenied", "Cannot call GetSessionToken with session credentials", 403)
        low, high = SESSION_TOKEN_LIMITS.get(caller.kind, (900, 129600))
        duration = params.get("DurationSeconds", 43200 if caller.kind == USER else 3600)
        if caller.kind == ROOT:
            duration = min(duration, high)  # AWS caps a root user's session at one hour
        elif not low <= duration <= high:
            raise _duration_error(duration, low, high)
        session = Principal(
            caller.account,
            caller.arn,
            caller.user_id,
            caller.kind,
            name=caller.name,
            tags=caller.tags,
            expires=time.time() + duration,
        )
        credentials = self.keys.sealer.issue(session)
        return {"Credentials": _credentials(credentials)}

    async def assume_role(self, params: dict, ctx: RequestContext) -> dict:
        caller = self._caller(ctx)
        role_arn = params["RoleArn"]
        session_name = _session_name(params["RoleSessionName"])
        account, role = self._role(role_arn)
        if role is None:
            raise _denied(caller, "sts:AssumeRole", role_arn)
        duration = params.get("DurationSeconds", 3600)
        if caller.kind == ASSUMED_ROLE and duration > ROLE_CHAINING_MAX_S:
            raise ServiceError(
                "ValidationError",
                "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
                400,
            )
        _check_duration(duration, role)
        tags = tuple((tag["Key"], tag["Value"]) for tag in params.get("Tags") or ())
        session_policy, packed = _session_policy(params, tags)
        policy_arns = _policy_arns(params)
        context: dict[str, Any] = {"sts:RoleSessionName": session_name}
        if params.get("ExternalId") is not None:
            context["sts:ExternalId"] = params["ExternalId"]
        if params.get("SourceIdentity"):
            context["sts:SourceIdentity"] = params["SourceIdentity"]
        for key, value in tags:
            context[f"aws:RequestTag/{key}"] = value
        if tags:
            context["aws:TagKeys"] = [key for key, _ in tags]
        denial = self.authorize(caller, role, context) if self.authorize is not None else None
        if denial is not None:
            raise ServiceError("AccessDenied", denial, 403)
        # Transitive session tags follow a chained session; the rest are this session's own.
        inherited = caller.tags if caller.kind == ASSUMED_ROLE else ()
        return self._session(
            account or caller.account,
            role,
            session_name,
            duration,
            session_policy,
            packed,
            policy_arns=policy_arns,
            tags=tuple(dict((*inherited, *tags)).items()),
            own_tags=tags,
            source_identity=params.get("SourceIdentity") or caller.source_identity,
        )

    async def assume_role_with_web_identity(self, params: dict, ctx: RequestContext) -> dict:
        """Unsigned, as on AWS: the caller is whoever holds the token, whatever signed (or did
        not sign) the request."""
        role_arn = params["RoleArn"]
        session_name = _session_name(params["RoleSessionName"])
        token = params["WebIdentityToken"]
        account = _role_account(role_arn)
        identity, provider = await self._web_identity(account, token)
        _, role = self._role(role_arn)
        context: dict[str, Any] = {
            "sts:RoleSessionName": session_name,
            "aws:FederatedProvider": provider.arn,
            **condition_keys(provider.url, identity),
        }
        if (
            role is None
            or self.trusts_federated is None
            or not self.trusts_federated(role.trust_policy, role.arn, provider.arn, context)
        ):
            raise ServiceError("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", 403)
        duration = params.get("DurationSeconds", 3600)
        _check_duration(duration, role)
        session_policy, packed = _session_policy(params, ())
        answer = self._session(
            account or ctx.account_id,
            role,
            session_name,
            duration,
            session_policy,
            packed,
            policy_arns=_policy_arns(params),
        )
        answer["SubjectFromWebIdentityToken"] = identity.subject
        answer["Provider"] = identity.issuer
        answer["Audience"] = identity.audience
        return answer

    # --- shared by the AssumeRole family ------------------------------------------------------

    def _role(self, role_arn: str) -> tuple[str | None, Role | None]:
        """(the account of a role ARN, the role) -- either None when there is none."""
        account = _role_account(role_arn)
        if account is None or self.roles is None:
            return account, None
        return account, self.roles(account, role_arn)

    async def _web_identity(self, account: str | None, token: str) -> tuple[Any, OpenIdProvider]:
        """The verified token and the role's account's provider of its issuer, or AWS's
        refusal (InvalidIdentityToken, ExpiredTokenException, IDPCommunicationError)."""
        try:
            issuer = self.web_identity.issuer(token)
            provider = self.providers(account, issuer) if account is not None and self.providers else None
            if provider is None:
                raise WebIdentityError(
                    "InvalidIdentityToken", f"No OpenIDConnect provider found in your account for {issuer}"
                )
            identity = await self.web_identity.verify(token, provider.client_ids)
        except WebIdentityError as error:
            raise ServiceError(error.code, error.message, 400) from None
        return identity, provider

    def _session(
        self,
        account: str,
        role: Role,
        session_name: str,
        duration: int,
        session_policy: str | None,
        packed: int,
        policy_arns: tuple[str, ...] = (),
        tags: tuple[tuple[str, str], ...] = (),
        own_tags: tuple[tuple[str, str], ...] = (),
        source_identity: str = "",
    ) -> dict[str, Any]:
        """A session of `role`: its credentials (sealed, nothing stored) and the answer's
        AssumedRoleUser, PackedPolicySize and SourceIdentity."""
        session_arn = f"arn:aws:sts::{account}:assumed-role/{role.name}/{session_name}"
        session = Principal(
            account,
            session_arn,
            f"{role.role_id}:{session_name}",
            ASSUMED_ROLE,
            name=session_name,
            role_arn=role.arn,
            session_policies=(session_policy,) if session_policy else (),
            session_policy_arns=policy_arns,
            tags=tags,
            source_identity=source_identity,
            expires=time.time() + duration,
        )
        credentials = self.keys.sealer.issue(session)
        answer: dict[str, Any] = {
            "Credentials": _credentials(credentials),
            "AssumedRoleUser": {"AssumedRoleId": session.user_id, "Arn": session_arn},
        }
        if session_policy is not None or policy_arns or own_tags:
            answer["PackedPolicySize"] = packed or _packed_percent("".join(policy_arns), own_tags)
        if session.source_identity:
            answer["SourceIdentity"] = session.source_identity
        return answer

    # --- helpers --------------------------------------------------------------------------

    @staticmethod
    def _caller(ctx: RequestContext) -> Principal:
        if ctx.principal is None:  # an unknown key let through with enforcement off: its account's root
            return Principal(ctx.account_id, f"arn:aws:iam::{ctx.account_id}:root", ctx.account_id)
        return ctx.principal


def _credentials(issued) -> dict:
    return {
        "AccessKeyId": issued.access_key_id,
        "SecretAccessKey": issued.secret_access_key,
        "SessionToken": issued.session_token,
        "Expiration": _iso(issued.expiration),
    }


def _role_account(role_arn: str) -> str | None:
    matched = _ROLE_ARN.match(role_arn)
    return matched.group(1) if matched else None


def _session_name(name: str) -> str:
    if not re.fullmatch(r"[\w+=,.@-]{2,64}", name):
        raise ServiceError(
            "ValidationError",
            f"1 validation error detected: Value '{name}' at 'roleSessionName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
            400,
        )
    return name


def _check_duration(duration: int, role: Role) -> None:
    if duration > role.max_session_duration:
        raise ServiceError(
            "ValidationError",
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            400,
        )


def _session_policy(params: dict, tags: tuple[tuple[str, str], ...]) -> tuple[str | None, int]:
    """The request's inline session policy (Policy), checked, and its packed size in percent."""
    session_policy = params.get("Policy")
    if session_policy is None:
        return None, 0
    try:
        json.loads(session_policy)
    except ValueError:
        raise ServiceError("MalformedPolicyDocument", "Syntax errors in policy.", 400) from None
    packed = _packed_percent(session_policy, tags)
    if packed > 100:
        raise ServiceError(
            "PackedPolicyTooLarge",
            f"Packed policy consumes {packed}% of allotted space, please use smaller policy.",
            400,
        )
    return session_policy, packed


def _policy_arns(params: dict) -> tuple[str, ...]:
    """PolicyArns: managed policies (the account's own or AWS's) that cap the session like
    an inline session policy. They are kept by ARN and read when a call is evaluated: one
    deleted since grants nothing."""
    arns = tuple(descriptor["arn"] for descriptor in params.get("PolicyArns") or () if descriptor.get("arn"))
    for arn in arns:
        if not re.fullmatch(r"arn:aws:iam::(\d{12}|aws):policy/[\w+=,.@/-]+", arn):
            raise ServiceError("InvalidParameterValue", f"Invalid ARN: {arn}", 400)
    return arns


def _duration_error(duration: int, low: int, high: int) -> ServiceError:
    bound = f"greater than or equal to {low}" if duration < low else f"less than or equal to {high}"
    return ServiceError(
        "ValidationError",
        f"1 validation error detected: Value '{duration}' at 'durationSeconds' failed to satisfy constraint: "
        f"Member must have value {bound}",
        400,
    )


def _packed_percent(policy: str, tags: tuple[tuple[str, str], ...]) -> int:
    """How much of the packed-policy allowance the session policy and tags take, in percent
    (AWS compresses them; its exact packing is not documented: whitespace-free length is
    what counts here)."""
    size = len(re.sub(r"\s+", "", policy)) + sum(len(k) + len(v) for k, v in tags)
    return max(1, -(-size * 100 // PACKED_POLICY_LIMIT)) if size else 0
