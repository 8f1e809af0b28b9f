"""Concurrency against a live server: reserved concurrency (its API and its cap), the
account limit, the scaling rate, and async events that wait out their throttles.

Throttles are counted exactly, so the concurrent invokes are truly concurrent: one boto3
client per thread, built before a barrier releases them all at once, and clients that do
not retry a 429 on their own (boto3's default would hide the throttle behind a retry).
"""

from __future__ import annotations

import base64
import json
import threading
import urllib.request
from itertools import pairwise

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import ROLE, make_zip

from .test_lambda_helpers import error_of, log_messages, metric_total, wait_for_log_lines, wait_until

SLEEPER = {
    "app.py": """
    import os, time

    def handler(event, context):
        began = time.time()
        time.sleep(event.get("sleep", 0))
        print(f"ran {event.get('id')} {context.aws_request_id} {began:.6f} {time.time():.6f}")
        return {"id": event.get("id"), "init": os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE")}
    """
}

RESERVED = "ReservedFunctionConcurrentInvocationLimitExceeded"
ACCOUNT = "ConcurrentInvocationLimitExceeded"
SCALING = "FunctionInvocationRateLimitExceeded"


def no_retry_client(server, service: str = "lambda"):
    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1}, read_timeout=120),
    )


def invoke_together(server, calls: list[tuple[str, dict]], **more) -> list[dict]:
    """Invoke every (function, event) at the same moment, one thread and client each.
    Each result: {"ok": payload, "tail": log tail} or {"throttled": Reason, "error": response}."""
    clients = [no_retry_client(server) for _ in calls]  # built before the barrier: creation is slow
    barrier = threading.Barrier(len(calls))
    results: list[dict] = [{} for _ in calls]

    def run(index: int) -> None:
        name, event = calls[index]
        barrier.wait()
        try:
            response = clients[index].invoke(FunctionName=name, Payload=json.dumps(event).encode(), **more)
            tail = base64.b64decode(response.get("LogResult", "")).decode()
            results[index] = {"ok": json.loads(response["Payload"].read()), "tail": tail, "response": response}
        except ClientError as error:
            results[index] = {"throttled": error.response.get("Reason"), "error": error.response}

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def assert_throttle(result: dict, reason: str) -> None:
    error = result["error"]
    assert error["Error"]["Code"] == "TooManyRequestsException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert error["Reason"] == reason
    assert error["Error"]["Message"] == "Rate Exceeded."
    assert "retry-after" in error["ResponseMetadata"]["HTTPHeaders"]


def unreserved(client) -> int:
    return client.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"]


def queue_depth(server) -> int:
    with urllib.request.urlopen(f"{server.url}/_lamina/health", timeout=5) as response:
        return json.loads(response.read())["async_queue_depth"]


# --- the reserved concurrency API ------------------------------------------------------------


def test_reserved_concurrency_api(lambda_client, create_function, unique_name):
    create_function(code=SLEEPER)
    before = unreserved(lambda_client)
    assert lambda_client.get_function_concurrency(FunctionName=unique_name).get("ReservedConcurrentExecutions") is None
    assert "Concurrency" not in lambda_client.get_function(FunctionName=unique_name)

    response = lambda_client.put_function_concurrency(FunctionName=unique_name, ReservedConcurrentExecutions=2)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert response["ReservedConcurrentExecutions"] == 2
    assert lambda_client.get_function_concurrency(FunctionName=unique_name)["ReservedConcurrentExecutions"] == 2
    assert lambda_client.get_function(FunctionName=unique_name)["Concurrency"] == {"ReservedConcurrentExecutions": 2}
    assert unreserved(lambda_client) == before - 2

    # Put again replaces, it does not add.
    lambda_client.put_function_concurrency(FunctionName=unique_name, ReservedConcurrentExecutions=5)
    assert unreserved(lambda_client) == before - 5

    response = lambda_client.delete_function_concurrency(FunctionName=unique_name)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert lambda_client.get_function_concurrency(FunctionName=unique_name).get("ReservedConcurrentExecutions") is None
    assert "Concurrency" not in lambda_client.get_function(FunctionName=unique_name)
    assert unreserved(lambda_client) == before

    # Deleting the function gives its reservation back to the account.
    lambda_client.put_function_concurrency(FunctionName=unique_name, ReservedConcurrentExecutions=3)
    assert unreserved(lambda_client) == before - 3
    lambda_client.delete_function(FunctionName=unique_name)
    assert unreserved(lambda_client) == before


