"""SQS standard queues against a live server, through boto3: every operation, its error
cases with AWS's error shapes, and the MD5 digests (checked here by an independent
implementation of AWS's algorithm, since boto3 itself does not verify them)."""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import threading
import time

import pytest
from botocore.exceptions import ClientError

from .test_lambda_helpers import unvalidated_client, wait_until

MIB = 1024 * 1024
STANDARD_ATTRIBUTES = {
    "QueueArn",
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "VisibilityTimeout",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds",
    "SqsManagedSseEnabled",
}


# --- helpers (imported by the other SQS suites) ---------------------------------------------------


def md5_hex(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def md5_of_attributes(attributes: dict) -> str:
    """AWS's MD5OfMessageAttributes, written out afresh from the SQS developer guide: names
    sorted; name, type, transport byte (1 string, 2 binary), value, each length-prefixed."""

    def field(data: bytes) -> bytes:
        return struct.pack("!I", len(data)) + data

    out = b""
    for name in sorted(attributes):
        value = attributes[name]
        out += field(name.encode()) + field(value["DataType"].encode())
        if "BinaryValue" in value:
            out += b"\x02" + field(value["BinaryValue"])
        else:
            out += b"\x01" + field(value["StringValue"].encode())
    return hashlib.md5(out).hexdigest()


def sqs_error(excinfo) -> tuple[str, int]:
    """(the error's shape name, as botocore matches exception classes by it; HTTP status)."""
    error = excinfo.value.response["Error"]
    return error.get("QueryErrorCode") or error["Code"], excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]


def attributes_of(sqs, url: str, *names: str) -> dict:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(names) or ["All"]).get("Attributes", {})


def counts(sqs, url: str) -> tuple[int, int, int]:
    found = attributes_of(
        sqs,
        url,
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    )
    return (
        int(found["ApproximateNumberOfMessages"]),
        int(found["ApproximateNumberOfMessagesNotVisible"]),
        int(found["ApproximateNumberOfMessagesDelayed"]),
    )


def receive_all(sqs, url: str, expected: int, timeout: float = 10.0, **more) -> list[dict]:
    """Receive (and not delete) until `expected` messages are in hand."""
    got: list[dict] = []

    def enough():
        got.extend(
            sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, **more).get("Messages", [])
        )
        return len(got) >= expected

    wait_until(enough, timeout=timeout, interval=0, what=f"{expected} messages")
    return got


@pytest.fixture
def make_queue(sqs, unique_name):
    """make_queue(suffix="", **attributes) -> queue URL of a fresh queue."""
    made = []

    def make(suffix: str = "", tags: dict | None = None, **attributes) -> str:
        name = f"{unique_name}{suffix}"
        params = {"QueueName": name, "Attributes": {k: str(v) for k, v in attributes.items()}}
        if tags:
            params["tags"] = tags
        url = sqs.create_queue(**params)["QueueUrl"]
        made.append(url)
        return url

    yield make
    for url in made:
        try:
            sqs.delete_queue(QueueUrl=url)
        except ClientError:
            pass


def arn_of(sqs, url: str) -> str:
    return attributes_of(sqs, url, "QueueArn")["QueueArn"]


# --- CreateQueue, GetQueueUrl, ListQueues, DeleteQueue --------------------------------------------


def test_create_queue_with_attributes_and_tags(lamina, sqs, make_queue, unique_name):
    url = make_queue(
        tags={"team": "core", "env": "test"}, VisibilityTimeout=45, DelaySeconds=2, MessageRetentionPeriod=3600
    )
    assert url == f"{lamina.url}/000000000000/{unique_name}"
    found = attributes_of(sqs, url)
    assert STANDARD_ATTRIBUTES <= set(found)
    assert found["VisibilityTimeout"] == "45"
    assert found["DelaySeconds"] == "2"
    assert found["MessageRetentionPeriod"] == "3600"
    assert found["MaximumMessageSize"] == str(MIB)
    assert found["ReceiveMessageWaitTimeSeconds"] == "0"
    assert found["QueueArn"] == f"arn:aws:sqs:us-east-1:000000000000:{unique_name}"
    assert "FifoQueue" not in found
    assert abs(int(found["CreatedTimestamp"]) - time.time()) < 60
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "core", "env": "test"}


def test_create_queue_is_idempotent_but_not_with_other_attributes(sqs, make_queue, unique_name):
    url = make_queue(VisibilityTimeout=45)
    assert sqs.create_queue(QueueName=unique_name, Attributes={"VisibilityTimeout": "45"})["QueueUrl"] == url
    assert sqs.create_queue(QueueName=unique_name)["QueueUrl"] == url
    with pytest.raises(ClientError) as excinfo:
        sqs.create_queue(QueueName=unique_name, Attributes={"VisibilityTimeout": "46"})
    assert sqs_error(excinfo) == ("QueueNameExists", 400)
    assert isinstance(excinfo.value, sqs.exceptions.QueueNameExists)
    assert attributes_of(sqs, url, "VisibilityTimeout") == {"VisibilityTimeout": "45"}


@pytest.mark.parametrize("name", ["has space", "bad!char", "x" * 81, "dots.in.name", ""])
def test_create_queue_rejects_bad_names(sqs, name):
    with pytest.raises(ClientError) as excinfo:
        sqs.create_queue(QueueName=name)
    assert sqs_error(excinfo) == ("InvalidParameterValue", 400)


def test_create_queue_accepts_the_longest_name(sqs):
    name = "n" * 79 + "1"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    try:
        assert url.endswith("/" + name)
    finally:
        sqs.delete_queue(QueueUrl=url)


