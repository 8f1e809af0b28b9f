"""Checking AWS Signature Version 4 on incoming requests.

We recompute the canonical request exactly as botocore builds it (botocore/auth.py) from
what arrived on the wire, and compare signatures in constant time. Access keys map to
accounts; an unknown key or a wrong signature is refused the way AWS refuses it.
"""

from __future__ import annotations

import hashlib
import hmac
import posixpath
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, unquote

from ..errors import ServiceError
from .messages import Request

_AUTH = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request,\s*SignedHeaders=(?P<signed>[^,]+),\s*Signature=(?P<sig>[0-9a-f]+)"
)


@dataclass(frozen=True)
class Caller:
    access_key: str
    account_id: str
    region: str
    service: str


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


def canonical_request(request: Request, signed_headers: list[str]) -> str:
    path = _canonical_path(request.raw_path)
    header_lines = [f"{name}:{' '.join(request.headers.get(name, '').split())}" for name in signed_headers]
    # Hash the body that arrived. A client's x-amz-content-sha256 is only taken as written
    # when it opts out of payload signing; taking a claimed hash on trust would let a
    # captured request be replayed with another body under a still-valid signature.
    claimed = request.headers.get("x-amz-content-sha256")
    payload_hash = claimed if claimed == "UNSIGNED-PAYLOAD" else hashlib.sha256(request.body).hexdigest()
    return "\n".join(
        [
            request.method.upper(),
            path,
            _canonical_query(request.query_string),
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
    """Maps access keys to (secret, account) and checks signatures.

    With `enforce=False` a request with a bad signature is still served (handy for hand-made
    curl calls), but an unsigned request always runs as the default account.
    """

    def __init__(
        self, credentials: dict[str, tuple[str, str]], default_account: str, default_region: str, enforce: bool = True
    ) -> None:
        self.credentials = credentials
        self.default_account = default_account
        self.default_region = default_region
        self.enforce = enforce
        self._keys: dict[tuple[str, str, str, str], bytes] = {}

    def verify(self, request: Request) -> Caller:
        auth = request.headers.get("authorization")
        if not auth:
            return Caller("", self.default_account, self.default_region, "")
        match = _AUTH.match(auth)
        if not match:
            if self.enforce:
                raise ServiceError(
                    "IncompleteSignatureException",
                    "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.",
                    403,
                )
            return Caller("", self.default_account, self.default_region, "")
        access_key, date, region, service = match.group("key", "date", "region", "service")
        known = self.credentials.get(access_key)
        if known is None:
            if self.enforce:
                raise ServiceError(
                    "UnrecognizedClientException", "The security token included in the request is invalid.", 403
                )
            return Caller(access_key, self.default_account, region, service)
        secret, account = known
        if self.enforce:
            signed = match.group("signed").split(";")
            amz_date = request.headers.get("x-amz-date", "")
            string_to_sign = "\n".join(
                [
                    "AWS4-HMAC-SHA256",
                    amz_date,
                    f"{date}/{region}/{service}/aws4_request",
                    hashlib.sha256(canonical_request(request, signed).encode("utf-8")).hexdigest(),
                ]
            )
            cache_key = (access_key, date, region, service)
            key = self._keys.get(cache_key)
            if key is None:
                key = self._keys[cache_key] = _signing_key(secret, date, region, service)
            expected = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected, match.group("sig")):
                raise ServiceError(
                    "InvalidSignatureException",
                    "The request signature we calculated does not match the signature you provided. "
                    "Check your AWS Secret Access Key and signing method. "
                    "Consult the service documentation for details.",
                    403,
                )
        return Caller(access_key, account, region, service)
