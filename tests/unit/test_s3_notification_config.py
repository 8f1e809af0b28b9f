"""S3 notifications' pure parts: the configuration's normal form and overlaps, which events a
configuration wants, and the records and EventBridge details built from an ObjectEvent
(validated with aws-lambda-powertools' models)."""

from __future__ import annotations

import pytest
from aws_lambda_powertools.utilities.parser.models import S3EventNotificationEventBridgeModel, S3Model

from lamina.errors import ServiceError
from lamina.services.s3 import notification_events as shapes
from lamina.services.s3.events import ObjectEvent
from lamina.services.s3.notifications import OVERLAP, matches, normalized

QUEUE = "arn:aws:sqs:us-east-1:000000000000:q"


def config(events: list[str], **rules: str) -> dict:
    item: dict = {"QueueArn": QUEUE, "Events": events}
    if rules:
        item["Filter"] = {"Key": {"FilterRules": [{"Name": n, "Value": v} for n, v in rules.items()]}}
    return item


def event(name: str = "ObjectCreated:Put", key: str = "a b/c+d.txt", version: str | None = None) -> ObjectEvent:
    return ObjectEvent(
        name=name,
        bucket="bucket",
        account="000000000000",
        region="us-east-1",
        key=key,
        size=0 if name.startswith("ObjectRemoved") else 3,
        etag="" if name.startswith("ObjectRemoved") else "abc",
        version_id=version,
        sequencer="0000000000000000AB",
        principal_id="AWS:000000000000",
        source_ip="127.0.0.1",
        request_id="REQ",
        event_time=1_700_000_000.123,
    )


def test_normal_form_names_rules_and_ids():
    got = normalized({"QueueConfigurations": [config(["s3:ObjectCreated:*"], PREFIX="in/", suffix=".csv")]})
    [item] = got["QueueConfigurations"]
    assert item["Id"] and item["Filter"]["Key"]["FilterRules"] == [
        {"Name": "Prefix", "Value": "in/"},
        {"Name": "Suffix", "Value": ".csv"},
    ]
    assert normalized({"EventBridgeConfiguration": {}}) == {"EventBridgeConfiguration": {}}


@pytest.mark.parametrize(
    ("first", "second", "overlap"),
    [
        (config(["s3:ObjectCreated:*"]), config(["s3:ObjectCreated:Copy"]), True),
        (config(["s3:ObjectCreated:Put"]), config(["s3:ObjectRemoved:*"]), False),
        (config(["s3:ObjectCreated:*"], prefix="a/"), config(["s3:ObjectCreated:*"], prefix="b/"), False),
        (config(["s3:ObjectCreated:*"], prefix="a/"), config(["s3:ObjectCreated:*"], prefix="a/b/"), True),
        (config(["s3:ObjectCreated:*"], suffix=".png"), config(["s3:ObjectCreated:*"], suffix=".jpg"), False),
        (config(["s3:ObjectCreated:*"], prefix="a/"), config(["s3:ObjectCreated:*"], suffix=".jpg"), True),
    ],
)
def test_overlaps(first, second, overlap):
    if overlap:
        with pytest.raises(ServiceError) as caught:
            normalized({"QueueConfigurations": [first, second]})
        assert caught.value.message == OVERLAP
    else:
        normalized({"QueueConfigurations": [first, second]})


def test_matching_uses_the_encoded_key():
    item = normalized({"QueueConfigurations": [config(["s3:ObjectCreated:*"], prefix="a+b/")]})["QueueConfigurations"][
        0
    ]
    assert matches(item, "ObjectCreated:Put", shapes.encoded_key("a b/x"))
    assert not matches(item, "ObjectRemoved:Delete", shapes.encoded_key("a b/x"))
    assert not matches(item, "ObjectCreated:Put", shapes.encoded_key("other"))


def test_records_parse_with_powertools():
    for name, version in (("ObjectCreated:Put", None), ("ObjectRemoved:DeleteMarkerCreated", "v1"),
                          ("ObjectTagging:Put", "v1")):  # fmt: skip
        record = shapes.record(event(name, version=version), "cfg")
        S3Model.model_validate({"Records": [record]})
        assert record["s3"]["object"]["key"] == "a+b/c%2Bd.txt"
        assert record["eventTime"] == "2023-11-14T22:13:20.123Z"
        assert ("versionId" in record["s3"]["object"]) == (version is not None)
    assert shapes.record(event("ObjectTagging:Put"), "c")["eventVersion"] == "2.3"


def test_eventbridge_details_parse_with_powertools():
    for name, kind in (("ObjectCreated:Copy", "Object Created"), ("ObjectRemoved:Delete", "Object Deleted"),
                       ("ObjectTagging:Delete", "Object Tags Deleted")):  # fmt: skip
        detail_type, detail = shapes.eventbridge(event(name))
        assert detail_type == kind
        S3EventNotificationEventBridgeModel.model_validate(
            {
                "version": "0",
                "id": "x",
                "detail-type": detail_type,
                "source": "aws.s3",
                "account": "000000000000",
                "time": "2023-11-14T22:13:20Z",
                "region": "us-east-1",
                "resources": ["arn:aws:s3:::bucket"],
                "detail": detail,
            }
        )
    assert shapes.eventbridge(event("ObjectCreated:Copy"))[1]["reason"] == "CopyObject"
    assert shapes.eventbridge(event("ObjectRemoved:DeleteMarkerCreated"))[1]["deletion-type"] == "Delete Marker Created"
