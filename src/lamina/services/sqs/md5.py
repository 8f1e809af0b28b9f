"""The MD5 digests SQS returns and boto3 checks: of the body, and of the message attributes
in AWS's binary encoding (names sorted; each name, data type, transport byte and value
length-prefixed with 4 big-endian bytes; transport 1 for String/Number, 2 for Binary)."""

from __future__ import annotations

import base64
import hashlib
import struct


def md5_of_body(body: str) -> str:
    return hashlib.md5(body.encode("utf-8")).hexdigest()


def _field(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def md5_of_attributes(attributes: dict[str, dict]) -> str | None:
    """`attributes` as stored: {name: {DataType, StringValue | BinaryValue (base64 text)}}."""
    if not attributes:
        return None
    digest = hashlib.md5()
    for name in sorted(attributes):
        value = attributes[name]
        data_type = value["DataType"]
        digest.update(_field(name.encode("utf-8")))
        digest.update(_field(data_type.encode("utf-8")))
        if "BinaryValue" in value:
            digest.update(b"\x02")
            digest.update(_field(base64.b64decode(value["BinaryValue"])))
        else:
            digest.update(b"\x01")
            digest.update(_field(value.get("StringValue", "").encode("utf-8")))
    return digest.hexdigest()


def attributes_size(attributes: dict[str, dict]) -> int:
    """Bytes the attributes count against the message size limit, as AWS counts them."""
    size = 0
    for name, value in attributes.items():
        size += len(name.encode()) + len(value["DataType"].encode())
        if "BinaryValue" in value:
            size += len(base64.b64decode(value["BinaryValue"]))
        else:
            size += len(value.get("StringValue", "").encode())
    return size