def test_reservation_below_the_minimum_unreserved_is_refused(lambda_client, create_function, unique_name):
    create_function(code=SLEEPER)
    settings = lambda_client.get_account_settings()["AccountLimit"]
    assert settings["ConcurrentExecutions"] == 1000
    too_much = settings["UnreservedConcurrentExecutions"] - 100 + 1
    with pytest.raises(ClientError) as excinfo:
        lambda_client.put_function_concurrency(FunctionName=unique_name, ReservedConcurrentExecutions=too_much)
    code, status, message = error_of(excinfo)
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert "UnreservedConcurrentExecution below its minimum value of [100]" in message
    assert lambda_client.get_function_concurrency(FunctionName=unique_name).get("ReservedConcurrentExecutions") is None
    # Exactly the minimum left over is allowed.
    lambda_client.put_function_concurrency(FunctionName=unique_name, ReservedConcurrentExecutions=too_much - 1)
    assert unreserved(lambda_client) == 100
    lambda_client.delete_function_concurrency(FunctionName=unique_name)


def test_reserved_concurrency_on_a_qualifier_is_refused(lambda_client, create_function, unique_name):
    create_function(code=SLEEPER, Publish=True)
    with pytest.raises(ClientError) as excinfo:
        lambda_client.put_function_concurrency(FunctionName=f"{unique_name}:1", ReservedConcurrentExecutions=1)
    assert error_of(excinfo)[:2] == ("InvalidParameterValueException", 400)


def test_reserved_concurrency_of_a_missing_function(lambda_client, unique_name):
    with pytest.raises(ClientError) as excinfo:
        lambda_client.put_function_concurrency(FunctionName=unique_name, ReservedConcurrentExecutions=1)
    assert error_of(excinfo)[:2] == ("ResourceNotFoundException", 404)


# --- throttling --------------------------------------------------------------------------------


def test_reserved_concurrency_caps_concurrent_invokes(lamina, lambda_client, create_function, unique_name):
    create_function(code=SLEEPER, Timeout=30)
    lambda_client.put_function_concurrency(FunctionName=unique_name, ReservedConcurrentExecutions=2)
    results = invoke_together(lamina, [(unique_name, {"id": f"c{i}", "sleep": 1.5}) for i in range(6)])
    served = [r for r in results if "ok" in r]
    throttled = [r for r in results if "throttled" in r]
    assert len(served) == 2, results
    assert len(throttled) == 4
    for result in throttled:
        assert_throttle(result, RESERVED)
    # Once they are done, the slots are free again.
    response = lambda_client.invoke(FunctionName=unique_name, Payload=b'{"id": "after"}')
    assert json.loads(response["Payload"].read())["id"] == "after"


def test_reserved_zero_throttles_everything(lamina, lambda_client, create_function, unique_name):
    create_function(code=SLEEPER)
    lambda_client.put_function_concurrency(FunctionName=unique_name, ReservedConcurrentExecutions=0)
    client = no_retry_client(lamina)
    for _ in range(3):
        with pytest.raises(ClientError) as excinfo:
            client.invoke(FunctionName=unique_name, Payload=b"{}")
        assert_throttle({"error": excinfo.value.response}, RESERVED)
    # Nothing ran: no instance, so no log line.
    assert log_messages(lamina, f"/aws/lambda/{unique_name}") == []
    lambda_client.delete_function_concurrency(FunctionName=unique_name)
    assert json.loads(client.invoke(FunctionName=unique_name, Payload=b'{"id": 1}')["Payload"].read())["id"] == 1


def test_account_limit_is_shared_by_unreserved_functions(lamina_factory):
    server = lamina_factory(LAMINA_ACCOUNT_CONCURRENCY="3")
    client = server.client("lambda")
    for name in ("first", "second"):
        client.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": make_zip(SLEEPER)},
            Timeout=30,
        )
    limits = client.get_account_settings()["AccountLimit"]
    assert limits["ConcurrentExecutions"] == 3
    assert limits["UnreservedConcurrentExecutions"] == 3
    # The minimum unreserved is min(100, limit) = 3: nothing can be reserved.
    with pytest.raises(ClientError) as excinfo:
        client.put_function_concurrency(FunctionName="first", ReservedConcurrentExecutions=1)
    code, _, message = error_of(excinfo)
    assert code == "InvalidParameterValueException"
    assert "minimum value of [3]" in message

    calls = [("first", {"id": f"a{i}", "sleep": 1.5}) for i in range(3)] + [
        ("second", {"id": f"b{i}", "sleep": 1.5}) for i in range(2)
    ]
    results = invoke_together(server, calls)
    served = [r for r in results if "ok" in r]
    throttled = [r for r in results if "throttled" in r]
    assert len(served) == 3, results
    assert len(throttled) == 2
    for result in throttled:
        assert_throttle(result, ACCOUNT)
    # The limit is on concurrency, not on a count: afterwards both functions run again.
    for name in ("first", "second"):
        assert json.loads(client.invoke(FunctionName=name, Payload=b'{"id": "x"}')["Payload"].read())["id"] == "x"


