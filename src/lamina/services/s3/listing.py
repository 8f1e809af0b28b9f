"""ListObjects (v1: Marker, NextMarker only with a Delimiter), ListObjectsV2 (ContinuationToken,
StartAfter, FetchOwner, KeyCount) and ListObjectVersions (KeyMarker and VersionIdMarker,
versions and delete markers newest first per key), all with Prefix, Delimiter and
CommonPrefixes (one entry each toward MaxKeys, at most 1000) and EncodingType=url.

Walked over the bucket's sorted keys: a common prefix is skipped past by bisection, so a
page costs about its own length."""

from __future__ import annotations

import base64
import binascii
import bisect
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote_plus

from ..context import RequestContext
from .acl import owner
from .errors import invalid_argument
from .state import Bucket, S3State, Version

MAX_KEYS = 1000


def _past(prefix: str) -> str:
    """The least string greater than every string that starts with `prefix`."""
    last = prefix[-1]
    if ord(last) >= 0x10FFFF:
        return prefix + "\U0010ffff"
    return prefix[:-1] + chr(ord(last) + 1)


def _live(bucket: Bucket, key: str) -> bool:
    latest = bucket.latest(key)
    return latest is not None and not latest.delete_marker


def walk(bucket: Bucket, prefix: str, delimiter: str, after: str | None, live_only: bool) -> Iterator[tuple[str, str]]:
    """("key", key) and ("prefix", common prefix) in order, past `after`."""
    keys = bucket.keys
    index = bisect.bisect_left(keys, prefix)
    if after is not None and after >= prefix:
        index = bisect.bisect_right(keys, after)
    while index < len(keys):
        key = keys[index]
        if not key.startswith(prefix):
            return
        if delimiter:
            at = key.find(delimiter, len(prefix))
            if at >= 0:
                common = key[: at + len(delimiter)]
                end = bisect.bisect_left(keys, _past(common), index)
                if (after is None or common > after) and (
                    not live_only or any(_live(bucket, keys[i]) for i in range(index, end))
                ):
                    yield "prefix", common
                index = end
                continue
        if not live_only or _live(bucket, key):
            yield "key", key
        index += 1


def _max_keys(params: dict) -> int:
    value = params.get("MaxKeys")
    if value is None:
        return MAX_KEYS
    if value < 0:
        raise invalid_argument("Argument maxKeys must be an integer between 0 and 2147483647", "maxKeys", str(value))
    return min(value, MAX_KEYS)


def _encoder(params: dict):
    if params.get("EncodingType") == "url":
        return lambda text: quote_plus(text, safe="/")  # spaces as "+", as S3 writes them
    return lambda text: text


def _checksum_fields(version: Version) -> dict[str, Any]:
    if not version.checksum:
        return {}
    return {"ChecksumAlgorithm": [version.checksum["algorithm"]], "ChecksumType": version.checksum["type"]}


def _content(version: Version, encode, with_owner: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "Key": encode(version.key),
        "LastModified": version.last_modified,
        "ETag": version.etag,
        **_checksum_fields(version),
        "Size": version.size,
        "StorageClass": version.storage_class,
    }
    if with_owner:
        entry["Owner"] = owner(version.owner)
    return entry


def _page(bucket: Bucket, params: dict, after: str | None, with_owner: bool) -> tuple[list, list, bool, str | None]:
    """(contents, common prefixes, truncated, the last entry) of ListObjects v1 and v2."""
    limit = _max_keys(params)
    encode = _encoder(params)
    contents: list[dict] = []
    prefixes: list[dict] = []
    last = None
    truncated = False
    if limit == 0:
        return contents, prefixes, False, None
    for kind, value in walk(bucket, params.get("Prefix") or "", params.get("Delimiter") or "", after, True):
        if len(contents) + len(prefixes) == limit:
            truncated = True
            break
        if kind == "prefix":
            prefixes.append({"Prefix": encode(value)})
        else:
            latest = bucket.latest(value)
            assert latest is not None
            contents.append(_content(latest, encode, with_owner))
        last = value
    return contents, prefixes, truncated, last


def _common(bucket: Bucket, params: dict, limit: int) -> dict[str, Any]:
    encode = _encoder(params)
    answer: dict[str, Any] = {"Name": bucket.name, "Prefix": encode(params.get("Prefix") or ""), "MaxKeys": limit}
    if params.get("Delimiter"):
        answer["Delimiter"] = encode(params["Delimiter"])
    if params.get("EncodingType"):
        answer["EncodingType"] = params["EncodingType"]
    return answer


