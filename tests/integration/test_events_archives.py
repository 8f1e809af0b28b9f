"""EventBridge archives and replays against a live server: events kept by pattern with their
original text, EventCount and SizeBytes, replays into a rule's queue with "replay-name" (only
the FilterArns rules when given), replayed events not archived again, AWS's errors, a
cancelled replay, and a replay and an archive that survive a kill -9.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from tests.conftest import EVENTS, queue_policy_for

from .test_sns import make_queue, receive

ACCOUNT = "000000000000"
REGION = "us-east-1"


@pytest.fixture
def events(lamina):
    return lamina.client("events")


def wait_for(check, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def setup_bus(events, sqs, name: str, rules: tuple[str, ...] = ("r",)) -> dict:
    """A bus, one queue per rule (each rule matching source "app"), and the queues' policies."""
    bus_arn = events.create_event_bus(Name=name)["EventBusArn"]
    made: dict = {"bus": name, "bus_arn": bus_arn, "rules": {}}
    for rule in rules:
        rule_name = f"{name}-{rule}"
        rule_arn = events.put_rule(Name=rule_name, EventBusName=name, EventPattern=json.dumps({"source": ["app"]}))[
            "RuleArn"
        ]
        url, arn = make_queue(
            sqs, rule_name, Policy=queue_policy_for(EVENTS, f"arn:aws:sqs:{REGION}:{ACCOUNT}:{rule_name}", rule_arn)
        )
        assert (
            events.put_targets(Rule=rule_name, EventBusName=name, Targets=[{"Id": "q", "Arn": arn}])["FailedEntryCount"]
            == 0
        )
        made["rules"][rule] = {"arn": rule_arn, "url": url}
    return made


def put_app_events(events, bus: str, count: int, source: str = "app") -> list[str]:
    ids: list[str] = []
    for start in range(0, count, 10):
        entries = [
            {"Source": source, "DetailType": "Test", "Detail": json.dumps({"n": start + i}), "EventBusName": bus}
            for i in range(min(10, count - start))
        ]
        result = events.put_events(Entries=entries)
        assert result["FailedEntryCount"] == 0, result
        ids.extend(entry["EventId"] for entry in result["Entries"])
    return ids


def replay_done(events, name: str, states=("COMPLETED",)) -> dict:
    def check():
        described = events.describe_replay(ReplayName=name)
        assert described["State"] != "FAILED", described
        return described if described["State"] in states else None

    return wait_for(check, 60, f"replay {name} to end")


def window() -> tuple[datetime, datetime]:
    now = datetime.now(timezone.utc)
    return now - timedelta(minutes=10), now + timedelta(minutes=1)


def test_archive_keeps_matching_events_and_a_replay_sends_them_back(events, sqs, unique_name):
    made = setup_bus(events, sqs, unique_name)
    archive = events.create_archive(
        ArchiveName=unique_name,
        EventSourceArn=made["bus_arn"],
        EventPattern=json.dumps({"source": ["app"]}),
        Description="kept",
        RetentionDays=0,
    )
    assert archive["State"] == "ENABLED"
    assert archive["ArchiveArn"] == f"arn:aws:events:{REGION}:{ACCOUNT}:archive/{unique_name}"
    ids = put_app_events(events, unique_name, 3)
    put_app_events(events, unique_name, 2, source="other")  # not kept: the pattern says app
    url = made["rules"]["r"]["url"]
    originals = {json.loads(m["Body"])["id"]: json.loads(m["Body"]) for m in receive(sqs, url, 3)}
    assert set(originals) == set(ids)

    described = wait_for(
        lambda: (d := events.describe_archive(ArchiveName=unique_name))["EventCount"] == 3 and d, what="3 archived"
    )
    assert described["EventSourceArn"] == made["bus_arn"]
    assert described["EventPattern"] == json.dumps({"source": ["app"]})
    assert described["Description"] == "kept" and described["RetentionDays"] == 0
    assert described["SizeBytes"] > 0

    start, end = window()
    replay_name = f"{unique_name}-replay"
    started = events.start_replay(
        ReplayName=replay_name,
        EventSourceArn=archive["ArchiveArn"],
        EventStartTime=start,
        EventEndTime=end,
        Destination={"Arn": made["bus_arn"]},
    )
    assert started["State"] == "STARTING"
    assert started["ReplayArn"] == f"arn:aws:events:{REGION}:{ACCOUNT}:replay/{replay_name}"
    done = replay_done(events, replay_name)
    assert done["Destination"] == {"Arn": made["bus_arn"]}
    assert "ReplayEndTime" in done and "EventLastReplayedTime" in done

    replayed = [json.loads(m["Body"]) for m in receive(sqs, url, 3)]
    assert sorted(event["id"] for event in replayed) == sorted(ids)
    for event in replayed:
        assert event["replay-name"] == replay_name
        original = dict(originals[event["id"]])
        assert {k: v for k, v in event.items() if k != "replay-name"} == original  # its original time too
    # Replayed events are not archived again.
    assert events.describe_archive(ArchiveName=unique_name)["EventCount"] == 3
    listed = events.list_replays(NamePrefix=replay_name)["Replays"]
    assert [r["ReplayName"] for r in listed] == [replay_name] and listed[0]["State"] == "COMPLETED"


