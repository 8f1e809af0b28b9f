"""Amazon SNS against a live server, through boto3 (query protocol): topics, subscriptions,
publishing and its errors, and fan-out to real subscribers — a Lambda function (its event
validated with aws-lambda-powertools' SnsModel), SQS queues (JSON envelope and raw), and an
HTTP endpoint on loopback (confirmation, notifications, retries) — with filter policies on
attributes and on the body.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from botocore.exceptions import ClientError

from tests.conftest import SNS, allow_service, queue_policy_for

from .test_lambda_helpers import error_of, function_arn, wait_for_log_lines, wait_until

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ACCOUNT = "000000000000"
PRINTER = {
    "app.py": """
    import json

    def handler(event, context):
        print("EVENT " + json.dumps(event))
    """
}


@pytest.fixture
def sns(lamina):
    return lamina.client("sns")


@pytest.fixture
def topic(sns, unique_name):
    return sns.create_topic(Name=unique_name)["TopicArn"]


def make_queue(sqs, name: str, **attributes) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def receive(sqs, url: str, count: int = 1, timeout: float = 10.0) -> list[dict]:
    """At least `count` messages (deleted as they are read), waiting up to `timeout`."""
    got: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        page = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            MessageAttributeNames=["All"],
            AttributeNames=["All"],
        ).get("Messages", [])
        for message in page:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        got.extend(page)
    assert len(got) >= count, f"expected {count} messages, got {len(got)}"
    return got


def nothing_arrives(sqs, url: str, wait: float = 1.5) -> bool:
    time.sleep(wait)
    return not sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages")


def code_of(excinfo) -> tuple[str, int]:
    code, status, _ = error_of(excinfo)
    return code, status


# --- an HTTP subscriber ------------------------------------------------------------------------------


class Endpoint:
    """An HTTP server on loopback that records what it is sent and answers `statuses` in turn."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.received: list[tuple[dict, dict | str]] = []
        self.statuses = list(statuses or [])
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
                try:
                    parsed: dict | str = json.loads(body)
                except ValueError:
                    parsed = body
                status = endpoint.statuses.pop(0) if endpoint.statuses else 200
                endpoint.received.append(({k.lower(): v for k, v in self.headers.items()}, parsed))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def messages(self, kind: str, count: int = 1, timeout: float = 10.0) -> list[tuple[dict, dict | str]]:
        def found():
            chosen = [m for m in self.received if m[0].get("x-amz-sns-message-type") == kind]
            return chosen if len(chosen) >= count else None

        return wait_until(found, timeout=timeout, what=f"{count} {kind} POST(s)")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint():
    server = Endpoint()
    yield server
    server.close()


def confirmation_of(endpoint: Endpoint) -> dict:
    headers, body = endpoint.messages("SubscriptionConfirmation")[0]
    assert isinstance(body, dict)
    return body


# --- topics ---------------------------------------------------------------------------------------------


def test_create_topic_is_idempotent_and_reports_its_attributes(sns, unique_name):
    arn = sns.create_topic(Name=unique_name, Attributes={"DisplayName": "Orders"})["TopicArn"]
    assert arn == f"arn:aws:sns:us-east-1:{ACCOUNT}:{unique_name}"
    assert sns.create_topic(Name=unique_name, Attributes={"DisplayName": "Orders"})["TopicArn"] == arn
    assert sns.create_topic(Name=unique_name)["TopicArn"] == arn
    with pytest.raises(ClientError) as caught:
        sns.create_topic(Name=unique_name, Attributes={"DisplayName": "Other"})
    assert code_of(caught) == ("InvalidParameter", 400)

    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["TopicArn"] == arn and attributes["Owner"] == ACCOUNT
    assert attributes["DisplayName"] == "Orders"
    assert (
        attributes["SubscriptionsConfirmed"],
        attributes["SubscriptionsPending"],
        attributes["SubscriptionsDeleted"],
    ) == ("0", "0", "0")
    assert json.loads(attributes["Policy"])["Statement"][0]["Resource"] == arn
    effective = json.loads(attributes["EffectiveDeliveryPolicy"])
    assert effective["http"]["defaultHealthyRetryPolicy"]["numRetries"] == 3
    assert "FifoTopic" not in attributes and "DeliveryPolicy" not in attributes


def test_set_topic_attributes(sns, topic):
    sns.set_topic_attributes(TopicArn=topic, AttributeName="DisplayName", AttributeValue="Renamed")
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "SNS:Publish", "Resource": topic}],
    }
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(policy))
    delivery = {"http": {"defaultHealthyRetryPolicy": {"minDelayTarget": 1, "maxDelayTarget": 5, "numRetries": 4}}}
    sns.set_topic_attributes(TopicArn=topic, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(delivery))
    attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert attributes["DisplayName"] == "Renamed"
    assert json.loads(attributes["Policy"]) == policy
    assert json.loads(attributes["DeliveryPolicy"]) == delivery
    effective = json.loads(attributes["EffectiveDeliveryPolicy"])["http"]["defaultHealthyRetryPolicy"]
    assert (effective["minDelayTarget"], effective["maxDelayTarget"], effective["numRetries"]) == (1, 5, 4)

    for name, value in [
        ("NoSuchAttribute", "x"),
        ("FifoTopic", "true"),
        ("ContentBasedDeduplication", "true"),
        ("Policy", "{not json"),
        ("DeliveryPolicy", '{"http": {"defaultHealthyRetryPolicy": {"minDelayTarget": 0}}}'),
    ]:
        with pytest.raises(ClientError) as caught:
            sns.set_topic_attributes(TopicArn=topic, AttributeName=name, AttributeValue=value)
        assert code_of(caught) == ("InvalidParameter", 400), name


