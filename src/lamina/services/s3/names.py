"""What S3 accepts as a bucket name (general purpose buckets' rules) and as a key.

https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html: 3 to 63
characters of lower-case letters, digits, dots and hyphens, beginning and ending with a
letter or digit, no two dots side by side, not shaped like an IP address, none of the
reserved prefixes and suffixes."""

from __future__ import annotations

import re

from .errors import invalid_bucket_name, key_too_long

_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP = re.compile(r"^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$")
RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
MAX_KEY_BYTES = 1024


def valid_bucket_name(name: str) -> bool:
    return (
        bool(_NAME.match(name))
        and ".." not in name
        and not _IP.match(name)
        and not name.startswith(RESERVED_PREFIXES)
        and not name.endswith(RESERVED_SUFFIXES)
    )


def check_bucket_name(name: str) -> None:
    if not valid_bucket_name(name):
        raise invalid_bucket_name(name)


def check_key(key: str) -> None:
    size = len(key.encode("utf-8"))
    if size > MAX_KEY_BYTES:
        raise key_too_long(size, MAX_KEY_BYTES)
