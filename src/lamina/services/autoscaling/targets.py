"""RegisterScalableTarget, DescribeScalableTargets, DeregisterScalableTarget."""

from __future__ import annotations

import time

from ... import ids
from ..context import RequestContext
from .alarms import delete_alarms
from .capacity import Scaler
from .checks import check_capacity, check_namespace, target_ref
from .paging import page
from .scheduled import Firing
from .state import AutoScalingState, object_not_found, target_arn, validation

_PUBLIC = (
    "ServiceNamespace",
    "ResourceId",
    "ScalableDimension",
    "MinCapacity",
    "MaxCapacity",
    "RoleARN",
    "CreationTime",
    "SuspendedState",
    "ScalableTargetARN",
)


def service_role(account: str) -> str:
    """The service-linked role AWS scales Lambda's provisioned concurrency with."""
    return (
        f"arn:aws:iam::{account}:role/aws-service-role/lambda.application-autoscaling.amazonaws.com/"
        "AWSServiceRoleForApplicationAutoScaling_LambdaConcurrency"
    )


def public_target(record: dict) -> dict:
    return {k: record[k] for k in _PUBLIC if k in record}


class TargetsApi:
    state: AutoScalingState
    scaler: Scaler

    firing: Firing

    async def register_scalable_target(self, params: dict, ctx: RequestContext) -> dict:
        ref = target_ref(params, ctx)
        low, high = params.get("MinCapacity"), params.get("MaxCapacity")
        check_capacity("MinCapacity", low)
        check_capacity("MaxCapacity", high)
        existing = self.state.target(ref)
        if existing is None:
            if low is None or high is None:
                raise validation("MinCapacity and MaxCapacity are required for registering a new scalable target.")
            await self.scaler.check_exists(ref)
            record = {
                "ServiceNamespace": ref.namespace,
                "ResourceId": ref.resource_id,
                "ScalableDimension": ref.dimension,
                "RoleARN": params.get("RoleARN") or service_role(ctx.account_id),
                "CreationTime": time.time(),
                "SuspendedState": {
                    "DynamicScalingInSuspended": False,
                    "DynamicScalingOutSuspended": False,
                    "ScheduledScalingSuspended": False,
                },
                "ScalableTargetARN": target_arn(ref, ids.hex32()),
                "Tags": params.get("Tags") or {},
            }
        else:
            if params.get("Tags"):
                raise validation(
                    "The scalable target that you tried to tag already exists. "
                    "To update tags on an existing scalable target, use the TagResource API."
                )
            record = dict(existing)
        if low is not None:
            record["MinCapacity"] = low
        if high is not None:
            record["MaxCapacity"] = high
        if record["MinCapacity"] > record["MaxCapacity"]:
            raise validation("Minimum capacity cannot be greater than maximum capacity")
        if params.get("SuspendedState"):
            record["SuspendedState"] = dict(record["SuspendedState"], **params["SuspendedState"])
        await self.state.put_target(ref, record)
        # As on AWS: a capacity outside the new bounds is brought inside them at once.
        cause = _bounds_cause(low, high)
        await self.scaler.within_bounds(ref, record, cause)
        return {"ScalableTargetARN": record["ScalableTargetARN"]}

    async def describe_scalable_targets(self, params: dict, ctx: RequestContext) -> dict:
        check_namespace(params["ServiceNamespace"])
        wanted = set(params.get("ResourceIds") or ())
        dimension = params.get("ScalableDimension")
        prefix = f"{ctx.account_id}:{ctx.region}:{params['ServiceNamespace']}:"
        found = [
            public_target(record)
            for key, record in sorted(self.state.targets.items())
            if key.startswith(prefix)
            and (not wanted or record["ResourceId"] in wanted)
            and (dimension is None or record["ScalableDimension"] == dimension)
        ]
        return page(found, params, "ScalableTargets")

    async def deregister_scalable_target(self, params: dict, ctx: RequestContext) -> dict:
        ref = target_ref(params, ctx)
        if self.state.target(ref) is None:
            raise object_not_found(f"No scalable target found for {ref.describe()}")
        self.firing.disarm_target(ref)
        policies = await self.state.delete_target(ref)
        for policy in policies:
            await delete_alarms(self.scaler, ref, policy)
        return {}


def _bounds_cause(low: int | None, high: int | None) -> str:
    parts = []
    if low is not None:
        parts.append(f"minimum capacity was set to {low}")
    if high is not None:
        parts.append(f"maximum capacity was set to {high}")
    return " and ".join(parts) or "the scalable target was registered"