def test_replay_to_filter_arns_only(events, sqs, unique_name):
    made = setup_bus(events, sqs, unique_name, rules=("a", "b"))
    archive_arn = events.create_archive(ArchiveName=unique_name, EventSourceArn=made["bus_arn"])["ArchiveArn"]
    ids = put_app_events(events, unique_name, 2)
    for rule in ("a", "b"):
        assert len(receive(sqs, made["rules"][rule]["url"], 2)) == 2
    wait_for(lambda: events.describe_archive(ArchiveName=unique_name)["EventCount"] == 2, what="2 archived")
    start, end = window()
    name = f"{unique_name}-only-a"
    events.start_replay(
        ReplayName=name,
        EventSourceArn=archive_arn,
        EventStartTime=start,
        EventEndTime=end,
        Destination={"Arn": made["bus_arn"], "FilterArns": [made["rules"]["a"]["arn"]]},
    )
    assert replay_done(events, name)["Destination"]["FilterArns"] == [made["rules"]["a"]["arn"]]
    replayed = [json.loads(m["Body"]) for m in receive(sqs, made["rules"]["a"]["url"], 2)]
    assert sorted(e["id"] for e in replayed) == sorted(ids)
    # Everything rule a got has been delivered, and rule b got nothing.
    assert not sqs.receive_message(QueueUrl=made["rules"]["b"]["url"], WaitTimeSeconds=1).get("Messages")


