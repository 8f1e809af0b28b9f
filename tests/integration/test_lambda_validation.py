"""Bad input to Lambda's API, against a live server: the AWS error code and HTTP status for
each. Where botocore would refuse a request locally, a client without parameter
validation, or a hand-signed raw request, makes sure the server is the one saying no."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ROLE, make_zip

from .test_lambda_helpers import error_of, error_type_of, raw_request, server_is_healthy, unvalidated_client

CODE = make_zip({"app.py": "def handler(event, context):\n    return event\n"})


def create_params(name: str, **more) -> dict:
    params = dict(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": CODE})
    params.update(more)
    return params


@pytest.fixture
def loose_client(lamina):
    return unvalidated_client(lamina)


def expect_error(call, code: str, status: int) -> str:
    with pytest.raises(ClientError) as excinfo:
        call()
    got_code, got_status, message = error_of(excinfo)
    assert (got_code, got_status) == (code, status), message
    return message


def test_invalid_function_name(lamina, loose_client):
    message = expect_error(
        lambda: loose_client.create_function(**create_params("bad name!")), "ValidationException", 400
    )
    assert "functionName" in message
    expect_error(lambda: loose_client.get_function(FunctionName="bad name!"), "ValidationException", 400)
    expect_error(lambda: loose_client.invoke(FunctionName="bad name!", Payload=b"{}"), "ValidationException", 400)
    expect_error(lambda: loose_client.create_function(**create_params("x" * 65)), "ValidationException", 400)
    assert server_is_healthy(lamina)


def test_zip_that_is_not_a_zip(lambda_client, unique_name):
    expect_error(
        lambda: lambda_client.create_function(**create_params(unique_name, Code={"ZipFile": b"not a zip"})),
        "InvalidParameterValueException",
        400,
    )
    expect_error(lambda: lambda_client.get_function(FunctionName=unique_name), "ResourceNotFoundException", 404)


def test_update_code_with_a_bad_zip_keeps_the_old_code(lambda_client, create_function, unique_name):
    created = create_function()
    expect_error(
        lambda: lambda_client.update_function_code(FunctionName=unique_name, ZipFile=b"PK\x03\x04 broken"),
        "InvalidParameterValueException",
        400,
    )
    assert lambda_client.get_function_configuration(FunctionName=unique_name)["CodeSha256"] == created["CodeSha256"]


def test_duplicate_create_is_a_conflict(lambda_client, create_function, unique_name):
    create_function()
    message = expect_error(lambda: create_function(), "ResourceConflictException", 409)
    assert unique_name in message


def test_unknown_function_is_not_found(lambda_client, unique_name):
    for call in (
        lambda: lambda_client.get_function(FunctionName=unique_name),
        lambda: lambda_client.get_function_configuration(FunctionName=unique_name),
        lambda: lambda_client.invoke(FunctionName=unique_name, Payload=b"{}"),
        lambda: lambda_client.invoke(FunctionName=unique_name, InvocationType="Event", Payload=b"{}"),
        lambda: lambda_client.update_function_configuration(FunctionName=unique_name, Timeout=5),
        lambda: lambda_client.update_function_code(FunctionName=unique_name, ZipFile=CODE),
        lambda: lambda_client.publish_version(FunctionName=unique_name),
        lambda: lambda_client.list_versions_by_function(FunctionName=unique_name),
        lambda: lambda_client.list_aliases(FunctionName=unique_name),
        lambda: lambda_client.delete_function(FunctionName=unique_name),
    ):
        message = expect_error(call, "ResourceNotFoundException", 404)
        assert unique_name in message


def test_memory_size_out_of_range(loose_client, unique_name):
    expect_error(
        lambda: loose_client.create_function(**create_params(unique_name, MemorySize=64)), "ValidationException", 400
    )
    expect_error(
        lambda: loose_client.create_function(**create_params(unique_name, MemorySize=10241)), "ValidationException", 400
    )


def test_memory_size_update_out_of_range(loose_client, create_function, unique_name):
    create_function()
    expect_error(
        lambda: loose_client.update_function_configuration(FunctionName=unique_name, MemorySize=64),
        "ValidationException",
        400,
    )


def test_timeout_over_900(lambda_client, loose_client, create_function, unique_name):
    message = expect_error(
        lambda: loose_client.create_function(**create_params(unique_name, Timeout=901)), "ValidationException", 400
    )
    assert "900" in message
    expect_error(
        lambda: loose_client.create_function(**create_params(unique_name, Timeout=0)), "ValidationException", 400
    )
    create_function()
    expect_error(
        lambda: lambda_client.update_function_configuration(FunctionName=unique_name, Timeout=901),
        "ValidationException",
        400,
    )


def test_reserved_environment_variable(lambda_client, create_function, unique_name):
    message = expect_error(
        lambda: lambda_client.create_function(
            **create_params(unique_name, Environment={"Variables": {"AWS_REGION": "x"}})
        ),
        "InvalidParameterValueException",
        400,
    )
    assert "AWS_REGION" in message
    create_function()
    expect_error(
        lambda: lambda_client.update_function_configuration(
            FunctionName=unique_name, Environment={"Variables": {"AWS_LAMBDA_FUNCTION_NAME": "x"}}
        ),
        "InvalidParameterValueException",
        400,
    )
    # A key the model's pattern refuses is a ValidationException before it is a reserved name.
    expect_error(
        lambda: lambda_client.update_function_configuration(
            FunctionName=unique_name, Environment={"Variables": {"_HANDLER": "x"}}
        ),
        "ValidationException",
        400,
    )


def test_unsupported_runtime(loose_client, unique_name):
    # A runtime Lambda knows but Lamina does not run, and one that is not in the model at all.
    expect_error(
        lambda: loose_client.create_function(**create_params(unique_name, Runtime="java21")),
        "InvalidParameterValueException",
        400,
    )
    expect_error(
        lambda: loose_client.create_function(**create_params(unique_name, Runtime="cobol85")),
        "ValidationException",
        400,
    )


def test_sync_payload_over_6mb(lambda_client, create_function, unique_name):
    create_function()
    payload = json.dumps("a" * (6 * 1024 * 1024 + 10)).encode()
    expect_error(
        lambda: lambda_client.invoke(FunctionName=unique_name, Payload=payload), "RequestTooLargeException", 413
    )


def test_async_payload_over_1mb(lambda_client, create_function, unique_name):
    create_function()
    payload = json.dumps("a" * (1024 * 1024 + 10)).encode()
    expect_error(
        lambda: lambda_client.invoke(FunctionName=unique_name, InvocationType="Event", Payload=payload),
        "RequestTooLargeException",
        413,
    )
    # The same payload is fine synchronously.
    response = lambda_client.invoke(FunctionName=unique_name, Payload=payload)
    assert response["StatusCode"] == 200 and len(response["Payload"].read()) == len(payload)


def test_payload_that_is_not_json(lambda_client, create_function, unique_name):
    create_function()
    expect_error(
        lambda: lambda_client.invoke(FunctionName=unique_name, Payload=b"{not json"),
        "InvalidRequestContentException",
        400,
    )
    expect_error(
        lambda: lambda_client.invoke(FunctionName=unique_name, InvocationType="Event", Payload=b"\xff\xfe"),
        "InvalidRequestContentException",
        400,
    )


def test_malformed_json_body_for_create_function(lamina, unique_name):
    answer = raw_request(
        lamina,
        "POST",
        "/2015-03-31/functions",
        body=b'{"FunctionName": "' + unique_name.encode(),
        headers={"Content-Type": "application/json"},
    )
    status, headers, body = answer
    assert status == 400
    assert error_type_of(answer) == "InvalidRequestContentException"
    assert headers.get("x-amzn-requestid")
    assert json.loads(body)["message"]


def test_create_function_missing_required_members(lamina, unique_name):
    answer = raw_request(
        lamina,
        "POST",
        "/2015-03-31/functions",
        body=json.dumps({"FunctionName": unique_name}).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert answer[0] == 400
    assert error_type_of(answer) in ("ValidationException", "InvalidParameterValueException")


def test_bad_signature_is_rejected(lamina):
    forged = unvalidated_client(lamina, secret_key="not-the-secret")
    expect_error(lambda: forged.list_functions(), "InvalidSignatureException", 403)
    unknown_key = unvalidated_client(lamina, access_key="AKIDUNKNOWN", secret_key="x")
    expect_error(lambda: unknown_key.list_functions(), "UnrecognizedClientException", 403)


def test_alias_errors(lambda_client, loose_client, create_function, unique_name):
    create_function(Publish=True)
    expect_error(
        lambda: lambda_client.get_alias(FunctionName=unique_name, Name="nope"), "ResourceNotFoundException", 404
    )
    expect_error(
        lambda: loose_client.create_alias(
            FunctionName=unique_name,
            Name="w",
            FunctionVersion="1",
            RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}},
        ),
        "InvalidParameterValueException",
        400,
    )
    expect_error(
        lambda: loose_client.create_alias(
            FunctionName=unique_name,
            Name="w",
            FunctionVersion="$LATEST",
            RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}},
        ),
        "InvalidParameterValueException",
        400,
    )
    expect_error(
        lambda: loose_client.create_alias(
            FunctionName=unique_name,
            Name="w",
            FunctionVersion="1",
            RoutingConfig={"AdditionalVersionWeights": {"$LATEST": 0.5}},
        ),
        "ValidationException",
        400,
    )
    expect_error(
        lambda: loose_client.create_alias(
            FunctionName=unique_name,
            Name="w",
            FunctionVersion="1",
            RoutingConfig={"AdditionalVersionWeights": {"9": 0.5}},
        ),
        "ResourceNotFoundException",
        404,
    )


def test_delete_latest_by_qualifier_is_refused(lambda_client, create_function, unique_name):
    create_function()
    expect_error(
        lambda: lambda_client.delete_function(FunctionName=unique_name, Qualifier="$LATEST"),
        "InvalidParameterValueException",
        400,
    )
    assert lambda_client.get_function(FunctionName=unique_name)["Configuration"]["FunctionName"] == unique_name


def test_conflicting_qualifiers(lambda_client, create_function, unique_name):
    create_function(Publish=True)
    expect_error(
        lambda: lambda_client.invoke(FunctionName=f"{unique_name}:1", Qualifier="$LATEST", Payload=b"{}"),
        "InvalidParameterValueException",
        400,
    )
