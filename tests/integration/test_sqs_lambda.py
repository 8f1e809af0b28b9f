"""SQS event source mappings against a live server: the mapping API and its validation,
then real deliveries to real functions: the event's shape (checked with
aws-lambda-powertools' SqsModel), batching, partial batch failures, redelivery and
dead-letter queues, filtering, FIFO order, enabling and disabling, maximum concurrency.

What a function saw is read back from what it printed, through CloudWatch Logs."""

from __future__ import annotations

import base64
import json
import time

import pytest
from botocore.exceptions import ClientError

from .test_lambda_helpers import error_of, function_arn, log_messages, wait_until
from .test_sqs import counts, md5_hex, md5_of_attributes

SqsModel = pytest.importorskip("aws_lambda_powertools.utilities.parser.models").SqsModel

MARK = "SQS-EVENT"
RECORDER = {
    "app.py": f"""
    import json
    import time

    def handler(event, context):
        started = time.time()
        print("{MARK} %.6f %s" % (started, json.dumps(event)))
        failures = []
        for record in event["Records"]:
            try:
                body = json.loads(record["body"])
            except ValueError:
                body = {{}}
            if not isinstance(body, dict):
                body = {{}}
            count = int(record["attributes"]["ApproximateReceiveCount"])
            if body.get("sleep"):
                time.sleep(body["sleep"])
            if body.get("always_raise") or count < body.get("raise_until", 0):
                raise RuntimeError("failing on purpose")
            if count < body.get("fail_until", 0):
                failures.append({{"itemIdentifier": record["messageId"]}})
            if count < body.get("malformed_until", 0):
                return {{"batchItemFailures": [{{"itemIdentifier": "not-a-message-of-this-batch"}}]}}
        print("SPAN %.6f %.6f" % (started, time.time()))
        return {{"batchItemFailures": failures}}
    """
}


@pytest.fixture
def recorder(create_function, unique_name):
    create_function(code=RECORDER, Timeout=30)
    return unique_name


def seen(lamina, function_name: str) -> list[tuple[float, dict]]:
    """(start time, event) of every invocation the function logged, oldest first."""
    found = []
    for line in log_messages(lamina, f"/aws/lambda/{function_name}"):
        at = line.find(MARK)
        if at >= 0:
            _, started, payload = line[at:].split(" ", 2)
            found.append((float(started), json.loads(payload)))
    return sorted(found, key=lambda item: item[0])


def seen_records(lamina, function_name: str) -> list[dict]:
    return [record for _, event in seen(lamina, function_name) for record in event["Records"]]


def wait_for_records(lamina, function_name: str, count: int, timeout: float = 20.0) -> list[dict]:
    return wait_until(
        lambda: (lambda r: r if len(r) >= count else None)(seen_records(lamina, function_name)),
        timeout=timeout,
        interval=0.1,
        what=f"{count} records delivered to {function_name}",
    )


def wait_empty(sqs, url: str, timeout: float = 20.0) -> None:
    wait_until(lambda: counts(sqs, url) == (0, 0, 0), timeout=timeout, interval=0.1, what="the queue to drain")


def send_batch(sqs, url: str, bodies: list, **more) -> list[str]:
    ids = []
    for start in range(0, len(bodies), 10):
        entries = [
            {"Id": str(i), "MessageBody": b if isinstance(b, str) else json.dumps(b), **more}
            for i, b in enumerate(bodies[start : start + 10])
        ]
        result = sqs.send_message_batch(QueueUrl=url, Entries=entries)
        assert not result.get("Failed"), result["Failed"]
        ids.extend(e["MessageId"] for e in sorted(result["Successful"], key=lambda e: int(e["Id"])))
    return ids


def body_of(record: dict) -> str:
    try:
        return json.loads(record["body"])["name"]
    except (ValueError, KeyError, TypeError):
        return record["body"]


# --- the mapping API ----------------------------------------------------------------------------


