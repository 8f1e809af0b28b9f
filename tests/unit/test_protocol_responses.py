"""Response side of the protocol layer: Lamina serializes a result or an error, botocore's
own parser reads it back (as boto3 would), and the caller must see what the service meant.
"""

from __future__ import annotations

import io
from datetime import datetime, timezone

import pytest
from botocore.parsers import create_parser
from botocore.response import StreamingBody
from urllib3._collections import HTTPHeaderDict

from lamina.errors import ServiceError, validation_error
from lamina.protocol import serializers
from lamina.protocol.messages import Response
from lamina.protocol.router import Router, ServiceSpec

REQUEST_ID = "11111111-2222-3333-4444-555555555555"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:my-function"


@pytest.fixture(scope="module")
def specs() -> dict[str, ServiceSpec]:
    return Router(["lambda", "logs"]).specs


def botocore_reads(spec: ServiceSpec, operation: str, response: Response) -> dict:
    """What boto3 hands its caller for this response (success or error)."""
    op = spec.model.operation_model(operation)
    headers = HTTPHeaderDict()
    for name, value in response.headers:
        headers.add(name, value)
    response_dict = {
        "status_code": response.status,
        "headers": headers,
        "body": response.body,
        "context": {"operation_name": operation},
    }
    if op.has_streaming_output and response.status < 300:
        response_dict["body"] = StreamingBody(io.BytesIO(response.body), len(response.body))
    parser = create_parser(spec.protocol)
    parsed = parser.parse(response_dict, op.output_shape)
    # botocore.endpoint adds the error shape's modelled members the same way.
    code = parsed.get("Error", {}).get("Code")
    if code:
        error_shape = spec.model.shape_for_error_code(code)
        if error_shape is not None:
            parsed.update(parser.parse(response_dict, error_shape))
    return parsed


def serialize(spec: ServiceSpec, operation: str, result: dict) -> Response:
    return serializers.serialize(spec, spec.model.operation_model(operation), result, REQUEST_ID)


def without_metadata(parsed: dict) -> dict:
    assert parsed["ResponseMetadata"]["RequestId"] == REQUEST_ID
    return {k: v for k, v in parsed.items() if k != "ResponseMetadata"}


# --- Lambda (rest-json) results ---------------------------------------------------------------


FUNCTION_CONFIGURATION = {
    "FunctionName": "my-function",
    "FunctionArn": FUNCTION_ARN,
    "Runtime": "python3.12",
    "Role": "arn:aws:iam::000000000000:role/lambda-role",
    "Handler": "app.handler",
    "CodeSize": 1234,
    "Description": "caf\u00e9",
    "Timeout": 3,
    "MemorySize": 128,
    "LastModified": "2024-05-06T07:08:09.000+0000",
    "CodeSha256": "q6x6OZ6sS3vVfVkJbQ1b2m5K3y0lY9c5Xh2m3Z1o5Jk=",
    "Version": "$LATEST",
    "Environment": {"Variables": {"GREETING": "hello"}},
    "TracingConfig": {"Mode": "PassThrough"},
    "RevisionId": "abc",
    "State": "Active",
    "LastUpdateStatus": "Successful",
    "PackageType": "Zip",
    "Architectures": ["x86_64"],
    "EphemeralStorage": {"Size": 512},
    "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
    "LoggingConfig": {"LogFormat": "Text", "LogGroup": "/aws/lambda/my-function"},
}


