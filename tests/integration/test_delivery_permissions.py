"""A delivery made by an AWS service passes the target's resource policy or the service's role,
as on AWS, against a live server through boto3: SNS to a queue (the queue policy must let
sns.amazonaws.com send for the topic), EventBridge to a queue, a topic, a Kinesis stream
through a role and another account's bus (its PutPermission policy), and EventBridge
Scheduler acting as a schedule's role (which must trust scheduler.amazonaws.com and allow
the action). A refused delivery is not retried: it goes to the dead-letter queue if that one
lets the service (or the role) send, which is how each test knows the refusal happened
before it looks for the message that must not be there.

The policies are the ones AWS's documentation has users write: a statement for the service
principal with aws:SourceArn naming the topic or the rule (tests/conftest.py's helpers)."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import EVENTS, ROLE, SCHEDULER, SNS, allow_service

from .test_lambda_helpers import wait_until
from .test_sns import make_queue, receive

ACCOUNT, OTHER = "000000000000", "111111111111"
REGION = "us-east-1"


@pytest.fixture
def sns(lamina):
    return lamina.client("sns")


@pytest.fixture
def events(lamina):
    return lamina.client("events")


@pytest.fixture
def scheduler(lamina):
    return lamina.client("scheduler")


@pytest.fixture
def iam(lamina):
    return lamina.client("iam")


def stays_empty(sqs, url: str) -> bool:
    """Nothing in the queue during a one-second long poll. Only asked once a witness (the
    dead-letter queue, the server's log) showed the delivery was decided, so this is not a
    wait for something that might still come."""
    return not sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages")


def first_message(sqs, queues: dict[str, str], timeout: float = 15.0) -> tuple[str, dict]:
    """(name, message) of the first of `queues` ({name: url}) to get a message."""

    def look():
        for where, url in queues.items():
            page = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0, MessageAttributeNames=["All"])
            if page.get("Messages"):
                message = page["Messages"][0]
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                return where, message
        return None

    return wait_until(look, timeout=timeout, interval=0.1, what=f"a message in {' or '.join(queues)}")


def attributes_of(message: dict) -> dict[str, str]:
    return {name: value["StringValue"] for name, value in message.get("MessageAttributes", {}).items()}


def put(events, source: str, detail: dict, **more) -> str:
    result = events.put_events(
        Entries=[{"Source": source, "DetailType": "Test Event", "Detail": json.dumps(detail), **more}]
    )
    assert result["FailedEntryCount"] == 0, result
    return result["Entries"][0]["EventId"]


def rule_to(events, name: str, targets: list[dict], **more) -> str:
    arn = events.put_rule(Name=name, EventPattern=json.dumps({"source": [name]}), **more)["RuleArn"]
    bus = {"EventBusName": more["EventBusName"]} if "EventBusName" in more else {}
    result = events.put_targets(Rule=name, Targets=targets, **bus)
    assert result["FailedEntryCount"] == 0, result
    return arn


def at(seconds: float) -> str:
    moment = datetime.now(timezone.utc) + timedelta(seconds=seconds)
    return f"at({moment.strftime('%Y-%m-%dT%H:%M:%S')})"


def trust(*services: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": list(services)}, "Action": "sts:AssumeRole"}],
        }
    )


def allow(action: str, *resources: str) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": list(resources)}]}
    )


def log_lines(server, *words: str) -> list[str]:
    """The server's log lines holding every one of `words` (Lamina logs at warning level in tests)."""
    with open(os.path.join(server.data_dir, "server.log"), errors="replace") as handle:
        return [line for line in handle if all(word in line for word in words)]


# --- SNS -> SQS -------------------------------------------------------------------------------------------


def test_sns_is_refused_by_a_queue_without_a_policy_then_delivers_once_allowed(sns, sqs, unique_name):
    topic = sns.create_topic(Name=unique_name)["TopicArn"]
    url, queue_arn = make_queue(sqs, unique_name)
    dlq_url, dlq_arn = make_queue(sqs, f"{unique_name}-dlq")
    allow_service(sqs, dlq_arn, SNS, topic)  # the dead-letter queue does let SNS send for the topic
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true", "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn})},
    )

    sns.publish(TopicArn=topic, Message="refused")
    assert [m["Body"] for m in receive(sqs, dlq_url, timeout=15)] == ["refused"]  # at once: a 403 is not retried
    assert stays_empty(sqs, url)

    allow_service(sqs, queue_arn, SNS, topic)
    sns.publish(TopicArn=topic, Message="allowed")
    assert [m["Body"] for m in receive(sqs, url, timeout=15)] == ["allowed"]
    assert stays_empty(sqs, url) and stays_empty(sqs, dlq_url)  # the refused message never arrives


