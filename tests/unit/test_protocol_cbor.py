"""smithy-rpc-v2-cbor, tested the LocalStack way: botocore's own serializer builds the
request (as boto3 sends it to CloudWatch), Lamina parses it; Lamina serializes a result or
an error, botocore's own parser reads it back."""

from __future__ import annotations

import gzip
from datetime import datetime, timezone

import cbor2
import pytest

from lamina.errors import ServiceError, validation_error
from lamina.protocol import parsers, serializers
from lamina.protocol.messages import Request
from lamina.protocol.router import Router

from .test_protocol_requests import wire_request
from .test_protocol_responses import REQUEST_ID, botocore_reads, serialize, without_metadata

T0 = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
T1 = datetime(2024, 5, 6, 8, 8, 9, 500000, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(["lambda", "logs", "cloudwatch"])


@pytest.fixture(scope="module")
def spec(router):
    return router.specs["cloudwatch"]


def test_cloudwatch_speaks_cbor(spec):
    assert spec.protocol == "smithy-rpc-v2-cbor"


def roundtrip(router: Router, operation: str, params: dict) -> dict:
    request = wire_request("cloudwatch", operation, params)
    assert request.path == f"/service/GraniteServiceVersion20100801/operation/{operation}"
    assert request.headers["smithy-protocol"] == "rpc-v2-cbor"
    resolved = router.resolve(request)
    assert (resolved.spec.name, resolved.operation.name) == ("cloudwatch", operation)
    return parsers.parse(resolved, request)


# --- requests -------------------------------------------------------------------------------


def test_put_metric_data_round_trips(router):
    params = {
        "Namespace": "App/Orders",
        "MetricData": [
            {
                "MetricName": "Latency",
                "Dimensions": [{"Name": "Route", "Value": "/caf\u00e9"}],
                "Timestamp": T0,
                "Value": 12.5,
                "Unit": "Milliseconds",
                "StorageResolution": 60,
            },
            {"MetricName": "Latency", "Timestamp": T1, "Values": [1.0, 2.5, 1e100], "Counts": [3.0, 1.0, 0.5]},
            {
                "MetricName": "Size",
                "StatisticValues": {"SampleCount": 4.0, "Sum": 10.0, "Minimum": 1.0, "Maximum": 4.0},
                "Unit": "Bytes",
            },
            {"MetricName": "Zero", "Value": 0.0},
            {"MetricName": "Negative", "Value": -3.25},
        ],
    }
    assert roundtrip(router, "PutMetricData", params) == params


def test_get_metric_data_round_trips(router):
    params = {
        "MetricDataQueries": [
            {
                "Id": "p99",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Lambda",
                        "MetricName": "Duration",
                        "Dimensions": [{"Name": "FunctionName", "Value": "f"}],
                    },
                    "Period": 60,
                    "Stat": "p99.9",
                    "Unit": "Milliseconds",
                },
                "Label": "tail",
                "ReturnData": True,
            },
            {"Id": "e1", "Expression": "p99 * 2", "ReturnData": False},
        ],
        "StartTime": T0,
        "EndTime": T1,
        "ScanBy": "TimestampAscending",
        "MaxDatapoints": 10,
        "NextToken": "abc",
    }
    assert roundtrip(router, "GetMetricData", params) == params


def test_an_operation_with_empty_input_parses(router):
    assert roundtrip(router, "ListMetrics", {}) == {}
    assert roundtrip(router, "ListMetrics", {"Dimensions": [{"Name": "FunctionName"}], "RecentlyActive": "PT3H"}) == {
        "Dimensions": [{"Name": "FunctionName"}],
        "RecentlyActive": "PT3H",
    }


def _raw(router: Router, operation: str, body: bytes) -> Request:
    request = wire_request("cloudwatch", operation, {})
    request.body = body
    return request


def test_timestamps_as_integers_or_floats_and_nulls(router):
    document = {
        "Namespace": "N",
        "MetricName": "M",
        "Period": 60,
        "Statistics": ["Sum"],
        "Unit": None,
        "StartTime": cbor2.CBORTag(1, 1700000000),
        "EndTime": cbor2.CBORTag(1, 1700000060.25),
    }
    request = _raw(router, "GetMetricStatistics", cbor2.dumps(document))
    params = parsers.parse(router.resolve(request), request)
    assert params["StartTime"] == datetime.fromtimestamp(1700000000, timezone.utc)
    assert params["EndTime"] == datetime.fromtimestamp(1700000060.25, timezone.utc)
    assert "Unit" not in params