def test_add_and_remove_permission(sns, topic):
    sns.add_permission(TopicArn=topic, Label="partners", AWSAccountId=["111122223333"], ActionName=["Publish"])
    with pytest.raises(ClientError) as caught:
        sns.add_permission(TopicArn=topic, Label="partners", AWSAccountId=["111122223333"], ActionName=["Publish"])
    assert code_of(caught) == ("InvalidParameter", 400)
    statements = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])["Statement"]
    added = next(s for s in statements if s["Sid"] == "partners")
    assert added["Principal"] == {"AWS": ["arn:aws:iam::111122223333:root"]} and added["Action"] == ["SNS:Publish"]
    assert any(s["Sid"] == "__default_statement_ID" for s in statements)
    sns.remove_permission(TopicArn=topic, Label="partners")
    statements = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])["Statement"]
    assert [s["Sid"] for s in statements] == ["__default_statement_ID"]


def test_fifo_topics(sns, unique_name):
    name = f"{unique_name}.fifo"
    arn = sns.create_topic(Name=name, Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"})["TopicArn"]
    assert arn.endswith(".fifo")
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert (attributes["FifoTopic"], attributes["ContentBasedDeduplication"]) == ("true", "true")
    sns.set_topic_attributes(TopicArn=arn, AttributeName="ContentBasedDeduplication", AttributeValue="false")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["ContentBasedDeduplication"] == "false"
    for bad in [
        dict(Name=f"{unique_name}-b.fifo"),  # .fifo without FifoTopic
        dict(Name=f"{unique_name}-c", Attributes={"FifoTopic": "true"}),
        dict(Name="has spaces"),
        dict(Name="x" * 257),
    ]:
        with pytest.raises(ClientError) as caught:
            sns.create_topic(**bad)
        assert code_of(caught) == ("InvalidParameter", 400), bad


def test_list_topics_pages_by_100(sns, unique_name):
    created = {sns.create_topic(Name=f"{unique_name}-{i:03d}")["TopicArn"] for i in range(105)}
    seen, token, pages = [], None, 0
    while True:
        page = sns.list_topics(**({"NextToken": token} if token else {}))
        assert len(page["Topics"]) <= 100
        seen.extend(t["TopicArn"] for t in page["Topics"])
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert pages >= 2 and created <= set(seen) and len(seen) == len(set(seen))
    paginated = [t["TopicArn"] for p in sns.get_paginator("list_topics").paginate() for t in p["Topics"]]
    assert created <= set(paginated)
    with pytest.raises(ClientError) as caught:
        sns.list_topics(NextToken="!!not-a-token!!")
    assert code_of(caught) == ("InvalidParameter", 400)


def test_delete_topic_removes_its_subscriptions(sns, sqs, topic, unique_name):
    _, queue_arn = make_queue(sqs, unique_name)
    subscription = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
    sns.delete_topic(TopicArn=topic)
    with pytest.raises(ClientError) as caught:
        sns.get_topic_attributes(TopicArn=topic)
    assert code_of(caught) == ("NotFound", 404)
    assert isinstance(caught.value, sns.exceptions.NotFoundException)
    with pytest.raises(ClientError) as caught:
        sns.get_subscription_attributes(SubscriptionArn=subscription)
    assert code_of(caught) == ("NotFound", 404)
    assert topic not in [t["TopicArn"] for p in sns.get_paginator("list_topics").paginate() for t in p["Topics"]]
    sns.delete_topic(TopicArn=topic)  # again: not an error
    with pytest.raises(ClientError) as caught:
        sns.delete_topic(TopicArn="not-an-arn")
    assert code_of(caught) == ("InvalidParameter", 400)


def test_tags(sns, unique_name):
    arn = sns.create_topic(Name=unique_name, Tags=[{"Key": "team", "Value": "platform"}])["TopicArn"]
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "core"}])
    tags = {t["Key"]: t["Value"] for t in sns.list_tags_for_resource(ResourceArn=arn)["Tags"]}
    assert tags == {"team": "core", "env": "dev"}
    sns.untag_resource(ResourceArn=arn, TagKeys=["team", "absent"])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "dev"}]
    with pytest.raises(ClientError) as caught:
        sns.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    assert code_of(caught) == ("TagLimitExceeded", 400)
    with pytest.raises(ClientError) as caught:
        sns.create_topic(Name=unique_name, Tags=[{"Key": "env", "Value": "prod"}])
    assert code_of(caught) == ("InvalidParameter", 400)
    with pytest.raises(ClientError) as caught:
        sns.list_tags_for_resource(ResourceArn=arn + "-missing")
    assert code_of(caught) == ("ResourceNotFound", 404)


# --- subscriptions ----------------------------------------------------------------------------------------


