"""CloudWatch metrics' API, over the engine's MetricsRecorder:

    metric_data.py  PutMetricData (values, values with counts, statistic sets)
    statistics.py   GetMetricStatistics, GetMetricData (statistics, percentiles, paging)
    listing.py      ListMetrics
    common.py       the errors, periods, statistics and dimension helpers they share

PutMetricData's datapoints are committed to the store before it answers (the recorder's
write()); the engine's own metrics go through the recorder's periodic flush.
Metrics are kept per minute (the standard resolution): periods are multiples of 60 seconds,
and the high-resolution periods (1, 5, 10, 20, 30) are answered at one minute. Alarms and
dashboards are not served yet.
"""

from __future__ import annotations

from ...observability.recorder import MetricsRecorder
from .listing import ListingApi
from .metric_data import MetricDataApi
from .statistics import StatisticsApi


class CloudWatchService(MetricDataApi, StatisticsApi, ListingApi):
    service_name = "cloudwatch"

    def __init__(self, recorder: MetricsRecorder) -> None:
        self.recorder = recorder

    async def start(self) -> None:
        """Nothing to load: the recorder (started by the composition root) holds the metrics."""

    async def stop(self) -> None:
        """The recorder, which the engine writes to as well, is closed by the composition root."""

    async def reset(self) -> None:
        """Metrics are the recorder's, which the composition root resets with the store."""