def test_a_queue_policy_for_another_topic_refuses(sns, sqs, unique_name):
    mine = sns.create_topic(Name=unique_name)["TopicArn"]
    other = sns.create_topic(Name=f"{unique_name}-other")["TopicArn"]
    url, queue_arn = make_queue(sqs, unique_name)
    allow_service(sqs, queue_arn, SNS, other)  # aws:SourceArn names the other topic only
    dlq_url, dlq_arn = make_queue(sqs, f"{unique_name}-dlq")
    allow_service(sqs, dlq_arn, SNS, mine)
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn})
    for topic in (mine, other):
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"RawMessageDelivery": "true", "RedrivePolicy": redrive},
        )

    sns.publish(TopicArn=mine, Message="from mine")
    assert [m["Body"] for m in receive(sqs, dlq_url, timeout=15)] == ["from mine"]
    sns.publish(TopicArn=other, Message="from the other")
    assert [m["Body"] for m in receive(sqs, url, timeout=15)] == ["from the other"]
    assert stays_empty(sqs, url) and stays_empty(sqs, dlq_url)


# --- EventBridge ------------------------------------------------------------------------------------------


def test_eventbridge_is_refused_by_a_queue_until_its_policy_allows_the_rule(events, sqs, unique_name):
    url, queue_arn = make_queue(sqs, unique_name)
    dlq_url, dlq_arn = make_queue(sqs, f"{unique_name}-dlq")
    target = {
        "Id": "q",
        "Arn": queue_arn,
        "RetryPolicy": {"MaximumRetryAttempts": 5},
        "DeadLetterConfig": {"Arn": dlq_arn},
    }
    rule_arn = rule_to(events, unique_name, [target])
    allow_service(sqs, dlq_arn, EVENTS, rule_arn)

    refused = put(events, unique_name, {"n": 1})
    [message] = receive(sqs, dlq_url, timeout=15)
    assert json.loads(message["Body"])["id"] == refused
    attributes = attributes_of(message)
    assert attributes["ERROR_CODE"] == "NO_PERMISSIONS"
    assert attributes["RULE_ARN"] == rule_arn and attributes["TARGET_ARN"] == queue_arn
    assert attributes["RETRY_ATTEMPTS"] == "0" and "EXHAUSTED_RETRY_CONDITION" not in attributes  # not retried
    assert stays_empty(sqs, url)

    # A grant for another rule is no grant for this one; the rule's own is.
    allow_service(sqs, queue_arn, EVENTS, rule_arn.replace(unique_name, f"{unique_name}-other"))
    put(events, unique_name, {"n": 2})
    assert attributes_of(receive(sqs, dlq_url, timeout=15)[0])["ERROR_CODE"] == "NO_PERMISSIONS"
    allow_service(sqs, queue_arn, EVENTS, rule_arn)
    allowed = put(events, unique_name, {"n": 3})
    assert [json.loads(m["Body"])["id"] for m in receive(sqs, url, timeout=15)] == [allowed]
    assert stays_empty(sqs, url) and stays_empty(sqs, dlq_url)


def test_eventbridge_to_a_topic_needs_more_than_the_default_topic_policy(events, sns, sqs, unique_name):
    topic = sns.create_topic(Name=unique_name)["TopicArn"]
    url, queue_arn = make_queue(sqs, unique_name)
    allow_service(sqs, queue_arn, SNS, topic)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    dlq_url, dlq_arn = make_queue(sqs, f"{unique_name}-dlq")
    rule_arn = rule_to(events, unique_name, [{"Id": "t", "Arn": topic, "DeadLetterConfig": {"Arn": dlq_arn}}])
    allow_service(sqs, dlq_arn, EVENTS, rule_arn)

    # SNS's default policy lets the owner account publish (AWS:SourceOwner), not EventBridge.
    refused = put(events, unique_name, {"n": 1})
    where, message = first_message(sqs, {"the dead-letter queue": dlq_url, "the topic's queue": url})
    assert where == "the dead-letter queue", f"the event reached {where}"
    assert json.loads(message["Body"])["id"] == refused
    assert attributes_of(message)["ERROR_CODE"] == "NO_PERMISSIONS"
    assert stays_empty(sqs, url)

    allow_service(sns, topic, EVENTS, rule_arn)
    allowed = put(events, unique_name, {"n": 2})
    assert [json.loads(m["Body"])["id"] for m in receive(sqs, url, timeout=15)] == [allowed]
    assert stays_empty(sqs, dlq_url)