def test_subscriptions_lifecycle(sns, sqs, topic, unique_name):
    _, queue_arn = make_queue(sqs, unique_name)
    lambda_arn = function_arn("some-function")
    to_queue = sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
    )["SubscriptionArn"]
    assert to_queue.startswith(topic + ":")
    # Subscribing again with the same attributes is the same subscription; different ones are refused.
    assert (
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})[
            "SubscriptionArn"
        ]
        == to_queue
    )
    with pytest.raises(ClientError) as caught:
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "false"})
    assert code_of(caught) == ("InvalidParameter", 400)
    to_function = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=lambda_arn)["SubscriptionArn"]

    attributes = sns.get_subscription_attributes(SubscriptionArn=to_queue)["Attributes"]
    assert attributes["Protocol"] == "sqs" and attributes["Endpoint"] == queue_arn
    assert attributes["TopicArn"] == topic and attributes["Owner"] == ACCOUNT
    assert attributes["PendingConfirmation"] == "false" and attributes["RawMessageDelivery"] == "true"
    assert attributes["SubscriptionArn"] == to_queue

    listed = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert {(s["SubscriptionArn"], s["Protocol"], s["Endpoint"], s["TopicArn"], s["Owner"]) for s in listed} == {
        (to_queue, "sqs", queue_arn, topic, ACCOUNT),
        (to_function, "lambda", lambda_arn, topic, ACCOUNT),
    }
    everywhere = [
        s["SubscriptionArn"] for p in sns.get_paginator("list_subscriptions").paginate() for s in p["Subscriptions"]
    ]
    assert {to_queue, to_function} <= set(everywhere)
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["SubscriptionsConfirmed"] == "2"

    policy = {"store": ["example_corp"], "price": [{"numeric": [">", 10]}]}
    sns.set_subscription_attributes(
        SubscriptionArn=to_queue, AttributeName="FilterPolicy", AttributeValue=json.dumps(policy)
    )
    attributes = sns.get_subscription_attributes(SubscriptionArn=to_queue)["Attributes"]
    assert json.loads(attributes["FilterPolicy"]) == policy and attributes["FilterPolicyScope"] == "MessageAttributes"
    sns.set_subscription_attributes(SubscriptionArn=to_queue, AttributeName="FilterPolicy", AttributeValue="")
    assert "FilterPolicy" not in sns.get_subscription_attributes(SubscriptionArn=to_queue)["Attributes"]

    sns.unsubscribe(SubscriptionArn=to_queue)
    sns.unsubscribe(SubscriptionArn=to_queue)  # twice: not an error
    with pytest.raises(ClientError) as caught:
        sns.get_subscription_attributes(SubscriptionArn=to_queue)
    assert code_of(caught) == ("NotFound", 404)
    assert [s["SubscriptionArn"] for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]] == [
        to_function
    ]


def test_subscription_errors(sns, topic):
    queue_arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:q"
    cases = [
        dict(Protocol="smoke-signal", Endpoint="x"),
        dict(Protocol="email", Endpoint="someone@example.com"),  # AWS's, not delivered by Lamina
        dict(Protocol="sqs", Endpoint="not-an-arn"),
        dict(Protocol="lambda", Endpoint=queue_arn),
        dict(Protocol="http", Endpoint="https://example.com/"),
        dict(Protocol="lambda", Endpoint=function_arn("f"), Attributes={"RawMessageDelivery": "true"}),
        dict(Protocol="sqs", Endpoint=queue_arn, Attributes={"FilterPolicy": "{not json"}),
        dict(Protocol="sqs", Endpoint=queue_arn, Attributes={"FilterPolicy": '{"a": [{"nonsense": 1}]}'}),
        dict(Protocol="sqs", Endpoint=queue_arn, Attributes={"FilterPolicy": '{"a": {"b": ["c"]}}'}),  # nested
        dict(Protocol="sqs", Endpoint=queue_arn, Attributes={"FilterPolicyScope": "Elsewhere"}),
        dict(Protocol="sqs", Endpoint=queue_arn, Attributes={"RedrivePolicy": '{"deadLetterTargetArn": "x"}'}),
        dict(Protocol="sqs", Endpoint=queue_arn, Attributes={"NoSuchAttribute": "1"}),
        dict(Protocol="sqs", Endpoint=queue_arn, Attributes={"DeliveryPolicy": "{}"}),  # HTTP/S only
    ]
    for case in cases:
        with pytest.raises(ClientError) as caught:
            sns.subscribe(TopicArn=topic, **case)
        assert code_of(caught) == ("InvalidParameter", 400), case
    with pytest.raises(ClientError) as caught:
        sns.subscribe(TopicArn=topic + "-missing", Protocol="sqs", Endpoint=queue_arn)
    assert code_of(caught) == ("NotFound", 404)
    with pytest.raises(ClientError) as caught:
        sns.list_subscriptions_by_topic(TopicArn=topic + "-missing")
    assert code_of(caught) == ("NotFound", 404)
    with pytest.raises(ClientError) as caught:
        sns.get_subscription_attributes(SubscriptionArn="nonsense")
    assert code_of(caught) == ("InvalidParameter", 400)
    with pytest.raises(ClientError) as caught:
        sns.confirm_subscription(TopicArn=topic, Token="no-such-token")
    assert code_of(caught) == ("InvalidParameter", 400)
    # A nested policy is fine once the scope is the message body.
    arn = sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"FilterPolicyScope": "MessageBody", "FilterPolicy": '{"a": {"b": ["c"]}}'},
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    with pytest.raises(ClientError) as caught:  # ...and cannot move back to attributes
        sns.set_subscription_attributes(
            SubscriptionArn=arn, AttributeName="FilterPolicyScope", AttributeValue="MessageAttributes"
        )
    assert code_of(caught) == ("InvalidParameter", 400)


