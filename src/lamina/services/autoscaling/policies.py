"""PutScalingPolicy, DescribeScalingPolicies, DeleteScalingPolicy.

Lamina serves target tracking on LambdaProvisionedConcurrencyUtilization (tracking.py
evaluates it, alarms.py keeps its two CloudWatch alarms). Step scaling, predictive scaling
and customized metrics are refused saying so.
"""

from __future__ import annotations

import time

from ... import ids
from ..context import RequestContext
from .alarms import alarm_arn, alarm_names, delete_alarms, put_alarms
from .capacity import Scaler
from .checks import check_namespace, target_ref
from .paging import page
from .state import AutoScalingState, object_not_found, policy_arn, validation

METRIC = "LambdaProvisionedConcurrencyUtilization"
_PUBLIC = (
    "PolicyARN",
    "PolicyName",
    "ServiceNamespace",
    "ResourceId",
    "ScalableDimension",
    "PolicyType",
    "TargetTrackingScalingPolicyConfiguration",
    "Alarms",
    "CreationTime",
)


def _check_tracking(config: dict | None) -> dict:
    if not config:
        raise validation("TargetTrackingScalingPolicyConfiguration is required for a TargetTrackingScaling policy")
    if config.get("CustomizedMetricSpecification"):
        raise validation(
            "Lamina's target tracking follows the predefined metric LambdaProvisionedConcurrencyUtilization; "
            "CustomizedMetricSpecification is not supported."
        )
    metric = (config.get("PredefinedMetricSpecification") or {}).get("PredefinedMetricType")
    if metric is None:
        raise validation("Either PredefinedMetricSpecification or CustomizedMetricSpecification must be specified")
    if metric != METRIC:
        raise validation(f"Unsupported predefined metric type {metric} for service namespace lambda")
    value = config["TargetValue"]
    if not 0.1 <= value <= 0.9:
        raise validation(f"The target value {value} for {METRIC} must be between 0.1 and 0.9")
    for member in ("ScaleInCooldown", "ScaleOutCooldown"):
        if config.get(member) is not None and config[member] < 0:
            raise validation(f"{member} must be greater than or equal to 0")
    return {k: v for k, v in config.items() if v is not None}


class PoliciesApi:
    state: AutoScalingState
    scaler: Scaler

    async def put_scaling_policy(self, params: dict, ctx: RequestContext) -> dict:
        ref = target_ref(params, ctx)
        name = params["PolicyName"]
        if self.state.target(ref) is None:
            raise object_not_found(f"No scalable target registered for {ref.describe()}")
        kind = params.get("PolicyType") or "StepScaling"
        if kind != "TargetTrackingScaling":
            raise validation(
                f"Lamina scales Lambda provisioned concurrency with TargetTrackingScaling policies; "
                f"PolicyType {kind} is not supported."
            )
        config = _check_tracking(params.get("TargetTrackingScalingPolicyConfiguration"))
        existing = self.state.policies.get(f"{ref.key}|{name}")
        scale_in = not config.get("DisableScaleIn")
        if existing is not None and len(existing["Alarms"]) == (2 if scale_in else 1):
            alarms = existing["Alarms"]
        else:
            if existing is not None:
                await delete_alarms(self.scaler, ref, existing)
            alarms = [{"AlarmName": n, "AlarmARN": alarm_arn(ref, n)} for n in alarm_names(ref, scale_in)]
        policy = {
            "PolicyARN": existing["PolicyARN"] if existing else policy_arn(ref, ids.uuid4(), name),
            "PolicyName": name,
            "ServiceNamespace": ref.namespace,
            "ResourceId": ref.resource_id,
            "ScalableDimension": ref.dimension,
            "PolicyType": kind,
            "TargetTrackingScalingPolicyConfiguration": config,
            "Alarms": alarms,
            "CreationTime": existing["CreationTime"] if existing else time.time(),
        }
        await self.state.put_policy(ref, name, policy)
        await put_alarms(self.scaler, ref, policy)
        return {"PolicyARN": policy["PolicyARN"], "Alarms": alarms}

    async def describe_scaling_policies(self, params: dict, ctx: RequestContext) -> dict:
        check_namespace(params["ServiceNamespace"])
        names = set(params.get("PolicyNames") or ())
        prefix = f"{ctx.account_id}:{ctx.region}:{params['ServiceNamespace']}:"
        found = [
            {k: policy[k] for k in _PUBLIC if k in policy}
            for key, policy in sorted(self.state.policies.items())
            if key.startswith(prefix)
            and (not names or policy["PolicyName"] in names)
            and (not params.get("ResourceId") or policy["ResourceId"] == params["ResourceId"])
            and (not params.get("ScalableDimension") or policy["ScalableDimension"] == params["ScalableDimension"])
        ]
        return page(found, params, "ScalingPolicies")

    async def delete_scaling_policy(self, params: dict, ctx: RequestContext) -> dict:
        ref = target_ref(params, ctx)
        name = params["PolicyName"]
        policy = self.state.policies.get(f"{ref.key}|{name}")
        if policy is None:
            raise object_not_found(f"No scaling policy found for {ref.describe()}, policy name: {name}")
        await self.state.delete_policy(ref, name)
        await delete_alarms(self.scaler, ref, policy)
        return {}