def test_eventbridge_sends_to_a_stream_as_the_targets_role(lamina, events, iam, sqs, unique_name):
    kinesis = lamina.client("kinesis")
    kinesis.create_stream(StreamName=unique_name, ShardCount=1)
    stream_arn = kinesis.describe_stream_summary(StreamName=unique_name)["StreamDescriptionSummary"]["StreamARN"]
    # A role EventBridge may not assume (it trusts Lambda only), though allowed to put records.
    name = f"{unique_name}-lambda"
    untrusted = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust("lambda.amazonaws.com"))
    iam.put_role_policy(RoleName=name, PolicyName="put", PolicyDocument=allow("kinesis:PutRecord", stream_arn))
    dlq_url, dlq_arn = make_queue(sqs, f"{unique_name}-dlq")
    target = {"Id": "s", "Arn": stream_arn, "RoleArn": untrusted["Role"]["Arn"], "DeadLetterConfig": {"Arn": dlq_arn}}
    rule_arn = rule_to(events, unique_name, [target])
    allow_service(sqs, dlq_arn, EVENTS, rule_arn)

    refused = put(events, unique_name, {"n": 1})
    [message] = receive(sqs, dlq_url, timeout=15)
    assert json.loads(message["Body"])["id"] == refused
    assert attributes_of(message)["ERROR_CODE"] == "NO_PERMISSIONS"

    events.put_targets(Rule=unique_name, Targets=[{**target, "RoleArn": ROLE}])  # trusts EventBridge
    allowed = put(events, unique_name, {"n": 2})
    shard = kinesis.list_shards(StreamName=unique_name)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=unique_name, ShardId=shard, ShardIteratorType="TRIM_HORIZON")

    def records():
        page = kinesis.get_records(ShardIterator=iterator["ShardIterator"])
        return page["Records"]

    assert [json.loads(r["Data"])["id"] for r in wait_until(records, timeout=15, what="the record")] == [allowed]
    kinesis.delete_stream(StreamName=unique_name)


def test_a_rule_reaches_another_accounts_bus_once_its_policy_allows_the_account(lamina_factory, unique_name):
    server = lamina_factory(LAMINA_CREDENTIALS=f"alice:alice-secret:{OTHER}")

    def as_alice(service: str):
        return boto3.client(
            service,
            endpoint_url=server.url,
            region_name=REGION,
            aws_access_key_id="alice",
            aws_secret_access_key="alice-secret",
            config=Config(retries={"max_attempts": 1}),
        )

    events, sqs = server.client("events"), server.client("sqs")
    their_events, their_sqs = as_alice("events"), as_alice("sqs")
    # Account B (alice's): a rule on its default bus into its own queue.
    their_url, their_queue = make_queue(their_sqs, unique_name)
    assert f":{OTHER}:" in their_queue
    their_rule = rule_to(their_events, unique_name, [{"Id": "q", "Arn": their_queue}])
    allow_service(their_sqs, their_queue, EVENTS, their_rule)
    # Account A: a rule whose target is B's default bus (no RoleArn), its refusals dead-lettered.
    dlq_url, dlq_arn = make_queue(sqs, f"{unique_name}-dlq")
    their_bus = f"arn:aws:events:{REGION}:{OTHER}:event-bus/default"
    rule_arn = rule_to(events, unique_name, [{"Id": "b", "Arn": their_bus, "DeadLetterConfig": {"Arn": dlq_arn}}])
    allow_service(sqs, dlq_arn, EVENTS, rule_arn)

    refused = put(events, unique_name, {"n": 1})
    [message] = receive(sqs, dlq_url, timeout=15)
    assert json.loads(message["Body"])["id"] == refused
    assert attributes_of(message)["ERROR_CODE"] == "NO_PERMISSIONS"
    assert stays_empty(their_sqs, their_url)

    their_events.put_permission(EventBusName="default", Action="events:PutEvents", Principal=ACCOUNT, StatementId="a")
    put(events, unique_name, {"n": 2})
    [delivered] = receive(their_sqs, their_url, timeout=15)
    event = json.loads(delivered["Body"])
    assert (event["source"], event["detail"]) == (unique_name, {"n": 2})
    assert event["account"] == ACCOUNT  # the sender's, which B's rules can match on
    assert stays_empty(sqs, dlq_url)


# --- EventBridge Scheduler --------------------------------------------------------------------------------


def schedule(scheduler, name: str, target: dict) -> str:
    return scheduler.create_schedule(
        Name=name, ScheduleExpression=at(1), FlexibleTimeWindow={"Mode": "OFF"}, Target=target
    )["ScheduleArn"]


