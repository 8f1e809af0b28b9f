"""Amazon Kinesis Data Streams, durable in the store, served over the json protocol.

    sequence.py    positions (a per-stream nanosecond clock) and the 56-digit sequence numbers
    hashkeys.py    the 128-bit MD5 key space and its even division among shards
    shard.py       one shard in memory: range, lineage, its newest records (no I/O)
    stream.py      one stream in memory: settings, shards, routing, commit order (no I/O)
    state.py       the streams: store layout, loading, finding, reading, waiting, trimming
    streams.py     CreateStream, DeleteStream, DescribeStream(Summary), ListStreams, ListShards
    records.py     PutRecord, PutRecords, GetRecords
    iterators.py   GetShardIterator and the iterator tokens (5-minute expiry)
    resharding.py  SplitShard, MergeShards, UpdateShardCount
    settings.py    retention, stream mode, max record size, encryption, enhanced monitoring,
                   record distribution, warm throughput
    consumer.py    one enhanced fan-out consumer in memory: ARN, status (no I/O)
    consumers.py   Register/Describe/List/DeregisterStreamConsumer
    subscriptions.py  SubscribeToShard: pushing a shard's records to a consumer (an event stream)
    tags.py        stream and consumer tags, by name or by resource ARN
    policies.py    a stream's or consumer's resource-based policy (Put/Get/DeleteResourcePolicy)
    limits.py      the account's shard quota, DescribeLimits
    accounts.py    Describe/UpdateAccountSettings (the minimum throughput billing commitment)
    events.py      streams as Lambda event sources: StreamSource and AWS's event record
    errors.py      Kinesis's error codes and messages

Not served: the newer channel and queue operations (CreateChannel, CreateQueue and the
like: 501). There is no per-shard throughput throttling
(ProvisionedThroughputExceededException): a shard takes as much as the machine can write.
"""

from __future__ import annotations

from ...store.base import Store
from .accounts import AccountsApi
from .consumers import ConsumersApi
from .events import EventSourcesApi
from .iterators import IteratorsApi
from .limits import LimitsApi
from .policies import PoliciesApi
from .records import RecordsApi
from .resharding import ReshardingApi
from .settings import SettingsApi
from .state import DEFAULT_CONFIG, KinesisConfig, KinesisState
from .streams import StreamsApi
from .subscriptions import Subscriptions, SubscriptionsApi
from .tags import TagsApi


class KinesisService(
    StreamsApi,
    RecordsApi,
    IteratorsApi,
    ReshardingApi,
    SettingsApi,
    TagsApi,
    PoliciesApi,
    LimitsApi,
    ConsumersApi,
    SubscriptionsApi,
    AccountsApi,
    EventSourcesApi,
):
    service_name = "kinesis"

    def __init__(self, store: Store, config: KinesisConfig = DEFAULT_CONFIG) -> None:
        self.store = store
        self.state = KinesisState(store, config)
        self.subscriptions = Subscriptions()

    async def start(self) -> None:
        await self.state.load()
        self.state.start()

    async def stop(self) -> None:
        await self.state.stop()

    async def reset(self) -> None:
        self.state.reset()  # open subscriptions find their stream gone and end
        self.subscriptions.active.clear()
