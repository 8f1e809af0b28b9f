"""CloudWatch Logs' API, one module per group of operations:

    groups.py          Create/Delete/DescribeLogGroups, Put/DeleteRetentionPolicy,
                       PutLogGroupDeletionProtection
    streams.py         Create/Delete/DescribeLogStreams
    events.py          PutLogEvents, GetLogEvents, FilterLogEvents
    tags.py            Tag/Untag/ListTagsForResource, Tag/Untag/ListTagsLogGroup
    policies.py        Put/Describe/DeleteResourcePolicy: account- and log-group-scoped
                       resource policies (kept in memory, loaded at start)
    metric_filters.py  Put/Describe/Delete/TestMetricFilter: log events to CloudWatch metrics
    subscriptions.py   Put/Describe/DeleteSubscriptionFilter, and delivering matching events
                       to Lambda and Kinesis (batched, through an outbox)
    ingest.py          where every event entering a log group meets the group's filters
    target.py          a log group as a delivery target (EventBridge's CloudWatch Logs target)
    insights/          Logs Insights: StartQuery, GetQueryResults, StopQuery, DescribeQueries,
                       GetLogRecord, and the query language (grammar, parser, evaluation)
    query_definitions.py  Put/Describe/DeleteQueryDefinition: saved queries
    live_tail.py       StartLiveTail: events streamed as they arrive (an event stream)
    filter_pattern.py  the filter-pattern language (pure: parse, then match messages)
    paging.py          opaque nextToken values
    resources.py       finding groups and streams from parameters; their errors

Records are laid out as observability/logsink.py defines them; function output reaches the
store through the LogSink, which read operations flush first so that it is visible (and whose
observer is this service's Ingest, so that filters see function output as it is emitted).
"""

from __future__ import annotations

from ...engine.delivery.destinations import Destinations
from ...observability.logsink import LogSink
from ...observability.recorder import MetricsRecorder
from ...store.base import Store
from .events import EventsApi
from .groups import GroupsApi
from .ingest import Ingest
from .insights.api import InsightsApi
from .insights.runner import Queries
from .live_tail import LiveTailApi
from .metric_filters import KIND as METRIC_FILTER_KIND
from .metric_filters import MetricFilter, MetricFiltersApi
from .policies import PoliciesApi, PolicyRecord
from .query_definitions import QueryDefinitionsApi
from .streams import StreamsApi
from .subscriptions import KIND as SUBSCRIPTION_KIND
from .subscriptions import Deliveries, FunctionExists, SubscriptionFilter, SubscriptionsApi
from .tags import TagsApi
from .target import LogTarget


class LogsService(
    PoliciesApi,
    GroupsApi,
    StreamsApi,
    EventsApi,
    TagsApi,
    MetricFiltersApi,
    SubscriptionsApi,
    InsightsApi,
    QueryDefinitionsApi,
    LiveTailApi,
    LogTarget,
):
    service_name = "logs"

    def __init__(
        self,
        store: Store,
        sink: LogSink,
        destinations: Destinations | None = None,
        metrics: MetricsRecorder | None = None,
        function_exists: FunctionExists | None = None,
    ) -> None:
        self.store = store
        self.sink = sink
        self.policies: dict[str, PolicyRecord] = {}
        self.destinations = destinations or Destinations()
        self.function_exists = function_exists
        self.ingest = Ingest(metrics, Deliveries(store, self.destinations))
        self.metric_filters = self.ingest.metric_filters
        self.subscription_filters = self.ingest.subscription_filters
        self.queries = Queries(store)
        self.live_tails = self.ingest.live
        self.query_definitions: dict[str, dict] = {}

    async def start(self) -> None:
        """Load the resource policies and the filters, resume subscription deliveries; log
        groups and events are read from the store as asked for."""
        await self.load_policies()
        await self.load_query_definitions()
        for key, doc in await self.store.scan(METRIC_FILTER_KIND):
            group = key.rsplit(":", 1)[0]
            self.metric_filters.setdefault(group, {})[doc["filterName"]] = MetricFilter.from_doc(group, doc)
        for key, doc in await self.store.scan(SUBSCRIPTION_KIND):
            group = key.rsplit(":", 1)[0]
            self.subscription_filters.setdefault(group, {})[doc["filterName"]] = SubscriptionFilter.from_doc(group, doc)
        await self.ingest.deliveries.start()

    async def stop(self) -> None:
        """Batched subscription deliveries are committed, their sending stopped (the outbox
        resumes it at the next start). The sink, which the engine writes to as well, is closed
        by the composition root."""
        await self.ingest.deliveries.stop()
        await self.queries.stop_all()
        self.live_tails.end_all()

    async def reset(self) -> None:
        """Log groups and events are all in the store, which the reset empties; the sink (the
        engine's too) is reset by the composition root. Policies and filters are forgotten."""
        self.policies.clear()
        self.queries.runs.clear()
        self.query_definitions.clear()
        self.metric_filters.clear()
        self.subscription_filters.clear()
        self.ingest.deliveries.reset()
