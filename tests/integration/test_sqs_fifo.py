"""SQS FIFO queues against a live server: order within a message group, a group held back
while one of its messages is in flight, groups served side by side, deduplication within
the five-minute window, sequence numbers, and the parameters a FIFO queue refuses."""

from __future__ import annotations

import json
import threading
import time

import pytest
from botocore.exceptions import ClientError

from .test_lambda_helpers import wait_until
from .test_sqs import attributes_of, counts, md5_hex, sqs_error


@pytest.fixture
def make_fifo(sqs, unique_name):
    """make_fifo(suffix="", **attributes) -> URL of a fresh FIFO queue."""
    made = []

    def make(suffix: str = "", **attributes) -> str:
        wanted = {"FifoQueue": "true", **{k: str(v) for k, v in attributes.items()}}
        url = sqs.create_queue(QueueName=f"{unique_name}{suffix}.fifo", Attributes=wanted)["QueueUrl"]
        made.append(url)
        return url

    yield make
    for url in made:
        try:
            sqs.delete_queue(QueueUrl=url)
        except ClientError:
            pass


def send(sqs, url: str, body: str, group: str, dedup: str | None = None, **more) -> dict:
    return sqs.send_message(
        QueueUrl=url, MessageBody=body, MessageGroupId=group, MessageDeduplicationId=dedup or body, **more
    )


def drain(sqs, url: str, expected: int, timeout: float = 15.0) -> list[dict]:
    """Receive and delete until `expected` messages came out, in the order received."""
    out: list[dict] = []

    def step():
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageSystemAttributeNames=["All"]
        ).get("Messages", [])
        out.extend(messages)
        if messages:
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )
        return len(out) >= expected

    wait_until(step, timeout=timeout, interval=0, what=f"{expected} messages")
    return out


def test_create_fifo_queue(sqs, make_fifo, unique_name):
    url = make_fifo(ContentBasedDeduplication="true")
    assert url.endswith(f"/{unique_name}.fifo")
    found = attributes_of(sqs, url)
    assert found["FifoQueue"] == "true"
    assert found["ContentBasedDeduplication"] == "true"
    assert found["DeduplicationScope"] == "queue"
    assert found["FifoThroughputLimit"] == "perQueue"
    assert found["QueueArn"].endswith(f":{unique_name}.fifo")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"ContentBasedDeduplication": "false"})
    assert attributes_of(sqs, url, "ContentBasedDeduplication") == {"ContentBasedDeduplication": "false"}
    with pytest.raises(ClientError) as excinfo:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "false"})
    assert sqs_error(excinfo) == ("InvalidAttributeValue", 400)


def test_fifo_queue_names(sqs, unique_name):
    with pytest.raises(ClientError) as excinfo:
        sqs.create_queue(QueueName=unique_name, Attributes={"FifoQueue": "true"})  # no .fifo suffix
    assert sqs_error(excinfo) == ("InvalidAttributeValue", 400)
    with pytest.raises(ClientError) as excinfo:
        sqs.create_queue(QueueName="bad name.fifo", Attributes={"FifoQueue": "true"})
    assert sqs_error(excinfo) == ("InvalidParameterValue", 400)
    with pytest.raises(ClientError) as excinfo:
        sqs.create_queue(QueueName="x" * 76 + ".fifo", Attributes={"FifoQueue": "true"})  # 81 with the suffix
    assert sqs_error(excinfo) == ("InvalidParameterValue", 400)