def test_fifo_topics_take_fifo_queues_only(sns, unique_name):
    arn = sns.create_topic(Name=f"{unique_name}.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    for protocol, endpoint in [("sqs", f"arn:aws:sqs:us-east-1:{ACCOUNT}:standard"), ("lambda", function_arn("f"))]:
        with pytest.raises(ClientError) as caught:
            sns.subscribe(TopicArn=arn, Protocol=protocol, Endpoint=endpoint)
        assert code_of(caught) == ("InvalidParameter", 400)


def test_fifo_topic_to_fifo_queue_keeps_groups_and_order(sns, sqs, unique_name):
    topic = sns.create_topic(Name=f"{unique_name}.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    url, queue_arn = make_queue(sqs, f"{unique_name}.fifo", FifoQueue="true")
    allow_service(sqs, queue_arn, SNS, topic)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    for n in range(6):
        sns.publish(TopicArn=topic, Message=f"m{n}", MessageGroupId=f"g{n % 2}", MessageDeduplicationId=f"d{n}")
    messages = receive(sqs, url, 6, timeout=15)
    by_group: dict[str, list[str]] = {}
    for message in messages:
        by_group.setdefault(message["Attributes"]["MessageGroupId"], []).append(message["Body"])
        assert message["Attributes"]["MessageDeduplicationId"].startswith("d")
    assert by_group == {"g0": ["m0", "m2", "m4"], "g1": ["m1", "m3", "m5"]}


# --- publishing --------------------------------------------------------------------------------------------


def test_publish_errors(sns, topic, unique_name):
    fifo = sns.create_topic(Name=f"{unique_name}.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    cases = [
        dict(TopicArn=topic, Message=""),
        dict(TopicArn=topic, Message="x" * (256 * 1024 + 1)),
        dict(TopicArn=topic, Message="x", Subject="line\nbreak"),
        dict(TopicArn=topic, Message="x", Subject="s" * 101),
        dict(TopicArn=topic, Message='{"lambda": "only"}', MessageStructure="json"),
        dict(TopicArn=topic, Message="not json", MessageStructure="json"),
        dict(TopicArn=topic, Message="x", MessageDeduplicationId="d"),
        dict(TopicArn=topic, Message="x", MessageAttributes={"a": {"DataType": "Text", "StringValue": "v"}}),
        dict(TopicArn=topic, Message="x", MessageAttributes={"a": {"DataType": "Number", "StringValue": "ten"}}),
        dict(
            TopicArn=topic,
            Message="x",
            MessageAttributes={"a": {"DataType": "String.Array", "StringValue": "not an array"}},
        ),
        dict(
            TopicArn=topic, Message="x", MessageAttributes={"AWS.reserved": {"DataType": "String", "StringValue": "v"}}
        ),
        dict(TopicArn=fifo, Message="x"),  # no MessageGroupId
        dict(TopicArn=fifo, Message="x", MessageGroupId="g"),  # no dedup id, no content-based dedup
        dict(TargetArn="arn:aws:sns:us-east-1:000000000000:endpoint/APNS/app/123"),
        dict(Message="x"),
        dict(TopicArn="garbage", Message="x"),
    ]
    for case in cases:
        case.setdefault("Message", "x")
        with pytest.raises(ClientError) as caught:
            sns.publish(**case)
        assert code_of(caught) == ("InvalidParameter", 400), {k: str(v)[:50] for k, v in case.items()}
    with pytest.raises(ClientError) as caught:
        sns.publish(TopicArn=topic + "-missing", Message="x")
    assert code_of(caught) == ("NotFound", 404)
    # Exactly 256 KiB is accepted; TargetArn works like TopicArn.
    assert sns.publish(TopicArn=topic, Message="x" * (256 * 1024))["MessageId"]
    assert sns.publish(TargetArn=topic, Message="via target")["MessageId"]


def test_publish_batch(sns, sqs, topic, unique_name):
    url, queue_arn = make_queue(sqs, unique_name)
    allow_service(sqs, queue_arn, SNS, topic)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    entries = [{"Id": f"ok{i}", "Message": f"message {i}"} for i in range(3)] + [{"Id": "bad", "Message": ""}]
    result = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)
    assert sorted(s["Id"] for s in result["Successful"]) == ["ok0", "ok1", "ok2"]
    assert all(s["MessageId"] for s in result["Successful"])
    assert result["Failed"] == [
        {"Id": "bad", "Code": "InvalidParameter", "Message": "Invalid parameter: Empty message", "SenderFault": True}
    ]
    assert sorted(m["Body"] for m in receive(sqs, url, 3)) == ["message 0", "message 1", "message 2"]

    for entries, code in [
        ([], "EmptyBatchRequest"),
        ([{"Id": f"e{i}", "Message": "m"} for i in range(11)], "TooManyEntriesInBatchRequest"),
        ([{"Id": "same", "Message": "a"}, {"Id": "same", "Message": "b"}], "BatchEntryIdsNotDistinct"),
        ([{"Id": "no spaces", "Message": "a"}], "InvalidBatchEntryId"),
        ([{"Id": "a", "Message": "x" * 200_000}, {"Id": "b", "Message": "y" * 100_000}], "BatchRequestTooLong"),
    ]:
        with pytest.raises(ClientError) as caught:
            sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)
        assert code_of(caught) == (code, 400)
    with pytest.raises(ClientError) as caught:
        sns.publish_batch(TopicArn=topic + "-missing", PublishBatchRequestEntries=[{"Id": "a", "Message": "m"}])
    assert code_of(caught) == ("NotFound", 404)


# --- fan-out: SQS ------------------------------------------------------------------------------------------


