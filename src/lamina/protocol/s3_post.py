"""S3's POST Object: a browser's HTML form upload to a bucket (POST /{bucket}, or / on the
bucket's virtual host, multipart/form-data). It is no botocore operation, so the router
does not know it: the gateway hands such a request here (is_form_post), in the core or in a
front process alike. The form's fields are read (forms.py, the file last and streamed),
the policy's SigV4 signature checked against the signer's secret (the signer is the
caller), and the S3 service's `post_object` called with the fields and the file as a Body,
through the gateway's `call` (so a front relays the file to the core as it is read). The
service checks the policy's conditions and writes the object; its answer is turned into
S3's: 204 (the default), 200, 201 with a <PostResponse>, or a 303 to success_action_redirect.

https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html
https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-authentication-HTTPPOST.html"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import unquote

from ..errors import ServiceError
from ..identity.keyring import EXPIRED, KeyProblem
from ..identity.principals import Principal, anonymous
from ..services.context import RequestContext
from . import forms, rest_xml
from .bodies import Body
from .messages import Request, Response
from .router import Router, virtual_bucket
from .sigv4 import Verifier, _bytes, _signing_key

Call = Callable[[str, str, dict, RequestContext], Awaitable[dict]]

_CREDENTIAL = re.compile(r"^(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request$")
_SIGNING_FIELDS = ("x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature")
_FIELD_NAMES = {"x-amz-algorithm": "X-Amz-Algorithm", "x-amz-credential": "X-Amz-Credential",
                "x-amz-date": "X-Amz-Date", "x-amz-signature": "X-Amz-Signature"}  # fmt: skip


def is_form_post(request: Request) -> bool:
    """A POST with a form body and no signature of its own: S3's browser upload."""
    return (
        request.method == "POST"
        and request.headers.get("content-type", "").lower().startswith("multipart/form-data")
        and "authorization" not in request.headers
        and "X-Amz-Signature=" not in request.query_string
    )


def _bucket(request: Request) -> str | None:
    hosted = virtual_bucket(request.headers.get("host", ""))
    if hosted is not None:
        return hosted if request.path in ("", "/") else None
    parts = request.path.strip("/").split("/")
    return parts[0] if len(parts) == 1 and parts[0] else None


def malformed() -> ServiceError:
    return ServiceError(
        "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.", 400
    )


def _missing(name: str) -> ServiceError:
    return ServiceError(
        "InvalidArgument",
        f"Bucket POST must contain a field named '{name}'.  If it is specified, please check the order of the fields.",
        400,
        ArgumentName=name,
        ArgumentValue="",
    )


def signer(verifier: Verifier, fields: dict[str, str]) -> tuple[str, str, Principal | None]:
    """(account, region, principal) of the policy's signer, its signature checked; the
    default account's anonymous caller for a form with no policy (an unsigned S3 request:
    only a bucket policy open to everyone lets it write)."""
    policy = fields.get("policy")
    if policy is None:
        return verifier.default_account, verifier.default_region, anonymous(verifier.default_account)
    if "awsaccesskeyid" in fields or "signature" in fields:
        return _signer_v2(verifier, fields, policy)
    for name in _SIGNING_FIELDS:
        if name not in fields:
            raise _missing(_FIELD_NAMES[name])
    found = _CREDENTIAL.match(fields["x-amz-credential"])
    if fields["x-amz-algorithm"] != "AWS4-HMAC-SHA256" or found is None:
        raise ServiceError(
            "InvalidArgument",
            "Invalid according to Policy: the credential or algorithm is malformed",
            400,
            ArgumentName="x-amz-credential",
            ArgumentValue=fields["x-amz-credential"],
        )
    access_key, date, region, service = found.group("key", "date", "region", "service")
    secret, principal = _resolve(verifier, access_key, fields.get("x-amz-security-token"))
    if principal is None:
        return verifier.default_account, region, None
    if verifier.enforce:
        expected = hmac.new(_signing_key(secret, date, region, service), policy.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, fields["x-amz-signature"].lower()):
            raise _mismatch(access_key, policy, fields["x-amz-signature"])
    return principal.account, region, principal


