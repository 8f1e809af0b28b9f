"""Asynchronous invocation against a live server: Event invokes run, failures are retried
twice (the suite's server waits 0.2 s and 0.4 s between attempts), InvokeAsync works.

Sandboxes have a private /tmp, so what a function did is read back from its log group."""

from __future__ import annotations

import json
import time
import urllib.request

from .test_lambda_helpers import log_messages, wait_for_log_lines, wait_until

ASYNC = {
    "app.py": """
    def handler(event, context):
        print(f"attempt {event['id']} {context.aws_request_id} {context.function_version}")
        if event.get("fail"):
            raise RuntimeError("failing on purpose")
        return "ok"
    """
}


def queue_depth(server) -> int:
    with urllib.request.urlopen(f"{server.url}/_lamina/health", timeout=5) as response:
        return json.loads(response.read())["async_queue_depth"]


def test_event_invoke_runs_once(lamina, lambda_client, create_function, unique_name):
    create_function(code=ASYNC)
    response = lambda_client.invoke(FunctionName=unique_name, InvocationType="Event", Payload=json.dumps({"id": "e1"}))
    assert response["StatusCode"] == 202
    request_id = response["ResponseMetadata"]["RequestId"]
    lines = wait_for_log_lines(lamina, unique_name, "attempt e1")
    assert lines == [f"attempt e1 {request_id} $LATEST"]
    group = f"/aws/lambda/{unique_name}"
    wait_until(
        lambda: any(m.startswith(f"REPORT RequestId: {request_id}") for m in log_messages(lamina, group)),
        what="the REPORT line of the async invocation",
    )
    # A success is not retried.
    time.sleep(0.8)
    assert len([m for m in log_messages(lamina, group) if "attempt e1" in m]) == 1


def test_failing_event_is_retried_twice(lamina, lambda_client, create_function, unique_name):
    create_function(code=ASYNC)
    response = lambda_client.invoke(
        FunctionName=unique_name, InvocationType="Event", Payload=json.dumps({"id": "boom", "fail": True})
    )
    assert response["StatusCode"] == 202
    request_id = response["ResponseMetadata"]["RequestId"]
    started = time.monotonic()
    lines = wait_for_log_lines(lamina, unique_name, "attempt boom", count=3)
    assert time.monotonic() - started >= 0.5, "retries wait their delays (0.2 s, then 0.4 s)"
    # Each retry is the same invocation: the same request id.
    assert lines == [f"attempt boom {request_id} $LATEST"] * 3
    # ... and there is no fourth attempt.
    time.sleep(1.0)
    group = f"/aws/lambda/{unique_name}"
    assert len([m for m in log_messages(lamina, group) if "attempt boom" in m]) == 3
    assert any("[ERROR] RuntimeError: failing on purpose" in m for m in log_messages(lamina, group))


def test_many_events_all_run(lamina, lambda_client, create_function, unique_name):
    create_function(code=ASYNC)
    for i in range(20):
        assert (
            lambda_client.invoke(
                FunctionName=unique_name, InvocationType="Event", Payload=json.dumps({"id": f"n{i:02d}"})
            )["StatusCode"]
            == 202
        )
    lines = wait_for_log_lines(lamina, unique_name, "attempt n", count=20)
    assert sorted(line.split()[1] for line in lines) == [f"n{i:02d}" for i in range(20)]
    wait_until(lambda: queue_depth(lamina) == 0, what="the async queue to drain")


def test_event_invoke_of_an_alias_runs_its_version(lamina, lambda_client, create_function, unique_name):
    create_function(code=ASYNC, Publish=True)
    lambda_client.create_alias(FunctionName=unique_name, Name="live", FunctionVersion="1")
    response = lambda_client.invoke(
        FunctionName=unique_name, Qualifier="live", InvocationType="Event", Payload=json.dumps({"id": "aliased"})
    )
    assert response["StatusCode"] == 202
    [line] = wait_for_log_lines(lamina, unique_name, "attempt aliased")
    assert line.endswith(" 1")


def test_invoke_async(lamina, lambda_client, create_function, unique_name):
    create_function(code=ASYNC)
    response = lambda_client.invoke_async(FunctionName=unique_name, InvokeArgs=json.dumps({"id": "old-api"}))
    assert response["Status"] == 202
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 202
    [line] = wait_for_log_lines(lamina, unique_name, "attempt old-api")
    assert line.endswith("$LATEST")