def test_sqs_receives_the_json_envelope(sns, sqs, topic, unique_name):
    url, queue_arn = make_queue(sqs, unique_name)
    allow_service(sqs, queue_arn, SNS, topic)
    subscription = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
    published = sns.publish(
        TopicArn=topic,
        Message="hello \u2603",
        Subject="Greeting",
        MessageAttributes={
            "store": {"DataType": "String", "StringValue": "example_corp"},
            "price": {"DataType": "Number", "StringValue": "210.75"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    message = receive(sqs, url)[0]
    envelope = json.loads(message["Body"])
    assert envelope["Type"] == "Notification"
    assert envelope["MessageId"] == published["MessageId"]
    assert envelope["TopicArn"] == topic and envelope["Subject"] == "Greeting"
    assert envelope["Message"] == "hello \u2603"
    assert STAMP.match(envelope["Timestamp"])
    assert envelope["SignatureVersion"] == "1" and envelope["Signature"]
    assert envelope["SigningCertURL"].startswith("http")
    assert subscription.replace(":", "%3A") in envelope["UnsubscribeURL"]
    assert envelope["MessageAttributes"] == {
        "store": {"Type": "String", "Value": "example_corp"},
        "price": {"Type": "Number", "Value": "210.75"},
        "blob": {"Type": "Binary", "Value": "AAE="},
    }
    assert "MessageAttributes" not in message  # only raw delivery maps them to SQS attributes
    # Powertools reads the same envelope out of an SQS record.
    from aws_lambda_powertools.utilities.parser.models import SnsNotificationModel

    assert SnsNotificationModel(**envelope).MessageId == published["MessageId"]

    sns.publish(TopicArn=topic, Message="no subject")
    assert "Subject" not in json.loads(receive(sqs, url)[0]["Body"])


def test_sqs_raw_delivery_and_per_protocol_messages(sns, sqs, topic, unique_name):
    url, queue_arn = make_queue(sqs, unique_name)
    allow_service(sqs, queue_arn, SNS, topic)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    sns.publish(
        TopicArn=topic,
        Message="raw body",
        MessageAttributes={
            "color": {"DataType": "String", "StringValue": "blue"},
            "size": {"DataType": "Number", "StringValue": "3"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\xffbytes"},
            "tags": {"DataType": "String.Array", "StringValue": '["a", 1]'},
        },
    )
    message = receive(sqs, url)[0]
    assert message["Body"] == "raw body"
    # The queue gets the attributes with their types and values, as SendMessage would.
    assert message["MessageAttributes"] == {
        "color": {"DataType": "String", "StringValue": "blue"},
        "size": {"DataType": "Number", "StringValue": "3"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\xffbytes"},
        "tags": {"DataType": "String.Array", "StringValue": '["a", 1]'},
    }

    structured = {"default": "for everyone", "sqs": "for queues", "lambda": "for functions"}
    sns.publish(TopicArn=topic, Message=json.dumps(structured), MessageStructure="json")
    assert receive(sqs, url)[0]["Body"] == "for queues"


def test_fifo_topic_to_fifo_queue_in_order_with_deduplication(sns, sqs, unique_name):
    topic = sns.create_topic(
        Name=f"{unique_name}.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"}
    )["TopicArn"]
    url, queue_arn = make_queue(sqs, f"{unique_name}.fifo", FifoQueue="true")
    allow_service(sqs, queue_arn, SNS, topic)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    sequences = []
    for i in range(5):
        result = sns.publish(TopicArn=topic, Message=f"m{i}", MessageGroupId="g")
        sequences.append(int(result["SequenceNumber"]))
    assert sequences == sorted(sequences) and len(set(sequences)) == 5
    again = sns.publish(TopicArn=topic, Message="m0", MessageGroupId="g")  # content-based duplicate
    explicit = sns.publish(TopicArn=topic, Message="m5", MessageGroupId="g", MessageDeduplicationId="d5")
    assert (
        sns.publish(TopicArn=topic, Message="other text", MessageGroupId="g", MessageDeduplicationId="d5")["MessageId"]
        == explicit["MessageId"]
    )
    assert again["MessageId"]
    bodies = [m["Body"] for m in receive(sqs, url, 6)]
    assert bodies == ["m0", "m1", "m2", "m3", "m4", "m5"]
    assert nothing_arrives(sqs, url, 1.0)
    batch = sns.publish_batch(
        TopicArn=topic,
        PublishBatchRequestEntries=[
            {"Id": "a", "Message": "b0", "MessageGroupId": "g"},
            {"Id": "b", "Message": "b1", "MessageGroupId": "g"},
            {"Id": "c", "Message": "b2"},
        ],
    )
    assert [s["Id"] for s in batch["Successful"]] == ["a", "b"] and all(
        s["SequenceNumber"] for s in batch["Successful"]
    )
    assert batch["Failed"][0]["Id"] == "c" and batch["Failed"][0]["Code"] == "InvalidParameter"
    assert [m["Body"] for m in receive(sqs, url, 2)] == ["b0", "b1"]


# --- fan-out: Lambda -----------------------------------------------------------------------------------------


def allow_sns(lamina, name: str, topic: str) -> None:
    """What AWS asks of a Lambda subscriber: its policy lets SNS invoke it for the topic."""
    lamina.client("lambda").add_permission(
        FunctionName=name,
        StatementId="sns",
        Action="lambda:InvokeFunction",
        Principal="sns.amazonaws.com",
        SourceArn=topic,
    )


def test_lambda_receives_the_sns_event(lamina, sns, topic, create_function, unique_name):
    from aws_lambda_powertools.utilities.parser.models import SnsModel

    create_function(code=PRINTER)
    allow_sns(lamina, unique_name, topic)
    subscription = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function_arn(unique_name))[
        "SubscriptionArn"
    ]
    published = sns.publish(
        TopicArn=topic,
        Message="to the function",
        Subject="Hi",
        MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "greeting"},
            "count": {"DataType": "Number", "StringValue": "2"},
        },
    )
    structured = {"default": "fallback", "lambda": "for functions"}
    sns.publish(TopicArn=topic, Message=json.dumps(structured), MessageStructure="json")
    lines = wait_for_log_lines(lamina, unique_name, "EVENT ", count=2, timeout=30)
    events = [json.loads(line.split("EVENT ", 1)[1]) for line in lines]
    first = next(e for e in events if e["Records"][0]["Sns"]["MessageId"] == published["MessageId"])
    parsed = SnsModel(**first)  # what powertools' parser accepts, AWS's own shape
    record = parsed.Records[0]
    assert record.EventSource == "aws:sns" and record.EventVersion == "1.0"
    assert record.EventSubscriptionArn == subscription
    assert record.Sns.TopicArn == topic and record.Sns.Subject == "Hi" and record.Sns.Message == "to the function"
    assert record.Sns.Type == "Notification" and record.Sns.SignatureVersion == "1"
    assert {k: (v.Type, v.Value) for k, v in record.Sns.MessageAttributes.items()} == {
        "kind": ("String", "greeting"),
        "count": ("Number", "2"),
    }
    raw = first["Records"][0]["Sns"]
    assert STAMP.match(raw["Timestamp"]) and "SigningCertUrl" in raw and "UnsubscribeUrl" in raw
    second = next(e for e in events if e is not first)
    SnsModel(**second)
    assert second["Records"][0]["Sns"]["Message"] == "for functions"
    assert second["Records"][0]["Sns"]["Subject"] is None


# --- fan-out: HTTP -------------------------------------------------------------------------------------------


def test_http_confirmation_with_the_token_then_notifications(sns, topic, endpoint):
    answer = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint.url)
    assert answer["SubscriptionArn"] == "pending confirmation"
    confirmation = confirmation_of(endpoint)
    headers = endpoint.messages("SubscriptionConfirmation")[0][0]
    assert headers["x-amz-sns-topic-arn"] == topic and headers["x-amz-sns-message-id"] == confirmation["MessageId"]
    assert confirmation["Type"] == "SubscriptionConfirmation" and confirmation["TopicArn"] == topic
    assert confirmation["Token"] and confirmation["Token"] in confirmation["SubscribeURL"]
    assert STAMP.match(confirmation["Timestamp"])
    listed = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in listed] == ["PendingConfirmation"]
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["SubscriptionsPending"] == "1"
    # Subscribing again while pending sends the confirmation again (same token).
    assert (
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint.url)["SubscriptionArn"]
        == "pending confirmation"
    )
    assert endpoint.messages("SubscriptionConfirmation", 2)[1][1]["Token"] == confirmation["Token"]

    sns.publish(TopicArn=topic, Message="before confirmation")  # not delivered: still pending
    arn = sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])["SubscriptionArn"]
    assert arn.startswith(topic + ":")
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attributes["PendingConfirmation"] == "false"
    assert json.loads(attributes["EffectiveDeliveryPolicy"])["healthyRetryPolicy"]["numRetries"] == 3
    assert sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])["SubscriptionArn"] == arn

    published = sns.publish(
        TopicArn=topic,
        Message="after confirmation",
        Subject="S",
        MessageAttributes={"a": {"DataType": "String", "StringValue": "b"}},
    )
    headers, body = endpoint.messages("Notification")[0]
    assert headers["x-amz-sns-message-id"] == published["MessageId"]
    assert headers["x-amz-sns-topic-arn"] == topic and headers["x-amz-sns-subscription-arn"] == arn
    assert headers["content-type"].startswith("text/plain")
    assert body["Message"] == "after confirmation" and body["Subject"] == "S"
    assert body["MessageAttributes"] == {"a": {"Type": "String", "Value": "b"}}
    time.sleep(0.3)
    assert len(endpoint.messages("Notification")) == 1  # the message published while pending never came


