"""Versioning: version ids, which versions a write replaces, what a delete leaves, and
finding the version a request names.

https://docs.aws.amazon.com/AmazonS3/latest/userguide/versioning-workflows.html
- never versioned: one version per key, id "null", replaced by each write, removed by a delete;
- Enabled: each write adds a version with a new id; a delete without a version id adds a
  delete marker (a new id), which becomes the latest;
- Suspended: a write or a delete (a delete marker) gets the id "null", replacing the key's
  "null" version if it has one; the others stay;
- a delete naming a version id removes that version (or marker) for good."""

from __future__ import annotations

import re
import secrets

from .conditions import http_date
from .errors import invalid_version_id, method_not_allowed, no_such_key, no_such_version
from .state import NULL, Bucket, Version

_VERSION_ID = re.compile(r"^[A-Za-z0-9._-]{32}$")


def new_version_id(bucket: Bucket) -> str:
    if bucket.versioning != "Enabled":
        return NULL
    return secrets.token_urlsafe(24)  # 32 characters, as AWS's are


def well_formed(version_id: str) -> bool:
    return version_id == NULL or bool(_VERSION_ID.match(version_id))


def check_version_id(version_id: str | None) -> None:
    if version_id is not None and not well_formed(version_id):
        raise invalid_version_id(version_id)


def replaced_by(bucket: Bucket, key: str, version_id: str) -> list[Version]:
    """What a new version `version_id` of `key` replaces: the "null" one, when it is "null"."""
    if version_id != NULL:
        return []
    return [version for version in bucket.objects.get(key, ()) if version.version_id == NULL]


def shown_version_id(bucket: Bucket, version: Version) -> str | None:
    """The x-amz-version-id of an answer: none in a bucket whose versioning was never set."""
    if version.version_id == NULL and not bucket.versioning:
        return None
    return version.version_id


def named(bucket: Bucket, key: str, version_id: str | None) -> Version:
    """The version a read names: the latest (NoSuchKey when there is none; a delete marker is
    the caller's to refuse) or the one of `version_id` (NoSuchVersion)."""
    if version_id is None:
        latest = bucket.latest(key)
        if latest is None:
            raise no_such_key(key)
        return latest
    check_version_id(version_id)
    version = bucket.version(key, version_id)
    if version is None:
        raise no_such_version(key, version_id)
    return version


def refuse_delete_marker(bucket: Bucket, marker: Version, params: dict, method: str) -> None:
    """A read of a delete marker: NoSuchKey when it is the latest (the request named no
    version), 405 MethodNotAllowed when the request named it."""
    headers = {"x-amz-delete-marker": "true"}
    shown = shown_version_id(bucket, marker)
    if shown is not None:
        headers["x-amz-version-id"] = shown
    if params.get("VersionId") is None:
        raise no_such_key(marker.key, headers)
    headers["Last-Modified"] = http_date(marker.last_modified)
    headers["Allow"] = "DELETE"
    raise method_not_allowed(method, headers)