def test_scaling_rate_throttles_new_instances_not_warm_ones(lamina_factory):
    server = lamina_factory(LAMINA_SCALE_PER_10S="2")
    client = server.client("lambda")
    client.create_function(
        FunctionName="burst",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip(SLEEPER)},
        Timeout=30,
    )
    results = invoke_together(server, [("burst", {"id": f"b{i}", "sleep": 1.0}) for i in range(5)], LogType="Tail")
    served = [r for r in results if "ok" in r]
    throttled = [r for r in results if "throttled" in r]
    assert len(served) == 2, results
    assert all("Init Duration" in r["tail"] for r in served)
    assert len(throttled) == 3
    for result in throttled:
        assert_throttle(result, SCALING)

    # The two warm instances keep serving, concurrently, without a token; a third is refused.
    results = invoke_together(server, [("burst", {"id": f"w{i}", "sleep": 1.0}) for i in range(3)], LogType="Tail")
    served = [r for r in results if "ok" in r]
    throttled = [r for r in results if "throttled" in r]
    assert len(served) == 2, results
    assert all("Init Duration" not in r["tail"] for r in served)
    assert len(throttled) == 1
    assert_throttle(throttled[0], SCALING)
    for i in range(5):
        response = client.invoke(FunctionName="burst", Payload=json.dumps({"id": i}).encode(), LogType="Tail")
        assert json.loads(response["Payload"].read())["id"] == i
        assert "Init Duration" not in base64.b64decode(response["LogResult"]).decode()


# --- async events under throttling ----------------------------------------------------------


def test_throttled_async_events_are_retried_until_they_run(lamina_factory):
    server = lamina_factory(LAMINA_ASYNC_THROTTLE_BACKOFF="0.05")
    client = server.client("lambda")
    name = "one-at-a-time"
    client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip(SLEEPER)},
        Timeout=30,
    )
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    accepted = {}
    for i in range(6):
        response = client.invoke(
            FunctionName=name, InvocationType="Event", Payload=json.dumps({"id": f"e{i}", "sleep": 0.2}).encode()
        )
        assert response["StatusCode"] == 202
        accepted[f"e{i}"] = response["ResponseMetadata"]["RequestId"]

    lines = wait_for_log_lines(server, name, "ran e", count=len(accepted), timeout=60)
    wait_until(lambda: queue_depth(server) == 0, timeout=10, what="the async queue to drain")
    lines = [line for line in log_messages(server, f"/aws/lambda/{name}") if line.startswith("ran e")]
    ran = sorted((line.split()[1], line.split()[2]) for line in lines)
    # Every event ran exactly once (a throttle is not an attempt), under its own request id...
    assert ran == sorted(accepted.items())
    # ... and never two at once.
    spans = sorted((float(line.split()[3]), float(line.split()[4])) for line in lines)
    for (_, end), (begin, _) in pairwise(spans):
        assert begin >= end - 0.01, spans


RECORDER = {
    "app.py": """
    import json

    def handler(event, context):
        print("RECORD " + json.dumps(event))
    """
}