def _signer_v2(verifier: Verifier, fields: dict[str, str], policy: str) -> tuple[str, str, Principal | None]:
    """A form signed the older way (boto3's default for S3 in us-east-1): the policy's
    HMAC-SHA1 with the secret, base64, beside AWSAccessKeyId."""
    for name, shown in (("awsaccesskeyid", "AWSAccessKeyId"), ("signature", "Signature")):
        if name not in fields:
            raise _missing(shown)
    access_key = fields["awsaccesskeyid"]
    secret, principal = _resolve(verifier, access_key, fields.get("x-amz-security-token"))
    if principal is None:
        return verifier.default_account, verifier.default_region, None
    if verifier.enforce:
        expected = base64.b64encode(hmac.new(secret.encode(), policy.encode(), hashlib.sha1).digest()).decode()
        if not hmac.compare_digest(expected, fields["signature"]):
            raise _mismatch(access_key, policy, fields["signature"])
    return principal.account, verifier.default_region, principal


def _resolve(verifier: Verifier, access_key: str, token: str | None) -> tuple[str, Principal | None]:
    try:
        return verifier.keys.resolve(access_key, token)
    except KeyProblem as problem:
        if not verifier.enforce:
            return "", None
        if problem.reason == EXPIRED:
            raise ServiceError("ExpiredToken", "The provided token has expired.", 400) from None
        raise ServiceError(
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
            403,
            AWSAccessKeyId=access_key,
        ) from None


def _mismatch(access_key: str, policy: str, provided: str) -> ServiceError:
    return ServiceError(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
        403,
        AWSAccessKeyId=access_key,
        StringToSign=policy,
        SignatureProvided=provided,
        StringToSignBytes=_bytes(policy),
    )


async def handle(
    request: Request, verifier: Verifier, router: Router, call: Call, request_id: str, endpoint: str
) -> Response:
    spec = router.specs["s3"]
    try:
        bucket = _bucket(request)
        boundary = forms.boundary_of(request.headers.get("content-type", ""))
        if bucket is None or boundary is None:
            raise malformed()
        source: AsyncIterator[bytes] = request.stream if request.stream is not None else _once(request.body)
        try:
            pairs, file = await forms.read_form(source, boundary)
        except forms.FormError:
            raise malformed() from None
        fields = {name.lower(): value for name, value in pairs}
        if file is None:
            raise ServiceError(
                "InvalidArgument",
                "POST requires exactly one file upload per request.",
                400,
                ArgumentName="file",
                ArgumentValue="0",
            )
        account, region, principal = signer(verifier, fields)
        ctx = RequestContext(
            account_id=account,
            region=region,
            request_id=request_id,
            endpoint_url=endpoint,
            access_key=fields.get("x-amz-credential", "").split("/", 1)[0],
            principal=principal,
            source_ip=request.client,
        )
        filename = file.filename.replace("\\", "/").rsplit("/", 1)[-1]
        params = {
            "Bucket": unquote(bucket),
            "Key": fields.get("key", "").replace("${filename}", filename),  # what authorization looks at
            "Fields": [[name, value] for name, value in pairs],
            "FileName": file.filename,
            "Body": Body(_checked(file.content)),
        }
        result = await call("s3", "PostObject", params, ctx)
    except ServiceError as error:
        return rest_xml.serialize_error(spec, error, request_id)
    return answer(result, request_id)


async def _once(body: bytes) -> AsyncIterator[bytes]:
    yield body


async def _checked(content: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    try:
        async for piece in content:
            yield piece
    except forms.FormError:
        raise malformed() from None


def answer(result: dict, request_id: str) -> Response:
    """S3's answer to a form upload the service accepted."""
    headers = [("x-amz-request-id", request_id), ("x-amz-id-2", request_id)]
    headers.append(("ETag", result["ETag"]))
    headers.append(("Location", result["Location"]))
    if result.get("VersionId"):
        headers.append(("x-amz-version-id", result["VersionId"]))
    if result.get("ServerSideEncryption"):
        headers.append(("x-amz-server-side-encryption", result["ServerSideEncryption"]))
    status = int(result.get("Status") or 204)
    if result.get("Redirect"):
        headers = [item for item in headers if item[0] != "Location"]
        headers.append(("Location", result["Redirect"]))
        return Response(303, headers, b"")
    if status != 201:
        return Response(status, headers, b"")
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse>'
        f"<Location>{_text(result['Location'])}</Location><Bucket>{_text(result['Bucket'])}</Bucket>"
        f"<Key>{_text(result['Key'])}</Key><ETag>{_text(result['ETag'])}</ETag></PostResponse>"
    )
    headers.append(("content-type", "application/xml"))
    return Response(201, headers, document.encode("utf-8"))


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