def test_create_queue_with_bad_attributes_creates_nothing(sqs, unique_name):
    with pytest.raises(ClientError) as excinfo:
        sqs.create_queue(QueueName=unique_name, Attributes={"VisibilityTimeout": "43201"})
    assert sqs_error(excinfo) == ("InvalidAttributeValue", 400)
    with pytest.raises(ClientError) as excinfo:
        sqs.create_queue(QueueName=unique_name, Attributes={"ContentBasedDeduplication": "true"})  # FIFO only
    assert sqs_error(excinfo) == ("InvalidAttributeName", 400)
    with pytest.raises(ClientError) as excinfo:
        sqs.create_queue(QueueName=unique_name, Attributes={"FifoQueue": "true"})  # no .fifo suffix
    assert sqs_error(excinfo) == ("InvalidAttributeValue", 400)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName=unique_name)


def test_get_queue_url(lamina, sqs, make_queue, unique_name):
    url = make_queue()
    assert sqs.get_queue_url(QueueName=unique_name)["QueueUrl"] == url
    assert sqs.get_queue_url(QueueName=unique_name, QueueOwnerAWSAccountId="000000000000")["QueueUrl"] == url
    with pytest.raises(ClientError) as excinfo:
        sqs.get_queue_url(QueueName=unique_name + "-missing")
    assert sqs_error(excinfo) == ("QueueDoesNotExist", 400)
    assert isinstance(excinfo.value, sqs.exceptions.QueueDoesNotExist)
    assert "does not exist" in excinfo.value.response["Error"]["Message"]


def test_list_queues_by_prefix_and_in_pages(sqs, make_queue, unique_name):
    urls = sorted(make_queue(f"-{i}") for i in range(5))
    other = make_queue("x")  # shares the bare name as a prefix, not "<name>-"
    found = sqs.list_queues(QueueNamePrefix=f"{unique_name}-")["QueueUrls"]
    assert sorted(found) == urls
    assert "NextToken" not in sqs.list_queues(QueueNamePrefix=f"{unique_name}-")
    assert other in sqs.list_queues(QueueNamePrefix=unique_name)["QueueUrls"]

    paged, token, pages = [], None, 0
    while True:
        page = sqs.list_queues(
            QueueNamePrefix=f"{unique_name}-", MaxResults=2, **({"NextToken": token} if token else {})
        )
        pages += 1
        assert len(page["QueueUrls"]) <= 2
        paged.extend(page["QueueUrls"])
        token = page.get("NextToken")
        if not token:
            break
    assert pages == 3
    assert sorted(paged) == urls and len(set(paged)) == 5

    assert sqs.list_queues(QueueNamePrefix=f"{unique_name}-nothing").get("QueueUrls", []) == []
    for bad in (0, 1001):
        with pytest.raises(ClientError) as excinfo:
            sqs.list_queues(MaxResults=bad)
        assert sqs_error(excinfo) == ("InvalidParameterValue", 400)


def test_delete_queue(sqs, unique_name):
    url = sqs.create_queue(QueueName=unique_name)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="left behind")
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName=unique_name)
    for call in (
        lambda: sqs.send_message(QueueUrl=url, MessageBody="x"),
        lambda: sqs.receive_message(QueueUrl=url),
        lambda: sqs.delete_queue(QueueUrl=url),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert sqs_error(excinfo) == ("QueueDoesNotExist", 400)
    assert url not in sqs.list_queues(QueueNamePrefix=unique_name).get("QueueUrls", [])


def test_delete_queue_wakes_a_long_poll(lamina, sqs, unique_name):
    url = sqs.create_queue(QueueName=unique_name)["QueueUrl"]
    threading.Timer(0.3, lambda: lamina.client("sqs").delete_queue(QueueUrl=url)).start()
    started = time.monotonic()
    try:
        sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)
    except sqs.exceptions.QueueDoesNotExist:
        pass
    assert time.monotonic() - started < 3


# --- Get/SetQueueAttributes ----------------------------------------------------------------------


def test_get_individual_attributes(sqs, make_queue):
    url = make_queue()
    assert attributes_of(sqs, url, "VisibilityTimeout") == {"VisibilityTimeout": "30"}
    assert set(attributes_of(sqs, url, "QueueArn", "DelaySeconds")) == {"QueueArn", "DelaySeconds"}
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"].keys() >= STANDARD_ATTRIBUTES


def test_set_queue_attributes(sqs, make_queue):
    url = make_queue()
    before = int(attributes_of(sqs, url, "LastModifiedTimestamp")["LastModifiedTimestamp"])
    sqs.set_queue_attributes(
        QueueUrl=url,
        Attributes={
            "VisibilityTimeout": "100",
            "DelaySeconds": "5",
            "MaximumMessageSize": "2048",
            "MessageRetentionPeriod": "60",
            "ReceiveMessageWaitTimeSeconds": "20",
            "Policy": json.dumps({"Version": "2012-10-17", "Statement": []}),
        },
    )
    found = attributes_of(sqs, url)
    assert found["VisibilityTimeout"] == "100"
    assert found["DelaySeconds"] == "5"
    assert found["MaximumMessageSize"] == "2048"
    assert found["MessageRetentionPeriod"] == "60"
    assert found["ReceiveMessageWaitTimeSeconds"] == "20"
    assert json.loads(found["Policy"]) == {"Version": "2012-10-17", "Statement": []}
    assert int(found["LastModifiedTimestamp"]) >= before


@pytest.mark.parametrize(
    "name, value",
    [
        ("VisibilityTimeout", "43201"),
        ("VisibilityTimeout", "-1"),
        ("VisibilityTimeout", "abc"),
        ("MessageRetentionPeriod", "59"),
        ("MessageRetentionPeriod", "1209601"),
        ("MaximumMessageSize", "1023"),
        ("MaximumMessageSize", str(MIB + 1)),
        ("DelaySeconds", "901"),
        ("ReceiveMessageWaitTimeSeconds", "21"),
        ("RedrivePolicy", "not json"),
        ("RedrivePolicy", json.dumps({"maxReceiveCount": 3})),
        (
            "RedrivePolicy",
            json.dumps({"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:x", "maxReceiveCount": 0}),
        ),
    ],
)
def test_set_queue_attributes_rejects_invalid_values(sqs, make_queue, name, value):
    url = make_queue()
    before = attributes_of(sqs, url)
    with pytest.raises(ClientError) as excinfo:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={name: value})
    assert sqs_error(excinfo) == ("InvalidAttributeValue", 400)
    assert isinstance(excinfo.value, sqs.exceptions.InvalidAttributeValue)
    assert attributes_of(sqs, url).get(name) == before.get(name)


