"""Identifiers: request ids, message ids, event keys.

Random version 4 UUIDs from `random`, seeded once from the OS, not from os.urandom per id:
these ids must be unique, not secret, and on some hosts (this project's VMs among them)
os.urandom costs ~40 us a call, which was a third of the CPU of accepting an async invoke.
"""

from __future__ import annotations

import random

_bits = random.SystemRandom().getrandbits(64)
_random = random.Random(_bits)
_getrandbits = _random.getrandbits

_VERSION_4 = (0x4 << 76) | (0x2 << 62)  # the version nibble and the RFC 4122 variant
_KEEP = ~((0xF << 76) | (0x3 << 62))


def hex32() -> str:
    """A version 4 UUID as 32 hex digits (uuid.uuid4().hex)."""
    return f"{(_getrandbits(128) & _KEEP) | _VERSION_4:032x}"


def uuid4() -> str:
    """A version 4 UUID in its canonical form (str(uuid.uuid4()))."""
    text = hex32()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