def test_a_body_that_is_not_cbor_is_a_serialization_error(router):
    for body in (b"\xff\xfe{", b"\x9f\x01"):  # a break out of place; an unterminated array
        request = _raw(router, "ListMetrics", body)
        with pytest.raises(ServiceError) as caught:
            parsers.parse(router.resolve(request), request)
        assert caught.value.code == "SerializationException" and caught.value.status == 400
    request = _raw(router, "ListMetrics", cbor2.dumps([1, 2]))
    with pytest.raises(ServiceError) as caught:
        parsers.parse(router.resolve(request), request)
    assert caught.value.code == "SerializationException"


def test_model_constraints_are_checked(router):
    request = wire_request("cloudwatch", "GetMetricStatistics", {"Namespace": ":bad", "MetricName": "M"})
    with pytest.raises(ServiceError) as caught:
        parsers.parse(router.resolve(request), request)
    assert caught.value.code == "ValidationException"
    assert "Value null at 'startTime' failed to satisfy constraint" in caught.value.message
    assert "failed to satisfy constraint: Member must satisfy regular expression pattern" in caught.value.message


# --- responses ------------------------------------------------------------------------------


def test_get_metric_statistics_result_round_trips(spec):
    result = {
        "Label": "Latency",
        "Datapoints": [
            {
                "Timestamp": T0,
                "SampleCount": 3.0,
                "Average": 2.0,
                "Sum": 6.0,
                "Minimum": 1.0,
                "Maximum": 3.0,
                "Unit": "Milliseconds",
                "ExtendedStatistics": {"p99": 3.0, "p99.9": 3.0},
            },
            {"Timestamp": T1, "Sum": 0.0, "Unit": "None"},
        ],
    }
    response = serialize(spec, "GetMetricStatistics", result)
    assert response.status == 200
    assert ("content-type", "application/cbor") in response.headers
    assert ("smithy-protocol", "rpc-v2-cbor") in response.headers
    assert without_metadata(botocore_reads(spec, "GetMetricStatistics", response)) == result


def test_get_metric_data_result_round_trips(spec):
    result = {
        "MetricDataResults": [
            {"Id": "a", "Label": "Duration", "Timestamps": [T1, T0], "Values": [1.5, 2.0], "StatusCode": "PartialData"},
            {"Id": "b", "Label": "Empty", "Timestamps": [], "Values": [], "StatusCode": "Complete"},
        ],
        "NextToken": "next",
        "Messages": [],
    }
    response = serialize(spec, "GetMetricData", result)
    assert without_metadata(botocore_reads(spec, "GetMetricData", response)) == result


def test_integers_in_double_members_are_sent_as_floats(spec):
    response = serialize(spec, "GetMetricStatistics", {"Datapoints": [{"Sum": 3}]})
    assert cbor2.loads(response.body) == {"Datapoints": [{"Sum": 3.0}]}
    assert isinstance(cbor2.loads(response.body)["Datapoints"][0]["Sum"], float)


def test_an_operation_without_output_has_an_empty_body(spec):
    response = serialize(spec, "PutMetricData", {})
    assert response.status == 200 and response.body == b""
    parsed = botocore_reads(spec, "PutMetricData", response)
    assert set(parsed) == {"ResponseMetadata"}  # botocore reads nothing, not even the request id


def _error(spec, error: ServiceError, operation: str = "PutMetricData") -> dict:
    response = serializers.serialize_error(spec, error, REQUEST_ID)
    assert ("content-type", "application/cbor") in response.headers
    parsed = botocore_reads(spec, operation, response)
    parsed["status"] = response.status
    parsed["body"] = cbor2.loads(response.body)
    return parsed


def test_errors_carry_the_query_code_for_query_compatible_services(spec):
    for code in ("InvalidParameterValue", "InvalidParameterValueException"):
        parsed = _error(spec, ServiceError(code, "The value AWS/ for parameter Namespace is invalid."))
        assert parsed["status"] == 400
        assert parsed["Error"] == {
            "Code": "InvalidParameterValue",
            "Message": "The value AWS/ for parameter Namespace is invalid.",
            "QueryErrorCode": "InvalidParameterValueException",
            "Type": "Sender",
        }
        assert parsed["body"]["__type"] == "InvalidParameterValueException"
        assert parsed["message"] == "The value AWS/ for parameter Namespace is invalid."
        assert parsed["ResponseMetadata"]["RequestId"] == REQUEST_ID


