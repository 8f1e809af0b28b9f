"""A bucket's configurations (its policy, CORS, lifecycle, website): one document each, in
memory and in the store, tied to the bucket they were set on.

    kind "s3_bucket_config"   key "<bucket>/<name>"   {"created": the bucket's, "value": ...}

A configuration belongs to one bucket, not to a name: the bucket's creation time is kept
beside it, so that one left by a deleted bucket never applies to a new bucket of that name
(it is dropped at the next start, or when the new bucket sets its own)."""

from __future__ import annotations

from typing import Any

from ...store.base import Delete, Put, Store
from .state import Bucket, S3State

KIND_CONFIG = "s3_bucket_config"

POLICY, CORS, LIFECYCLE, WEBSITE = "policy", "cors", "lifecycle", "website"


class BucketConfigs:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._configs: dict[tuple[str, str], tuple[float, Any]] = {}  # (bucket, name) -> (created, value)

    async def load(self, state: S3State) -> None:
        stale = []
        for doc_id, doc in await self.store.scan(KIND_CONFIG):
            name, _, config = doc_id.rpartition("/")
            bucket = state.bucket(name)
            if bucket is None or bucket.created != doc.get("created"):
                stale.append(Delete(KIND_CONFIG, doc_id))
                continue
            self._configs[(name, config)] = (bucket.created, doc.get("value"))
        if stale:
            await self.store.write(stale)

    def reset(self) -> None:
        self._configs.clear()

    def get(self, bucket: Bucket, name: str) -> Any:
        """The bucket's configuration `name`, or None."""
        kept = self._configs.get((bucket.name, name))
        if kept is None or kept[0] != bucket.created:
            return None
        return kept[1]

    async def put(self, bucket: Bucket, name: str, value: Any) -> None:
        doc = {"created": bucket.created, "value": value}
        await self.store.write([Put(KIND_CONFIG, f"{bucket.name}/{name}", doc)])
        self._configs[(bucket.name, name)] = (bucket.created, value)

    async def delete(self, bucket: Bucket, name: str) -> None:
        await self.store.write([Delete(KIND_CONFIG, f"{bucket.name}/{name}")])
        self._configs.pop((bucket.name, name), None)

    def with_config(self, name: str) -> list[tuple[str, Any]]:
        """(bucket name, configuration) of every bucket that has `name` (stale ones included:
        the caller looks the bucket up and asks `get`)."""
        return [(bucket, kept[1]) for (bucket, config), kept in list(self._configs.items()) if config == name]
