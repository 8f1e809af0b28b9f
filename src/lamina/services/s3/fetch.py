"""An object's bytes read whole for another service (Lambda's code and layers from S3Bucket/
S3Key/S3ObjectVersion): handed to it by the composition root as a callable, which first
decides, as S3 would, whether the caller may s3:GetObject it. Raises S3's own errors
(NoSuchBucket, NoSuchKey, NoSuchVersion, PermanentRedirect for another region's bucket),
which the caller words as it must."""

from __future__ import annotations

import asyncio

from ...errors import ServiceError
from .errors import no_such_bucket, no_such_key
from .state import S3State
from .storage import Files
from .versions import named


def owner(state: S3State, bucket: str) -> str | None:
    """The account owning a bucket, None for no such bucket."""
    found = state.bucket(bucket)
    return found.account if found is not None else None


async def read_whole(
    state: S3State, files: Files, bucket: str, key: str, version_id: str | None, region: str, limit: int
) -> bytes:
    """The object's bytes (at most `limit`: EntityTooLarge beyond)."""
    found = state.bucket(bucket)
    if found is None:
        raise no_such_bucket(bucket)
    if found.region != region:
        # Lambda's words for S3's PermanentRedirect.
        raise ServiceError(
            "PermanentRedirect",
            f"The bucket is in this region: {found.region}. Please use this region to retry the request",
            301,
        )
    version = named(found, key, version_id or None)
    if version.delete_marker:
        raise no_such_key(key)
    if version.size > limit:
        raise ServiceError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.", 400)
    handle = files.open(bucket, version.uid)
    try:
        return await asyncio.to_thread(handle.read)
    finally:
        handle.close()
