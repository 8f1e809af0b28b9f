"""Access key (and session token) -> the secret to check the signature with, and who it is.

Three kinds of keys, as on AWS:
  root keys       LAMINA_CREDENTIALS (and test/test): their account's root
  IAM users' keys AKIA...: asked of the IAM service (the composition root sets `user_keys`)
  temporary       ASIA...: the session token is opened (tokens.py); it must belong to the
                  key, and not have expired
A problem is a KeyProblem naming AWS's reason; the verifier words it per protocol.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .principals import Principal, root
from .tokens import InvalidToken, Sealer

UNKNOWN = "unknown"  # no such key (or an inactive one)
EXPIRED = "expired"  # temporary credentials past their expiry
INVALID_TOKEN = "invalid-token"  # a session token missing, tampered with, or not this key's

_SESSIONS_CACHED = 4096


class KeyProblem(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class KeyRing:
    def __init__(self, root_keys: dict[str, tuple[str, str]], sealer: Sealer) -> None:
        self.sealer = sealer
        self._roots = {key: (secret, root(account)) for key, (secret, account) in root_keys.items()}
        # The IAM service's lookup of its users' active keys (None until IAM is wired in).
        self.user_keys: Callable[[str], tuple[str, Principal] | None] | None = None
        self._sessions: dict[str, tuple[str, Principal]] = {}  # token -> (key id, principal)

    def resolve(self, access_key: str, session_token: str | None = None) -> tuple[str, Principal]:
        known = self._roots.get(access_key)
        if known is not None:
            return known
        if access_key.startswith("ASIA"):
            return self._temporary(access_key, session_token)
        if self.user_keys is not None:
            found = self.user_keys(access_key)
            if found is not None:
                return found
        raise KeyProblem(UNKNOWN)

    def use_user_keys(self, keys: dict[str, tuple[str, Principal]]) -> None:
        """In a front process: IAM users' active keys as the core shared them (whole)."""
        self.user_keys = keys.get

    def root_account(self, access_key: str) -> str | None:
        known = self._roots.get(access_key)
        return known[1].account if known else None

    def _temporary(self, access_key: str, session_token: str | None) -> tuple[str, Principal]:
        if not session_token:
            raise KeyProblem(UNKNOWN)  # AWS: an ASIA key without its token is an unknown key
        opened = self._sessions.get(session_token)
        if opened is None:
            try:
                opened = self.sealer.open(session_token)
            except (InvalidToken, ValueError, KeyError):
                raise KeyProblem(INVALID_TOKEN) from None
            if len(self._sessions) >= _SESSIONS_CACHED:
                self._sessions.clear()
            self._sessions[session_token] = opened
        key_id, principal = opened
        if key_id != access_key:
            raise KeyProblem(INVALID_TOKEN)
        if principal.expires is not None and principal.expires <= time.time():
            raise KeyProblem(EXPIRED)
        return self.sealer.secret_of(key_id), principal
