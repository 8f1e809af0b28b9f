"""S3 bucket notifications against a live server with boto3: the configuration (kept as S3
answers it, the legacy operations beside it), AWS's refusals word for word (events, ARNs,
filter rules, overlaps, destinations that are missing or do not let S3 send), s3:TestEvent,
and deliveries to every destination type (a queue, a topic, a function, EventBridge's
default bus), each message validated with aws-lambda-powertools' models."""

from __future__ import annotations

import itertools
import json

import pytest
from aws_lambda_powertools.utilities.parser.models import S3EventNotificationEventBridgeModel, S3Model
from botocore.exceptions import ClientError

from tests.conftest import allow_service, remove_bucket

from .test_lambda_helpers import function_arn, wait_for_log_lines
from .test_sns import PRINTER, make_queue, nothing_arrives, receive

S3 = "s3.amazonaws.com"
ACCOUNT = "000000000000"
_names = itertools.count(1)


@pytest.fixture(scope="module")
def s3(lamina):
    return lamina.client("s3", s3={"addressing_style": "path"})


@pytest.fixture
def bucket(s3):
    name = f"notify-{next(_names)}-lamina"
    s3.create_bucket(Bucket=name)
    yield name
    s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration={})
    remove_bucket(s3, name)


def s3_queue(sqs, name: str, bucket: str) -> tuple[str, str]:
    """A queue whose policy lets S3 send for the bucket (what AWS's guide has one write)."""
    url, arn = make_queue(sqs, name)
    allow_service(sqs, arn, S3, f"arn:aws:s3:::{bucket}")
    return url, arn


def queue_config(arn: str, events: list[str], **filters: str) -> dict:
    config: dict = {"QueueArn": arn, "Events": events}
    if filters:
        config["Filter"] = {"Key": {"FilterRules": [{"Name": n, "Value": v} for n, v in filters.items()]}}
    return config


def refused(call, **kwargs) -> dict:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]


def arriving(sqs, url: str, timeout: float = 15.0) -> list[dict]:
    """The next message(s): one at least, or the test fails."""
    got = receive(sqs, url, 1, timeout)
    assert got, "no message arrived"
    return got


def records(sqs, url: str, count: int = 1, skip_tests: bool = True) -> list[dict]:
    """The S3 records of the next messages (s3:TestEvent messages skipped), each message
    validated with powertools' S3Model."""
    out: list[dict] = []
    while len(out) < count:
        for message in arriving(sqs, url):
            body = json.loads(message["Body"])
            if skip_tests and body.get("Event") == "s3:TestEvent":
                continue
            S3Model.model_validate(body)
            out.extend(body["Records"])
    return out


# --- the configuration ------------------------------------------------------------------------------


def test_configuration_is_kept_as_s3_answers_it(s3, sqs, bucket, unique_name, lamina, create_function):
    _, queue = s3_queue(sqs, unique_name, bucket)
    topic = lamina.client("sns").create_topic(Name=unique_name)["TopicArn"]
    allow_service(lamina.client("sns"), topic, S3, f"arn:aws:s3:::{bucket}")
    create_function(code=PRINTER)
    allow_service(lamina.client("lambda"), function_arn(unique_name), S3, f"arn:aws:s3:::{bucket}")
    assert "QueueConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [queue_config(queue, ["s3:ObjectCreated:*"], prefix="in/", SUFFIX=".csv")],
            "TopicConfigurations": [{"Id": "topic", "TopicArn": topic, "Events": ["s3:ObjectRemoved:*"]}],
            "LambdaFunctionConfigurations": [
                {"Id": "fn", "LambdaFunctionArn": function_arn(unique_name), "Events": ["s3:ObjectTagging:Put"]}
            ],
            "EventBridgeConfiguration": {},
        },
    )
    got = s3.get_bucket_notification_configuration(Bucket=bucket)
    [queued] = got["QueueConfigurations"]
    assert queued["Id"]  # made for a configuration given none
    assert queued["QueueArn"] == queue and queued["Events"] == ["s3:ObjectCreated:*"]
    assert queued["Filter"] == {
        "Key": {"FilterRules": [{"Name": "Prefix", "Value": "in/"}, {"Name": "Suffix", "Value": ".csv"}]}
    }
    assert got["TopicConfigurations"] == [{"Id": "topic", "TopicArn": topic, "Events": ["s3:ObjectRemoved:*"]}]
    assert got["LambdaFunctionConfigurations"] == [
        {"Id": "fn", "LambdaFunctionArn": function_arn(unique_name), "Events": ["s3:ObjectTagging:Put"]}
    ]
    assert got["EventBridgeConfiguration"] == {}
    # The legacy operation reads the same configuration, one of each kind.
    legacy = s3.get_bucket_notification(Bucket=bucket)
    assert legacy["QueueConfiguration"]["Queue"] == queue
    assert legacy["CloudFunctionConfiguration"]["CloudFunction"] == function_arn(unique_name)
    # An empty configuration turns every notification off.
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    got = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert not any(name in got for name in ("QueueConfigurations", "TopicConfigurations", "EventBridgeConfiguration"))