def test_strict_order_within_a_group_across_many_sends(sqs, make_fifo):
    url = make_fifo()
    groups = {"red": [], "green": [], "blue": []}
    for batch in range(6):  # 60 messages, three groups interleaved in every batch
        entries = []
        for i in range(10):
            index = batch * 10 + i
            group = list(groups)[index % 3]
            body = f"{group}-{index:03d}"
            groups[group].append(body)
            entries.append({"Id": str(i), "MessageBody": body, "MessageGroupId": group, "MessageDeduplicationId": body})
        result = sqs.send_message_batch(QueueUrl=url, Entries=entries)
        assert len(result["Successful"]) == 10 and not result.get("Failed")
    received = drain(sqs, url, 60)
    assert len(received) == 60
    for group, sent in groups.items():
        got = [m["Body"] for m in received if m["Attributes"]["MessageGroupId"] == group]
        assert got == sent, group
    # Sequence numbers grow in the order of sending, across the whole queue.
    by_body = {m["Body"]: int(m["Attributes"]["SequenceNumber"]) for m in received}
    in_send_order = [by_body[body] for body in sorted(by_body, key=lambda b: int(b.split("-")[1]))]
    assert in_send_order == sorted(in_send_order) and len(set(in_send_order)) == 60


def test_sequence_numbers_increase(sqs, make_fifo):
    url = make_fifo()
    numbers = [int(send(sqs, url, f"m{i}", group=f"g{i % 2}")["SequenceNumber"]) for i in range(10)]
    assert numbers == sorted(numbers) and len(set(numbers)) == 10
    batch = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": str(i), "MessageBody": f"b{i}", "MessageGroupId": "g0", "MessageDeduplicationId": f"b{i}"}
            for i in range(3)
        ],
    )
    batch_numbers = [int(e["SequenceNumber"]) for e in sorted(batch["Successful"], key=lambda e: e["Id"])]
    assert batch_numbers == sorted(batch_numbers) and batch_numbers[0] > numbers[-1]


def test_a_group_is_held_while_one_of_its_messages_is_in_flight(lamina, sqs, make_fifo):
    url = make_fifo()
    for i in range(3):
        send(sqs, url, f"a{i}", group="A")
    consumer_one, consumer_two = sqs, lamina.client("sqs")
    first = consumer_one.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=30)["Messages"]
    assert [m["Body"] for m in first] == ["a0"]
    # The other consumer gets nothing of group A while a0 is in flight.
    assert "Messages" not in consumer_two.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    # ... but another group's messages flow meanwhile.
    send(sqs, url, "b0", group="B")
    other = consumer_two.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in other] == ["b0"]
    # Deleting a0 frees the group for whoever asks next, in order.
    consumer_one.delete_message(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])
    rest = consumer_two.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in rest] == ["a1", "a2"]


def test_a_group_comes_back_in_order_after_its_visibility_timeout(sqs, make_fifo):
    url = make_fifo()
    for i in range(3):
        send(sqs, url, f"m{i}", group="G")
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, VisibilityTimeout=1)["Messages"]
    assert [m["Body"] for m in first] == ["m0", "m1"]
    again = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=5, MessageSystemAttributeNames=["ApproximateReceiveCount"]
    )["Messages"]
    # Back from the start of the group: m0 and m1 again (receive count 2), then m2.
    assert [m["Body"] for m in again] == ["m0", "m1", "m2"]
    assert [m["Attributes"]["ApproximateReceiveCount"] for m in again] == ["2", "2", "1"]


def test_a_long_poll_on_a_held_group_waits_without_blocking_the_server(lamina, sqs, make_fifo):
    url = make_fifo()
    send(sqs, url, "head", group="G")
    send(sqs, url, "behind", group="G")
    head = sqs.receive_message(QueueUrl=url, VisibilityTimeout=30)["Messages"][0]
    result: dict = {}

    def poll():
        started = time.monotonic()
        result["response"] = lamina.client("sqs").receive_message(QueueUrl=url, WaitTimeSeconds=2)
        result["elapsed"] = time.monotonic() - started

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(0.3)
    started = time.monotonic()
    sqs.list_queues(MaxResults=1)  # served while the long poll waits
    assert time.monotonic() - started < 1
    sqs.delete_message(QueueUrl=url, ReceiptHandle=head["ReceiptHandle"])  # frees the group: wakes the poll
    poller.join(10)
    assert [m["Body"] for m in result["response"]["Messages"]] == ["behind"]
    assert result["elapsed"] < 1.8


