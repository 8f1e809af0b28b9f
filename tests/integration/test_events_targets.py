"""EventBridge deliveries against a live server: PutEvents -> rule -> target, for SQS (its
messages validated with aws-lambda-powertools' EventBridgeModel), FIFO SQS with a message
group, Lambda, SNS -> SQS, another bus, Input / InputPath / InputTransformer, disabled
and non-matching rules, dead-letter queues with AWS's attributes, and a Lambda function's
OnSuccess destination that is an event bus.
"""

from __future__ import annotations

import json
import time

import pytest
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from tests.conftest import EVENTS, ROLE, SNS, allow_service

from .test_lambda_helpers import function_arn, log_messages, wait_for_log_lines
from .test_sns import PRINTER, make_queue, nothing_arrives, receive

ACCOUNT = "000000000000"
REGION = "us-east-1"


@pytest.fixture
def events(lamina):
    return lamina.client("events")


def bus_arn(name: str) -> str:
    return f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{name}"


def rule_to(events, name: str, targets: list[dict], pattern: dict | None = None, **more) -> str:
    arn = events.put_rule(Name=name, EventPattern=json.dumps(pattern or {"source": [name]}), **more)["RuleArn"]
    result = events.put_targets(
        Rule=name, Targets=targets, **({"EventBusName": more["EventBusName"]} if "EventBusName" in more else {})
    )
    assert result["FailedEntryCount"] == 0, result
    return arn


def put(events, source: str, detail: dict | None = None, **more) -> str:
    result = events.put_events(
        Entries=[{"Source": source, "DetailType": "Test Event", "Detail": json.dumps(detail or {"n": 1}), **more}]
    )
    assert result["FailedEntryCount"] == 0, result
    return result["Entries"][0]["EventId"]


def bodies(sqs, url: str, count: int = 1, timeout: float = 10.0) -> list[str]:
    return [m["Body"] for m in receive(sqs, url, count, timeout)]


# --- SQS ----------------------------------------------------------------------------------------------


def test_rule_delivers_the_event_to_sqs(events, sqs, unique_name):
    url, arn = make_queue(sqs, unique_name)
    rule_arn = rule_to(events, unique_name, [{"Id": "q", "Arn": arn}])
    allow_service(sqs, arn, EVENTS, rule_arn)  # the queue policy AWS asks for: EventBridge may send for the rule
    before = int(time.time())
    event_id = put(events, unique_name, {"order": {"id": 7, "items": ["a", "b"]}}, Resources=["arn:x"])
    [body] = bodies(sqs, url)
    event = json.loads(body)
    assert event == {
        "version": "0",
        "id": event_id,
        "detail-type": "Test Event",
        "source": unique_name,
        "account": ACCOUNT,
        "time": event["time"],
        "region": REGION,
        "resources": ["arn:x"],
        "detail": {"order": {"id": 7, "items": ["a", "b"]}},
    }
    parsed = EventBridgeModel.model_validate(event)
    assert parsed.detail_type == "Test Event" and parsed.detail == event["detail"]
    assert before - 1 <= parsed.time.timestamp() <= time.time() + 1
    assert event["time"].endswith("Z") and len(event["time"]) == 20
    assert rule_arn.endswith(f":rule/{unique_name}")


def test_only_matching_enabled_rules_deliver(events, sqs, unique_name):
    url, arn = make_queue(sqs, unique_name)
    rule_arn = rule_to(
        events,
        unique_name,
        [{"Id": "q", "Arn": arn}],
        pattern={"source": [unique_name], "detail": {"n": [{"numeric": [">", 10]}]}},
    )
    allow_service(sqs, arn, EVENTS, rule_arn)
    put(events, unique_name, {"n": 5})
    put(events, "someone.else", {"n": 50})
    assert nothing_arrives(sqs, url, wait=1.0)
    put(events, unique_name, {"n": 50})
    assert json.loads(bodies(sqs, url)[0])["detail"] == {"n": 50}
    events.disable_rule(Name=unique_name)
    put(events, unique_name, {"n": 51})
    assert nothing_arrives(sqs, url, wait=1.0)
    events.enable_rule(Name=unique_name)
    put(events, unique_name, {"n": 52})
    assert json.loads(bodies(sqs, url)[0])["detail"] == {"n": 52}