def test_a_schedule_whose_role_may_not_send_is_dead_lettered_then_delivers_once_it_may(
    scheduler, iam, sqs, unique_name
):
    url, queue_arn = make_queue(sqs, unique_name)
    dlq_url, dlq_arn = make_queue(sqs, f"{unique_name}-dlq")
    role = iam.create_role(RoleName=unique_name, AssumeRolePolicyDocument=trust(SCHEDULER))["Role"]["Arn"]
    # The role may send to the dead-letter queue only.
    iam.put_role_policy(RoleName=unique_name, PolicyName="send", PolicyDocument=allow("sqs:SendMessage", dlq_arn))
    target = {
        "Arn": queue_arn,
        "RoleArn": role,
        "Input": "refused",
        "DeadLetterConfig": {"Arn": dlq_arn},
        "RetryPolicy": {"MaximumRetryAttempts": 5, "MaximumEventAgeInSeconds": 60},
    }
    schedule_arn = schedule(scheduler, unique_name, target)
    [message] = receive(sqs, dlq_url, timeout=15)
    assert message["Body"] == "refused"
    attributes = attributes_of(message)
    assert attributes["X-Amz-Scheduler-Schedule-Arn"] == schedule_arn and attributes["TARGET_ARN"] == queue_arn
    assert "sqs:SendMessage" in attributes["ERROR_MESSAGE"] and role.split("/")[-1] in attributes["ERROR_MESSAGE"]
    assert attributes["RETRY_ATTEMPTS"] == "0"  # refused, not retried
    assert stays_empty(sqs, url)

    iam.put_role_policy(
        RoleName=unique_name, PolicyName="send", PolicyDocument=allow("sqs:SendMessage", dlq_arn, queue_arn)
    )
    schedule(scheduler, f"{unique_name}-2", {**target, "Input": "allowed"})
    assert [m["Body"] for m in receive(sqs, url, timeout=15)] == ["allowed"]
    assert stays_empty(sqs, dlq_url)


def test_a_schedule_whose_role_does_not_trust_the_scheduler_delivers_nothing(lamina, scheduler, iam, sqs, unique_name):
    url, queue_arn = make_queue(sqs, unique_name)
    dlq_url, dlq_arn = make_queue(sqs, f"{unique_name}-dlq")
    # Allowed to send anywhere, but a role for Lambda: the scheduler cannot act as it, for the
    # target or for the dead-letter queue.
    role = iam.create_role(RoleName=unique_name, AssumeRolePolicyDocument=trust("lambda.amazonaws.com"))["Role"]["Arn"]
    iam.put_role_policy(RoleName=unique_name, PolicyName="send", PolicyDocument=allow("sqs:SendMessage", "*"))
    target = {"Arn": queue_arn, "RoleArn": role, "Input": "never", "DeadLetterConfig": {"Arn": dlq_arn}}
    schedule_arn = schedule(scheduler, unique_name, target)
    # The witness that the occurrence was decided: the dead-letter queue's refusal, logged.
    wait_until(
        lambda: log_lines(lamina, schedule_arn, dlq_arn, "sts:AssumeRole"),
        timeout=15,
        what="the scheduler to give the occurrence up",
    )
    assert stays_empty(sqs, url) and stays_empty(sqs, dlq_url)

    iam.update_assume_role_policy(RoleName=unique_name, PolicyDocument=trust(SCHEDULER))
    schedule(scheduler, f"{unique_name}-2", {**target, "Input": "trusted"})
    assert [m["Body"] for m in receive(sqs, url, timeout=15)] == ["trusted"]
    assert stays_empty(sqs, dlq_url)


def test_a_schedule_with_a_role_that_does_not_exist_delivers_nothing(lamina, scheduler, sqs, unique_name):
    url, queue_arn = make_queue(sqs, unique_name)
    missing = f"arn:aws:iam::{ACCOUNT}:role/{unique_name}-never-created"
    schedule_arn = schedule(scheduler, unique_name, {"Arn": queue_arn, "RoleArn": missing, "Input": "never"})
    wait_until(
        lambda: log_lines(lamina, schedule_arn, "sts:AssumeRole"),
        timeout=15,
        what="the scheduler to drop the occurrence",
    )
    assert stays_empty(sqs, url)
    schedule(scheduler, f"{unique_name}-2", {"Arn": queue_arn, "RoleArn": ROLE, "Input": "with ROLE"})
    assert [m["Body"] for m in receive(sqs, url, timeout=15)] == ["with ROLE"]


def test_a_stream_or_state_machine_target_needs_a_role(lamina, unique_name):
    events = lamina.client("events")
    events.put_rule(Name=unique_name, EventPattern=json.dumps({"source": ["x"]}))
    for arn in (
        f"arn:aws:kinesis:us-east-1:000000000000:stream/{unique_name}",
        f"arn:aws:states:us-east-1:000000000000:stateMachine:{unique_name}",
    ):
        with pytest.raises(ClientError) as caught:
            events.put_targets(Rule=unique_name, Targets=[{"Id": "t", "Arn": arn}])
        error = caught.value.response["Error"]
        assert (error["Code"], error["Message"]) == ("ValidationException", f"RoleArn is required for target {arn}.")
    assert events.list_targets_by_rule(Rule=unique_name)["Targets"] == []
