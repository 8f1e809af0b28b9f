"""The S3 service's last word on each of its answers (the gateway's finisher, run where the
call runs): the CORS headers of an actual request whose Origin a rule allows (cors.py), and
x-amz-expiration on an object a lifecycle rule will expire (lifecycle.py) for GetObject,
HeadObject, PutObject, CopyObject and CompleteMultipartUpload."""

from __future__ import annotations

from collections.abc import Callable

from ..context import EXTRA_HEADERS, RequestContext
from .configs import BucketConfigs
from .lifecycle import expiration_header
from .state import Bucket, S3State

EXPIRING = frozenset({"GetObject", "HeadObject", "PutObject", "CopyObject", "CompleteMultipartUpload"})


class FinishingApi:
    state: S3State
    configs: BucketConfigs
    cors_headers: Callable[[Bucket, str, str], list[tuple[str, str]] | None]  # cors.py

    def finish(self, operation: str, params: dict, ctx: RequestContext, result: dict) -> dict:
        name = params.get("Bucket")
        if not name or type(result) is not dict:
            return result
        bucket = self.state.bucket(name)
        if bucket is None:
            return result
        if operation in EXPIRING and params.get("Key"):
            version = bucket.latest(params["Key"])
            shown = result.get("VersionId")
            if version is not None and (shown is None or shown == version.version_id):
                header = expiration_header(self.configs, bucket, version)
                if header is not None:
                    result["Expiration"] = header
        if ctx.origin:
            headers = self.cors_headers(bucket, operation, ctx.origin)
            if headers:
                result[EXTRA_HEADERS] = headers
        return result
