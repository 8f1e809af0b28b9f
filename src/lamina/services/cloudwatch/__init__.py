"""CloudWatch: metrics over the engine's MetricsRecorder, alarms and dashboards.

    metric_data.py       PutMetricData (values, values with counts, statistic sets)
    statistics.py        GetMetricStatistics, GetMetricData (statistics, percentiles, paging)
    listing.py           ListMetrics
    common.py            the errors, periods, statistics and dimension helpers they share
    alarms.py            the alarm operations (PutMetricAlarm, PutCompositeAlarm, Describe*, history,
                         SetAlarmState, actions on/off, DeleteAlarms, tags)
    alarm_book.py        the owner of alarms, their history and dashboards (memory + store)
    alarm_runner.py      evaluating alarms on schedule, state changes, their actions and events
    alarm_evaluation.py  the evaluation itself: a pure function over datapoints
    metric_math.py       the metric math alarms' Metrics use
    composite.py         composite alarms' AlarmRule language
    dashboards.py        PutDashboard, GetDashboard, ListDashboards, DeleteDashboards

PutMetricData's datapoints are committed to the store before it answers (the recorder's
write()); the engine's own metrics go through the recorder's periodic flush.
Metrics are kept per minute (the standard resolution): periods are multiples of 60 seconds,
and the high-resolution periods (1, 5, 10, 20, 30) are answered at one minute. Metric
streams are not served (501).
"""

from __future__ import annotations

from ...engine.delivery.destinations import Destinations
from ...engine.timers.scheduler import Scheduler
from ...observability.recorder import MetricsRecorder
from .alarm_book import AlarmBook
from .alarm_runner import AlarmRunner
from .alarms import AlarmsApi
from .dashboards import DashboardsApi
from .listing import ListingApi
from .metric_data import MetricDataApi
from .statistics import StatisticsApi


class CloudWatchService(MetricDataApi, StatisticsApi, ListingApi, AlarmsApi, DashboardsApi):
    service_name = "cloudwatch"

    def __init__(
        self,
        recorder: MetricsRecorder,
        destinations: Destinations | None = None,
        scheduler: Scheduler | None = None,
    ) -> None:
        self.recorder = recorder
        self.book = AlarmBook(recorder.store)
        self.runner = AlarmRunner(self.book, recorder, destinations, scheduler)

    async def start(self) -> None:
        """Load alarms and dashboards, resume undelivered actions, start evaluating (the
        recorder, started by the composition root, holds the metrics)."""
        await self.book.load()
        await self.runner.start()

    async def stop(self) -> None:
        """Stop evaluating; the recorder is closed by the composition root."""
        await self.runner.stop()

    async def reset(self) -> None:
        """Forget alarms and dashboards (the store is emptied by the composition root)."""
        self.book.reset()
