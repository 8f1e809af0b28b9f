"""Invoke against a live server: invocation types, qualifiers, routing weights, log tails,
response headers, error payloads, and the handler contract (context and environment)."""

from __future__ import annotations

import base64
import collections
import concurrent.futures
import json
import os
import re
import time

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_zip

from .test_lambda_helpers import error_of, function_arn, invoke, log_messages, wait_for_log_lines, wait_until

REPORTER = {
    "app.py": """
    def handler(event, context):
        print("serving", event.get("tag"))
        return {"version": context.function_version, "arn": context.invoked_function_arn, "event": event}
    """
}


def versioned_code(version: int) -> bytes:
    return make_zip(
        {
            "app.py": f"""
        def handler(event, context):
            return {{"v": {version}, "fv": context.function_version}}
        """
        }
    )


def test_request_response_invoke(lambda_client, create_function, unique_name):
    create_function(code=REPORTER)
    response, payload = invoke(lambda_client, unique_name, {"tag": "x", "n": [1, 2]})
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert response["ExecutedVersion"] == "$LATEST"
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amz-executed-version"] == "$LATEST"
    assert payload["event"] == {"tag": "x", "n": [1, 2]}
    assert payload["arn"] == function_arn(unique_name)


def test_empty_payload_is_an_empty_event(lambda_client, create_function, unique_name):
    create_function(code={"app.py": "def handler(event, context):\n    return {'event': event}\n"})
    response = lambda_client.invoke(FunctionName=unique_name)
    assert json.loads(response["Payload"].read()) == {"event": {}}


def test_dry_run_and_event_invocation_types(lamina, lambda_client, create_function, unique_name):
    create_function(
        code={
            "app.py": """
        def handler(event, context):
            print("ran", event["kind"], context.aws_request_id)
            return "done"
        """
        }
    )
    dry = lambda_client.invoke(FunctionName=unique_name, InvocationType="DryRun", Payload=b'{"kind": "dry"}')
    assert dry["StatusCode"] == 204
    assert dry["Payload"].read() == b""

    event = lambda_client.invoke(FunctionName=unique_name, InvocationType="Event", Payload=b'{"kind": "event"}')
    assert event["StatusCode"] == 202
    assert event["Payload"].read() == b""
    request_id = event["ResponseMetadata"]["RequestId"]
    lines = wait_for_log_lines(lamina, unique_name, "ran event")
    assert lines == [f"ran event {request_id}"], "the Event invoke runs with the request id it was accepted under"
    assert not [line for line in log_messages(lamina, f"/aws/lambda/{unique_name}") if "ran dry" in line]

    with pytest.raises(ClientError) as excinfo:
        lambda_client.invoke(FunctionName=unique_name + "-nope", InvocationType="DryRun")
    assert error_of(excinfo)[:2] == ("ResourceNotFoundException", 404)


def test_qualifier_forms(lambda_client, create_function, unique_name):
    create_function(code=versioned_code(1), Publish=True)
    lambda_client.update_function_code(FunctionName=unique_name, ZipFile=versioned_code(2))
    lambda_client.create_alias(FunctionName=unique_name, Name="stable", FunctionVersion="1")

    cases = [
        ({"FunctionName": unique_name}, 2, "$LATEST"),
        ({"FunctionName": unique_name, "Qualifier": "$LATEST"}, 2, "$LATEST"),
        ({"FunctionName": unique_name, "Qualifier": "1"}, 1, "1"),
        ({"FunctionName": unique_name, "Qualifier": "stable"}, 1, "1"),
        ({"FunctionName": f"{unique_name}:1"}, 1, "1"),
        ({"FunctionName": f"{unique_name}:stable"}, 1, "1"),
        ({"FunctionName": f"{unique_name}:$LATEST"}, 2, "$LATEST"),
        ({"FunctionName": function_arn(unique_name)}, 2, "$LATEST"),
        ({"FunctionName": function_arn(unique_name, "1")}, 1, "1"),
        ({"FunctionName": function_arn(unique_name, "stable")}, 1, "1"),
        ({"FunctionName": function_arn(unique_name), "Qualifier": "stable"}, 1, "1"),
        ({"FunctionName": f"000000000000:function:{unique_name}:1"}, 1, "1"),
    ]
    for kwargs, code_version, executed in cases:
        response = lambda_client.invoke(Payload=b"{}", **kwargs)
        payload = json.loads(response["Payload"].read())
        assert (payload["v"], response["ExecutedVersion"]) == (code_version, executed), kwargs
        assert response["ResponseMetadata"]["HTTPHeaders"]["x-amz-executed-version"] == executed
        assert payload["fv"] == executed

    for kwargs in (
        {"FunctionName": unique_name, "Qualifier": "9"},
        {"FunctionName": unique_name, "Qualifier": "missing-alias"},
        {"FunctionName": f"{unique_name}:9"},
    ):
        with pytest.raises(ClientError) as excinfo:
            lambda_client.invoke(Payload=b"{}", **kwargs)
        assert error_of(excinfo)[:2] == ("ResourceNotFoundException", 404)