def test_create_function_result(specs):
    response = serialize(specs["lambda"], "CreateFunction", FUNCTION_CONFIGURATION)
    assert response.status == 201
    parsed = botocore_reads(specs["lambda"], "CreateFunction", response)
    assert parsed["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert without_metadata(parsed) == FUNCTION_CONFIGURATION


@pytest.mark.parametrize("function_error", [None, "Unhandled"])
def test_invoke_result_headers_status_and_blob_payload(specs, function_error):
    result = {
        "StatusCode": 200,
        "ExecutedVersion": "$LATEST",
        "LogResult": "U1RBUlQgUmVxdWVzdElkOiAx",
        "Payload": b'{"ok": true}\x00\xff',
    }
    if function_error:
        result["FunctionError"] = function_error
    response = serialize(specs["lambda"], "Invoke", result)
    assert response.status == 200
    parsed = without_metadata(botocore_reads(specs["lambda"], "Invoke", response))
    parsed["Payload"] = parsed["Payload"].read()
    assert parsed == result


def test_async_invoke_result_is_202_with_empty_payload(specs):
    response = serialize(specs["lambda"], "Invoke", {"StatusCode": 202, "Payload": b""})
    assert response.status == 202
    parsed = botocore_reads(specs["lambda"], "Invoke", response)
    assert parsed["StatusCode"] == 202
    assert parsed["Payload"].read() == b""


def test_list_functions_result(specs):
    result = {
        "Functions": [FUNCTION_CONFIGURATION, dict(FUNCTION_CONFIGURATION, FunctionName="other")],
        "NextMarker": "next/page+1",
    }
    parsed = botocore_reads(specs["lambda"], "ListFunctions", serialize(specs["lambda"], "ListFunctions", result))
    assert without_metadata(parsed) == result


def test_get_account_settings_result(specs):
    result = {
        "AccountLimit": {
            "TotalCodeSize": 80530636800,
            "CodeSizeUnzipped": 262144000,
            "CodeSizeZipped": 52428800,
            "ConcurrentExecutions": 1000,
            "UnreservedConcurrentExecutions": 900,
        },
        "AccountUsage": {"TotalCodeSize": 1234, "FunctionCount": 2},
    }
    parsed = botocore_reads(
        specs["lambda"], "GetAccountSettings", serialize(specs["lambda"], "GetAccountSettings", result)
    )
    assert without_metadata(parsed) == result


@pytest.mark.parametrize("operation", ["TagResource", "DeleteAlias"])
def test_no_content_results(specs, operation):
    response = serialize(specs["lambda"], operation, {})
    assert response.status == 204
    parsed = botocore_reads(specs["lambda"], operation, response)
    assert parsed["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert without_metadata(parsed) == {}


def test_delete_function_result(specs):
    response = serialize(specs["lambda"], "DeleteFunction", {})
    parsed = botocore_reads(specs["lambda"], "DeleteFunction", response)
    assert parsed["ResponseMetadata"]["HTTPStatusCode"] == response.status


def test_timestamps_and_nested_members(specs):
    result = {
        "UUID": "6d9bce8e-836b-442c-8070-74e77903c815",
        "FunctionArn": FUNCTION_ARN,
        "EventSourceArn": "arn:aws:sqs:us-east-1:000000000000:q",
        "BatchSize": 10,
        "LastModified": datetime(2024, 5, 6, 7, 8, 9, 500000, tzinfo=timezone.utc),
        "State": "Enabled",
        "FilterCriteria": {"Filters": [{"Pattern": '{"body": {"x": [1]}}'}]},
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "ScalingConfig": {"MaximumConcurrency": 5},
    }
    response = serialize(specs["lambda"], "CreateEventSourceMapping", result)
    assert response.status == 202
    parsed = without_metadata(botocore_reads(specs["lambda"], "CreateEventSourceMapping", response))
    assert parsed == result


def test_get_function_result(specs):
    result = {
        "Configuration": FUNCTION_CONFIGURATION,
        "Code": {"RepositoryType": "S3", "Location": "http://127.0.0.1:4566/_lamina/code/" + "0" * 64 + ".zip"},
        "Tags": {"team": "platform"},
        "Concurrency": {"ReservedConcurrentExecutions": 5},
    }
    parsed = botocore_reads(specs["lambda"], "GetFunction", serialize(specs["lambda"], "GetFunction", result))
    assert without_metadata(parsed) == result


# --- CloudWatch Logs (json) results --------------------------------------------------------


def test_describe_log_groups_result(specs):
    result = {
        "logGroups": [
            {
                "logGroupName": "/aws/lambda/my-function",
                "creationTime": 1_700_000_000_000,
                "retentionInDays": 7,
                "storedBytes": 1024,
                "arn": "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/my-function:*",
                "logGroupArn": "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/my-function",
            }
        ],
        "nextToken": "t",
    }
    response = serialize(specs["logs"], "DescribeLogGroups", result)
    assert dict(response.headers)["content-type"] == "application/x-amz-json-1.1"
    assert without_metadata(botocore_reads(specs["logs"], "DescribeLogGroups", response)) == result


def test_put_log_events_result(specs):
    result = {
        "nextSequenceToken": "49590",
        "rejectedLogEventsInfo": {"tooOldLogEventEndIndex": 1, "expiredLogEventEndIndex": 0},
    }
    response = serialize(specs["logs"], "PutLogEvents", result)
    assert without_metadata(botocore_reads(specs["logs"], "PutLogEvents", response)) == result


def test_filter_log_events_result(specs):
    result = {
        "events": [
            {
                "logStreamName": "2024/05/06/[$LATEST]abc",
                "timestamp": 1_700_000_000_000,
                "message": "START RequestId: 1 Version: $LATEST\n",
                "ingestionTime": 1_700_000_000_005,
                "eventId": "37000000000000000000000000000000000000000000000000000000",
            },
            {
                "logStreamName": "2024/05/06/[$LATEST]abc",
                "timestamp": 1_700_000_000_001,
                "message": 'caf\u00e9 "quoted"',
                "ingestionTime": 1_700_000_000_006,
                "eventId": "2",
            },
        ],
        "searchedLogStreams": [{"logStreamName": "2024/05/06/[$LATEST]abc", "searchedCompletely": True}],
        "nextToken": "n",
    }
    response = serialize(specs["logs"], "FilterLogEvents", result)
    assert without_metadata(botocore_reads(specs["logs"], "FilterLogEvents", response)) == result


# --- errors -----------------------------------------------------------------------------------


def error_of(spec: ServiceSpec | None, operation: str, error: ServiceError, reader: ServiceSpec | None = None):
    response = serializers.serialize_error(spec, error, REQUEST_ID)
    parsed = botocore_reads(reader or spec, operation, response)
    return response, parsed


def test_lambda_error_status_comes_from_the_model(specs):
    error = ServiceError("ResourceNotFoundException", f"Function not found: {FUNCTION_ARN}")
    response, parsed = error_of(specs["lambda"], "GetFunction", error)
    assert response.status == 404
    assert parsed["Error"] == {"Code": "ResourceNotFoundException", "Message": f"Function not found: {FUNCTION_ARN}"}
    assert parsed["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert parsed["ResponseMetadata"]["RequestId"] == REQUEST_ID
    # The modelled members, as e.response["Type"] / e.response["Message"].
    assert parsed["Type"] == "User"
    assert parsed["Message"] == f"Function not found: {FUNCTION_ARN}"


def test_lambda_too_many_requests_carries_reason_and_retry_after(specs):
    error = ServiceError(
        "TooManyRequestsException",
        "Rate Exceeded.",
        headers={"Retry-After": "1"},
        Reason="ReservedFunctionConcurrentInvocationLimitExceeded",
    )
    response, parsed = error_of(specs["lambda"], "Invoke", error)
    assert response.status == 429
    assert parsed["Error"]["Code"] == "TooManyRequestsException"
    assert parsed["Error"]["Message"] == "Rate Exceeded."
    assert parsed["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert parsed["retryAfterSeconds"] == "1"
    assert parsed["message"] == "Rate Exceeded."


def test_lambda_service_fault_is_500_with_type_service(specs):
    error = ServiceError("ServiceException", "boom", 500, sender_fault=False)
    response, parsed = error_of(specs["lambda"], "Invoke", error)
    assert response.status == 500
    assert parsed["Error"]["Code"] == "ServiceException"
    assert parsed["Type"] == "Service"


def test_validation_error_reaches_botocore(specs):
    error = validation_error(
        ["Value '64' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128"]
    )
    response, parsed = error_of(specs["lambda"], "CreateFunction", error)
    assert response.status == 400
    assert parsed["Error"] == {
        "Code": "ValidationException",
        "Message": "1 validation error detected: Value '64' at 'memorySize' failed to satisfy constraint: "
        "Member must have value greater than or equal to 128",
    }


def test_unknown_error_code_falls_back_to_sender_fault(specs):
    _, parsed = error_of(specs["lambda"], "Invoke", ServiceError("SomethingOdd", "odd"))
    assert parsed["ResponseMetadata"]["HTTPStatusCode"] == 400
    _, parsed = error_of(specs["lambda"], "Invoke", ServiceError("SomethingOdd", "odd", sender_fault=False))
    assert parsed["ResponseMetadata"]["HTTPStatusCode"] == 500


def test_error_before_the_service_is_known(specs):
    """Routing and signature errors happen before a spec exists; any client must still read them."""
    error = ServiceError("UnknownOperationException", "Unknown operation GET /nothing", 404)
    for reader, operation in ((specs["lambda"], "GetFunction"), (specs["logs"], "DescribeLogGroups")):
        response, parsed = error_of(None, operation, error, reader=reader)
        assert response.status == 404
        assert parsed["Error"]["Code"] == "UnknownOperationException"
        assert parsed["Error"]["Message"] == "Unknown operation GET /nothing"


def test_logs_errors(specs):
    response, parsed = error_of(
        specs["logs"],
        "FilterLogEvents",
        ServiceError("ResourceNotFoundException", "The specified log group does not exist."),
    )
    assert response.status == 400
    assert dict(response.headers)["content-type"] == "application/x-amz-json-1.1"
    assert parsed["Error"] == {
        "Code": "ResourceNotFoundException",
        "Message": "The specified log group does not exist.",
    }
    _, parsed = error_of(
        specs["logs"],
        "PutLogEvents",
        ServiceError("InvalidSequenceTokenException", "bad token", expectedSequenceToken="42"),
    )
    assert parsed["Error"]["Code"] == "InvalidSequenceTokenException"
    assert parsed["expectedSequenceToken"] == "42"


def test_signature_errors_are_403(specs):
    for code in ("InvalidSignatureException", "UnrecognizedClientException"):
        response, parsed = error_of(specs["logs"], "DescribeLogGroups", ServiceError(code, "no", 403))
        assert (parsed["Error"]["Code"], parsed["ResponseMetadata"]["HTTPStatusCode"]) == (code, 403)
