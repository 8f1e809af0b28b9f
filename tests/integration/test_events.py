"""Amazon EventBridge's control plane against a live server, through boto3 (json protocol):
event buses, rules, targets, tags, TestEventPattern and PutEvents' own checks, with AWS's
error codes and messages. Deliveries are in test_events_targets.py.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from botocore.exceptions import ClientError

from .test_lambda_helpers import error_of, unvalidated_client

ACCOUNT = "000000000000"
REGION = "us-east-1"
PATTERN = json.dumps({"source": ["my.app"]})


@pytest.fixture
def events(lamina):
    return lamina.client("events")


@pytest.fixture
def bus(events, unique_name):
    events.create_event_bus(Name=unique_name)
    yield unique_name
    for rule in events.list_rules(EventBusName=unique_name)["Rules"]:
        events.delete_rule(Name=rule["Name"], EventBusName=unique_name, Force=True)
    events.delete_event_bus(Name=unique_name)


def queue_arn(name: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


# --- event buses --------------------------------------------------------------------------------------


def test_default_bus_always_exists_and_cannot_be_deleted(events):
    described = events.describe_event_bus()
    assert described["Name"] == "default"
    assert described["Arn"] == f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"
    assert events.describe_event_bus(Name="default")["Arn"] == described["Arn"]
    assert events.describe_event_bus(Name=described["Arn"])["Name"] == "default"
    with pytest.raises(ClientError) as caught:
        events.delete_event_bus(Name="default")
    assert error_of(caught) == ("ValidationException", 400, "Cannot delete event bus default.")
    with pytest.raises(ClientError) as caught:
        events.create_event_bus(Name="default")
    assert error_of(caught)[:2] == ("ResourceAlreadyExistsException", 400)


def test_create_describe_list_and_delete_a_bus(events, unique_name):
    created = events.create_event_bus(Name=unique_name, Description="orders", Tags=[{"Key": "team", "Value": "blue"}])
    arn = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{unique_name}"
    assert created["EventBusArn"] == arn and created["Description"] == "orders"
    described = events.describe_event_bus(Name=unique_name)
    assert described["Name"] == unique_name and described["Description"] == "orders"
    assert isinstance(described["CreationTime"], datetime)
    assert events.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "blue"}]

    with pytest.raises(ClientError) as caught:
        events.create_event_bus(Name=unique_name)
    assert error_of(caught) == ("ResourceAlreadyExistsException", 400, f"Event bus {unique_name} already exists.")

    names = [b["Name"] for b in events.list_event_buses()["EventBuses"]]
    assert "default" in names and unique_name in names
    assert [b["Name"] for b in events.list_event_buses(NamePrefix=unique_name)["EventBuses"]] == [unique_name]

    events.delete_event_bus(Name=unique_name)
    events.delete_event_bus(Name=unique_name)  # a second delete succeeds, as on AWS
    with pytest.raises(ClientError) as caught:
        events.describe_event_bus(Name=unique_name)
    assert error_of(caught) == ("ResourceNotFoundException", 400, f"Event bus {unique_name} does not exist.")


def test_list_event_buses_pages(events, unique_name):
    names = [f"{unique_name}-{i}" for i in range(5)]
    for name in names:
        events.create_event_bus(Name=name)
    try:
        seen, token = [], None
        while True:
            page = events.list_event_buses(NamePrefix=unique_name, Limit=2, **({"NextToken": token} if token else {}))
            assert len(page["EventBuses"]) <= 2
            seen += [b["Name"] for b in page["EventBuses"]]
            token = page.get("NextToken")
            if not token:
                break
        assert seen == sorted(names)
    finally:
        for name in names:
            events.delete_event_bus(Name=name)


def test_a_bus_with_rules_is_not_deleted(events, bus):
    events.put_rule(Name="r", EventBusName=bus, EventPattern=PATTERN)
    with pytest.raises(ClientError) as caught:
        events.delete_event_bus(Name=bus)
    assert error_of(caught)[:2] == ("ValidationException", 400)


# --- rules --------------------------------------------------------------------------------------------


def test_put_describe_and_replace_a_rule(events, unique_name):
    arn = events.put_rule(
        Name=unique_name, EventPattern=PATTERN, Description="mine", Tags=[{"Key": "k", "Value": "v"}]
    )["RuleArn"]
    assert arn == f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{unique_name}"
    described = events.describe_rule(Name=unique_name)
    assert {
        k: described[k] for k in ("Name", "Arn", "EventPattern", "State", "Description", "EventBusName", "CreatedBy")
    } == {
        "Name": unique_name,
        "Arn": arn,
        "EventPattern": PATTERN,
        "State": "ENABLED",
        "Description": "mine",
        "EventBusName": "default",
        "CreatedBy": ACCOUNT,
    }
    assert events.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "k", "Value": "v"}]

    # PutRule replaces: what is left out is cleared; tags and targets stay.
    events.put_targets(Rule=unique_name, Targets=[{"Id": "q", "Arn": queue_arn("nowhere")}])
    events.put_rule(Name=unique_name, EventPattern=PATTERN, State="DISABLED")
    described = events.describe_rule(Name=unique_name)
    assert described["State"] == "DISABLED" and "Description" not in described
    assert len(events.list_targets_by_rule(Rule=unique_name)["Targets"]) == 1
    assert events.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "k", "Value": "v"}]

    events.enable_rule(Name=unique_name)
    assert events.describe_rule(Name=unique_name)["State"] == "ENABLED"
    events.disable_rule(Name=unique_name)
    assert events.describe_rule(Name=unique_name)["State"] == "DISABLED"

    with pytest.raises(ClientError) as caught:
        events.delete_rule(Name=unique_name)
    assert error_of(caught) == ("ValidationException", 400, "Rule can't be deleted since it has targets.")
    events.remove_targets(Rule=unique_name, Ids=["q"])
    events.delete_rule(Name=unique_name)
    events.delete_rule(Name=unique_name)  # deleting again succeeds, as AWS documents
    with pytest.raises(ClientError) as caught:
        events.describe_rule(Name=unique_name)
    assert error_of(caught) == (
        "ResourceNotFoundException",
        400,
        f"Rule {unique_name} does not exist on EventBus default.",
    )


def test_rules_on_a_custom_bus(events, bus):
    arn = events.put_rule(Name="r1", EventBusName=bus, EventPattern=PATTERN)["RuleArn"]
    assert arn == f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{bus}/r1"
    bus_arn = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{bus}"
    assert events.describe_rule(Name="r1", EventBusName=bus_arn)["Arn"] == arn
    with pytest.raises(ClientError) as caught:
        events.describe_rule(Name="r1")
    assert error_of(caught)[2] == "Rule r1 does not exist on EventBus default."
    with pytest.raises(ClientError) as caught:
        events.put_rule(Name="r2", EventBusName=bus, ScheduleExpression="rate(5 minutes)")
    assert error_of(caught) == (
        "ValidationException",
        400,
        "ScheduleExpression is supported only on the default event bus.",
    )
    with pytest.raises(ClientError) as caught:
        events.put_rule(Name="r3", EventBusName="no-such-bus", EventPattern=PATTERN)
    assert error_of(caught) == ("ResourceNotFoundException", 400, "Event bus no-such-bus does not exist.")


def test_put_rule_checks_its_pattern_and_schedule(events, unique_name):
    with pytest.raises(ClientError) as caught:
        events.put_rule(Name=unique_name)
    assert error_of(caught) == (
        "ValidationException",
        400,
        "Parameter(s) EventPattern or ScheduleExpression must be specified.",
    )
    for bad in ('{"source": "my.app"}', "not json", "{}"):
        with pytest.raises(ClientError) as caught:
            events.put_rule(Name=unique_name, EventPattern=bad)
        code, status, message = error_of(caught)
        assert (code, status) == ("InvalidEventPatternException", 400)
        assert message.startswith("Event pattern is not valid. Reason: ")
    for bad in (
        "rate(0 minutes)",
        "rate(5 weeks)",
        "cron(* * * * *)",
        "cron(0 12 * * * *)",
        "every day",
        "at(2030-01-01T00:00:00)",
    ):
        with pytest.raises(ClientError) as caught:
            events.put_rule(Name=unique_name, ScheduleExpression=bad)
        assert error_of(caught) == ("ValidationException", 400, "Parameter ScheduleExpression is not valid."), bad
    with pytest.raises(ClientError):
        events.describe_rule(Name=unique_name)


def test_list_rules_by_prefix_with_paging_and_by_target(events, unique_name):
    names = [f"{unique_name}-{i}" for i in range(5)]
    for name in names:
        events.put_rule(Name=name, EventPattern=PATTERN)
    events.put_targets(Rule=names[1], Targets=[{"Id": "a", "Arn": queue_arn(unique_name)}])
    events.put_targets(Rule=names[3], Targets=[{"Id": "b", "Arn": queue_arn(unique_name)}])
    try:
        seen, token = [], None
        while True:
            page = events.list_rules(NamePrefix=unique_name, Limit=2, **({"NextToken": token} if token else {}))
            seen += [rule["Name"] for rule in page["Rules"]]
            token = page.get("NextToken")
            if not token:
                break
        assert seen == names
        listed = events.list_rules(NamePrefix=names[2])["Rules"]
        assert [r["Name"] for r in listed] == [names[2]] and listed[0]["EventPattern"] == PATTERN
        assert events.list_rule_names_by_target(TargetArn=queue_arn(unique_name))["RuleNames"] == [names[1], names[3]]
        first = events.list_rule_names_by_target(TargetArn=queue_arn(unique_name), Limit=1)
        assert first["RuleNames"] == [names[1]] and first["NextToken"]
    finally:
        for name in names:
            events.delete_rule(Name=name, Force=True)


# --- targets ------------------------------------------------------------------------------------------


def test_put_list_and_remove_targets(events, unique_name):
    events.put_rule(Name=unique_name, EventPattern=PATTERN)
    targets = [{"Id": f"t{i}", "Arn": queue_arn(f"q{i}")} for i in range(3)]
    targets[1]["InputPath"] = "$.detail"
    targets[2].update(
        RetryPolicy={"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600},
        DeadLetterConfig={"Arn": queue_arn("dlq")},
    )
    result = events.put_targets(Rule=unique_name, Targets=targets)
    assert (result["FailedEntryCount"], result["FailedEntries"]) == (0, [])
    listed = events.list_targets_by_rule(Rule=unique_name)["Targets"]
    assert listed == targets
    page = events.list_targets_by_rule(Rule=unique_name, Limit=2)
    assert page["Targets"] == targets[:2]
    assert events.list_targets_by_rule(Rule=unique_name, NextToken=page["NextToken"])["Targets"] == targets[2:]

    removed = events.remove_targets(Rule=unique_name, Ids=["t0", "nope"])
    assert removed["FailedEntryCount"] == 1
    assert removed["FailedEntries"][0]["TargetId"] == "nope"
    assert [t["Id"] for t in events.list_targets_by_rule(Rule=unique_name)["Targets"]] == ["t1", "t2"]
    events.delete_rule(Name=unique_name, Force=True)


def test_put_targets_errors(lamina, events, unique_name):
    with pytest.raises(ClientError) as caught:
        events.put_targets(Rule=unique_name, Targets=[{"Id": "a", "Arn": queue_arn("q")}])
    assert error_of(caught) == (
        "ResourceNotFoundException",
        400,
        f"Rule {unique_name} does not exist on EventBus default.",
    )
    events.put_rule(Name=unique_name, EventPattern=PATTERN)
    try:
        result = events.put_targets(
            Rule=unique_name,
            Targets=[
                {"Id": "good", "Arn": queue_arn("q")},
                {"Id": "bad-arn", "Arn": "not-an-arn"},
                {"Id": "fifo", "Arn": queue_arn("q.fifo")},
            ],
        )
        assert result["FailedEntryCount"] == 2
        assert result["FailedEntries"] == [
            {
                "TargetId": "bad-arn",
                "ErrorCode": "ValidationException",
                "ErrorMessage": "Parameter not-an-arn is not valid. Reason: Provided Arn is not in correct format.",
            },
            {
                "TargetId": "fifo",
                "ErrorCode": "ValidationException",
                "ErrorMessage": "Parameter(s) SqsParameters must be specified for target: fifo.",
            },
        ]
        assert [t["Id"] for t in events.list_targets_by_rule(Rule=unique_name)["Targets"]] == ["good"]

        with pytest.raises(ClientError) as caught:
            events.put_targets(
                Rule=unique_name, Targets=[{"Id": "x", "Arn": queue_arn("q"), "Input": "{}", "InputPath": "$.detail"}]
            )
        assert error_of(caught) == (
            "ValidationException",
            400,
            "Only one of Input, InputPath, or InputTransformer must be provided for target x.",
        )
        with pytest.raises(ClientError) as caught:
            events.put_targets(
                Rule=unique_name,
                Targets=[
                    {
                        "Id": "x",
                        "Arn": queue_arn("q"),
                        "InputTransformer": {
                            "InputPathsMap": {"a": "$.detail.a"},
                            "InputTemplate": '"<a> <notdefinedkey>"',
                        },
                    }
                ],
            )
        assert error_of(caught) == (
            "ValidationException",
            400,
            "InputTemplate for target x contains invalid placeholder notdefinedkey.",
        )
        with pytest.raises(ClientError) as caught:
            events.put_targets(
                Rule=unique_name,
                Targets=[{"Id": "x", "Arn": queue_arn("q"), "DeadLetterConfig": {"Arn": queue_arn("d.fifo")}}],
            )
        assert error_of(caught)[:2] == ("ValidationException", 400)

        with pytest.raises(ClientError) as caught:
            events.put_targets(Rule=unique_name, Targets=[{"Id": f"n{i}", "Arn": queue_arn("q")} for i in range(5)])
        assert error_of(caught) == (
            "LimitExceededException",
            400,
            "The requested resource exceeds the maximum number allowed.",
        )
        # The model's limits are checked before the service sees the request.
        with pytest.raises(ClientError) as caught:
            unvalidated_client(lamina, "events").put_targets(
                Rule=unique_name,
                Targets=[{"Id": "r", "Arn": queue_arn("q"), "RetryPolicy": {"MaximumRetryAttempts": 186}}],
            )
        assert error_of(caught)[:2] == ("ValidationException", 400)
    finally:
        events.delete_rule(Name=unique_name, Force=True)


# --- tags ---------------------------------------------------------------------------------------------


def test_tags_on_buses_and_rules(events, bus):
    bus_arn = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{bus}"
    rule_arn = events.put_rule(Name="tagged", EventBusName=bus, EventPattern=PATTERN)["RuleArn"]
    for arn in (bus_arn, rule_arn):
        events.tag_resource(ResourceARN=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
        events.untag_resource(ResourceARN=arn, TagKeys=["a"])
        assert events.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    with pytest.raises(ClientError) as caught:
        events.list_tags_for_resource(ResourceARN=f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{bus}/missing")
    assert error_of(caught) == ("ResourceNotFoundException", 400, f"Rule missing does not exist on EventBus {bus}.")


# --- TestEventPattern ---------------------------------------------------------------------------------


def test_test_event_pattern(events):
    event = {
        "id": "1",
        "account": ACCOUNT,
        "source": "my.app",
        "time": "2024-01-01T00:00:00Z",
        "region": REGION,
        "detail-type": "x",
        "resources": [],
        "detail": {"n": 5},
    }
    assert events.test_event_pattern(EventPattern=PATTERN, Event=json.dumps(event))["Result"] is True
    numeric = json.dumps({"detail": {"n": [{"numeric": [">", 10]}]}})
    assert events.test_event_pattern(EventPattern=numeric, Event=json.dumps(event))["Result"] is False
    with pytest.raises(ClientError) as caught:
        events.test_event_pattern(EventPattern='{"source": [{"nope": 1}]}', Event=json.dumps(event))
    assert error_of(caught)[0] == "InvalidEventPatternException"
    assert error_of(caught)[2].startswith("Event pattern is not valid. Reason: ")
    with pytest.raises(ClientError) as caught:
        events.test_event_pattern(EventPattern=PATTERN, Event=json.dumps({"source": "my.app"}))
    assert error_of(caught) == ("ValidationException", 400, "Parameter Event is not valid.")


# --- PutEvents' own checks ----------------------------------------------------------------------------


def test_put_events_reports_each_entry(events):
    good = {"Source": "my.app", "DetailType": "t", "Detail": '{"a": 1}'}
    result = events.put_events(
        Entries=[
            good,
            {"DetailType": "t", "Detail": "{}"},
            {"Source": "my.app", "Detail": "{}"},
            {"Source": "my.app", "DetailType": "t"},
            {"Source": "my.app", "DetailType": "t", "Detail": "[1, 2]"},
            {"Source": "my.app", "DetailType": "t", "Detail": "{oops"},
            {"Source": "aws.ec2", "DetailType": "t", "Detail": "{}"},
            dict(good, Time=datetime(2024, 5, 1, tzinfo=timezone.utc), Resources=["r"], TraceHeader="Root=1-x"),
            dict(good, EventBusName="does-not-exist"),
            dict(good, EventBusName=f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"),
        ]
    )
    entries = result["Entries"]
    assert result["FailedEntryCount"] == 6 and len(entries) == 10
    assert entries[1] == {
        "ErrorCode": "InvalidArgument",
        "ErrorMessage": "Parameter Source is not valid. Reason: Source is a required argument.",
    }
    assert entries[2]["ErrorMessage"] == "Parameter DetailType is not valid. Reason: DetailType is a required argument."
    assert entries[3]["ErrorMessage"] == "Parameter Detail is not valid. Reason: Detail is a required argument."
    assert entries[4] == entries[5] == {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
    assert entries[6]["ErrorCode"] == "NotAuthorizedForSourceException"
    ids = [entries[i]["EventId"] for i in (0, 7, 8, 9)]
    assert len(set(ids)) == 4 and all(len(i) == 36 for i in ids)


def test_put_events_request_limits(events, lamina):
    with pytest.raises(ClientError) as caught:
        events.put_events(
            Entries=[
                {"Source": "s", "DetailType": "t", "Detail": json.dumps({"x": "y" * 200_000})},
                {"Source": "s", "DetailType": "t", "Detail": json.dumps({"x": "y" * 70_000})},
            ]
        )
    assert error_of(caught) == (
        "ValidationException",
        400,
        "Total size of the entries in the request is over the limit.",
    )
    raw = unvalidated_client(lamina, "events")
    with pytest.raises(ClientError) as caught:
        raw.put_events(Entries=[{"Source": "s", "DetailType": "t", "Detail": "{}"}] * 11)
    assert error_of(caught)[:2] == ("ValidationException", 400)
    with pytest.raises(ClientError) as caught:
        raw.put_events(Entries=[])
    assert error_of(caught)[:2] == ("ValidationException", 400)


def test_a_bus_belongs_to_its_region(lamina, unique_name):
    west, north = lamina.client("events", "us-west-2"), lamina.client("events", "eu-north-1")
    west.create_event_bus(Name=unique_name)
    arn = f"arn:aws:events:us-west-2:000000000000:event-bus/{unique_name}"
    with pytest.raises(ClientError) as caught:
        north.describe_event_bus(Name=arn)
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert west.describe_event_bus(Name=arn)["Arn"] == arn
    west.delete_event_bus(Name=unique_name)