def test_alias_routing_weights_are_honoured(lambda_client, create_function, unique_name):
    create_function(code=versioned_code(1), Publish=True)
    lambda_client.update_function_code(FunctionName=unique_name, ZipFile=versioned_code(2), Publish=True)
    alias = lambda_client.create_alias(
        FunctionName=unique_name,
        Name="split",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}},
    )
    assert alias["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.5}}
    assert lambda_client.get_alias(FunctionName=unique_name, Name="split")["RoutingConfig"] == {
        "AdditionalVersionWeights": {"2": 0.5}
    }

    seen = collections.Counter()
    for _ in range(100):
        response, payload = invoke(lambda_client, unique_name, Qualifier="split")
        executed = response["ResponseMetadata"]["HTTPHeaders"]["x-amz-executed-version"]
        assert executed == str(payload["v"]) == payload["fv"], "the header names the version that ran"
        seen[executed] += 1
    assert set(seen) == {"1", "2"}
    assert 20 <= seen["2"] <= 80, seen  # 50/50 over 100 draws; outside this is a ~1e-9 event

    # Removing the routing sends everything to the main version again.
    lambda_client.update_alias(FunctionName=unique_name, Name="split", RoutingConfig={"AdditionalVersionWeights": {}})
    assert {invoke(lambda_client, unique_name, Qualifier="split")[0]["ExecutedVersion"] for _ in range(10)} == {"1"}


def test_log_type_tail(lambda_client, create_function, unique_name):
    create_function(
        code={
            "app.py": """
        def handler(event, context):
            print("hello from the handler", event["n"])
            return "ok"
        """
        }
    )
    response, payload = invoke(lambda_client, unique_name, {"n": 7}, LogType="Tail")
    assert payload == "ok"
    request_id = response["ResponseMetadata"]["RequestId"]
    tail = base64.b64decode(response["LogResult"]).decode()
    assert f"START RequestId: {request_id} Version: $LATEST" in tail
    assert "hello from the handler 7" in tail
    assert f"END RequestId: {request_id}" in tail
    assert re.search(
        rf"REPORT RequestId: {request_id}\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\t"
        r"Max Memory Used: \d+ MB",
        tail,
    )
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amz-log-result"] == response["LogResult"]

    # Without LogType there is no tail.
    plain = lambda_client.invoke(FunctionName=unique_name, Payload=b'{"n": 1}')
    assert "LogResult" not in plain


def test_log_tail_is_the_last_4kb(lambda_client, create_function, unique_name):
    create_function(
        code={
            "app.py": """
        def handler(event, context):
            for i in range(400):
                print(f"line {i:04d} " + "x" * 40)
            print("the last words")
            return "ok"
        """
        }
    )
    response, _ = invoke(lambda_client, unique_name, LogType="Tail")
    raw = base64.b64decode(response["LogResult"])
    assert len(raw) <= 4096
    assert len(raw) > 3000
    tail = raw.decode(errors="replace")
    assert "line 0000" not in tail
    assert "line 0399" in tail and "the last words" in tail
    assert "END RequestId" in tail and "REPORT RequestId" in tail


def test_function_output_reaches_its_log_group(lamina, lambda_client, create_function, unique_name):
    create_function(
        code={
            "app.py": """
        def handler(event, context):
            print("log marker", event["token"])
            return context.log_stream_name
        """
        }
    )
    response, stream = invoke(lambda_client, unique_name, {"token": "tok-123"})
    request_id = response["ResponseMetadata"]["RequestId"]
    group = f"/aws/lambda/{unique_name}"
    messages = wait_until(
        lambda: (
            (m := log_messages(lamina, group)) and any(s.startswith("REPORT RequestId: " + request_id) for s in m) and m
        ),
        what="the invocation's log lines",
    )
    joined = "\n".join(messages)
    assert f"START RequestId: {request_id}" in joined
    assert "log marker tok-123" in joined
    assert f"END RequestId: {request_id}" in joined
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", stream)


def test_unhandled_error_payload(lambda_client, create_function, unique_name):
    create_function(
        code={
            "app.py": """
        def helper(value):
            raise ValueError(f"bad value: {value}")

        def handler(event, context):
            helper(event["value"])
        """
        }
    )
    response, payload = invoke(lambda_client, unique_name, {"value": 42}, LogType="Tail")
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amz-function-error"] == "Unhandled"
    assert payload["errorType"] == "ValueError"
    assert payload["errorMessage"] == "bad value: 42"
    assert isinstance(payload["stackTrace"], list) and payload["stackTrace"]
    assert any("helper" in frame and "app.py" in frame for frame in payload["stackTrace"])
    tail = base64.b64decode(response["LogResult"]).decode()
    assert "[ERROR] ValueError: bad value: 42" in tail


def test_context_fields(lambda_client, create_function, unique_name):
    create_function(
        MemorySize=256,
        Timeout=7,
        Publish=True,
        code={
            "app.py": """
        import time
        def handler(event, context):
            remaining = context.get_remaining_time_in_millis()
            time.sleep(0.05)
            return {
                "aws_request_id": context.aws_request_id,
                "function_name": context.function_name,
                "function_version": context.function_version,
                "invoked_function_arn": context.invoked_function_arn,
                "memory_limit_in_mb": context.memory_limit_in_mb,
                "log_group_name": context.log_group_name,
                "log_stream_name": context.log_stream_name,
                "remaining": remaining,
                "remaining_later": context.get_remaining_time_in_millis(),
            }
        """
        },
    )
    response, context = invoke(lambda_client, unique_name)
    assert context["aws_request_id"] == response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    assert context["function_name"] == unique_name
    assert context["function_version"] == "$LATEST"
    assert context["invoked_function_arn"] == function_arn(unique_name)
    assert int(context["memory_limit_in_mb"]) == 256
    assert context["log_group_name"] == f"/aws/lambda/{unique_name}"
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]+", context["log_stream_name"])
    assert 6000 < context["remaining"] <= 7000
    assert context["remaining_later"] <= context["remaining"] - 40

    response, context = invoke(lambda_client, unique_name, Qualifier="1")
    assert context["function_version"] == "1"
    assert context["invoked_function_arn"] == function_arn(unique_name, "1")
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[1\][0-9a-f]+", context["log_stream_name"])
    assert context["aws_request_id"] == response["ResponseMetadata"]["RequestId"]


