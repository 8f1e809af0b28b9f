"""A browser's CORS preflight to S3: an unsigned OPTIONS request, which botocore's model has
no operation for. The gateway hands it to the S3 service as the call "Preflight" (its
`preflight` method: the bucket's CORS rules decide) with these parameters, taken from the
path (path-style) or the Host (virtual-hosted), and answers what it returns: the
Access-Control-* headers, and no body."""

from __future__ import annotations

from urllib.parse import unquote

from .messages import Request, Response
from .router import virtual_bucket

OPERATION = "Preflight"


def params_of(request: Request) -> dict:
    headers = request.headers
    path = unquote(request.raw_path or request.path or "/")
    bucket = virtual_bucket(headers.get("host", ""))
    if bucket is None:
        bucket, _, key = path.lstrip("/").partition("/")
    else:
        key = path.lstrip("/")
    return {
        "Bucket": bucket,
        "Key": key or None,
        "Origin": headers.get("origin"),
        "Method": headers.get("access-control-request-method"),
        "Headers": headers.get("access-control-request-headers"),
    }


def response_of(result: dict, request_id: str) -> Response:
    headers = [*result.get("Headers", ()), ("x-amz-request-id", request_id), ("x-amz-id-2", request_id)]
    return Response(200, headers, b"")
