"""Every log event entering a log group passes here once, to its group's metric and
subscription filters. Two ways in:

- functions' own log lines, which reach the store through the log sink: `observe` is the
  sink's observer (observability/logsink.py), called as lines are emitted; no I/O, never
  raises, and a group without filters costs two dictionary lookups. Metric values go to the
  recorder's memory (flushed to the store every few seconds, like the engine's own metrics),
  subscription deliveries to the batching window of subscriptions.Deliveries.
- PutLogEvents: `accept` gives the store operations that commit its subscription deliveries
  with the events, and the metric values as a batch the recorder commits before the answer.
- A log group as a delivery target (target.py) goes through `accept` too.

Live Tail's sessions (live_tail.py) see the same events, both ways in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from ...observability.recorder import MetricBatch, MetricsRecorder
from ...store.base import Put
from .live_tail import LiveTails
from .metric_filters import MetricFilter
from .subscriptions import Deliveries, SubscriptionFilter

log = logging.getLogger("lamina.logs")


@dataclass
class Accepted:
    """What a durable write of log events adds: outbox Puts (commit them with the events), then
    `committed()` once they are."""

    ops: list[Put] = field(default_factory=list)
    items: list[tuple[str, dict]] = field(default_factory=list)
    batch: MetricBatch | None = None


class Ingest:
    def __init__(self, metrics: MetricsRecorder | None, deliveries: Deliveries) -> None:
        self.metrics = metrics
        self.deliveries = deliveries
        self.metric_filters: dict[str, dict[str, MetricFilter]] = {}
        self.subscription_filters: dict[str, dict[str, SubscriptionFilter]] = {}
        self.live = LiveTails()

    def _put(self, namespace, name, dims, value, unit, timestamp_ms, scope) -> None:
        assert self.metrics is not None
        self.metrics.put(namespace, name, dims, value, unit, timestamp_ms / 1000, scope=scope)

    def observe(self, group: str, stream: str, events: list[tuple[int, str]]) -> None:
        """The log sink's observer: a function's lines, as they are emitted."""
        self.live.publish(group, stream, events)
        metric_filters = self.metric_filters.get(group)
        subscriptions = self.subscription_filters.get(group)
        if metric_filters is None and subscriptions is None:
            return
        try:
            if metric_filters and self.metrics is not None:
                for record in list(metric_filters.values()):
                    record.emit(events, self._put)
            if subscriptions:
                for subscription in list(subscriptions.values()):
                    self.deliveries.add(subscription, stream, events)
        except Exception:  # the log path never fails because of a filter
            log.exception("log filters of %s failed", group)

    def accept(self, group: str, stream: str, events: list[tuple[int, str]]) -> Accepted:
        """For a durable write of events (PutLogEvents): the deliveries and metric values."""
        accepted = Accepted()
        self.live.publish(group, stream, events)
        metric_filters = self.metric_filters.get(group)
        if metric_filters and self.metrics is not None:
            batch = accepted.batch = self.metrics.batch()

            def put(namespace, name, dims, value, unit, timestamp_ms, scope) -> None:
                batch.put(namespace, name, dims, value, unit, timestamp_ms / 1000, scope=scope)

            for record in list(metric_filters.values()):
                record.emit(events, put)
        for subscription in list(self.subscription_filters.get(group, {}).values()):
            accepted.items.extend(self.deliveries.items(subscription, stream, events))
        accepted.ops = self.deliveries.outbox.puts(accepted.items)
        return accepted

    async def committed(self, accepted: Accepted) -> None:
        """The events of `accepted` are in the store: deliver, and commit the metric values."""
        for key, item in accepted.items:
            self.deliveries.outbox.schedule(key, item)
        if accepted.batch is not None and self.metrics is not None:
            await self.metrics.write(accepted.batch)