def test_legacy_put_bucket_notification(s3, sqs, bucket, unique_name):
    url, queue = s3_queue(sqs, unique_name, bucket)
    s3.put_bucket_notification(
        Bucket=bucket,
        NotificationConfiguration={"QueueConfiguration": {"Id": "old", "Queue": queue, "Event": "s3:ObjectCreated:*"}},
    )
    assert s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"] == [
        {"Id": "old", "QueueArn": queue, "Events": ["s3:ObjectCreated:*"]}
    ]
    s3.put_object(Bucket=bucket, Key="legacy", Body=b"x")
    [record] = records(sqs, url)
    assert record["s3"]["configurationId"] == "old" and record["s3"]["object"]["key"] == "legacy"


def test_refusals_word_for_word(s3, sqs, bucket, unique_name):
    _, queue = s3_queue(sqs, unique_name, bucket)

    def put(*configs: dict) -> dict:
        return refused(
            s3.put_bucket_notification_configuration,
            Bucket=bucket,
            NotificationConfiguration={"QueueConfigurations": list(configs)},
        )

    error = put(queue_config(queue, ["s3:ObjectCreated:Nope"]))
    assert (error["Code"], error["Message"]) == ("InvalidArgument", "The event is not supported for notifications")
    error = put(queue_config(queue.replace(":sqs:", ":sns:"), ["s3:ObjectCreated:*"]))
    assert (error["Code"], error["Message"]) == ("InvalidArgument", "The ARN is not well formed")
    error = put(queue_config(queue, ["s3:ObjectCreated:*"], middle="x"))
    assert error["Message"] == "filter rule name must be either prefix or suffix"
    twice = queue_config(queue, ["s3:ObjectCreated:*"], prefix="a")
    twice["Filter"]["Key"]["FilterRules"].append({"Name": "Prefix", "Value": "b"})
    assert put(twice)["Message"] == "Cannot specify more than one prefix rule in a filter."
    error = put(queue_config(queue, ["s3:ObjectCreated:*"], prefix="x" * 1025))
    assert error["Message"] == "Size of filter rule value cannot exceed 1024 bytes in UTF-8 representation"
    overlap = "Configurations overlap. Configurations on the same bucket cannot share a common event type."
    created, put_only = ["s3:ObjectCreated:*"], ["s3:ObjectCreated:Put"]
    for first, second in (
        (queue_config(queue, created), queue_config(queue, put_only)),
        (queue_config(queue, put_only, prefix="img/"), queue_config(queue, put_only)),
        (queue_config(queue, created, prefix="img/"), queue_config(queue, created, prefix="img/2024/")),
        (queue_config(queue, created, prefix="img/"), queue_config(queue, created, suffix=".jpg")),
        (queue_config(queue, created, suffix="jpg"), queue_config(queue, created, suffix=".jpg")),
    ):
        error = put(first, second)
        assert (error["Code"], error["Message"]) == ("InvalidArgument", overlap)
    # Different events, or filters no key passes both: no overlap.
    for first, second in (
        (queue_config(queue, created), queue_config(queue, ["s3:ObjectRemoved:*"])),
        (queue_config(queue, created, prefix="img/"), queue_config(queue, created, prefix="doc/")),
        (
            queue_config(queue, created, prefix="img/", suffix=".jpg"),
            queue_config(queue, created, prefix="img/", suffix=".png"),
        ),
    ):
        s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [first, second]}
        )