def test_retention_period_bounds(sqs, make_queue):
    # Expiry itself takes at least a minute to see; the bounds are what a test can check.
    url = make_queue(MessageRetentionPeriod=60)
    assert attributes_of(sqs, url, "MessageRetentionPeriod") == {"MessageRetentionPeriod": "60"}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"MessageRetentionPeriod": "1209600"})
    with pytest.raises(ClientError) as excinfo:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"MessageRetentionPeriod": "59"})
    assert sqs_error(excinfo) == ("InvalidAttributeValue", 400)


def test_set_a_fifo_only_attribute_on_a_standard_queue(sqs, make_queue):
    url = make_queue()
    with pytest.raises(ClientError) as excinfo:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"ContentBasedDeduplication": "true"})
    assert sqs_error(excinfo) == ("InvalidAttributeName", 400)


def test_unknown_attribute_names(sqs, make_queue, unique_name):
    url = make_queue()
    for call in (
        lambda: sqs.set_queue_attributes(QueueUrl=url, Attributes={"Bogus": "1"}),
        lambda: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout", "Bogus"]),
        lambda: sqs.create_queue(QueueName=unique_name + "-new", Attributes={"Bogus": "1"}),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert sqs_error(excinfo) == ("InvalidAttributeName", 400)


def test_set_fifo_queue_on_a_standard_queue_is_refused(sqs, make_queue):
    url = make_queue()
    with pytest.raises(ClientError) as excinfo:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "true"})
    assert sqs_error(excinfo) == ("InvalidAttributeValue", 400)


def test_computed_counts(sqs, make_queue):
    url = make_queue()
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(3)])
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
    assert counts(sqs, url) == (3, 0, 1)
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2)["Messages"]
    assert len(received) == 2
    assert counts(sqs, url) == (1, 2, 1)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=received[0]["ReceiptHandle"])
    assert counts(sqs, url) == (1, 1, 1)


# --- SendMessage ---------------------------------------------------------------------------------

ATTRIBUTES = {
    "text": {"DataType": "String", "StringValue": "héllo wörld"},
    "number": {"DataType": "Number", "StringValue": "-12.5"},
    "blob": {"DataType": "Binary", "BinaryValue": bytes(range(256))},
    "custom": {"DataType": "String.city", "StringValue": "Zürich"},
    "int": {"DataType": "Number.int", "StringValue": "42"},
    "png": {"DataType": "Binary.png", "BinaryValue": b"\x89PNG\r\n"},
}


def test_send_and_receive_with_attributes_and_md5s(sqs, make_queue):
    url = make_queue()
    body = "body with ünïcödé 🚀 and\ttabs\nnewlines"
    sent = sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=ATTRIBUTES)
    assert sent["MD5OfMessageBody"] == md5_hex(body)
    assert sent["MD5OfMessageAttributes"] == md5_of_attributes(ATTRIBUTES)
    assert "SequenceNumber" not in sent
    message = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"][0]
    assert message["MessageId"] == sent["MessageId"]
    assert message["Body"] == body
    assert message["MD5OfBody"] == md5_hex(body)
    assert message["MessageAttributes"] == ATTRIBUTES
    assert message["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]


def test_md5_helper_encodes_as_the_developer_guide_says():
    # The helper itself, against the encoding spelled out byte by byte.
    assert (
        md5_of_attributes({"test": {"DataType": "String", "StringValue": "test"}})
        == hashlib.md5(b"\x00\x00\x00\x04test\x00\x00\x00\x06String\x01\x00\x00\x00\x04test").hexdigest()
    )


@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity", "1_000", " 1", "0x10", "1e127", "1" * 39])
def test_a_number_attribute_must_be_a_number_sqs_takes(sqs, make_queue, value):
    url = make_queue()
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(
            QueueUrl=url, MessageBody="x", MessageAttributes={"n": {"DataType": "Number", "StringValue": value}}
        )
    assert sqs_error(excinfo) == ("InvalidParameterValue", 400)
    assert "to a number" in excinfo.value.response["Error"]["Message"]
    assert counts(sqs, url) == (0, 0, 0)


def test_send_without_attributes_has_no_attribute_md5(sqs, make_queue):
    url = make_queue()
    sent = sqs.send_message(QueueUrl=url, MessageBody="plain")
    assert "MD5OfMessageAttributes" not in sent
    message = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"][0]
    assert "MessageAttributes" not in message and "MD5OfMessageAttributes" not in message


@pytest.mark.parametrize(
    "attributes",
    [
        {"n": {"DataType": "Number", "StringValue": "not a number"}},
        {"b": {"DataType": "Binary", "StringValue": "text where bytes belong"}},
        {"s": {"DataType": "String", "BinaryValue": b"bytes where text belongs"}},
        {"empty": {"DataType": "String", "StringValue": ""}},
        {"empty": {"DataType": "Binary", "BinaryValue": b""}},
        {f"a{i}": {"DataType": "String", "StringValue": "x"} for i in range(11)},
    ],
)
def test_send_rejects_bad_message_attributes(sqs, make_queue, attributes):
    url = make_queue()
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes=attributes)
    assert sqs_error(excinfo) == ("InvalidParameterValue", 400)
    assert counts(sqs, url) == (0, 0, 0)


def test_delay_seconds(sqs, make_queue):
    url = make_queue()
    sent_at = time.monotonic()
    sqs.send_message(QueueUrl=url, MessageBody="delayed", DelaySeconds=1)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    assert counts(sqs, url) == (0, 0, 1)
    message = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"][0]
    assert message["Body"] == "delayed"
    assert time.monotonic() - sent_at >= 0.9
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl=url, MessageBody="x", DelaySeconds=901)
    assert sqs_error(excinfo) == ("InvalidParameterValue", 400)


