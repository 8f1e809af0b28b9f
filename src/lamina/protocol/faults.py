"""What a ServiceError is on the wire, whatever the protocol: its error shape in the model,
its HTTP status, and the awsQueryCompatible header.

A service with the awsQueryCompatible trait (CloudWatch, SQS) answers JSON and CBOR errors with
the shape's name in `__type` and `x-amzn-query-error: <query code>;Sender|Receiver`, from
which botocore reports the code clients knew from the query protocol (InvalidParameterValue,
not InvalidParameterValueException).
"""

from __future__ import annotations

from botocore.model import ServiceModel, Shape

from ..errors import ServiceError
from . import sqs_query
from .router import ServiceSpec

# Query codes the model does not carry (its awsQueryError traits), per service.
_QUERY_CODES = {sqs_query.SERVICE: sqs_query.ERROR_CODES}


def error_shape(model: ServiceModel, code: str) -> Shape | None:
    """The error shape a code names: by shape name, or by its query-protocol code."""
    try:
        shape = model.shape_for(code)
        if shape.metadata.get("exception"):
            return shape
    except Exception:
        pass
    try:
        return model.shape_for_error_code(code)
    except Exception:
        return None


def status_of(shape: Shape | None, error: ServiceError) -> int:
    if error.status:
        return int(error.status)
    status = (shape.metadata.get("error", {}) if shape is not None else {}).get("httpStatusCode")
    return int(status) if status else (400 if error.sender_fault else 500)


def describe(spec: ServiceSpec | None, error: ServiceError) -> tuple[Shape | None, str, int, list[tuple[str, str]]]:
    """(shape, type name for `__type`, HTTP status, extra headers) of an error."""
    shape = error_shape(spec.model, error.code) if spec is not None else None
    type_name = shape.name if shape is not None else error.code
    headers: list[tuple[str, str]] = []
    if spec is not None and "awsQueryCompatible" in spec.model.metadata:
        meta = shape.metadata.get("error", {}) if shape is not None else {}
        fault = "Sender" if meta.get("senderFault", error.sender_fault) else "Receiver"
        code = meta.get("code") or _QUERY_CODES.get(spec.name, {}).get(type_name) or type_name
        headers.append(("x-amzn-query-error", f"{code};{fault}"))
    return shape, type_name, status_of(shape, error), headers
