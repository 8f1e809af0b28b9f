"""Identifiers as AWS makes them: an API's id is 10 lowercase letters and digits (globally
unique on Lamina, as it names a host), a route's, integration's, authorizer's, model's or
response's 7, a deployment's 6."""

from __future__ import annotations

import random
import string

_ALPHABET = string.ascii_lowercase + string.digits
_random = random.Random(random.SystemRandom().getrandbits(64))

API_ID_LENGTH = 10
CHILD_ID_LENGTH = 7
DEPLOYMENT_ID_LENGTH = 6


def new_id(length: int, taken: object = ()) -> str:
    """A fresh id of `length` characters, not in `taken` (a container of ids)."""
    while True:
        candidate = "".join(_random.choice(_ALPHABET) for _ in range(length))
        if candidate not in taken:  # type: ignore[operator]
            return candidate
