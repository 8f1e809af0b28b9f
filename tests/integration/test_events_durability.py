"""EventBridge survives restarts: buses, rules, targets and tags come back, and events that
PutEvents accepted are delivered even when the server is killed with SIGKILL right after
(each matched target is in the store before PutEvents answers)."""

from __future__ import annotations

import json

from tests.conftest import EVENTS, allow_service

from .test_sns import make_queue, receive

ACCOUNT = "000000000000"
REGION = "us-east-1"


def test_restart_keeps_buses_rules_targets_and_tags(lamina_factory):
    server = lamina_factory()
    events, sqs = server.client("events"), server.client("sqs")
    events.create_event_bus(Name="orders", Description="kept", Tags=[{"Key": "a", "Value": "1"}])
    _, arn = make_queue(sqs, "kept")
    rule_arn = events.put_rule(
        Name="r",
        EventBusName="orders",
        EventPattern=json.dumps({"source": ["app"]}),
        Description="d",
        Tags=[{"Key": "b", "Value": "2"}],
    )["RuleArn"]
    events.put_targets(Rule="r", EventBusName="orders", Targets=[{"Id": "q", "Arn": arn, "InputPath": "$.detail"}])
    allow_service(sqs, arn, EVENTS, rule_arn)
    events.put_rule(Name="off", EventPattern=json.dumps({"source": ["app"]}), State="DISABLED")
    events.tag_resource(
        ResourceARN=f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default", Tags=[{"Key": "c", "Value": "3"}]
    )

    server.restart(kill=False)
    events, sqs = server.client("events"), server.client("sqs")
    assert events.describe_event_bus(Name="orders")["Description"] == "kept"
    described = events.describe_rule(Name="r", EventBusName="orders")
    assert (described["Arn"], described["Description"], described["State"]) == (rule_arn, "d", "ENABLED")
    assert events.describe_rule(Name="off")["State"] == "DISABLED"
    assert events.list_targets_by_rule(Rule="r", EventBusName="orders")["Targets"] == [
        {"Id": "q", "Arn": arn, "InputPath": "$.detail"}
    ]
    assert events.list_tags_for_resource(ResourceARN=rule_arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    assert events.list_tags_for_resource(ResourceARN=f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default")[
        "Tags"
    ] == [{"Key": "c", "Value": "3"}]

    events.put_events(
        Entries=[{"Source": "app", "DetailType": "t", "Detail": '{"after": "restart"}', "EventBusName": "orders"}]
    )
    url = sqs.get_queue_url(QueueName="kept")["QueueUrl"]
    assert json.loads(receive(sqs, url)[0]["Body"]) == {"after": "restart"}


def test_kill_9_after_put_events_loses_no_accepted_delivery(lamina_factory):
    server = lamina_factory()
    events, sqs = server.client("events"), server.client("sqs")
    url, arn = make_queue(sqs, "crash.fifo", FifoQueue="true")
    rule_arn = events.put_rule(Name="crash", EventPattern=json.dumps({"source": ["crash"]}))["RuleArn"]
    allow_service(sqs, arn, EVENTS, rule_arn)
    # A FIFO target is delivered one event at a time, so a backlog is still there at the kill.
    events.put_targets(Rule="crash", Targets=[{"Id": "q", "Arn": arn, "SqsParameters": {"MessageGroupId": "g"}}])
    accepted = []
    for call in range(100):
        entries = [
            {"Source": "crash", "DetailType": "t", "Detail": json.dumps({"n": call * 10 + i})} for i in range(10)
        ]
        result = events.put_events(Entries=entries)
        assert result["FailedEntryCount"] == 0
        accepted += [entry["EventId"] for entry in result["Entries"]]
    server.stop(kill=True)

    server.start()
    sqs = server.client("sqs")
    messages = receive(sqs, url, len(accepted), timeout=60)
    seen: dict[str, int] = {}
    for message in messages:
        event = json.loads(message["Body"])
        seen.setdefault(event["id"], event["detail"]["n"])
    lost = set(accepted) - set(seen)
    assert not lost, f"lost {len(lost)} of {len(accepted)} accepted events"
    assert list(seen.values()) == sorted(seen.values())  # the lane kept their order across the crash
