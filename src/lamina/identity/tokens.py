"""Temporary credentials that carry themselves: an ASIA... access key, a secret derived
from it, and a session token holding the session's claims, sealed with the server's key.

Nothing is stored when credentials are issued (AssumeRole is as fast as a signature), and
they stay valid across a restart until they expire, as AWS's do. The token is
"FwoG" + base64url(claims JSON) + "." + base64url(HMAC-SHA256(key, claims)): its holder can
read the claims (who the session is, until when; nothing secret), but not change them. The
secret is HMAC(key, access key id), so it never travels in the token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass

from .principals import Principal

PREFIX = "FwoG"


class InvalidToken(Exception):
    """Not a token this server sealed (tampered, another server's, or garbage)."""


@dataclass(frozen=True)
class TemporaryCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: float  # epoch seconds


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Sealer:
    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def from_file(cls, path: str) -> Sealer:
        """The server's key, made once (random, 32 bytes) and kept in the data dir."""
        try:
            with open(path, "rb") as handle:
                key = handle.read()
            if len(key) >= 32:
                return cls(key)
        except FileNotFoundError:
            pass
        key = secrets.token_bytes(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
        return cls(key)

    def secret_of(self, access_key_id: str) -> str:
        digest = hmac.new(self._key, b"secret:" + access_key_id.encode(), hashlib.sha256).digest()
        return base64.b64encode(digest).decode()[:40]

    def new_key_id(self, account: str) -> str:
        """ASIA + 16 base32 characters: 40 random bits, and the account id masked with them
        (as AWS's key ids carry their account, which GetAccessKeyInfo reads back)."""
        nonce = secrets.token_bytes(5)
        mask = hmac.new(self._key, b"account:" + nonce, hashlib.sha256).digest()[:5]
        masked = bytes(a ^ b for a, b in zip(int(account).to_bytes(5, "big"), mask, strict=True))
        return "ASIA" + base64.b32encode(masked + nonce).decode()

    def account_of(self, key_id: str) -> str | None:
        """The account an ASIA key id issued here belongs to (None if it is not one)."""
        try:
            raw = base64.b32decode(key_id[4:])
        except ValueError:
            return None
        if not key_id.startswith("ASIA") or len(raw) != 10:
            return None
        mask = hmac.new(self._key, b"account:" + raw[5:], hashlib.sha256).digest()[:5]
        return f"{int.from_bytes(bytes(a ^ b for a, b in zip(raw[:5], mask, strict=True)), 'big'):012d}"

    def issue(self, principal: Principal) -> TemporaryCredentials:
        """Credentials for `principal` (its `expires` set), with a new ASIA... key."""
        assert principal.expires is not None, "temporary credentials expire"
        key_id = self.new_key_id(principal.account)
        claims = {
            "k": key_id,
            "a": principal.account,
            "p": principal.arn,
            "u": principal.user_id,
            "t": principal.kind,
            "n": principal.name,
            "r": principal.role_arn,
            "e": principal.expires,
        }
        if principal.session_policies:
            claims["sp"] = list(principal.session_policies)
        if principal.session_policy_arns:
            claims["sa"] = list(principal.session_policy_arns)
        if principal.tags:
            claims["tg"] = [list(pair) for pair in principal.tags]
        if principal.source_identity:
            claims["si"] = principal.source_identity
        body = json.dumps(claims, separators=(",", ":"), sort_keys=True).encode()
        seal = hmac.new(self._key, body, hashlib.sha256).digest()
        token = f"{PREFIX}{_b64(body)}.{_b64(seal)}"
        return TemporaryCredentials(key_id, self.secret_of(key_id), token, principal.expires)

    def open(self, token: str) -> tuple[str, Principal]:
        """(the access key id the token belongs to, its Principal); InvalidToken if it was
        not sealed here. Expiry is the caller's to check (the message differs)."""
        if not token.startswith(PREFIX):
            raise InvalidToken
        body_text, _, seal_text = token[len(PREFIX) :].partition(".")
        try:
            body, seal = _unb64(body_text), _unb64(seal_text)
        except ValueError:
            raise InvalidToken from None
        if not hmac.compare_digest(seal, hmac.new(self._key, body, hashlib.sha256).digest()):
            raise InvalidToken
        claims = json.loads(body)
        principal = Principal(
            account=claims["a"],
            arn=claims["p"],
            user_id=claims["u"],
            kind=claims["t"],
            name=claims.get("n", ""),
            role_arn=claims.get("r", ""),
            session_policies=tuple(claims.get("sp", ())),
            session_policy_arns=tuple(claims.get("sa", ())),
            tags=tuple((k, v) for k, v in claims.get("tg", ())),
            source_identity=claims.get("si", ""),
            expires=claims["e"],
        )
        return claims["k"], principal
