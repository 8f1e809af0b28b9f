"""Asynchronous invocation settings and destinations against a live server: retries as
configured, the Put/Get/Update/Delete/ListFunctionEventInvokeConfig(s) API with AWS's
shapes and errors, the invocation record a destination receives, and events that expire.

A destination here is another Lambda function that prints the record it was given;
the test reads it back from that function's log group. The suite's server waits 0.2 s
and 0.4 s between retries.
"""

from __future__ import annotations

import datetime
import json
import re
import time
import urllib.request

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ROLE, make_zip

from .test_lambda_helpers import (
    error_of,
    function_arn,
    log_messages,
    server_is_healthy,
    unvalidated_client,
    wait_for_log_lines,
    wait_until,
)

WORKER = {
    "app.py": """
    def handler(event, context):
        print(f"attempt {event.get('id')} {context.aws_request_id} {context.function_version}")
        if event.get("fail"):
            raise RuntimeError("failing on purpose")
        return {"echo": event.get("id"), "version": context.function_version}
    """
}

RECORDER = {
    "app.py": """
    import json

    def handler(event, context):
        print("RECORD " + json.dumps(event))
    """
}

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def records(server, recorder: str, count: int = 1, timeout: float = 20.0) -> list[dict]:
    lines = wait_for_log_lines(server, recorder, "RECORD ", count=count, timeout=timeout)
    return [json.loads(line[len("RECORD ") :]) for line in lines]


def attempts(server, name: str, event_id: str) -> list[str]:
    return [m for m in log_messages(server, f"/aws/lambda/{name}") if m.startswith(f"attempt {event_id} ")]


def queue_depth(server) -> int:
    with urllib.request.urlopen(f"{server.url}/_lamina/health", timeout=5) as response:
        return json.loads(response.read())["async_queue_depth"]


def send(client, name: str, event: dict, **more) -> str:
    response = client.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(event).encode(), **more)
    assert response["StatusCode"] == 202
    return response["ResponseMetadata"]["RequestId"]


# --- retries ----------------------------------------------------------------------------------


@pytest.mark.parametrize("retries", [0, 1, 2])
def test_maximum_retry_attempts_gives_that_many_retries(lamina, lambda_client, create_function, unique_name, retries):
    recorder = f"{unique_name}-rec"
    create_function(code=RECORDER, name=recorder)
    create_function(code=WORKER)
    lambda_client.put_function_event_invoke_config(
        FunctionName=unique_name,
        MaximumRetryAttempts=retries,
        DestinationConfig={"OnFailure": {"Destination": function_arn(recorder)}},
    )
    request_id = send(lambda_client, unique_name, {"id": "r", "fail": True})

    # The OnFailure record comes once the last attempt failed: nothing runs after it.
    [record] = records(lamina, recorder)
    assert record["requestContext"]["requestId"] == request_id
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == retries + 1
    lines = wait_for_log_lines(lamina, unique_name, "attempt r ", count=retries + 1)
    assert lines == [f"attempt r {request_id} $LATEST"] * (retries + 1)
    wait_until(lambda: queue_depth(lamina) == 0, what="the async queue to drain")
    assert len(attempts(lamina, unique_name, "r")) == retries + 1


# --- the event invoke config API --------------------------------------------------------------


