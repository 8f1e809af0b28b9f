"""The AWS query protocol (SNS, and the older form of SQS, IAM, STS...), both ways.

Requests are form-encoded `Action=<Operation>&Version=<apiVersion>&...` (a POST body, or
the query string of a GET), with structures flattened into dotted keys exactly as
botocore's QuerySerializer writes them:

    Name=my-topic                               a scalar member
    Attributes.entry.1.key=DisplayName          a map: entry.N.<key name>/<value name>
    Attributes.entry.1.value=Hello
    MessageAttributes.entry.1.Value.DataType    (key/value names come from the model:
                                                 Name/Value for SNS's MessageAttributeMap)
    Tags.member.1.Key=team                      a list: <member name>.N (default "member")
    TagKeys=                                    an empty list

Flattened lists and maps drop the `member`/`entry` level. Blobs are base64, timestamps
ISO 8601, booleans `true`/`false`.

Responses are XML: `<{Op}Response xmlns=ns><{Op}Result>...</{Op}Result><ResponseMetadata>
<RequestId>..</RequestId></ResponseMetadata></{Op}Response>`, lists as `<member>` elements
and maps as `<entry><key/><value/></entry>` unless the model names them otherwise or
flattens them. Errors are `<ErrorResponse><Error><Type>Sender|Receiver</Type><Code>` with
the error shape's query code (its `error.code`: NotFound, not NotFoundException).

EC2's errors are here too, for the service Lamina does not serve (protocol/unserved.py
answers it): `<Response><Errors><Error><Code>..`. rest-xml's are in rest_xml.py.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl

from botocore.model import OperationModel, Shape

from ..errors import ServiceError
from . import faults, shapes
from .messages import Request, Response
from .router import Resolved, ServiceSpec
from .xml_shapes import element, members, serialized_name, text

PROTOCOL = "query"
CONTENT_TYPE = "text/xml"


# --- requests ---------------------------------------------------------------------------


class _Node:
    """One dotted key segment of the form: its value (if the key itself was sent) and children."""

    __slots__ = ("value", "children")

    def __init__(self) -> None:
        self.value: str | None = None
        self.children: dict[str, _Node] = {}


def form_params(request: Request) -> list[tuple[str, str]]:
    """The request's parameters: the query string, then a form-encoded body."""
    params = list(request.query)
    if request.body and "x-www-form-urlencoded" in request.headers.get("content-type", "x-www-form-urlencoded"):
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError:
            raise _malformed("the request body is not UTF-8") from None
        params.extend(parse_qsl(text, keep_blank_values=True))
    return params


def parse_request(resolved: Resolved, request: Request) -> dict[str, Any]:
    """The operation's input dict, with the model's member names (validated by the caller)."""
    shape = resolved.operation.input_shape
    if shape is None:
        return {}
    root = _Node()
    for key, value in form_params(request):
        node = root
        for part in key.split("."):
            node = node.children.setdefault(part, _Node())
        node.value = value
    params = _structure(shape, root)
    # Members the path carries (SQS's queue URL, POST /<account>/<queue>) unless sent.
    for name, value in resolved.labels.items():
        if name in shape.members and name not in params:
            params[name] = value
    return params


def _malformed(reason: str) -> ServiceError:
    return ServiceError("MalformedQueryString", f"Could not parse the request: {reason}", 400)


def _structure(shape: Shape, node: _Node) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, member in shape.members.items():
        key = serialized_name(member, name)
        if member.type_name == "list" and member.serialization.get("flattened"):
            # botocore replaces the last segment with the member's own name, if it has one.
            key = member.member.serialization.get("name", key)
        child = node.children.get(key)
        if child is not None:
            out[name] = _value(member, child, key)
    return out


def _value(shape: Shape, node: _Node, where: str) -> Any:
    kind = shape.type_name
    if kind == "structure":
        return _structure(shape, node)
    if kind == "list":
        if shape.serialization.get("flattened"):
            items = node
        else:
            wrapped = node.children.get(serialized_name(shape.member, "member"))
            if wrapped is None:
                return []  # `Name=` : the query protocol's empty list
            items = wrapped
        return [_value(shape.member, items.children[index], where) for index in _indexes(items, where)]
    if kind == "map":
        entries = node if shape.serialization.get("flattened") else node.children.get("entry")
        if entries is None:
            return {}
        key_name = serialized_name(shape.key, "key")
        value_name = serialized_name(shape.value, "value")
        out = {}
        for index in _indexes(entries, where):
            entry = entries.children[index]
            key_node = entry.children.get(key_name)
            value_node = entry.children.get(value_name)
            if key_node is None or key_node.value is None:
                raise _malformed(f"entry {index} of {where} has no {key_name}")
            out[key_node.value] = _value(shape.value, value_node, where) if value_node is not None else None
        return out
    text = node.value
    if text is None:
        raise _malformed(f"{where} has members but is a {kind}")
    return _scalar(shape, text, where)


