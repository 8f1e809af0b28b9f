"""S3's presigned URLs of the older kind (signature version 2, query string authentication):
`?AWSAccessKeyId=...&Expires=<epoch>&Signature=<base64 HMAC-SHA1>`, which boto3's
generate_presigned_url still writes for S3 unless told `signature_version="s3v4"`.

The string signed is S3's: the method, Content-MD5, Content-Type and Expires lines, the
x-amz-* values (moved into the query string by the signer), and the resource: the path with
the bucket in it (a virtual-hosted request's too) and the sub-resources S3 signs (?acl,
?versionId=..., the response-* overrides...). botocore's list of those is the one used.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import datetime, timezone
from urllib.parse import parse_qsl, unquote

from botocore.auth import HmacV1Auth

from ..errors import ServiceError
from .messages import Request

_SUBRESOURCES = frozenset(HmacV1Auth.QSAOfInterest)


def is_presigned_v2(request: Request) -> bool:
    query = request.query_string
    return "AWSAccessKeyId=" in query and "Signature=" in query


def string_to_sign(request: Request, params: dict[str, str], bucket: str | None) -> str:
    """What the URL's signature covers. `bucket`: the bucket a virtual-hosted request names
    in its Host (the signed resource has it in the path either way)."""
    amz = {key.lower(): value for key, value in params.items() if key.lower().startswith("x-amz-")}
    amz.update({name: value for name, value in request.headers.items() if name.startswith("x-amz-")})
    lines = [
        request.method.upper(),
        params.get("content-md5", request.headers.get("content-md5", "")),
        params.get("content-type", request.headers.get("content-type", "")),
        params.get("Expires", ""),
    ]
    lines += [f"{name}:{amz[name].strip()}" for name in sorted(amz)]
    resource = (f"/{bucket}" if bucket else "") + (request.raw_path or "/")
    interesting = sorted(
        (unquote(key), unquote(value))
        for key, _, value in (part.partition("=") for part in request.query_string.split("&"))
        if unquote(key) in _SUBRESOURCES
    )
    if interesting:
        resource += "?" + "&".join(f"{key}={value}" if value else key for key, value in interesting)
    return "\n".join([*lines, resource])


def check(request: Request, secret: str, bucket: str | None, now: float | None = None) -> None:
    """Raises S3's refusal unless the URL is signed with `secret` and not yet expired."""
    params = dict(parse_qsl(request.query_string, keep_blank_values=True))
    expected = base64.b64encode(
        hmac.new(secret.encode(), string_to_sign(request, params, bucket).encode(), hashlib.sha1).digest()
    ).decode()
    if not hmac.compare_digest(expected, params.get("Signature", "")):
        raise ServiceError(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
            403,
        )
    expires = params.get("Expires", "")
    current = time.time() if now is None else now
    if not expires.isdigit() or current > int(expires):
        raise ServiceError(
            "AccessDenied",
            "Request has expired",
            403,
            Expires=_iso(int(expires)) if expires.isdigit() else expires,
            ServerTime=_iso(current),
        )


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
