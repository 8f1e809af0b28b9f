"""Functions that fail in every way Lambda knows, against a live server: each failure comes
back as AWS's error payload with X-Amz-Function-Error, and the server keeps serving."""

from __future__ import annotations

import base64
import time

import pytest

from tests.conftest import make_zip

from .test_lambda_helpers import invoke, server_is_healthy, wait_for_log_lines

FAILING = {
    "app.py": """
    import os, sys, time

    def handler(event, context):
        action = event.get("action")
        if action == "raise":
            raise KeyError("missing-key")
        if action == "sleep":
            time.sleep(event["seconds"])
        if action == "sys.exit":
            sys.exit(3)
        if action == "os._exit":
            os._exit(9)
        if action == "unserializable":
            return {"when": object()}
        if action == "huge":
            return "x" * (7 * 1024 * 1024)
        if action == "big-but-fine":
            return "y" * (5 * 1024 * 1024)
        if action == "print-5mb":
            line = "z" * 99
            for _ in range(40_000):
                print(line)
            sys.stdout.write("q" * (1024 * 1024) + "\\n")  # and one 1 MB line
            return "printed"
        return {"ok": True, "instance": context.log_stream_name}
    """
}


@pytest.fixture
def failing(create_function, unique_name):
    create_function(code=FAILING, Timeout=1)
    return unique_name


def assert_serving(lamina, lambda_client, name: str) -> None:
    """The server is up and the function still answers."""
    assert server_is_healthy(lamina)
    response, payload = invoke(lambda_client, name)
    assert "FunctionError" not in response, payload
    assert payload["ok"] is True


def unhandled(response) -> None:
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amz-function-error"] == "Unhandled"


def test_handler_raises(lamina, lambda_client, failing):
    response, payload = invoke(lambda_client, failing, {"action": "raise"})
    unhandled(response)
    assert payload["errorType"] == "KeyError"
    assert payload["errorMessage"] == "'missing-key'"
    assert isinstance(payload["stackTrace"], list) and payload["stackTrace"]
    assert_serving(lamina, lambda_client, failing)


def test_timeout(lamina, lambda_client, failing):
    started = time.monotonic()
    response, payload = invoke(lambda_client, failing, {"action": "sleep", "seconds": 5}, LogType="Tail")
    elapsed = time.monotonic() - started
    unhandled(response)
    assert "Task timed out after 1.00 seconds" in payload["errorMessage"]
    assert payload["errorType"] == "Sandbox.Timedout"
    assert elapsed < 4, "the invoke ends at the timeout, not when the handler would have"
    tail = base64.b64decode(response["LogResult"]).decode()
    assert "Task timed out after 1.00 seconds" in tail
    assert "Status: timeout" in tail
    assert_serving(lamina, lambda_client, failing)


@pytest.mark.parametrize("action, reason", [("sys.exit", "exit status 3"), ("os._exit", "exit status 9")])
def test_process_exit_is_runtime_exit_error(lamina, lambda_client, failing, action, reason):
    _, before = invoke(lambda_client, failing)
    response, payload = invoke(lambda_client, failing, {"action": action})
    unhandled(response)
    assert payload["errorType"] == "Runtime.ExitError"
    assert reason in payload["errorMessage"]
    response, after = invoke(lambda_client, failing)
    assert after["ok"] is True
    assert after["instance"] != before["instance"], "a fresh instance replaced the one that exited"
    assert_serving(lamina, lambda_client, failing)


def test_missing_module(lamina, lambda_client, create_function, unique_name):
    create_function(handler="nowhere.handler")
    response, payload = invoke(lambda_client, unique_name)
    unhandled(response)
    assert payload["errorType"] == "Runtime.ImportModuleError"
    assert "Unable to import module 'nowhere'" in payload["errorMessage"]
    assert server_is_healthy(lamina)


def test_missing_handler_function(lamina, lambda_client, create_function, unique_name):
    create_function(handler="app.not_there")
    response, payload = invoke(lambda_client, unique_name)
    unhandled(response)
    assert payload["errorType"] == "Runtime.HandlerNotFound"
    assert "not_there" in payload["errorMessage"]
    assert server_is_healthy(lamina)


def test_syntax_error(lamina, lambda_client, create_function, unique_name):
    create_function(code={"app.py": "def handler(event, context)\n    return 1\n"})
    response, payload = invoke(lambda_client, unique_name)
    unhandled(response)
    assert payload["errorType"] == "Runtime.UserCodeSyntaxError"


