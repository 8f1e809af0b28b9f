"""Amazon Kinesis Data Streams, durable in the store, served over the json protocol."""
from __future__ import annotations

from ...store.base import Store


class KinesisService:
    service_name = "kinesis"

    def __init__(self, store: Store) -> None:
        self.store = store

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    def stream_source(self, arn: str):
        """What a stream event source mapping polls (engine/pollers/stream.py), or None."""
        return None