def test_queue_delay_seconds_applies_to_every_message(sqs, make_queue):
    url = make_queue(DelaySeconds=1)
    sqs.send_message(QueueUrl=url, MessageBody="queue-delayed")
    sqs.send_message(QueueUrl=url, MessageBody="not delayed", DelaySeconds=0)  # a message's own delay wins
    assert counts(sqs, url) == (1, 0, 1)


def test_message_size_limit_is_one_mib(sqs, make_queue):
    url = make_queue()
    sent = sqs.send_message(QueueUrl=url, MessageBody="a" * MIB)
    assert sent["MD5OfMessageBody"] == md5_hex("a" * MIB)
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl=url, MessageBody="a" * (MIB + 1))
    assert sqs_error(excinfo) == ("InvalidParameterValue", 400)
    # Attributes count against the limit too.
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(
            QueueUrl=url,
            MessageBody="a" * (MIB - 4),
            MessageAttributes={"k": {"DataType": "String", "StringValue": "vv"}},
        )
    assert sqs_error(excinfo) == ("InvalidParameterValue", 400)
    message = sqs.receive_message(QueueUrl=url)["Messages"][0]
    assert len(message["Body"]) == MIB


def test_maximum_message_size_attribute(sqs, make_queue):
    url = make_queue(MaximumMessageSize=1024)
    sqs.send_message(QueueUrl=url, MessageBody="b" * 1024)
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl=url, MessageBody="b" * 1025)
    assert sqs_error(excinfo) == ("InvalidParameterValue", 400)


@pytest.mark.parametrize("body", ["nul \x00 inside", "bell \x07", "\ufffe", "\x1f"])
def test_invalid_characters_are_refused(sqs, make_queue, body):
    url = make_queue()
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    assert sqs_error(excinfo) == ("InvalidMessageContents", 400)
    assert isinstance(excinfo.value, sqs.exceptions.InvalidMessageContents)


def test_send_to_a_missing_queue(lamina, sqs):
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl=f"{lamina.url}/000000000000/never-made", MessageBody="x")
    assert sqs_error(excinfo) == ("QueueDoesNotExist", 400)


# --- SendMessageBatch ----------------------------------------------------------------------------


def test_send_message_batch_with_partial_failures(sqs, make_queue):
    url = make_queue()
    result = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {
                "Id": "ok-1",
                "MessageBody": "first",
                "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}},
            },
            {"Id": "bad_chars", "MessageBody": "\x00"},
            {
                "Id": "bad_number",
                "MessageBody": "x",
                "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "z"}},
            },
            {"Id": "ok-2", "MessageBody": "second", "DelaySeconds": 0},
            {"Id": "bad_delay", "MessageBody": "x", "DelaySeconds": 901},
        ],
    )
    successful = {entry["Id"]: entry for entry in result["Successful"]}
    assert set(successful) == {"ok-1", "ok-2"}
    assert successful["ok-1"]["MD5OfMessageBody"] == md5_hex("first")
    assert successful["ok-1"]["MD5OfMessageAttributes"] == md5_of_attributes(
        {"k": {"DataType": "String", "StringValue": "v"}}
    )
    assert successful["ok-2"]["MD5OfMessageBody"] == md5_hex("second")
    failed = {entry["Id"]: entry for entry in result["Failed"]}
    assert set(failed) == {"bad_chars", "bad_number", "bad_delay"}
    assert all(entry["SenderFault"] is True and entry["Message"] for entry in failed.values())
    assert failed["bad_chars"]["Code"] == "InvalidMessageContents"
    assert failed["bad_number"]["Code"] == "InvalidParameterValue"
    assert failed["bad_delay"]["Code"] == "InvalidParameterValue"
    bodies = sorted(m["Body"] for m in receive_all(sqs, url, 2))
    assert bodies == ["first", "second"]
    assert counts(sqs, url) == (0, 2, 0)


def test_send_message_batch_request_errors(lamina, sqs, make_queue):
    url = make_queue()
    raw = unvalidated_client(lamina, "sqs")
    cases = [
        ([], "EmptyBatchRequest"),
        ([{"Id": str(i), "MessageBody": "x"} for i in range(11)], "TooManyEntriesInBatchRequest"),
        ([{"Id": "same", "MessageBody": "x"}, {"Id": "same", "MessageBody": "y"}], "BatchEntryIdsNotDistinct"),
        ([{"Id": "not valid!", "MessageBody": "x"}], "InvalidBatchEntryId"),
        ([{"Id": "i" * 81, "MessageBody": "x"}], "InvalidBatchEntryId"),
        (
            [{"Id": "a", "MessageBody": "a" * (600 * 1024)}, {"Id": "b", "MessageBody": "b" * (600 * 1024)}],
            "BatchRequestTooLong",
        ),
    ]
    for entries, code in cases:
        with pytest.raises(ClientError) as excinfo:
            raw.send_message_batch(QueueUrl=url, Entries=entries)
        assert sqs_error(excinfo) == (code, 400), code
        assert isinstance(excinfo.value, getattr(sqs.exceptions, code))
    assert counts(sqs, url) == (0, 0, 0)


# --- ReceiveMessage --------------------------------------------------------------------------------


def test_long_poll_returns_as_soon_as_a_message_arrives(lamina, sqs, make_queue):
    url = make_queue()
    sender = lamina.client("sqs")
    timer = threading.Timer(0.5, lambda: sender.send_message(QueueUrl=url, MessageBody="wake up"))
    started = time.monotonic()
    timer.start()
    response = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10)
    elapsed = time.monotonic() - started
    timer.join()
    assert [m["Body"] for m in response["Messages"]] == ["wake up"]
    assert 0.4 <= elapsed < 3, elapsed


