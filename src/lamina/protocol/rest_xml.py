"""The rest-xml protocol (S3's), both ways.

Requests: the members in the URI, query string and headers as for rest-json (parsers.py's
plan); the payload is the body itself for a blob or string payload (S3's PutObject Body:
the bytes, or the Request's stream when the body is still arriving), else an XML document
of the payload's structure (<CreateBucketConfiguration>, <Delete>, <Tagging>...).

Responses: header members as headers, the status code member as the status, and a body that
is the blob payload (bytes, or an async iterator of bytes streamed as it is produced: a
GetObject of 5 GB), the string payload (GetBucketPolicy's JSON), or an XML document: the
payload structure as its own root element, or the output's body members under the
operation's result element. botocore's models do not name those result elements (AWS's
documentation does: ListObjectsV2 answers <ListBucketResult>), so S3's are listed here.

Errors: S3's bare `<Error><Code/><Message/>...<RequestId/></Error>`; other rest-xml services
(Route 53, CloudFront) answer in the query protocol's <ErrorResponse>.
"""

from __future__ import annotations

from typing import Any

from botocore.model import OperationModel, Shape

from ..errors import ServiceError
from . import bodies, faults, shapes
from .messages import Request, Response
from .rest_plan import located, rest_plan
from .router import Resolved, ServiceSpec
from .xml_shapes import element, from_xml, local, members, parse_document, text

PROTOCOL = "rest-xml"
CONTENT_TYPE = "application/xml"
_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

# The result element of each S3 operation whose answer is the output's body members.
S3_RESULTS = {
    "CompleteMultipartUpload": "CompleteMultipartUploadResult",
    "CreateMultipartUpload": "InitiateMultipartUploadResult",
    "CreateSession": "CreateSessionResult",
    "DeleteObjects": "DeleteResult",
    "GetBucketAccelerateConfiguration": "AccelerateConfiguration",
    "GetBucketAcl": "AccessControlPolicy",
    "GetBucketCors": "CORSConfiguration",
    "GetBucketLifecycle": "LifecycleConfiguration",
    "GetBucketLifecycleConfiguration": "LifecycleConfiguration",
    "GetBucketLocation": "LocationConstraint",
    "GetBucketLogging": "BucketLoggingStatus",
    "GetBucketNotification": "NotificationConfiguration",
    "GetBucketNotificationConfiguration": "NotificationConfiguration",
    "GetBucketRequestPayment": "RequestPaymentConfiguration",
    "GetBucketTagging": "Tagging",
    "GetBucketVersioning": "VersioningConfiguration",
    "GetBucketWebsite": "WebsiteConfiguration",
    "GetObjectAcl": "AccessControlPolicy",
    "GetObjectAttributes": "GetObjectAttributesResponse",
    "GetObjectTagging": "Tagging",
    "ListBucketAnalyticsConfigurations": "ListBucketAnalyticsConfigurationResult",
    "ListBucketIntelligentTieringConfigurations": "ListBucketIntelligentTieringConfigurationsOutput",
    "ListBucketInventoryConfigurations": "ListInventoryConfigurationsResult",
    "ListBucketMetricsConfigurations": "ListMetricsConfigurationsResult",
    "ListBuckets": "ListAllMyBucketsResult",
    "ListDirectoryBuckets": "ListAllMyDirectoryBucketsResult",
    "ListMultipartUploads": "ListMultipartUploadsResult",
    "ListObjectVersions": "ListVersionsResult",
    "ListObjects": "ListBucketResult",
    "ListObjectsV2": "ListBucketResult",
    "ListParts": "ListPartsResult",
    "PutObjectAnnotation": "PutObjectAnnotationResult",
}


# --- requests ---------------------------------------------------------------------------


def parse_request(resolved: Resolved, request: Request) -> dict[str, Any]:
    op: OperationModel = resolved.operation
    if op.input_shape is None:
        return {}
    plan = rest_plan(op)
    params = located(plan, resolved, request)
    if plan.payload is not None:
        name, member = plan.payload
        if member.type_name == "blob":
            if member.serialization.get("streaming") or member.serialization.get("requiresLength"):
                # An object's bytes (PutObject, UploadPart): read by the service as they come.
                params[name] = bodies.of_request(request)
            elif request.body:
                params[name] = request.body
        elif member.type_name == "string":
            if request.body:
                params[name] = request.body.decode("utf-8")
        elif request.body.strip():
            params[name] = from_xml(member, parse_document(request.body))
    elif plan.body and request.body.strip():
        root = parse_document(request.body)
        children = {local(child.tag): child for child in root}
        for name, wire, member in plan.body:
            if wire in children:
                params[name] = from_xml(member, children[wire])
    return params


# --- responses --------------------------------------------------------------------------


S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"  # every S3 document's, though the model omits it


def _namespace(spec: ServiceSpec, shape: Shape | None = None) -> str:
    namespace = (shape.serialization.get("xmlNamespace") if shape is not None else None) or {}
    uri = namespace.get("uri") if isinstance(namespace, dict) else None
    uri = uri or spec.model.metadata.get("xmlNamespace") or (S3_NAMESPACE if spec.signing_name == "s3" else None)
    return f' xmlns="{text(uri)}"' if uri else ""