def test_event_source_mapping_lifecycle(lambda_client, create_function, queue, recorder, mappings):
    url, arn = queue()
    created = mappings(EventSourceArn=arn, FunctionName=recorder)
    assert created["State"] == "Creating"
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert created["EventSourceArn"] == arn
    assert created["FunctionArn"] == function_arn(recorder)
    assert created["BatchSize"] == 10
    assert created["MaximumBatchingWindowInSeconds"] == 0
    assert created["StateTransitionReason"] == "USER_INITIATED"
    assert created["EventSourceMappingArn"].endswith(f":event-source-mapping:{created['UUID']}")
    assert abs(created["LastModified"].timestamp() - time.time()) < 60
    mapping_id = created["UUID"]

    got = wait_until(
        lambda: (lambda m: m if m["State"] == "Enabled" else None)(
            lambda_client.get_event_source_mapping(UUID=mapping_id)
        ),
        timeout=5,
        what="Enabled",
    )
    assert got["UUID"] == mapping_id and got["EventSourceArn"] == arn

    with pytest.raises(ClientError) as excinfo:
        lambda_client.create_event_source_mapping(EventSourceArn=arn, FunctionName=recorder)
    assert error_of(excinfo)[:2] == ("ResourceConflictException", 409)
    assert mapping_id in error_of(excinfo)[2]

    # Listing: by function (exactly that function, not every name it prefixes) and by queue.
    create_function(code=RECORDER, name=recorder + "0")
    other = mappings(EventSourceArn=arn, FunctionName=recorder + "0")
    by_function = lambda_client.list_event_source_mappings(FunctionName=recorder)["EventSourceMappings"]
    assert [m["UUID"] for m in by_function] == [mapping_id]
    by_queue = lambda_client.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"]
    assert sorted(m["UUID"] for m in by_queue) == sorted([mapping_id, other["UUID"]])
    page = lambda_client.list_event_source_mappings(EventSourceArn=arn, MaxItems=1)
    assert len(page["EventSourceMappings"]) == 1 and page["NextMarker"]
    rest = lambda_client.list_event_source_mappings(EventSourceArn=arn, MaxItems=1, Marker=page["NextMarker"])
    assert {page["EventSourceMappings"][0]["UUID"], rest["EventSourceMappings"][0]["UUID"]} == {
        mapping_id,
        other["UUID"],
    }

    updated = lambda_client.update_event_source_mapping(UUID=mapping_id, BatchSize=5, MaximumBatchingWindowInSeconds=1)
    assert updated["State"] == "Updating"
    assert updated["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert updated["BatchSize"] == 5 and updated["MaximumBatchingWindowInSeconds"] == 1
    got = lambda_client.get_event_source_mapping(UUID=mapping_id)
    assert got["BatchSize"] == 5 and got["State"] == "Enabled"

    disabling = lambda_client.update_event_source_mapping(UUID=mapping_id, Enabled=False)
    assert disabling["State"] == "Disabling"
    wait_until(
        lambda: lambda_client.get_event_source_mapping(UUID=mapping_id)["State"] == "Disabled",
        timeout=5,
        what="Disabled",
    )
    enabling = lambda_client.update_event_source_mapping(UUID=mapping_id, Enabled=True)
    assert enabling["State"] == "Enabling"
    wait_until(
        lambda: lambda_client.get_event_source_mapping(UUID=mapping_id)["State"] == "Enabled",
        timeout=5,
        what="Enabled again",
    )

    deleted = lambda_client.delete_event_source_mapping(UUID=mapping_id)
    assert deleted["State"] == "Deleting"
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202
    for call in (
        lambda: lambda_client.get_event_source_mapping(UUID=mapping_id),
        lambda: lambda_client.delete_event_source_mapping(UUID=mapping_id),
        lambda: lambda_client.update_event_source_mapping(UUID=mapping_id, BatchSize=1),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_of(excinfo)[:2] == ("ResourceNotFoundException", 404)


def test_a_disabled_mapping_can_be_created(lambda_client, queue, recorder, mappings):
    _, arn = queue()
    created = mappings(EventSourceArn=arn, FunctionName=recorder, Enabled=False)
    assert created["State"] == "Disabled"
    assert lambda_client.get_event_source_mapping(UUID=created["UUID"])["State"] == "Disabled"


def test_event_source_mapping_validation(lambda_client, queue, recorder, mappings):
    _, arn = queue()
    _, fifo_arn = queue(".fifo")
    problems = [
        (dict(EventSourceArn=arn, FunctionName=recorder, BatchSize=11), "InvalidParameterValueException", 400),
        (
            dict(EventSourceArn=fifo_arn, FunctionName=recorder, BatchSize=11, MaximumBatchingWindowInSeconds=1),
            "InvalidParameterValueException",
            400,
        ),
        (dict(EventSourceArn=arn + "-missing", FunctionName=recorder), "InvalidParameterValueException", 400),
        (dict(EventSourceArn=arn, FunctionName=recorder + "-missing"), "InvalidParameterValueException", 400),
        (
            dict(EventSourceArn=arn, FunctionName=recorder, FunctionResponseTypes=["Nonsense"]),
            "ValidationException",
            400,
        ),
    ]
    for params, code, status in problems:
        with pytest.raises(ClientError) as excinfo:
            lambda_client.create_event_source_mapping(**params)
        assert error_of(excinfo)[:2] == (code, status), params
    assert lambda_client.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"] == []

    # More than 10 is fine on a standard queue with a batching window.
    big = mappings(EventSourceArn=arn, FunctionName=recorder, BatchSize=100, MaximumBatchingWindowInSeconds=1)
    assert big["BatchSize"] == 100
    with pytest.raises(ClientError) as excinfo:
        lambda_client.update_event_source_mapping(UUID=big["UUID"], MaximumBatchingWindowInSeconds=0)
    assert error_of(excinfo)[:2] == ("InvalidParameterValueException", 400)
    assert lambda_client.get_event_source_mapping(UUID=big["UUID"])["MaximumBatchingWindowInSeconds"] == 1


# --- deliveries -----------------------------------------------------------------------------------


def test_the_event_is_what_lambda_sends(lamina, sqs, queue, recorder, mappings):
    url, arn = queue()
    attributes = {
        "text": {"DataType": "String", "StringValue": "héllo"},
        "number": {"DataType": "Number", "StringValue": "42"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
    }
    with_attributes = sqs.send_message(
        QueueUrl=url, MessageBody=json.dumps({"name": "first"}), MessageAttributes=attributes
    )
    plain = sqs.send_message(QueueUrl=url, MessageBody="not json at all")
    mappings(EventSourceArn=arn, FunctionName=recorder)
    records = wait_for_records(lamina, recorder, 2)
    wait_empty(sqs, url)

    for _, event in seen(lamina, recorder):
        parsed = SqsModel(**event)  # raises if the shape is not Lambda's
        assert all(record.eventSource == "aws:sqs" for record in parsed.Records)
    assert len(records) == 2
    by_id = {record["messageId"]: record for record in records}
    first, second = by_id[with_attributes["MessageId"]], by_id[plain["MessageId"]]
    assert first["body"] == json.dumps({"name": "first"})
    assert first["md5OfBody"] == md5_hex(first["body"]) == with_attributes["MD5OfMessageBody"]
    assert first["md5OfMessageAttributes"] == md5_of_attributes(attributes)
    assert first["eventSourceARN"] == arn and first["awsRegion"] == "us-east-1"
    assert first["receiptHandle"]
    assert first["messageAttributes"] == {
        "text": {"stringValue": "héllo", "stringListValues": [], "binaryListValues": [], "dataType": "String"},
        "number": {"stringValue": "42", "stringListValues": [], "binaryListValues": [], "dataType": "Number"},
        "blob": {
            "binaryValue": base64.b64encode(b"\x00\x01\xff").decode(),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "Binary",
        },
    }
    system = first["attributes"]
    assert system["ApproximateReceiveCount"] == "1"
    assert set(system) >= {"ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"}
    assert second["body"] == "not json at all" and second["messageAttributes"] == {}


def test_batch_size(lamina, sqs, queue, recorder, mappings):
    url, arn = queue()
    sent = send_batch(sqs, url, [{"name": f"m{i}"} for i in range(12)])
    mappings(EventSourceArn=arn, FunctionName=recorder, BatchSize=5)
    wait_for_records(lamina, recorder, 12)
    wait_empty(sqs, url)
    events = [event for _, event in seen(lamina, recorder)]
    sizes = [len(event["Records"]) for event in events]
    assert max(sizes) == 5 and all(size <= 5 for size in sizes), sizes
    assert sorted(r["messageId"] for e in events for r in e["Records"]) == sorted(sent)


def test_batching_window_gathers_messages_sent_apart(lamina, sqs, queue, recorder, mappings, lambda_client):
    url, arn = queue()
    mapping = mappings(EventSourceArn=arn, FunctionName=recorder, BatchSize=10, MaximumBatchingWindowInSeconds=2)
    wait_until(lambda: lambda_client.get_event_source_mapping(UUID=mapping["UUID"])["State"] == "Enabled", timeout=5)
    for i in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"name": f"w{i}"}))
        time.sleep(0.1)
    records = wait_for_records(lamina, recorder, 5)
    events = seen(lamina, recorder)
    assert len(events) == 1, [len(e["Records"]) for _, e in events]
    assert sorted(body_of(r) for r in records) == [f"w{i}" for i in range(5)]