def test_environment_variables(lambda_client, create_function, unique_name):
    create_function(
        Environment={"Variables": {"GREETING": "hola", "EMPTY": ""}},
        code={
            "app.py": """
        import os
        def handler(event, context):
            names = ["AWS_LAMBDA_FUNCTION_NAME", "AWS_REGION", "_HANDLER", "LAMBDA_TASK_ROOT",
                     "AWS_ENDPOINT_URL", "GREETING", "EMPTY", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                     "AWS_LAMBDA_FUNCTION_VERSION", "AWS_EXECUTION_ENV"]
            values = {name: os.environ.get(name) for name in names}
            values["task_root_has_code"] = os.path.isfile(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "app.py"))
            values["cwd"] = os.getcwd()
            return values
        """
        },
    )
    _, env = invoke(lambda_client, unique_name)
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == unique_name
    assert env["AWS_REGION"] == "us-east-1"
    assert env["_HANDLER"] == "app.handler"
    assert env["task_root_has_code"] is True
    assert os.path.realpath(env["cwd"]) == os.path.realpath(env["LAMBDA_TASK_ROOT"])
    assert env["AWS_ENDPOINT_URL"].startswith("http")
    assert env["GREETING"] == "hola"
    assert env["EMPTY"] == ""
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"


def test_function_calls_lamina_with_boto3(lambda_client, create_function, unique_name):
    """AWS_ENDPOINT_URL and the credentials in the environment let a function use boto3 as is."""
    # A full vCPU (1,769 MB): importing boto3 on 128 MB's CPU share takes seconds.
    create_function(
        Timeout=60,
        MemorySize=1769,
        code={
            "app.py": """
        import boto3
        def handler(event, context):
            client = boto3.client("lambda")
            names = []
            for page in client.get_paginator("list_functions").paginate():
                names.extend(f["FunctionName"] for f in page["Functions"])
            me = client.get_function_configuration(FunctionName=context.function_name)
            return {"found_self": context.function_name in names, "arn": me["FunctionArn"]}
        """
        },
    )
    response, payload = invoke(lambda_client, unique_name)
    assert "FunctionError" not in response, payload
    assert payload == {"found_self": True, "arn": function_arn(unique_name)}


