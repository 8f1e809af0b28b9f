"""The decision for one call: may this principal perform this action on this resource?

The principal's identity policies (and permissions boundary) come from the IAM service
(`policies_of`, handed in by the composition root), its session policies from its
credentials; each document is parsed once (by its text) and decisions are cached by the
policy package, so a warm call by the same principal pays a dictionary lookup or two.

Modes (LAMINA_IAM): "enforce" (the default) refuses what AWS would refuse; "audit" logs each
denial that would have happened and allows the call; "off" skips evaluation.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from ..errors import ServiceError
from ..identity.principals import ROOT, Principal
from ..policy import (
    IDENTITY,
    RESOURCE,
    DecisionCache,
    MalformedPolicy,
    Policy,
    PolicySet,
    RequestContext,
    denial_message,
    evaluate,
)
from ..policy import parse_policy as _parse
from ..services.context import RequestContext as CallContext
from .actions import iam_action
from .resources import account_of, names_other_account, resource_arns

if TYPE_CHECKING:
    from .s3 import S3Access

log = logging.getLogger("lamina.access")

ENFORCE, AUDIT, OFF = "enforce", "audit", "off"
MODES = (ENFORCE, AUDIT, OFF)
# STS authorizes AssumeRole itself (trust policy and identity together); GetCallerIdentity
# needs no permission at all, as on AWS.
SELF_AUTHORIZED = frozenset({"sts"})
# The code a denial carries, per service (AWS's: SNS says AuthorizationError, the query
# services AccessDenied, the JSON ones AccessDeniedException).
DENIAL_CODES = {"sns": "AuthorizationError", "sqs": "AccessDenied", "iam": "AccessDenied", "cloudwatch": "AccessDenied"}

PoliciesOf = Callable[[Principal], tuple[list[str], "str | None"]]
ResourcePolicyOf = Callable[[str], Awaitable["str | None"]]
ResourceTagsOf = Callable[[str], Awaitable[dict[str, str]]]
_PARSED_KEPT = 4096
_ALLOWED_KEPT = 65536


def request_tags(params: dict) -> dict[str, str]:
    """The tags a request sets (aws:RequestTag/...): a "Tags"/"tags" map, or a list of
    {Key, Value} as IAM, SNS, EventBridge and Scheduler take them."""
    given = params.get("Tags") if "Tags" in params else params.get("tags")
    if isinstance(given, dict):
        return {str(k): str(v) for k, v in given.items()}
    if isinstance(given, list):
        out = {}
        for tag in given:
            if isinstance(tag, dict):
                key = tag.get("Key", tag.get("key"))
                if key is not None:
                    out[str(key)] = str(tag.get("Value", tag.get("value", "")))
        return out
    return {}


def _reads_resource_tags(policies: PolicySet) -> bool:
    return any(key.startswith("aws:resourcetag/") for key in policies.referenced_keys)


class Authorizer:
    def __init__(
        self, mode: str = ENFORCE, policies_of: PoliciesOf | None = None, generation: Callable[[], int] | None = None
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"LAMINA_IAM must be one of {', '.join(MODES)}, not {mode!r}")
        self.mode = mode
        self.policies_of = policies_of
        # A managed policy's default version's document, (account, ARN) -> JSON or None: for
        # sessions given PolicyArns. Set by the composition root (IAM's).
        self.managed_policy: Callable[[str, str], str | None] | None = None
        # IAM's ARN of the entity a pathless ARN names (its path put in). Composition root.
        self.entity_arn: Callable[[str], str | None] | None = None
        # IAM's change counter: a principal's PolicySet is kept until IAM changes.
        self.generation: Callable[[], int] = generation or (lambda: 0)
        # Each service's resource policies (Lambda's function policies, SQS's queue
        # policies...), by service name: resource ARN -> the policy's JSON, "" if the resource
        # has none, None if there is no such resource. Registered by the composition root.
        self.resource_policies: dict[str, ResourcePolicyOf] = {}
        self._combined: dict[tuple[int, int], tuple[PolicySet, Policy, PolicySet]] = {}
        # Allows decided without context keys, by (policies, principal, action, resource,
        # owner): a policy change makes a new PolicySet token, so none outlives its policies.
        self._allowed: set[tuple] = set()
        # Each service's resource tags (aws:ResourceTag/...), by service name: ARN -> tags;
        # read only for policies that test them.
        self.resource_tags: dict[str, ResourceTagsOf] = {}
        # S3's calls decide here (access/s3.py: bucket ARNs carry no account, anonymous
        # callers, Block Public Access). Set by the composition root with S3's buckets.
        self.s3: S3Access | None = None
        self._parsed: dict[str, Policy] = {}
        self._sets: dict[tuple, tuple[int, PolicySet]] = {}
        self._decisions = DecisionCache()

    def check(self, service: str, operation: str, params: dict, ctx: CallContext) -> Awaitable[None] | None:
        """None if the call needs no decision (an account's root in its own account: every
        local key, the hot path); else a coroutine that raises the service's AccessDenied if
        the call is not allowed (enforce)."""
        principal = ctx.principal
        if self.mode == OFF or principal is None or service in SELF_AUTHORIZED:
            return None
        if service == "s3" and self.s3 is not None:
            return self.s3.check(operation, params, ctx)
        # The hot path, every call by a local root key: field compares (no property call), and
        # a look at the few parameters that can name another account's resource.
        if (
            principal.kind == ROOT
            and principal.account == ctx.account_id
            and not names_other_account(params, ctx.account_id)
        ):
            return None
        return self._decide(service, operation, params, ctx, principal)

    async def _decide(self, service: str, operation: str, params: dict, ctx: CallContext, principal: Principal) -> None:
        action = iam_action(service, operation)
        context: dict[str, object] = {
            "aws:RequestedRegion": ctx.region,
            "aws:SecureTransport": "true" if ctx.endpoint_url.startswith("https") else "false",
        }
        if ctx.source_ip:
            context["aws:SourceIp"] = ctx.source_ip
        tags = request_tags(params)
        if "TagKeys" in params and isinstance(params["TagKeys"], list):
            context["aws:TagKeys"] = list(params["TagKeys"])
        resources = resource_arns(service, operation, params, ctx.region, ctx.account_id)
        if service == "iam" and self.entity_arn is not None and "Path" not in params:
            # Named by name: the entity's ARN carries its path, which policies may match on.
            resources = [self.entity_arn(resource) or resource for resource in resources]
        for resource in resources:
            message = await self.denial(principal, service, action, resource, ctx.account_id, context, tags)
            if message is not None:
                raise ServiceError(DENIAL_CODES.get(service, "AccessDeniedException"), message, 403)

    async def denial(
        self,
        principal: Principal,
        service: str,
        action: str,
        resource: str,
        account: str,
        context: dict,
        tags: dict[str, str] | None = None,
    ) -> str | None:
        """None if `principal` may perform `action` on `resource` (of `service`; its owner is
        the ARN's account, else `account`), else AWS's denial message. Identity policies,
        boundary and session policies, and the resource's own policy where it has one (same
        account or not: Policy evaluation logic). Audit mode logs the denial and allows."""
        owner = account_of(resource) or account
        if self.mode == OFF or (principal.is_root and owner == principal.account):
            return None
        resource_policy = None
        lookup = self.resource_policies.get(service)
        if lookup is not None and resource != "*":
            document = await lookup(resource)
            if document:
                resource_policy = self._parse_resource(document)
        policies = self._with_resource(self._policies(principal), resource_policy)
        # The hot path: policies that read no context key decide by who, what and which
        # alone, so an Allow already seen answers without building the request's context.
        quick = None
        if not policies.referenced_keys:
            quick = (policies.token, principal.arn, principal.kind, principal.role_arn, action, resource, owner)
            if quick in self._allowed:
                return None
        resource_tags: dict[str, str] = {}
        if resource != "*" and _reads_resource_tags(policies):
            tags_of = self.resource_tags.get(service)
            if tags_of is not None:
                resource_tags = await tags_of(resource)
        request = RequestContext(
            principal_arn=principal.arn,
            action=action,
            resource=resource,
            principal_account=principal.account,
            resource_account=owner,
            is_root=principal.is_root,
            session_issuer_arn=principal.role_arn or None,
            context_keys={"aws:userid": principal.user_id, **context},
            principal_tags=dict(principal.tags),
            resource_tags=resource_tags,
            request_tags=tags or {},
        )
        decision = self._decisions.evaluate(request, policies)
        if decision.allowed:
            if quick is not None:
                if len(self._allowed) >= _ALLOWED_KEPT:
                    self._allowed.clear()
                self._allowed.add(quick)
            return None
        message = denial_message(request, decision)
        if self.mode == AUDIT:
            log.warning("IAM audit: would deny: %s", message)
            return None
        return message

    def _with_resource(self, policies: PolicySet, resource: Policy | None) -> PolicySet:
        """The principal's policies with a resource's policy beside them, built once per pair
        (the decision cache keys on the set's token, so it must be the same object)."""
        if resource is None:
            return policies
        key = (id(policies), id(resource))
        kept = self._combined.get(key)
        if kept is not None and kept[0] is policies and kept[1] is resource:
            return kept[2]
        if len(self._combined) >= _PARSED_KEPT:
            self._combined.clear()
        combined = PolicySet(
            identity=policies.identity, resource=resource, boundary=policies.boundary, session=policies.session
        )
        self._combined[key] = (policies, resource, combined)
        return combined

    async def service_denial(
        self,
        service_principal: str,
        action: str,
        target: str,
        source_arn: str | None,
        source_account: str | None,
        source_owner: str | None = None,
    ) -> str | None:
        """Whether the target's resource policy lets an AWS service (SNS for a topic,
        EventBridge for a rule...) perform `action` on it: None if so, else why not. A target
        with no policy at all refuses every service; one that does not exist is not refused
        here (its deliverer says it is not there)."""
        lookup = self.resource_policies.get(target.split(":")[2] if target.count(":") >= 5 else "")
        document = await lookup(target) if lookup is not None else None
        if document is None:
            return None
        allowed = False
        policy = self._parse_resource(document) if document else None
        if policy is not None:
            keys: dict[str, str] = {}
            if source_arn:
                keys["aws:SourceArn"] = source_arn
            if source_account:
                keys["aws:SourceAccount"] = source_account
            if source_owner:
                # Only some services set it (CloudWatch alarms, S3's legacy notifications):
                # SNS's default topic policy, which tests it, lets just those in.
                keys["aws:SourceOwner"] = source_owner
            request = RequestContext(
                principal_arn=service_principal,
                action=action,
                resource=target,
                principal_type="Service",
                context_keys=keys,
            )
            allowed = evaluate(request, PolicySet(resource=policy, resource_policy_required=True)).allowed
        if allowed or self.mode == OFF:
            return None
        message = f"The resource-based policy of {target} does not allow {service_principal} to perform {action}" + (
            f" for {source_arn}" if source_arn else ""
        )
        if self.mode == AUDIT:
            log.warning("IAM audit: would deny: %s", message)
            return None
        return message

    def _parse_resource(self, document: str) -> Policy | None:
        key = "resource:" + document
        policy = self._parsed.get(key)
        if policy is None:
            try:
                policy = _parse(document, kind=RESOURCE)
            except MalformedPolicy:
                return None
            self._parsed[key] = policy
        return policy

    def may_assume(self, caller: Principal, role, context: dict) -> str | None:
        """STS's AssumeRole: the role's trust policy must allow the caller (always, even the
        account's root), and, unless the trust policy names the caller itself, the caller's
        own policies must allow sts:AssumeRole on the role. None if allowed, else AWS's
        denial message."""
        try:
            trust = self._parsed.get("trust:" + role.trust_policy) or _parse(role.trust_policy, kind=RESOURCE)
        except MalformedPolicy:
            return f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on resource: {role.arn}"
        self._parsed["trust:" + role.trust_policy] = trust
        request = RequestContext(
            principal_arn=caller.arn,
            action="sts:AssumeRole",
            resource=role.arn,
            principal_account=caller.account,
            is_root=caller.is_root,
            session_issuer_arn=caller.role_arn or None,
            context_keys={"aws:userid": caller.user_id, **context},
            principal_tags=dict(caller.tags),
        )
        mine = self._policies(caller)
        policies = PolicySet(
            identity=mine.identity,
            resource=trust,
            boundary=mine.boundary,
            session=mine.session,
            resource_policy_required=True,
        )
        decision = self._decisions.evaluate(request, policies)
        if decision.allowed or self.mode == OFF:
            return None
        message = denial_message(request, decision)
        if self.mode == AUDIT:
            log.warning("IAM audit: would deny: %s", message)
            return None
        return message

    def service_may_assume(self, service: str, role) -> bool:
        """Whether `role`'s trust policy lets an AWS service principal ("lambda.amazonaws.com")
        assume it: what CreateFunction checks of an execution role."""
        try:
            trust = _parse(role.trust_policy, kind=RESOURCE)
        except MalformedPolicy:
            return False
        request = RequestContext(
            principal_arn=service, action="sts:AssumeRole", resource=role.arn, principal_type="Service"
        )
        return evaluate(request, PolicySet(resource=trust, resource_policy_required=True)).allowed

    def _policies(self, principal: Principal) -> PolicySet:
        key = (
            principal.arn,
            principal.kind,
            principal.role_arn,
            principal.session_policies,
            principal.session_policy_arns,
        )
        generation = self.generation()
        kept = self._sets.get(key)
        if kept is not None and kept[0] == generation:
            return kept[1]
        if len(self._sets) >= _PARSED_KEPT:
            self._sets.clear()
        policies = self._build(principal)
        self._sets[key] = (generation, policies)
        return policies

    def _build(self, principal: Principal) -> PolicySet:
        identity: list[str] = []
        boundary: str | None = None
        if self.policies_of is not None and not principal.is_root:
            identity, boundary = self.policies_of(principal)
        session = list(principal.session_policies)
        for arn in principal.session_policy_arns:
            document = self.managed_policy(principal.account, arn) if self.managed_policy is not None else None
            # One that no longer exists still caps the session: it allows nothing.
            session.append(document or '{"Version": "2012-10-17", "Statement": []}')
        return PolicySet(
            identity=[self._parse(doc) for doc in identity],
            boundary=self._parse(boundary) if boundary else None,
            session=[self._parse(doc) for doc in session],
        )

    def _parse(self, document: str) -> Policy:
        policy = self._parsed.get(document)
        if policy is None:
            try:
                policy = _parse(document, kind=IDENTITY)
            except MalformedPolicy:
                # Refused at its creation; one that slipped through grants nothing.
                policy = _parse('{"Version": "2012-10-17", "Statement": []}', kind=IDENTITY)
            if len(self._parsed) >= _PARSED_KEPT:
                self._parsed.clear()
            self._parsed[document] = policy
        return policy