def test_http_confirmation_by_subscribe_url_raw_delivery_and_unsubscribe_url(sns, topic, endpoint):
    arn = sns.subscribe(
        TopicArn=topic,
        Protocol="http",
        Endpoint=endpoint.url,
        Attributes={"RawMessageDelivery": "true"},
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    assert sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]["PendingConfirmation"] == "true"
    confirmation = confirmation_of(endpoint)
    with urllib.request.urlopen(confirmation["SubscribeURL"], timeout=10) as response:  # unsigned, as on AWS
        assert response.status == 200
        assert arn.encode() in response.read()
    assert sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]["PendingConfirmation"] == "false"

    sns.publish(TopicArn=topic, Message="raw over http")
    headers, body = endpoint.messages("Notification")[0]
    assert body == "raw over http" and headers["x-amz-sns-rawdelivery"] == "true"

    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="RawMessageDelivery", AttributeValue="false")
    sns.publish(TopicArn=topic, Message="enveloped")
    envelope = endpoint.messages("Notification", 2)[1][1]
    assert envelope["Message"] == "enveloped"
    with urllib.request.urlopen(envelope["UnsubscribeURL"], timeout=10) as response:
        assert response.status == 200
    with pytest.raises(ClientError) as caught:
        sns.get_subscription_attributes(SubscriptionArn=arn)
    assert code_of(caught) == ("NotFound", 404)
    endpoint.messages("UnsubscribeConfirmation")


def test_http_retries_follow_the_delivery_policy(sns, topic):
    endpoint = Endpoint(statuses=[200, 500, 503])  # confirmation, then two failures, then success
    try:
        arn = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint.url, ReturnSubscriptionArn=True)[
            "SubscriptionArn"
        ]
        sns.confirm_subscription(TopicArn=topic, Token=confirmation_of(endpoint)["Token"])
        policy = {
            "healthyRetryPolicy": {"numRetries": 3, "minDelayTarget": 1, "maxDelayTarget": 1},
            "requestPolicy": {"headerContentType": "application/json"},
        }
        sns.set_subscription_attributes(
            SubscriptionArn=arn, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(policy)
        )
        started = time.monotonic()
        published = sns.publish(TopicArn=topic, Message="eventually")
        attempts = endpoint.messages("Notification", 3, timeout=15)
        assert time.monotonic() - started >= 1.5  # two waits of a second
        assert {h["x-amz-sns-message-id"] for h, _ in attempts} == {published["MessageId"]}
        assert attempts[-1][0]["content-type"] == "application/json"
        time.sleep(1.5)
        assert len(endpoint.messages("Notification")) == 3  # delivered: no more attempts
        with pytest.raises(ClientError) as caught:
            sns.set_subscription_attributes(
                SubscriptionArn=arn,
                AttributeName="DeliveryPolicy",
                AttributeValue='{"healthyRetryPolicy": {"numRetries": 500}}',
            )
        assert code_of(caught) == ("InvalidParameter", 400)
    finally:
        endpoint.close()


