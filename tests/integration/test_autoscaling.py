"""Application Auto Scaling against a live server: Lambda's provisioned concurrency as a
scalable target, a flash sale provisioned in advance by a scheduled action, target tracking
policies with their CloudWatch alarms, scaling activities, AWS's errors, and scheduled
actions that survive a restart.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ROLE, ensure_role, make_zip

from .test_lambda_helpers import error_of, wait_until
from .test_provisioned import CODE

DIMENSION = "lambda:function:ProvisionedConcurrency"


@pytest.fixture
def scaling(lamina):
    return lamina.client("application-autoscaling")


def _at(seconds: float) -> str:
    moment = datetime.now(timezone.utc) + timedelta(seconds=seconds)
    return "at(" + moment.strftime("%Y-%m-%dT%H:%M:%S") + ")"


def _ready(lambda_client, name: str, qualifier: str, count: int):
    def check():
        try:
            config = lambda_client.get_provisioned_concurrency_config(FunctionName=name, Qualifier=qualifier)
        except ClientError:
            return None
        assert config["Status"] != "FAILED", config
        done = config["Status"] == "READY" and config["AllocatedProvisionedConcurrentExecutions"] == count
        return config if done else None

    return check


def _alias(lambda_client, create_function, name: str) -> str:
    create_function(code=CODE, Publish=True, Timeout=30)
    lambda_client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    return f"function:{name}:live"


def test_a_scheduled_action_provisions_a_flash_sale_in_advance(
    lamina, lambda_client, create_function, unique_name, scaling
):
    resource = _alias(lambda_client, create_function, unique_name)
    arn = scaling.register_scalable_target(
        ServiceNamespace="lambda", ResourceId=resource, ScalableDimension=DIMENSION, MinCapacity=0, MaxCapacity=5
    )["ScalableTargetARN"]
    assert arn.startswith("arn:aws:application-autoscaling:us-east-1:")
    targets = scaling.describe_scalable_targets(ServiceNamespace="lambda", ResourceIds=[resource])["ScalableTargets"]
    assert [(t["MinCapacity"], t["MaxCapacity"], t["ScalableTargetARN"]) for t in targets] == [(0, 5, arn)]
    assert targets[0]["RoleARN"].endswith("AWSServiceRoleForApplicationAutoScaling_LambdaConcurrency")

    scaling.put_scheduled_action(
        ServiceNamespace="lambda",
        ScheduledActionName="flash-sale",
        ResourceId=resource,
        ScalableDimension=DIMENSION,
        Schedule=_at(2),
        ScalableTargetAction={"MinCapacity": 2},
    )
    actions = scaling.describe_scheduled_actions(ServiceNamespace="lambda", ResourceId=resource)["ScheduledActions"]
    assert [a["ScheduledActionName"] for a in actions] == ["flash-sale"]
    assert actions[0]["ScalableTargetAction"] == {"MinCapacity": 2}

    config = wait_until(
        _ready(lambda_client, unique_name, "live", 2), timeout=60, interval=0.2, what="the flash sale's capacity"
    )
    assert config["RequestedProvisionedConcurrentExecutions"] == 2
    target = scaling.describe_scalable_targets(ServiceNamespace="lambda", ResourceIds=[resource])["ScalableTargets"][0]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 5)

    def finished():
        found = scaling.describe_scaling_activities(ServiceNamespace="lambda", ResourceId=resource)
        done = [a for a in found["ScalingActivities"] if a["StatusCode"] == "Successful"]
        return done[0] if done else None

    activity = wait_until(finished, timeout=30, interval=0.2, what="a successful scaling activity")
    assert activity["Description"] == "Setting provisioned concurrency to 2."
    assert activity["Cause"] == "scheduled action name flash-sale was triggered"
    assert activity["ScalableDimension"] == DIMENSION

    # The sale is over: the bounds come down, and the capacity with them.
    scaling.register_scalable_target(
        ServiceNamespace="lambda", ResourceId=resource, ScalableDimension=DIMENSION, MinCapacity=0, MaxCapacity=1
    )
    wait_until(_ready(lambda_client, unique_name, "live", 1), timeout=60, interval=0.2, what="capacity 1")

    scaling.delete_scheduled_action(
        ServiceNamespace="lambda", ScheduledActionName="flash-sale", ResourceId=resource, ScalableDimension=DIMENSION
    )
    scaling.deregister_scalable_target(ServiceNamespace="lambda", ResourceId=resource, ScalableDimension=DIMENSION)
    assert scaling.describe_scalable_targets(ServiceNamespace="lambda", ResourceIds=[resource])["ScalableTargets"] == []


def test_a_target_tracking_policy_and_its_alarms(lamina, lambda_client, create_function, unique_name, scaling):
    resource = _alias(lambda_client, create_function, unique_name)
    scaling.register_scalable_target(
        ServiceNamespace="lambda", ResourceId=resource, ScalableDimension=DIMENSION, MinCapacity=1, MaxCapacity=3
    )
    # Registering with MinCapacity 1 brings the capacity up to it at once.
    wait_until(_ready(lambda_client, unique_name, "live", 1), timeout=60, interval=0.2, what="capacity 1")
    response = scaling.put_scaling_policy(
        PolicyName="utilization",
        ServiceNamespace="lambda",
        ResourceId=resource,
        ScalableDimension=DIMENSION,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 0.7,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "LambdaProvisionedConcurrencyUtilization"},
        },
    )
    names = [alarm["AlarmName"] for alarm in response["Alarms"]]
    assert len(names) == 2
    assert names[0].startswith(f"TargetTracking-{resource}-AlarmHigh-")
    assert names[1].startswith(f"TargetTracking-{resource}-AlarmLow-")
    assert response["PolicyARN"].startswith("arn:aws:autoscaling:us-east-1:")
    alarms = lamina.client("cloudwatch").describe_alarms(AlarmNames=names)["MetricAlarms"]
    by_name = {alarm["AlarmName"]: alarm for alarm in alarms}
    high, low = by_name[names[0]], by_name[names[1]]
    assert (high["Threshold"], high["EvaluationPeriods"], high["ComparisonOperator"]) == (
        0.7,
        3,
        "GreaterThanThreshold",
    )
    assert (round(low["Threshold"], 6), low["EvaluationPeriods"]) == (0.63, 15)
    assert {d["Name"]: d["Value"] for d in high["Dimensions"]} == {
        "FunctionName": unique_name,
        "Resource": f"{unique_name}:live",
    }

    policies = scaling.describe_scaling_policies(ServiceNamespace="lambda", ResourceId=resource)["ScalingPolicies"]
    assert [p["PolicyName"] for p in policies] == ["utilization"]
    assert policies[0]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 0.7

    scaling.delete_scaling_policy(
        PolicyName="utilization", ServiceNamespace="lambda", ResourceId=resource, ScalableDimension=DIMENSION
    )
    assert lamina.client("cloudwatch").describe_alarms(AlarmNames=names)["MetricAlarms"] == []
    scaling.deregister_scalable_target(ServiceNamespace="lambda", ResourceId=resource, ScalableDimension=DIMENSION)


def test_errors_as_aws_words_them(lamina, lambda_client, create_function, unique_name, scaling):
    resource = _alias(lambda_client, create_function, unique_name)
    with pytest.raises(ClientError) as caught:
        scaling.put_scaling_policy(
            PolicyName="p",
            ServiceNamespace="lambda",
            ResourceId=resource,
            ScalableDimension=DIMENSION,
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": 0.5,
                "PredefinedMetricSpecification": {"PredefinedMetricType": "LambdaProvisionedConcurrencyUtilization"},
            },
        )
    assert error_of(caught) == (
        "ObjectNotFoundException",
        400,
        f"No scalable target registered for service namespace: lambda, resource ID: {resource}, "
        f"scalable dimension: {DIMENSION}",
    )
    with pytest.raises(ClientError) as caught:
        scaling.deregister_scalable_target(ServiceNamespace="lambda", ResourceId=resource, ScalableDimension=DIMENSION)
    assert error_of(caught)[0] == "ObjectNotFoundException"
    with pytest.raises(ClientError) as caught:
        scaling.register_scalable_target(
            ServiceNamespace="lambda", ResourceId=resource, ScalableDimension=DIMENSION, MinCapacity=3, MaxCapacity=1
        )
    assert error_of(caught)[:2] == ("ValidationException", 400)
    with pytest.raises(ClientError) as caught:
        scaling.register_scalable_target(
            ServiceNamespace="ecs",
            ResourceId="service/default/web",
            ScalableDimension="ecs:service:DesiredCount",
            MinCapacity=1,
            MaxCapacity=2,
        )
    assert error_of(caught)[0] == "ValidationException"
    with pytest.raises(ClientError) as caught:
        scaling.register_scalable_target(
            ServiceNamespace="lambda",
            ResourceId=f"function:{unique_name}-missing:live",
            ScalableDimension=DIMENSION,
            MinCapacity=1,
            MaxCapacity=2,
        )
    assert error_of(caught)[0] == "ValidationException"


def test_a_scheduled_action_survives_a_restart(lamina_factory):
    server = lamina_factory()
    lambda_client, scaling = server.client("lambda"), server.client("application-autoscaling")
    ensure_role(server.client("iam"))
    lambda_client.create_function(
        FunctionName="sale",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip(CODE)},
        Publish=True,
    )
    wait_until(
        lambda: lambda_client.get_function_configuration(FunctionName="sale", Qualifier="1")["State"] == "Active",
        timeout=30,
    )
    resource = "function:sale:1"
    scaling.register_scalable_target(
        ServiceNamespace="lambda", ResourceId=resource, ScalableDimension=DIMENSION, MinCapacity=0, MaxCapacity=4
    )
    scaling.put_scheduled_action(
        ServiceNamespace="lambda",
        ScheduledActionName="later",
        ResourceId=resource,
        ScalableDimension=DIMENSION,
        Schedule=_at(8),
        ScalableTargetAction={"MinCapacity": 1, "MaxCapacity": 4},
    )
    server.restart()
    lambda_client, scaling = server.client("lambda"), server.client("application-autoscaling")
    assert [
        a["ScheduledActionName"]
        for a in scaling.describe_scheduled_actions(ServiceNamespace="lambda")["ScheduledActions"]
    ] == ["later"]
    wait_until(_ready(lambda_client, "sale", "1", 1), timeout=60, interval=0.2, what="the action after a restart")
