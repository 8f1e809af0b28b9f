"""Scheduled EventBridge rules against a live server whose scheduler runs 60 times faster
than the wall clock (LAMINA_SCHEDULER_SPEEDUP=60: rate(1 minute) fires every second): the
Scheduled Event's shape (validated with EventBridgeModel), rate and cron expressions, rules
disabled, enabled and deleted, and jobs rebuilt after a restart."""

from __future__ import annotations

import json
import time
from datetime import datetime

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from tests.conftest import EVENTS, allow_service

from .test_sns import make_queue, nothing_arrives, receive

ACCOUNT = "000000000000"
REGION = "us-east-1"


def drain(sqs, url: str) -> None:
    while True:
        page = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not page:
            return
        for message in page:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def times(messages: list[dict]) -> list[datetime]:
    return sorted(EventBridgeModel.model_validate(json.loads(m["Body"])).time for m in messages)


def test_scheduled_rules_fire_stop_and_survive_a_restart(lamina_factory):
    server = lamina_factory(LAMINA_SCHEDULER_SPEEDUP="60")
    events, sqs = server.client("events"), server.client("sqs")
    rate_url, rate_queue = make_queue(sqs, "rate")
    cron_url, cron_queue = make_queue(sqs, "cron")
    rate_arn = events.put_rule(Name="every-minute", ScheduleExpression="rate(1 minute)")["RuleArn"]
    events.put_targets(Rule="every-minute", Targets=[{"Id": "q", "Arn": rate_queue}])
    cron_arn = events.put_rule(Name="cron", ScheduleExpression="cron(* * * * ? *)")["RuleArn"]
    events.put_targets(
        Rule="cron",
        Targets=[
            {
                "Id": "q",
                "Arn": cron_queue,
                "InputTransformer": {"InputPathsMap": {"t": "$.time"}, "InputTemplate": '{"at": <t>}'},
            }
        ],
    )

    allow_service(sqs, rate_queue, EVENTS, rate_arn)  # each queue lets EventBridge send for its rule
    allow_service(sqs, cron_queue, EVENTS, cron_arn)

    messages = receive(sqs, rate_url, 2, timeout=10)
    event = json.loads(messages[0]["Body"])
    assert (event["source"], event["detail-type"], event["resources"], event["detail"]) == (
        "aws.events",
        "Scheduled Event",
        [rate_arn],
        {},
    )
    assert event["account"] == ACCOUNT and event["region"] == REGION
    first, second = times(messages[:2])
    assert abs((second - first).total_seconds() - 60) <= 1  # a minute apart on the scheduler's clock

    stamps = [json.loads(m["Body"])["at"] for m in receive(sqs, cron_url, 2, timeout=10)]
    assert all(stamp.endswith(":00Z") for stamp in stamps)  # cron fires on the minute

    # Disabled and deleted rules stop firing; enabling starts again.
    events.disable_rule(Name="every-minute")
    events.remove_targets(Rule="cron", Ids=["q"])
    events.delete_rule(Name="cron")
    time.sleep(0.3)  # a fire that was already under way may land
    drain(sqs, rate_url)
    drain(sqs, cron_url)
    assert nothing_arrives(sqs, rate_url, wait=2.5)
    assert nothing_arrives(sqs, cron_url, wait=0.1)
    events.enable_rule(Name="every-minute")
    receive(sqs, rate_url, 1, timeout=10)

    # The job comes back from the store after a restart.
    server.restart(kill=True)
    sqs = server.client("sqs")
    drain(sqs, rate_url)
    receive(sqs, rate_url, 2, timeout=10)
