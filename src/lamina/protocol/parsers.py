"""Request bytes -> the operation's input dict, one function per wire protocol.

The result uses the model's member names (FunctionName, Payload, ...), with blobs as bytes
and timestamps as datetimes, then goes through validation.check(). A body that is not what
the protocol promises becomes the error AWS gives for it.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from typing import Any

from botocore.model import OperationModel

from ..errors import ServiceError
from . import shapes, validation
from .messages import Request
from .rest_plan import RestPlan, located, rest_plan
from .router import Resolved

# The code of a model-validation refusal where it is not the JSON services' ValidationException
# (the message is the same: "1 validation error detected: Value 'a b' at 'logGroupName' failed
# to satisfy constraint: ..."): IAM and STS say ValidationError (their query heritage), CloudWatch
# Logs InvalidParameterException, API Gateway v2 (whose model has no ValidationException) a
# BadRequestException. (API Gateway v1 does answer ValidationException, as recorded responses show.)
VALIDATION_CODES = {
    "iam": "ValidationError",
    "sts": "ValidationError",
    "logs": "InvalidParameterException",
    "apigatewayv2": "BadRequestException",
}

# Services that answer values outside their model's enums themselves: SQS (see parse()), and
# S3 (LocationConstraint us-east-1 is InvalidLocationConstraint, a storage class InvalidStorageClass).
_OWN_ENUMS = frozenset({"sqs", "s3"})

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
    try:
        validation.check(resolved.operation.input_shape, params, enums=resolved.spec.name not in _OWN_ENUMS)
    except ServiceError as error:
        code = VALIDATION_CODES.get(resolved.spec.name)
        if code is not None and error.code == "ValidationException":
            error.code = code
        raise
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
        raise ServiceError(
            "SerializationException", f"Could not decompress the gzip request body: {error}", 400
        ) from None
    if inflater.unconsumed_tail:
        raise ServiceError(
            "RequestEntityTooLargeException", f"The request body inflates to more than {MAX_INFLATED_BYTES} bytes", 413
        )
    return body


def _invalid_json(error: Exception, service: str) -> ServiceError:
    if service == "lambda":
        return ServiceError("InvalidRequestContentException", f"Could not parse request body into json: {error}", 400)
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
    if op.input_shape is None:
        return {}
    plan = rest_plan(op)
    params = located(plan, resolved, request)
    _parse_rest_json_body(resolved, request, plan, params)
    return params


def _parse_rest_json_body(resolved: Resolved, request: Request, plan: RestPlan, params: dict[str, Any]) -> None:
    if plan.payload is not None:
        payload_name, member = plan.payload
        if member.type_name in ("blob", "string"):
            if request.body:
                params[payload_name] = request.body if member.type_name == "blob" else request.body.decode("utf-8")
        else:
            document = _load_json(request.body, resolved.spec.name)
            if document:
                params[payload_name] = shapes.from_json(member, document)
    elif plan.body:
        document = _load_json(request.body, resolved.spec.name)
        if not isinstance(document, dict):
            raise _invalid_json(ValueError("expected a JSON object"), resolved.spec.name)
        for name, key, member in plan.body:
            if key in document:
                params[name] = shapes.from_json(member, document[key])


_PARSERS: dict[str, Callable[[Resolved, Request], dict[str, Any]]] = {
    "json": _parse_json,
    "rest-json": _parse_rest_json,
}


def register(protocol: str, parser: Callable[[Resolved, Request], dict[str, Any]]) -> None:
    """Protocols that arrive later (query, smithy-rpc-v2-cbor) plug in here."""
    _PARSERS[protocol] = parser


def _register_builtin() -> None:
    from . import cbor, query, rest_xml

    register(cbor.PROTOCOL, cbor.parse_request)
    register(cbor.JSON_CBOR, cbor.parse_request)  # the same CBOR map, behind X-Amz-Target
    register(query.PROTOCOL, query.parse_request)
    register(rest_xml.PROTOCOL, rest_xml.parse_request)


_register_builtin()
