"""Request side of the protocol layer, tested the LocalStack way: botocore builds and signs
the request exactly as boto3 would send it, Lamina's router and parsers read it back, and
the parsed dict must equal what the caller passed in.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from functools import cache
from urllib.parse import unquote, urlsplit

import botocore.session
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import create_request_object, prepare_request_dict
from botocore.credentials import Credentials
from botocore.serialize import create_serializer

from lamina.errors import ServiceError
from lamina.protocol import parsers
from lamina.protocol.messages import Request
from lamina.protocol.router import Router

ENDPOINT = "http://127.0.0.1:4566"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:my-function"


@cache
def _model(service: str):
    return botocore.session.get_session().get_service_model(service)


def wire_request(
    service: str,
    operation: str,
    params: dict,
    *,
    sign: bool = True,
    access_key: str = "test",
    secret_key: str = "test",
    token: str | None = None,
    region: str = "us-east-1",
) -> Request:
    """`params` as boto3 would put them on the wire, as the gateway would hand them on."""
    model = _model(service)
    op = model.operation_model(operation)
    # No client-side validation: the invalid requests below must reach Lamina's own checks.
    serializer = create_serializer(model.metadata["protocol"], include_validation=False)
    request_dict = serializer.serialize_to_request(params, op)
    prepare_request_dict(request_dict, endpoint_url=ENDPOINT)
    aws_request = create_request_object(request_dict)
    if sign:
        signing_name = model.metadata.get("signingName") or model.metadata["endpointPrefix"]
        SigV4Auth(Credentials(access_key, secret_key, token), signing_name, region).add_auth(aws_request)
    prepared = aws_request.prepare()
    url = urlsplit(prepared.url)
    headers = {name.lower(): value for name, value in prepared.headers.items()}
    headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in headers.items()}
    headers.setdefault("host", url.netloc)  # added by the HTTP client, signed by SigV4Auth
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    return Request(
        method=prepared.method,
        path=unquote(url.path),
        raw_path=url.path,
        query_string=url.query,
        headers=headers,
        body=body,
    )


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(["lambda", "logs"])


def roundtrip(router: Router, service: str, operation: str, params: dict) -> dict:
    request = wire_request(service, operation, params)
    resolved = router.resolve(request)
    assert (resolved.spec.name, resolved.operation.name) == (service, operation)
    return parsers.parse(resolved, request)


def parse_error(router: Router, request: Request) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        parsers.parse(router.resolve(request), request)
    return caught.value


# --- Lambda (rest-json) ------------------------------------------------------------------


def test_create_function_round_trips(router):
    params = {
        "FunctionName": "my-function",
        "Runtime": "python3.12",
        "Role": "arn:aws:iam::000000000000:role/lambda-role",
        "Handler": "app.handler",
        "Code": {"ZipFile": b"PK\x03\x04\x00\xff binary \x80"},
        "Description": "caf\u00e9 \u2603",
        "Timeout": 30,
        "MemorySize": 256,
        "Publish": True,
        "Environment": {"Variables": {"GREETING": "hello world", "EMPTY": ""}},
        "Tags": {"team": "platform"},
        "Layers": ["arn:aws:lambda:us-east-1:000000000000:layer:deps:3"],
        "Architectures": ["arm64"],
        "TracingConfig": {"Mode": "Active"},
        "EphemeralStorage": {"Size": 1024},
        "SnapStart": {"ApplyOn": "PublishedVersions"},
    }
    assert roundtrip(router, "lambda", "CreateFunction", params) == params


def test_invoke_round_trips_headers_querystring_and_blob_payload(router):
    params = {
        "FunctionName": FUNCTION_ARN,  # colons in a URI label
        "Qualifier": "live",
        "InvocationType": "RequestResponse",
        "LogType": "Tail",
        "ClientContext": "eyJjdXN0b20iOnsiYSI6MX19",
        "Payload": bytes(range(256)),  # not UTF-8, not JSON: passed through untouched
    }
    assert roundtrip(router, "lambda", "Invoke", params) == params


def test_invoke_with_empty_payload_has_no_payload(router):
    parsed = roundtrip(router, "lambda", "Invoke", {"FunctionName": "f", "InvocationType": "Event"})
    assert parsed == {"FunctionName": "f", "InvocationType": "Event"}


def test_list_functions_round_trips_querystring(router):
    params = {"MasterRegion": "ALL", "FunctionVersion": "ALL", "Marker": "a b&c=d/e+f%g\u00e9", "MaxItems": 10}
    assert roundtrip(router, "lambda", "ListFunctions", params) == params
    assert roundtrip(router, "lambda", "ListFunctions", {}) == {}


def test_tag_resource_with_an_arn_in_the_uri(router):
    params = {"Resource": FUNCTION_ARN, "Tags": {"env": "dev", "owner": "a@b.c"}}
    request = wire_request("lambda", "TagResource", params)
    assert "%3A" in request.raw_path and FUNCTION_ARN in request.path
    assert roundtrip(router, "lambda", "TagResource", params) == params
    untag = {"Resource": FUNCTION_ARN, "TagKeys": ["env", "owner"]}
    assert roundtrip(router, "lambda", "UntagResource", untag) == untag


def test_get_account_settings_has_no_input(router):
    assert roundtrip(router, "lambda", "GetAccountSettings", {}) == {}


def test_delete_function_with_qualifier(router):
    params = {"FunctionName": "my-function", "Qualifier": "3"}
    assert roundtrip(router, "lambda", "DeleteFunction", params) == params


@pytest.mark.parametrize(
    "operation, params",
    [
        ("GetFunction", {"FunctionName": "f", "Qualifier": "$LATEST"}),
        ("GetFunctionConfiguration", {"FunctionName": "f"}),
        ("UpdateFunctionCode", {"FunctionName": "f", "ZipFile": b"zip", "Publish": False}),
        ("UpdateFunctionConfiguration", {"FunctionName": "f", "Timeout": 9, "Environment": {"Variables": {}}}),
        ("PublishVersion", {"FunctionName": "f", "Description": "v"}),
        ("ListVersionsByFunction", {"FunctionName": "f", "MaxItems": 5}),
        (
            "CreateAlias",
            {
                "FunctionName": "f",
                "Name": "live",
                "FunctionVersion": "1",
                "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.25}},
            },
        ),
        ("GetAlias", {"FunctionName": "f", "Name": "live"}),
        ("ListAliases", {"FunctionName": "f"}),
        ("DeleteAlias", {"FunctionName": "f", "Name": "live"}),
        ("ListTags", {"Resource": FUNCTION_ARN}),
        ("PutFunctionConcurrency", {"FunctionName": "f", "ReservedConcurrentExecutions": 0}),
        ("GetFunctionConcurrency", {"FunctionName": "f"}),
        ("DeleteFunctionConcurrency", {"FunctionName": "f"}),
        (
            "PutFunctionEventInvokeConfig",
            {"FunctionName": "f", "MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60},
        ),
        ("ListEventSourceMappings", {"FunctionName": "f"}),
        (
            "AddPermission",
            {
                "FunctionName": "f",
                "StatementId": "s1",
                "Action": "lambda:InvokeFunction",
                "Principal": "sns.amazonaws.com",
            },
        ),
        ("RemovePermission", {"FunctionName": "f", "StatementId": "s1", "Qualifier": "1"}),
        # Timestamps and booleans in the query string.
        (
            "ListDurableExecutionsByFunction",
            {
                "FunctionName": "f",
                "ReverseOrder": True,
                "StartedAfter": datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc),
                "StartedBefore": datetime(2024, 5, 7, tzinfo=timezone.utc),
            },
        ),
        ("ListDurableExecutionsByFunction", {"FunctionName": "f", "ReverseOrder": False}),
    ],
)
def test_lambda_operations_route_and_round_trip(router, operation, params):
    """Routes that share a prefix (functions/{name}, .../configuration, .../versions) stay apart."""
    assert roundtrip(router, "lambda", operation, params) == params


def test_unsigned_rest_request_is_routed_across_rest_services(router):
    request = wire_request("lambda", "GetFunction", {"FunctionName": "f"}, sign=False)
    assert "authorization" not in request.headers
    assert router.resolve(request).operation.name == "GetFunction"


def test_trailing_slash_is_optional(router):
    request = wire_request("lambda", "ListFunctions", {})
    bare = Request("GET", "/2015-03-31/functions", "/2015-03-31/functions", "", request.headers)
    assert router.resolve(bare).operation.name == "ListFunctions"


# --- CloudWatch Logs (json) ----------------------------------------------------------------


def test_describe_log_groups_round_trips(router):
    params = {"logGroupNamePrefix": "/aws/lambda/", "limit": 50, "nextToken": "tok/en+=="}
    assert roundtrip(router, "logs", "DescribeLogGroups", params) == params


def test_put_log_events_round_trips(router):
    params = {
        "logGroupName": "/aws/lambda/my-function",
        "logStreamName": "2024/01/01/[$LATEST]abcdef",
        "logEvents": [
            {"timestamp": 1_700_000_000_000, "message": "START RequestId: 1"},
            {"timestamp": 1_700_000_000_001, "message": 'h\u00e9llo "quoted"\nnext line'},
        ],
    }
    assert roundtrip(router, "logs", "PutLogEvents", params) == params


def test_filter_log_events_round_trips(router):
    params = {
        "logGroupName": "/aws/lambda/my-function",
        "logStreamNames": ["a", "b"],
        "startTime": 0,
        "endTime": 1_700_000_000_000,
        "filterPattern": "REPORT",
        "nextToken": "abc",
        "limit": 100,
    }
    assert roundtrip(router, "logs", "FilterLogEvents", params) == params


def test_timestamps_become_aware_datetimes(router):
    params = {
        "FunctionName": "f",
        "EventSourceArn": "arn:aws:kinesis:us-east-1:000000000000:stream/s",
        "StartingPosition": "AT_TIMESTAMP",
        "StartingPositionTimestamp": datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc),
        "BatchSize": 100,
        "Enabled": False,
    }
    assert roundtrip(router, "lambda", "CreateEventSourceMapping", params) == params


# --- validation ---------------------------------------------------------------------------


def test_missing_required_member(router):
    request = wire_request(
        "lambda",
        "CreateFunction",
        {
            "FunctionName": "f",
            "Runtime": "python3.12",
            "Handler": "app.handler",
            "Code": {"ZipFile": b"z"},
        },
    )
    error = parse_error(router, request)
    assert (error.code, error.status) == ("ValidationException", 400)
    assert error.message == (
        "1 validation error detected: Value null at 'role' failed to satisfy constraint: Member must not be null"
    )


def test_pattern_violation(router):
    request = wire_request("lambda", "GetFunction", {"FunctionName": "not a valid name!"})
    error = parse_error(router, request)
    pattern = _model("lambda").shape_for("NamespacedFunctionName").metadata["pattern"]
    assert error.code == "ValidationException"
    assert error.message == (
        "1 validation error detected: Value 'not a valid name!' at 'functionName' failed to satisfy "
        f"constraint: Member must satisfy regular expression pattern: {pattern}"
    )


def test_range_violations_are_reported_together(router):
    request = wire_request(
        "lambda",
        "CreateFunction",
        {
            "FunctionName": "f",
            "Runtime": "python3.12",
            "Role": "arn:aws:iam::000000000000:role/r",
            "Handler": "app.handler",
            "Code": {"ZipFile": b"z"},
            "MemorySize": 64,
            "Timeout": 0,
        },
    )
    error = parse_error(router, request)
    assert error.code == "ValidationException"
    assert error.message == (
        "2 validation errors detected: "
        "Value '0' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1; "
        "Value '64' at 'memorySize' failed to satisfy constraint: "
        "Member must have value greater than or equal to 128"
    )


def test_range_violation_in_querystring_and_json_protocol(router):
    error = parse_error(router, wire_request("lambda", "ListFunctions", {"MaxItems": 0}))
    assert error.message == (
        "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1"
    )
    error = parse_error(router, wire_request("logs", "DescribeLogGroups", {"limit": 51}))
    assert error.message == (
        "1 validation error detected: Value '51' at 'limit' failed to satisfy constraint: "
        "Member must have value less than or equal to 50"
    )


def test_length_violation_shows_the_list_as_aws_does(router):
    request = wire_request(
        "lambda",
        "CreateFunction",
        {
            "FunctionName": "f",
            "Runtime": "python3.12",
            "Role": "arn:aws:iam::000000000000:role/r",
            "Handler": "app.handler",
            "Code": {"ZipFile": b"z"},
            "Architectures": ["x86_64", "arm64"],
        },
    )
    assert parse_error(router, request).message == (
        "1 validation error detected: Value '[x86_64, arm64]' at 'architectures' failed to satisfy "
        "constraint: Member must have length less than or equal to 1"
    )


def test_enum_violation(router):
    error = parse_error(router, wire_request("lambda", "Invoke", {"FunctionName": "f", "InvocationType": "Later"}))
    assert error.code == "ValidationException"
    assert error.message.startswith(
        "1 validation error detected: Value 'Later' at 'invocationType' failed to satisfy constraint: "
        "Member must satisfy enum value set: ["
    )


# --- requests that are not what the protocol promises ----------------------------------------


def test_unknown_rest_path_is_unknown_operation(router):
    request = wire_request("lambda", "ListFunctions", {})
    request = Request("GET", "/2015-03-31/nothing-here", "/2015-03-31/nothing-here", "", request.headers)
    with pytest.raises(ServiceError) as caught:
        router.resolve(request)
    assert caught.value.code == "UnknownOperationException"


def test_unknown_json_target_is_unknown_operation(router):
    request = wire_request("logs", "DescribeLogGroups", {})
    for target in ("Logs_20140328.NoSuchOperation", "NoSuchService.DescribeLogGroups"):
        request.headers["x-amz-target"] = target
        with pytest.raises(ServiceError) as caught:
            router.resolve(request)
        assert caught.value.code == "UnknownOperationException"


def test_malformed_json_body_on_lambda_is_invalid_request_content(router):
    request = wire_request("lambda", "CreateFunction", {"FunctionName": "f"})
    request.body = b'{"FunctionName": "f", '
    error = parse_error(router, request)
    assert (error.code, error.status) == ("InvalidRequestContentException", 400)
    assert error.message.startswith("Could not parse request body into json")


def test_malformed_json_body_on_json_protocol_is_serialization_exception(router):
    request = wire_request("logs", "DescribeLogGroups", {})
    request.body = b"{not json"
    error = parse_error(router, request)
    assert (error.code, error.status) == ("SerializationException", 400)
    request.body = b"[1, 2]"
    assert parse_error(router, request).code == "SerializationException"


def test_wrongly_typed_member_on_lambda_is_invalid_request_content(router):
    request = wire_request("lambda", "UpdateFunctionConfiguration", {"FunctionName": "f"})
    request.body = json.dumps({"MemorySize": {"not": "a number"}}).encode()
    error = parse_error(router, request)
    assert (error.code, error.status) == ("InvalidRequestContentException", 400)


def test_empty_body_is_an_empty_input(router):
    request = wire_request("logs", "DescribeLogGroups", {})
    request.body = b""
    assert parsers.parse(router.resolve(request), request) == {}
