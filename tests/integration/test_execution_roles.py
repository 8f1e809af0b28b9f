"""Execution roles as Lambda has them: a function's role must exist and trust Lambda, and each
instance signs its own calls with temporary credentials of a session of that role (named
after the function), so what the function may do is what its role allows."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from tests.conftest import LAMBDA_TRUST, make_zip

from .test_lambda_helpers import log_messages, wait_until

ACCOUNT = "000000000000"

WHO_AM_I = """
import os, boto3

def handler(event, context):
    identity = boto3.client("sts").get_caller_identity()
    outcome = {}
    try:
        boto3.client("sqs").send_message(QueueUrl=event["queue"], MessageBody="from the function")
        outcome["sqs"] = "sent"
    except Exception as error:
        outcome["sqs"] = type(error).__name__
    try:
        boto3.client("lambda").list_functions()
        outcome["lambda"] = "listed"
    except Exception as error:
        outcome["lambda"] = error.response["Error"]["Code"] if hasattr(error, "response") else repr(error)
    return {
        "arn": identity["Arn"],
        "user_id": identity["UserId"],
        "token": bool(os.environ.get("AWS_SESSION_TOKEN")),
        "key": os.environ["AWS_ACCESS_KEY_ID"][:4],
        **outcome,
    }
"""


def _create(lambda_client, name, role, code="def handler(e, c):\n    return 1\n"):
    return lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": code})},
        # Three boto3 clients' first calls: at 128 MB's share of a CPU that can take seconds
        # on a busy machine, as it can on AWS.
        MemorySize=1024,
        Timeout=30,
    )


def test_a_role_that_is_missing_or_does_not_trust_lambda_is_refused(lamina, lambda_client, unique_name):
    iam = lamina.client("iam")
    for role in (f"arn:aws:iam::{ACCOUNT}:role/nobody-{uuid.uuid4().hex[:6]}", None):
        if role is None:
            untrusting = json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
                    ],
                }
            )
            role = iam.create_role(RoleName=f"ec2-only-{uuid.uuid4().hex[:6]}", AssumeRolePolicyDocument=untrusting)[
                "Role"
            ]["Arn"]
        with pytest.raises(ClientError) as caught:
            _create(lambda_client, unique_name, role)
        error = caught.value.response["Error"]
        assert error["Code"] == "InvalidParameterValueException"
        assert error["Message"] == "The role defined for the function cannot be assumed by Lambda."


def test_a_function_calls_aws_as_a_session_of_its_role(lamina, lambda_client, unique_name, sqs):
    iam = lamina.client("iam")
    role_name = f"sender-{uuid.uuid4().hex[:6]}"
    role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]
    queue = sqs.create_queue(QueueName=f"{unique_name}-q")["QueueUrl"]
    iam.put_role_policy(
        RoleName=role_name,
        PolicyName="send",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]}
        ),
    )
    _create(lambda_client, unique_name, role["Arn"], WHO_AM_I)
    response = lambda_client.invoke(FunctionName=unique_name, Payload=json.dumps({"queue": queue}).encode())
    seen = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, seen
    assert seen["arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/{unique_name}"
    assert seen["user_id"] == f"{role['RoleId']}:{unique_name}"
    assert seen["token"] and seen["key"] == "ASIA"
    assert seen["sqs"] == "sent" and seen["lambda"] == "AccessDeniedException"
    got = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=5)["Messages"]
    assert got[0]["Body"] == "from the function"


def test_lambda_sends_to_destinations_as_the_functions_role(lamina, lambda_client, unique_name, sqs):
    iam = lamina.client("iam")
    role_name = f"dest-{uuid.uuid4().hex[:6]}"
    role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]
    queue = sqs.create_queue(QueueName=f"{unique_name}-failures")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    _create(lambda_client, unique_name, role["Arn"], "def handler(e, c):\n    raise RuntimeError(e['n'])\n")
    lambda_client.put_function_event_invoke_config(
        FunctionName=unique_name,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    # The role may not send to the queue: the record is not delivered.
    lambda_client.invoke(FunctionName=unique_name, InvocationType="Event", Payload=b'{"n": "first"}')
    # Its log lines are committed with the event's end, after its destination was tried.
    wait_until(
        lambda: any("first" in line for line in log_messages(lamina, f"/aws/lambda/{unique_name}")),
        timeout=30,
        what="the first event to fail",
    )
    # Once it may, the next failure's record arrives (and the first one never does).
    iam.put_role_policy(
        RoleName=role_name,
        PolicyName="send",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": queue_arn}],
            }
        ),
    )
    lambda_client.invoke(FunctionName=unique_name, InvocationType="Event", Payload=b'{"n": "second"}')
    deadline = time.monotonic() + 30
    bodies: list[dict] = []
    while time.monotonic() < deadline and not bodies:
        got = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=2, MaxNumberOfMessages=10).get("Messages", [])
        bodies.extend(json.loads(message["Body"]) for message in got)
    assert [body["requestPayload"]["n"] for body in bodies] == ["second"]
    assert not sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages")