def test_long_poll_waits_out_its_time_when_nothing_comes(sqs, make_queue):
    url = make_queue()
    started = time.monotonic()
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
    assert 0.9 <= time.monotonic() - started < 3


def test_queue_receive_wait_time_makes_every_receive_a_long_poll(lamina, sqs, make_queue):
    url = make_queue(ReceiveMessageWaitTimeSeconds=10)
    sender = lamina.client("sqs")
    timer = threading.Timer(0.4, lambda: sender.send_message(QueueUrl=url, MessageBody="eventually"))
    timer.start()
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "eventually"
    timer.join()


def test_long_polls_do_not_block_other_requests(lamina, sqs, make_queue):
    url = make_queue()
    other = lamina.client("sqs")
    poller = threading.Thread(target=lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2))
    poller.start()
    time.sleep(0.2)
    started = time.monotonic()
    other.list_queues(MaxResults=1)
    assert time.monotonic() - started < 1
    poller.join()


def test_wait_time_seconds_bounds(sqs, make_queue):
    url = make_queue()
    with pytest.raises(ClientError) as excinfo:
        sqs.receive_message(QueueUrl=url, WaitTimeSeconds=21)
    assert sqs_error(excinfo) == ("InvalidParameterValue", 400)


def test_max_number_of_messages(sqs, make_queue):
    url = make_queue()
    for start in (0, 10):
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(start, min(start + 10, 15))]
        )
    assert len(sqs.receive_message(QueueUrl=url)["Messages"]) == 1
    assert len(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]) == 10
    assert len(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]) == 4
    for bad in (0, 11):
        with pytest.raises(ClientError) as excinfo:
            sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=bad)
        assert sqs_error(excinfo) == ("InvalidParameterValue", 400)
        assert "MaxNumberOfMessages" in excinfo.value.response["Error"]["Message"]


def test_attribute_selection_on_receive(sqs, make_queue):
    url = make_queue()
    attributes = {
        "alpha.one": {"DataType": "String", "StringValue": "1"},
        "alpha.two": {"DataType": "Number", "StringValue": "2"},
        "beta": {"DataType": "Binary", "BinaryValue": b"\x01\x02"},
    }
    sent = sqs.send_message(
        QueueUrl=url,
        MessageBody="selective",
        MessageAttributes=attributes,
        MessageSystemAttributes={
            "AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-5759e988-bd862e3fe1be46a994272793"}
        },
    )

    def receive(**selection) -> dict:
        message = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0, **selection)["Messages"][0]
        assert message["MessageId"] == sent["MessageId"]
        return message

    plain = receive()
    assert "Attributes" not in plain and "MessageAttributes" not in plain and "MD5OfMessageAttributes" not in plain

    assert set(receive(MessageSystemAttributeNames=["SentTimestamp"])["Attributes"]) == {"SentTimestamp"}
    chosen = receive(MessageSystemAttributeNames=["ApproximateReceiveCount", "SenderId"])["Attributes"]
    assert set(chosen) == {"ApproximateReceiveCount", "SenderId"}
    everything = receive(MessageSystemAttributeNames=["All"])["Attributes"]
    assert {
        "SenderId",
        "SentTimestamp",
        "ApproximateReceiveCount",
        "ApproximateFirstReceiveTimestamp",
        "AWSTraceHeader",
    } <= set(everything)
    assert everything["AWSTraceHeader"] == "Root=1-5759e988-bd862e3fe1be46a994272793"
    assert int(everything["ApproximateReceiveCount"]) >= 4
    assert int(everything["SentTimestamp"]) <= int(everything["ApproximateFirstReceiveTimestamp"])
    assert set(receive(AttributeNames=["All"])["Attributes"]) == set(everything)

    for selection, expected in (
        (["All"], set(attributes)),
        ([".*"], set(attributes)),
        (["alpha.*"], {"alpha.one", "alpha.two"}),
        (["beta"], {"beta"}),
        (["beta", "alpha.one"], {"beta", "alpha.one"}),
    ):
        message = receive(MessageAttributeNames=selection)
        assert set(message["MessageAttributes"]) == expected, selection
        subset = {name: attributes[name] for name in expected}
        assert message["MessageAttributes"] == subset
        # The digest covers what was returned, as AWS computes it.
        assert message["MD5OfMessageAttributes"] == md5_of_attributes(subset), selection
    nothing = receive(MessageAttributeNames=["gamma"])
    assert "MessageAttributes" not in nothing and "MD5OfMessageAttributes" not in nothing


# --- visibility, DeleteMessage, ChangeMessageVisibility --------------------------------------------


def test_visibility_timeout_brings_a_message_back(sqs, make_queue):
    url = make_queue()
    sqs.send_message(QueueUrl=url, MessageBody="boomerang")
    first = sqs.receive_message(QueueUrl=url, VisibilityTimeout=1, AttributeNames=["All"])["Messages"][0]
    assert first["Attributes"]["ApproximateReceiveCount"] == "1"
    received_at = time.monotonic()
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    assert counts(sqs, url) == (0, 1, 0)
    second = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5, AttributeNames=["All"])["Messages"][0]
    assert time.monotonic() - received_at >= 0.8
    assert second["MessageId"] == first["MessageId"]
    assert second["ReceiptHandle"] != first["ReceiptHandle"]
    assert second["Attributes"]["ApproximateReceiveCount"] == "2"
    assert (
        second["Attributes"]["ApproximateFirstReceiveTimestamp"]
        == first["Attributes"]["ApproximateFirstReceiveTimestamp"]
    )


def test_queue_visibility_timeout_is_the_default(sqs, make_queue):
    url = make_queue(VisibilityTimeout=1)
    sqs.send_message(QueueUrl=url, MessageBody="m")
    sqs.receive_message(QueueUrl=url)
    message = sqs.receive_message(
        QueueUrl=url, WaitTimeSeconds=5, MessageSystemAttributeNames=["ApproximateReceiveCount"]
    )
    assert message["Messages"][0]["Attributes"]["ApproximateReceiveCount"] == "2"