def test_destinations_are_validated(s3, sqs, lamina, bucket, unique_name, create_function):
    missing = f"arn:aws:sqs:us-east-1:{ACCOUNT}:{unique_name}-missing"
    _, closed = make_queue(sqs, f"{unique_name}-closed")  # no policy: S3 may not send
    create_function(code=PRINTER)  # no permission for S3 either
    topic = lamina.client("sns").create_topic(Name=unique_name)["TopicArn"]  # its default policy
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration={
                "QueueConfigurations": [
                    queue_config(missing, ["s3:ObjectCreated:*"]),
                    queue_config(closed, ["s3:ObjectRemoved:*"]),
                ],
                "TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectTagging:*"]}],
                "LambdaFunctionConfigurations": [
                    {"LambdaFunctionArn": function_arn(unique_name), "Events": ["s3:ObjectRestore:*"]}
                ],
            },
        )
    error = caught.value.response["Error"]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert (error["Code"], error["Message"]) == (
        "InvalidArgument",
        "Unable to validate the following destination configurations",
    )
    problems = {error[f"ArgumentName{n}"]: error[f"ArgumentValue{n}"] for n in range(1, 5)}
    assert problems == {
        topic: "Permissions on the destination topic do not allow S3 to publish notifications from this bucket",
        missing: "The destination queue does not exist",
        closed: "Permissions on the destination queue do not allow S3 to publish notifications from this bucket",
        function_arn(unique_name): f"Not authorized to invoke function [{function_arn(unique_name)}]",
    }
    assert "QueueConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)
    # A permission for another bucket does not do.
    allow_service(lamina.client("lambda"), function_arn(unique_name), S3, "arn:aws:s3:::another-bucket")
    error = refused(
        s3.put_bucket_notification_configuration,
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": function_arn(unique_name), "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    assert error["ArgumentName1"] == function_arn(unique_name)
    # SkipDestinationValidation takes the configuration as it is.
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={"QueueConfigurations": [queue_config(missing, ["s3:ObjectCreated:*"])]},
        SkipDestinationValidation=True,
    )
    s3.put_object(Bucket=bucket, Key="nowhere", Body=b"x")  # nothing to deliver to: the write is untouched
    assert s3.get_object(Bucket=bucket, Key="nowhere")["Body"].read() == b"x"


def test_a_test_event_reaches_each_queue_named(s3, sqs, bucket, unique_name):
    url, queue = s3_queue(sqs, unique_name, bucket)
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [queue_config(queue, ["s3:ObjectCreated:*"])]}
    )
    [message] = receive(sqs, url, 1)
    test = json.loads(message["Body"])
    assert test["Service"] == "Amazon S3" and test["Event"] == "s3:TestEvent" and test["Bucket"] == bucket
    assert test["Time"].endswith("Z") and test["RequestId"] and test["HostId"]


# --- deliveries ---------------------------------------------------------------------------------------