def test_fifo_queue_target_gets_its_message_group_in_order(events, sqs, unique_name):
    url, arn = make_queue(sqs, f"{unique_name}.fifo", FifoQueue="true")
    rule_arn = rule_to(events, unique_name, [{"Id": "q", "Arn": arn, "SqsParameters": {"MessageGroupId": "orders"}}])
    allow_service(sqs, arn, EVENTS, rule_arn)
    ids = []
    for batch in range(3):
        entries = [
            {"Source": unique_name, "DetailType": "t", "Detail": json.dumps({"n": batch * 10 + i})} for i in range(10)
        ]
        result = events.put_events(Entries=entries)
        ids += [entry["EventId"] for entry in result["Entries"]]
    messages = receive(sqs, url, 30, timeout=20)
    assert [json.loads(m["Body"])["detail"]["n"] for m in messages] == list(range(30))
    assert {m["Attributes"]["MessageGroupId"] for m in messages} == {"orders"}
    assert [m["Attributes"]["MessageDeduplicationId"] for m in messages] == ids


def test_one_event_reaches_every_target_of_every_matching_rule(events, sqs, unique_name):
    queues = [make_queue(sqs, f"{unique_name}-{i}") for i in range(3)]
    rule_a = rule_to(
        events,
        f"{unique_name}-a",
        [{"Id": "0", "Arn": queues[0][1]}, {"Id": "1", "Arn": queues[1][1]}],
        pattern={"source": [unique_name]},
    )
    rule_b = rule_to(
        events,
        f"{unique_name}-b",
        [{"Id": "2", "Arn": queues[2][1]}],
        pattern={"detail-type": ["Test Event"], "source": [unique_name]},
    )
    for (_, arn), rule_arn in zip(queues, [rule_a, rule_a, rule_b], strict=True):
        allow_service(sqs, arn, EVENTS, rule_arn)
    event_id = put(events, unique_name)
    for url, _ in queues:
        assert json.loads(bodies(sqs, url)[0])["id"] == event_id


def test_kinesis_target_uses_the_partition_key_path(lamina, events, unique_name):
    kinesis = lamina.client("kinesis")
    kinesis.create_stream(StreamName=unique_name, ShardCount=1)
    stream_arn = kinesis.describe_stream_summary(StreamName=unique_name)["StreamDescriptionSummary"]["StreamARN"]
    rule_to(
        events,
        unique_name,
        [
            {
                "Id": "keyed",
                "Arn": stream_arn,
                "RoleArn": ROLE,  # EventBridge puts records as the target's role, which trusts it
                "KinesisParameters": {"PartitionKeyPath": "$.detail.customer"},
            }
        ],
    )
    first = put(events, unique_name, {"customer": "c-42"})
    shard = kinesis.list_shards(StreamName=unique_name)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=unique_name, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    records = []
    deadline = time.time() + 10
    while not records and time.time() < deadline:
        page = kinesis.get_records(ShardIterator=iterator)
        records, iterator = page["Records"], page["NextShardIterator"]
        time.sleep(0.1)
    [record] = records
    assert record["PartitionKey"] == "c-42"
    assert json.loads(record["Data"])["id"] == first
    kinesis.delete_stream(StreamName=unique_name)


# --- what a target receives ---------------------------------------------------------------------------


