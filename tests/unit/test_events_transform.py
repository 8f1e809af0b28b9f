"""EventBridge target input (services/events/transform.py): InputPath, InputTransformer
with its string and JSON templates and predefined variables, and the PutTargets checks.
Expected outputs follow AWS's documented examples and observed behaviour."""

from __future__ import annotations

import json

import pytest

from lamina.services.events.transform import InvalidTransform, check_target_input, extract, minify, parse_path, payload

EVENT = {
    "version": "0",
    "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "123456789012",
    "time": "2015-11-11T21:29:54Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
    "detail": {
        "instance-id": "i-0123456789",
        "state": "RUNNING",
        "count": 3,
        "tags": {"a": "b"},
        "items": [{"n": 1}, {"n": 2}],
        "quote": 'say "hi"',
    },
}
TEXT = json.dumps(EVENT, separators=(",", ":"))
RULE_ARN = "arn:aws:events:us-east-1:123456789012:rule/example"
INGESTED = "2015-11-11T21:29:55Z"


def render(target: dict) -> str:
    return payload(dict(target, Id="t"), EVENT, TEXT, RULE_ARN, "example", INGESTED)


def transformer(template: str, **paths: str) -> dict:
    return {"InputTransformer": {"InputPathsMap": paths, "InputTemplate": template}}


# --- the whole event, Input, InputPath -----------------------------------------------------------


def test_no_input_settings_sends_the_event_text_itself():
    assert render({}) is TEXT


def test_input_is_sent_as_given():
    assert render({"Input": '{"constant": [1, 2]}'}) == '{"constant": [1, 2]}'


@pytest.mark.parametrize(
    "path, expected",
    [
        ("$", TEXT),
        ("$.detail.state", '"RUNNING"'),
        ("$.detail.count", "3"),
        ("$.detail.tags", '{"a":"b"}'),
        ("$.detail-type", '"EC2 Instance State-change Notification"'),
        ("$.resources[0]", '"arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"'),
        ("$.detail.items[1].n", "2"),
        ("$.detail['instance-id']", '"i-0123456789"'),
        ("$.detail.items[*].n", "[1,2]"),
        ("$.detail.nothing", "null"),
    ],
)
def test_input_path(path, expected):
    assert json.loads(render({"InputPath": path})) == json.loads(expected)


def test_paths_that_are_not_jsonpaths_are_refused():
    for bad in ("detail", "$..x", "$.a[", "$[x]"):
        with pytest.raises(InvalidTransform):
            parse_path(bad)


def test_extract_reads_values_and_survives_missing_ones():
    assert extract(EVENT, "$.detail.state") == "RUNNING"
    assert render({"InputPath": "$.detail.items[5]"}) == "null"
    assert render({"InputPath": "$.detail.state.deeper"}) == "null"


# --- InputTransformer: string templates ------------------------------------------------------------


def test_string_template_keeps_its_quotes_and_inserts_raw_text():
    target = transformer('"instance <instance> is in <state>"', instance="$.detail.instance-id", state="$.detail.state")
    assert render(target) == '"instance i-0123456789 is in RUNNING"'


def test_string_template_with_escaped_quotes_is_sent_as_written():
    target = transformer(
        '"instance \\"<instance>\\" is in <state>"', instance="$.detail.instance-id", state="$.detail.state"
    )
    assert render(target) == '"instance \\"i-0123456789\\" is in RUNNING"'


def test_missing_value_in_a_string_template_is_empty():
    target = transformer('"from detail <command>"', command="$.detail.notinmessage")
    assert render(target) == '"from detail "'


def test_non_string_values_in_a_string_template_are_json():
    assert render(transformer("<count> and <tags>", count="$.detail.count", tags="$.detail.tags")) == '3 and {"a":"b"}'


def test_predefined_variables_in_a_string_template():
    target = transformer(
        '"<aws.events.rule-name> triggered by <aws.events.rule-arn> at <aws.events.event.ingestion-time>"'
    )
    assert render(target) == f'"example triggered by {RULE_ARN} at {INGESTED}"'


