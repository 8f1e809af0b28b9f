"""Conditional requests: reads (GET, HEAD), copies (x-amz-copy-source-if-*) and writes
(PUT's If-Match / If-None-Match), with AWS's precedence.

https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-requests.html
Reads (RFC 7232): If-Match, else If-Unmodified-Since (412 when they fail); then If-None-Match,
else If-Modified-Since (304 when they fail): If-Match true and If-Unmodified-Since false is a
200, If-None-Match false and If-Modified-Since true a 304. Copies fail with 412 throughout.
Times are compared at the second, which is all Last-Modified says."""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import format_datetime

from .errors import no_such_key, not_modified, precondition_failed
from .state import Version


def _tags(header: str) -> list[str]:
    tags = []
    for part in header.split(","):
        part = part.strip()
        if part.startswith("W/"):
            part = part[2:]
        tags.append(part.strip('"'))
    return tags


def etag_matches(header: str, etag: str) -> bool:
    bare = etag.strip('"')
    return any(tag == "*" or tag == bare for tag in _tags(header))


def _seconds(moment: datetime | float) -> int:
    return int(moment.timestamp() if isinstance(moment, datetime) else moment)


def http_date(epoch: float) -> str:
    return format_datetime(datetime.fromtimestamp(int(epoch), timezone.utc), usegmt=True)


def check_read(version: Version, params: dict, prefix: str = "If", copy: bool = False) -> None:
    """GetObject/HeadObject's IfMatch... (prefix "If"), or CopyObject's CopySourceIfMatch...
    (prefix "CopySourceIf", copy=True: every failure a 412)."""
    if_match = params.get(f"{prefix}Match")
    if_unmodified = params.get(f"{prefix}UnmodifiedSince")
    if_none_match = params.get(f"{prefix}NoneMatch")
    if_modified = params.get(f"{prefix}ModifiedSince")
    name = "x-amz-copy-source-If-" if copy else "If-"
    modified = int(version.last_modified)
    if if_match is not None:
        if not etag_matches(if_match, version.etag):
            raise precondition_failed(f"{name}Match")
    elif if_unmodified is not None and modified > _seconds(if_unmodified):
        raise precondition_failed(f"{name}Unmodified-Since")
    if if_none_match is not None:
        if etag_matches(if_none_match, version.etag):
            if copy:
                raise precondition_failed(f"{name}None-Match")
            raise not_modified({"ETag": version.etag, "Last-Modified": http_date(version.last_modified)})
    elif if_modified is not None and modified <= _seconds(if_modified) and _seconds(if_modified) <= _now():
        if copy:
            raise precondition_failed(f"{name}Modified-Since")
        raise not_modified({"ETag": version.etag, "Last-Modified": http_date(version.last_modified)})


def _now() -> int:
    import time

    return int(time.time())


def check_write(current: Version | None, key: str, params: dict) -> None:
    """PutObject's (and CopyObject's destination) If-None-Match: * and If-Match: <etag>,
    against the key's current object (a delete marker is none)."""
    if current is not None and current.delete_marker:
        current = None
    if_none_match = params.get("IfNoneMatch")
    if if_none_match is not None and current is not None:
        raise precondition_failed("If-None-Match")
    if_match = params.get("IfMatch")
    if if_match is not None:
        if current is None:
            raise no_such_key(key)
        if not etag_matches(if_match, current.etag):
            raise precondition_failed("If-Match")