def test_report_batch_item_failures_redelivers_only_the_failed(lamina, sqs, queue, recorder, mappings):
    url, arn = queue(VisibilityTimeout=1)
    send_batch(sqs, url, [{"name": "ok-1"}, {"name": "failing", "fail_until": 2}, {"name": "ok-2"}, {"name": "ok-3"}])
    mappings(EventSourceArn=arn, FunctionName=recorder, FunctionResponseTypes=["ReportBatchItemFailures"])
    wait_for_records(lamina, recorder, 5)
    wait_empty(sqs, url)
    time.sleep(1.2)  # one more visibility timeout: nothing else comes back
    records = seen_records(lamina, recorder)
    names = sorted(body_of(r) for r in records)
    assert names == ["failing", "failing", "ok-1", "ok-2", "ok-3"]
    assert [r["attributes"]["ApproximateReceiveCount"] for r in records if body_of(r) == "failing"] == ["1", "2"]


def test_report_batch_item_failures_on_a_fifo_queue_deletes_what_was_not_reported(
    lamina, sqs, queue, recorder, mappings
):
    # As on AWS: the function decides what comes back. Here it reports only the middle
    # message of a group; the messages after it, which succeeded, are not delivered again.
    url, arn = queue(".fifo", VisibilityTimeout=1, ContentBasedDeduplication="true")
    send_batch(sqs, url, [{"name": "a-1"}, {"name": "a-2", "fail_until": 2}, {"name": "a-3"}], MessageGroupId="a")
    mappings(EventSourceArn=arn, FunctionName=recorder, FunctionResponseTypes=["ReportBatchItemFailures"])
    wait_for_records(lamina, recorder, 4)
    wait_empty(sqs, url)
    time.sleep(1.2)  # one more visibility timeout: nothing else comes back
    names = [body_of(r) for r in seen_records(lamina, recorder)]
    assert sorted(names) == ["a-1", "a-2", "a-2", "a-3"]