def test_error_at_import_time(lamina, lambda_client, create_function, unique_name):
    create_function(
        code={
            "app.py": """
        print("initialising")
        raise RuntimeError("no config at init")

        def handler(event, context):
            return "unreachable"
        """
        }
    )
    for _ in range(2):  # every attempt runs the init again and fails the same way
        response, payload = invoke(lambda_client, unique_name, LogType="Tail")
        unhandled(response)
        assert payload["errorType"] == "RuntimeError"
        assert payload["errorMessage"] == "no config at init"
        assert isinstance(payload["stackTrace"], list)
        tail = base64.b64decode(response["LogResult"]).decode()
        assert "initialising" in tail
        assert "REPORT RequestId" in tail
    assert server_is_healthy(lamina)


def test_printing_5mb_does_not_take_the_server_down(lamina, lambda_client, create_function, unique_name):
    create_function(code=FAILING, Timeout=30, MemorySize=1024)
    response, payload = invoke(lambda_client, unique_name, {"action": "print-5mb"}, LogType="Tail")
    assert "FunctionError" not in response, payload
    assert payload == "printed"
    tail = base64.b64decode(response["LogResult"])
    assert len(tail) <= 4096 and b"REPORT RequestId" in tail
    assert_serving(lamina, lambda_client, unique_name)


def test_unserializable_result_is_marshal_error(lamina, lambda_client, failing):
    response, payload = invoke(lambda_client, failing, {"action": "unserializable"})
    unhandled(response)
    assert payload["errorType"] == "Runtime.MarshalError"
    assert "Unable to marshal response" in payload["errorMessage"]
    assert_serving(lamina, lambda_client, failing)


def test_response_over_6mb_is_an_error(lamina, lambda_client, create_function, unique_name):
    create_function(code=FAILING, Timeout=30, MemorySize=1024)
    response, payload = invoke(lambda_client, unique_name, {"action": "huge"})
    unhandled(response)
    assert payload["errorType"] == "Function.ResponseSizeTooLarge"
    assert "Response payload size exceeded maximum allowed payload size" in payload["errorMessage"]
    # Just under the limit is fine.
    response, payload = invoke(lambda_client, unique_name, {"action": "big-but-fine"})
    assert "FunctionError" not in response
    assert payload == "y" * (5 * 1024 * 1024)
    assert_serving(lamina, lambda_client, unique_name)


def test_malformed_handler_name(lambda_client, create_function, unique_name):
    create_function(handler="app")
    response, payload = invoke(lambda_client, unique_name)
    unhandled(response)
    assert payload["errorType"] == "Runtime.MalformedHandlerName"


def test_custom_exception_type_and_unicode_message(lambda_client, create_function, unique_name):
    create_function(
        code={
            "app.py": """
        class PaymentDeclined(Exception):
            pass

        def handler(event, context):
            raise PaymentDeclined("carte refusée ✗")
        """
        }
    )
    response, payload = invoke(lambda_client, unique_name)
    unhandled(response)
    assert payload["errorType"] == "PaymentDeclined"
    assert payload["errorMessage"] == "carte refusée ✗"


def test_fixing_an_init_error_with_new_code(lambda_client, create_function, unique_name):
    create_function(code={"app.py": "raise ImportError('half-deployed')\n"})
    response, payload = invoke(lambda_client, unique_name)
    unhandled(response)
    assert payload["errorType"] == "Runtime.ImportModuleError"
    assert "half-deployed" in payload["errorMessage"]
    lambda_client.update_function_code(
        FunctionName=unique_name, ZipFile=make_zip({"app.py": "def handler(event, context):\n    return 'fixed'\n"})
    )
    response, payload = invoke(lambda_client, unique_name)
    assert "FunctionError" not in response and payload == "fixed"


def test_failing_version_reports_its_executed_version(lambda_client, create_function, unique_name):
    create_function(code=FAILING, Publish=True)
    response, payload = invoke(lambda_client, unique_name, {"action": "raise"}, Qualifier="1")
    unhandled(response)
    assert response["ExecutedVersion"] == "1"
    assert payload["errorType"] == "KeyError"


def test_timed_out_event_invoke_is_retried(lamina, lambda_client, create_function, unique_name):
    create_function(
        Timeout=1,
        code={
            "app.py": """
        import time
        def handler(event, context):
            print("attempt", context.aws_request_id, flush=True)
            time.sleep(3)
        """
        },
    )
    response = lambda_client.invoke(FunctionName=unique_name, InvocationType="Event", Payload=b"{}")
    request_id = response["ResponseMetadata"]["RequestId"]
    lines = wait_for_log_lines(lamina, unique_name, "attempt", count=3, timeout=15)
    assert lines == [f"attempt {request_id}"] * 3
    assert server_is_healthy(lamina)
