"""What a multipart object is made of, from its parts: the ETag (the MD5 of the parts' MD5s,
"-N"), its checksum (COMPOSITE: the algorithm over the parts' digests, "<base64>-N";
FULL_OBJECT: the parts' CRCs combined into the whole object's, awscrt), and the parts kept
on its version for GetObject/HeadObject's PartNumber and GetObjectAttributes' ObjectParts.

https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any

import awscrt.checksums

from . import checksums
from .errors import invalid_part_number

COMPOSITE = "COMPOSITE"
FULL_OBJECT = checksums.FULL_OBJECT
_WIDTH = {"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8}
_COMBINE: dict[str, Callable[[int, int, int], int]] = {
    "CRC32": awscrt.checksums.combine_crc32,
    "CRC32C": awscrt.checksums.combine_crc32c,
    "CRC64NVME": awscrt.checksums.combine_crc64nvme,
}


def default_type(algorithm: str) -> str:
    """The checksum type of an upload that names an algorithm and no type."""
    return FULL_OBJECT if algorithm == "CRC64NVME" else COMPOSITE


def allows(algorithm: str, checksum_type: str) -> bool:
    if checksum_type == FULL_OBJECT:
        return algorithm in _COMBINE
    return algorithm != "CRC64NVME"


def etag(part_etags: list[str]) -> str:
    digest = hashlib.md5(b"".join(bytes.fromhex(tag.strip('"')) for tag in part_etags))
    return f'"{digest.hexdigest()}-{len(part_etags)}"'


def composite(algorithm: str, values: list[str]) -> str:
    hasher = checksums.Hasher(algorithm)
    hasher.update(b"".join(base64.b64decode(value) for value in values))
    return f"{hasher.value()}-{len(values)}"


def combined(algorithm: str, parts: list[tuple[str, int]]) -> str:
    """The CRC of the whole object from its parts' (base64 CRC, size)."""
    combine = _COMBINE[algorithm]
    total: int | None = None
    for value, size in parts:
        crc = int.from_bytes(base64.b64decode(value), "big")
        total = crc if total is None else combine(total, crc, size)
    return base64.b64encode((total or 0).to_bytes(_WIDTH[algorithm], "big")).decode()


def part_span(parts: list[dict] | None, size: int, number: int) -> tuple[int, int, int]:
    """(first byte, length, parts count) of part `number` of an object; a single-part object
    is its own part 1. InvalidPartNumber past the last."""
    if not parts:
        if number != 1:
            raise invalid_part_number()
        return 0, size, 1
    if number < 1 or number > len(parts):
        raise invalid_part_number()
    first = sum(part["Size"] for part in parts[: number - 1])
    return first, parts[number - 1]["Size"], len(parts)


def object_parts(parts: list[dict] | None, params: dict) -> dict[str, Any] | None:
    """GetObjectAttributes' ObjectParts of a multipart object (None for any other)."""
    if not parts:
        return None
    marker = params.get("PartNumberMarker") or 0
    limit = params.get("MaxParts")
    limit = 1000 if limit is None else min(limit, 1000)
    after = [part for part in parts if part["PartNumber"] > marker]
    page = after[:limit]
    answer: dict[str, Any] = {
        "TotalPartsCount": len(parts),
        "PartNumberMarker": marker,
        "MaxParts": limit,
        "IsTruncated": len(after) > len(page),
        "Parts": page,
    }
    if page:
        answer["NextPartNumberMarker"] = page[-1]["PartNumber"]
    return answer