def test_different_groups_interleave(sqs, make_fifo):
    url = make_fifo()
    for i in range(3):
        send(sqs, url, f"x{i}", group="X")
        send(sqs, url, f"y{i}", group="Y")
    seen = []
    for _ in range(2):  # one message of each group in flight at once
        seen.extend(m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"])
    assert sorted(seen) == ["x0", "y0"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)


def test_deduplication_with_an_explicit_id(sqs, make_fifo):
    url = make_fifo()
    first = send(sqs, url, "original", group="G", dedup="same-id")
    second = send(sqs, url, "a different body", group="G", dedup="same-id")
    assert second["MessageId"] == first["MessageId"]
    assert second["SequenceNumber"] == first["SequenceNumber"]
    assert second["MD5OfMessageBody"] == md5_hex("a different body")
    batch = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[{"Id": "dup", "MessageBody": "batch", "MessageGroupId": "G", "MessageDeduplicationId": "same-id"}],
    )
    assert batch["Successful"][0]["MessageId"] == first["MessageId"]
    third = send(sqs, url, "another", group="G", dedup="other-id")
    assert third["MessageId"] != first["MessageId"]
    received = drain(sqs, url, 2)
    assert [m["Body"] for m in received] == ["original", "another"]
    assert received[0]["Attributes"]["MessageDeduplicationId"] == "same-id"
    # Within the window, an id stays taken even after its message was deleted.
    assert send(sqs, url, "late", group="G", dedup="same-id")["MessageId"] == first["MessageId"]
    assert counts(sqs, url) == (0, 0, 0)


def test_content_based_deduplication(sqs, make_fifo):
    url = make_fifo(ContentBasedDeduplication="true")
    first = sqs.send_message(QueueUrl=url, MessageBody="same body", MessageGroupId="G")
    again = sqs.send_message(QueueUrl=url, MessageBody="same body", MessageGroupId="H")
    assert again["MessageId"] == first["MessageId"]
    other = sqs.send_message(QueueUrl=url, MessageBody="other body", MessageGroupId="G")
    assert other["MessageId"] != first["MessageId"]
    explicit = sqs.send_message(
        QueueUrl=url, MessageBody="same body", MessageGroupId="G", MessageDeduplicationId="explicit-wins"
    )
    assert explicit["MessageId"] != first["MessageId"]
    received = drain(sqs, url, 3)
    assert sorted(m["Body"] for m in received) == ["other body", "same body", "same body"]
    assert counts(sqs, url) == (0, 0, 0)


def test_fifo_system_attributes(sqs, make_fifo):
    url = make_fifo()
    sent = send(sqs, url, "attrs", group="grp-1", dedup="dd-1")
    message = sqs.receive_message(QueueUrl=url, MessageSystemAttributeNames=["All"])["Messages"][0]
    attributes = message["Attributes"]
    assert attributes["MessageGroupId"] == "grp-1"
    assert attributes["MessageDeduplicationId"] == "dd-1"
    assert attributes["SequenceNumber"] == sent["SequenceNumber"]
    assert attributes["ApproximateReceiveCount"] == "1"


def test_missing_message_group_id(lamina, sqs, make_fifo):
    url = make_fifo(ContentBasedDeduplication="true")
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl=url, MessageBody="no group")
    assert sqs_error(excinfo) == ("MissingParameter", 400)
    assert "MessageGroupId" in excinfo.value.response["Error"]["Message"]
    batch = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "ok", "MessageBody": "grouped", "MessageGroupId": "G"},
            {"Id": "bad", "MessageBody": "ungrouped"},
        ],
    )
    assert [e["Id"] for e in batch["Successful"]] == ["ok"]
    assert [(e["Id"], e["Code"], e["SenderFault"]) for e in batch["Failed"]] == [("bad", "MissingParameter", True)]


