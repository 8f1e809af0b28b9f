"""May this delivery reach its target? What AWS checks when one service sends to another.

A service acting on its own (SNS delivering a topic's message, EventBridge a rule's event)
is a service principal: the target's resource policy must allow it (`lambda add-permission
--principal sns.amazonaws.com`, a queue policy for sns.amazonaws.com with aws:SourceArn).
A service acting through a role (a schedule's or a target's RoleArn) must be trusted by the
role, and then the role's policies decide, as they would for a call by that role. A delivery
from one account's bus to another's acts as the sending account. Lamina's own destinations
(a function's OnFailure queue...) carry none of these and are not gated here.

The options a sender passes (and Destinations hands to `check`):
    source_service  "sns.amazonaws.com", "events.amazonaws.com", "scheduler.amazonaws.com"...
    source_arn      the topic, rule or schedule the delivery is for (aws:SourceArn)
    role_arn        the role the service acts as
    source_account  the sending account (bus to bus)
    source_owner    aws:SourceOwner, which only some services set (CloudWatch alarms, S3's
                    legacy notifications): SNS's default topic policy lets those in
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import ServiceError
from ..identity.principals import Principal, role_session, root
from .authorizer import DENIAL_CODES, Authorizer
from .resources import account_of

# The action a delivery performs on a target, by the target ARN's service.
TARGET_ACTIONS = {
    "lambda": "lambda:InvokeFunction",
    "sqs": "sqs:SendMessage",
    "sns": "sns:Publish",
    "events": "events:PutEvents",
    "kinesis": "kinesis:PutRecord",
    "states": "states:StartExecution",
    "logs": "logs:PutLogEvents",
}

RoleLookup = Callable[[str, str], Any]  # (account, role ARN) -> the role, or None


class DeliveryGate:
    def __init__(self, authorizer: Authorizer, roles: RoleLookup) -> None:
        self.authorizer = authorizer
        self.roles = roles

    async def check(self, target: str, options: dict[str, Any]) -> None:
        """Raises the target service's access error (a 403: not retried) if the delivery
        may not happen."""
        parts = target.split(":")
        service = parts[2] if len(parts) > 5 else ""
        action = TARGET_ACTIONS.get(service)
        if action is None or self.authorizer.mode == "off":
            return
        if service == "logs" and not target.endswith(":*"):
            # PutLogEvents acts on the group's streams, which policies name log-group:NAME:*.
            target += ":*"
        role_arn = options.get("role_arn")
        source_service = options.get("source_service")
        source_arn = options.get("source_arn")
        source_account = options.get("source_account") or (account_of(source_arn) if source_arn else None)
        if role_arn:
            caller = self._session(role_arn, source_service or "", source_arn)
            if isinstance(caller, str):
                message: str | None = caller
            else:
                message = await self.authorizer.denial(caller, service, action, target, caller.account, {})
        elif source_service:
            message = await self.authorizer.service_denial(
                source_service, action, target, source_arn, source_account, options.get("source_owner")
            )
        elif source_account and source_account != account_of(target):
            message = await self.authorizer.denial(root(source_account), service, action, target, source_account, {})
        else:
            return
        if message is not None:
            raise ServiceError(DENIAL_CODES.get(service, "AccessDeniedException"), message, 403)

    async def first_denied(self, role_arn: str, actions: tuple[str, ...], resource: str) -> str | None:
        """The first of `actions` Lambda, acting as a function's execution role, may not
        perform on `resource` (an event source mapping reading its queue or stream), or None."""
        caller = self._session(role_arn, "lambda.amazonaws.com", None)
        if isinstance(caller, str):
            return actions[0] if actions else None
        for action in actions:
            service = action.split(":", 1)[0]
            if await self.authorizer.denial(caller, service, action, resource, caller.account, {}) is not None:
                return action
        return None

    def _session(self, role_arn: str, service: str, source_arn: str | None) -> Principal | str:
        """The role session `service` acts as, or why it cannot assume the role."""
        account = account_of(role_arn) or ""
        role = self.roles(account, role_arn)
        refusal = f"{service or 'The service'} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
        if role is None:
            return refusal
        if service and not self.authorizer.service_may_assume(service, role):
            if self.authorizer.mode == "audit":
                return role_session(account, role, service.split(".", 1)[0])
            return refusal
        return role_session(account, role, (source_arn or service).rsplit("/", 1)[-1][:64] or "delivery")
