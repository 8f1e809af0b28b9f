"""Target operations: PutTargets, RemoveTargets, ListTargetsByRule.

A rule has at most five targets. PutTargets adds or replaces targets by Id; a target that
cannot be accepted is reported in FailedEntries (its ARN is malformed, a FIFO queue without
SqsParameters.MessageGroupId) while the others are kept; settings no target may have (two
of Input/InputPath/InputTransformer, a placeholder the template does not define, a
dead-letter queue that is not a standard SQS queue) refuse the whole request, as AWS does.

Targets Lamina delivers to: Lambda functions (an asynchronous invoke), SQS queues (FIFO
included), SNS topics, Kinesis streams (KinesisParameters.PartitionKeyPath) and event
buses. Other ARNs (Step Functions, Firehose, ...) are
accepted and their deliveries fail with a clear error until a deliverer for them exists.
"""

from __future__ import annotations

import re

from ...errors import ServiceError
from ..context import RequestContext
from .state import EventsState, Rule, bus_key, decode_token, encode_token, validation
from .transform import InvalidTransform, check_target_input

MAX_TARGETS = 5
# Targets EventBridge reaches only through the target's RoleArn, as AWS requires it.
ROLE_TARGETS = frozenset({"kinesis", "states", "codebuild", "codepipeline", "batch", "ecs", "ec2", "ssm"})
_ARN = re.compile(r"^arn:aws[\w-]*:([a-z0-9-]+):([a-z0-9-]*):(\d{12})?:.+$")
_SQS_ARN = re.compile(r"^arn:aws[\w-]*:sqs:[a-z0-9-]+:\d{12}:[\w-]{1,80}(\.fifo)?$")


def limit_exceeded() -> ServiceError:
    return ServiceError("LimitExceededException", "The requested resource exceeds the maximum number allowed.", 400)


def _failed(target_id: str, message: str, code: str = "ValidationException") -> dict:
    return {"TargetId": target_id, "ErrorCode": code, "ErrorMessage": message}


def check_target(target: dict) -> dict | None:
    """The FailedEntries entry for a target PutTargets cannot take, or None. Raises a
    ValidationException for settings that refuse the whole request."""
    try:
        check_target_input(target)
    except InvalidTransform as error:
        raise validation(str(error)) from None
    dlq = (target.get("DeadLetterConfig") or {}).get("Arn")
    if dlq is not None:
        match = _SQS_ARN.match(dlq)
        if match is None or match.group(1):
            raise validation(
                f"Parameter DeadLetterConfig.Arn is not valid for target {target['Id']}. Reason: "
                "a dead-letter queue must be a standard SQS queue."
            )
    arn = target["Arn"]
    match = _ARN.match(arn)
    if match is None:
        return _failed(target["Id"], f"Parameter {arn} is not valid. Reason: Provided Arn is not in correct format.")
    if not target.get("RoleArn") and (match.group(1) in ROLE_TARGETS or ":api-destination/" in arn):
        # EventBridge acts on these as the target's role (resource policies cover the rest).
        raise validation(f"RoleArn is required for target {arn}.")
    if (
        match.group(1) == "sqs"
        and arn.endswith(".fifo")
        and not (target.get("SqsParameters") or {}).get("MessageGroupId")
    ):
        return _failed(target["Id"], f"Parameter(s) SqsParameters must be specified for target: {target['Id']}.")
    return None


def _stored(target: dict) -> dict:
    return {name: value for name, value in target.items() if value is not None}


class TargetsApi:
    state: EventsState

    def _rule(self, params: dict, ctx: RequestContext) -> tuple[tuple[str, str, str], Rule]:
        key = bus_key(params.get("EventBusName"), ctx.account_id, ctx.region)
        return key, self.state.rule(key, params["Rule"])

    async def put_targets(self, params: dict, ctx: RequestContext) -> dict:
        key, rule = self._rule(params, ctx)
        failed: list[dict] = []
        targets = dict(rule.targets)
        for target in params["Targets"]:
            problem = check_target(target)
            if problem is not None:
                failed.append(problem)
                continue
            targets[target["Id"]] = _stored(target)
        if len(targets) > MAX_TARGETS:
            raise limit_exceeded()
        if targets != rule.targets:
            rule.targets = targets
            await self.state.save_rule(self.state.existing_bus(key), rule)
        return {"FailedEntryCount": len(failed), "FailedEntries": failed}

    async def remove_targets(self, params: dict, ctx: RequestContext) -> dict:
        key, rule = self._rule(params, ctx)
        failed: list[dict] = []
        targets = dict(rule.targets)
        for target_id in params["Ids"]:
            if targets.pop(target_id, None) is None:
                failed.append(
                    _failed(
                        target_id,
                        f"Rule '{rule.name}' does not have a target with the Id '{target_id}'.",
                        "ResourceNotFoundException",
                    )
                )
        if len(targets) != len(rule.targets):
            rule.targets = targets
            await self.state.save_rule(self.state.existing_bus(key), rule)
        return {"FailedEntryCount": len(failed), "FailedEntries": failed}

    async def list_targets_by_rule(self, params: dict, ctx: RequestContext) -> dict:
        _, rule = self._rule(params, ctx)
        targets = list(rule.targets.values())
        start = 0
        if params.get("NextToken"):
            position = decode_token(params["NextToken"])
            if not position.isdigit():
                raise validation("The NextToken provided is invalid.")
            start = int(position)
        size = params.get("Limit") or 100
        result: dict = {"Targets": targets[start : start + size]}
        if start + size < len(targets):
            result["NextToken"] = encode_token(str(start + size))
        return result