def test_no_deduplication_id_without_content_based_deduplication(sqs, make_fifo):
    url = make_fifo()
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="G")
    assert sqs_error(excinfo) == ("InvalidParameterValue", 400)
    assert "ContentBasedDeduplication" in excinfo.value.response["Error"]["Message"]
    assert counts(sqs, url) == (0, 0, 0)


def test_per_message_delay_is_refused(sqs, make_fifo):
    url = make_fifo()
    with pytest.raises(ClientError) as excinfo:
        send(sqs, url, "x", group="G", DelaySeconds=5)
    assert sqs_error(excinfo) == ("InvalidParameterValue", 400)
    assert "DelaySeconds" in excinfo.value.response["Error"]["Message"]
    # An explicit 0 is accepted, as AWS accepts it (some SDKs always send it).
    send(sqs, url, "no-delay", group="G", DelaySeconds=0)
    [first] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"]
    assert first["Body"] == "no-delay"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    # A queue-wide delay is allowed on a FIFO queue (and applies to a message sent with 0).
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "1"})
    send(sqs, url, "queue-delayed", group="G", DelaySeconds=0)
    assert counts(sqs, url) == (0, 0, 1)
    message = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"][0]
    assert message["Body"] == "queue-delayed"


def test_fifo_parameters_on_a_standard_queue(sqs, unique_name):
    url = sqs.create_queue(QueueName=unique_name)["QueueUrl"]
    try:
        with pytest.raises(ClientError) as excinfo:
            sqs.send_message(QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")
        assert sqs_error(excinfo) == ("InvalidParameterValue", 400)
    finally:
        sqs.delete_queue(QueueUrl=url)


def test_fifo_dead_letter_queue_keeps_group_and_order(sqs, make_fifo):
    dlq = make_fifo("-dlq")
    dlq_arn = attributes_of(sqs, dlq, "QueueArn")["QueueArn"]
    source = make_fifo("-src", RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1}))
    for i in range(3):
        send(sqs, source, f"d{i}", group="G")
    assert len(sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]) == 3
    assert "Messages" not in sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10)
    received = drain(sqs, dlq, 3)
    assert [m["Body"] for m in received] == ["d0", "d1", "d2"]
    assert all(m["Attributes"]["MessageGroupId"] == "G" for m in received)


def test_deduplication_scope_message_group(sqs, make_fifo):
    url = make_fifo(DeduplicationScope="messageGroup", FifoThroughputLimit="perMessageGroupId")
    a = send(sqs, url, "in A", group="A", dedup="same-id")
    b = send(sqs, url, "in B", group="B", dedup="same-id")  # another group: another message
    assert a["MessageId"] != b["MessageId"]
    assert send(sqs, url, "again in A", group="A", dedup="same-id")["MessageId"] == a["MessageId"]
    bodies = []
    for _ in range(5):
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert sorted(bodies) == ["in A", "in B"]


def test_the_deduplication_window_survives_a_restart(lamina_factory):
    # A producer that retries after a crash is what deduplication is for: the retry of a
    # message that was accepted (and even consumed and deleted) before the kill is still a
    # duplicate afterwards.
    server = lamina_factory()
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="orders.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    first = send(sqs, url, "order 1", group="G", dedup="order-1")
    kept = send(sqs, url, "order 2", group="G", dedup="order-2")
    [message] = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])  # order 1 is gone

    server.restart(kill=True)
    sqs = server.client("sqs")
    again = send(sqs, url, "order 1, retried", group="G", dedup="order-1")
    assert (again["MessageId"], again["SequenceNumber"]) == (first["MessageId"], first["SequenceNumber"])
    assert send(sqs, url, "order 2, retried", group="G", dedup="order-2")["MessageId"] == kept["MessageId"]
    fresh = send(sqs, url, "order 3", group="G", dedup="order-3")
    assert int(fresh["SequenceNumber"]) > int(kept["SequenceNumber"])
    bodies = []
    for _ in range(5):
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert bodies == ["order 2", "order 3"]
