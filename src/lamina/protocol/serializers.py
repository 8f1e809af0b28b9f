"""An operation's result dict, or a ServiceError -> the response bytes botocore expects.

One function per protocol for results and one for errors. The HTTP status of an error is
the one given by the raiser, else the one the model gives the error shape, else 400/500.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from botocore.model import OperationModel

from ..errors import ServiceError
from . import eventstream, faults, shapes
from .messages import Response
from .router import ServiceSpec

_JSON_TYPES = {"json": "application/x-amz-json-1.1", "rest-json": "application/json"}


def _dumps(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def serialize(
    spec: ServiceSpec, op: OperationModel, result: dict | None, request_id: str, protocol: str | None = None
) -> Response:
    """The answer in `protocol` (the request's; the service's own by default)."""
    protocol = protocol or spec.protocol
    if protocol == "json-cbor" and eventstream.stream_member(op.output_shape) is not None:
        protocol = "json"  # an event stream's framing is the same; its events are JSON
    serializer = _SERIALIZERS.get(protocol)
    if serializer is None:
        raise ServiceError("InternalFailure", f"Protocol {protocol} is not served yet", 500)
    return serializer(spec, op, result or {}, request_id)


def _serialize_json(spec: ServiceSpec, op: OperationModel, result: dict, request_id: str) -> Response:
    shape = op.output_shape
    member = eventstream.stream_member(shape)
    if member is not None:
        return _stream(shape, member, result, request_id, initial_response=True)
    body = _dumps(shapes.to_json(shape, result)) if shape is not None else b"{}"
    version = spec.model.metadata.get("jsonVersion", "1.0")
    return Response(
        200,
        [("content-type", f"application/x-amz-json-{version}"), ("x-amzn-requestid", request_id)],
        body,
    )


def _json_payload(shape, value) -> tuple[str, bytes]:
    return "application/json", _dumps(shapes.to_json(shape, value))


def _stream(shape, member: str, result: dict, request_id: str, initial_response: bool) -> Response:
    """An event-stream answer: the head now, the messages as the service produces them."""
    return Response(
        200,
        [("content-type", eventstream.CONTENT_TYPE), ("x-amzn-requestid", request_id)],
        b"",
        eventstream.frames(shape, member, result, _json_payload, initial_response),
    )


def _rest_out_plan(op: OperationModel) -> tuple:
    """(status, located members [(name, location, wire, member)], payload (name, member) or
    None), worked out once per operation rather than on every response."""
    return shapes.memo(op, "_lamina_rest_out_plan", _make_rest_out_plan)


def _make_rest_out_plan(op: OperationModel) -> tuple:
    shape = op.output_shape
    located = []
    payload = None
    if shape is not None:
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            if location in ("header", "headers", "statusCode"):
                located.append(
                    (name, location, member.serialization.get("name", "" if location == "headers" else name), member)
                )
        payload_name = shape.serialization.get("payload")
        if payload_name:
            payload = (payload_name, shape.members[payload_name])
    return op.http.get("responseCode", 200), tuple(located), payload


def _serialize_rest_json(spec: ServiceSpec, op: OperationModel, result: dict, request_id: str) -> Response:
    status, located, payload = _rest_out_plan(op)
    headers = [("x-amzn-requestid", request_id)]
    shape = op.output_shape
    body = b""
    if shape is not None:
        for name, location, wire, member in located:
            value = result.get(name)
            if value is None:
                continue
            if location == "header":
                headers.append((wire, shapes.to_header(member, value)))
            elif location == "headers":
                headers.extend((wire + k, str(v)) for k, v in value.items())
            else:
                status = int(value)
        if payload is not None:
            payload_name, member = payload
            value = result.get(payload_name)
            if member.serialization.get("eventstream"):
                # rest-json streams have no initial-response: the other members were headers.
                answer = _stream(shape, payload_name, result, request_id, initial_response=False)
                answer.status = status
                answer.headers = [*headers, ("content-type", eventstream.CONTENT_TYPE)]
                return answer
            if member.type_name == "blob":
                body = bytes(value or b"")
                if not any(name.lower() == "content-type" for name, _ in headers):  # GetExport says its own
                    headers.append(("content-type", "application/json"))
            elif member.type_name == "string":
                body = (value or "").encode("utf-8")
                headers.append(("content-type", "text/plain"))
            elif value is not None:
                body = _dumps(shapes.to_json(member, value))
                headers.append(("content-type", "application/json"))
        else:
            body = _dumps(shapes.to_json(shape, result))
            headers.append(("content-type", "application/json"))
    return Response(status, headers, body)


def serialize_error(
    spec: ServiceSpec | None, error: ServiceError, request_id: str, protocol: str | None = None
) -> Response:
    protocol = protocol or (spec.protocol if spec else "rest-json")
    return _ERROR_SERIALIZERS.get(protocol, _json_error)(spec, error, request_id, protocol)


def _json_error(spec: ServiceSpec | None, error: ServiceError, request_id: str, protocol: str = "json") -> Response:
    shape, type_name, status, extra = faults.describe(spec, error)
    document: dict[str, Any] = {"__type": type_name, "message": error.message}
    content_type = "application/json"
    if protocol == "rest-json" and spec is not None:
        # Lambda's errors carry Type (User/Service) and the message as both spellings: the
        # model names it Message on some shapes (ResourceNotFoundException) and message on
        # others (TooManyRequestsException), and botocore fills only the modelled one.
        document = {
            "Type": "User" if error.sender_fault else "Service",
            "Message": error.message,
            "message": error.message,
        }
    elif spec is not None:
        content_type = f"application/x-amz-json-{spec.model.metadata.get('jsonVersion', '1.0')}"
    document.update(error.fields)
    headers = [
        ("content-type", content_type),
        ("x-amzn-requestid", request_id),
        ("x-amzn-errortype", error.code if protocol == "rest-json" or spec is None else type_name),
        *extra,
    ]
    headers.extend(error.headers.items())
    return Response(status, headers, _dumps(document))


_SERIALIZERS: dict[str, Callable[[ServiceSpec, OperationModel, dict, str], Response]] = {
    "json": _serialize_json,
    "rest-json": _serialize_rest_json,
}
_ERROR_SERIALIZERS: dict[str, Callable[..., Response]] = {
    "json": _json_error,
    "rest-json": _json_error,
}


def register(protocol: str, serializer, error_serializer) -> None:
    """Protocols that arrive later (query, smithy-rpc-v2-cbor) plug in here."""
    _SERIALIZERS[protocol] = serializer
    _ERROR_SERIALIZERS[protocol] = error_serializer


def _register_builtin() -> None:
    from . import cbor, query, rest_xml

    register(cbor.PROTOCOL, cbor.serialize_result, cbor.serialize_error)
    register(cbor.JSON_CBOR, cbor.serialize_json_cbor_result, cbor.serialize_json_cbor_error)
    register(query.PROTOCOL, query.serialize_result, query.serialize_error)
    register(rest_xml.PROTOCOL, rest_xml.serialize_result, rest_xml.serialize_error)
    # Errors only: Lamina serves no EC2-style service, but answers its clients' requests
    # with a 501 they can read (protocol/unserved.py).
    _ERROR_SERIALIZERS["ec2"] = query.serialize_ec2_error


_register_builtin()