def test_event_invoke_config_put_get_update_list_delete(lambda_client, create_function, unique_name):
    destination = f"{unique_name}-rec"
    create_function(code=RECORDER, name=destination)
    create_function(code=WORKER, Publish=True)
    lambda_client.create_alias(FunctionName=unique_name, Name="live", FunctionVersion="1")

    response = lambda_client.put_function_event_invoke_config(
        FunctionName=unique_name, MaximumRetryAttempts=1, MaximumEventAgeInSeconds=120
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert response["FunctionArn"] == function_arn(unique_name, "$LATEST")
    assert response["MaximumRetryAttempts"] == 1
    assert response["MaximumEventAgeInSeconds"] == 120
    assert response["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {}}
    assert isinstance(response["LastModified"], datetime.datetime)

    got = lambda_client.get_function_event_invoke_config(FunctionName=unique_name)
    assert {k: v for k, v in got.items() if k != "ResponseMetadata"} == {
        k: v for k, v in response.items() if k != "ResponseMetadata"
    }
    # The qualifier may be given in the name too.
    assert (
        lambda_client.get_function_event_invoke_config(FunctionName=f"{unique_name}:$LATEST")["MaximumRetryAttempts"]
        == 1
    )

    # Update merges: what it does not name stays.
    updated = lambda_client.update_function_event_invoke_config(
        FunctionName=unique_name,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnSuccess": {"Destination": function_arn(destination)}},
    )
    assert updated["MaximumRetryAttempts"] == 0
    assert updated["MaximumEventAgeInSeconds"] == 120
    assert updated["DestinationConfig"] == {"OnSuccess": {"Destination": function_arn(destination)}, "OnFailure": {}}
    updated = lambda_client.update_function_event_invoke_config(FunctionName=unique_name, MaximumEventAgeInSeconds=300)
    assert (updated["MaximumRetryAttempts"], updated["MaximumEventAgeInSeconds"]) == (0, 300)
    assert updated["DestinationConfig"]["OnSuccess"] == {"Destination": function_arn(destination)}

    # Put replaces: what it does not name is gone.
    replaced = lambda_client.put_function_event_invoke_config(FunctionName=unique_name, MaximumRetryAttempts=2)
    assert replaced["MaximumRetryAttempts"] == 2
    assert "MaximumEventAgeInSeconds" not in replaced
    assert replaced["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {}}
    assert "MaximumEventAgeInSeconds" not in lambda_client.get_function_event_invoke_config(FunctionName=unique_name)

    # One config per qualifier.
    aliased = lambda_client.put_function_event_invoke_config(
        FunctionName=unique_name,
        Qualifier="live",
        DestinationConfig={"OnFailure": {"Destination": function_arn(destination)}},
    )
    assert aliased["FunctionArn"] == function_arn(unique_name, "live")
    assert "MaximumRetryAttempts" not in aliased
    assert lambda_client.get_function_event_invoke_config(FunctionName=unique_name)["MaximumRetryAttempts"] == 2
    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_function_event_invoke_config(FunctionName=unique_name, Qualifier="1")
    assert error_of(excinfo)[:2] == ("ResourceNotFoundException", 404)

    listed = lambda_client.list_function_event_invoke_configs(FunctionName=unique_name)["FunctionEventInvokeConfigs"]
    assert sorted(config["FunctionArn"] for config in listed) == [
        function_arn(unique_name, "$LATEST"),
        function_arn(unique_name, "live"),
    ]
    for config in listed:
        assert set(config) <= {
            "LastModified",
            "FunctionArn",
            "MaximumRetryAttempts",
            "MaximumEventAgeInSeconds",
            "DestinationConfig",
        }
        assert isinstance(config["LastModified"], datetime.datetime)
    page = lambda_client.list_function_event_invoke_configs(FunctionName=unique_name, MaxItems=1)
    assert len(page["FunctionEventInvokeConfigs"]) == 1 and page["NextMarker"]
    rest = lambda_client.list_function_event_invoke_configs(FunctionName=unique_name, Marker=page["NextMarker"])
    assert len(rest["FunctionEventInvokeConfigs"]) == 1 and "NextMarker" not in rest

    response = lambda_client.delete_function_event_invoke_config(FunctionName=unique_name)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_function_event_invoke_config(FunctionName=unique_name)
    code, status, message = error_of(excinfo)
    assert (code, status) == ("ResourceNotFoundException", 404)
    assert message == f"The function {function_arn(unique_name, '$LATEST')} doesn't have an EventInvokeConfig"
    with pytest.raises(ClientError) as excinfo:
        lambda_client.delete_function_event_invoke_config(FunctionName=unique_name)
    assert error_of(excinfo)[:2] == ("ResourceNotFoundException", 404)
    listed = lambda_client.list_function_event_invoke_configs(FunctionName=unique_name)["FunctionEventInvokeConfigs"]
    assert [config["FunctionArn"] for config in listed] == [function_arn(unique_name, "live")]


def test_event_invoke_config_errors(lamina, lambda_client, create_function, unique_name):
    create_function(code=WORKER)
    # Update needs a config to update.
    with pytest.raises(ClientError) as excinfo:
        lambda_client.update_function_event_invoke_config(FunctionName=unique_name, MaximumRetryAttempts=1)
    code, status, message = error_of(excinfo)
    assert (code, status) == ("ResourceNotFoundException", 404)
    assert message == f"The function {function_arn(unique_name, '$LATEST')} doesn't have an EventInvokeConfig"

    with pytest.raises(ClientError) as excinfo:
        lambda_client.put_function_event_invoke_config(FunctionName=unique_name)
    code, status, message = error_of(excinfo)
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message == "You must specify at least one of error handling or destination setting."

    for bad in ("arn:aws:s3:::some-bucket", "arn:aws:lambda:us-east-1:000000000000:function:no-such-function"):
        with pytest.raises(ClientError) as excinfo:
            lambda_client.put_function_event_invoke_config(
                FunctionName=unique_name, DestinationConfig={"OnFailure": {"Destination": bad}}
            )
        assert error_of(excinfo)[:2] == ("InvalidParameterValueException", 400), bad
    with pytest.raises(ClientError) as excinfo:
        lambda_client.put_function_event_invoke_config(
            FunctionName=unique_name, DestinationConfig={"OnSuccess": {"Destination": function_arn(unique_name)}}
        )
    code, _, message = error_of(excinfo)
    assert code == "InvalidParameterValueException"
    assert message == "You can't specify the function as a destination for itself."
    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_function_event_invoke_config(FunctionName=unique_name)
    assert error_of(excinfo)[0] == "ResourceNotFoundException"  # nothing was saved

    # Out-of-range numbers, sent past botocore's own checks.
    raw = unvalidated_client(lamina)
    for params in ({"MaximumEventAgeInSeconds": 59}, {"MaximumEventAgeInSeconds": 21601}, {"MaximumRetryAttempts": 3}):
        with pytest.raises(ClientError) as excinfo:
            raw.put_function_event_invoke_config(FunctionName=unique_name, **params)
        assert error_of(excinfo)[:2] in (("ValidationException", 400), ("InvalidParameterValueException", 400)), params

    for call in (lambda_client.put_function_event_invoke_config, lambda_client.update_function_event_invoke_config):
        with pytest.raises(ClientError) as excinfo:
            call(FunctionName=unique_name + "-missing", MaximumRetryAttempts=1)
        assert error_of(excinfo)[:2] == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as excinfo:
        lambda_client.put_function_event_invoke_config(
            FunctionName=unique_name, Qualifier="nope", MaximumRetryAttempts=1
        )
    assert error_of(excinfo)[:2] == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as excinfo:
        lambda_client.list_function_event_invoke_configs(FunctionName=unique_name + "-missing")
    assert error_of(excinfo)[:2] == ("ResourceNotFoundException", 404)


# --- destinations -------------------------------------------------------------------------------


def test_on_success_destination_receives_the_invocation_record(lamina, lambda_client, create_function, unique_name):
    recorder = f"{unique_name}-rec"
    create_function(code=RECORDER, name=recorder)
    create_function(code=WORKER)
    lambda_client.put_function_event_invoke_config(
        FunctionName=unique_name, DestinationConfig={"OnSuccess": {"Destination": function_arn(recorder)}}
    )
    request_id = send(lambda_client, unique_name, {"id": "good", "nested": {"n": [1, 2]}})

    [record] = records(lamina, recorder)
    assert set(record) == {
        "version",
        "timestamp",
        "requestContext",
        "requestPayload",
        "responseContext",
        "responsePayload",
    }
    assert record["version"] == "1.0"
    assert STAMP.match(record["timestamp"]), record["timestamp"]
    stamp = datetime.datetime.strptime(record["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc
    )
    assert abs((datetime.datetime.now(datetime.timezone.utc) - stamp).total_seconds()) < 60
    assert record["requestContext"] == {
        "requestId": request_id,
        "functionArn": function_arn(unique_name, "$LATEST"),
        "condition": "Success",
        "approximateInvokeCount": 1,
    }
    assert record["requestPayload"] == {"id": "good", "nested": {"n": [1, 2]}}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"] == {"echo": "good", "version": "$LATEST"}
    # A success goes to OnSuccess only, and is not retried.
    assert attempts(lamina, unique_name, "good") == [f"attempt good {request_id} $LATEST"]


def test_on_failure_destination_of_an_alias(lamina, lambda_client, create_function, unique_name):
    recorder = f"{unique_name}-rec"
    success_recorder = f"{unique_name}-ok"
    create_function(code=RECORDER, name=recorder)
    create_function(code=RECORDER, name=success_recorder)
    create_function(code=WORKER, Publish=True)
    lambda_client.create_alias(FunctionName=unique_name, Name="live", FunctionVersion="1")
    lambda_client.put_function_event_invoke_config(
        FunctionName=unique_name,
        Qualifier="live",
        MaximumRetryAttempts=1,
        DestinationConfig={
            "OnFailure": {"Destination": function_arn(recorder)},
            "OnSuccess": {"Destination": function_arn(success_recorder)},
        },
    )
    request_id = send(lambda_client, unique_name, {"id": "bad", "fail": True}, Qualifier="live")

    [record] = records(lamina, recorder)
    assert record["version"] == "1.0"
    assert STAMP.match(record["timestamp"])
    assert record["requestContext"] == {
        "requestId": request_id,
        "functionArn": function_arn(unique_name, "live"),
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 2,
    }
    assert record["requestPayload"] == {"id": "bad", "fail": True}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "1", "functionError": "Unhandled"}
    assert record["responsePayload"]["errorType"] == "RuntimeError"
    assert record["responsePayload"]["errorMessage"] == "failing on purpose"
    assert isinstance(record["responsePayload"]["stackTrace"], list)
    assert attempts(lamina, unique_name, "bad") == [f"attempt bad {request_id} 1"] * 2
    # The $LATEST config (none) does not apply to the alias's events and vice versa.
    send(lambda_client, unique_name, {"id": "plain", "fail": True})
    wait_for_log_lines(lamina, unique_name, "attempt plain ", count=3)
    wait_until(lambda: queue_depth(lamina) == 0, what="the async queue to drain")
    assert len([m for m in log_messages(lamina, f"/aws/lambda/{recorder}") if m.startswith("RECORD ")]) == 1
    assert log_messages(lamina, f"/aws/lambda/{success_recorder}") == []


def test_missing_destination_function_does_not_stop_the_event(lamina, lambda_client, create_function, unique_name):
    recorder = f"{unique_name}-rec"
    create_function(code=RECORDER, name=recorder)
    create_function(code=WORKER)
    lambda_client.put_function_event_invoke_config(
        FunctionName=unique_name,
        MaximumRetryAttempts=0,
        DestinationConfig={
            "OnSuccess": {"Destination": function_arn(recorder)},
            "OnFailure": {"Destination": function_arn(recorder)},
        },
    )
    lambda_client.delete_function(FunctionName=recorder)  # gone after the config named it

    ok_id = send(lambda_client, unique_name, {"id": "ok"})
    bad_id = send(lambda_client, unique_name, {"id": "bad", "fail": True})
    wait_for_log_lines(lamina, unique_name, "attempt ", count=2)
    wait_until(lambda: queue_depth(lamina) == 0, what="the events to finish")
    time.sleep(0.5)  # a failed delivery must not bring the event back for another attempt
    assert attempts(lamina, unique_name, "ok") == [f"attempt ok {ok_id} $LATEST"]
    assert attempts(lamina, unique_name, "bad") == [f"attempt bad {bad_id} $LATEST"]
    assert server_is_healthy(lamina)
    assert lambda_client.invoke(FunctionName=unique_name, Payload=b'{"id": "sync"}')["StatusCode"] == 200


# --- event age -----------------------------------------------------------------------------------

SLOW_WORKER = {
    "app.py": """
    import time

    def handler(event, context):
        print(f"attempt {event.get('id')} {context.aws_request_id}")
        time.sleep(event.get("sleep", 0))
    """
}


@pytest.mark.slow
def test_events_older_than_their_maximum_age_go_to_on_failure(lamina_factory):
    """Takes 75 s: 60 s is the smallest MaximumEventAgeInSeconds. A reservation of 1 taken by
    a 75 s invocation holds the second event back until it is too old to run."""
    server = lamina_factory()
    client = server.client("lambda")
    client.create_function(
        FunctionName="throttled",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip(SLOW_WORKER)},
        Timeout=90,
    )
    client.create_function(
        FunctionName="recorder",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip(RECORDER)},
    )
    client.put_function_concurrency(FunctionName="throttled", ReservedConcurrentExecutions=1)
    client.put_function_event_invoke_config(
        FunctionName="throttled",
        MaximumEventAgeInSeconds=60,
        DestinationConfig={"OnFailure": {"Destination": function_arn("recorder")}},
    )
    send(client, "throttled", {"id": "blocker", "sleep": 75})
    wait_for_log_lines(server, "throttled", "attempt blocker ", timeout=15)
    started = time.monotonic()
    request_id = send(client, "throttled", {"id": "old"})

    [record] = records(server, "recorder", timeout=90)
    waited = time.monotonic() - started
    assert 59 <= waited < 63, waited  # expired at its age, not when the function got round to it
    assert record["version"] == "1.0"
    assert STAMP.match(record["timestamp"])
    assert record["requestContext"] == {
        "requestId": request_id,
        "functionArn": function_arn("throttled", "$LATEST"),
        "condition": "EventAgeExceeded",
        "approximateInvokeCount": 0,
    }
    assert record["requestPayload"] == {"id": "old"}
    wait_until(lambda: queue_depth(server) == 0, timeout=30, what="the blocker to end")
    assert attempts(server, "throttled", "old") == []  # it never ran
