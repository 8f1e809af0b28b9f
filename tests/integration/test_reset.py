"""Lamina's reset (POST /_lamina/reset, `lamina reset`, LocalStack's /_localstack/state/reset):
every resource and message gone, as on a server started on an empty data dir, and for good
(nothing comes back after kill -9); the same names can be created again, fresh."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

from tests.conftest import ROLE, ensure_role, make_zip

CODE = make_zip({"app.py": "def handler(event, context):\n    print('ran')\n    return event\n"})


def health(server) -> dict:
    with urllib.request.urlopen(f"{server.url}/_lamina/health", timeout=5) as response:
        return json.loads(response.read())


def post(server, path: str, method: str = "POST") -> tuple[int, dict]:
    request = urllib.request.Request(f"{server.url}{path}", data=b"" if method == "POST" else None, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, {}


def populate(server) -> None:
    """One of each kind of resource."""
    lam, sqs, sns = server.client("lambda"), server.client("sqs"), server.client("sns")
    events, scheduler, kinesis = server.client("events"), server.client("scheduler"), server.client("kinesis")
    logs, cloudwatch = server.client("logs"), server.client("cloudwatch")

    lam.create_function(
        FunctionName="fn", Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": CODE}
    )
    lam.publish_version(FunctionName="fn")
    lam.create_alias(FunctionName="fn", Name="live", FunctionVersion="1")
    assert lam.invoke(FunctionName="fn", Payload=b"{}")["StatusCode"] == 200  # an instance now runs
    lam.put_function_concurrency(FunctionName="fn", ReservedConcurrentExecutions=0)
    assert lam.invoke(FunctionName="fn", InvocationType="Event", Payload=b"{}")["StatusCode"] == 202  # held

    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
    fifo = sqs.create_queue(QueueName="q.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    sqs.send_message(QueueUrl=fifo, MessageBody="once", MessageGroupId="g", MessageDeduplicationId="d1")
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    lam.create_event_source_mapping(FunctionName="fn", EventSourceArn=arn, Enabled=False)

    topic = sns.create_topic(Name="t")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)

    events.create_event_bus(Name="bus")
    events.put_rule(Name="r", EventBusName="bus", EventPattern=json.dumps({"source": ["x"]}))
    events.put_targets(Rule="r", EventBusName="bus", Targets=[{"Id": "1", "Arn": arn}])

    scheduler.create_schedule(
        Name="s",
        ScheduleExpression="rate(1 hour)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": arn, "RoleArn": ROLE},
    )

    kinesis.create_stream(StreamName="st", ShardCount=1)
    kinesis.put_record(StreamName="st", Data=b"x", PartitionKey="k")

    logs.create_log_group(logGroupName="/my/group")
    cloudwatch.put_metric_data(Namespace="Mine", MetricData=[{"MetricName": "m", "Value": 1.0}])

    assert health(server)["instances"] >= 1
    with urllib.request.urlopen(f"{server.url}/metrics", timeout=5) as response:
        exposed = response.read().decode()
    assert "lamina_mine_m_count 1" in exposed


def assert_empty(server) -> None:
    lam, sqs, sns = server.client("lambda"), server.client("sqs"), server.client("sns")
    events, scheduler, kinesis = server.client("events"), server.client("scheduler"), server.client("kinesis")
    logs, cloudwatch = server.client("logs"), server.client("cloudwatch")
    assert lam.list_functions()["Functions"] == []
    assert lam.list_event_source_mappings()["EventSourceMappings"] == []
    assert lam.list_layers()["Layers"] == []
    assert sqs.list_queues().get("QueueUrls", []) == []
    assert sns.list_topics()["Topics"] == [] and sns.list_subscriptions()["Subscriptions"] == []
    assert [b["Name"] for b in events.list_event_buses()["EventBuses"]] == ["default"]
    assert events.list_rules()["Rules"] == []
    assert [s["Name"] for s in scheduler.list_schedules()["Schedules"]] == []
    assert kinesis.list_streams()["StreamNames"] == []
    assert logs.describe_log_groups()["logGroups"] == []
    assert cloudwatch.list_metrics(Namespace="Mine")["Metrics"] == []
    with urllib.request.urlopen(f"{server.url}/metrics", timeout=5) as response:
        exposed = response.read().decode()
    assert 'function="fn"' not in exposed and "lamina_mine_m" not in exposed  # Prometheus totals too
    status = health(server)
    assert status["instances"] == 0 and status["async_queue_depth"] == 0


def test_reset_leaves_nothing_and_nothing_comes_back(lamina_factory):
    server = lamina_factory()
    populate(server)
    status, answer = post(server, "/_lamina/reset")
    assert status == 200 and answer["status"] == "reset"
    assert_empty(server)
    assert os.listdir(os.path.join(server.data_dir, "code")) == []

    # The same names again, fresh: messages gone, the FIFO dedup id accepted again.
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", []) == []
    fifo = sqs.create_queue(QueueName="q.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    sqs.send_message(QueueUrl=fifo, MessageBody="again", MessageGroupId="g", MessageDeduplicationId="d1")
    (message,) = sqs.receive_message(QueueUrl=fifo, WaitTimeSeconds=1)["Messages"]
    assert message["Body"] == "again"
    sqs.delete_queue(QueueUrl=url)
    sqs.delete_queue(QueueUrl=fifo)
    lam = server.client("lambda")
    ensure_role(server.client("iam"))  # the reset took IAM's roles with it: its execution role again
    lam.create_function(
        FunctionName="fn", Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": CODE}
    )
    assert lam.get_function_concurrency(FunctionName="fn").get("ReservedConcurrentExecutions") is None
    assert json.loads(lam.invoke(FunctionName="fn", Payload=b'{"a": 1}')["Payload"].read()) == {"a": 1}
    lam.delete_function(FunctionName="fn")
    server.client("logs").delete_log_group(logGroupName="/aws/lambda/fn")  # outlives its function, as on AWS

    server.restart(kill=True)  # the store is really empty
    assert_empty(server)


def test_get_is_refused_and_localstack_path_resets_too(lamina_factory):
    server = lamina_factory()
    assert post(server, "/_lamina/reset", method="GET")[0] == 405
    assert post(server, "/_localstack/state/reset", method="GET")[0] == 405
    server.client("sqs").create_queue(QueueName="q")
    status, _ = post(server, "/_localstack/state/reset")
    assert status == 200
    assert server.client("sqs").list_queues().get("QueueUrls", []) == []


def test_lamina_reset_command(lamina_factory):
    server = lamina_factory()
    server.client("sns").create_topic(Name="t")
    done = subprocess.run(
        [sys.executable, "-m", "lamina.cli", "reset", "--endpoint", server.url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.strip().splitlines()) == 1 and "reset" in done.stdout
    assert server.client("sns").list_topics()["Topics"] == []


def test_a_long_poll_in_flight_does_not_hold_the_reset_up(lamina_factory):
    """A long poll in flight is cut short (503) after a grace rather than holding the reset up."""
    import threading

    server = lamina_factory()
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    outcome: dict = {}

    def long_poll() -> None:
        try:
            outcome["poll"] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)
        except Exception as error:  # noqa: BLE001
            outcome["poll"] = error

    poller = threading.Thread(target=long_poll)
    poller.start()
    time.sleep(0.5)
    started = time.monotonic()
    assert post(server, "/_lamina/reset")[0] == 200
    assert time.monotonic() - started < 10
    poller.join(timeout=10)
    # Cut short with a 503, which botocore retries: the retry finds the queue gone.
    assert any(word in str(outcome["poll"]) for word in ("ServiceUnavailable", "NonExistentQueue"))
    assert server.client("sqs").list_queues().get("QueueUrls", []) == []
