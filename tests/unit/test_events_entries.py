"""PutEvents' pure parts (services/events/put_events.py and state.py): entry checks and sizes,
the event's shape and id, ARNs, paging."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from lamina import ids as lamina_ids
from lamina.errors import ServiceError
from lamina.services.events.put_events import build_event, check_entry, entry_size, stamp
from lamina.services.events.state import bus_key, page, parse_bus_arn, parse_rule_arn, rule_arn


def test_check_entry_in_aws_order():
    assert check_entry({"Source": "s", "DetailType": "t", "Detail": '{"a": 1}'}) == ({"a": 1}, None)
    assert check_entry({})[1]["ErrorMessage"].startswith("Parameter Source is not valid.")
    assert check_entry({"Source": "s", "Detail": "[]"})[1]["ErrorMessage"].startswith("Parameter DetailType")
    for detail in ("[]", '"text"', "1", "{", "null"):
        assert check_entry({"Source": "s", "DetailType": "t", "Detail": detail})[1] == {
            "ErrorCode": "MalformedDetail",
            "ErrorMessage": "Detail is malformed.",
        }
    assert (
        check_entry({"Source": "aws.s3", "DetailType": "t", "Detail": "{}"})[1]["ErrorCode"]
        == "NotAuthorizedForSourceException"
    )


def test_entry_size_counts_as_aws_does():
    entry = {"Source": "ab", "DetailType": "cd", "Detail": "{}", "Resources": ["xyz"]}
    assert entry_size(entry) == 2 + 2 + 2 + 3
    assert entry_size(dict(entry, Time=datetime.now(timezone.utc))) == 9 + 14
    assert entry_size({"Source": "é"}) == 2


def test_event_shape_and_time():
    moment = datetime(2024, 5, 1, 12, 30, 45, 999000, tzinfo=timezone.utc)
    event = build_event("000000000000", "eu-west-1", "s", "t", {"a": 1}, ["r"], moment)
    assert list(event) == ["version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"]
    assert event["time"] == "2024-05-01T12:30:45Z" and event["version"] == "0"
    assert stamp(0) == "1970-01-01T00:00:00Z"


def test_event_ids_are_version_4_uuids():
    ids = {build_event("1", "r", "s", "t", {})["id"] for _ in range(1000)} | {lamina_ids.uuid4() for _ in range(1000)}
    assert len(ids) == 2000
    assert all(uuid.UUID(i).version == 4 and uuid.UUID(i).variant == uuid.RFC_4122 for i in ids)


def test_arns_and_bus_names():
    assert rule_arn("us-east-1", "1" * 12, "default", "r") == "arn:aws:events:us-east-1:111111111111:rule/r"
    assert rule_arn("us-east-1", "1" * 12, "b", "r") == "arn:aws:events:us-east-1:111111111111:rule/b/r"
    assert parse_rule_arn("arn:aws:events:us-east-1:111111111111:rule/b/r") == (("111111111111", "us-east-1", "b"), "r")
    assert parse_rule_arn("arn:aws:events:us-east-1:111111111111:rule/r") == (
        ("111111111111", "us-east-1", "default"),
        "r",
    )
    assert parse_bus_arn("arn:aws:events:eu-west-1:222222222222:event-bus/x") == ("222222222222", "eu-west-1", "x")
    assert bus_key(None, "1", "r") == ("1", "r", "default")
    assert bus_key("mine", "1", "r") == ("1", "r", "mine")
    with pytest.raises(ServiceError):
        bus_key("arn:aws:events:nowhere", "1", "r")


def test_page_walks_sorted_names():
    names = [f"n{i}" for i in range(5)]
    first, token = page(names, None, 2)
    second, token2 = page(names, token, 2)
    third, token3 = page(names, token2, 2)
    assert (first, second, third, token3) == (["n0", "n1"], ["n2", "n3"], ["n4"], None)
    with pytest.raises(ServiceError):
        page(names, "!!!", 2)
