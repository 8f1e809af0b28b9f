"""The AWS CLI (v1, from the venv) against a live server, with no user configuration around."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import ROLE, make_zip

AWS = os.path.join(os.path.dirname(sys.executable), "aws")

SOURCE = {
    "app.py": """
        import os

        def handler(event, context):
            print("aws cli says", event)
            return {"event": event, "version": context.function_version}
    """
}


@pytest.fixture(scope="module")
def payload_flags(aws_env) -> tuple[str, ...]:
    """How to pass a raw JSON --payload: v2 needs --cli-binary-format, v1 does not know the flag."""
    version = subprocess.run([AWS, "--version"], capture_output=True, env=aws_env)
    text = (version.stdout + version.stderr).decode()
    return () if text.startswith("aws-cli/1.") else ("--cli-binary-format", "raw-in-base64-out")


@pytest.fixture
def aws(lamina, aws_env, tmp_path):
    def run(*args: str, expect: int = 0, env: dict | None = None) -> dict | str:
        result = subprocess.run(
            [AWS, "--endpoint-url", lamina.url, "--output", "json", *args],
            capture_output=True,
            timeout=120,
            env=dict(aws_env, **(env or {})),
            cwd=str(tmp_path),
        )
        assert result.returncode == expect, (
            f"aws {' '.join(args)} -> {result.returncode}\n{result.stdout.decode()}\n{result.stderr.decode()}"
        )
        if expect:
            return result.stderr.decode()
        out = result.stdout.decode()
        return json.loads(out) if out.strip() else {}

    return run


def test_function_lifecycle(aws, payload_flags, lamina, tmp_path, unique_name):
    package = make_zip(SOURCE)
    zip_path = tmp_path / "function.zip"
    zip_path.write_bytes(package)

    created = aws(
        "lambda",
        "create-function",
        "--function-name",
        unique_name,
        "--runtime",
        "python3.12",
        "--role",
        ROLE,
        "--handler",
        "app.handler",
        "--zip-file",
        f"fileb://{zip_path}",
        "--memory-size",
        "256",
        "--timeout",
        "10",
        "--environment",
        "Variables={STAGE=test}",
        "--tags",
        "team=platform",
    )
    assert created["FunctionName"] == unique_name
    assert created["FunctionArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{unique_name}"
    assert (created["MemorySize"], created["Timeout"], created["CodeSize"]) == (256, 10, len(package))

    listed = aws("lambda", "list-functions")
    assert unique_name in [f["FunctionName"] for f in listed["Functions"]]

    got = aws("lambda", "get-function", "--function-name", unique_name)
    assert got["Configuration"]["Environment"]["Variables"] == {"STAGE": "test"}
    assert got["Tags"] == {"team": "platform"}
    with urllib.request.urlopen(got["Code"]["Location"], timeout=10) as response:
        assert response.read() == package

    out_file = tmp_path / "out.json"
    invoked = aws(
        "lambda",
        "invoke",
        "--function-name",
        unique_name,
        *payload_flags,
        "--payload",
        '{"x": 1}',
        "--log-type",
        "Tail",
        str(out_file),
    )
    assert invoked["StatusCode"] == 200
    assert invoked["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in invoked
    assert json.loads(out_file.read_text()) == {"event": {"x": 1}, "version": "$LATEST"}
    log = base64.b64decode(invoked["LogResult"]).decode()
    assert "START RequestId: " in log and "aws cli says {'x': 1}" in log and "REPORT RequestId: " in log

    version = aws("lambda", "publish-version", "--function-name", unique_name, "--description", "first")
    assert version["Version"] == "1"
    assert version["FunctionArn"].endswith(f":function:{unique_name}:1")

    alias = aws("lambda", "create-alias", "--function-name", unique_name, "--name", "live", "--function-version", "1")
    assert alias["AliasArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{unique_name}:live"
    assert alias["FunctionVersion"] == "1"

    invoked = aws(
        "lambda",
        "invoke",
        "--function-name",
        unique_name,
        "--qualifier",
        "live",
        *payload_flags,
        "--payload",
        '{"via": "alias"}',
        str(out_file),
    )
    assert invoked["ExecutedVersion"] == "1"
    assert json.loads(out_file.read_text()) == {"event": {"via": "alias"}, "version": "1"}

    # The current model gives DeleteFunction a StatusCode output (the HTTP status), older ones none.
    assert aws("lambda", "delete-function", "--function-name", unique_name) in ({}, {"StatusCode": 204})
    error = aws("lambda", "get-function", "--function-name", unique_name, expect=255)
    assert "An error occurred (ResourceNotFoundException) when calling the GetFunction operation: " in error
    assert f"function:{unique_name}" in error


def test_invoke_by_arn_async_and_function_error(aws, payload_flags, create_function, tmp_path, unique_name):
    config = create_function(code={"app.py": "def handler(event, context):\n    raise RuntimeError('bad')\n"})
    out_file = tmp_path / "out.json"
    invoked = aws(
        "lambda", "invoke", "--function-name", config["FunctionArn"], *payload_flags, "--payload", "{}", str(out_file)
    )
    assert invoked["FunctionError"] == "Unhandled"
    assert json.loads(out_file.read_text())["errorType"] == "RuntimeError"
    invoked = aws(
        "lambda",
        "invoke",
        "--function-name",
        unique_name,
        "--invocation-type",
        "Event",
        *payload_flags,
        "--payload",
        "{}",
        str(out_file),
    )
    assert invoked["StatusCode"] == 202


def test_validation_error_reaches_the_cli(aws, tmp_path):
    zip_path = tmp_path / "function.zip"
    zip_path.write_bytes(make_zip(SOURCE))
    # The CLI checks ranges itself; patterns are left to the server.
    error = aws(
        "lambda",
        "create-function",
        "--function-name",
        "not a valid name",
        "--runtime",
        "python3.12",
        "--role",
        ROLE,
        "--handler",
        "app.handler",
        "--zip-file",
        f"fileb://{zip_path}",
        expect=255,
    )
    assert "An error occurred (ValidationException) when calling the CreateFunction operation: " in error
    assert "1 validation error detected: Value 'not a valid name' at 'functionName' failed to satisfy " in error


def test_wrong_secret_is_refused(aws):
    error = aws("lambda", "list-functions", expect=255, env={"AWS_SECRET_ACCESS_KEY": "wrong"})
    assert "(InvalidSignatureException)" in error
    error = aws("lambda", "list-functions", expect=255, env={"AWS_ACCESS_KEY_ID": "AKIDUNKNOWN"})
    assert "(UnrecognizedClientException)" in error
    # Refused before the service is known, yet a json-protocol client reads the code too.
    error = aws("logs", "describe-log-groups", expect=255, env={"AWS_SECRET_ACCESS_KEY": "wrong"})
    assert "(InvalidSignatureException)" in error


def test_logs_describe_log_groups(aws, create_function, lambda_client, unique_name):
    create_function()
    lambda_client.invoke(FunctionName=unique_name, Payload=b"{}")
    group = f"/aws/lambda/{unique_name}"
    deadline = time.time() + 15
    while True:
        groups = aws("logs", "describe-log-groups", "--log-group-name-prefix", group)["logGroups"]
        if groups or time.time() > deadline:
            break
        time.sleep(0.2)
    assert [g["logGroupName"] for g in groups] == [group]
    assert groups[0]["arn"] == f"arn:aws:logs:us-east-1:000000000000:log-group:{group}:*"
    assert isinstance(groups[0]["creationTime"], int)
