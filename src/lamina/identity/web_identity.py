"""Web identities: checking the OpenID Connect ID tokens STS's AssumeRoleWithWebIdentity
exchanges for a role's session, as AWS checks them.

A token is a JWT signed by its issuer (`iss`). Its keys are the issuer's JSON Web Key Set,
found through `<iss>/.well-known/openid-configuration` -> `jwks_uri`; they are kept per
issuer for KEYS_TTL_S, and fetched again (at most once per REFETCH_GAP_S) when a token
names a key id (`kid`) the kept set lacks, as issuers rotate keys. Fetching runs in a
thread, so a slow issuer never holds the event loop.

    verifier = WebIdentityVerifier()
    issuer = verifier.issuer(token)                  # unverified: which provider to ask
    identity = await verifier.verify(token, client_ids)
    # identity.subject, identity.audience (the client id it is for), identity.claims

Refusals are WebIdentityError with AWS's code and message: InvalidIdentityToken (a
malformed token, a bad signature, an unknown key, the wrong audience), ExpiredTokenException
(past `exp`), IDPCommunicationError (the issuer's keys could not be fetched).

Accepted algorithms are the asymmetric ones AWS accepts (RS256/384/512, ES256/384): a
shared-secret (HS*) or unsigned ("none") token is refused. Issuers are fetched over https;
plain http only for a loopback issuer (127.0.0.1, ::1, localhost), Lamina's concession to
an identity provider running beside it for development and tests.

Only the standard library and PyJWT (with cryptography): this package imports nothing else
of Lamina.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import jwt

ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384")
KEYS_TTL_S = 600.0  # how long an issuer's key set is kept
REFETCH_GAP_S = 10.0  # an unknown kid refetches the set at most this often per issuer
FETCH_TIMEOUT_S = 5.0
LEEWAY_S = 60  # clocks differ: how far in the future `nbf` and `iat` may be
MAX_DOCUMENT_BYTES = 1 << 20
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})

INVALID = "InvalidIdentityToken"
EXPIRED = "ExpiredTokenException"
UNREACHABLE = "IDPCommunicationError"
# AWS's words for a token it could not verify (the error's documented meaning).
NOT_VALIDATED = (
    "The web identity token that was passed could not be validated by AWS. "
    "Get a new identity token from the identity provider and then retry the request."
)
NO_KEY = (
    "Couldn't retrieve verification key from your identity provider,  "
    "please reference AssumeRoleWithWebIdentity documentation for requirements"
)

Fetch = Callable[[str], Any]  # URL -> the JSON document there (raises OSError/ValueError)


class WebIdentityError(Exception):
    """A token refused: AWS's error code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class WebIdentity:
    """A verified token."""

    issuer: str  # `iss`, as the token has it
    subject: str  # `sub`
    audience: str  # the client id it is for: `azp` if the token has one, else its `aud` that matched
    audiences: tuple[str, ...]  # the token's own `aud` (one or several)
    expires: int  # `exp`, epoch seconds
    claims: dict[str, Any] = field(default_factory=dict)


def condition_keys(provider_url: str, identity: WebIdentity) -> dict[str, str | list[str]]:
    """The keys a trust policy's conditions read of a token (IAM User Guide, "Available keys
    for AWS OIDC federation"), named by the provider's URL without the scheme:
    `<url>:sub`; `<url>:aud`, the client id the token is for (its `azp` if it has one);
    `<url>:oaud`, the token's own `aud`; `<url>:amr`, `<url>:azp` and `<url>:email` when the
    token carries them."""
    claims = identity.claims
    keys: dict[str, str | list[str]] = {
        f"{provider_url}:sub": identity.subject,
        f"{provider_url}:aud": identity.audience,
        f"{provider_url}:oaud": list(identity.audiences),
    }
    amr = claims.get("amr")
    if isinstance(amr, str):
        keys[f"{provider_url}:amr"] = [amr]
    elif isinstance(amr, list):
        keys[f"{provider_url}:amr"] = [str(value) for value in amr]
    for name in ("azp", "email"):
        if isinstance(claims.get(name), str):
            keys[f"{provider_url}:{name}"] = claims[name]
    return keys


def without_scheme(url: str) -> str:
    """`https://example.com/path` -> `example.com/path` (what IAM names a provider by)."""
    for scheme in ("https://", "http://"):
        if url[: len(scheme)].lower() == scheme:
            return url[len(scheme) :]
    return url


def is_loopback(url: str) -> bool:
    try:
        host = urlsplit(url if "://" in url else "http://" + url).hostname
    except ValueError:
        return False
    return host in LOOPBACK_HOSTS


def fetch_json(url: str) -> Any:
    """The JSON document at `url` (blocking: run it in a thread)."""
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "lamina-sts"})
    with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_S) as response:  # noqa: S310 (scheme checked)
        return json.loads(response.read(MAX_DOCUMENT_BYTES + 1)[:MAX_DOCUMENT_BYTES])


@dataclass
class _KeySet:
    keys: list[dict[str, Any]]
    fetched: float


