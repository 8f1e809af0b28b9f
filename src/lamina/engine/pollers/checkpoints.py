"""Where a stream event source mapping stands in each shard, durable in the store.

    kind "stream_checkpoint"  key "<mapping UUID>:<shard id>"
        after    the last sequence number processed (records up to and including it are
                 done; None: nothing yet, start at the trim horizon)
        done     the shard is closed and every record in it was processed
        windows  tumbling-window state per lane: {lane: {"start": ms, "state": {...}}}
    key "<mapping UUID>:" marks that the mapping's starting positions were fixed: a shard
    seen later without a checkpoint is a child of a split or merge and starts at its
    beginning, whatever the mapping's StartingPosition says (as on AWS).

A checkpoint is written after every batch that moves it, so kill -9 replays at most the
batches in flight (at least once), never skips one.
"""

from __future__ import annotations

from ...store.base import DeletePrefix, Put, Store

KIND = "stream_checkpoint"


class Checkpoints:
    def __init__(self, store: Store, mapping_id: str) -> None:
        self.store = store
        self.mapping_id = mapping_id

    async def load(self) -> tuple[bool, dict[str, dict]]:
        """(starting positions fixed?, {shard id: checkpoint})."""
        prefix = f"{self.mapping_id}:"
        rows = await self.store.scan(KIND, prefix=prefix)
        shards = {key[len(prefix) :]: doc for key, doc in rows if key != prefix}
        return any(key == prefix for key, _ in rows), shards

    async def fix_start(self, positions: dict[str, dict]) -> None:
        """The first positions of the shards there are when the mapping first runs, and the mark."""
        ops = [Put(KIND, f"{self.mapping_id}:{shard}", doc) for shard, doc in positions.items()]
        ops.append(Put(KIND, f"{self.mapping_id}:", {"fixed": True}))
        await self.store.write(ops)

    async def save(self, shard_id: str, checkpoint: dict) -> None:
        await self.store.write([Put(KIND, f"{self.mapping_id}:{shard_id}", checkpoint)])


def forget(mapping_id: str) -> DeletePrefix:
    """The store operation that drops a deleted mapping's checkpoints."""
    return DeletePrefix(KIND, f"{mapping_id}:")
