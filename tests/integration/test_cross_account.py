"""Resource policies decide across accounts, as on AWS: another account's queue, topic,
stream or event bus is refused until its owner's policy grants the caller (SQS and SNS
AddPermission, Kinesis PutResourcePolicy, EventBridge PutPermission), and only for what it
grants. Within an account, a resource policy can grant an IAM user what its identity
policies do not, and its explicit Deny wins over their Allow."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

OWNER, OTHER = "000000000000", "111111111111"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tests.conftest import LaminaServer

    server = LaminaServer(
        str(tmp_path_factory.mktemp("cross")), env={"LAMINA_CREDENTIALS": f"alice:alice-secret:{OTHER}"}
    ).start()
    yield server
    server.stop()


def _client(server, service, key="test", secret="test"):
    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
    )


def _owner(server, service):
    return _client(server, service)


def _alice(server, service):
    return _client(server, service, "alice", "alice-secret")


def _refused(call) -> dict:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response


def test_another_accounts_queue_needs_its_policy(server):
    owner, alice = _owner(server, "sqs"), _alice(server, "sqs")
    url = owner.create_queue(QueueName="shared-queue")["QueueUrl"]
    refused = _refused(lambda: alice.send_message(QueueUrl=url, MessageBody="hi"))
    assert refused["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert refused["Error"]["Code"] == "AccessDenied"
    assert f"arn:aws:iam::{OTHER}:root is not authorized to perform: sqs:SendMessage" in refused["Error"]["Message"]

    owner.add_permission(QueueUrl=url, Label="alice-sends", AWSAccountIds=[OTHER], Actions=["SendMessage"])
    policy = json.loads(owner.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    assert policy["Statement"] == [
        {
            "Sid": "alice-sends",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
            "Action": "SQS:SendMessage",
            "Resource": f"arn:aws:sqs:us-east-1:{OWNER}:shared-queue",
        }
    ]
    alice.send_message(QueueUrl=url, MessageBody="hi")
    # The grant is to send, not to receive.
    assert _refused(lambda: alice.receive_message(QueueUrl=url))["Error"]["Code"] == "AccessDenied"
    assert owner.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"][0]["Body"] == "hi"

    again = _refused(
        lambda: owner.add_permission(QueueUrl=url, Label="alice-sends", AWSAccountIds=[OTHER], Actions=["SendMessage"])
    )
    assert again["Error"]["Code"] == "InvalidParameterValue"
    owner.remove_permission(QueueUrl=url, Label="alice-sends")
    assert "Policy" not in owner.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert _refused(lambda: alice.send_message(QueueUrl=url, MessageBody="hi"))["Error"]["Code"] == "AccessDenied"
    gone = _refused(lambda: owner.remove_permission(QueueUrl=url, Label="alice-sends"))
    assert gone["Error"]["Code"] == "InvalidParameterValue"


def test_a_malformed_queue_policy_is_refused(server):
    owner = _owner(server, "sqs")
    url = owner.create_queue(QueueName="policed")["QueueUrl"]
    refused = _refused(
        lambda: owner.set_queue_attributes(QueueUrl=url, Attributes={"Policy": '{"Statement": [{"Effect": "Maybe"}]}'})
    )
    assert refused["Error"]["Code"] == "InvalidAttributeValue"
    assert refused["Error"]["Message"] == "Invalid value for the parameter Policy."


def test_another_accounts_topic_needs_its_policy(server):
    owner, alice = _owner(server, "sns"), _alice(server, "sns")
    arn = owner.create_topic(Name="shared-topic")["TopicArn"]
    refused = _refused(lambda: alice.publish(TopicArn=arn, Message="hi"))
    assert refused["Error"]["Code"] == "AuthorizationError"
    assert refused["ResponseMetadata"]["HTTPStatusCode"] == 403
    owner.add_permission(TopicArn=arn, Label="alice", AWSAccountId=[OTHER], ActionName=["Publish"])
    assert alice.publish(TopicArn=arn, Message="hi")["MessageId"]
    assert _refused(lambda: alice.delete_topic(TopicArn=arn))["Error"]["Code"] == "AuthorizationError"
    owner.remove_permission(TopicArn=arn, Label="alice")
    assert _refused(lambda: alice.publish(TopicArn=arn, Message="hi"))["Error"]["Code"] == "AuthorizationError"


def test_another_accounts_stream_needs_its_resource_policy(server):
    owner, alice = _owner(server, "kinesis"), _alice(server, "kinesis")
    owner.create_stream(StreamName="shared-stream", ShardCount=1)
    arn = f"arn:aws:kinesis:us-east-1:{OWNER}:stream/shared-stream"
    refused = _refused(lambda: alice.put_record(StreamARN=arn, Data=b"x", PartitionKey="k"))
    assert refused["Error"]["Code"] == "AccessDeniedException"
    owner.put_resource_policy(
        ResourceARN=arn,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
                        "Action": "kinesis:PutRecord",
                        "Resource": arn,
                    }
                ],
            }
        ),
    )
    assert alice.put_record(StreamARN=arn, Data=b"x", PartitionKey="k")["SequenceNumber"]
    assert _refused(lambda: alice.delete_stream(StreamARN=arn))["Error"]["Code"] == "AccessDeniedException"


def test_another_accounts_event_bus_needs_its_permission(server):
    owner, alice = _owner(server, "events"), _alice(server, "events")
    owner.create_event_bus(Name="shared-bus")
    bus = f"arn:aws:events:us-east-1:{OWNER}:event-bus/shared-bus"
    entry = {"Source": "alice.app", "DetailType": "t", "Detail": "{}", "EventBusName": bus}
    refused = _refused(lambda: alice.put_events(Entries=[entry]))
    assert refused["Error"]["Code"] == "AccessDeniedException"
    owner.put_permission(EventBusName="shared-bus", Action="events:PutEvents", Principal=OTHER, StatementId="alice")
    assert alice.put_events(Entries=[entry])["FailedEntryCount"] == 0
    owner.remove_permission(EventBusName="shared-bus", StatementId="alice")
    assert _refused(lambda: alice.put_events(Entries=[entry]))["Error"]["Code"] == "AccessDeniedException"


def test_within_an_account_a_queue_policy_grants_and_its_deny_wins(server):
    iam, sqs = _owner(server, "iam"), _owner(server, "sqs")
    iam.create_user(UserName="carol")
    iam.put_user_policy(
        UserName="carol",
        PolicyName="receive",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}
        ),
    )
    key = iam.create_access_key(UserName="carol")["AccessKey"]
    carol = _client(server, "sqs", key["AccessKeyId"], key["SecretAccessKey"])
    granted = sqs.create_queue(QueueName="granted")["QueueUrl"]
    denied = sqs.create_queue(QueueName="denied")["QueueUrl"]
    dave_arn = iam.create_user(UserName="dave")["User"]["Arn"]
    dave_key = iam.create_access_key(UserName="dave")["AccessKey"]
    dave = _client(server, "sqs", dave_key["AccessKeyId"], dave_key["SecretAccessKey"])

    def policy(effect: str, principal: str, queue: str) -> str:
        return json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": effect,
                        "Principal": {"AWS": principal},
                        "Action": "sqs:SendMessage",
                        "Resource": f"arn:aws:sqs:us-east-1:{OWNER}:{queue}",
                    }
                ],
            }
        )

    # dave has no identity policy: the queue's policy naming him is enough in his account.
    assert _refused(lambda: dave.send_message(QueueUrl=granted, MessageBody="x"))["Error"]["Code"] == "AccessDenied"
    sqs.set_queue_attributes(QueueUrl=granted, Attributes={"Policy": policy("Allow", dave_arn, "granted")})
    dave.send_message(QueueUrl=granted, MessageBody="x")
    # carol's identity policy allows everything; the queue's explicit Deny still wins.
    carol.send_message(QueueUrl=denied, MessageBody="x")
    sqs.set_queue_attributes(QueueUrl=denied, Attributes={"Policy": policy("Deny", "*", "denied")})
    refused = _refused(lambda: carol.send_message(QueueUrl=denied, MessageBody="x"))
    assert refused["Error"]["Code"] == "AccessDenied"
    assert "with an explicit deny in a resource-based policy" in refused["Error"]["Message"]
