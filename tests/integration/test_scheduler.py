"""Amazon EventBridge Scheduler firing for real against a live server, through boto3:
one-time schedules into SQS (standard and FIFO) and into a Lambda function, context
attributes, ActionAfterCompletion, a rate schedule under LAMINA_SCHEDULER_SPEEDUP, a
failing target dead-lettered with AWS's attributes, and schedules surviving a restart.
The control plane is in test_scheduler_api.py."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta, timezone
from itertools import pairwise

import pytest

from tests.conftest import EVENTS, ROLE, allow_service

from .test_lambda_helpers import function_arn, wait_for_log_lines, wait_until
from .test_sns import make_queue, nothing_arrives, receive

OFF = {"Mode": "OFF"}
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
CONTEXT = (
    '{"arn": "<aws.scheduler.schedule-arn>", "time": "<aws.scheduler.scheduled-time>", '
    '"execution": "<aws.scheduler.execution-id>", "attempt": "<aws.scheduler.attempt-number>"}'
)


@pytest.fixture
def scheduler(lamina):
    return lamina.client("scheduler")


def at(seconds: float) -> str:
    """An at() expression `seconds` from now (UTC, whole seconds)."""
    moment = datetime.now(timezone.utc) + timedelta(seconds=seconds)
    return f"at({moment.strftime('%Y-%m-%dT%H:%M:%S')})"


def schedule(client, name: str, expression: str, arn: str, **more) -> str:
    target = {"Arn": arn, "RoleArn": ROLE, **more.pop("target", {})}
    params = {"Name": name, "ScheduleExpression": expression, "Target": target, "FlexibleTimeWindow": OFF}
    params.update(more)
    return client.create_schedule(**params)["ScheduleArn"]


def gone(client, name: str, group: str = "default") -> bool:
    try:
        client.get_schedule(Name=name, GroupName=group)
        return False
    except client.exceptions.ResourceNotFoundException:
        return True


def test_one_time_schedule_sends_to_a_queue_with_context_attributes(scheduler, sqs, unique_name):
    url, arn = make_queue(sqs, unique_name)
    expression = at(2)
    schedule_arn = schedule(scheduler, unique_name, expression, arn, target={"Input": CONTEXT})
    message = receive(sqs, url, timeout=15)[0]
    body = json.loads(message["Body"])
    assert body["arn"] == schedule_arn
    assert STAMP.match(body["time"]) and body["time"] == expression[3:-1] + "Z"
    assert re.fullmatch(r"[0-9a-f]{16}", body["execution"])
    assert body["attempt"] == "1"
    assert nothing_arrives(sqs, url, wait=1.5)  # once
    # ActionAfterCompletion NONE (the default): the schedule stays.
    assert scheduler.get_schedule(Name=unique_name)["State"] == "ENABLED"


def test_action_after_completion_delete_removes_the_schedule(scheduler, sqs, unique_name):
    url, arn = make_queue(sqs, unique_name)
    schedule(scheduler, unique_name, at(1), arn, target={"Input": "bye"}, ActionAfterCompletion="DELETE")
    assert receive(sqs, url, timeout=15)[0]["Body"] == "bye"
    wait_until(lambda: gone(scheduler, unique_name), timeout=5, what="the schedule to delete itself")


def test_one_time_schedule_into_a_fifo_queue_with_its_group(scheduler, sqs, unique_name):
    url, arn = make_queue(sqs, f"{unique_name}.fifo", FifoQueue="true")
    schedule(scheduler, unique_name, at(1), arn, target={"Input": "ordered", "SqsParameters": {"MessageGroupId": "g1"}})
    message = receive(sqs, url, timeout=15)[0]
    assert message["Body"] == "ordered"
    assert message["Attributes"]["MessageGroupId"] == "g1"


def test_disabled_schedule_does_not_fire(scheduler, sqs, unique_name):
    url, arn = make_queue(sqs, unique_name)
    schedule(scheduler, unique_name, at(1), arn, target={"Input": "no"}, State="DISABLED")
    assert nothing_arrives(sqs, url, wait=3)


def test_one_time_schedule_invokes_a_lambda_function(scheduler, create_function, lamina, unique_name):
    create_function(
        code={
            "app.py": """
        import json

        def handler(event, context):
            print("EVENT " + json.dumps(event))
        """
        }
    )
    schedule_arn = schedule(
        scheduler,
        unique_name,
        at(1),
        function_arn(unique_name),
        target={"Input": '{"job": "nightly", "arn": "<aws.scheduler.schedule-arn>"}'},
    )
    line = wait_for_log_lines(lamina, unique_name, "EVENT ", timeout=30)[0]
    assert json.loads(line.split("EVENT ", 1)[1]) == {"job": "nightly", "arn": schedule_arn}


def test_one_time_schedule_puts_an_event_on_a_bus(lamina, scheduler, sqs, unique_name):
    events = lamina.client("events")
    url, arn = make_queue(sqs, unique_name)
    bus_arn = events.create_event_bus(Name=unique_name)["EventBusArn"]
    rule_arn = events.put_rule(
        Name=unique_name, EventBusName=unique_name, EventPattern=json.dumps({"source": ["my.app"]})
    )["RuleArn"]
    events.put_targets(Rule=unique_name, EventBusName=unique_name, Targets=[{"Id": "q", "Arn": arn}])
    allow_service(sqs, arn, EVENTS, rule_arn)
    schedule(
        scheduler,
        unique_name,
        at(1),
        bus_arn,
        target={"Input": '{"n": 1}', "EventBridgeParameters": {"DetailType": "tick", "Source": "my.app"}},
    )
    event = json.loads(receive(sqs, url, timeout=15)[0]["Body"])
    assert (event["source"], event["detail-type"], event["detail"]) == ("my.app", "tick", {"n": 1})


def test_failing_target_is_dead_lettered_with_aws_attributes(scheduler, sqs, unique_name):
    target_url, target_arn = make_queue(sqs, unique_name)
    dlq_url, dlq_arn = make_queue(sqs, f"{unique_name}-dlq")
    sqs.delete_queue(QueueUrl=target_url)
    schedule_arn = schedule(
        scheduler,
        unique_name,
        at(1),
        target_arn,
        target={
            "Input": "lost <aws.scheduler.attempt-number>",
            "DeadLetterConfig": {"Arn": dlq_arn},
            "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 60},
        },
    )
    message = receive(sqs, dlq_url, timeout=15)[0]
    assert message["Body"] == "lost 1"
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes["X-Amz-Scheduler-Attempt"] == "1"
    assert attributes["X-Amz-Scheduler-Schedule-Arn"] == schedule_arn
    assert attributes["X-Amz-Scheduler-Group"] == "default"
    assert attributes["ERROR_CODE"] and attributes["ERROR_MESSAGE"]
    assert attributes["TARGET_ARN"] == target_arn
    assert attributes["RETRY_ATTEMPTS"] == "0"  # a missing queue is not retried
    assert "EXHAUSTED_RETRY_CONDITION" not in attributes


def drain(sqs, url: str) -> None:
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages"):
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_rate_and_cron_schedules_fire_repeatedly_under_the_speedup(lamina_factory, unique_name):
    server = lamina_factory(LAMINA_SCHEDULER_SPEEDUP="60")  # a minute a second
    client, sqs = server.client("scheduler"), server.client("sqs")
    url, arn = make_queue(sqs, unique_name)
    cron_url, cron_arn = make_queue(sqs, f"{unique_name}-cron")
    schedule(client, unique_name, "rate(1 minute)", arn, target={"Input": "<aws.scheduler.scheduled-time>"})
    schedule(
        client,
        "cron",
        "cron(0/2 * * * ? *)",
        cron_arn,
        ScheduleExpressionTimezone="Asia/Kolkata",
        target={"Input": "<aws.scheduler.scheduled-time>"},
    )
    times = sorted(datetime.strptime(m["Body"], "%Y-%m-%dT%H:%M:%SZ") for m in receive(sqs, url, count=4, timeout=15))
    gaps = {(later - earlier).total_seconds() for earlier, later in pairwise(times)}
    assert gaps == {60.0}
    cron_times = [
        datetime.strptime(m["Body"], "%Y-%m-%dT%H:%M:%SZ") for m in receive(sqs, cron_url, count=2, timeout=10)
    ]
    assert all(t.second == 0 and t.minute % 2 == 0 for t in cron_times)  # Kolkata is UTC+5:30: even minutes still
    client.update_schedule(
        Name=unique_name,
        ScheduleExpression="rate(1 minute)",
        State="DISABLED",
        Target={"Arn": arn, "RoleArn": ROLE},
        FlexibleTimeWindow=OFF,
    )
    time.sleep(1.2)  # one may have been on its way
    drain(sqs, url)
    assert nothing_arrives(sqs, url, wait=2.5)


def test_schedules_survive_a_restart_and_a_missed_one_time_fires_once(lamina_factory, unique_name):
    server = lamina_factory()
    client, sqs = server.client("scheduler"), server.client("sqs")
    url, arn = make_queue(sqs, unique_name)
    client.create_schedule_group(Name="kept")
    schedule(client, "daily", "cron(0 12 * * ? *)", arn, GroupName="kept", ScheduleExpressionTimezone="Europe/Paris")
    schedule(client, "soon", at(3), arn, target={"Input": "after the restart"})
    server.stop(kill=True)
    time.sleep(3.5)  # "soon" comes due while the server is down
    server.start()
    client, sqs = server.client("scheduler"), server.client("sqs")
    assert [m["Body"] for m in receive(sqs, url, timeout=15)] == ["after the restart"]
    assert nothing_arrives(sqs, url, wait=2)
    kept = client.get_schedule(Name="daily", GroupName="kept")
    assert kept["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert {(s["GroupName"], s["Name"]) for s in client.list_schedules()["Schedules"]} == {
        ("kept", "daily"),
        ("default", "soon"),
    }
    server.restart(kill=True)  # and "soon", fired, does not fire again
    assert nothing_arrives(server.client("sqs"), url, wait=2)