def _out_plan(op: OperationModel) -> tuple:
    """(located members [(name, location, wire, member)], payload (name, member) or None,
    body members present), worked out once per operation."""
    return shapes.memo(op, "_lamina_rest_xml_out", _make_out_plan)


def _make_out_plan(op: OperationModel) -> tuple:
    shape = op.output_shape
    located_members = []
    payload = None
    body = False
    if shape is not None:
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            if location in ("header", "headers", "statusCode"):
                located_members.append((name, location, member.serialization.get("name", name), member))
            elif location is None:
                body = True
        payload_name = shape.serialization.get("payload")
        if payload_name:
            payload = (payload_name, shape.members[payload_name])
    return tuple(located_members), payload, body


def serialize_result(spec: ServiceSpec, op: OperationModel, result: dict, request_id: str) -> Response:
    status = op.http.get("responseCode", 200)
    headers = _request_id_headers(spec, request_id)
    located_members, payload, has_body = _out_plan(op)
    for name, location, wire, member in located_members:
        value = result.get(name)
        if value is None:
            continue
        if location == "header":
            headers.append((wire, shapes.to_header(member, value)))
        elif location == "headers":
            headers.extend((wire + key, str(item)) for key, item in value.items())
        else:
            status = int(value)
    if status == 200 and result.get("ContentRange") and spec.signing_name == "s3":
        status = 206  # S3's GetObject/HeadObject of a Range or a PartNumber: Partial Content
    body: bytes = b""
    stream = None
    if payload is not None:
        name, member = payload
        value = result.get(name)
        if member.type_name == "blob":
            if hasattr(value, "__aiter__"):
                stream = value
            else:
                body = bytes(value or b"")
        elif member.type_name == "string":
            body = (value or "").encode("utf-8")
        elif value is not None:
            out = [_DECLARATION]
            tag = member.serialization.get("name", name)
            element(member, value, tag, out, _namespace(spec, member))
            body = "".join(out).encode("utf-8")
            headers.append(("content-type", CONTENT_TYPE))
    elif has_body:
        body = _result_document(spec, op, result).encode("utf-8")
        headers.append(("content-type", CONTENT_TYPE))
    if body:  # the server says the length of a body it has whole; a model's header would repeat it
        headers = [(name, value) for name, value in headers if name.lower() != "content-length"]
    return Response(status, headers, body, stream)


def _result_document(spec: ServiceSpec, op: OperationModel, result: dict) -> str:
    shape = op.output_shape
    assert shape is not None
    tag = S3_RESULTS.get(op.name, f"{op.name}Result") if spec.signing_name == "s3" else f"{op.name}Response"
    if op.name == "GetBucketLocation":  # the constraint is the root element's own text
        return f"{_DECLARATION}<{tag}{_namespace(spec)}>{text(result.get('LocationConstraint') or '')}</{tag}>"
    out = [_DECLARATION, f"<{tag}{_namespace(spec)}>"]
    members(_body_only(shape), result, out)
    out.append(f"</{tag}>")
    return "".join(out)


def _body_only(shape: Shape) -> Shape:
    """The output shape as its XML document sees it: members in headers are not in it."""
    return shapes.memo(shape, "_lamina_body_only", _BodyView)


class _BodyView:
    """A structure shape restricted to its body members (duck-typed for xml_shapes)."""

    type_name = "structure"

    def __init__(self, shape: Shape) -> None:
        self.members = {
            name: member for name, member in shape.members.items() if member.serialization.get("location") is None
        }
        self.serialization = shape.serialization


def _request_id_headers(spec: ServiceSpec | None, request_id: str) -> list[tuple[str, str]]:
    if spec is not None and spec.signing_name == "s3":
        # S3's own pair: the request id and its "extended" id (x-amz-id-2).
        return [("x-amz-request-id", request_id), ("x-amz-id-2", request_id)]
    return [("x-amzn-requestid", request_id)]


def serialize_error(
    spec: ServiceSpec | None, error: ServiceError, request_id: str, protocol: str = PROTOCOL
) -> Response:
    from . import query  # the query protocol's <ErrorResponse> is the other services' form

    if spec is None or spec.signing_name != "s3":
        return query.serialize_error(spec, error, request_id, protocol)
    _, code, _ = query.error_code(spec, error)
    if error.status == 304:  # Not Modified: the headers (ETag, Last-Modified), never a body
        return Response(304, [*_request_id_headers(spec, request_id), *error.headers.items()], b"")
    out = [_DECLARATION, f"<Error><Code>{text(code)}</Code><Message>{text(error.message)}</Message>"]
    for name, value in error.fields.items():  # S3 names what was wrong: <BucketName>, <Key>...
        if value is not None:
            out.append(f"<{name}>{text(str(value))}</{name}>")
    out.append(f"<RequestId>{text(request_id)}</RequestId><HostId>{text(request_id)}</HostId></Error>")
    headers = [("content-type", CONTENT_TYPE), *_request_id_headers(spec, request_id), *error.headers.items()]
    return Response(faults.status_of(None, error), headers, "".join(out).encode("utf-8"))
