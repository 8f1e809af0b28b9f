"""SQS over the query protocol (older SDKs, AWS CLI v1 set-ups): signed form posts
`Action=SendMessage&...` written by hand with the query API's wire names as AWS documents
them, and their XML answers read element by element; then a round trip through botocore's
own QuerySerializer and QueryParser.
"""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.error
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import urlencode, urlparse

import botocore.session
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from .test_sqs import md5_of_attributes

NS = "http://queue.amazonaws.com/doc/2012-11-05/"
ACCOUNT = "000000000000"


class QueryClient:
    def __init__(self, url: str, service: str = "sqs", version: str = "2012-11-05") -> None:
        self.url = url
        self.service = service
        self.version = version

    def raw(self, action: str, params: list[tuple[str, str]] | None = None, path: str = "/"):
        body = urlencode([("Action", action), ("Version", self.version), *(params or [])])
        request = AWSRequest(
            method="POST",
            url=self.url + path,
            data=body.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        )
        SigV4Auth(Credentials("test", "test"), self.service, "us-east-1").add_auth(request)
        prepared = request.prepare()
        http = urllib.request.Request(
            prepared.url, data=prepared.body, headers=dict(prepared.headers.items()), method="POST"
        )
        try:
            with urllib.request.urlopen(http, timeout=30) as response:
                return response.status, dict(response.headers.items()), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers.items()), error.read()

    def call(self, action: str, params: list[tuple[str, str]] | None = None, path: str = "/") -> ET.Element:
        status, _, body = self.raw(action, params, path)
        assert status == 200, body
        root = ET.fromstring(body)
        assert root.tag == f"{{{NS}}}{action}Response", body
        assert _strip(root).findtext("ResponseMetadata/RequestId")
        return root

    def error(self, action: str, params: list[tuple[str, str]] | None = None, path: str = "/"):
        status, _, body = self.raw(action, params, path)
        root = _strip(ET.fromstring(body))
        assert root.tag == "ErrorResponse", body
        assert root.findtext("RequestId")
        return status, root.findtext("Error/Type"), root.findtext("Error/Code"), root.findtext("Error/Message")


def _strip(root: ET.Element) -> ET.Element:
    for element in root.iter():
        element.tag = element.tag.rpartition("}")[2]
    return root


@pytest.fixture
def q(lamina):
    return QueryClient(lamina.url)


@pytest.fixture
def name():
    return f"query-{uuid.uuid4().hex[:12]}"


def make_queue(q: QueryClient, name: str, *attributes: tuple[str, str]) -> str:
    params = [("QueueName", name)]
    for index, (key, value) in enumerate(attributes, 1):
        params += [(f"Attribute.{index}.Name", key), (f"Attribute.{index}.Value", value)]
    root = _strip(q.call("CreateQueue", params))
    url = root.findtext("CreateQueueResult/QueueUrl")
    assert url and url.endswith(f"/{ACCOUNT}/{name}")
    return url


def attributes(root: ET.Element, where: str) -> dict[str, str]:
    return {a.findtext("Name"): a.findtext("Value") for a in root.findall(where)}