def test_client_context_reaches_the_handler(lambda_client, create_function, unique_name):
    create_function(
        code={
            "app.py": """
        def handler(event, context):
            return context.client_context.custom
        """
        }
    )
    client_context = base64.b64encode(json.dumps({"custom": {"user": "ana"}}).encode()).decode()
    _, payload = invoke(lambda_client, unique_name, ClientContext=client_context)
    assert payload == {"user": "ana"}


def test_invoke_async_api(lamina, lambda_client, create_function, unique_name):
    create_function(
        code={
            "app.py": """
        def handler(event, context):
            print("legacy invoke", event["word"])
        """
        }
    )
    response = lambda_client.invoke_async(FunctionName=unique_name, InvokeArgs=json.dumps({"word": "hello"}))
    assert response["Status"] == 202
    assert wait_for_log_lines(lamina, unique_name, "legacy invoke") == ["legacy invoke hello"]


@pytest.mark.parametrize("event", [None, 0, 3.5, "text", [1, "two", None], {"nested": {"deep": [True, False]}}])
def test_any_json_value_round_trips(lambda_client, create_function, unique_name, event):
    create_function()  # the default handler returns its event
    response = lambda_client.invoke(FunctionName=unique_name, Payload=json.dumps(event).encode())
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == event


def test_large_payload_just_under_the_limit(lambda_client, create_function, unique_name):
    create_function(MemorySize=1024)
    event = {"blob": "b" * (5 * 1024 * 1024 + 512 * 1024)}
    response = lambda_client.invoke(FunctionName=unique_name, Payload=json.dumps(event).encode())
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == event


def test_handler_in_a_package(lambda_client, create_function, unique_name):
    create_function(
        handler="pkg/sub/mod.entry",
        code={
            "pkg/__init__.py": "",
            "pkg/sub/__init__.py": "",
            "pkg/sub/mod.py": "from . import helper\ndef entry(event, context):\n    return helper.VALUE\n",
            "pkg/sub/helper.py": "VALUE = 'nested'\n",
        },
    )
    assert invoke(lambda_client, unique_name)[1] == "nested"
    lambda_client.update_function_configuration(FunctionName=unique_name, Handler="pkg.sub.mod.entry")
    assert invoke(lambda_client, unique_name)[1] == "nested"


def test_parallel_invokes_get_their_own_instances(lambda_client, create_function, unique_name):
    create_function(
        code={
            "app.py": """
        import time
        def handler(event, context):
            time.sleep(0.5)
            return context.log_stream_name
        """
        }
    )
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=5) as pool:
        streams = list(pool.map(lambda _: invoke(lambda_client, unique_name)[1], range(5)))
    elapsed = time.monotonic() - started
    assert len(set(streams)) == 5, "one instance serves one invocation at a time"
    assert elapsed < 2.4, f"5 invokes of 0.5 s ran one after another ({elapsed:.2f} s)"