# --- InputTransformer: JSON templates --------------------------------------------------------------


def test_json_template_placeholders_as_values_become_json():
    target = transformer(
        '{\n  "instance" : <instance>,\n  "state": [ 9, <state>, true ],\n  "n": <count>, "Transformed" : "Yes"\n}',
        instance="$.detail.instance-id",
        state="$.detail.state",
        count="$.detail.count",
    )
    assert render(target) == '{"instance":"i-0123456789","state":[9,"RUNNING",true],"n":3,"Transformed":"Yes"}'


def test_json_template_placeholders_inside_strings_become_text():
    target = transformer(
        '{"instance": <instance>, "state": "<state>", "instanceStatus": "instance \\"<instance>\\" is in <state>"}',
        instance="$.detail.instance-id",
        state="$.detail.state",
    )
    assert json.loads(render(target)) == {
        "instance": "i-0123456789",
        "state": "RUNNING",
        "instanceStatus": 'instance "i-0123456789" is in RUNNING',
    }


def test_json_template_escapes_text_inside_strings():
    target = transformer('{"said": "<quote>", "tags": "<tags>"}', quote="$.detail.quote", tags="$.detail.tags")
    assert json.loads(render(target)) == {"said": 'say "hi"', "tags": '{"a":"b"}'}


def test_json_template_missing_value_is_an_empty_string():
    target = transformer(
        '{"detailType": <dt>, "command": <command>}', dt="$.detail-type", command="$.detail.notinmessage"
    )
    assert json.loads(render(target)) == {"detailType": EVENT["detail-type"], "command": ""}


def test_json_template_objects_and_predefined_events():
    target = transformer(
        '{"tags": <tags>, "originalEvent": <aws.events.event>, "full": <aws.events.event.json>,'
        ' "rule": <aws.events.rule-name>}',
        tags="$.detail.tags",
    )
    result = json.loads(render(target))
    assert result["tags"] == {"a": "b"}
    assert result["full"] == EVENT
    assert result["rule"] == "example"
    assert result["originalEvent"] == {
        "id": EVENT["id"],
        "account": EVENT["account"],
        "detailType": EVENT["detail-type"],
        "time": INGESTED,
        "source": EVENT["source"],
        "region": EVENT["region"],
        "resources": EVENT["resources"],
        "version": "0",
    }


def test_minify_keeps_strings_and_numbers_as_written():
    assert minify('{ "a b" : 1.50 ,\n "c": [ 1e3, "x\\" y" ] }') == '{"a b":1.50,"c":[1e3,"x\\" y"]}'


# --- checks at PutTargets ----------------------------------------------------------------------------


def test_only_one_input_setting_per_target():
    with pytest.raises(
        InvalidTransform, match="Only one of Input, InputPath, or InputTransformer must be provided for target t."
    ):
        check_target_input({"Id": "t", "InputPath": "$.detail", "Input": "{}"})


def test_undefined_placeholders_are_refused():
    with pytest.raises(InvalidTransform, match="InputTemplate for target t contains invalid placeholder notdefined."):
        check_target_input(dict(transformer('"<notdefined>"'), Id="t"))


def test_input_must_be_json_and_paths_must_be_paths():
    with pytest.raises(InvalidTransform):
        check_target_input({"Id": "t", "Input": "not json"})
    with pytest.raises(InvalidTransform):
        check_target_input({"Id": "t", "InputPath": "detail"})
    with pytest.raises(InvalidTransform):
        check_target_input(dict(transformer('"<a>"', a="detail"), Id="t"))
    with pytest.raises(InvalidTransform):
        check_target_input(dict(transformer('{"a": <a>,}', a="$.detail"), Id="t"))
    check_target_input(dict(transformer('{"a": <a>, "b": "<a> x"}', a="$.detail"), Id="t"))