def test_queue_operations(q, name):
    params = [
        ("QueueName", name),
        ("Attribute.1.Name", "VisibilityTimeout"),
        ("Attribute.1.Value", "45"),
        ("Attribute.2.Name", "DelaySeconds"),
        ("Attribute.2.Value", "0"),
        ("Tag.1.Key", "team"),
        ("Tag.1.Value", "blue"),
    ]
    url = _strip(q.call("CreateQueue", params)).findtext("CreateQueueResult/QueueUrl")
    assert url.endswith(f"/{ACCOUNT}/{name}")
    assert _strip(q.call("GetQueueUrl", [("QueueName", name)])).findtext("GetQueueUrlResult/QueueUrl") == url

    listed = _strip(q.call("ListQueues", [("QueueNamePrefix", name)]))
    assert [e.text for e in listed.findall("ListQueuesResult/QueueUrl")] == [url]

    got = _strip(q.call("GetQueueAttributes", [("QueueUrl", url), ("AttributeName.1", "All")]))
    found = attributes(got, "GetQueueAttributesResult/Attribute")
    assert found["VisibilityTimeout"] == "45"
    assert found["QueueArn"] == f"arn:aws:sqs:us-east-1:{ACCOUNT}:{name}"

    q.call(
        "SetQueueAttributes", [("QueueUrl", url), ("Attribute.1.Name", "VisibilityTimeout"), ("Attribute.1.Value", "7")]
    )
    got = _strip(
        q.call(
            "GetQueueAttributes",
            [("QueueUrl", url), ("AttributeName.1", "VisibilityTimeout"), ("AttributeName.2", "DelaySeconds")],
        )
    )
    assert attributes(got, "GetQueueAttributesResult/Attribute") == {"VisibilityTimeout": "7", "DelaySeconds": "0"}

    q.call("TagQueue", [("QueueUrl", url), ("Tag.1.Key", "env"), ("Tag.1.Value", "dev")])
    tags = _strip(q.call("ListQueueTags", [("QueueUrl", url)]))
    assert {t.findtext("Key"): t.findtext("Value") for t in tags.findall("ListQueueTagsResult/Tag")} == {
        "team": "blue",
        "env": "dev",
    }
    q.call("UntagQueue", [("QueueUrl", url), ("TagKey.1", "team")])
    tags = _strip(q.call("ListQueueTags", [("QueueUrl", url)]))
    assert {t.findtext("Key") for t in tags.findall("ListQueueTagsResult/Tag")} == {"env"}

    # The same name with other attributes: QueueAlreadyExists.
    status, kind, code, _ = q.error(
        "CreateQueue", [("QueueName", name), ("Attribute.1.Name", "VisibilityTimeout"), ("Attribute.1.Value", "99")]
    )
    assert (status, kind, code) == (400, "Sender", "QueueAlreadyExists")

    q.call("PurgeQueue", [("QueueUrl", url)])
    q.call("DeleteQueue", [("QueueUrl", url)])
    status, kind, code, message = q.error("GetQueueUrl", [("QueueName", name)])
    assert (status, kind, code) == (400, "Sender", "AWS.SimpleQueueService.NonExistentQueue")
    assert message
    status, _, code, _ = q.error("SendMessage", [("QueueUrl", url), ("MessageBody", "x")])
    assert (status, code) == (400, "AWS.SimpleQueueService.NonExistentQueue")


def test_send_and_receive_with_attributes(q, name):
    url = make_queue(q, name)
    blob = b"\x00\x01binary\xff"
    sent = _strip(
        q.call(
            "SendMessage",
            [
                ("QueueUrl", url),
                ("MessageBody", "hello <query> & world"),
                ("MessageAttribute.1.Name", "colour"),
                ("MessageAttribute.1.Value.StringValue", "red"),
                ("MessageAttribute.1.Value.DataType", "String"),
                ("MessageAttribute.2.Name", "data"),
                ("MessageAttribute.2.Value.BinaryValue", base64.b64encode(blob).decode()),
                ("MessageAttribute.2.Value.DataType", "Binary"),
            ],
        )
    )
    expected_attributes = md5_of_attributes(
        {"colour": {"DataType": "String", "StringValue": "red"}, "data": {"DataType": "Binary", "BinaryValue": blob}}
    )
    result = sent.find("SendMessageResult")
    assert result.findtext("MD5OfMessageBody") == hashlib.md5(b"hello <query> & world").hexdigest()
    assert result.findtext("MD5OfMessageAttributes") == expected_attributes
    message_id = result.findtext("MessageId")

    got = _strip(
        q.call(
            "ReceiveMessage",
            [
                ("QueueUrl", url),
                ("AttributeName.1", "All"),
                ("MessageAttributeName.1", "All"),
                ("MaxNumberOfMessages", "10"),
                ("VisibilityTimeout", "30"),
            ],
        )
    )
    messages = got.findall("ReceiveMessageResult/Message")
    assert len(messages) == 1
    message = messages[0]
    assert message.findtext("MessageId") == message_id
    assert message.findtext("Body") == "hello <query> & world"
    assert message.findtext("MD5OfMessageAttributes") == expected_attributes
    system = attributes(message, "Attribute")
    assert system["ApproximateReceiveCount"] == "1"
    assert int(system["SentTimestamp"]) > 0
    custom = {a.findtext("Name"): a.find("Value") for a in message.findall("MessageAttribute")}
    assert custom["colour"].findtext("StringValue") == "red"
    assert custom["colour"].findtext("DataType") == "String"
    assert base64.b64decode(custom["data"].findtext("BinaryValue")) == blob

    handle = message.findtext("ReceiptHandle")
    q.call("ChangeMessageVisibility", [("QueueUrl", url), ("ReceiptHandle", handle), ("VisibilityTimeout", "0")])
    again = _strip(q.call("ReceiveMessage", [("QueueUrl", url), ("MessageAttributeName.1", "colour")]))
    message = again.find("ReceiveMessageResult/Message")
    assert message is not None
    assert [a.findtext("Name") for a in message.findall("MessageAttribute")] == ["colour"]
    assert message.findall("Attribute") == []
    q.call("DeleteMessage", [("QueueUrl", url), ("ReceiptHandle", message.findtext("ReceiptHandle"))])
    empty = _strip(q.call("ReceiveMessage", [("QueueUrl", url)]))
    assert empty.findall("ReceiveMessageResult/Message") == []