def test_delete_message(sqs, make_queue):
    url = make_queue()
    sqs.send_message(QueueUrl=url, MessageBody="done soon")
    message = sqs.receive_message(QueueUrl=url, VisibilityTimeout=1)["Messages"][0]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])  # deleting twice is fine
    assert counts(sqs, url) == (0, 0, 0)
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)
    for garbage in ("garbage", base64.b64encode(b"a|b|c").decode()):
        with pytest.raises(ClientError) as excinfo:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=garbage)
        assert sqs_error(excinfo) == ("ReceiptHandleIsInvalid", 400)
        assert isinstance(excinfo.value, sqs.exceptions.ReceiptHandleIsInvalid)


def test_a_receipt_handle_belongs_to_its_queue(sqs, make_queue):
    first, second = make_queue("-a"), make_queue("-b")
    sqs.send_message(QueueUrl=first, MessageBody="mine")
    handle = sqs.receive_message(QueueUrl=first)["Messages"][0]["ReceiptHandle"]
    with pytest.raises(ClientError) as excinfo:
        sqs.delete_message(QueueUrl=second, ReceiptHandle=handle)
    assert sqs_error(excinfo) == ("ReceiptHandleIsInvalid", 400)
    assert counts(sqs, first) == (0, 1, 0)


def test_delete_message_batch(lamina, sqs, make_queue):
    url = make_queue()
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(3)])
    messages = receive_all(sqs, url, 3)
    result = sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "a", "ReceiptHandle": messages[0]["ReceiptHandle"]},
            {"Id": "b", "ReceiptHandle": messages[1]["ReceiptHandle"]},
            {"Id": "c", "ReceiptHandle": "garbage"},
        ],
    )
    assert sorted(e["Id"] for e in result["Successful"]) == ["a", "b"]
    assert [(e["Id"], e["Code"], e["SenderFault"]) for e in result["Failed"]] == [("c", "ReceiptHandleIsInvalid", True)]
    assert counts(sqs, url) == (0, 1, 0)
    raw = unvalidated_client(lamina, "sqs")
    for entries, code in (
        ([], "EmptyBatchRequest"),
        ([{"Id": "x", "ReceiptHandle": "h"}] * 2, "BatchEntryIdsNotDistinct"),
        ([{"Id": str(i), "ReceiptHandle": "h"} for i in range(11)], "TooManyEntriesInBatchRequest"),
    ):
        with pytest.raises(ClientError) as excinfo:
            raw.delete_message_batch(QueueUrl=url, Entries=entries)
        assert sqs_error(excinfo) == (code, 400)


def test_change_message_visibility(sqs, make_queue):
    url = make_queue()
    sqs.send_message(QueueUrl=url, MessageBody="flexible")
    message = sqs.receive_message(QueueUrl=url, VisibilityTimeout=60)["Messages"][0]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    again = sqs.receive_message(
        QueueUrl=url, VisibilityTimeout=60, MessageSystemAttributeNames=["ApproximateReceiveCount"]
    )
    again = again["Messages"][0]
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"
    # Lengthening works too: set it short, then long, and it stays away.
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"], VisibilityTimeout=1)
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"], VisibilityTimeout=30)
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)
    with pytest.raises(ClientError) as excinfo:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"], VisibilityTimeout=43201)
    assert sqs_error(excinfo) == ("InvalidParameterValue", 400)
    with pytest.raises(ClientError) as excinfo:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle="garbage", VisibilityTimeout=5)
    assert sqs_error(excinfo) == ("ReceiptHandleIsInvalid", 400)


def test_change_visibility_of_a_message_not_in_flight(sqs, make_queue):
    url = make_queue()
    sqs.send_message(QueueUrl=url, MessageBody="visible")
    message = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"][0]
    with pytest.raises(ClientError) as excinfo:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=10)
    assert sqs_error(excinfo) == ("MessageNotInflight", 400)
    assert isinstance(excinfo.value, sqs.exceptions.MessageNotInflight)


def test_change_message_visibility_batch(sqs, make_queue):
    url = make_queue()
    sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": "1", "MessageBody": "in flight"}, {"Id": "2", "MessageBody": "visible"}]
    )
    in_flight = sqs.receive_message(QueueUrl=url, VisibilityTimeout=60)["Messages"][0]
    visible = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"][0]
    result = sqs.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "ok", "ReceiptHandle": in_flight["ReceiptHandle"], "VisibilityTimeout": 0},
            {"Id": "not_inflight", "ReceiptHandle": visible["ReceiptHandle"], "VisibilityTimeout": 30},
            {"Id": "garbage", "ReceiptHandle": "nonsense", "VisibilityTimeout": 30},
        ],
    )
    assert [e["Id"] for e in result["Successful"]] == ["ok"]
    failed = {e["Id"]: e for e in result["Failed"]}
    assert failed["not_inflight"]["Code"] == "MessageNotInflight"
    assert failed["garbage"]["Code"] == "ReceiptHandleIsInvalid"
    assert all(e["SenderFault"] for e in failed.values())
    assert counts(sqs, url) == (2, 0, 0)


# --- PurgeQueue, tags ------------------------------------------------------------------------------


def test_purge_queue(sqs, make_queue):
    url = make_queue()
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(5)])
    sqs.send_message(QueueUrl=url, MessageBody="delayed", DelaySeconds=30)
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2)
    assert counts(sqs, url) == (3, 2, 1)
    sqs.purge_queue(QueueUrl=url)
    assert counts(sqs, url) == (0, 0, 0)
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    sqs.send_message(QueueUrl=url, MessageBody="after the purge")
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "after the purge"