def test_input_input_path_and_input_transformer(events, sqs, unique_name):
    names = ["input", "path", "string", "json", "predefined"]
    queues = {name: make_queue(sqs, f"{unique_name}-{name}") for name in names}
    rule_arn = rule_to(
        events,
        unique_name,
        [
            {"Id": "input", "Arn": queues["input"][1], "Input": '{"constant": true}'},
            {"Id": "path", "Arn": queues["path"][1], "InputPath": "$.detail.instance"},
            {
                "Id": "string",
                "Arn": queues["string"][1],
                "InputTransformer": {
                    "InputPathsMap": {
                        "instance": "$.detail.instance",
                        "state": "$.detail.state",
                        "gone": "$.detail.gone",
                    },
                    "InputTemplate": '"instance <instance> is in <state><gone>"',
                },
            },
            {
                "Id": "json",
                "Arn": queues["json"][1],
                "InputTransformer": {
                    "InputPathsMap": {"instance": "$.detail.instance", "tags": "$.detail.tags", "n": "$.detail.n"},
                    "InputTemplate": '{\n  "instance": <instance>,\n  "tags": <tags>,\n  "n": [<n>, "<n>"],\n'
                    '  "status": "instance \\"<instance>\\" seen"\n}',
                },
            },
            {
                "Id": "predefined",
                "Arn": queues["predefined"][1],
                "InputTransformer": {
                    "InputTemplate": '{"rule": <aws.events.rule-name>, "arn": <aws.events.rule-arn>, '
                    '"event": <aws.events.event.json>}'
                },
            },
        ],
    )
    for _, arn in queues.values():
        allow_service(sqs, arn, EVENTS, rule_arn)
    detail = {"instance": "i-0123", "state": "RUNNING", "tags": {"a": "b"}, "n": 5}
    event_id = put(events, unique_name, detail)
    assert bodies(sqs, queues["input"][0]) == ['{"constant": true}']
    assert bodies(sqs, queues["path"][0]) == ['"i-0123"']
    assert bodies(sqs, queues["string"][0]) == ['"instance i-0123 is in RUNNING"']
    assert bodies(sqs, queues["json"][0]) == [
        '{"instance":"i-0123","tags":{"a":"b"},"n":[5,"5"],"status":"instance \\"i-0123\\" seen"}'
    ]
    predefined = json.loads(bodies(sqs, queues["predefined"][0])[0])
    assert predefined["rule"] == unique_name and predefined["arn"] == rule_arn
    assert predefined["event"]["id"] == event_id and predefined["event"]["detail"] == detail


# --- Lambda, SNS, another bus -------------------------------------------------------------------------


def allow_events(lambda_client, name: str, rule_arn: str) -> None:
    """What AWS asks of a Lambda target: its policy lets EventBridge invoke it for the rule."""
    lambda_client.add_permission(
        FunctionName=name,
        StatementId="events",
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
        SourceArn=rule_arn,
    )


def test_lambda_target_is_invoked_with_the_event(lamina, events, lambda_client, create_function, unique_name):
    create_function(code=PRINTER)
    rule = rule_to(events, unique_name, [{"Id": "fn", "Arn": function_arn(unique_name)}])
    allow_events(lambda_client, unique_name, rule)
    event_id = put(events, unique_name, {"hello": "lambda"})
    [line] = wait_for_log_lines(lamina, unique_name, "EVENT ", timeout=30)
    event = json.loads(line[line.index("EVENT ") + 6 :])
    assert event["id"] == event_id and event["detail"] == {"hello": "lambda"}
    EventBridgeModel.model_validate(event)


def test_sns_topic_target_fans_out_to_its_queue(lamina, events, sqs, unique_name):
    sns = lamina.client("sns")
    topic = sns.create_topic(Name=unique_name)["TopicArn"]
    url, arn = make_queue(sqs, unique_name)
    allow_service(sqs, arn, SNS, topic)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    rule_arn = rule_to(events, unique_name, [{"Id": "topic", "Arn": topic}])
    allow_service(sns, topic, EVENTS, rule_arn)  # the topic policy lets EventBridge publish for the rule
    event_id = put(events, unique_name, {"via": "sns"})
    event = json.loads(bodies(sqs, url)[0])
    assert event["id"] == event_id and event["detail"] == {"via": "sns"}