def _indexes(node: _Node, where: str) -> list[str]:
    try:
        return sorted((k for k in node.children), key=int)
    except ValueError:
        raise _malformed(f"the members of {where} must be numbered") from None


def _scalar(shape: Shape, text: str, where: str) -> Any:
    kind = shape.type_name
    if kind == "string":
        return text
    if kind in ("integer", "long", "short", "byte"):
        try:
            return int(text)
        except ValueError:
            raise _malformed(f"{where} must be an integer, not {text!r}") from None
    if kind in ("float", "double"):
        try:
            return float(text)
        except ValueError:
            raise _malformed(f"{where} must be a number, not {text!r}") from None
    if kind == "boolean":
        lowered = text.lower()
        if lowered not in ("true", "false"):
            raise _malformed(f"{where} must be true or false, not {text!r}")
        return lowered == "true"
    if kind == "blob":
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise _malformed(f"{where} must be base64") from None
    if kind == "timestamp":
        return shapes.parse_timestamp(text)
    return text


# --- responses --------------------------------------------------------------------------


def _namespace(spec: ServiceSpec | None) -> str:
    namespace = spec.model.metadata.get("xmlNamespace") if spec is not None else None
    return f' xmlns="{text(namespace)}"' if namespace else ""


def _response(status: int, body: str, request_id: str, extra: Sequence[tuple[str, str]] = ()) -> Response:
    headers = [("content-type", CONTENT_TYPE), ("x-amzn-requestid", request_id), *extra]
    return Response(status, headers, body.encode("utf-8"))


def serialize_result(spec: ServiceSpec, op: OperationModel, result: dict, request_id: str) -> Response:
    out = [f"<{op.name}Response{_namespace(spec)}>"]
    shape = op.output_shape
    if shape is not None:
        wrapper = shape.serialization.get("resultWrapper", f"{op.name}Result")
        out.append(f"<{wrapper}>")
        members(shape, result, out)
        out.append(f"</{wrapper}>")
    out.append(f"<ResponseMetadata><RequestId>{text(request_id)}</RequestId></ResponseMetadata></{op.name}Response>")
    return _response(200, "".join(out), request_id)


def error_code(spec: ServiceSpec | None, error: ServiceError) -> tuple[Shape | None, str, bool]:
    """(error shape, the code query clients see, sender fault) of an error."""
    shape = faults.error_shape(spec.model, error.code) if spec is not None else None
    meta = shape.metadata.get("error", {}) if shape is not None else {}
    code = meta.get("code") or (shape.name if shape is not None else error.code)
    return shape, code, bool(meta.get("senderFault", error.sender_fault))


def serialize_error(
    spec: ServiceSpec | None, error: ServiceError, request_id: str, protocol: str = PROTOCOL
) -> Response:
    shape, code, sender = error_code(spec, error)
    status = faults.status_of(shape, error)
    out = [
        f"<ErrorResponse{_namespace(spec)}><Error><Type>{'Sender' if sender else 'Receiver'}</Type>"
        f"<Code>{text(code)}</Code><Message>{text(error.message)}</Message>"
    ]
    for name, value in error.fields.items():
        member = shape.members.get(name) if shape is not None else None
        if member is not None:
            element(member, value, serialized_name(member, name), out)
        elif value is not None:
            out.append(f"<{name}>{text(str(value))}</{name}>")
    out.append(f"</Error><RequestId>{text(request_id)}</RequestId></ErrorResponse>")
    return _response(status, "".join(out), request_id, list(error.headers.items()))


def serialize_ec2_error(
    spec: ServiceSpec | None, error: ServiceError, request_id: str, protocol: str = "ec2"
) -> Response:
    _, code, _ = error_code(spec, error)
    body = (
        f"<Response><Errors><Error><Code>{text(code)}</Code><Message>{text(error.message)}</Message></Error>"
        f"</Errors><RequestID>{text(request_id)}</RequestID></Response>"
    )
    return _response(faults.status_of(None, error), body, request_id, list(error.headers.items()))