def test_queue_receives_aws_records(s3, sqs, bucket, unique_name):
    url, queue = s3_queue(sqs, unique_name, bucket)
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {"Id": "created", **queue_config(queue, ["s3:ObjectCreated:*"], prefix="in/")},
                {"Id": "removed", **queue_config(queue, ["s3:ObjectRemoved:Delete"], prefix="in/")},
            ]
        },
    )
    put = s3.put_object(Bucket=bucket, Key="in/a b(1)=x.txt", Body=b"hello")
    s3.put_object(Bucket=bucket, Key="out/ignored.txt", Body=b"no")  # outside the prefix
    [record] = records(sqs, url)
    assert record["eventVersion"] == "2.1" and record["eventSource"] == "aws:s3"
    assert record["awsRegion"] == "us-east-1" and record["eventName"] == "ObjectCreated:Put"
    assert record["eventTime"].endswith("Z") and len(record["eventTime"]) == 24
    assert record["userIdentity"]["principalId"] == f"AWS:{ACCOUNT}"
    assert record["requestParameters"] == {"sourceIPAddress": "127.0.0.1"}
    request_id = put["ResponseMetadata"]["RequestId"]
    assert record["responseElements"]["x-amz-request-id"] == request_id
    s3_part = record["s3"]
    assert s3_part["s3SchemaVersion"] == "1.0" and s3_part["configurationId"] == "created"
    assert s3_part["bucket"]["name"] == bucket and s3_part["bucket"]["arn"] == f"arn:aws:s3:::{bucket}"
    assert s3_part["bucket"]["ownerIdentity"]["principalId"].startswith("A")
    obj = s3_part["object"]
    assert obj["key"] == "in/a+b%281%29%3Dx.txt"  # URL-encoded as S3 writes it
    assert obj["size"] == 5 and obj["eTag"] == put["ETag"].strip('"')
    assert "versionId" not in obj and int(obj["sequencer"], 16) > 0
    s3.copy_object(Bucket=bucket, Key="in/copy", CopySource={"Bucket": bucket, "Key": "in/a b(1)=x.txt"})
    [copied] = records(sqs, url)
    assert copied["eventName"] == "ObjectCreated:Copy" and copied["s3"]["object"]["size"] == 5
    s3.delete_object(Bucket=bucket, Key="in/copy")
    [removed] = records(sqs, url)
    assert removed["eventName"] == "ObjectRemoved:Delete" and removed["s3"]["configurationId"] == "removed"
    assert "size" not in removed["s3"]["object"] and "eTag" not in removed["s3"]["object"]
    assert int(removed["s3"]["object"]["sequencer"], 16) > int(copied["s3"]["object"]["sequencer"], 16)
    assert nothing_arrives(sqs, url)


def test_versioned_bucket_events_carry_version_ids(s3, sqs, bucket, unique_name):
    url, queue = s3_queue(sqs, unique_name, bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                queue_config(queue, ["s3:ObjectCreated:*", "s3:ObjectRemoved:*", "s3:ObjectTagging:*"])
            ]
        },
    )
    version = s3.put_object(Bucket=bucket, Key="k", Body=b"v1")["VersionId"]
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": [{"Key": "a", "Value": "1"}]})
    marker = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
    s3.delete_object(Bucket=bucket, Key="k", VersionId=version)
    got = records(sqs, url, 4)
    assert [r["eventName"] for r in got] == [
        "ObjectCreated:Put",
        "ObjectTagging:Put",
        "ObjectRemoved:DeleteMarkerCreated",
        "ObjectRemoved:Delete",
    ]
    assert [r["s3"]["object"].get("versionId") for r in got] == [version, version, marker, version]
    assert got[1]["eventVersion"] == "2.3" and got[1]["s3"]["object"]["size"] == 2


def test_topic_publishes_with_s3s_subject(s3, sqs, lamina, bucket, unique_name):
    sns = lamina.client("sns")
    topic = sns.create_topic(Name=unique_name)["TopicArn"]
    allow_service(sns, topic, S3, f"arn:aws:s3:::{bucket}")
    url, queue = make_queue(sqs, unique_name)
    allow_service(sqs, queue, "sns.amazonaws.com", topic)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue)
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "TopicConfigurations": [{"Id": "t", "TopicArn": topic, "Events": ["s3:ObjectCreated:Put"]}]
        },
    )
    s3.put_object(Bucket=bucket, Key="via-sns", Body=b"abc")
    messages = []
    while not messages:
        for message in arriving(sqs, url):
            envelope = json.loads(message["Body"])
            assert envelope["Subject"] == "Amazon S3 Notification"
            if json.loads(envelope["Message"]).get("Event") != "s3:TestEvent":
                messages.append(envelope)
    event = S3Model.model_validate_json(messages[0]["Message"])
    assert event.Records[0].s3.object.key == "via-sns" and event.Records[0].s3.configurationId == "t"


def test_function_is_invoked_with_the_records(s3, lamina, lambda_client, bucket, unique_name, create_function):
    create_function(code=PRINTER)
    lambda_client.add_permission(
        FunctionName=unique_name,
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal=S3,
        SourceArn=f"arn:aws:s3:::{bucket}",
        SourceAccount=ACCOUNT,
    )
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"Id": "fn", "LambdaFunctionArn": function_arn(unique_name), "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    s3.put_object(Bucket=bucket, Key="photos/cat.jpg", Body=b"meow")
    [line] = wait_for_log_lines(lamina, unique_name, "EVENT ", timeout=30)
    event = S3Model.model_validate_json(line.split("EVENT ", 1)[1])
    [record] = event.Records
    assert record.eventName == "ObjectCreated:Put" and record.s3.configurationId == "fn"
    assert record.s3.object.key == "photos/cat.jpg" and record.s3.object.size == 4
    assert record.s3.bucket.name == bucket