def test_events_of_a_function_with_reserved_concurrency_zero_are_dropped_not_retried(lamina_factory):
    # AWS does not retry these ("Zero reserved concurrency: No retry"): each event goes to
    # the OnFailure destination and the dead-letter queue at once, unrun, and counts as
    # dropped. A throttle backoff far longer than the test shows that nothing waits for it.
    server = lamina_factory(LAMINA_ASYNC_THROTTLE_BACKOFF="60")
    client = server.client("lambda")
    sqs = server.client("sqs")
    name, recorder = "held-back", "held-back-rec"
    client.create_function(
        FunctionName=recorder,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip(RECORDER)},
    )
    dlq_url = sqs.create_queue(QueueName="held-back-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip(SLEEPER)},
        Timeout=30,
        DeadLetterConfig={"TargetArn": dlq_arn},
    )
    recorder_arn = client.get_function(FunctionName=recorder)["Configuration"]["FunctionArn"]
    client.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnFailure": {"Destination": recorder_arn}}
    )
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    accepted = {}
    for i in range(3):
        response = client.invoke(
            FunctionName=name, InvocationType="Event", Payload=json.dumps({"id": f"e{i}"}).encode()
        )
        assert response["StatusCode"] == 202  # accepted all the same: the reservation is checked when it runs
        accepted[response["ResponseMetadata"]["RequestId"]] = f"e{i}"

    lines = wait_for_log_lines(server, recorder, "RECORD ", count=3, timeout=15)
    records = [json.loads(line[len("RECORD ") :]) for line in lines]
    assert {r["requestContext"]["requestId"] for r in records} == set(accepted)
    for record in records:
        assert record["requestContext"]["condition"] == "ZeroReservedConcurrency"
        assert record["requestContext"]["approximateInvokeCount"] == 0
        assert record["requestPayload"] == {"id": accepted[record["requestContext"]["requestId"]]}
        assert "responsePayload" not in record
    wait_until(lambda: queue_depth(server) == 0, timeout=10, what="the dropped events to leave the queue")

    messages = []
    for _ in range(20):
        messages += sqs.receive_message(
            QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if len(messages) >= 3:
            break
    assert sorted(json.loads(m["Body"])["id"] for m in messages) == ["e0", "e1", "e2"]
    for message in messages:
        attributes = message["MessageAttributes"]
        assert attributes["RequestID"]["StringValue"] in accepted
        assert attributes["ErrorCode"] == {"DataType": "Number", "StringValue": "429"}
        assert "zero reserved concurrent executions" in attributes["ErrorMessage"]["StringValue"]
    assert not [line for line in log_messages(server, f"/aws/lambda/{name}") if line.startswith("ran e")]

    cloudwatch = server.client("cloudwatch")
    wait_until(
        lambda: metric_total(cloudwatch, "AsyncEventsDropped", {"FunctionName": name}) == 3,
        timeout=10,
        what="AsyncEventsDropped to count the three",
    )

    # Lifting the reservation brings nothing back: the events are gone, as on AWS.
    client.delete_function_concurrency(FunctionName=name)
    response = client.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"id": "after"}')
    assert response["StatusCode"] == 202
    wait_for_log_lines(server, name, "ran after", timeout=15)
    assert not [line for line in log_messages(server, f"/aws/lambda/{name}") if line.startswith("ran e")]


def test_idle_instances_make_room_at_the_instance_cap(lamina_factory):
    # After one function's burst, its idle instances must not keep another function from
    # starting: at LAMINA_MAX_INSTANCES the idle instance used longest ago gives way. Only
    # when every instance is busy is the invoke refused, and counted as a throttle.
    server = lamina_factory(LAMINA_MAX_INSTANCES="3")
    client = server.client("lambda")
    for name in ("burst", "other"):
        client.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": make_zip(SLEEPER)},
            Timeout=30,
        )
    results = invoke_together(server, [("burst", {"id": f"b{i}", "sleep": 0.5}) for i in range(3)])
    assert all("ok" in r for r in results), results
    # Three idle instances of "burst" fill the cap; "other" still runs, and so does "burst".
    assert client.invoke(FunctionName="other", Payload=b'{"id": "o1"}')["StatusCode"] == 200
    assert client.invoke(FunctionName="burst", Payload=b'{"id": "b9"}')["StatusCode"] == 200

    # Every instance busy: the fourth concurrent invoke has nowhere to run.
    results = invoke_together(
        server, [("burst", {"id": f"c{i}", "sleep": 1.5}) for i in range(3)] + [("other", {"id": "o2", "sleep": 1.5})]
    )
    refused = [r for r in results if "throttled" in r]
    assert len(refused) == 1, results
    assert refused[0]["throttled"] == ACCOUNT
    assert refused[0]["error"]["ResponseMetadata"]["HTTPStatusCode"] == 429
    cloudwatch = server.client("cloudwatch")
    wait_until(
        lambda: metric_total(cloudwatch, "Throttles", {}) == 1,
        timeout=10,
        what="the refused invoke to count as a throttle",
    )