def test_queue_url_from_the_path(q, name):
    url = make_queue(q, name)
    path = urlparse(url).path
    q.call("SendMessage", [("MessageBody", "by path")], path=path)
    got = _strip(q.call("ReceiveMessage", [("AttributeName.1", "ApproximateReceiveCount")], path=path))
    assert got.findtext("ReceiveMessageResult/Message/Body") == "by path"
    found = _strip(q.call("GetQueueAttributes", [("AttributeName.1", "QueueArn")], path=path))
    assert attributes(found, "GetQueueAttributesResult/Attribute") == {
        "QueueArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:{name}"
    }


def test_batches(q, name):
    url = make_queue(q, name)
    sent = _strip(
        q.call(
            "SendMessageBatch",
            [
                ("QueueUrl", url),
                ("SendMessageBatchRequestEntry.1.Id", "a"),
                ("SendMessageBatchRequestEntry.1.MessageBody", "first"),
                ("SendMessageBatchRequestEntry.1.MessageAttribute.1.Name", "n"),
                ("SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue", "1"),
                ("SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType", "Number"),
                ("SendMessageBatchRequestEntry.2.Id", "b"),
                ("SendMessageBatchRequestEntry.2.MessageBody", "second"),
                ("SendMessageBatchRequestEntry.2.DelaySeconds", "0"),
            ],
        )
    )
    entries = sent.findall("SendMessageBatchResult/SendMessageBatchResultEntry")
    assert sorted(e.findtext("Id") for e in entries) == ["a", "b"]
    by_id = {e.findtext("Id"): e for e in entries}
    assert by_id["a"].findtext("MD5OfMessageBody") == hashlib.md5(b"first").hexdigest()
    assert by_id["a"].findtext("MD5OfMessageAttributes") == md5_of_attributes(
        {"n": {"DataType": "Number", "StringValue": "1"}}
    )
    assert sent.findall("SendMessageBatchResult/BatchResultErrorEntry") == []

    got = _strip(q.call("ReceiveMessage", [("QueueUrl", url), ("MaxNumberOfMessages", "10"), ("WaitTimeSeconds", "1")]))
    messages = got.findall("ReceiveMessageResult/Message")
    if len(messages) < 2:
        more = _strip(
            q.call("ReceiveMessage", [("QueueUrl", url), ("MaxNumberOfMessages", "10"), ("WaitTimeSeconds", "1")])
        )
        messages += more.findall("ReceiveMessageResult/Message")
    assert sorted(m.findtext("Body") for m in messages) == ["first", "second"]
    handles = [m.findtext("ReceiptHandle") for m in messages]

    changed = _strip(
        q.call(
            "ChangeMessageVisibilityBatch",
            [
                ("QueueUrl", url),
                ("ChangeMessageVisibilityBatchRequestEntry.1.Id", "x"),
                ("ChangeMessageVisibilityBatchRequestEntry.1.ReceiptHandle", handles[0]),
                ("ChangeMessageVisibilityBatchRequestEntry.1.VisibilityTimeout", "60"),
                ("ChangeMessageVisibilityBatchRequestEntry.2.Id", "y"),
                ("ChangeMessageVisibilityBatchRequestEntry.2.ReceiptHandle", handles[1]),
                ("ChangeMessageVisibilityBatchRequestEntry.2.VisibilityTimeout", "60"),
            ],
        )
    )
    assert sorted(
        e.findtext("Id")
        for e in changed.findall("ChangeMessageVisibilityBatchResult/ChangeMessageVisibilityBatchResultEntry")
    ) == ["x", "y"]

    deleted = _strip(
        q.call(
            "DeleteMessageBatch",
            [
                ("QueueUrl", url),
                ("DeleteMessageBatchRequestEntry.1.Id", "one"),
                ("DeleteMessageBatchRequestEntry.1.ReceiptHandle", handles[0]),
                ("DeleteMessageBatchRequestEntry.2.Id", "two"),
                ("DeleteMessageBatchRequestEntry.2.ReceiptHandle", handles[1]),
                ("DeleteMessageBatchRequestEntry.3.Id", "bad"),
                ("DeleteMessageBatchRequestEntry.3.ReceiptHandle", "not-a-receipt-handle"),
            ],
        )
    )
    ok = deleted.findall("DeleteMessageBatchResult/DeleteMessageBatchResultEntry")
    assert sorted(e.findtext("Id") for e in ok) == ["one", "two"]
    failed = deleted.findall("DeleteMessageBatchResult/BatchResultErrorEntry")
    assert [(e.findtext("Id"), e.findtext("Code"), e.findtext("SenderFault")) for e in failed] == [
        ("bad", "ReceiptHandleIsInvalid", "true")
    ]

    # No entries at all (a form post cannot send an empty list): SQS's EmptyBatchRequest.
    status, kind, code, message = q.error("SendMessageBatch", [("QueueUrl", url)])
    assert (status, kind, code) == (400, "Sender", "AWS.SimpleQueueService.EmptyBatchRequest")
    assert message == "There should be at least one SendMessageBatchRequestEntry in the request."


