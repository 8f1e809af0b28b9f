"""A queue message that was acknowledged survives kill -9.

On a private server: 5,000 messages sent with SendMessageBatch from several threads (only
the acknowledged ones counted), some received and left in flight, then the server is killed
with SIGKILL in the middle of the second sending burst and started again. Draining the
queue afterwards (in-flight messages come back after their visibility timeout) must find
every acknowledged MessageId."""

from __future__ import annotations

import json
import threading
import time

from botocore.exceptions import BotoCoreError, ClientError

from tests.conftest import ROLE, make_zip

from .test_lambda_helpers import log_messages, wait_until

TOTAL = 5000
SENDERS = 4
VISIBILITY_S = 2


def _send_burst(
    server, url: str, prefix: str, count: int, acked: set, lock: threading.Lock, errors: list
) -> list[threading.Thread]:
    """Threads sending `count` messages in batches of 10; each stops at its first failure."""

    def sender(worker: int) -> None:
        client = server.client("sqs")
        for start in range(worker * 10, count, SENDERS * 10):
            entries = [{"Id": str(i), "MessageBody": f"{prefix}-{start + i}"} for i in range(min(10, count - start))]
            try:
                result = client.send_message_batch(QueueUrl=url, Entries=entries)
            except (BotoCoreError, ClientError) as error:  # the server died under us
                errors.append(error)
                return
            with lock:
                acked.update(entry["MessageId"] for entry in result["Successful"])

    threads = [threading.Thread(target=sender, args=(worker,), daemon=True) for worker in range(SENDERS)]
    for thread in threads:
        thread.start()
    return threads


def test_acknowledged_messages_survive_kill_9(lamina_factory):
    started = time.monotonic()
    server = lamina_factory()
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="crash-safety", Attributes={"VisibilityTimeout": str(VISIBILITY_S)})["QueueUrl"]
    acked: set[str] = set()
    lock = threading.Lock()
    errors: list = []

    # First burst: half the messages, all of them acknowledged.
    for thread in _send_burst(server, url, "first", TOTAL // 2, acked, lock, errors):
        thread.join()
    assert not errors and len(acked) == TOTAL // 2

    # Some in flight: received, not deleted (visible again VISIBILITY_S after the receive).
    in_flight = set()
    for _ in range(20):
        in_flight.update(
            m["MessageId"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        )
    assert len(in_flight) >= 150

    # Second burst, and kill -9 once it is well under way.
    threads = _send_burst(server, url, "second", TOTAL - TOTAL // 2, acked, lock, errors)
    deadline = time.monotonic() + 30
    while len(acked) < TOTAL // 2 + 1000 and time.monotonic() < deadline and any(t.is_alive() for t in threads):
        time.sleep(0.005)
    acked_before_kill = len(acked)
    server.restart(kill=True)
    for thread in threads:
        thread.join(30)
    second_burst = len(acked) - TOTAL // 2
    assert errors, "the kill landed after the second burst was over"
    assert 1000 <= second_burst < TOTAL - TOTAL // 2
    with lock:
        acknowledged = set(acked)

    # Drain: receive and delete until nothing has come for longer than a visibility timeout.
    client = server.client("sqs")
    received: list[str] = []
    last_seen = time.monotonic()
    drain_deadline = time.monotonic() + 40
    while time.monotonic() < drain_deadline:
        messages = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        if messages:
            last_seen = time.monotonic()
            received.extend(m["MessageId"] for m in messages)
            client.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )
        elif time.monotonic() - last_seen > VISIBILITY_S + 1.5:
            break
    lost = acknowledged - set(received)
    duplicates = len(received) - len(set(received))
    print(
        f"acknowledged {len(acknowledged)} (second burst {second_burst}, {acked_before_kill} when killed), "
        f"received {len(set(received))} distinct, {duplicates} twice, unacknowledged extras "
        f"{len(set(received) - acknowledged)}, lost {len(lost)}, in {time.monotonic() - started:.1f}s"
    )
    assert len(lost) == 0, sorted(lost)[:10]
    left = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (left["ApproximateNumberOfMessages"], left["ApproximateNumberOfMessagesNotVisible"]) == ("0", "0")
    assert in_flight <= set(received)  # the ones in flight at the crash came back too


def test_queues_and_mappings_survive_kill_9(lamina_factory):
    server = lamina_factory()
    sqs = server.client("sqs")
    dlq = sqs.create_queue(QueueName="keep-dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    attributes = {
        "FifoQueue": "true",
        "ContentBasedDeduplication": "true",
        "VisibilityTimeout": "2",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5}),
    }
    url = sqs.create_queue(QueueName="keep.fifo", Attributes=attributes, tags={"team": "core"})["QueueUrl"]
    sent = [sqs.send_message(QueueUrl=url, MessageBody=f"m{i}", MessageGroupId="G") for i in range(3)]
    head = sqs.receive_message(QueueUrl=url, VisibilityTimeout=4)["Messages"][0]  # outlasts the restart
    assert head["Body"] == "m0"

    standard = sqs.create_queue(QueueName="feeds-a-function")["QueueUrl"]
    standard_arn = sqs.get_queue_attributes(QueueUrl=standard, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    functions = server.client("lambda")
    functions.create_function(
        FunctionName="consumer",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={
            "ZipFile": make_zip(
                {"app.py": "def handler(event, context):\n    print('GOT', event['Records'][0]['body'])\n"}
            )
        },
    )
    functions.create_event_source_mapping(EventSourceArn=standard_arn, FunctionName="consumer")

    server.restart(kill=True)
    sqs = server.client("sqs")
    found = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert {k: found[k] for k in attributes} == attributes
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "core"}
    # Deduplication remembers what was sent before the crash.
    assert sqs.send_message(QueueUrl=url, MessageBody="m1", MessageGroupId="G")["MessageId"] == sent[1]["MessageId"]
    # The group is still held by its in-flight head, which comes back first, then the rest in order.
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    again = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        WaitTimeSeconds=8,
        MessageSystemAttributeNames=["ApproximateReceiveCount", "SequenceNumber"],
    )["Messages"]
    assert [m["Body"] for m in again] == ["m0", "m1", "m2"]
    assert again[0]["Attributes"]["ApproximateReceiveCount"] == "2"
    assert [m["Attributes"]["SequenceNumber"] for m in again] == [s["SequenceNumber"] for s in sent]
    # The mapping polls again after the restart.
    sqs.send_message(QueueUrl=standard, MessageBody="after the crash")
    wait_until(
        lambda: any("GOT after the crash" in line for line in log_messages(server, "/aws/lambda/consumer")),
        timeout=15,
        what="the mapping to deliver after the restart",
    )
