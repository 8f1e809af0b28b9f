"""Target tracking: each minute, every policy's rule evaluated on the recorded metric.

The rule is the one of the policy's two alarms (alarms.py): the capacity goes out when
ProvisionedConcurrencyUtilization's one-minute averages were above the target for the last
3 complete minutes, and in when they were below 90% of it for the last 15. The new capacity
is AWS's proportional one, ceil(current * utilization / target) for the latest minute,
kept within the target's Min/Max; out-cooldown and in-cooldown (0 s by default for Lambda,
as on AWS) are counted from the policy's last change, DisableScaleIn and the target's
SuspendedState honoured. While the alarm's condition holds, the policy acts again each
minute (AWS invokes a policy for every period its alarm stays in ALARM).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from ...engine.timers.expressions import Schedule
from ...engine.timers.scheduler import Scheduler
from ...observability.queries import query_buckets
from ...observability.recorder import MetricsRecorder
from .alarms import HIGH_PERIODS, LOW_PERIODS, LOW_SHARE
from .capacity import Scaler
from .state import AutoScalingState, TargetRef, ref_of

log = logging.getLogger("lamina.autoscaling")

JOB_ID = "application-autoscaling:target-tracking"
PERIOD_S = 60


@dataclass(frozen=True)
class Decision:
    desired: int
    direction: str  # "out" | "in"
    utilization: float


def decide(
    averages: list[float | None], current: int, target_value: float, low: int, high: int, scale_in: bool
) -> Decision | None:
    """What the policy does given the last minutes' averages (oldest first; None: no data
    in that minute), or None. Pure: the same alarm rule as AlarmHigh and AlarmLow."""
    recent = averages[-HIGH_PERIODS:]
    if len(recent) == HIGH_PERIODS and all(v is not None and v > target_value for v in recent):
        latest = recent[-1]
        assert latest is not None
        desired = min(high, max(low, _ceil(max(current, 1) * latest / target_value)))
        return Decision(desired, "out", latest) if desired > current else None
    window = averages[-LOW_PERIODS:]
    if scale_in and len(window) == LOW_PERIODS and all(v is not None and v < target_value * LOW_SHARE for v in window):
        latest = window[-1]
        assert latest is not None
        desired = min(high, max(low, _ceil(current * latest / target_value)))
        return Decision(desired, "in", latest) if desired < current else None
    return None


def _ceil(value: float) -> int:
    # Averages carry float noise (0.09999999999999991): 2.0000000001 must stay 2.
    return math.ceil(round(value, 9))


async def minute_averages(recorder: MetricsRecorder, ref: TargetRef, now: float, minutes: int) -> list[float | None]:
    """The last `minutes` complete minutes of the target's ProvisionedConcurrencyUtilization
    (Average), oldest first."""
    end = int(now // PERIOD_S) * PERIOD_S
    start = end - minutes * PERIOD_S
    buckets = await query_buckets(
        recorder,
        "AWS/Lambda",
        "ProvisionedConcurrencyUtilization",
        {"FunctionName": ref.function_name, "Resource": f"{ref.function_name}:{ref.qualifier}"},
        start,
        end,
        PERIOD_S,
        samples=False,
        scope=(ref.region, ref.account),
    )
    by_minute = {int(b.timestamp): b.average for b in buckets if b.count}
    return [by_minute.get(start + i * PERIOD_S) for i in range(minutes)]


class Tracking:
    def __init__(
        self, state: AutoScalingState, scaler: Scaler, recorder: MetricsRecorder | None, scheduler: Scheduler | None
    ) -> None:
        self.state = state
        self.scaler = scaler
        self.recorder = recorder
        self.scheduler = scheduler
        self.clock = time.time

    def start(self) -> None:
        if self.scheduler is not None and self.recorder is not None:
            every = Schedule(f"rate({PERIOD_S} seconds)", "rate", period=timedelta(seconds=PERIOD_S))
            self.scheduler.add(JOB_ID, every, self._tick)

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.remove(JOB_ID)

    async def _tick(self, moment: datetime) -> None:
        for key, policy in list(self.state.policies.items()):
            try:
                await self.evaluate(key, policy)
            except Exception:
                log.exception("target tracking of %s failed", key)

    async def evaluate(self, key: str, policy: dict) -> Decision | None:
        """One evaluation of one policy: the decision it acted on, if any."""
        if self.recorder is None or policy.get("PolicyType") != "TargetTrackingScaling":
            return None
        ref = ref_of(key.split("|", 1)[0])
        target = self.state.target(ref)
        if target is None:
            return None
        config = policy["TargetTrackingScalingPolicyConfiguration"]
        suspended = target.get("SuspendedState") or {}
        now = self.clock()
        averages = await minute_averages(self.recorder, ref, now, LOW_PERIODS)
        current = await self.scaler.current(ref)
        scale_in = not config.get("DisableScaleIn") and not suspended.get("DynamicScalingInSuspended")
        decision = decide(
            averages, current, config["TargetValue"], target["MinCapacity"], target["MaxCapacity"], scale_in
        )
        if decision is None:
            return None
        if decision.direction == "out" and suspended.get("DynamicScalingOutSuspended"):
            return None
        cooldown = config.get("ScaleOutCooldown" if decision.direction == "out" else "ScaleInCooldown") or 0
        last = policy.get("_last_change") or 0
        if now - last < cooldown:
            return None
        alarm = next((a["AlarmName"] for a in policy.get("Alarms") or () if "-AlarmHigh-" in a["AlarmName"]), "")
        if decision.direction == "in":
            alarm = next((a["AlarmName"] for a in policy.get("Alarms") or () if "-AlarmLow-" in a["AlarmName"]), "")
        cause = f"monitor alarm {alarm} in state ALARM triggered policy {policy['PolicyName']}"
        activity = await self.scaler.set(ref, decision.desired, cause)
        if activity is not None:
            await self.state.put_policy(ref, policy["PolicyName"], dict(policy, _last_change=now))
        return decision