class WebIdentityVerifier:
    def __init__(
        self,
        fetch: Fetch = fetch_json,
        clock: Callable[[], float] = time.time,
        keys_ttl_s: float = KEYS_TTL_S,
        refetch_gap_s: float = REFETCH_GAP_S,
    ) -> None:
        self.fetch = fetch
        self.clock = clock
        self.keys_ttl_s = keys_ttl_s
        self.refetch_gap_s = refetch_gap_s
        self._sets: dict[str, _KeySet] = {}  # issuer -> its key set
        self._locks: dict[str, asyncio.Lock] = {}

    # --- the token --------------------------------------------------------------------------

    @staticmethod
    def issuer(token: str) -> str:
        """The token's `iss`, unverified (which provider's keys to check it with)."""
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise WebIdentityError(INVALID, NOT_VALIDATED) from None
        issuer = claims.get("iss")
        if not isinstance(issuer, str) or not issuer:
            raise WebIdentityError(INVALID, NOT_VALIDATED)
        return issuer

    async def verify(self, token: str, client_ids: Collection[str]) -> WebIdentity:
        """The token, checked: its signature with its issuer's keys, its times, and that it
        is for one of `client_ids`."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise WebIdentityError(INVALID, NOT_VALIDATED) from None
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise WebIdentityError(INVALID, NOT_VALIDATED)
        issuer = self.issuer(token)
        key = await self._key(issuer, header.get("kid"), algorithm)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                options={
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "verify_aud": False,
                    "verify_iss": False,
                },
            )
        except jwt.PyJWTError:
            raise WebIdentityError(INVALID, NOT_VALIDATED) from None
        return self._checked(issuer, claims, client_ids)

    def _checked(self, issuer: str, claims: dict[str, Any], client_ids: Collection[str]) -> WebIdentity:
        now = int(self.clock())
        expires = claims.get("exp")
        if not isinstance(expires, (int, float)) or isinstance(expires, bool):
            raise WebIdentityError(INVALID, NOT_VALIDATED)
        if expires <= now:
            # AWS's own words, the missing space included.
            raise WebIdentityError(
                EXPIRED,
                f"Token expired: current date/time {now} must be before the expiration date/time{int(expires)}",
            )
        for name in ("nbf", "iat"):
            at = claims.get(name)
            if at is None:
                continue
            if not isinstance(at, (int, float)) or isinstance(at, bool) or at > now + LEEWAY_S:
                raise WebIdentityError(INVALID, NOT_VALIDATED)
        aud = claims.get("aud")
        audiences = (aud,) if isinstance(aud, str) else tuple(a for a in aud or () if isinstance(a, str))
        azp = claims.get("azp")
        if isinstance(azp, str) and azp:
            audience = azp if azp in client_ids else None
        else:
            audience = next((a for a in audiences if a in client_ids), None)
        if audience is None:
            raise WebIdentityError(INVALID, "Incorrect token audience")
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise WebIdentityError(INVALID, NOT_VALIDATED)
        return WebIdentity(issuer, subject, audience, audiences, int(expires), claims)

    # --- the issuer's keys ------------------------------------------------------------------

    async def _key(self, issuer: str, kid: str | None, algorithm: str) -> Any:
        lock = self._locks.setdefault(issuer, asyncio.Lock())
        async with lock:
            kept = self._sets.get(issuer)
            now = self.clock()
            if kept is None or now - kept.fetched >= self.keys_ttl_s:
                kept = await self._refresh(issuer)
            found = _pick(kept.keys, kid, algorithm)
            if found is None and now - kept.fetched >= self.refetch_gap_s:
                kept = await self._refresh(issuer)  # a rotated key: ask once more
                found = _pick(kept.keys, kid, algorithm)
        if found is None:
            raise WebIdentityError(INVALID, NO_KEY)
        try:
            return jwt.PyJWK(found, algorithm).key
        except jwt.PyJWTError:
            raise WebIdentityError(INVALID, NO_KEY) from None

    async def _refresh(self, issuer: str) -> _KeySet:
        if not _fetchable(issuer):
            raise WebIdentityError(INVALID, NO_KEY)
        discovery_url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            discovery = await asyncio.to_thread(self.fetch, discovery_url)
            jwks_uri = discovery.get("jwks_uri") if isinstance(discovery, dict) else None
            if not isinstance(jwks_uri, str) or not _fetchable(jwks_uri):
                raise WebIdentityError(INVALID, NO_KEY)
            document = await asyncio.to_thread(self.fetch, jwks_uri)
        except WebIdentityError:
            raise
        except (OSError, ValueError) as error:
            reason = getattr(error, "reason", None) or error
            raise WebIdentityError(
                UNREACHABLE, f"Couldn't connect to the identity provider {issuer}: {reason}"
            ) from None
        keys = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(keys, list):
            raise WebIdentityError(INVALID, NO_KEY)
        kept = _KeySet([k for k in keys if isinstance(k, dict)], self.clock())
        self._sets[issuer] = kept
        return kept


def _fetchable(url: str) -> bool:
    """https, or http to a loopback host (an issuer running beside Lamina)."""
    scheme = urlsplit(url).scheme.lower()
    return scheme == "https" or (scheme == "http" and is_loopback(url))


def _pick(keys: list[dict[str, Any]], kid: str | None, algorithm: str) -> dict[str, Any] | None:
    """The signing key a token names (by `kid`; without one, the only key that fits)."""
    kty = "RSA" if algorithm.startswith("RS") else "EC"
    fitting = [
        k for k in keys if k.get("kty") == kty and k.get("use", "sig") == "sig" and k.get("alg", algorithm) == algorithm
    ]
    if kid is not None:
        return next((k for k in fitting if k.get("kid") == kid), None)
    return fitting[0] if len(fitting) == 1 else None