def test_a_malformed_batch_item_failures_response_fails_the_whole_batch(lamina, sqs, queue, recorder, mappings):
    url, arn = queue(VisibilityTimeout=1)
    send_batch(sqs, url, [{"name": "bad-answer", "malformed_until": 2}, {"name": "innocent"}])
    mappings(EventSourceArn=arn, FunctionName=recorder, FunctionResponseTypes=["ReportBatchItemFailures"])
    records = wait_for_records(lamina, recorder, 4)
    wait_empty(sqs, url)
    counts_by_name: dict[str, list[str]] = {}
    for record in records:
        counts_by_name.setdefault(body_of(record), []).append(record["attributes"]["ApproximateReceiveCount"])
    assert counts_by_name == {"bad-answer": ["1", "2"], "innocent": ["1", "2"]}


def test_a_raising_function_leaves_the_batch_for_redelivery(lamina, sqs, queue, recorder, mappings):
    url, arn = queue(VisibilityTimeout=1)
    send_batch(sqs, url, [{"name": "flaky", "raise_until": 2}, {"name": "bystander"}])
    mappings(EventSourceArn=arn, FunctionName=recorder)
    records = wait_for_records(lamina, recorder, 4)
    wait_empty(sqs, url)
    assert sorted(body_of(r) for r in records) == ["bystander", "bystander", "flaky", "flaky"]
    assert sorted(r["attributes"]["ApproximateReceiveCount"] for r in records) == ["1", "1", "2", "2"]