def test_event_bus_target_forwards_to_the_other_bus_rules(events, sqs, unique_name):
    other = f"{unique_name}-other"
    events.create_event_bus(Name=other)
    url, arn = make_queue(sqs, unique_name)
    rule_to(events, unique_name, [{"Id": "bus", "Arn": bus_arn(other)}])
    on_other = rule_to(
        events,
        f"{unique_name}-on-other",
        [{"Id": "q", "Arn": arn}],
        pattern={"source": [unique_name]},
        EventBusName=other,
    )
    allow_service(sqs, arn, EVENTS, on_other)  # a bus in the same account needs no policy; the queue does
    put(events, unique_name, {"hop": 1}, Resources=["arn:r"])
    event = json.loads(bodies(sqs, url)[0])
    assert (event["source"], event["detail-type"], event["detail"], event["resources"]) == (
        unique_name,
        "Test Event",
        {"hop": 1},
        ["arn:r"],
    )
    EventBridgeModel.model_validate(event)


def test_lambda_on_success_destination_can_be_an_event_bus(
    lamina, events, sqs, lambda_client, create_function, unique_name
):
    create_function(code={"app.py": "def handler(event, context):\n    return {'doubled': event['n'] * 2}\n"})
    lambda_client.put_function_event_invoke_config(
        FunctionName=unique_name, DestinationConfig={"OnSuccess": {"Destination": bus_arn("default")}}
    )
    url, arn = make_queue(sqs, unique_name)
    rule_arn = rule_to(
        events,
        unique_name,
        [{"Id": "q", "Arn": arn}],
        pattern={
            "source": ["lambda"],
            "detail-type": ["Lambda Function Invocation Result - Success"],
            "detail": {"requestContext": {"functionArn": [{"prefix": function_arn(unique_name)}]}},
        },
    )
    allow_service(sqs, arn, EVENTS, rule_arn)
    lambda_client.invoke(FunctionName=unique_name, InvocationType="Event", Payload=json.dumps({"n": 21}).encode())
    event = json.loads(bodies(sqs, url, timeout=30)[0])
    assert event["source"] == "lambda"
    assert event["detail-type"] == "Lambda Function Invocation Result - Success"
    assert event["resources"] == [bus_arn("default"), function_arn(unique_name, "$LATEST")]
    assert event["detail"]["responsePayload"] == {"doubled": 42}
    assert event["detail"]["requestPayload"] == {"n": 21}
    EventBridgeModel.model_validate(event)


# --- failures and dead-letter queues ------------------------------------------------------------------


def test_deleted_queue_target_sends_the_event_to_the_dead_letter_queue(events, sqs, unique_name):
    _, gone_arn = make_queue(sqs, f"{unique_name}-gone")
    sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=f"{unique_name}-gone")["QueueUrl"])
    dlq_url, dlq_arn = make_queue(sqs, f"{unique_name}-dlq")
    rule_arn = rule_to(
        events,
        unique_name,
        [
            {
                "Id": "q",
                "Arn": gone_arn,
                "InputPath": "$.detail",
                "RetryPolicy": {"MaximumRetryAttempts": 3},
                "DeadLetterConfig": {"Arn": dlq_arn},
            }
        ],
    )
    allow_service(sqs, dlq_arn, EVENTS, rule_arn)  # EventBridge sends to a dead-letter queue for the rule
    event_id = put(events, unique_name, {"lost": True})
    [message] = receive(sqs, dlq_url)
    assert json.loads(message["Body"])["id"] == event_id  # the original event, not the InputPath
    attributes = {name: value["StringValue"] for name, value in message["MessageAttributes"].items()}
    assert attributes["RULE_ARN"] == rule_arn and attributes["TARGET_ARN"] == gone_arn
    assert attributes["ERROR_CODE"] == "NO_RESOURCE" and attributes["ERROR_MESSAGE"]
    assert attributes["RETRY_ATTEMPTS"] == "0" and "EXHAUSTED_RETRY_CONDITION" not in attributes


