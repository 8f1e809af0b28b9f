"""The CloudWatch alarms of a target tracking policy, made and removed through CloudWatch.

As on AWS, a policy on LambdaProvisionedConcurrencyUtilization has two alarms on the
alias's or version's ProvisionedConcurrencyUtilization (Average, one-minute periods):
AlarmHigh (above the target for 3 of 3 minutes) and AlarmLow (below 90% of it for 15 of 15;
none when scale-in is disabled), named TargetTracking-<resource>-AlarmHigh-<uuid>. They are
real alarms (DescribeAlarms shows them and their state), put through CloudWatch's API by
name. Lamina's difference: they carry no alarm action (CloudWatch routes actions to SNS and
Lambda only); the policy evaluates the same rule on the same metric itself (tracking.py).
"""

from __future__ import annotations

import logging

from ... import ids
from ...errors import ServiceError
from .capacity import Scaler
from .state import TargetRef

log = logging.getLogger("lamina.autoscaling")

HIGH_PERIODS, LOW_PERIODS = 3, 15
LOW_SHARE = 0.9  # AlarmLow's threshold, a share of the target


def alarm_arn(ref: TargetRef, name: str) -> str:
    return f"arn:aws:cloudwatch:{ref.region}:{ref.account}:alarm:{name}"


def alarm_names(ref: TargetRef, scale_in: bool) -> list[str]:
    names = [f"TargetTracking-{ref.resource_id}-AlarmHigh-{ids.uuid4()}"]
    if scale_in:
        names.append(f"TargetTracking-{ref.resource_id}-AlarmLow-{ids.uuid4()}")
    return names


def _alarm(ref: TargetRef, name: str, policy_arn: str, target: float) -> dict:
    high = "-AlarmHigh-" in name
    return {
        "AlarmName": name,
        "AlarmDescription": f"DO NOT EDIT OR DELETE. For TargetTrackingScaling policy {policy_arn}.",
        "ActionsEnabled": True,
        "Namespace": "AWS/Lambda",
        "MetricName": "ProvisionedConcurrencyUtilization",
        "Dimensions": [
            {"Name": "FunctionName", "Value": ref.function_name},
            {"Name": "Resource", "Value": f"{ref.function_name}:{ref.qualifier}"},
        ],
        "Statistic": "Average",
        "Period": 60,
        "EvaluationPeriods": HIGH_PERIODS if high else LOW_PERIODS,
        "DatapointsToAlarm": HIGH_PERIODS if high else LOW_PERIODS,
        "Threshold": target if high else target * LOW_SHARE,
        "ComparisonOperator": "GreaterThanThreshold" if high else "LessThanThreshold",
    }


async def put_alarms(scaler: Scaler, ref: TargetRef, policy: dict) -> None:
    config = policy["TargetTrackingScalingPolicyConfiguration"]
    for alarm in policy["Alarms"]:
        params = _alarm(ref, alarm["AlarmName"], policy["PolicyARN"], config["TargetValue"])
        try:
            await scaler.call_service(ref, "cloudwatch", "PutMetricAlarm", params)
        except ServiceError:
            log.exception("could not put alarm %s", alarm["AlarmName"])


async def delete_alarms(scaler: Scaler, ref: TargetRef, policy: dict) -> None:
    names = [alarm["AlarmName"] for alarm in policy.get("Alarms") or ()]
    if not names:
        return
    try:
        await scaler.call_service(ref, "cloudwatch", "DeleteAlarms", {"AlarmNames": names})
    except ServiceError:
        log.exception("could not delete alarms %s", names)
