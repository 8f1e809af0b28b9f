"""What the engine reports about invocations, as CloudWatch's AWS/Lambda metrics.

Per invocation: Invocations, Errors, Duration, Throttles; every second: the peak
ConcurrentExecutions (for the account, per function, per version and alias),
UnreservedConcurrentExecutions, and for provisioned concurrency
ProvisionedConcurrentExecutions and ProvisionedConcurrencyUtilization (per function and
per version or alias that has a config). The async and destination counts (count()) go
per function and per version or alias too.
Dimensions as AWS publishes them: none (the account), FunctionName, FunctionName+Resource
for a qualified invoke, and ExecutedVersion too when an alias picked the version. Each
function's metrics go to its own account and region (the recorder's scope), tallies being
keyed by the function's ARN.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import lru_cache

from ..observability.recorder import MetricsRecorder
from .concurrency import Concurrency, scope_of
from .spec import FunctionSpec

log = logging.getLogger("lamina.telemetry")

NAMESPACE = "AWS/Lambda"


def qualifier_of(invoked_arn: str | None) -> str | None:
    """The version or alias a qualified function ARN names (None when unqualified)."""
    if invoked_arn and invoked_arn.count(":") == 7:
        return invoked_arn.rsplit(":", 1)[1]
    return None


@lru_cache(maxsize=4096)
def dimension_sets(name: str, invoked_arn: str | None, executed_version: str) -> tuple[dict[str, str], ...]:
    sets: list[dict[str, str]] = [{}, {"FunctionName": name}]
    qualifier = qualifier_of(invoked_arn)
    if qualifier:
        sets.append({"FunctionName": name, "Resource": f"{name}:{qualifier}"})
        if not qualifier.isdigit() and qualifier != "$LATEST":
            sets.append({"FunctionName": name, "Resource": f"{name}:{qualifier}", "ExecutedVersion": executed_version})
    return tuple(sets)


@lru_cache(maxsize=4096)
def _name_of(function_arn: str) -> str:
    return function_arn.rsplit(":", 1)[1]


@lru_cache(maxsize=4096)
def _count_dimensions(function_name: str, qualifier: str | None) -> tuple[dict[str, str], ...]:
    sets: tuple[dict[str, str], ...] = ({}, {"FunctionName": function_name})
    if qualifier:
        sets += ({"FunctionName": function_name, "Resource": f"{function_name}:{qualifier}"},)
    return sets


class LambdaTelemetry:
    def __init__(
        self,
        metrics: MetricsRecorder,
        concurrency: Concurrency,
        provisioned_usage: Callable[[], dict[tuple[str, str], tuple[int, int, tuple[str, ...]]]] = dict,
    ) -> None:
        self.metrics = metrics
        self.concurrency = concurrency
        self._ticker: asyncio.Task | None = None
        # Keyed by (function ARN, invoked ARN, version) -> [count, errors, durations]
        self._invocations: dict[tuple, list] = {}
        self._throttles: dict[tuple, int] = {}
        self._counts: dict[tuple[str, str, str | None], float] = {}  # (metric, function ARN, qualifier)
        self._values: dict[tuple[str, str, str | None, str], list[float]] = {}  # (..., unit) -> values
        # In flight and the peak since the last tick, per (function ARN, invoked ARN,
        # version), for the version and alias series of ConcurrentExecutions (the function's
        # own and the account's come from Concurrency).
        self._running: dict[tuple, int] = {}
        self._running_peak: dict[tuple, int] = {}
        # Provisioner.usage: (function ARN, version) -> (busy, allocated, the version and
        # aliases whose configs they serve).
        self.provisioned_usage = provisioned_usage

    # On the hot path these only add to tallies; flush() turns a second's worth into a few
    # recorder puts (every duration still counts, for the percentiles).

    def invoked(self, spec: FunctionSpec, invoked_arn: str | None, duration_ms: float, failed: bool) -> None:
        key = (spec.function_arn, invoked_arn, spec.version)
        tally = self._invocations.get(key)
        if tally is None:
            tally = self._invocations[key] = [0, 0, []]
        tally[0] += 1
        tally[1] += failed
        tally[2].append(duration_ms)

    def began(self, spec: FunctionSpec, invoked_arn: str | None) -> tuple:
        """An invocation of a version or alias (a qualified ARN) began; the key for ended()."""
        key = (spec.function_arn, invoked_arn, spec.version)
        running = self._running[key] = self._running.get(key, 0) + 1
        if running > self._running_peak.get(key, 0):
            self._running_peak[key] = running
        return key

    def ended(self, key: tuple) -> None:
        running = self._running[key] - 1
        if running:
            self._running[key] = running
        else:
            del self._running[key]

    def throttled(self, spec: FunctionSpec, invoked_arn: str | None) -> None:
        key = (spec.function_arn, invoked_arn, spec.version)
        self._throttles[key] = self._throttles.get(key, 0) + 1

    def count(
        self, name: str, function_arn: str, value: float = 1, unit: str = "Count", qualifier: str | None = None
    ) -> None:
        """Async-invocation, destination and provisioned-invocation metrics of a function
        (its unqualified ARN): for the account, per function, and per version or alias
        (`qualifier`) when one was invoked."""
        if unit == "Count":
            key = (name, function_arn, qualifier)
            self._counts[key] = self._counts.get(key, 0) + value
            return
        values = self._values.get((name, function_arn, qualifier, unit))
        if values is None:
            values = self._values[(name, function_arn, qualifier, unit)] = []
        values.append(value)

    def iterator_age(self, dimension_sets: list[dict[str, str]], age_ms: float, scope: tuple[str, str]) -> None:
        """An event source mapping's IteratorAge (stream sources): one value per series."""
        for dimensions in dimension_sets:
            self.metrics.put(NAMESPACE, "IteratorAge", dimensions, max(0.0, age_ms), "Milliseconds", scope=scope)

    def flush(self) -> None:
        put, put_values = self.metrics.put, self.metrics.put_values
        invocations, self._invocations = self._invocations, {}
        for (arn, invoked_arn, version), (count, errors, durations) in invocations.items():
            scope = scope_of(arn)
            for dimensions in dimension_sets(_name_of(arn), invoked_arn, version):
                put(NAMESPACE, "Invocations", dimensions, 1, "Count", count=count, scope=scope)
                if errors:
                    put(NAMESPACE, "Errors", dimensions, 1, "Count", count=errors, scope=scope)
                if count - errors:
                    put(NAMESPACE, "Errors", dimensions, 0, "Count", count=count - errors, scope=scope)
                put_values(NAMESPACE, "Duration", dimensions, durations, "Milliseconds", scope=scope)
        throttles, self._throttles = self._throttles, {}
        for (arn, invoked_arn, version), count in throttles.items():
            for dimensions in dimension_sets(_name_of(arn), invoked_arn, version):
                put(NAMESPACE, "Throttles", dimensions, 1, "Count", count=count, scope=scope_of(arn))
        values, self._values = self._values, {}
        for (metric, arn, qualifier, unit), observed in values.items():
            for dimensions in _count_dimensions(_name_of(arn), qualifier):
                put_values(NAMESPACE, metric, dimensions, observed, unit, scope=scope_of(arn))
        counts, self._counts = self._counts, {}
        for (metric, arn, qualifier), total in counts.items():
            for dimensions in _count_dimensions(_name_of(arn), qualifier):
                put(NAMESPACE, metric, dimensions, 1, "Count", count=total, scope=scope_of(arn))

    def _put_provisioned(self, dimensions: dict[str, str], busy: int, allocated: int, scope) -> None:
        self.metrics.put(NAMESPACE, "ProvisionedConcurrentExecutions", dimensions, busy, "Count", scope=scope)
        self.metrics.put(
            NAMESPACE,
            "ProvisionedConcurrencyUtilization",
            dimensions,
            busy / allocated if allocated else 0.0,
            "None",
            scope=scope,
        )

    def start(self) -> None:
        self._ticker = asyncio.ensure_future(self._tick_forever())

    def reset(self) -> None:
        """Lamina's reset: the tallies since the last flush and the peaks since the last tick
        are dropped, or the next tick would write a function the reset removed back into
        the metrics (invocations in flight still end, and count from then on)."""
        self._invocations.clear()
        self._throttles.clear()
        self._counts.clear()
        self._values.clear()
        self._running_peak = dict(self._running)
        self.concurrency.take_peaks()

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
        put = self.metrics.put
        peaks = self.concurrency.take_peaks()
        per_scope: dict = {}
        for arn, peak in peaks.items():
            scope = scope_of(arn)
            per_scope[scope] = per_scope.get(scope, 0) + peak
            put(NAMESPACE, "ConcurrentExecutions", {"FunctionName": _name_of(arn)}, peak, "Count", scope=scope)
        qualified, self._running_peak = self._running_peak, dict(self._running)
        for (arn, invoked_arn, version), peak in qualified.items():
            for dimensions in dimension_sets(_name_of(arn), invoked_arn, version)[2:]:
                put(NAMESPACE, "ConcurrentExecutions", dimensions, peak, "Count", scope=scope_of(arn))
        per_function: dict[str, list[int]] = {}
        for (arn, _version), (busy, allocated, qualifiers) in self.provisioned_usage().items():
            totals = per_function.setdefault(arn, [0, 0])
            totals[0] += busy
            totals[1] += allocated
            name = _name_of(arn)
            for qualifier in qualifiers:
                self._put_provisioned(
                    {"FunctionName": name, "Resource": f"{name}:{qualifier}"}, busy, allocated, scope_of(arn)
                )
        for arn, (busy, allocated) in per_function.items():
            self._put_provisioned({"FunctionName": _name_of(arn)}, busy, allocated, scope_of(arn))
        unreserved = self.concurrency.unreserved_in_flight_by_scope()
        for scope in set(per_scope) | {s for s, n in unreserved.items() if n}:
            put(NAMESPACE, "ConcurrentExecutions", {}, per_scope.get(scope, 0), "Count", scope=scope)
            put(NAMESPACE, "UnreservedConcurrentExecutions", {}, unreserved.get(scope, 0), "Count", scope=scope)