def test_a_message_that_keeps_failing_ends_in_the_dead_letter_queue(lamina, sqs, queue, recorder, mappings):
    dlq_url, dlq_arn = queue("-dlq")
    url, arn = queue(
        VisibilityTimeout=1, RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
    )
    sent = sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"name": "poison", "always_raise": True}))
    mappings(EventSourceArn=arn, FunctionName=recorder)
    dead = wait_until(
        lambda: sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1, MessageSystemAttributeNames=["All"]).get(
            "Messages"
        ),
        timeout=20,
        interval=0,
        what="the message in the dead-letter queue",
    )
    assert dead[0]["MessageId"] == sent["MessageId"]
    assert dead[0]["Attributes"]["DeadLetterQueueSourceArn"] == arn
    records = seen_records(lamina, recorder)
    assert [r["attributes"]["ApproximateReceiveCount"] for r in records] == ["1", "2"]
    assert counts(sqs, url) == (0, 0, 0)


def test_filter_criteria(lamina, sqs, queue, recorder, mappings, lambda_client):
    url, arn = queue()
    send_batch(
        sqs,
        url,
        [
            {"name": "keep-1", "kind": "keep"},
            {"name": "drop-1", "kind": "drop"},
            {"name": "keep-2", "kind": "keep"},
            "plain text",
            {"name": "drop-2"},
        ],
    )
    mapping = mappings(
        EventSourceArn=arn,
        FunctionName=recorder,
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"body": {"kind": ["keep"]}})}]},
    )
    assert json.loads(mapping["FilterCriteria"]["Filters"][0]["Pattern"]) == {"body": {"kind": ["keep"]}}
    wait_for_records(lamina, recorder, 2)
    wait_empty(sqs, url)  # messages that do not match are deleted, as on AWS
    assert sorted(body_of(r) for r in seen_records(lamina, recorder)) == ["keep-1", "keep-2"]

    with pytest.raises(ClientError) as excinfo:
        lambda_client.create_event_source_mapping(
            EventSourceArn=queue("-other")[1],
            FunctionName=recorder,
            FilterCriteria={"Filters": [{"Pattern": "{not json"}]},
        )
    assert error_of(excinfo)[:2] == ("InvalidParameterValueException", 400)


def test_filters_are_ored_and_see_attributes(lamina, sqs, queue, recorder, mappings):
    url, arn = queue()
    red = {"color": {"DataType": "String", "StringValue": "red"}}
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"name": "big", "size": 50}))
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"name": "small", "size": 5}))
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"name": "small-red", "size": 1}), MessageAttributes=red)
    mappings(
        EventSourceArn=arn,
        FunctionName=recorder,
        FilterCriteria={
            "Filters": [
                {"Pattern": json.dumps({"body": {"size": [{"numeric": [">", 10]}]}})},
                {"Pattern": json.dumps({"messageAttributes": {"color": {"stringValue": ["red"]}}})},
            ]
        },
    )
    wait_for_records(lamina, recorder, 2)
    wait_empty(sqs, url)
    assert sorted(body_of(r) for r in seen_records(lamina, recorder)) == ["big", "small-red"]


def test_fifo_order_per_group_through_the_mapping(lamina, sqs, queue, recorder, mappings):
    url, arn = queue(".fifo", ContentBasedDeduplication="true")
    sent: dict[str, list[str]] = {"A": [], "B": []}
    for start in range(0, 16, 8):
        entries = []
        for i in range(start, start + 8):
            group = "AB"[i % 2]
            name = f"{group}{i:02d}"
            sent[group].append(name)
            entries.append({"Id": str(i - start), "MessageBody": json.dumps({"name": name}), "MessageGroupId": group})
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    mappings(EventSourceArn=arn, FunctionName=recorder, BatchSize=3)
    records = wait_for_records(lamina, recorder, 16)
    wait_empty(sqs, url)
    assert len(records) == 16  # nothing failed, so nothing came twice
    for group, names in sent.items():
        delivered = [body_of(r) for r in records if r["attributes"]["MessageGroupId"] == group]
        assert delivered == names, group
    assert all(r["attributes"]["SequenceNumber"] for r in records)


