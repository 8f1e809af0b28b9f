"""Lambda's code and layers from S3 (Code.S3Bucket/S3Key/S3ObjectVersion, UpdateFunctionCode's,
PublishLayerVersion's Content), read as the caller with AWS's refusals word for word; and the
SQS/SNS extended-client pattern (a payload too large for a message stored in S3, a pointer
message in its place) end to end with plain boto3 calls, a function reading the payload."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import ROLE, make_zip, remove_bucket

from .test_lambda_helpers import invoke, wait_for_log_lines
from .test_sns import make_queue, receive

_names = itertools.count(1)
POINTER = "software.amazon.payloadoffloading.PayloadS3Pointer"


@pytest.fixture(scope="module")
def s3(lamina):
    return lamina.client("s3", s3={"addressing_style": "path"})


@pytest.fixture
def bucket(s3):
    name = f"code-{next(_names)}-lamina"
    s3.create_bucket(Bucket=name)
    yield name
    remove_bucket(s3, name)


def returning(value: str) -> bytes:
    return make_zip({"app.py": f"def handler(event, context):\n    return {value!r}\n"})


def create(lambda_client, name: str, code: dict, **more) -> dict:
    return lambda_client.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler", Code=code, **more
    )


def refusal(call, **kwargs) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def test_function_code_from_s3(s3, lambda_client, bucket, unique_name):
    package = returning("from s3")
    s3.put_object(Bucket=bucket, Key="fn/code.zip", Body=package)
    config = create(lambda_client, unique_name, {"S3Bucket": bucket, "S3Key": "fn/code.zip"})
    assert config["CodeSha256"] == base64.b64encode(hashlib.sha256(package).digest()).decode()
    assert config["CodeSize"] == len(package)
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=unique_name)
    assert invoke(lambda_client, unique_name)[1] == "from s3"
    # GetFunction's Location serves the package as it would for a ZipFile.
    location = lambda_client.get_function(FunctionName=unique_name)["Code"]["Location"]
    with urllib.request.urlopen(location) as answer:
        assert answer.read() == package


def test_update_function_code_from_a_version_of_an_object(s3, lambda_client, bucket, unique_name):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=bucket, Key="code.zip", Body=returning("one"))["VersionId"]
    s3.put_object(Bucket=bucket, Key="code.zip", Body=returning("two"))
    create(lambda_client, unique_name, {"S3Bucket": bucket, "S3Key": "code.zip"})
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=unique_name)
    assert invoke(lambda_client, unique_name)[1] == "two"
    lambda_client.update_function_code(
        FunctionName=unique_name, S3Bucket=bucket, S3Key="code.zip", S3ObjectVersion=first
    )
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=unique_name)
    assert invoke(lambda_client, unique_name)[1] == "one"


def test_layer_content_from_s3(s3, lambda_client, bucket, unique_name):
    s3.put_object(
        Bucket=bucket, Key="layer.zip", Body=make_zip({"python/shared.py": "GREETING = 'hello from a layer'\n"})
    )
    layer = lambda_client.publish_layer_version(
        LayerName=unique_name, Content={"S3Bucket": bucket, "S3Key": "layer.zip"}, CompatibleRuntimes=["python3.12"]
    )
    code = make_zip({"app.py": "import shared\n\ndef handler(event, context):\n    return shared.GREETING\n"})
    create(lambda_client, unique_name, {"ZipFile": code}, Layers=[layer["LayerVersionArn"]])
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=unique_name)
    assert invoke(lambda_client, unique_name)[1] == "hello from a layer"


def test_s3_errors_word_for_word(s3, lambda_client, bucket, unique_name):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    other_version = s3.put_object(Bucket=bucket, Key="not-a-zip", Body=b"plain text")["VersionId"]
    cases = [
        (
            {"S3Bucket": bucket, "S3Key": "missing.zip"},
            "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does "
            "not exist.",
        ),
        (
            {"S3Bucket": f"{bucket}-nope", "S3Key": "code.zip"},
            "Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: The specified bucket "
            "does not exist",
        ),
        (
            {"S3Bucket": bucket, "S3Key": "another", "S3ObjectVersion": other_version},
            "Error occurred while GetObject. S3 Error Code: NoSuchVersion. S3 Error Message: The specified version "
            "does not exist.",
        ),
        (
            {"S3Bucket": bucket, "S3Key": "not-a-zip"},
            "Could not unzip uploaded file. Please check your file, then try to upload again.",
        ),
    ]
    for code, message in cases:
        assert refusal(create, lambda_client=lambda_client, name=unique_name, code=code) == (
            "InvalidParameterValueException",
            message,
        )
    assert refusal(
        lambda_client.publish_layer_version, LayerName=unique_name, Content={"S3Bucket": bucket, "S3Key": "x"}
    ) == (
        "InvalidParameterValueException",
        "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist.",
    )


def test_a_bucket_of_another_region(lamina, lambda_client, unique_name):
    west = lamina.client("s3", region_name="us-west-2", s3={"addressing_style": "path"})
    name = f"code-west-{next(_names)}-lamina"
    west.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    try:
        west.put_object(Bucket=name, Key="code.zip", Body=returning("west"))
        assert refusal(
            create, lambda_client=lambda_client, name=unique_name, code={"S3Bucket": name, "S3Key": "code.zip"}
        ) == (
            "InvalidParameterValueException",
            "Error occurred while GetObject. S3 Error Code: PermanentRedirect. S3 Error Message: The bucket is in "
            "this region: us-west-2. Please use this region to retry the request",
        )
    finally:
        west.delete_object(Bucket=name, Key="code.zip")
        west.delete_bucket(Bucket=name)


def _client(server, service: str, key: str, secret: str):
    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
    )


def test_the_code_is_read_as_the_caller(lamina, s3, bucket, unique_name):
    """AWS reads the package with the caller's permissions: a user who may create functions
    but not read the object is refused, and one who may read it is not."""
    s3.put_object(Bucket=bucket, Key="code.zip", Body=returning("mine"))
    iam = lamina.client("iam")
    clients = {}
    for who, actions in (
        ("reader", ["lambda:*", "iam:PassRole", "s3:GetObject"]),
        ("blind", ["lambda:*", "iam:PassRole"]),
    ):
        user = f"{unique_name}-{who}"
        iam.create_user(UserName=user)
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
        iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=user)["AccessKey"]
        clients[who] = _client(lamina, "lambda", key["AccessKeyId"], key["SecretAccessKey"])
    code = {"S3Bucket": bucket, "S3Key": "code.zip"}
    assert refusal(create, lambda_client=clients["blind"], name=f"{unique_name}-b", code=code) == (
        "InvalidParameterValueException",
        "Error occurred while GetObject. S3 Error Code: AccessDenied. S3 Error Message: Access Denied",
    )
    created = create(clients["reader"], f"{unique_name}-r", code)
    assert created["CodeSize"] > 0
    lamina.client("lambda").delete_function(FunctionName=f"{unique_name}-r")


# --- the extended-client pattern --------------------------------------------------------------------------


def test_sqs_extended_client_pattern(lamina, s3, sqs, lambda_client, bucket, unique_name, mappings):
    """amazon-sqs-java-extended-client's messages: the payload in S3, the message a pointer
    (["software.amazon.payloadoffloading.PayloadS3Pointer", {"s3BucketName", "s3Key"}]) with
    its size in ExtendedPayloadSize; a function fed by the queue follows the pointer with
    boto3 and reads the payload, too large for any message."""
    payload = ("x" * 1023 + "\n").encode() * 600  # 600 KiB: over SQS's 256 KiB
    key = f"{unique_name}/payload"
    s3.put_object(Bucket=bucket, Key=key, Body=payload)
    url, queue = make_queue(sqs, unique_name)
    pointer = json.dumps([POINTER, {"s3BucketName": bucket, "s3Key": key}])
    attributes = {"ExtendedPayloadSize": {"DataType": "Number", "StringValue": str(len(payload))}}
    # A plain consumer: receive, follow the pointer, read the payload.
    sqs.send_message(QueueUrl=url, MessageBody=pointer, MessageAttributes=attributes)
    [message] = receive(sqs, url, 1)
    assert message["MessageAttributes"]["ExtendedPayloadSize"]["StringValue"] == str(len(payload))
    kind, where = json.loads(message["Body"])
    assert kind == POINTER
    assert s3.get_object(Bucket=where["s3BucketName"], Key=where["s3Key"])["Body"].read() == payload
    # A function fed by the queue does the same with the boto3 Lambda gives it.
    reader = """
    import hashlib, json
    import boto3

    s3 = boto3.client("s3")

    def handler(event, context):
        for record in event["Records"]:
            kind, where = json.loads(record["body"])
            body = s3.get_object(Bucket=where["s3BucketName"], Key=where["s3Key"])["Body"].read()
            print("PAYLOAD", kind, len(body), hashlib.sha256(body).hexdigest())
    """
    lambda_client.create_function(
        FunctionName=unique_name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": reader})},
        Timeout=30,
    )
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=unique_name)
    mappings(EventSourceArn=queue, FunctionName=unique_name, BatchSize=1)
    sqs.send_message(QueueUrl=url, MessageBody=pointer, MessageAttributes=attributes)
    [line] = wait_for_log_lines(lamina, unique_name, "PAYLOAD", timeout=60)
    assert line.split()[1:] == [POINTER, str(len(payload)), hashlib.sha256(payload).hexdigest()]


def test_sns_extended_client_pattern(lamina, s3, sqs, bucket, unique_name):
    """amazon-sns-java-extended-client: the same pointer published to a topic reaches a
    raw-delivery queue subscription, whose reader follows it to the payload."""
    sns = lamina.client("sns")
    payload = b"\x00\x01binary" * 40000  # 320 KB: over SNS's 256 KiB
    key = f"{unique_name}/sns-payload"
    s3.put_object(Bucket=bucket, Key=key, Body=payload)
    topic = sns.create_topic(Name=unique_name)["TopicArn"]
    url, queue = make_queue(sqs, unique_name)
    sqs.set_queue_attributes(
        QueueUrl=url,
        Attributes={
            "Policy": json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "sns.amazonaws.com"},
                            "Action": "sqs:SendMessage",
                            "Resource": queue,
                            "Condition": {"ArnEquals": {"aws:SourceArn": topic}},
                        }
                    ],
                }
            )
        },
    )
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue, Attributes={"RawMessageDelivery": "true"})
    sns.publish(
        TopicArn=topic,
        Message=json.dumps([POINTER, {"s3BucketName": bucket, "s3Key": key}]),
        MessageAttributes={"ExtendedPayloadSize": {"DataType": "Number", "StringValue": str(len(payload))}},
    )
    [message] = receive(sqs, url, 1)
    kind, where = json.loads(message["Body"])
    assert kind == POINTER and message["MessageAttributes"]["ExtendedPayloadSize"]["StringValue"] == str(len(payload))
    assert s3.get_object(Bucket=where["s3BucketName"], Key=where["s3Key"])["Body"].read() == payload
