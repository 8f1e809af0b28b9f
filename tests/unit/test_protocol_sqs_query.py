"""SQS's query dialect (protocol/sqs_query.py): which requests the router sends to it, the
wire names it reads and writes, and the query error codes, also in the JSON protocol's
x-amzn-query-error header (SQS is awsQueryCompatible)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lamina.errors import ServiceError
from lamina.protocol import parsers, serializers
from lamina.protocol.messages import Request
from lamina.protocol.router import Router

from .test_protocol_requests import wire_request

URL = "http://localhost:4566/000000000000/jobs"


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(["sns", "sqs", "lambda"])


def form_post(params: list[tuple[str, str]], path: str = "/") -> Request:
    body = urlencode([("Version", "2012-11-05"), *params]).encode()
    aws = AWSRequest(
        method="POST",
        url="http://localhost:4566" + path,
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(Credentials("test", "test"), "sqs", "us-east-1").add_auth(aws)
    headers = {k.lower(): v for k, v in aws.prepare().headers.items()}
    headers["host"] = "localhost:4566"
    return Request("POST", path, path, "", headers, body)


def test_json_requests_stay_json(router):
    request = wire_request("sqs", "SendMessage", {"QueueUrl": URL, "MessageBody": "x"})
    resolved = router.resolve(request)
    assert (resolved.protocol, resolved.spec is router.specs["sqs"]) == ("json", True)


def test_a_form_post_with_an_action_is_the_query_dialect(router):
    request = form_post(
        [
            ("Action", "SendMessage"),
            ("QueueUrl", URL),
            ("MessageBody", "hi"),
            ("MessageAttribute.1.Name", "colour"),
            ("MessageAttribute.1.Value.StringValue", "red"),
            ("MessageAttribute.1.Value.DataType", "String"),
        ]
    )
    resolved = router.resolve(request)
    assert (resolved.spec.name, resolved.operation.name, resolved.protocol) == ("sqs", "SendMessage", "query")
    assert parsers.parse(resolved, request) == {
        "QueueUrl": URL,
        "MessageBody": "hi",
        "MessageAttributes": {"colour": {"StringValue": "red", "DataType": "String"}},
    }


def test_flattened_lists_and_maps(router):
    request = form_post(
        [
            ("Action", "CreateQueue"),
            ("QueueName", "jobs"),
            ("Attribute.1.Name", "VisibilityTimeout"),
            ("Attribute.1.Value", "40"),
            ("Tag.1.Key", "team"),
            ("Tag.1.Value", "blue"),
        ]
    )
    assert parsers.parse(router.resolve(request), request) == {
        "QueueName": "jobs",
        "Attributes": {"VisibilityTimeout": "40"},
        "tags": {"team": "blue"},
    }
    request = form_post(
        [
            ("Action", "DeleteMessageBatch"),
            ("QueueUrl", URL),
            ("DeleteMessageBatchRequestEntry.1.Id", "a"),
            ("DeleteMessageBatchRequestEntry.1.ReceiptHandle", "h1"),
            ("DeleteMessageBatchRequestEntry.2.Id", "b"),
            ("DeleteMessageBatchRequestEntry.2.ReceiptHandle", "h2"),
        ]
    )
    assert parsers.parse(router.resolve(request), request)["Entries"] == [
        {"Id": "a", "ReceiptHandle": "h1"},
        {"Id": "b", "ReceiptHandle": "h2"},
    ]
    request = form_post(
        [("Action", "ReceiveMessage"), ("QueueUrl", URL), ("AttributeName.1", "All"), ("MessageAttributeName.1", "a")]
    )
    assert parsers.parse(router.resolve(request), request) == {
        "QueueUrl": URL,
        "AttributeNames": ["All"],
        "MessageAttributeNames": ["a"],
    }


def test_the_queue_url_may_be_the_path(router):
    request = form_post([("Action", "PurgeQueue")], path="/000000000000/jobs")
    assert parsers.parse(router.resolve(request), request) == {"QueueUrl": "/000000000000/jobs"}
    request = form_post([("Action", "PurgeQueue"), ("QueueUrl", URL)], path="/000000000000/jobs")
    assert parsers.parse(router.resolve(request), request) == {"QueueUrl": URL}


def test_results_are_the_query_xml(router):
    request = form_post([("Action", "ReceiveMessage"), ("QueueUrl", URL)])
    resolved = router.resolve(request)
    result = {
        "Messages": [
            {
                "MessageId": "m1",
                "ReceiptHandle": "r1",
                "Body": "a<b",
                "Attributes": {"SentTimestamp": "1"},
                "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}},
            }
        ]
    }
    response = serializers.serialize(resolved.spec, resolved.operation, result, "rid", resolved.protocol)
    assert response.body.decode() == (
        '<ReceiveMessageResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><ReceiveMessageResult>'
        "<Message><MessageId>m1</MessageId><ReceiptHandle>r1</ReceiptHandle><Body>a&lt;b</Body>"
        "<Attribute><Name>SentTimestamp</Name><Value>1</Value></Attribute>"
        "<MessageAttribute><Name>k</Name><Value><StringValue>v</StringValue><DataType>String</DataType></Value>"
        "</MessageAttribute></Message></ReceiveMessageResult>"
        "<ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></ReceiveMessageResponse>"
    )


def test_errors_carry_the_query_codes(router):
    request = form_post([("Action", "GetQueueUrl"), ("QueueName", "nope")])
    resolved = router.resolve(request)
    error = ServiceError("QueueDoesNotExist", "The specified queue does not exist.", 400)
    body = serializers.serialize_error(resolved.spec, error, "rid", resolved.protocol).body.decode()
    assert "<Type>Sender</Type><Code>AWS.SimpleQueueService.NonExistentQueue</Code>" in body
    error = ServiceError("ReceiptHandleIsInvalid", "bad handle", 400)
    body = serializers.serialize_error(resolved.spec, error, "rid", resolved.protocol).body.decode()
    assert "<Code>ReceiptHandleIsInvalid</Code>" in body


def test_json_errors_name_the_query_code_in_their_header(router):
    spec = router.specs["sqs"]
    error = ServiceError("QueueNameExists", "exists", 400)
    response = serializers.serialize_error(spec, error, "rid", "json")
    assert ("x-amzn-query-error", "QueueAlreadyExists;Sender") in response.headers
    assert b'"__type":"QueueNameExists"' in response.body