def test_update_during_an_invocation(lamina, lambda_client, create_function, unique_name):
    slow_v1 = {
        "app.py": """
        import time
        def handler(event, context):
            print("v1 started", flush=True)
            time.sleep(event.get("sleep", 0))
            return 1
        """
    }
    create_function(code=slow_v1)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        in_flight = pool.submit(invoke, lambda_client, unique_name, {"sleep": 1.0})
        wait_for_log_lines(lamina, unique_name, "v1 started")
        lambda_client.update_function_code(FunctionName=unique_name, ZipFile=versioned_code(2))
        assert invoke(lambda_client, unique_name)[1]["v"] == 2, "new invocations get the new code at once"
        assert not in_flight.done()
        response, payload = in_flight.result(timeout=10)
    assert payload == 1 and "FunctionError" not in response, "the running invocation finishes on the old code"
    assert invoke(lambda_client, unique_name)[1]["v"] == 2


def test_a_version_keeps_its_configuration(lambda_client, create_function, unique_name):
    create_function(
        Environment={"Variables": {"COLOR": "red"}},
        Publish=True,
        code={
            "app.py": """
        import os
        def handler(event, context):
            return os.environ["COLOR"]
        """
        },
    )
    lambda_client.update_function_configuration(FunctionName=unique_name, Environment={"Variables": {"COLOR": "blue"}})
    assert invoke(lambda_client, unique_name)[1] == "blue"
    assert invoke(lambda_client, unique_name, Qualifier="1")[1] == "red"
    assert lambda_client.get_function_configuration(FunctionName=unique_name, Qualifier="1")["Environment"] == {
        "Variables": {"COLOR": "red"}
    }


def test_alias_to_latest(lambda_client, create_function, unique_name):
    create_function(code=versioned_code(1))
    lambda_client.create_alias(FunctionName=unique_name, Name="head", FunctionVersion="$LATEST")
    response, payload = invoke(lambda_client, unique_name, Qualifier="head")
    assert (response["ExecutedVersion"], payload["v"]) == ("$LATEST", 1)
    lambda_client.update_function_code(FunctionName=unique_name, ZipFile=versioned_code(3))
    assert invoke(lambda_client, unique_name, Qualifier="head")[1]["v"] == 3


def test_output_without_a_trailing_newline(lamina, lambda_client, create_function, unique_name):
    create_function(
        code={
            "app.py": """
        import sys
        def handler(event, context):
            sys.stdout.write("no newline at the end")
            return "ok"
        """
        }
    )
    invoke(lambda_client, unique_name)  # the cold start
    started = time.monotonic()
    response, payload = invoke(lambda_client, unique_name, LogType="Tail")
    assert time.monotonic() - started < 1.0, "the invocation must not wait for a newline that never comes"
    tail = base64.b64decode(response["LogResult"]).decode()
    assert "no newline at the end\nEND RequestId" in tail
    assert "LAMINA" not in tail and "\x00" not in tail
    lines = wait_for_log_lines(lamina, unique_name, "no newline at the end", count=2)
    assert lines == ["no newline at the end"] * 2


def test_whole_standard_library_is_importable(lambda_client, create_function, unique_name):
    """Not only the modules the zygote preloads: the sandbox user must reach the interpreter's
    files even when they live under a directory it may not enter (a pyenv under /root)."""
    create_function(
        code={
            "app.py": """
        import csv, io, sqlite3, zoneinfo, email.mime.text, xml.etree.ElementTree as ET
        def handler(event, context):
            out = io.StringIO()
            csv.writer(out).writerow(["a", 1])
            database = sqlite3.connect(":memory:")
            answer = database.execute("select 6 * 7").fetchone()[0]
            return {"csv": out.getvalue().strip(), "sql": answer, "xml": ET.fromstring("<r>x</r>").text,
                    "zone": str(zoneinfo.ZoneInfo("UTC"))}
        """
        }
    )
    response, payload = invoke(lambda_client, unique_name)
    assert "FunctionError" not in response, payload
    assert payload == {"csv": "a,1", "sql": 42, "xml": "x", "zone": "UTC"}