def test_invalid_receipt_handle(q, name):
    url = make_queue(q, name)
    status, kind, code, _ = q.error("DeleteMessage", [("QueueUrl", url), ("ReceiptHandle", "garbage")])
    assert (status, kind, code) == (400, "Sender", "ReceiptHandleIsInvalid")
    status, _, code, _ = q.error(
        "ChangeMessageVisibility", [("QueueUrl", url), ("ReceiptHandle", "garbage"), ("VisibilityTimeout", "5")]
    )
    assert (status, code) == (400, "ReceiptHandleIsInvalid")


def test_dead_letter_sources_and_move_tasks(q, name):
    dlq = make_queue(q, name + "-dlq")
    arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:{name}-dlq"
    policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "3"})
    source = make_queue(q, name, ("RedrivePolicy", policy))
    listed = _strip(q.call("ListDeadLetterSourceQueues", [("QueueUrl", dlq)]))
    assert [e.text for e in listed.findall("ListDeadLetterSourceQueuesResult/QueueUrl")] == [source]

    q.call("SendMessage", [("QueueUrl", dlq), ("MessageBody", "parked")])
    started = _strip(q.call("StartMessageMoveTask", [("SourceArn", arn)]))
    assert started.findtext("StartMessageMoveTaskResult/TaskHandle")
    tasks = _strip(q.call("ListMessageMoveTasks", [("SourceArn", arn)]))
    entries = tasks.findall("ListMessageMoveTasksResult/ListMessageMoveTasksResultEntry")
    assert entries and entries[0].findtext("SourceArn") == arn
    assert entries[0].findtext("Status")