def test_http_client_errors_are_not_retried(sns, topic):
    endpoint = Endpoint(statuses=[200, 404])
    try:
        arn = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint.url, ReturnSubscriptionArn=True)[
            "SubscriptionArn"
        ]
        sns.confirm_subscription(TopicArn=topic, Token=confirmation_of(endpoint)["Token"])
        sns.set_subscription_attributes(
            SubscriptionArn=arn,
            AttributeName="DeliveryPolicy",
            AttributeValue=json.dumps(
                {"healthyRetryPolicy": {"numRetries": 2, "minDelayTarget": 1, "maxDelayTarget": 1}}
            ),
        )
        sns.publish(TopicArn=topic, Message="refused")
        endpoint.messages("Notification")
        time.sleep(2.5)
        assert len(endpoint.messages("Notification")) == 1
    finally:
        endpoint.close()


# --- filter policies --------------------------------------------------------------------------------------------


def _filtered_queue(sns, sqs, topic: str, name: str, policy: dict, scope: str = "MessageAttributes") -> str:
    url, queue_arn = make_queue(sqs, name)
    allow_service(sqs, queue_arn, SNS, topic)
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true", "FilterPolicy": json.dumps(policy), "FilterPolicyScope": scope},
    )
    return url


def _string(value: str) -> dict:
    return {"DataType": "String", "StringValue": value}


def _number(value) -> dict:
    return {"DataType": "Number", "StringValue": str(value)}


def test_filter_policies_on_message_attributes(sns, sqs, topic, unique_name):
    queues = {
        "prefix": _filtered_queue(sns, sqs, topic, f"{unique_name}-prefix", {"customer": [{"prefix": "acme-"}]}),
        "anything_but": _filtered_queue(
            sns, sqs, topic, f"{unique_name}-but", {"color": [{"anything-but": ["red", "blue"]}]}
        ),
        "numeric": _filtered_queue(
            sns, sqs, topic, f"{unique_name}-num", {"price": [{"numeric": [">=", 100, "<", 200]}]}
        ),
        "exists": _filtered_queue(sns, sqs, topic, f"{unique_name}-exists", {"urgent": [{"exists": True}]}),
        "absent": _filtered_queue(sns, sqs, topic, f"{unique_name}-absent", {"urgent": [{"exists": False}]}),
        "or": _filtered_queue(
            sns, sqs, topic, f"{unique_name}-or", {"$or": [{"kind": ["order"]}, {"price": [{"numeric": [">", 1000]}]}]}
        ),
        "array": _filtered_queue(sns, sqs, topic, f"{unique_name}-array", {"sizes": ["XL"]}),
    }
    publications = [
        ("m1", {"customer": _string("acme-co"), "color": _string("green"), "price": _number(150)}),
        (
            "m2",
            {
                "customer": _string("other"),
                "color": _string("red"),
                "price": _number(99.5),
                "urgent": _string("yes"),
                "kind": _string("order"),
            },
        ),
        ("m3", {"price": _number(5000), "sizes": {"DataType": "String.Array", "StringValue": '["S", "XL"]'}}),
        ("m4", {}),
    ]
    for body, attributes in publications:
        sns.publish(TopicArn=topic, Message=body, MessageAttributes=attributes)
    expected = {
        "prefix": {"m1"},
        "anything_but": {"m1"},
        "numeric": {"m1"},
        "exists": {"m2"},
        "absent": {"m1", "m3", "m4"},
        "or": {"m2", "m3"},
        "array": {"m3"},
    }
    for name, url in queues.items():
        got = {m["Body"] for m in receive(sqs, url, len(expected[name]))}
        assert got == expected[name], name
    for name, url in queues.items():
        assert nothing_arrives(sqs, url, 0.2 if name != "prefix" else 1.0), name


def test_filter_policies_on_the_message_body(sns, sqs, topic, unique_name):
    url = _filtered_queue(
        sns,
        sqs,
        topic,
        f"{unique_name}-body",
        {
            "order": {"status": ["paid"], "total": [{"numeric": [">", 10]}]},
            "$or": [{"region": [{"prefix": "eu-"}]}, {"vip": [True]}],
        },
        scope="MessageBody",
    )
    matching = [
        {"order": {"status": "paid", "total": 12.5}, "region": "eu-west-1"},
        {"order": {"status": "paid", "total": 99}, "vip": True},
    ]
    failing = [
        {"order": {"status": "paid", "total": 5}, "region": "eu-west-1"},
        {"order": {"status": "open", "total": 50}, "vip": True},
        {"order": {"status": "paid", "total": 50}, "region": "us-east-1"},
    ]
    for document in failing + matching:
        sns.publish(TopicArn=topic, Message=json.dumps(document))
    sns.publish(TopicArn=topic, Message="not json at all")
    got = [json.loads(m["Body"]) for m in receive(sqs, url, 2)]
    assert sorted(got, key=json.dumps) == sorted(matching, key=json.dumps)
    assert nothing_arrives(sqs, url)


# --- dead letters, destinations, durability -------------------------------------------------------------------


def test_undeliverable_messages_go_to_the_subscription_dead_letter_queue(lamina_factory, unique_name):
    server = lamina_factory(LAMINA_SNS_RETRY_DELAYS="0.1,0.1")
    sns, sqs = server.client("sns"), server.client("sqs")
    topic = sns.create_topic(Name=unique_name)["TopicArn"]
    dlq_url, dlq_arn = make_queue(sqs, f"{unique_name}-dlq")
    allow_service(sqs, dlq_arn, SNS, topic)  # SNS sends to a subscription's dead-letter queue too
    missing = f"arn:aws:sqs:us-east-1:{ACCOUNT}:{unique_name}-never-created"
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=missing,
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn})},
    )
    published = sns.publish(TopicArn=topic, Message="lost in the mail")
    envelope = json.loads(receive(sqs, dlq_url)[0]["Body"])
    assert envelope["MessageId"] == published["MessageId"] and envelope["Message"] == "lost in the mail"


