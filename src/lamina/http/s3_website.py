"""S3's website endpoint: a bucket's static website, served by Host as AWS serves it
(`http://{bucket}.s3-website.localhost:{port}`, `{bucket}.s3-website-{region}.localhost`,
`{bucket}.s3-website.{region}.localhost`). Unsigned GET and HEAD only; what to answer comes
from the S3 service (services/s3/website.py's `website_answer`, handed in by the composition
root); this module makes it HTTP: the object with its headers, a redirect, or AWS's HTML
error page ("404 Not Found", Code, Message, Key or BucketName, RequestId, HostId)."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import format_datetime

import botocore.session

from .. import ids
from ..protocol.messages import Request, Response
from ..services.s3.objects import DEFAULT_CONTENT_TYPE
from ..services.s3.website import WebsiteAnswer

Answer = Callable[[str, str, bool], WebsiteAnswer]  # (bucket, path, head) -> answer

SUFFIX = ".s3-website.localhost"
# Objects up to this size are answered whole; larger ones streamed (with front processes,
# LAMINA_HTTP_WORKERS, an answer crossing from the core must be whole: larger objects fail).
WHOLE_BYTES = 8 * 1024 * 1024
_REASONS = {301: "Moved Permanently", 302: "Found", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed"}
_HEADERS = (("CacheControl", "Cache-Control"), ("ContentDisposition", "Content-Disposition"),
            ("ContentEncoding", "Content-Encoding"), ("ContentLanguage", "Content-Language"))  # fmt: skip


def suffixes(default_region: str) -> list[str]:
    """The host suffixes of the website endpoint, for every region."""
    regions = set(botocore.session.get_session().get_available_regions("s3")) | {default_region}
    out = [SUFFIX]
    for region in sorted(regions):
        out += [f".s3-website-{region}.localhost", f".s3-website.{region}.localhost"]
    return out


def website_handler(answer: Answer, suffixes: list[str]) -> Callable:
    by_length = sorted(suffixes, key=len, reverse=True)

    async def handle(request: Request) -> Response:
        host = request.headers.get("host", "")
        name = host.rsplit(":", 1)[0] if host[-1:].isdigit() else host
        bucket = next((name[: -len(s)] for s in by_length if name.endswith(s)), name)
        request_id = ids.uuid4().replace("-", "")[:16].upper()
        if request.method not in ("GET", "HEAD"):
            page = WebsiteAnswer(405, code="MethodNotAllowed",
                                 message="The specified method is not allowed against this resource.",
                                 details=[("Method", request.method), ("ResourceType", "OBJECT")])  # fmt: skip
            return _error(page, request_id, request.method == "HEAD")
        head = request.method == "HEAD"
        result = answer(bucket, request.path or "/", head)
        if result.location:
            location = result.location.replace("{scheme}", "http").replace("{host}", host)
            return Response(result.status, [("Location", location), *_ids(request_id)], b"")
        if result.version is None:
            return _error(result, request_id, head)
        return await _object(result, request_id)

    return handle


def _ids(request_id: str) -> list[tuple[str, str]]:
    return [("x-amz-request-id", request_id), ("x-amz-id-2", request_id)]


async def _object(result: WebsiteAnswer, request_id: str) -> Response:
    version = result.version
    assert version is not None
    content = version.content
    headers = [
        ("Content-Type", content.get("ContentType") or DEFAULT_CONTENT_TYPE),
        ("Content-Length", str(version.size)),
        ("ETag", version.etag),
        ("Last-Modified", format_datetime(datetime.fromtimestamp(version.last_modified, timezone.utc), usegmt=True)),
        *_ids(request_id),
    ]
    for member, header in _HEADERS:
        if content.get(member):
            headers.append((header, str(content[member])))
    for key, value in version.metadata.items():
        headers.append((f"x-amz-meta-{key}", value))
    if result.body is None or version.size > WHOLE_BYTES:
        return Response(result.status, headers, b"", result.body)
    # A page read whole: an answer that can cross from the core to a front process.
    body = b"".join([piece async for piece in result.body])
    return Response(result.status, [h for h in headers if h[0] != "Content-Length"], body)


def _error(result: WebsiteAnswer, request_id: str, head: bool) -> Response:
    title = f"{result.status} {_REASONS.get(result.status, 'Error')}"
    items = [("Code", result.code), ("Message", result.message), *result.details, ("RequestId", request_id),
             ("HostId", request_id)]  # fmt: skip
    lines = ["<html>", f"<head><title>{title}</title></head>", "<body>", f"<h1>{title}</h1>", "<ul>"]
    lines += [f"<li>{name}: {html.escape(str(value))}</li>" for name, value in items]
    lines.append("</ul>")
    if result.error_document is not None:
        code, message, key = result.error_document
        lines += ["<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document</h3>", "<ul>",
                  f"<li>Code: {code}</li>", f"<li>Message: {html.escape(message)}</li>",
                  f"<li>Key: {html.escape(key)}</li>", "</ul>"]  # fmt: skip
    lines += ["<hr/>", "</body>", "</html>", ""]
    body = "\n".join(lines).encode("utf-8")
    headers = [("Content-Type", "text/html; charset=utf-8"), *_ids(request_id)]
    if head:
        return Response(result.status, [*headers, ("Content-Length", str(len(body)))], b"")
    return Response(result.status, headers, body)