def test_tag_untag_and_list_queue_tags(sqs, make_queue):
    url = make_queue()
    assert "Tags" not in sqs.list_queue_tags(QueueUrl=url)
    sqs.tag_queue(QueueUrl=url, Tags={"a": "1", "b": "2"})
    sqs.tag_queue(QueueUrl=url, Tags={"b": "3", "c": "4"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"a": "1", "b": "3", "c": "4"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["a", "missing"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"b": "3", "c": "4"}
    with pytest.raises(ClientError) as excinfo:
        sqs.tag_queue(QueueUrl=url, Tags={f"k{i}": "v" for i in range(50)})
    assert sqs_error(excinfo) == ("InvalidParameterValue", 400)
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"b": "3", "c": "4"}  # nothing half-applied


def test_tags_on_a_missing_queue(lamina, sqs):
    url = f"{lamina.url}/000000000000/no-such-queue-for-tags"
    for call in (
        lambda: sqs.tag_queue(QueueUrl=url, Tags={"a": "b"}),
        lambda: sqs.list_queue_tags(QueueUrl=url),
        lambda: sqs.untag_queue(QueueUrl=url, TagKeys=["a"]),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert sqs_error(excinfo) == ("QueueDoesNotExist", 400)


# --- dead-letter queues and redrive ---------------------------------------------------------------


def _with_dead_letter_queue(sqs, make_queue, max_receives: int) -> tuple[str, str, str, str]:
    dlq = make_queue("-dlq")
    dlq_arn = arn_of(sqs, dlq)
    source = make_queue(
        "-src", RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receives)})
    )
    return source, arn_of(sqs, source), dlq, dlq_arn


def test_redrive_policy_moves_a_message_to_the_dead_letter_queue(sqs, make_queue):
    source, source_arn, dlq, dlq_arn = _with_dead_letter_queue(sqs, make_queue, 2)
    policy = json.loads(attributes_of(sqs, source, "RedrivePolicy")["RedrivePolicy"])
    assert policy["deadLetterTargetArn"] == dlq_arn and int(policy["maxReceiveCount"]) == 2
    sent = sqs.send_message(
        QueueUrl=source, MessageBody="poison", MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}}
    )
    for count in ("1", "2"):
        message = sqs.receive_message(
            QueueUrl=source, VisibilityTimeout=0, MessageSystemAttributeNames=["ApproximateReceiveCount"]
        )["Messages"][0]
        assert message["Attributes"]["ApproximateReceiveCount"] == count
    assert "Messages" not in sqs.receive_message(QueueUrl=source)  # the third receive moved it
    assert counts(sqs, source) == (0, 0, 0)
    dead = sqs.receive_message(
        QueueUrl=dlq, WaitTimeSeconds=2, MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"]
    )["Messages"][0]
    assert dead["MessageId"] == sent["MessageId"]
    assert dead["Body"] == "poison"
    assert dead["MD5OfBody"] == sent["MD5OfMessageBody"]
    assert dead["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert dead["Attributes"]["DeadLetterQueueSourceArn"] == source_arn
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [source]
    assert sqs.list_dead_letter_source_queues(QueueUrl=source)["queueUrls"] == []


def test_redrive_policy_needs_an_existing_dead_letter_queue_of_the_same_type(sqs, make_queue, unique_name):
    source = make_queue()
    fifo_dlq = sqs.create_queue(QueueName=f"{unique_name}-dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    try:
        for target in ("arn:aws:sqs:us-east-1:000000000000:no-such-dlq", arn_of(sqs, fifo_dlq)):
            policy = json.dumps({"deadLetterTargetArn": target, "maxReceiveCount": 3})
            with pytest.raises(ClientError) as excinfo:
                sqs.set_queue_attributes(QueueUrl=source, Attributes={"RedrivePolicy": policy})
            assert sqs_error(excinfo) == ("InvalidAttributeValue", 400)
            with pytest.raises(ClientError) as excinfo:
                sqs.create_queue(QueueName=f"{unique_name}-new", Attributes={"RedrivePolicy": policy})
            assert sqs_error(excinfo) == ("InvalidAttributeValue", 400)
        assert "RedrivePolicy" not in attributes_of(sqs, source)
    finally:
        sqs.delete_queue(QueueUrl=fifo_dlq)


def test_removing_the_redrive_policy(sqs, make_queue):
    source, _, dlq, _ = _with_dead_letter_queue(sqs, make_queue, 1)
    sqs.set_queue_attributes(QueueUrl=source, Attributes={"RedrivePolicy": ""})
    assert "RedrivePolicy" not in attributes_of(sqs, source)
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == []
    sqs.send_message(QueueUrl=source, MessageBody="stays")
    for _ in range(3):
        assert sqs.receive_message(QueueUrl=source, VisibilityTimeout=0)["Messages"][0]["Body"] == "stays"


def _fill_dead_letter_queue(sqs, source: str, dlq: str, bodies: list[str]) -> None:
    """Messages into the DLQ (maxReceiveCount 1), visible there."""
    sqs.send_message_batch(QueueUrl=source, Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies)])
    receive_all(sqs, source, len(bodies), VisibilityTimeout=0)
    wait_until(
        lambda: sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10) and counts(sqs, dlq)[0] == len(bodies),
        timeout=5,
        what="messages in the DLQ",
    )


def test_message_move_task_returns_messages_to_their_source(sqs, make_queue):
    source, source_arn, dlq, dlq_arn = _with_dead_letter_queue(sqs, make_queue, 1)
    bodies = [f"redrive-{i}" for i in range(4)]
    _fill_dead_letter_queue(sqs, source, dlq, bodies)
    handle = sqs.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]
    assert handle

    def completed():
        results = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
        return results[0] if results and results[0]["Status"] == "COMPLETED" else None

    task = wait_until(completed, timeout=10, what="the move task to complete")
    assert task["SourceArn"] == dlq_arn
    assert task["ApproximateNumberOfMessagesMoved"] == 4
    assert task["ApproximateNumberOfMessagesToMove"] == 4
    assert "TaskHandle" not in task  # only running tasks show their handle
    assert abs(task["StartedTimestamp"] / 1000 - time.time()) < 60
    assert counts(sqs, dlq) == (0, 0, 0)
    returned = receive_all(sqs, source, 4, AttributeNames=["All"])
    assert sorted(m["Body"] for m in returned) == bodies
    assert all("DeadLetterQueueSourceArn" not in m["Attributes"] for m in returned)
    assert all(m["Attributes"]["ApproximateReceiveCount"] == "1" for m in returned)


