"""S3's additional checksums: which one a PUT asks for (an x-amz-checksum-* header, or
x-amz-sdk-checksum-algorithm with the value in a trailer), computing it as the body
arrives, and the refusals when it does not match. CRCs come from awscrt (native code),
SHAs from hashlib. An object stored without one gets CRC64NVME, as S3 computes for every
new object; every checksum of a single PUT is a FULL_OBJECT one.

https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable
from typing import Any

import awscrt.checksums

from .errors import bad_digest_checksum, bad_digest_md5, invalid_digest, invalid_request

ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")
DEFAULT = "CRC64NVME"
FULL_OBJECT = "FULL_OBJECT"
_UNSUPPORTED = (
    "Checksum algorithm provided is unsupported. Please try again with any of the valid types: "
    + "[CRC32, CRC32C, CRC64NVME, SHA1, SHA256]"
)
_SIZES = {"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8, "SHA1": 20, "SHA256": 32}
_CRCS: dict[str, Callable[[bytes, int], int]] = {
    "CRC32": awscrt.checksums.crc32,
    "CRC32C": awscrt.checksums.crc32c,
    "CRC64NVME": awscrt.checksums.crc64nvme,
}


def param(algorithm: str) -> str:
    """The member naming a checksum's value: ChecksumCRC32..."""
    return f"Checksum{algorithm}"


def header(algorithm: str) -> str:
    return f"x-amz-checksum-{algorithm.lower()}"


class Hasher:
    """One checksum computed piece by piece."""

    def __init__(self, algorithm: str) -> None:
        self.algorithm = algorithm
        self._crc = _CRCS.get(algorithm)
        self._value = 0
        self._hash = None if self._crc is not None else hashlib.new(algorithm.lower())

    def update(self, data: bytes) -> None:
        if self._crc is not None:
            self._value = self._crc(data, self._value)
        else:
            assert self._hash is not None
            self._hash.update(data)

    def value(self) -> str:
        """Base64 of the digest, as S3 writes it."""
        if self._hash is not None:
            return base64.b64encode(self._hash.digest()).decode()
        return base64.b64encode(self._value.to_bytes(_SIZES[self.algorithm], "big")).decode()


def _well_formed(algorithm: str, value: str) -> bool:
    try:
        return len(base64.b64decode(value, validate=True)) == _SIZES[algorithm]
    except (binascii.Error, ValueError):
        return False


def requested(params: dict[str, Any]) -> tuple[str | None, str | None]:
    """(the algorithm the request asks for, its value when a header gives it): (None, None)
    when it asks for none. The value of an algorithm named only by x-amz-sdk-checksum-algorithm
    comes in the body's trailer."""
    given = [(name, params[param(name)]) for name in ALGORITHMS if params.get(param(name))]
    if len(given) > 1:
        raise invalid_request("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
    sdk = params.get("ChecksumAlgorithm")
    if sdk is not None and sdk not in ALGORITHMS:
        raise invalid_request(_UNSUPPORTED)
    if given:
        algorithm, value = given[0]
        if not _well_formed(algorithm, value):
            raise invalid_request(f"Value for {header(algorithm)} header is invalid.")
        if sdk is not None and sdk != algorithm:
            raise invalid_request("Value for x-amz-sdk-checksum-algorithm header is invalid.")
        return algorithm, value
    return sdk, None


def check(algorithm: str, expected: str | None, computed: str) -> None:
    """A value the request gave (header or trailer) against the one computed."""
    if expected is None:
        return
    if not _well_formed(algorithm, expected):
        raise invalid_request(f"Value for {header(algorithm)} trailing header is invalid.")
    if expected != computed:
        raise bad_digest_checksum(algorithm)


def trailer_value(algorithm: str, trailers: dict[str, str]) -> str | None:
    return trailers.get(header(algorithm))


def check_md5_form(content_md5: str | None) -> bytes | None:
    """Content-MD5's 16 bytes, or InvalidDigest."""
    if content_md5 is None:
        return None
    try:
        raw = base64.b64decode(content_md5, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 16:
        raise invalid_digest(content_md5)
    return raw


def check_md5(content_md5: str | None, digest: bytes) -> None:
    expected = check_md5_form(content_md5)
    if expected is not None and expected != digest:
        raise bad_digest_md5(content_md5 or "", base64.b64encode(digest).decode())


def answer(checksum: dict | None) -> dict[str, str]:
    """The response members of a stored checksum ({algorithm, value, type})."""
    if not checksum:
        return {}
    return {param(checksum["algorithm"]): checksum["value"], "ChecksumType": checksum.get("type", FULL_OBJECT)}