def test_a_function_whose_policy_does_not_allow_eventbridge_gets_nothing(
    lamina, events, sqs, lambda_client, create_function, unique_name
):
    create_function(code=PRINTER)
    dlq_url, dlq_arn = make_queue(sqs, f"{unique_name}-dlq")
    rule = rule_to(
        events, unique_name, [{"Id": "fn", "Arn": function_arn(unique_name), "DeadLetterConfig": {"Arn": dlq_arn}}]
    )
    allow_events(lambda_client, unique_name, rule.replace(unique_name, "another-rule"))  # another rule's grant
    allow_service(sqs, dlq_arn, EVENTS, rule)  # the dead-letter queue does let EventBridge send
    event_id = put(events, unique_name)
    [message] = receive(sqs, dlq_url)
    assert json.loads(message["Body"])["id"] == event_id
    assert message["MessageAttributes"]["ERROR_CODE"]["StringValue"] == "NO_PERMISSIONS"
    assert not [line for line in log_messages(lamina, f"/aws/lambda/{unique_name}") if "EVENT " in line]


def test_deleted_function_target_goes_to_the_dead_letter_queue(
    lamina, events, sqs, lambda_client, create_function, unique_name
):
    create_function(code=PRINTER)
    dlq_url, dlq_arn = make_queue(sqs, f"{unique_name}-dlq")
    rule = rule_to(
        events, unique_name, [{"Id": "fn", "Arn": function_arn(unique_name), "DeadLetterConfig": {"Arn": dlq_arn}}]
    )
    allow_events(lambda_client, unique_name, rule)
    allow_service(sqs, dlq_arn, EVENTS, rule)
    lambda_client.delete_function(FunctionName=unique_name)
    event_id = put(events, unique_name)
    [message] = receive(sqs, dlq_url)
    assert json.loads(message["Body"])["id"] == event_id
    assert message["MessageAttributes"]["TARGET_ARN"]["StringValue"] == function_arn(unique_name)
    assert message["MessageAttributes"]["ERROR_CODE"]["StringValue"] == "NO_RESOURCE"


def test_step_functions_targets_are_accepted_and_fail_clearly(events, sqs, unique_name):
    dlq_url, dlq_arn = make_queue(sqs, f"{unique_name}-dlq")
    machine = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{unique_name}"
    rule_arn = rule_to(
        events,
        unique_name,
        [{"Id": "sfn", "Arn": machine, "RoleArn": ROLE, "DeadLetterConfig": {"Arn": dlq_arn}}],
    )
    allow_service(sqs, dlq_arn, EVENTS, rule_arn)
    put(events, unique_name)
    [message] = receive(sqs, dlq_url)
    assert "Step Functions" in message["MessageAttributes"]["ERROR_MESSAGE"]["StringValue"]


def test_buses_that_target_each_other_stop_the_loop(events, sqs, unique_name):
    a, b = f"{unique_name}-a", f"{unique_name}-b"
    for name in (a, b):
        events.create_event_bus(Name=name)
    url, arn = make_queue(sqs, unique_name)
    dlq_url, dlq_arn = make_queue(sqs, f"{unique_name}-dlq")
    pattern = {"source": [unique_name]}
    rule_to(events, "to-b", [{"Id": "b", "Arn": bus_arn(b)}], pattern=pattern, EventBusName=a)
    seen = rule_to(events, "seen", [{"Id": "q", "Arn": arn}], pattern=pattern, EventBusName=a)
    to_a = rule_to(
        events,
        "to-a",
        [{"Id": "a", "Arn": bus_arn(a), "DeadLetterConfig": {"Arn": dlq_arn}}],
        pattern=pattern,
        EventBusName=b,
    )
    allow_service(sqs, arn, EVENTS, seen)
    allow_service(sqs, dlq_arn, EVENTS, to_a)
    put(events, unique_name, EventBusName=a)
    [message] = receive(sqs, dlq_url, timeout=15)
    assert "loop" in message["MessageAttributes"]["ERROR_MESSAGE"]["StringValue"]
    assert len(bodies(sqs, url, 3)) == 3  # on bus a at hops 0, 2 and 4
    assert nothing_arrives(sqs, url, wait=0.5)