def test_message_move_task_to_an_explicit_destination(sqs, make_queue):
    source, _, dlq, dlq_arn = _with_dead_letter_queue(sqs, make_queue, 1)
    elsewhere = make_queue("-elsewhere")
    _fill_dead_letter_queue(sqs, source, dlq, ["a", "b"])
    sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=arn_of(sqs, elsewhere))
    assert sorted(m["Body"] for m in receive_all(sqs, elsewhere, 2)) == ["a", "b"]
    assert counts(sqs, source) == (0, 0, 0)


def test_cancel_message_move_task(sqs, make_queue):
    source, _, dlq, dlq_arn = _with_dead_letter_queue(sqs, make_queue, 1)
    _fill_dead_letter_queue(sqs, source, dlq, [f"slow-{i}" for i in range(5)])
    handle = sqs.start_message_move_task(SourceArn=dlq_arn, MaxNumberOfMessagesPerSecond=1)["TaskHandle"]
    running = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]
    assert running["Status"] == "RUNNING" and running["TaskHandle"] == handle
    assert running["MaxNumberOfMessagesPerSecond"] == 1
    with pytest.raises(ClientError) as excinfo:
        sqs.start_message_move_task(SourceArn=dlq_arn)  # one running task per source
    assert sqs_error(excinfo) == ("UnsupportedOperation", 400)
    moved = sqs.cancel_message_move_task(TaskHandle=handle)["ApproximateNumberOfMessagesMoved"]
    assert 0 <= moved < 5
    task = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]
    assert task["Status"] == "CANCELLED"
    with pytest.raises(ClientError) as excinfo:
        sqs.cancel_message_move_task(TaskHandle=handle)
    assert sqs_error(excinfo)[1] == 400
    time.sleep(1.2)  # a cancelled task moves nothing more (it moves one a second)
    visible, in_flight, _ = counts(sqs, dlq)
    assert (
        visible + in_flight
        == 5 - sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]["ApproximateNumberOfMessagesMoved"]
    )
    assert visible + in_flight >= 3


def test_a_message_move_task_goes_on_after_a_restart(lamina_factory):
    server = lamina_factory()
    sqs = server.client("sqs")
    dlq = sqs.create_queue(QueueName="moves-dlq")["QueueUrl"]
    dlq_arn = arn_of(sqs, dlq)
    source = sqs.create_queue(
        QueueName="moves",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})},
    )["QueueUrl"]
    bodies = [f"m{i}" for i in range(6)]
    _fill_dead_letter_queue(sqs, source, dlq, bodies)
    handle = sqs.start_message_move_task(SourceArn=dlq_arn, MaxNumberOfMessagesPerSecond=2)["TaskHandle"]
    wait_until(
        lambda: sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]["ApproximateNumberOfMessagesMoved"] >= 1,
        timeout=5,
        what="a first message moved",
    )
    server.restart(kill=True)
    sqs = server.client("sqs")
    task = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]
    assert task["TaskHandle"] == handle and task["Status"] in ("RUNNING", "COMPLETED")
    moved_then = task["ApproximateNumberOfMessagesMoved"]
    assert 1 <= moved_then < 6

    def completed():
        result = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]
        return result if result["Status"] == "COMPLETED" else None

    task = wait_until(completed, timeout=15, what="the resumed task to complete")
    assert task["ApproximateNumberOfMessagesMoved"] == 6  # exact: each move and its count commit together
    assert "last_seq" not in task
    assert sorted(m["Body"] for m in receive_all(sqs, source, 6)) == bodies
    assert counts(sqs, dlq) == (0, 0, 0)


def test_message_move_task_errors(sqs, make_queue):
    plain = make_queue("-plain")
    plain_arn = arn_of(sqs, plain)
    with pytest.raises(ClientError) as excinfo:
        sqs.start_message_move_task(SourceArn=plain_arn)  # not anyone's dead-letter queue
    assert sqs_error(excinfo) == ("InvalidParameterValue", 400)
    missing = "arn:aws:sqs:us-east-1:000000000000:no-such-dlq"
    with pytest.raises(ClientError) as excinfo:
        sqs.start_message_move_task(SourceArn=missing)
    assert sqs_error(excinfo) == ("ResourceNotFoundException", 400)
    with pytest.raises(ClientError) as excinfo:
        sqs.list_message_move_tasks(SourceArn=missing)
    assert sqs_error(excinfo) == ("ResourceNotFoundException", 400)
    with pytest.raises(ClientError) as excinfo:
        sqs.cancel_message_move_task(TaskHandle="bm90IGEgdGFzaw==")
    assert sqs_error(excinfo) == ("ResourceNotFoundException", 400)
    assert sqs.list_message_move_tasks(SourceArn=plain_arn)["Results"] == []


# --- error codes as AWS sends them -----------------------------------------------------------------


def test_legacy_attribute_names_on_receive(sqs, make_queue):
    url = make_queue()
    sqs.send_message(QueueUrl=url, MessageBody="legacy")
    message = sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount", "SentTimestamp"])
    assert set(message["Messages"][0]["Attributes"]) == {"ApproximateReceiveCount", "SentTimestamp"}


def test_error_code_is_the_query_code_aws_sends(lamina, sqs):
    with pytest.raises(ClientError) as excinfo:
        sqs.get_queue_url(QueueName="no-such-queue-anywhere")
    assert excinfo.value.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert excinfo.value.response["Error"]["QueryErrorCode"] == "QueueDoesNotExist"
