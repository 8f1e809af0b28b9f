"""CloudWatch-style metrics: recorded in memory per minute, kept in the store.

The engine and the services call put() on the hot path (non-blocking, no I/O); a
background task flushes finished minutes to the store. Queries (GetMetricData,
GetMetricStatistics, ListMetrics, Prometheus) read the store and the minute in progress.

Interface (the implementation may grow, these signatures stay):

    recorder.put(namespace, name, dimensions, value, unit="None", timestamp=None)
    recorder.start() / await recorder.close()
    await recorder.query(namespace, name, dimensions, start, end, period) -> list[Bucket]
    await recorder.list_metrics(namespace=None, name=None, dimensions=None) -> list[MetricId]
    recorder.prometheus() -> str
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class MetricId:
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]  # sorted (name, value) pairs


@dataclass
class Bucket:
    timestamp: float  # start of the period, seconds since the epoch
    count: float = 0
    sum: float = 0.0
    minimum: float = float("inf")
    maximum: float = float("-inf")
    unit: str = "None"
    samples: list[float] = field(default_factory=list)  # for percentiles


class MetricsRecorder:
    """Placeholder until the real recorder lands: accepts and forgets."""

    def put(self, namespace: str, name: str, dimensions: dict[str, str], value: float, unit: str = "None",
            timestamp: float | None = None) -> None:
        pass

    def start(self) -> None:
        pass

    async def close(self) -> None:
        pass