def test_eventbridge_receives_s3_events(s3, sqs, lamina, bucket, unique_name):
    events = lamina.client("events")
    url, queue = make_queue(sqs, unique_name)
    rule = events.put_rule(
        Name=unique_name,
        EventPattern=json.dumps({"source": ["aws.s3"], "detail": {"bucket": {"name": [bucket]}}}),
    )["RuleArn"]
    allow_service(sqs, queue, "events.amazonaws.com", rule)
    events.put_targets(Rule=unique_name, Targets=[{"Id": "q", "Arn": queue}])
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}})
    put = s3.put_object(Bucket=bucket, Key="a b.txt", Body=b"hello")
    s3.put_object_tagging(Bucket=bucket, Key="a b.txt", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    s3.delete_object(Bucket=bucket, Key="a b.txt")
    got = [json.loads(m["Body"]) for m in receive(sqs, url, 3, timeout=30)]
    by_type = {event["detail-type"]: event for event in got}
    assert set(by_type) == {"Object Created", "Object Tags Added", "Object Deleted"}
    for event in got:
        parsed = S3EventNotificationEventBridgeModel.model_validate(event)
        assert parsed.source == "aws.s3" and parsed.resources == [f"arn:aws:s3:::{bucket}"]
        assert parsed.account == ACCOUNT and parsed.region == "us-east-1"
    created = by_type["Object Created"]["detail"]
    assert created == {
        "version": "0",
        "bucket": {"name": bucket},
        "object": {
            "key": "a b.txt",
            "size": 5,
            "etag": put["ETag"].strip('"'),
            "sequencer": created["object"]["sequencer"],
        },
        "request-id": put["ResponseMetadata"]["RequestId"],
        "requester": ACCOUNT,
        "source-ip-address": "127.0.0.1",
        "reason": "PutObject",
    }
    deleted = by_type["Object Deleted"]["detail"]
    assert deleted["reason"] == "DeleteObject" and deleted["deletion-type"] == "Permanently Deleted"
    assert by_type["Object Tags Added"]["detail"]["object"]["etag"] == put["ETag"].strip('"')


def test_a_bucket_made_again_has_no_configuration(s3, sqs, unique_name):
    name = f"notify-again-{next(_names)}-lamina"
    s3.create_bucket(Bucket=name)
    _, queue = s3_queue(sqs, unique_name, name)
    s3.put_bucket_notification_configuration(
        Bucket=name, NotificationConfiguration={"QueueConfigurations": [queue_config(queue, ["s3:ObjectCreated:*"])]}
    )
    s3.delete_bucket(Bucket=name)
    s3.create_bucket(Bucket=name)
    assert "QueueConfigurations" not in s3.get_bucket_notification_configuration(Bucket=name)
    s3.delete_bucket(Bucket=name)


def test_notifications_survive_kill_9(lamina_factory, tmp_path):
    """Every accepted write's notification arrives, also when the server is killed with
    deliveries pending: the outbox resumes them after the restart (at least once)."""
    server = lamina_factory()
    s3, sqs = server.client("s3", s3={"addressing_style": "path"}), server.client("sqs")
    s3.create_bucket(Bucket="durable-notify")
    url, queue = s3_queue(sqs, "durable-notify", "durable-notify")
    s3.put_bucket_notification_configuration(
        Bucket="durable-notify",
        NotificationConfiguration={"QueueConfigurations": [queue_config(queue, ["s3:ObjectCreated:*"])]},
    )
    keys = {f"k{n:03d}" for n in range(60)}
    for key in sorted(keys):
        s3.put_object(Bucket="durable-notify", Key=key, Body=b"x")
    server.restart(kill=True)
    sqs = server.client("sqs")
    seen: set[str] = set()
    while not keys <= seen:
        for message in arriving(sqs, url, timeout=30):
            body = json.loads(message["Body"])
            seen.update(r["s3"]["object"]["key"] for r in body.get("Records", []))
    assert keys <= seen
