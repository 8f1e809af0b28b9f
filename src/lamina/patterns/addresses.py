"""IP addresses: the `cidr` operator, and exact values that are IP addresses.

As in EventBridge's engine: a string is an IP address only if it looks like one (four
dot-separated decimal numbers, or hex digits and colons with at least one colon), so
"::ffff:10.0.0.1" or "fe80::1%eth0" are plain strings. An exact pattern value that is an
address matches every spelling of it ("2001:db8::1" matches "2001:DB8:0:0:0:0:0:1").

A CIDR block is a range from the address as written to that address with its host bits set:
"10.0.0.33/24" covers 10.0.0.33 to 10.0.0.255, not 10.0.0.0 (AWS does not mask the host bits).
Mask bits go up to 31 for IPv4 and 127 for IPv6 ("10.0.0.1/32" is refused).
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

_IPV4 = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")
_IPV6 = re.compile(r"[0-9a-fA-F:]*:[0-9a-fA-F:]*")
_INTEGER = re.compile(r"[+-]?[0-9]+")

Address = tuple  # (version, integer value)


def ip_value(text: str) -> Address | None:
    """(4 or 6, the address as an integer) if the string is an IP address, else None."""
    if _IPV4.fullmatch(text):
        return _parse(4, text)
    if _IPV6.fullmatch(text):
        return _parse(6, text)
    return None


@lru_cache(maxsize=4096)
def _parse(version: int, text: str) -> Address | None:
    try:
        address = ipaddress.IPv4Address(text) if version == 4 else ipaddress.IPv6Address(text)
    except ValueError:
        return None
    return version, int(address)


def cidr_range(text: str) -> tuple[int, int, int]:
    """(version, lowest, highest) of a CIDR block; ValueError carries AWS's reason."""
    parts = text.split("/")
    while parts and parts[-1] == "":  # Java's split drops trailing empty strings
        parts.pop()
    if len(parts) != 2:
        raise ValueError("Malformed CIDR, one '/' required")
    address, bits = parts
    if not _INTEGER.fullmatch(bits) or not -(2**31) <= int(bits) < 2**31:
        raise ValueError("Malformed CIDR, mask bits must be an integer")
    mask = int(bits)
    if mask < 0:
        raise ValueError("Malformed CIDR, mask bits must not be negative")
    if _IPV4.fullmatch(address):
        version, width = 4, 32
    elif _IPV6.fullmatch(address):
        version, width = 6, 128
    else:
        raise ValueError(f"Nonstandard IP address: {address}")
    parsed = _parse(version, address)
    if parsed is None:
        raise ValueError(f"Invalid IP address: {address}")
    if mask >= width:
        raise ValueError(f"IPv{version} mask bits must be < {width}")
    low = parsed[1]
    return version, low, low | ((1 << (width - mask)) - 1)
