"""SQS's errors word for word in both protocols: the JSON protocol (the code, the message, and
the x-amzn-query-error header older clients read) and the query protocol (the legacy codes)."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

from .test_sqs_query import QueryClient, make_queue


@pytest.fixture
def q(lamina):
    return QueryClient(lamina.url)


def _json_error(call) -> tuple[str, str, int, str]:
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        headers.get("x-amzn-query-error", ""),
    )


def test_empty_batches_name_their_entry_type(sqs, q):
    url = sqs.create_queue(QueueName=f"errors-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    cases = [
        (lambda: sqs.send_message_batch(QueueUrl=url, Entries=[]), "SendMessageBatchRequestEntry"),
        (lambda: sqs.delete_message_batch(QueueUrl=url, Entries=[]), "DeleteMessageBatchRequestEntry"),
        (
            lambda: sqs.change_message_visibility_batch(QueueUrl=url, Entries=[]),
            "ChangeMessageVisibilityBatchRequestEntry",
        ),
    ]
    for call, kind in cases:
        code, message, status, header = _json_error(call)
        assert (code, status) == ("AWS.SimpleQueueService.EmptyBatchRequest", 400) or (code, status) == (
            "EmptyBatchRequest",
            400,
        )
        assert message == f"There should be at least one {kind} in the request."
        assert header == "AWS.SimpleQueueService.EmptyBatchRequest;Sender"
    for action in ("SendMessageBatch", "DeleteMessageBatch", "ChangeMessageVisibilityBatch"):
        status, kind, code, message = q.error(action, [("QueueUrl", url)])
        assert (status, kind, code) == (400, "Sender", "AWS.SimpleQueueService.EmptyBatchRequest")
        assert message == f"There should be at least one {action}RequestEntry in the request."


def test_purge_queue_once_a_minute(sqs, q):
    url = sqs.create_queue(QueueName=f"errors-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    sqs.purge_queue(QueueUrl=url)
    code, message, status, header = _json_error(lambda: sqs.purge_queue(QueueUrl=url))
    name = url.rsplit("/", 1)[1]
    assert status == 403 and code in ("PurgeQueueInProgress", "AWS.SimpleQueueService.PurgeQueueInProgress")
    assert message == f"Only one PurgeQueue operation on {name} is allowed every 60 seconds."
    assert header == "AWS.SimpleQueueService.PurgeQueueInProgress;Sender"

    other = make_queue(q, f"query-{uuid.uuid4().hex[:10]}")
    q.call("PurgeQueue", [("QueueUrl", other)])
    status, kind, code, message = q.error("PurgeQueue", [("QueueUrl", other)])
    assert (status, kind, code) == (403, "Sender", "AWS.SimpleQueueService.PurgeQueueInProgress")
    assert message == f"Only one PurgeQueue operation on {other.rsplit('/', 1)[1]} is allowed every 60 seconds."


def test_a_missing_queue_in_both_protocols(sqs, q):
    url = sqs.create_queue(QueueName=f"errors-{uuid.uuid4().hex[:10]}")["QueueUrl"] + "-missing"
    code, message, status, header = _json_error(lambda: sqs.send_message(QueueUrl=url, MessageBody="x"))
    assert status == 400 and message == "The specified queue does not exist."
    assert header == "AWS.SimpleQueueService.NonExistentQueue;Sender"
    status, kind, code, message = q.error("SendMessage", [("QueueUrl", url), ("MessageBody", "x")])
    assert (status, kind, code, message) == (
        400,
        "Sender",
        "AWS.SimpleQueueService.NonExistentQueue",
        "The specified queue does not exist.",
    )
