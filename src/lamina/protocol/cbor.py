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
JSON to CloudWatch (`X-Amz-Target`, `application/x-amz-json-1.0`) where earlier releases
talked CBOR. So the wire format is read from each request, and the answer goes back in it
(remembered for the request's task in a context variable, as serializers get no request).
"""
from __future__ import annotations

import contextvars
import json
import zlib
from datetime import datetime
from typing import Any

import cbor2
from botocore.model import OperationModel, ServiceModel, Shape

from . import shapes
from ..errors import ServiceError
from .messages import Request, Response
from .router import Resolved, ServiceSpec

PROTOCOL = "smithy-rpc-v2-cbor"
CONTENT_TYPE = "application/cbor"
_PROTOCOL_HEADER = ("smithy-protocol", "rpc-v2-cbor")

MAX_INFLATED_BYTES = 16 * 1024 * 1024  # botocore gzips large PutMetricData bodies (requestcompression)

CBOR, JSON = "cbor", "json"
# The wire format of the request being served (set by parse_request, read by the serializers).
_wire: contextvars.ContextVar[str] = contextvars.ContextVar("lamina_rpc_v2_wire", default=CBOR)


def wire_format(request: Request) -> str:
    if request.path.startswith("/service/") and "/operation/" in request.path:
        return CBOR
    if "x-amz-target" in request.headers or "json" in request.headers.get("content-type", ""):
        return JSON
    return CBOR


# --- requests ---------------------------------------------------------------------------


def parse_request(resolved: Resolved, request: Request) -> dict[str, Any]:
    """The operation's input dict, with the model's member names (validated by the caller)."""
    wire = wire_format(request)
    _wire.set(wire)
    shape = resolved.operation.input_shape
    if shape is None:
        return {}
    body = _inflated(request)
    if wire == JSON:
        document = _load_json(body) if body.strip() else {}
    else:
        document = load(body) if body else {}
    if not isinstance(document, dict):
        raise _bad_body(f"expected a {wire.upper()} map")
    return shapes.from_json(shape, _without_nulls(document))


def load(body: bytes) -> Any:
    """A CBOR document; a body that is not one is a SerializationException."""
    try:
        return cbor2.loads(body)
    except Exception as error:  # cbor2 raises CBORDecodeError, ValueError, EOFError, ...
        raise _bad_body(str(error) or type(error).__name__) from None


def _inflated(request: Request) -> bytes:
    """The body, gunzipped when the client compressed it (Content-Encoding: gzip)."""
    encodings = [e.strip().lower() for e in request.headers.get("content-encoding", "").split(",") if e.strip()]
    if "gzip" not in encodings or not request.body:
        return request.body
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        body = inflater.decompress(request.body, MAX_INFLATED_BYTES)
    except zlib.error as error:
        raise ServiceError("SerializationException", f"Could not decompress the gzip request body: {error}",
                           400) from None
    if inflater.unconsumed_tail:
        raise ServiceError("RequestEntityTooLargeException",
                           f"The request body inflates to more than {MAX_INFLATED_BYTES} bytes", 413)
    return body


def _load_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise ServiceError("SerializationException", f"Could not parse request body into json: {error}",
                           400) from None


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


def to_cbor(shape: Shape, value: Any) -> Any:
    """A Python value of `shape` -> the value cbor2 encodes as botocore expects to read it."""
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
                out[member.serialization.get("name", name)] = to_cbor(member, item)
        return out
    if kind == "list":
        return [to_cbor(shape.member, item) for item in value]
    if kind == "map":
        return {key: to_cbor(shape.value, item) for key, item in value.items()}
    if kind == "blob":
        return value.encode("utf-8") if isinstance(value, str) else bytes(value)
    if kind == "timestamp":
        return cbor2.CBORTag(1, shapes.epoch(value))
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
    if _wire.get() == JSON:
        body = _dump_json(shapes.to_json(shape, result) if shape is not None else {})
        return Response(200, [("content-type", _json_type(spec)), ("x-amzn-requestid", request_id)], body)
    headers = [("content-type", CONTENT_TYPE), _PROTOCOL_HEADER, ("x-amzn-requestid", request_id)]
    # Smithy: an operation without output has an empty body (botocore reads none).
    body = dump(to_cbor(shape, result) or {}) if shape is not None else b""
    return Response(200, headers, body)


def serialize_error(spec: ServiceSpec | None, error: ServiceError, request_id: str) -> Response:
    shape = _error_shape(spec.model, error.code) if spec is not None else None
    type_name = shape.name if shape is not None else error.code
    document: dict[str, Any] = {"__type": type_name, "message": error.message}
    if shape is not None and "Message" in shape.members:
        document["Message"] = error.message
    as_json = _wire.get() == JSON
    if shape is not None and error.fields:
        fields = shapes.to_json(shape, error.fields) if as_json else to_cbor(shape, error.fields)
        document.update(fields or {})
    else:
        document.update(error.fields)
    error_meta = shape.metadata.get("error", {}) if shape is not None else {}
    status = error.status or error_meta.get("httpStatusCode") or (400 if error.sender_fault else 500)
    headers = [("content-type", _json_type(spec)) if as_json else ("content-type", CONTENT_TYPE)]
    if not as_json:
        headers.append(_PROTOCOL_HEADER)
    headers += [("x-amzn-requestid", request_id), ("x-amzn-errortype", type_name)]
    if spec is not None and "awsQueryCompatible" in spec.model.metadata:
        query_code = error_meta.get("code") or type_name
        fault = "Sender" if error_meta.get("senderFault", error.sender_fault) else "Receiver"
        headers.append(("x-amzn-query-error", f"{query_code};{fault}"))
    headers.extend(error.headers.items())
    return Response(int(status), headers, _dump_json(document) if as_json else dump(document))


def _json_type(spec: ServiceSpec | None) -> str:
    version = spec.model.metadata.get("jsonVersion", "1.0") if spec is not None else "1.0"
    return f"application/x-amz-json-{version}"


def _dump_json(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _error_shape(model: ServiceModel, code: str) -> Shape | None:
    """The error shape a code names: by shape name, or by its query-protocol code."""
    try:
        shape = model.shape_for(code)
        if shape.metadata.get("exception"):
            return shape
    except Exception:
        pass
    return model.shape_for_error_code(code)