def test_disabling_stops_delivery_and_enabling_resumes_it(lamina, sqs, queue, recorder, mappings, lambda_client):
    url, arn = queue()
    mapping_id = mappings(EventSourceArn=arn, FunctionName=recorder)["UUID"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"name": "before"}))
    wait_for_records(lamina, recorder, 1)
    wait_empty(sqs, url)

    lambda_client.update_event_source_mapping(UUID=mapping_id, Enabled=False)
    wait_until(lambda: lambda_client.get_event_source_mapping(UUID=mapping_id)["State"] == "Disabled", timeout=5)
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"name": "while disabled"}))
    time.sleep(1.5)  # a poller would have taken it by now
    assert counts(sqs, url) == (1, 0, 0)
    assert [body_of(r) for r in seen_records(lamina, recorder)] == ["before"]

    lambda_client.update_event_source_mapping(UUID=mapping_id, Enabled=True)
    records = wait_for_records(lamina, recorder, 2)
    assert [body_of(r) for r in records] == ["before", "while disabled"]
    wait_empty(sqs, url)


def test_maximum_concurrency_caps_concurrent_invocations(lamina, sqs, queue, recorder, mappings):
    url, arn = queue()
    send_batch(sqs, url, [{"name": f"slow-{i}", "sleep": 0.6} for i in range(8)])
    mappings(EventSourceArn=arn, FunctionName=recorder, BatchSize=1, ScalingConfig={"MaximumConcurrency": 2})
    wait_for_records(lamina, recorder, 8, timeout=30)

    def spans():
        found = []
        for line in log_messages(lamina, f"/aws/lambda/{recorder}"):
            at = line.find("SPAN ")
            if at >= 0:
                found.append(tuple(float(x) for x in line[at:].split()[1:3]))
        return found if len(found) >= 8 else None

    intervals = wait_until(spans, timeout=10, interval=0.1, what="8 finished invocations")
    edges = sorted(
        [(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals],
        key=lambda edge: (edge[0], edge[1]),
    )
    running = peak = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    print(f"peak concurrency {peak} over {len(intervals)} invocations")
    assert peak == 2


def test_updating_a_mapping_lets_the_batch_in_hand_finish(lamina, sqs, queue, recorder, mappings, lambda_client):
    url, arn = queue()  # VisibilityTimeout 30: a lost batch would sit in flight far longer than this test
    mapping_id = mappings(EventSourceArn=arn, FunctionName=recorder)["UUID"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"name": "in hand", "sleep": 1.0}))
    wait_for_records(lamina, recorder, 1)  # the function has started on it
    lambda_client.update_event_source_mapping(UUID=mapping_id, BatchSize=5)
    wait_empty(sqs, url, timeout=10)
    lambda_client.update_event_source_mapping(UUID=mapping_id, Enabled=False)
    assert [body_of(r) for r in seen_records(lamina, recorder)] == ["in hand"]


def test_deleting_the_queue_under_a_mapping_does_not_stall_the_server(
    lamina, sqs, queue, recorder, mappings, lambda_client
):
    url, arn = queue()
    mapping_id = mappings(EventSourceArn=arn, FunctionName=recorder)["UUID"]
    wait_until(lambda: lambda_client.get_event_source_mapping(UUID=mapping_id)["State"] == "Enabled", timeout=5)
    sqs.delete_queue(QueueUrl=url)
    time.sleep(0.3)  # the poller's next receive finds the queue gone
    for _ in range(3):
        started = time.monotonic()
        sqs.list_queues(MaxResults=1)
        assert time.monotonic() - started < 1
    assert lambda_client.get_event_source_mapping(UUID=mapping_id)["UUID"] == mapping_id
