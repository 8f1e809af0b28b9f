"""Checking AWS Signature Version 4 on incoming requests.

We recompute the canonical request exactly as botocore builds it (botocore/auth.py) from
what arrived on the wire, and compare signatures in constant time. The access key (and a
session token, for temporary credentials) resolves through the KeyRing to its secret and
its Principal (identity/). Refused as AWS refuses: an unknown key, an expired or tampered
session token, a wrong signature, and a signed time more than 15 minutes from ours (so a
captured request cannot be replayed later). Both forms are checked: the Authorization
header, and presigned URLs (X-Amz-Signature in the query).
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import posixpath
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from ..errors import ServiceError
from ..identity.keyring import EXPIRED, KeyProblem, KeyRing
from ..identity.principals import Principal, root
from ..identity.tokens import Sealer
from . import sigv2
from .aws_chunked import SIGNED, STREAMING, ChunkSigning
from .bodies import sha256_mismatch
from .messages import Request
from .router import virtual_bucket

_AUTH = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request,\s*SignedHeaders=(?P<signed>[^,]+),\s*Signature=(?P<sig>[0-9a-f]+)"
)


_CREDENTIAL = re.compile(r"(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request$")
MAX_SKEW_S = 15 * 60  # SigV4: a request signed more than 15 minutes from now is refused
MAX_PRESIGNED_S = 7 * 24 * 3600  # S3: a presigned URL's X-Amz-Expires, at most a week
# Services whose authentication errors carry the XML protocols' codes (SignatureDoesNotMatch,
# InvalidClientTokenId, ExpiredToken) rather than the JSON ones'.
_QUERY_SIGNERS = frozenset(
    {"sts", "iam", "sns", "ec2", "monitoring", "elasticloadbalancing", "rds", "cloudformation", "s3"}
)


@dataclass(frozen=True)
class Caller:
    access_key: str
    account_id: str
    region: str
    service: str
    principal: Principal | None = None  # None only for an unknown key let through (enforce off)


@lru_cache(maxsize=4096)
def _canonical_path(raw_path: str) -> str:
    return quote(_normalize_path(raw_path), safe="/~")


def _normalize_path(path: str) -> str:
    if not path:
        return "/"
    normalized = posixpath.normpath(path)
    if path.endswith("/") and normalized != "/":
        normalized += "/"
    if normalized.startswith("//"):
        normalized = normalized[1:]
    return normalized


@lru_cache(maxsize=4096)
def _canonical_query(query_string: str) -> str:
    if not query_string:
        return ""
    pairs = []
    for part in query_string.split("&"):
        key, _, value = part.partition("=")
        pairs.append((quote(unquote(key), safe="-_.~"), quote(unquote(value.replace("+", " ")), safe="-_.~")))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def canonical_request(
    request: Request,
    signed_headers: list[str],
    query: str | None = None,
    payload_hash: str | None = None,
    service: str = "",
) -> str:
    """`query`: the canonical query string when it is not the request's own (a presigned
    URL's, less its signature); `payload_hash`: the hash a presigned URL was signed with.
    S3 signs its path as sent, neither normalized nor encoded again (keys like "a//b", "x/../y")."""
    path = (request.raw_path or "/") if service == "s3" else _canonical_path(request.raw_path)
    header_lines = [f"{name}:{' '.join(request.headers.get(name, '').split())}" for name in signed_headers]
    # Hash the body that arrived. A client's x-amz-content-sha256 is only taken as written
    # when it opts out of payload signing; taking a claimed hash on trust would let a
    # captured request be replayed with another body under a still-valid signature.
    if payload_hash is None:
        claimed = request.headers.get("x-amz-content-sha256")
        if claimed == "UNSIGNED-PAYLOAD" or claimed in STREAMING:
            payload_hash = claimed
        elif request.stream is not None and claimed:
            # A body still arriving: signed as claimed, and checked against the claim once
            # it has all come (protocol/bodies.py), before anything of it is kept.
            payload_hash = claimed
        else:
            payload_hash = hashlib.sha256(request.body).hexdigest()
    return "\n".join(
        [
            request.method.upper(),
            path,
            _canonical_query(request.query_string) if query is None else query,
            "\n".join(header_lines) + "\n",
            ";".join(signed_headers),
            payload_hash,
        ]
    )


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


class Verifier:
    """Checks signatures and says who signed.

    With `enforce=False` a request with a bad signature or an unknown key is still served
    (handy for hand-made curl calls); an unsigned request always runs as the default
    account's root.
    """

    def __init__(
        self,
        keys: KeyRing | dict[str, tuple[str, str]],
        default_account: str,
        default_region: str,
        enforce: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # A plain {key: (secret, account)} makes a ring of root keys (tests, tools).
        self.keys = keys if isinstance(keys, KeyRing) else KeyRing(keys, Sealer(b"\0" * 32))
        self.default_account = default_account
        self.default_region = default_region
        self.enforce = enforce
        self.clock = clock
        self._default = root(default_account)
        self._signing_keys: dict[tuple[str, str, str, str, str], bytes] = {}

    def verify(self, request: Request) -> Caller:
        auth = request.headers.get("authorization")
        if not auth:
            if "X-Amz-Signature=" in request.query_string:
                return self._verify_presigned(request)
            if sigv2.is_presigned_v2(request):
                return self._verify_presigned_v2(request)
            return Caller("", self.default_account, self.default_region, "", self._default)
        match = _AUTH.match(auth)
        if not match:
            if self.enforce:
                raise ServiceError(
                    "IncompleteSignatureException",
                    "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.",
                    403,
                )
            return Caller("", self.default_account, self.default_region, "", self._default)
        access_key, date, region, service = match.group("key", "date", "region", "service")
        amz_date = request.headers.get("x-amz-date", "")
        return self._check(
            request,
            access_key,
            date,
            region,
            service,
            amz_date,
            request.headers.get("x-amz-security-token"),
            match.group("signed").split(";"),
            match.group("sig"),
            None,
            None,
        )

    def _verify_presigned_v2(self, request: Request) -> Caller:
        """S3's older presigned URLs (protocol/sigv2.py). They name no region: the default."""
        params = dict(parse_qsl(request.query_string, keep_blank_values=True))
        access_key = params.get("AWSAccessKeyId", "")
        try:
            secret, principal = self.keys.resolve(access_key, params.get("x-amz-security-token"))
        except KeyProblem:
            if not self.enforce:
                return Caller(access_key, self.default_account, self.default_region, "s3", None)
            raise ServiceError(
                "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", 403
            ) from None
        if self.enforce:
            sigv2.check(request, secret, virtual_bucket(request.headers.get("host", "")), self.clock())
        return Caller(access_key, principal.account, self.default_region, "s3", principal)

    def _verify_presigned(self, request: Request) -> Caller:
        params: dict[str, str] = {}
        for part in request.query_string.split("&"):
            name, _, value = part.partition("=")
            params[unquote(name)] = unquote(value)
        found = _CREDENTIAL.match(params.get("X-Amz-Credential", ""))
        if params.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" or not found or "X-Amz-SignedHeaders" not in params:
            if not self.enforce:
                return Caller("", self.default_account, self.default_region, "", self._default)
            raise ServiceError(
                "AuthorizationQueryParametersError",
                "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
                "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
                400,
            )
        access_key, date, region, service = found.group("key", "date", "region", "service")
        amz_date = params.get("X-Amz-Date", "")
        query = _canonical_query(
            "&".join(p for p in request.query_string.split("&") if not p.startswith("X-Amz-Signature="))
        )
        expires = params.get("X-Amz-Expires", "")
        return self._check(
            request,
            access_key,
            date,
            region,
            service,
            amz_date,
            params.get("X-Amz-Security-Token"),
            params["X-Amz-SignedHeaders"].split(";"),
            params.get("X-Amz-Signature", ""),
            query,
            int(expires) if expires.isdigit() else None,
        )

    def _check(
        self,
        request: Request,
        access_key: str,
        date: str,
        region: str,
        service: str,
        amz_date: str,
        token: str | None,
        signed: list[str],
        signature: str,
        presigned_query: str | None,
        expires_s: int | None,
    ) -> Caller:
        query_protocol = service in _QUERY_SIGNERS
        try:
            secret, principal = self.keys.resolve(access_key, token)
        except KeyProblem as problem:
            if not self.enforce:
                return Caller(access_key, self.default_account, region, service, None)
            if problem.reason == EXPIRED:
                code = "ExpiredToken" if query_protocol else "ExpiredTokenException"
                raise ServiceError(code, "The security token included in the request is expired", 403) from None
            if service == "s3":
                raise ServiceError(
                    "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", 403
                ) from None
            code = "InvalidClientTokenId" if query_protocol else "UnrecognizedClientException"
            raise ServiceError(code, "The security token included in the request is invalid.", 403) from None
        if not self.enforce:
            return Caller(access_key, principal.account, region, service, principal)
        if service == "s3" and expires_s is not None and expires_s > MAX_PRESIGNED_S:
            raise ServiceError(
                "AuthorizationQueryParametersError",
                f"X-Amz-Expires must be less than a week (in seconds) that is {MAX_PRESIGNED_S}",
                400,
            )
        self._check_time(amz_date, expires_s, query_protocol, service == "s3")
        string_to_sign = "\n".join(
            [
                "AWS4-HMAC-SHA256",
                amz_date,
                f"{date}/{region}/{service}/aws4_request",
                "{}",
            ]
        )
        cache_key = (access_key, secret, date, region, service)
        key = self._signing_keys.get(cache_key)
        if key is None:
            if len(self._signing_keys) > 4096:
                self._signing_keys.clear()
            key = self._signing_keys[cache_key] = _signing_key(secret, date, region, service)
        if service == "s3" and presigned_query is None and request.stream is None:
            claimed = request.headers.get("x-amz-content-sha256", "")
            if len(claimed) == 64 and claimed.lower() != hashlib.sha256(request.body).hexdigest():
                raise sha256_mismatch()  # S3 names this before the signature
        # A presigned URL carries no payload hash: botocore signs S3's as UNSIGNED-PAYLOAD and
        # every other service's with the body's hash; either is accepted.
        hashes = [None] if presigned_query is None else [hashlib.sha256(request.body).hexdigest(), "UNSIGNED-PAYLOAD"]
        canonical = signing = ""
        for payload_hash in hashes:
            canonical = canonical_request(request, signed, presigned_query, payload_hash, service)
            digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
            signing = string_to_sign.replace("{}", digest)
            expected = hmac.new(key, signing.encode("utf-8"), hashlib.sha256).hexdigest()
            if hmac.compare_digest(expected, signature):
                if request.headers.get("x-amz-content-sha256") in SIGNED:
                    # Each chunk's signature chains from this one (protocol/aws_chunked.py).
                    scope = f"{date}/{region}/{service}/aws4_request"
                    request.chunk_signing = ChunkSigning(key, amz_date, scope, signature)
                return Caller(access_key, principal.account, region, service, principal)
        if service == "s3":
            raise s3_signature_mismatch(access_key, signing, signature, canonical)
        raise ServiceError(
            "SignatureDoesNotMatch" if query_protocol else "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. "
            "Consult the service documentation for details.",
            403,
        )

    def _check_time(self, amz_date: str, expires_s: int | None, query_protocol: bool, s3: bool = False) -> None:
        """SigV4's clock rule, in AWS's words: more than 15 minutes either side of now is
        refused; a presigned URL also after its X-Amz-Expires (S3: AccessDenied, "Request
        has expired", with the URL's expiry and the server's time)."""
        try:
            signed_at = calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))
        except ValueError:
            return  # no usable X-Amz-Date: the signature (which covers it) decides
        now = self.clock()
        code = "SignatureDoesNotMatch" if query_protocol else "InvalidSignatureException"
        if expires_s is not None:
            if now > signed_at + expires_s and s3:
                fields: dict[str, Any] = {
                    "X-Amz-Expires": expires_s,
                    "Expires": _iso(signed_at + expires_s),
                    "ServerTime": _iso(now),
                }
                raise ServiceError("AccessDenied", "Request has expired", 403, **fields)
            if now > signed_at + expires_s:
                raise ServiceError(
                    code,
                    f"Signature expired: {amz_date} is now earlier than {_stamp(now - expires_s)} "
                    f"({_stamp(now)} - {expires_s} sec.)",
                    403,
                )
            return
        if signed_at < now - MAX_SKEW_S:
            raise ServiceError(
                code,
                f"Signature expired: {amz_date} is now earlier than {_stamp(now - MAX_SKEW_S)} "
                f"({_stamp(now)} - 15 min.)",
                403,
            )
        if signed_at > now + MAX_SKEW_S:
            raise ServiceError(
                code,
                f"Signature not yet current: {amz_date} is still later than {_stamp(now + MAX_SKEW_S)} "
                f"({_stamp(now)} + 15 min.)",
                403,
            )


def _stamp(epoch: float) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(epoch))


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _bytes(text: str) -> str:
    return " ".join(f"{byte:02x}" for byte in text.encode("utf-8"))


def s3_signature_mismatch(access_key: str, string_to_sign: str, provided: str, canonical: str) -> ServiceError:
    """S3's SignatureDoesNotMatch: its own message, and what it computed (so a client can
    see where its signing differs)."""
    fields: dict[str, Any] = {
        "AWSAccessKeyId": access_key,
        "StringToSign": string_to_sign,
        "SignatureProvided": provided,
        "StringToSignBytes": _bytes(string_to_sign),
        "CanonicalRequest": canonical,
        "CanonicalRequestBytes": _bytes(canonical),
    }
    return ServiceError(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
        403,
        **fields,
    )