def test_archive_and_replay_errors(events, sqs, unique_name):
    made = setup_bus(events, sqs, unique_name)
    arn = events.create_archive(ArchiveName=unique_name, EventSourceArn=made["bus_arn"])["ArchiveArn"]

    def error(call, **params) -> tuple[str, str]:
        with pytest.raises(ClientError) as excinfo:
            call(**params)
        return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]

    assert error(events.create_archive, ArchiveName=unique_name, EventSourceArn=made["bus_arn"]) == (
        "ResourceAlreadyExistsException",
        f"Archive {unique_name} already exists.",
    )
    assert error(events.describe_archive, ArchiveName=f"{unique_name}-nope") == (
        "ResourceNotFoundException",
        f"Archive {unique_name}-nope does not exist.",
    )
    missing_bus = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{unique_name}-nope"
    assert error(events.create_archive, ArchiveName=f"{unique_name}-x", EventSourceArn=missing_bus) == (
        "ResourceNotFoundException",
        f"Event bus {unique_name}-nope does not exist.",
    )
    code, message = error(
        events.create_archive, ArchiveName=f"{unique_name}-p", EventSourceArn=made["bus_arn"], EventPattern='{"a": 1}'
    )
    assert code == "InvalidEventPatternException"
    assert message.startswith('Event pattern is not valid. Reason: "a" must be an object or an array at [Source: ')

    start, end = window()
    replay = dict(EventSourceArn=arn, Destination={"Arn": made["bus_arn"]})
    assert error(
        events.start_replay, ReplayName=f"{unique_name}-r", EventStartTime=end, EventEndTime=start, **replay
    ) == (
        "ValidationException",
        "Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.",
    )
    assert error(
        events.start_replay,
        ReplayName=f"{unique_name}-r",
        EventStartTime=start,
        EventEndTime=end,
        EventSourceArn=arn + "-nope",
        Destination={"Arn": made["bus_arn"]},
    ) == (
        "ValidationException",
        f"Parameter EventSourceArn is not valid. Reason: Archive {unique_name}-nope does not exist.",
    )
    assert error(
        events.start_replay,
        ReplayName=f"{unique_name}-r",
        EventStartTime=start,
        EventEndTime=end,
        EventSourceArn=arn,
        Destination={"Arn": f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"},
    ) == (
        "ValidationException",
        "Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.",
    )
    events.start_replay(ReplayName=f"{unique_name}-r", EventStartTime=start, EventEndTime=end, **replay)
    assert (
        error(events.start_replay, ReplayName=f"{unique_name}-r", EventStartTime=start, EventEndTime=end, **replay)[0]
        == "ResourceAlreadyExistsException"
    )
    replay_done(events, f"{unique_name}-r")
    assert error(events.cancel_replay, ReplayName=f"{unique_name}-r") == (
        "IllegalStatusException",
        f"Replay {unique_name}-r is not in a valid state for this operation.",
    )
    assert error(events.describe_replay, ReplayName=f"{unique_name}-none")[0] == "ResourceNotFoundException"


def test_list_update_delete_archives(events, sqs, unique_name):
    made = setup_bus(events, sqs, unique_name)
    names = [f"{unique_name}-{i}" for i in range(3)]
    for name in names:
        events.create_archive(ArchiveName=name, EventSourceArn=made["bus_arn"])
    first = events.list_archives(NamePrefix=unique_name, Limit=2)
    assert [a["ArchiveName"] for a in first["Archives"]] == names[:2]
    second = events.list_archives(NamePrefix=unique_name, Limit=2, NextToken=first["NextToken"])
    assert [a["ArchiveName"] for a in second["Archives"]] == names[2:] and "NextToken" not in second
    by_source = events.list_archives(EventSourceArn=made["bus_arn"])["Archives"]
    assert sorted(a["ArchiveName"] for a in by_source) == names
    assert all(a["State"] == "ENABLED" and a["EventCount"] == 0 for a in by_source)

    events.update_archive(ArchiveName=names[0], RetentionDays=7, EventPattern=json.dumps({"source": ["x"]}))
    described = events.describe_archive(ArchiveName=names[0])
    assert described["RetentionDays"] == 7 and described["EventPattern"] == json.dumps({"source": ["x"]})
    put_app_events(events, unique_name, 1)  # source app: not kept by names[0] any more
    wait_for(lambda: events.describe_archive(ArchiveName=names[1])["EventCount"] == 1, what="archived")
    assert events.describe_archive(ArchiveName=names[0])["EventCount"] == 0

    events.delete_archive(ArchiveName=names[0])
    with pytest.raises(ClientError) as excinfo:
        events.describe_archive(ArchiveName=names[0])
    assert excinfo.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_cancel_a_replay(events, sqs, unique_name):
    made = setup_bus(events, sqs, unique_name)
    arn = events.create_archive(ArchiveName=unique_name, EventSourceArn=made["bus_arn"])["ArchiveArn"]
    count = 400
    put_app_events(events, unique_name, count)
    wait_for(lambda: events.describe_archive(ArchiveName=unique_name)["EventCount"] == count, what="archived")
    start, end = window()
    name = f"{unique_name}-cancel"
    events.start_replay(
        ReplayName=name,
        EventSourceArn=arn,
        EventStartTime=start,
        EventEndTime=end,
        Destination={"Arn": made["bus_arn"]},
    )
    try:
        answer = events.cancel_replay(ReplayName=name)
    except ClientError as error:
        # The replay ran to its end before the cancel came: only then may it be refused.
        assert error.response["Error"]["Code"] == "IllegalStatusException"
        assert events.describe_replay(ReplayName=name)["State"] == "COMPLETED"
        return
    assert answer["State"] == "CANCELLING"
    assert replay_done(events, name, states=("CANCELLED",))["State"] == "CANCELLED"
    assert events.list_replays(NamePrefix=name, State="CANCELLED")["Replays"][0]["ReplayName"] == name


def test_archive_and_replay_survive_a_kill(lamina_factory, unique_name):
    server = lamina_factory(LAMINA_EVENTS_RETRY_BASE="0.2")
    events, sqs = server.client("events"), server.client("sqs")
    made = setup_bus(events, sqs, unique_name)
    arn = events.create_archive(ArchiveName=unique_name, EventSourceArn=made["bus_arn"])["ArchiveArn"]
    count = 300
    ids = put_app_events(events, unique_name, count)
    url = made["rules"]["r"]["url"]
    assert len({json.loads(m["Body"])["id"] for m in receive(sqs, url, count, 60)}) == count
    wait_for(lambda: events.describe_archive(ArchiveName=unique_name)["EventCount"] == count, what="archived")
    start, end = window()
    name = f"{unique_name}-restart"
    events.start_replay(
        ReplayName=name,
        EventSourceArn=arn,
        EventStartTime=start,
        EventEndTime=end,
        Destination={"Arn": made["bus_arn"]},
    )
    server.restart(kill=True)
    events, sqs = server.client("events"), server.client("sqs")
    # Resumed (or already done): every archived event is replayed, at least once.
    replay_done(events, name)
    replayed = {json.loads(m["Body"])["id"] for m in receive(sqs, url, count, 60)}
    while len(replayed) < count:
        more = receive(sqs, url, 1, 5)
        assert more, f"{count - len(replayed)} events were never replayed"
        replayed |= {json.loads(m["Body"])["id"] for m in more}
    assert replayed == set(ids)
    described = events.describe_archive(ArchiveName=unique_name)
    assert described["EventCount"] == count and described["SizeBytes"] > 0
