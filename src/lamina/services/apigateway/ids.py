"""Identifiers as AWS makes them: lowercase letters and digits; a REST API's, its root
resource's and an API key's 10 characters, other resources', deployments', authorizers',
models', validators' and usage plans' 6. REST API ids are unique on Lamina whatever the
account or region (an id names a host of execute-api)."""

from __future__ import annotations

import random
import string

_ALPHABET = string.ascii_lowercase + string.digits
_KEY_ALPHABET = string.ascii_letters + string.digits
_random = random.Random(random.SystemRandom().getrandbits(64))

LONG = 10
SHORT = 6


def new_id(length: int = SHORT, taken: object = ()) -> str:
    """A fresh id of `length` characters, not in `taken` (a container of ids)."""
    while True:
        candidate = "".join(_random.choice(_ALPHABET) for _ in range(length))
        if candidate not in taken:  # type: ignore[operator]
            return candidate


def new_key_value() -> str:
    """A generated API key value: 40 letters and digits."""
    return "".join(_random.choice(_KEY_ALPHABET) for _ in range(40))