def test_a_topic_as_a_lambda_destination(lamina, sns, sqs, lambda_client, topic, create_function, unique_name):
    url, queue_arn = make_queue(sqs, unique_name)
    allow_service(sqs, queue_arn, SNS, topic)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    create_function(code={"app.py": "def handler(event, context):\n    return {'ok': event['n']}\n"})
    lambda_client.put_function_event_invoke_config(
        FunctionName=unique_name, DestinationConfig={"OnSuccess": {"Destination": topic}}
    )
    lambda_client.invoke(FunctionName=unique_name, InvocationType="Event", Payload=b'{"n": 7}')
    record = json.loads(receive(sqs, url, timeout=30)[0]["Body"])
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestPayload"] == {"n": 7} and record["responsePayload"] == {"ok": 7}


def test_topics_and_subscriptions_survive_a_restart(lamina_factory, unique_name):
    server = lamina_factory()
    sns, sqs = server.client("sns"), server.client("sqs")
    topic = sns.create_topic(
        Name=unique_name, Attributes={"DisplayName": "Durable"}, Tags=[{"Key": "k", "Value": "v"}]
    )["TopicArn"]
    url, queue_arn = make_queue(sqs, unique_name)
    allow_service(sqs, queue_arn, SNS, topic)
    subscription = sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true", "FilterPolicy": '{"keep": ["yes"]}'},
    )["SubscriptionArn"]
    server.restart(kill=True)
    sns, sqs = server.client("sns"), server.client("sqs")
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["DisplayName"] == "Durable"
    assert sns.list_tags_for_resource(ResourceArn=topic)["Tags"] == [{"Key": "k", "Value": "v"}]
    attributes = sns.get_subscription_attributes(SubscriptionArn=subscription)["Attributes"]
    assert attributes["RawMessageDelivery"] == "true" and json.loads(attributes["FilterPolicy"]) == {"keep": ["yes"]}
    sns.publish(TopicArn=topic, Message="dropped", MessageAttributes={"keep": _string("no")})
    sns.publish(TopicArn=topic, Message="kept", MessageAttributes={"keep": _string("yes")})
    assert [m["Body"] for m in receive(sqs, url)] == ["kept"]
    assert nothing_arrives(sqs, url, 1.0)


def test_a_fifo_topic_deduplicates_across_a_restart(lamina_factory, unique_name):
    server = lamina_factory()
    sns, sqs = server.client("sns"), server.client("sqs")
    topic = sns.create_topic(Name=f"{unique_name}.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    url, queue_arn = make_queue(sqs, f"{unique_name}.fifo", FifoQueue="true")
    allow_service(sqs, queue_arn, SNS, topic)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    first = sns.publish(TopicArn=topic, Message="once", MessageGroupId="g", MessageDeduplicationId="d1")
    assert [m["Body"] for m in receive(sqs, url)] == ["once"]
    server.restart(kill=True)
    sns, sqs = server.client("sns"), server.client("sqs")
    again = sns.publish(TopicArn=topic, Message="once, retried", MessageGroupId="g", MessageDeduplicationId="d1")
    assert (again["MessageId"], again["SequenceNumber"]) == (first["MessageId"], first["SequenceNumber"])
    sns.publish(TopicArn=topic, Message="twice", MessageGroupId="g", MessageDeduplicationId="d2")
    assert [m["Body"] for m in receive(sqs, url)] == ["twice"]
    assert nothing_arrives(sqs, url, 1.0)


def test_the_outbox_delivers_after_a_crash(lamina_factory, unique_name):
    """Published messages are committed before Publish answers: a kill -9 right after does not lose them."""
    server = lamina_factory(LAMINA_SNS_RETRY_DELAYS="0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5")
    sns, sqs = server.client("sns"), server.client("sqs")
    topic = sns.create_topic(Name=unique_name)["TopicArn"]
    late = f"arn:aws:sqs:us-east-1:{ACCOUNT}:{unique_name}-late"
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=late, Attributes={"RawMessageDelivery": "true"})
    sns.publish(TopicArn=topic, Message="survives")  # its queue does not exist yet: delivery keeps retrying
    server.restart(kill=True)
    sqs = server.client("sqs")
    late_url, _ = make_queue(sqs, f"{unique_name}-late", Policy=queue_policy_for(SNS, late, topic))
    assert [m["Body"] for m in receive(sqs, late_url, timeout=15)] == ["survives"]


def test_topics_and_subscriptions_belong_to_their_region(lamina, sqs, unique_name):
    west, north = lamina.client("sns", region_name="us-west-2"), lamina.client("sns", region_name="eu-north-1")
    arn = west.create_topic(Name=unique_name)["TopicArn"]
    assert arn.split(":")[3] == "us-west-2"
    for call in (
        lambda: north.get_topic_attributes(TopicArn=arn),
        lambda: north.publish(TopicArn=arn, Message="x"),
        lambda: north.subscribe(
            TopicArn=arn, Protocol="sqs", Endpoint=f"arn:aws:sqs:eu-north-1:000000000000:{unique_name}"
        ),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        assert caught.value.response["Error"]["Code"] == "NotFound"
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert arn not in [t["TopicArn"] for t in north.list_topics()["Topics"]]
    # The same name in another region is another topic.
    other = north.create_topic(Name=unique_name)["TopicArn"]
    assert other != arn and other.split(":")[3] == "eu-north-1"
    west_sqs = lamina.client("sqs", region_name="us-west-2")
    _, queue_arn = make_queue(west_sqs, unique_name)
    subscription = west.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, ReturnSubscriptionArn=True)
    with pytest.raises(ClientError) as caught:
        north.get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])
    assert caught.value.response["Error"]["Code"] == "NotFound"
    attributes = west.get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])["Attributes"]
    # Subscribed by a signed call for an AWS endpoint: confirmed, and authenticated.
    assert attributes["ConfirmationWasAuthenticated"] == "true"
    assert attributes["SubscriptionPrincipal"] == "arn:aws:iam::000000000000:root"