def test_error_statuses_come_from_the_model(spec):
    assert _error(spec, ServiceError("ResourceNotFound", "no dashboard"), "GetDashboard")["status"] == 404
    assert (
        _error(spec, ServiceError("ResourceNotFound", "no dashboard"), "GetDashboard")["Error"]["Code"]
        == "ResourceNotFound"
    )
    fault = _error(spec, ServiceError("InternalServiceError", "boom", sender_fault=False))
    assert fault["status"] == 500
    assert fault["Error"]["Code"] == "InternalServiceError" and fault["Error"]["Type"] == "Receiver"
    assert fault["Message"] == "boom"  # InternalServiceFault's member is spelled Message


def test_validation_errors_read_as_validation_error(spec):
    parsed = _error(spec, validation_error(["Value null at 'namespace' failed to satisfy constraint: x"]))
    assert parsed["status"] == 400
    assert parsed["Error"]["Code"] == "ValidationError"
    assert parsed["Error"]["Message"].startswith("1 validation error detected")


def test_unmodelled_errors_keep_their_code(spec):
    parsed = _error(spec, ServiceError("InternalFailure", "oops", 500, sender_fault=False))
    assert parsed["status"] == 500
    assert parsed["Error"]["Code"] == "InternalFailure"
    parsed = _error(spec, ServiceError("UnknownOperationException", "Operation X is not implemented", 501))
    assert parsed["status"] == 501 and parsed["Error"]["Code"] == "UnknownOperationException"


# --- the same services over awsJson1_0 (what botocore 1.44 sends CloudWatch) ---------------


def _json_request(operation: str, params: dict) -> Request:
    import botocore.session
    from botocore.serialize import create_serializer

    model = botocore.session.get_session().get_service_model("cloudwatch")
    serialized = create_serializer("json", include_validation=False).serialize_to_request(
        params, model.operation_model(operation)
    )
    headers = {k.lower(): v for k, v in serialized["headers"].items()}
    return Request(method="POST", path="/", raw_path="/", query_string="", headers=headers, body=serialized["body"])


def _json_reads(spec, operation: str, response) -> dict:
    from botocore.parsers import create_parser
    from urllib3._collections import HTTPHeaderDict

    headers = HTTPHeaderDict()
    for name, value in response.headers:
        headers.add(name, value)
    op = spec.model.operation_model(operation)
    return create_parser("json").parse(
        {
            "status_code": response.status,
            "headers": headers,
            "body": response.body,
            "context": {"operation_name": operation},
        },
        op.output_shape,
    )


def test_json_requests_and_answers(router, spec):
    """botocore 1.44 speaks JSON to CloudWatch: the router says so per request, and the
    answer goes back in JSON, query-compatible error codes included."""
    params = {
        "Namespace": "App",
        "MetricData": [
            {"MetricName": "M", "Timestamp": T1, "Values": [1.0, 2.0], "Counts": [1.0, 2.0], "Unit": "Count"}
        ],
    }
    request = _json_request("PutMetricData", params)
    resolved = router.resolve(request)
    assert resolved.operation.name == "PutMetricData" and resolved.protocol == "json"
    assert parsers.parse(resolved, request) == params
    op = spec.model.operation_model("GetMetricStatistics")
    result = serializers.serialize(
        spec, op, {"Label": "M", "Datapoints": [{"Timestamp": T0, "Sum": 3.0}]}, REQUEST_ID, resolved.protocol
    )
    error = serializers.serialize_error(
        spec, ServiceError("InvalidParameterValue", "bad"), REQUEST_ID, resolved.protocol
    )
    assert ("content-type", "application/x-amz-json-1.0") in result.headers
    assert without_metadata(_json_reads(spec, "GetMetricStatistics", result)) == {
        "Label": "M",
        "Datapoints": [{"Timestamp": T0, "Sum": 3.0}],
    }
    parsed = _json_reads(spec, "PutMetricData", error)
    assert error.status == 400
    assert parsed["Error"]["Code"] == "InvalidParameterValue" and parsed["Error"]["Message"] == "bad"
    # The service's own protocol is still CBOR.
    assert ("content-type", "application/cbor") in serialize(spec, "GetMetricStatistics", {}).headers


def test_gzipped_bodies_are_inflated(router):
    params = {"Namespace": "App", "MetricData": [{"MetricName": f"M{i}", "Value": float(i)} for i in range(50)]}
    for make in (
        lambda: wire_request("cloudwatch", "PutMetricData", params),
        lambda: _json_request("PutMetricData", params),
    ):
        request = make()
        request.body = gzip.compress(request.body)
        request.headers["content-encoding"] = "gzip"
        assert parsers.parse(router.resolve(request), request) == params
    request = wire_request("cloudwatch", "ListMetrics", {})
    request.body, request.headers["content-encoding"] = b"not gzip", "gzip"
    with pytest.raises(ServiceError) as caught:
        parsers.parse(router.resolve(request), request)
    assert caught.value.code == "SerializationException"