def test_unserved_and_unknown_actions(q, name):
    from lamina.gateway import snake_case
    from lamina.protocol.router import ServiceSpec
    from lamina.services.sns import SnsService

    url = make_queue(q, name)
    # Every action of SQS's query API reaches its handler: none is an unserved 501 (without
    # their parameters they are refused as the handler or the model check refuses them).
    spec = ServiceSpec.query_dialect("sqs")
    assert spec is not None
    for action in spec.model.operation_names:
        status, _, body = q.raw(action, [("QueueUrl", url + "-missing")])
        assert status != 501 and b"UnknownOperationException" not in body, (action, body)
    # An action of a served query API that Lamina has no method for: a 501 in that API's XML,
    # naming it (SNS's mobile push and SMS actions, while Lamina does not serve them; one
    # without required parameters, which the model check would refuse first).
    sns_model = botocore.session.get_session().get_service_model("sns")
    unserved = [
        op
        for op in sns_model.operation_names
        if not hasattr(SnsService, snake_case(op)) and not sns_model.operation_model(op).input_shape.required_members
    ]
    assert unserved, "SNS serves every action now: pick another served query API with an unserved action"
    sns = QueryClient(q.url, service="sns", version=sns_model.api_version)
    status, kind, code, message = sns.error(unserved[0])
    assert (status, kind, code) == (501, "Receiver", "UnknownOperationException")
    assert unserved[0] in message and "(sns)" in message
    # An Action SQS does not have: AWS's InvalidAction, in the query XML the client reads; an
    # action of another service's API (SNS's Publish) is one SQS does not have either.
    status, kind, code, message = q.error("NoSuchAction", [("QueueUrl", url)])
    assert (status, kind, code) == (400, "Sender", "InvalidAction")
    assert message == "The action NoSuchAction is not valid for this endpoint."
    status, kind, code, message = q.error("Publish", [("QueueUrl", url), ("Message", "m")])
    assert (status, kind, code) == (400, "Sender", "InvalidAction")
    assert message == "The action Publish is not valid for this endpoint."


def test_botocore_query_serializer_and_parser(lamina, name):
    """botocore's own query implementation, over the query form of SQS's model, agrees."""
    from botocore import parsers, serialize

    from lamina.protocol.router import ServiceSpec

    spec = ServiceSpec.query_dialect("sqs")
    assert spec is not None
    q = QueryClient(lamina.url)

    def call(operation: str, params: dict) -> dict:
        op = spec.model.operation_model(operation)
        serialized = serialize.create_serializer("query").serialize_to_request(params, op)
        status, headers, body = q.raw(
            operation, [(k, str(v)) for k, v in serialized["body"].items() if k not in ("Action", "Version")]
        )
        parsed = parsers.create_parser("query").parse(
            {"status_code": status, "headers": headers, "body": body}, op.output_shape
        )
        return parsed

    url = call("CreateQueue", {"QueueName": name, "Attributes": {"DelaySeconds": "0"}, "tags": {"k": "v"}})["QueueUrl"]
    sent = call(
        "SendMessage",
        {
            "QueueUrl": url,
            "MessageBody": "round trip",
            "MessageAttributes": {"a": {"DataType": "String", "StringValue": "b"}},
        },
    )
    assert sent["MD5OfMessageBody"] == hashlib.md5(b"round trip").hexdigest()
    got = call(
        "ReceiveMessage",
        {"QueueUrl": url, "AttributeNames": ["All"], "MessageAttributeNames": ["All"], "MaxNumberOfMessages": 10},
    )
    (message,) = got["Messages"]
    assert message["Body"] == "round trip"
    assert message["MessageAttributes"] == {"a": {"DataType": "String", "StringValue": "b"}}
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"
    assert call("ListQueueTags", {"QueueUrl": url})["Tags"] == {"k": "v"}
    error = call("GetQueueUrl", {"QueueName": name + "-missing"})["Error"]
    assert error["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert error["Type"] == "Sender"
