"""PutPermission and RemovePermission: an event bus's resource-based policy (which other
accounts, or which organization, may put events on it), kept in the bus's document and shown
by DescribeEventBus as its `Policy`.

PutPermission either adds one statement (StatementId, Principal: a 12-digit account or "*",
Action events:PutEvents, and optionally a Condition on aws:PrincipalOrgID), replacing the
statement of that id if there is one, or sets the whole document at once (Policy).

`resource_policy(arn)` is what authorization reads for a call on a bus.
"""

from __future__ import annotations

import json
from typing import Any

from ...errors import ServiceError
from ...policy import RESOURCE, MalformedPolicy, parse_policy
from ..context import RequestContext
from .state import DEFAULT_BUS, Bus, EventsState, bus_key, now_ms, parse_bus_arn, validation

MAX_POLICY_CHARS = 10240  # EventBridge's limit on an event bus's policy
ACTION = "events:PutEvents"
CONDITION_TYPE = "StringEquals"
CONDITION_KEY = "aws:PrincipalOrgID"


def _too_long(size: int) -> ServiceError:
    return ServiceError(
        "PolicyLengthExceededException",
        f"The policy length {size} exceeds the maximum allowed length of {MAX_POLICY_CHARS} characters.",
        400,
    )


def _checked(text: str) -> str:
    if len(text) > MAX_POLICY_CHARS:
        raise _too_long(len(text))
    try:
        json.loads(text)
    except ValueError:
        raise validation("This policy contains invalid Json") from None
    try:
        parse_policy(text, kind=RESOURCE)
    except MalformedPolicy as error:
        raise validation(error.message) from None
    return text


def _statement(params: dict, bus: Bus) -> dict[str, Any]:
    principal = params.get("Principal")
    if not principal:
        raise validation("Parameter Principal must be specified.")
    action = params.get("Action")
    if not action:
        raise validation("Parameter Action must be specified.")
    if action != ACTION:
        raise validation("Provided value in parameter 'action' is not supported.")
    if not params.get("StatementId"):
        raise validation("Parameter StatementId must be specified.")
    condition = params.get("Condition")
    if condition is not None and principal != "*":
        raise validation("Value of the parameter 'principal' must be '*' when the parameter 'condition' is set.")
    statement: dict[str, Any] = {
        "Sid": params["StatementId"],
        "Effect": "Allow",
        "Principal": "*" if principal == "*" else {"AWS": f"arn:aws:iam::{principal}:root"},
        "Action": ACTION,
        "Resource": bus.arn,
    }
    if condition is not None:
        if condition["Type"] != CONDITION_TYPE:
            raise validation("Provided value in parameter 'condition.type' is not supported.")
        if condition["Key"] != CONDITION_KEY:
            raise validation("Provided value in parameter 'condition.key' is not supported.")
        statement["Condition"] = {condition["Type"]: {condition["Key"]: condition["Value"]}}
    return statement


class PermissionsApi:
    state: EventsState

    async def put_permission(self, params: dict, ctx: RequestContext) -> dict:
        bus = self.state.existing_bus(bus_key(params.get("EventBusName"), ctx.account_id, ctx.region))
        if params.get("Policy") is not None:
            text = _checked(params["Policy"])
        else:
            statement = _statement(params, bus)
            document = json.loads(bus.policy) if bus.policy else {"Version": "2012-10-17", "Statement": []}
            statements = document.get("Statement")
            if not isinstance(statements, list):
                statements = [statements] if statements else []
            kept = [s for s in statements if not (isinstance(s, dict) and s.get("Sid") == statement["Sid"])]
            document["Statement"] = [*kept, statement]
            text = json.dumps(document, separators=(",", ":"))
            if len(text) > MAX_POLICY_CHARS:
                raise _too_long(len(text))
        bus.policy = text
        bus.modified_ms = now_ms()
        await self.state.save_bus(bus)
        return {}

    async def remove_permission(self, params: dict, ctx: RequestContext) -> dict:
        bus = self.state.existing_bus(bus_key(params.get("EventBusName"), ctx.account_id, ctx.region))
        if params.get("RemoveAllPermissions"):
            if bus.policy is not None:
                bus.policy = None
                bus.modified_ms = now_ms()
                await self.state.save_bus(bus)
            return {}
        sid = params.get("StatementId")
        if not sid:
            raise validation("Parameter StatementId must be specified.")
        if not bus.policy:
            raise ServiceError("ResourceNotFoundException", "EventBus does not have a policy.", 400)
        document = json.loads(bus.policy)
        statements = document.get("Statement")
        if not isinstance(statements, list):
            statements = [statements] if statements else []
        kept = [s for s in statements if not (isinstance(s, dict) and s.get("Sid") == sid)]
        if len(kept) == len(statements):
            raise ServiceError("ResourceNotFoundException", "Statement with the provided id does not exist.", 400)
        if kept:
            document["Statement"] = kept
            bus.policy = json.dumps(document, separators=(",", ":"))
        else:
            bus.policy = None
        bus.modified_ms = now_ms()
        await self.state.save_bus(bus)
        return {}

    async def resource_policy(self, arn: str) -> str | None:
        """The policy of the bus `arn` names ("" when it has none), or None when there is no
        such bus (every account and region has its default bus)."""
        key = parse_bus_arn(arn)
        if key is None:
            return None
        bus = self.state.buses.get(key)
        if bus is None:
            return "" if key[2] == DEFAULT_BUS else None
        return bus.policy or ""
