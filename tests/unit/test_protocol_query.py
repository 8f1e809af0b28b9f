"""The query protocol (SNS), tested the LocalStack way: botocore's own QuerySerializer builds
and signs the request, Lamina's router and parser read it back; Lamina's XML is read back by
botocore's own QueryParser, as boto3 would read it.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from botocore.parsers import create_parser
from urllib3._collections import HTTPHeaderDict

from lamina.errors import ServiceError, validation_error
from lamina.protocol import parsers, serializers, xml_shapes
from lamina.protocol.messages import Request, Response
from lamina.protocol.router import Router, ServiceSpec

from .test_protocol_requests import wire_request

REQUEST_ID = "11111111-2222-3333-4444-555555555555"
TOPIC_ARN = "arn:aws:sns:us-east-1:000000000000:my-topic"


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(["sns", "sqs", "lambda"])


@pytest.fixture(scope="module")
def spec(router) -> ServiceSpec:
    return router.specs["sns"]


def roundtrip(router: Router, operation: str, params: dict) -> dict:
    request = wire_request("sns", operation, params)
    assert request.body.startswith(f"Action={operation}&Version=2010-03-31".encode())
    resolved = router.resolve(request)
    assert (resolved.spec.name, resolved.operation.name, resolved.protocol) == ("sns", operation, "query")
    return parsers.parse(resolved, request)


# --- requests ---------------------------------------------------------------------------------


def test_create_topic_with_attribute_map_and_tag_list(router):
    params = {
        "Name": "orders.fifo",
        "Attributes": {"FifoTopic": "true", "DisplayName": "caf\u00e9 & <co> \u2603", "Policy": '{"a": 1}'},
        "Tags": [{"Key": "team", "Value": "platform"}, {"Key": "empty", "Value": ""}],
    }
    assert roundtrip(router, "CreateTopic", params) == params


def test_publish_with_typed_message_attributes(router):
    params = {
        "TopicArn": TOPIC_ARN,
        "Message": "line one\nline two\r\n\ttabbed = & + % \u00e9",
        "Subject": "Hello",
        "MessageStructure": "json",
        "MessageAttributes": {
            "store": {"DataType": "String", "StringValue": "example_corp"},
            "price": {"DataType": "Number", "StringValue": "210.75"},
            "blob": {"DataType": "Binary", "BinaryValue": bytes(range(256))},
            "sizes": {"DataType": "String.Array", "StringValue": '["S", "M"]'},
        },
        "MessageGroupId": "g1",
        "MessageDeduplicationId": "d1",
    }
    request = wire_request("sns", "Publish", params)
    assert b"MessageAttributes.entry.1.Name=store" in request.body
    assert b"MessageAttributes.entry.1.Value.DataType=String" in request.body
    assert roundtrip(router, "Publish", params) == params


def test_publish_batch_list_of_structures_with_maps(router):
    entries = [
        {"Id": f"e{i}", "Message": f"m{i}", "MessageAttributes": {"n": {"DataType": "Number", "StringValue": str(i)}}}
        for i in range(1, 12)
    ]  # 11: past 10, so member.10 and member.11 sort numerically
    params = {"TopicArn": TOPIC_ARN, "PublishBatchRequestEntries": entries}
    assert roundtrip(router, "PublishBatch", params) == params


def test_booleans_empty_lists_and_inputs_without_members(router):
    params = {
        "TopicArn": TOPIC_ARN,
        "Protocol": "sqs",
        "Endpoint": "arn:aws:sqs:us-east-1:000000000000:q",
        "Attributes": {"RawMessageDelivery": "true"},
        "ReturnSubscriptionArn": True,
    }
    assert roundtrip(router, "Subscribe", params) == params
    assert roundtrip(router, "Subscribe", dict(params, ReturnSubscriptionArn=False))["ReturnSubscriptionArn"] is False
    untag = {"ResourceArn": TOPIC_ARN, "TagKeys": []}
    assert roundtrip(router, "UntagResource", untag) == untag
    assert roundtrip(router, "ListTopics", {}) == {}
    assert roundtrip(router, "ListTopics", {"NextToken": "a+b/c=="}) == {"NextToken": "a+b/c=="}


def test_a_get_with_the_action_in_the_query_string(router):
    request = wire_request("sns", "ListSubscriptionsByTopic", {"TopicArn": TOPIC_ARN})
    get = Request(
        "GET", "/", "/", request.body.decode(), {k: v for k, v in request.headers.items() if k != "content-type"}
    )
    resolved = router.resolve(get)
    assert resolved.operation.name == "ListSubscriptionsByTopic"
    assert parsers.parse(resolved, get) == {"TopicArn": TOPIC_ARN}


def test_missing_required_members_fail_validation(router):
    request = wire_request("sns", "Publish", {"TopicArn": TOPIC_ARN})
    with pytest.raises(ServiceError) as caught:
        parsers.parse(router.resolve(request), request)
    assert caught.value.code == "ValidationException"
    assert "'message'" in caught.value.message


def test_malformed_values_are_refused(router):
    request = wire_request("sns", "Subscribe", {"TopicArn": TOPIC_ARN, "Protocol": "sqs"})
    request.body += b"&ReturnSubscriptionArn=maybe"
    with pytest.raises(ServiceError) as caught:
        parsers.parse(router.resolve(request), request)
    assert caught.value.code == "MalformedQueryString"


# --- responses ---------------------------------------------------------------------------------


def botocore_reads(spec: ServiceSpec, operation: str, response: Response) -> dict:
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
    parser = create_parser("query")
    parsed = parser.parse(response_dict, op.output_shape)
    code = parsed.get("Error", {}).get("Code")
    if code:
        error_shape = spec.model.shape_for_error_code(code)
        if error_shape is not None:
            parsed.update(parser.parse(response_dict, error_shape))
    return parsed


def result_of(spec: ServiceSpec, operation: str, result: dict) -> dict:
    response = serializers.serialize(spec, spec.model.operation_model(operation), result, REQUEST_ID)
    assert response.status == 200
    assert dict(response.headers)["content-type"] == "text/xml"
    parsed = botocore_reads(spec, operation, response)
    assert parsed.pop("ResponseMetadata")["RequestId"] == REQUEST_ID
    return parsed


def test_result_is_wrapped_and_namespaced(spec):
    response = serializers.serialize(
        spec, spec.model.operation_model("CreateTopic"), {"TopicArn": TOPIC_ARN}, REQUEST_ID
    )
    assert response.body.decode() == (
        '<CreateTopicResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><CreateTopicResult>'
        f"<TopicArn>{TOPIC_ARN}</TopicArn></CreateTopicResult><ResponseMetadata><RequestId>{REQUEST_ID}"
        "</RequestId></ResponseMetadata></CreateTopicResponse>"
    )
    assert result_of(spec, "CreateTopic", {"TopicArn": TOPIC_ARN}) == {"TopicArn": TOPIC_ARN}


def test_maps_round_trip_with_awkward_text(spec):
    attributes = {
        "Policy": '{"Statement": [{"Effect": "Allow"}]}',
        "DisplayName": "a < b & c > d \"q\" 'x'",
        "Lines": "one\r\ntwo\rthree\n",
        "Empty": "",
        "Unicode": "caf\u00e9 \u2603 \U0001f600",
    }
    assert result_of(spec, "GetTopicAttributes", {"Attributes": attributes}) == {"Attributes": attributes}


def test_lists_of_structures_and_paging(spec):
    topics = [{"TopicArn": f"{TOPIC_ARN}-{i}"} for i in range(3)]
    assert result_of(spec, "ListTopics", {"Topics": topics, "NextToken": "t"}) == {"Topics": topics, "NextToken": "t"}
    assert result_of(spec, "ListTopics", {"Topics": []}) == {"Topics": []}
    tags = [{"Key": "team", "Value": "platform"}]
    assert result_of(spec, "ListTagsForResource", {"Tags": tags}) == {"Tags": tags}


def test_publish_batch_result(spec):
    result = {
        "Successful": [{"Id": "a", "MessageId": "m1", "SequenceNumber": "10000000000000000001"}],
        "Failed": [
            {"Id": "b", "Code": "InvalidParameter", "Message": "Invalid parameter: Empty message", "SenderFault": True}
        ],
    }
    assert result_of(spec, "PublishBatch", result) == result


def test_operation_without_output(spec):
    response = serializers.serialize(spec, spec.model.operation_model("DeleteTopic"), {}, REQUEST_ID)
    assert b"<DeleteTopicResponse" in response.body and b"DeleteTopicResult" not in response.body
    assert botocore_reads(spec, "DeleteTopic", response)["ResponseMetadata"]["RequestId"] == REQUEST_ID


def test_timestamps_booleans_numbers_and_blobs_in_xml():
    from botocore.model import ShapeResolver

    resolver = ShapeResolver(
        {
            "Out": {
                "type": "structure",
                "members": {
                    "When": {"shape": "Time"},
                    "Yes": {"shape": "Bool"},
                    "Count": {"shape": "Int"},
                    "Ratio": {"shape": "Double"},
                    "Data": {"shape": "Blob"},
                    "Flat": {"shape": "FlatList", "locationName": "Item"},
                    "Named": {"shape": "NamedMap"},
                },
            },
            "Time": {"type": "timestamp"},
            "Bool": {"type": "boolean"},
            "Int": {"type": "integer"},
            "Double": {"type": "double"},
            "Blob": {"type": "blob"},
            "Str": {"type": "string"},
            "FlatList": {"type": "list", "member": {"shape": "Str"}, "flattened": True},
            "NamedMap": {
                "type": "map",
                "key": {"shape": "Str", "locationName": "K"},
                "value": {"shape": "Str", "locationName": "V"},
            },
        }
    )
    shape = resolver.get_shape_by_name("Out")
    value = {
        "When": datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=timezone.utc),
        "Yes": False,
        "Count": 7,
        "Ratio": 0.25,
        "Data": b"\x00\xff",
        "Flat": ["a", "b"],
        "Named": {"x": "1"},
    }
    out: list[str] = []
    xml_shapes.element(shape, value, "Out", out)
    parsed = create_parser("query")._parse_shape(shape, query_root("".join(out)))
    assert parsed == value


def query_root(xml: str):
    from xml.etree import ElementTree

    return ElementTree.fromstring(xml)


# --- errors --------------------------------------------------------------------------------------


def error_of(spec: ServiceSpec, error: ServiceError, operation: str = "GetTopicAttributes") -> tuple[int, dict]:
    response = serializers.serialize_error(spec, error, REQUEST_ID, "query")
    return response.status, botocore_reads(spec, operation, response)


@pytest.mark.parametrize(
    "raised, code, status",
    [
        ("NotFound", "NotFound", 404),
        ("NotFoundException", "NotFound", 404),
        ("InvalidParameter", "InvalidParameter", 400),
        ("AuthorizationError", "AuthorizationError", 403),
        ("ResourceNotFound", "ResourceNotFound", 404),
        ("TooManyEntriesInBatchRequest", "TooManyEntriesInBatchRequest", 400),
        ("Throttled", "Throttled", 429),
    ],
)
def test_errors_carry_the_query_code_and_model_status(spec, raised, code, status):
    got_status, parsed = error_of(spec, ServiceError(raised, "Topic does not exist"))
    assert got_status == status
    assert parsed["Error"] == {"Type": "Sender", "Code": code, "Message": "Topic does not exist"}
    assert parsed["ResponseMetadata"]["RequestId"] == REQUEST_ID


def test_error_xml_shape(spec):
    response = serializers.serialize_error(spec, ServiceError("NotFound", "Topic does not exist"), REQUEST_ID, "query")
    assert response.body.decode() == (
        '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type>'
        "<Code>NotFound</Code><Message>Topic does not exist</Message></Error>"
        f"<RequestId>{REQUEST_ID}</RequestId></ErrorResponse>"
    )


def test_receiver_faults_and_unknown_codes(spec):
    status, parsed = error_of(spec, ServiceError("InternalError", "boom <&>", sender_fault=False))
    assert status == 500 and parsed["Error"] == {"Type": "Receiver", "Code": "InternalError", "Message": "boom <&>"}
    status, parsed = error_of(spec, ServiceError("SomethingElse", "odd"))
    assert status == 400 and parsed["Error"]["Code"] == "SomethingElse"


def test_validation_error_reaches_botocore(spec):
    status, parsed = error_of(spec, validation_error(["Value null at 'message' failed to satisfy constraint"]))
    assert status == 400 and parsed["Error"]["Code"] == "ValidationException"


def test_botocore_raises_the_modelled_exception(spec):
    """The client side of it all: boto3's exception classes match the query code."""
    import boto3

    client = boto3.client("sns", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    response = serializers.serialize_error(spec, ServiceError("NotFound", "Topic does not exist"), REQUEST_ID, "query")
    parsed = botocore_reads(spec, "GetTopicAttributes", response)
    assert client.exceptions.from_code(parsed["Error"]["Code"]) is client.exceptions.NotFoundException


def test_no_body_is_an_empty_input(router):
    request = wire_request("sns", "ListTopics", {})
    request.body = b""
    request.query_string = "Action=ListTopics&Version=2010-03-31"
    assert parsers.parse(router.resolve(request), request) == {}
