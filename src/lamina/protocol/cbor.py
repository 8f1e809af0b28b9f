"""The smithy-rpc-v2-cbor protocol (CloudWatch since botocore 1.40), both ways.

Requests are `POST /service/<Service>/operation/<Operation>` (the router resolves them)
with the header `smithy-protocol: rpc-v2-cbor` and the input structure as one CBOR map,
keyed by member names; timestamps are tag 1 (epoch seconds), blobs byte strings.
Responses carry the output structure the same way, `content-type: application/cbor`.

An error is a CBOR map with `__type` (the error shape's name) and `message`, and the HTTP
status the model gives the shape. A service with the awsQueryCompatible trait (CloudWatch)
also says `x-amzn-query-error: <query code>;Sender|Receiver`, from which botocore reports
the code clients knew from the query protocol (InvalidParameterValue, not
InvalidParameterValueException).

The same services also list awsJson1_0 in their model (`protocols`), and botocore sends
the first of its own priority list that the service offers: recent botocore (1.44) talks
JSON to CloudWatch where earlier releases talked CBOR. The router tells the two apart per
request (Resolved.protocol), so JSON requests never come here.

An older dialect lives here too, JSON_CBOR: the json protocol (X-Amz-Target, POST /) with
the body in CBOR, `content-type: application/x-amz-cbor-1.1`, which the AWS SDK for Java
talks to Kinesis by default. The answer comes back the same way, and an error is a CBOR map
of `__type` and `message`. Its timestamps differ: the SDK writes them as tag 1 with epoch
seconds but reads a timestamp in an answer as a number of epoch milliseconds
(AwsCborProtocolFactory: UNIX_TIMESTAMP_MILLIS), so that is what the answers carry,
untagged (a tag 1 would make them a date thousands of years on to any decoder that honours
it; the SDK's ignores tags). An event-stream answer (SubscribeToShard) is framed as the
json protocol's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import cbor2
from botocore.model import OperationModel, Shape

from ..errors import ServiceError
from . import faults, shapes
from .messages import Request, Response
from .router import Resolved, ServiceSpec

PROTOCOL = "smithy-rpc-v2-cbor"
CONTENT_TYPE = "application/cbor"
_PROTOCOL_HEADER = ("smithy-protocol", "rpc-v2-cbor")
JSON_CBOR = "json-cbor"  # the json protocol with CBOR bodies (the Java SDK's Kinesis)
JSON_CBOR_CONTENT_TYPE = "application/x-amz-cbor-1.1"


# --- requests ---------------------------------------------------------------------------


def parse_request(resolved: Resolved, request: Request) -> dict[str, Any]:
    """The operation's input dict, with the model's member names (validated by the caller)."""
    shape = resolved.operation.input_shape
    if shape is None:
        return {}
    body = request.body  # parsers.parse has inflated a gzip body already
    document = load(body) if body else {}
    if not isinstance(document, dict):
        raise _bad_body("expected a CBOR map")
    return shapes.from_json(shape, _without_nulls(document))


def load(body: bytes) -> Any:
    """A CBOR document; a body that is not one is a SerializationException."""
    try:
        return cbor2.loads(body)
    except Exception as error:  # cbor2 raises CBORDecodeError, ValueError, EOFError, ...
        raise _bad_body(str(error) or type(error).__name__) from None


def _bad_body(reason: str) -> ServiceError:
    return ServiceError("SerializationException", f"Could not parse request body as CBOR: {reason}", 400)


def _without_nulls(value: Any) -> Any:
    # CBOR null and undefined both mean "not set" in Smithy.
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None and v is not cbor2.undefined}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


# --- responses --------------------------------------------------------------------------


def _epoch_tag(value: Any) -> cbor2.CBORTag:
    return cbor2.CBORTag(1, shapes.epoch(value))


def _epoch_ms(value: Any) -> int:
    return round(shapes.parse_timestamp(value).timestamp() * 1000)


def to_cbor(shape: Shape, value: Any, timestamp: Callable[[Any], Any] = _epoch_tag) -> Any:
    """A Python value of `shape` -> the value cbor2 encodes as the client expects to read it
    (botocore; the Java SDK with `timestamp=_epoch_ms`)."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        if getattr(shape, "is_document_type", False):
            return value
        out = {}
        for name, member in shape.members.items():
            item = value.get(name)
            if item is not None:
                out[member.serialization.get("name", name)] = to_cbor(member, item, timestamp)
        return out
    if kind == "list":
        return [to_cbor(shape.member, item, timestamp) for item in value]
    if kind == "map":
        return {key: to_cbor(shape.value, item, timestamp) for key, item in value.items()}
    if kind == "blob":
        return value.encode("utf-8") if isinstance(value, str) else bytes(value)
    if kind == "timestamp":
        return timestamp(value)
    if kind in ("float", "double"):
        return float(value)
    if kind in ("integer", "long", "short", "byte"):
        return int(value)
    if kind == "boolean":
        return bool(value)
    if kind == "string" and isinstance(value, datetime):
        return shapes.iso8601(value)
    return value


def dump(document: Any) -> bytes:
    return cbor2.dumps(document)


def serialize_result(spec: ServiceSpec, op: OperationModel, result: dict, request_id: str) -> Response:
    shape = op.output_shape
    headers = [("content-type", CONTENT_TYPE), _PROTOCOL_HEADER, ("x-amzn-requestid", request_id)]
    # Smithy: an operation without output has an empty body (botocore reads none).
    body = dump(to_cbor(shape, result) or {}) if shape is not None else b""
    return Response(200, headers, body)


def serialize_error(
    spec: ServiceSpec | None, error: ServiceError, request_id: str, protocol: str = PROTOCOL
) -> Response:
    shape, type_name, status, extra = faults.describe(spec, error)
    document: dict[str, Any] = {"__type": type_name, "message": error.message}
    if shape is not None and "Message" in shape.members:
        document["Message"] = error.message
    if shape is not None and error.fields:
        document.update(to_cbor(shape, error.fields) or {})
    else:
        document.update(error.fields)
    headers = [
        ("content-type", CONTENT_TYPE),
        _PROTOCOL_HEADER,
        ("x-amzn-requestid", request_id),
        ("x-amzn-errortype", type_name),
        *extra,
    ]
    headers.extend(error.headers.items())
    return Response(status, headers, dump(document))


# --- the json protocol in CBOR (application/x-amz-cbor-1.1) -----------------------------


def serialize_json_cbor_result(spec: ServiceSpec, op: OperationModel, result: dict, request_id: str) -> Response:
    shape = op.output_shape
    body = dump(to_cbor(shape, result, _epoch_ms) or {}) if shape is not None else dump({})
    headers = [("content-type", JSON_CBOR_CONTENT_TYPE), ("x-amzn-requestid", request_id)]
    return Response(200, headers, body)


def serialize_json_cbor_error(
    spec: ServiceSpec | None, error: ServiceError, request_id: str, protocol: str = JSON_CBOR
) -> Response:
    shape, type_name, status, extra = faults.describe(spec, error)
    document: dict[str, Any] = {"__type": type_name, "message": error.message}
    if shape is not None and error.fields:
        document.update(to_cbor(shape, error.fields, _epoch_ms) or {})
    else:
        document.update(error.fields)
    headers = [
        ("content-type", JSON_CBOR_CONTENT_TYPE),
        ("x-amzn-requestid", request_id),
        ("x-amzn-errortype", type_name),
        *extra,
    ]
    headers.extend(error.headers.items())
    return Response(status, headers, dump(document))
