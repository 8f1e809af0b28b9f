"""A queue's access policy: AddPermission, RemovePermission (statements by label in the
queue's Policy attribute, as SQS keeps them) and `resource_policy(arn)`, what authorization
and the delivery gate read for a call or a delivery on the queue."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from ...errors import ServiceError
from ..context import RequestContext
from .queue import Queue
from .state import SqsState, now_ms

# The actions AddPermission grants (SQS's list; "*" is all of them).
ACTIONS = frozenset(
    {
        "*",
        "SendMessage",
        "ReceiveMessage",
        "DeleteMessage",
        "ChangeMessageVisibility",
        "GetQueueAttributes",
        "GetQueueUrl",
        "ListDeadLetterSourceQueues",
        "PurgeQueue",
        "ListQueueTags",
    }
)
MAX_STATEMENTS = 20  # AddPermission's statements per queue policy


def _invalid(parameter: str, value: str, reason: str) -> ServiceError:
    return ServiceError(
        "InvalidParameterValue", f"Value {value} for parameter {parameter} is invalid. Reason: {reason}", 400
    )


class PermissionsApi:
    state: SqsState

    _save: Callable[[Queue], Awaitable[None]]  # QueuesApi's: the queue's record to the store

    async def add_permission(self, params: dict, ctx: RequestContext) -> dict:
        queue = self.state.by_url(params["QueueUrl"], ctx)
        label = params["Label"]
        accounts = params.get("AWSAccountIds") or []
        actions = params.get("Actions") or []
        if not accounts:
            raise ServiceError("MissingParameter", "The request must contain the parameter AWSAccountIds.", 400)
        if not actions:
            raise ServiceError("MissingParameter", "The request must contain the parameter Actions.", 400)
        for action in actions:
            if action not in ACTIONS:
                raise _invalid("ActionName", action, "Only the queue owner is allowed to invoke this action.")
        for account in accounts:
            if not (account.isdigit() and len(account) == 12):
                raise _invalid("PrincipalId", account, "Unable to verify principal.")
        policy = json.loads(queue.attributes.get("Policy") or "{}") or {
            "Version": "2012-10-17",
            "Id": f"{queue.arn}/SQSDefaultPolicy",
        }
        statements = policy.setdefault("Statement", [])
        if isinstance(statements, dict):
            statements = policy["Statement"] = [statements]
        if any(statement.get("Sid") == label for statement in statements):
            raise _invalid("Label", label, "Already exists.")
        if len(statements) >= MAX_STATEMENTS:
            raise ServiceError("OverLimit", f"{MAX_STATEMENTS} Statements are the maximum allowed.", 403)
        principals = [f"arn:aws:iam::{account}:root" for account in accounts]
        granted = [f"SQS:{action}" for action in actions]
        statements.append(
            {
                "Sid": label,
                "Effect": "Allow",
                "Principal": {"AWS": principals[0] if len(principals) == 1 else principals},
                "Action": granted[0] if len(granted) == 1 else granted,
                "Resource": queue.arn,
            }
        )
        queue.attributes["Policy"] = json.dumps(policy, separators=(",", ":"))
        queue.modified = now_ms()
        await self._save(queue)
        return {}

    async def remove_permission(self, params: dict, ctx: RequestContext) -> dict:
        queue = self.state.by_url(params["QueueUrl"], ctx)
        label = params["Label"]
        policy = json.loads(queue.attributes.get("Policy") or "{}")
        statements = policy.get("Statement") or []
        if isinstance(statements, dict):
            statements = [statements]
        kept = [statement for statement in statements if statement.get("Sid") != label]
        if len(kept) == len(statements):
            raise _invalid("Label", label, "can't find label on existing policy.")
        if kept:
            policy["Statement"] = kept
            queue.attributes["Policy"] = json.dumps(policy, separators=(",", ":"))
        else:  # SQS drops the attribute with its last statement
            queue.attributes.pop("Policy", None)
        queue.modified = now_ms()
        await self._save(queue)
        return {}

    async def resource_policy(self, arn: str) -> str | None:
        """The queue's policy ("" if it has none), or None if there is no such queue."""
        queue = self.state.by_arn(arn)
        if queue is None:
            return None
        return queue.attributes.get("Policy") or ""

    async def resource_tags(self, arn: str) -> dict[str, str]:
        """The queue's tags (aws:ResourceTag/...)."""
        queue = self.state.by_arn(arn)
        return dict(queue.tags) if queue is not None else {}
