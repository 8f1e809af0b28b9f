"""JWT authorizers: the token in the identity source (alone, or after "Bearer "), checked as
API Gateway checks it:

- signed with an RSA key (RS256, RS384, RS512: "only RSA-based algorithms are supported") from
  the issuer's key set, found through `{Issuer}/.well-known/openid-configuration` -> jwks_uri
  and kept for two hours (fetched again, at most every REFETCH_GAP_S, for a `kid` it lacks);
- `iss` equal to the authorizer's Issuer; `aud`, or else `client_id`, one of its Audience;
- `exp` after now, `nbf` and `iat` (when there) not after now;
- when the route has AuthorizationScopes, at least one of them in the token's `scope`
  (space-separated) or `scp`.

A missing token or a failed check is 401 {"message":"Unauthorized"}, missing scopes 403
{"message":"Forbidden"}, each with the www-authenticate header AWS sends (`Bearer scope="..."
error="invalid_token" error_description="..."`). The claims (values as strings, as AWS passes
them) and scopes go to the integration in requestContext.authorizer.jwt.

Fetching runs in a thread (urllib, as the rest of Lamina fetches), never on the event loop.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

import jwt

ALGORITHMS = ("RS256", "RS384", "RS512")
KEYS_TTL_S = 7200.0
REFETCH_GAP_S = 10.0
FETCH_TIMEOUT_S = 5.0
MAX_DOCUMENT_BYTES = 1 << 20


class Refused(Exception):
    def __init__(self, status: int, description: str, scopes: str = "") -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.scopes = scopes

    @property
    def www_authenticate(self) -> str:
        error = "insufficient_scope" if self.status == 403 else "invalid_token"
        return f'Bearer scope="{self.scopes}" error="{error}" error_description="{self.description}"'


@dataclass(frozen=True)
class Verified:
    claims: dict[str, str]
    scopes: list[str] | None


def fetch_json(url: str) -> Any:
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "lamina-apigateway"})
    with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_S) as response:  # noqa: S310 (an issuer's URL)
        return json.loads(response.read(MAX_DOCUMENT_BYTES))


def _claim_text(value: Any) -> str:
    """AWS passes every claim as a string: arrays as "[a b]", objects as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(_claim_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def token_scopes(claims: dict[str, Any]) -> list[str]:
    scope = claims.get("scope")
    if isinstance(scope, str):
        return scope.split()
    scp = claims.get("scp")
    if isinstance(scp, str):
        return scp.split()
    if isinstance(scp, list):
        return [str(s) for s in scp]
    return []


class JwtChecker:
    def __init__(self, fetch=fetch_json) -> None:
        self.fetch = fetch
        self._keys: dict[str, tuple[float, list[dict[str, Any]]]] = {}  # issuer -> (fetched, keys)
        self._locks: dict[str, asyncio.Lock] = {}
        self._parsed: dict[tuple[str, str | None, str], Any] = {}

    async def verify(self, raw: str, config: dict[str, Any], route_scopes: tuple[str, ...]) -> Verified:
        token = raw[7:].strip() if raw[:7].lower() == "bearer " else raw.strip()
        scopes_text = " ".join(route_scopes)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Refused(401, "token is malformed", scopes_text) from None
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise Refused(401, f"signing method {algorithm} is invalid", scopes_text)
        issuer = config["Issuer"]
        key = await self._key(issuer, header.get("kid"), algorithm, scopes_text)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                options={
                    "verify_aud": False,
                    "verify_iss": False,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError:
            raise Refused(401, "signature is invalid", scopes_text) from None
        self._check_claims(claims, config, scopes_text)
        scopes = token_scopes(claims)
        if route_scopes and not set(route_scopes) & set(scopes):
            raise Refused(403, f"expected scopes: [{scopes_text}]", scopes_text)
        return Verified({k: _claim_text(v) for k, v in claims.items()}, scopes or None)

    @staticmethod
    def _check_claims(claims: dict[str, Any], config: dict[str, Any], scopes: str) -> None:
        if claims.get("iss") != config["Issuer"]:
            raise Refused(401, "the token does not have a valid issuer", scopes)
        audiences = config.get("Audience") or []
        aud = claims.get("aud")
        given = [aud] if isinstance(aud, str) else [a for a in aud or () if isinstance(a, str)]
        if not given and isinstance(claims.get("client_id"), str):
            given = [claims["client_id"]]
        if not set(given) & set(audiences):
            raise Refused(401, "the token does not have a valid audience", scopes)
        now = time.time()
        expires = claims.get("exp")
        if not isinstance(expires, (int, float)) or isinstance(expires, bool) or expires <= now:
            raise Refused(401, "the token has expired", scopes)
        for name, words in (("nbf", "the token is not valid yet"), ("iat", "the token was issued in the future")):
            at = claims.get(name)
            if at is not None and (not isinstance(at, (int, float)) or at > now):
                raise Refused(401, words, scopes)

    async def _key(self, issuer: str, kid: str | None, algorithm: str, scopes: str) -> Any:
        lock = self._locks.setdefault(issuer, asyncio.Lock())
        async with lock:
            kept = self._keys.get(issuer)
            now = time.monotonic()
            if kept is None or now - kept[0] >= KEYS_TTL_S:
                kept = await self._refresh(issuer, scopes)
            found = _pick(kept[1], kid)
            if found is None and now - kept[0] >= REFETCH_GAP_S:
                kept = await self._refresh(issuer, scopes)
                found = _pick(kept[1], kid)
        if found is None:
            raise Refused(401, "no key in the issuer's key set matches the token's kid", scopes)
        cache_key = (issuer, kid, json.dumps(found, sort_keys=True))
        key = self._parsed.get(cache_key)
        if key is None:
            try:
                key = self._parsed[cache_key] = jwt.PyJWK(found, algorithm).key
            except jwt.PyJWTError:
                raise Refused(401, "the issuer's key cannot be used", scopes) from None
        return key

    async def _refresh(self, issuer: str, scopes: str) -> tuple[float, list[dict[str, Any]]]:
        try:
            discovery = await asyncio.to_thread(self.fetch, issuer.rstrip("/") + "/.well-known/openid-configuration")
            jwks_uri = discovery.get("jwks_uri") if isinstance(discovery, dict) else None
            if not isinstance(jwks_uri, str):
                raise ValueError("no jwks_uri")
            document = await asyncio.to_thread(self.fetch, jwks_uri)
        except (OSError, ValueError) as error:
            raise Refused(401, f"could not fetch the issuer's keys: {error}", scopes) from None
        keys = document.get("keys") if isinstance(document, dict) else None
        kept = (time.monotonic(), [k for k in keys or [] if isinstance(k, dict) and k.get("kty") == "RSA"])
        self._keys[issuer] = kept
        return kept


def _pick(keys: list[dict[str, Any]], kid: str | None) -> dict[str, Any] | None:
    signing = [k for k in keys if k.get("use", "sig") == "sig"]
    if kid is not None:
        return next((k for k in signing if k.get("kid") == kid), None)
    return signing[0] if len(signing) == 1 else None
