"""What the engine reports about invocations, as CloudWatch's AWS/Lambda metrics.

Per invocation: Invocations, Errors, Duration, Throttles; every second: the peak
ConcurrentExecutions (per function and for the account), UnreservedConcurrentExecutions,
and for provisioned concurrency ProvisionedConcurrentExecutions and
ProvisionedConcurrencyUtilization.
Dimensions as AWS publishes them: none (the account), FunctionName, FunctionName+Resource
for a qualified invoke, and ExecutedVersion too when an alias picked the version.
"""
from __future__ import annotations

import asyncio
import logging
from functools import lru_cache

from .concurrency import Concurrency
from .metrics import MetricsRecorder
from .spec import FunctionSpec

log = logging.getLogger("lamina.telemetry")

NAMESPACE = "AWS/Lambda"


@lru_cache(maxsize=4096)
def dimension_sets(name: str, invoked_arn: str | None, executed_version: str) -> tuple[dict[str, str], ...]:
    sets: list[dict[str, str]] = [{}, {"FunctionName": name}]
    qualifier = None
    if invoked_arn and invoked_arn.count(":") == 7:
        qualifier = invoked_arn.rsplit(":", 1)[1]
    if qualifier:
        sets.append({"FunctionName": name, "Resource": f"{name}:{qualifier}"})
        if not qualifier.isdigit() and qualifier != "$LATEST":
            sets.append({"FunctionName": name, "Resource": f"{name}:{qualifier}", "ExecutedVersion": executed_version})
    return tuple(sets)


class LambdaTelemetry:
    def __init__(self, metrics: MetricsRecorder, concurrency: Concurrency) -> None:
        self.metrics = metrics
        self.concurrency = concurrency
        self._ticker: asyncio.Task | None = None
        self._names: dict[str, str] = {}  # function ARN -> name, for the concurrency series
        self._invocations: dict[tuple, list] = {}  # (name, invoked ARN, version) -> [count, errors, durations]
        self._throttles: dict[tuple, int] = {}
        self._counts: dict[tuple[str, str], float] = {}
        self._values: dict[tuple[str, str, str], list[float]] = {}  # (metric, function, unit) -> values
        # Set by the invoker: (function name, version) -> (busy, allocated) provisioned instances.
        self.provisioned_usage = lambda: {}

    # On the hot path these only add to tallies; flush() turns a second's worth into a few
    # recorder puts (every duration still counts, for the percentiles).

    def invoked(self, spec: FunctionSpec, invoked_arn: str | None, duration_ms: float, failed: bool) -> None:
        self._names[spec.function_arn] = spec.name
        key = (spec.name, invoked_arn, spec.version)
        tally = self._invocations.get(key)
        if tally is None:
            tally = self._invocations[key] = [0, 0, []]
        tally[0] += 1
        tally[1] += failed
        tally[2].append(duration_ms)

    def throttled(self, spec: FunctionSpec, invoked_arn: str | None) -> None:
        key = (spec.name, invoked_arn, spec.version)
        self._throttles[key] = self._throttles.get(key, 0) + 1

    def count(self, name: str, function_name: str, value: float = 1, unit: str = "Count") -> None:
        """Async-invocation and destination metrics, per function and for the account."""
        if unit == "Count":
            key = (name, function_name)
            self._counts[key] = self._counts.get(key, 0) + value
            return
        values = self._values.get((name, function_name, unit))
        if values is None:
            values = self._values[(name, function_name, unit)] = []
        values.append(value)

    def flush(self) -> None:
        put = self.metrics.put
        invocations, self._invocations = self._invocations, {}
        for (name, invoked_arn, version), (count, errors, durations) in invocations.items():
            for dimensions in dimension_sets(name, invoked_arn, version):
                put(NAMESPACE, "Invocations", dimensions, 1, "Count", count=count)
                if errors:
                    put(NAMESPACE, "Errors", dimensions, 1, "Count", count=errors)
                if count - errors:
                    put(NAMESPACE, "Errors", dimensions, 0, "Count", count=count - errors)
                self.metrics.put_values(NAMESPACE, "Duration", dimensions, durations, "Milliseconds")
        throttles, self._throttles = self._throttles, {}
        for (name, invoked_arn, version), count in throttles.items():
            for dimensions in dimension_sets(name, invoked_arn, version):
                put(NAMESPACE, "Throttles", dimensions, 1, "Count", count=count)
        values, self._values = self._values, {}
        for (metric, function_name, unit), observed in values.items():
            self.metrics.put_values(NAMESPACE, metric, {}, observed, unit)
            self.metrics.put_values(NAMESPACE, metric, {"FunctionName": function_name}, observed, unit)
        counts, self._counts = self._counts, {}
        for (metric, function_name), total in counts.items():
            put(NAMESPACE, metric, {}, 1, "Count", count=total)
            put(NAMESPACE, metric, {"FunctionName": function_name}, 1, "Count", count=total)

    def start(self) -> None:
        self._ticker = asyncio.ensure_future(self._tick_forever())

    async def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
        self.flush()

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            try:
                self.tick()
            except Exception:
                log.exception("concurrency sampling failed")

    def tick(self) -> None:
        self.flush()
        peaks = self.concurrency.take_peaks()
        for arn, peak in peaks.items():
            name = self._names.get(arn) or arn.rsplit(":", 1)[-1]
            self.metrics.put(NAMESPACE, "ConcurrentExecutions", {"FunctionName": name}, peak, "Count")
        for (name, version), (busy, allocated) in self.provisioned_usage().items():
            for dimensions in ({"FunctionName": name}, {"FunctionName": name, "Resource": f"{name}:{version}"}):
                self.metrics.put(NAMESPACE, "ProvisionedConcurrentExecutions", dimensions, busy, "Count")
                self.metrics.put(NAMESPACE, "ProvisionedConcurrencyUtilization", dimensions,
                                 busy / allocated if allocated else 0.0, "None")
        if peaks or self.concurrency.total_in_flight():
            self.metrics.put(NAMESPACE, "ConcurrentExecutions", {}, sum(peaks.values()), "Count")
            self.metrics.put(NAMESPACE, "UnreservedConcurrentExecutions", {},
                             self.concurrency.unreserved_in_flight, "Count")
