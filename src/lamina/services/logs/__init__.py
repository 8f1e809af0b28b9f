"""CloudWatch Logs' API, one module per group of operations:

    groups.py          Create/Delete/DescribeLogGroups, Put/DeleteRetentionPolicy,
                       PutLogGroupDeletionProtection
    streams.py         Create/Delete/DescribeLogStreams
    events.py          PutLogEvents, GetLogEvents, FilterLogEvents
    tags.py            Tag/Untag/ListTagsForResource, Tag/Untag/ListTagsLogGroup
    policies.py        Put/Describe/DeleteResourcePolicy: account- and log-group-scoped
                       resource policies (kept in memory, loaded at start)
    filter_pattern.py  the filter-pattern language (pure: parse, then match messages)
    paging.py          opaque nextToken values
    resources.py       finding groups and streams from parameters; their errors

Records are laid out as engine/logsink.py defines them; function output reaches the store
through the LogSink, which read operations flush first so that it is visible.
"""

from __future__ import annotations

from ...observability.logsink import LogSink
from ...store.base import Store
from .events import EventsApi
from .groups import GroupsApi
from .policies import PoliciesApi, PolicyRecord
from .streams import StreamsApi
from .tags import TagsApi


class LogsService(PoliciesApi, GroupsApi, StreamsApi, EventsApi, TagsApi):
    service_name = "logs"

    def __init__(self, store: Store, sink: LogSink) -> None:
        self.store = store
        self.sink = sink
        self.policies: dict[str, PolicyRecord] = {}

    async def start(self) -> None:
        """Load the resource policies; log groups and events are read from the store as asked for."""
        await self.load_policies()

    async def stop(self) -> None:
        """The sink, which the engine writes to as well, is closed by the composition root."""

    async def reset(self) -> None:
        """Log groups and events are all in the store, which the reset empties; the sink (the
        engine's too) is reset by the composition root. The resource policies are forgotten."""
        self.policies.clear()