def _token(key: str) -> str:
    return base64.urlsafe_b64encode(("1:" + key).encode()).decode()


def _from_token(token: str) -> str:
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    if not text.startswith("1:"):
        raise invalid_argument("The continuation token provided is incorrect", "continuation-token", token)
    return text[2:]


class ListingApi:
    state: S3State

    async def list_objects(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        marker = params.get("Marker") or None
        contents, prefixes, truncated, last = _page(bucket, params, marker, True)
        encode = _encoder(params)
        answer = _common(bucket, params, _max_keys(params))
        answer.update(Marker=encode(marker or ""), IsTruncated=truncated)
        if truncated and params.get("Delimiter") and last is not None:
            answer["NextMarker"] = encode(last)
        if contents:
            answer["Contents"] = contents
        if prefixes:
            answer["CommonPrefixes"] = prefixes
        return answer

    async def list_objects_v2(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        token = params.get("ContinuationToken")
        start_after = params.get("StartAfter") or None
        after = _from_token(token) if token else start_after
        contents, prefixes, truncated, last = _page(bucket, params, after, bool(params.get("FetchOwner")))
        encode = _encoder(params)
        answer = _common(bucket, params, _max_keys(params))
        answer.update(IsTruncated=truncated, KeyCount=len(contents) + len(prefixes))
        if token:
            answer["ContinuationToken"] = token
        if start_after:
            answer["StartAfter"] = encode(start_after)
        if truncated and last is not None:
            answer["NextContinuationToken"] = _token(last)
        if contents:
            answer["Contents"] = contents
        if prefixes:
            answer["CommonPrefixes"] = prefixes
        return answer

    async def list_object_versions(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        limit = _max_keys(params)
        encode = _encoder(params)
        key_marker = params.get("KeyMarker") or None
        version_marker = params.get("VersionIdMarker") or None
        if version_marker is not None and key_marker is None:
            raise invalid_argument(
                "A version-id marker cannot be specified without a key marker.", "version-id-marker", version_marker
            )
        versions: list[dict] = []
        markers: list[dict] = []
        prefixes: list[dict] = []
        count = 0
        truncated = False
        next_key = next_version = None

        def add(version: Version, latest: bool) -> None:
            entry: dict[str, Any] = {
                "Key": encode(version.key),
                "VersionId": version.version_id,
                "IsLatest": latest,
                "LastModified": version.last_modified,
                "Owner": owner(version.owner),
            }
            if version.delete_marker:
                markers.append(entry)
                return
            entry.update(
                ETag=version.etag, **_checksum_fields(version), Size=version.size, StorageClass=version.storage_class
            )
            versions.append(entry)

        def entries() -> Iterator[tuple[str, str, list[Version]]]:
            if key_marker is not None and version_marker is not None:
                held = bucket.objects.get(key_marker, [])
                ids = [v.version_id for v in held]
                if version_marker in ids and key_marker.startswith(params.get("Prefix") or ""):
                    rest = held[: ids.index(version_marker)]
                    if rest:
                        yield "key", key_marker, rest
            walked = walk(bucket, params.get("Prefix") or "", params.get("Delimiter") or "", key_marker, False)
            for kind, value in walked:
                yield kind, value, bucket.objects.get(value, []) if kind == "key" else []

        for kind, value, held in entries():
            if kind == "prefix":
                if count == limit:
                    truncated = True
                    break
                prefixes.append({"Prefix": encode(value)})
                count += 1
                next_key, next_version = value, None
                continue
            newest = bucket.latest(value)
            for version in reversed(held):
                if count == limit:
                    truncated = True
                    break
                add(version, version is newest)
                count += 1
                next_key, next_version = value, version.version_id
            if truncated:
                break
        answer = _common(bucket, params, limit)
        answer.update(KeyMarker=encode(key_marker or ""), VersionIdMarker=version_marker or "", IsTruncated=truncated)
        if truncated and next_key is not None:
            answer["NextKeyMarker"] = encode(next_key)
            if next_version is not None:
                answer["NextVersionIdMarker"] = next_version
        if versions:
            answer["Versions"] = versions
        if markers:
            answer["DeleteMarkers"] = markers
        if prefixes:
            answer["CommonPrefixes"] = prefixes
        return answer
