"""Request bytes -> the operation's input dict, one function per wire protocol.

The result uses the model's member names (FunctionName, Payload, ...), with blobs as bytes
and timestamps as datetimes, then goes through validation.check(). A body that is not what
the protocol promises becomes the error AWS gives for it.
"""
from __future__ import annotations

import json
import zlib
from typing import Any, Callable

from botocore.model import OperationModel

from . import shapes, validation
from ..errors import ServiceError
from .messages import Request
from .router import Resolved


MAX_INFLATED_BYTES = 16 * 1024 * 1024  # botocore gzips large bodies (requestcompression: PutMetricData)


def parse(resolved: Resolved, request: Request) -> dict[str, Any]:
    if request.body and "content-encoding" in request.headers:
        request.body = _inflated(request)
    parser = _PARSERS.get(resolved.protocol)
    if parser is None:
        raise ServiceError("InternalFailure", f"Protocol {resolved.protocol} is not served yet", 500)
    try:
        params = parser(resolved, request)
    except ServiceError as error:
        # shapes.py reports a wrongly typed member as SerializationException; Lambda calls a
        # body it cannot bind to the model InvalidRequestContentException, as for bad JSON.
        if error.code == "SerializationException" and resolved.spec.name == "lambda":
            raise _invalid_json(ValueError(error.message), "lambda") from None
        raise
    # SQS accepts more than its model's enums say (message attribute names in
    # ReceiveMessage.AttributeNames, which boto3 code still passes) and answers unknown
    # queue attribute names itself (InvalidAttributeName): it checks its own.
    validation.check(resolved.operation.input_shape, params, enums=resolved.spec.name != "sqs")
    return params


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


def _invalid_json(error: Exception, service: str) -> ServiceError:
    if service == "lambda":
        return ServiceError(
            "InvalidRequestContentException", f"Could not parse request body into json: {error}", 400
        )
    return ServiceError("SerializationException", f"Could not parse request body into json: {error}", 400)


def _load_json(body: bytes, service: str) -> Any:
    if not body.strip():
        return {}
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise _invalid_json(error, service) from None


def _parse_json(resolved: Resolved, request: Request) -> dict[str, Any]:
    shape = resolved.operation.input_shape
    document = _load_json(request.body, resolved.spec.name)
    if shape is None:
        return {}
    if not isinstance(document, dict):
        raise _invalid_json(ValueError("expected a JSON object"), resolved.spec.name)
    return shapes.from_json(shape, document)


def _parse_rest_json(resolved: Resolved, request: Request) -> dict[str, Any]:
    op: OperationModel = resolved.operation
    shape = op.input_shape
    if shape is None:
        return {}
    params: dict[str, Any] = {}
    body_members = {}
    query = request.query
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "uri":
            if wire in resolved.labels:
                params[name] = shapes.from_text(member, resolved.labels[wire], in_header=False)
        elif location == "querystring":
            if member.type_name == "map":
                taken = {
                    m.serialization.get("name")
                    for m in shape.members.values()
                    if m.serialization.get("location") == "querystring"
                }
                params[name] = {k: v for k, v in query if k not in taken}
            else:
                values = [v for k, v in query if k == wire]
                if values:
                    if member.type_name == "list":
                        params[name] = [shapes.from_text(member.member, v, in_header=False) for v in values]
                    else:
                        params[name] = shapes.from_text(member, values[0], in_header=False)
        elif location == "header":
            value = request.headers.get(wire.lower())
            if value is not None:
                params[name] = shapes.from_text(member, value, in_header=True)
        elif location == "headers":
            prefix = wire.lower()
            params[name] = {k[len(prefix):]: v for k, v in request.headers.items() if k.startswith(prefix)}
        elif location is None:
            body_members[name] = member

    payload_name = shape.serialization.get("payload")
    if payload_name:
        member = shape.members[payload_name]
        if member.type_name in ("blob", "string"):
            if request.body:
                params[payload_name] = (
                    request.body if member.type_name == "blob" else request.body.decode("utf-8")
                )
        else:
            document = _load_json(request.body, resolved.spec.name)
            if document:
                params[payload_name] = shapes.from_json(member, document)
    elif body_members:
        document = _load_json(request.body, resolved.spec.name)
        if not isinstance(document, dict):
            raise _invalid_json(ValueError("expected a JSON object"), resolved.spec.name)
        for name, member in body_members.items():
            key = member.serialization.get("name", name)
            if key in document:
                params[name] = shapes.from_json(member, document[key])
    return params


_PARSERS: dict[str, Callable[[Resolved, Request], dict[str, Any]]] = {
    "json": _parse_json,
    "rest-json": _parse_rest_json,
}


def register(protocol: str, parser: Callable[[Resolved, Request], dict[str, Any]]) -> None:
    """Protocols that arrive later (query, smithy-rpc-v2-cbor) plug in here."""
    _PARSERS[protocol] = parser


def _register_builtin() -> None:
    from . import cbor, query

    register(cbor.PROTOCOL, cbor.parse_request)
    register(query.PROTOCOL, query.parse_request)


_register_builtin()
