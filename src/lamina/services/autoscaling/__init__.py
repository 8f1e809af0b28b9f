"""Application Auto Scaling for Lambda's provisioned concurrency, one module per group:

    targets.py     Register/Describe/DeregisterScalableTarget(s)
    scheduled.py   Put/Describe/DeleteScheduledAction(s), and firing them on the Scheduler
    policies.py    Put/Describe/DeleteScalingPolicy (target tracking)
    tracking.py    evaluating target tracking policies each minute on the recorded metric
    alarms.py      a policy's AlarmHigh/AlarmLow, kept in CloudWatch through its API
    capacity.py    changing the provisioned concurrency through Lambda's API; activities
    activities.py  DescribeScalingActivities; Tag/Untag/ListTagsForResource
    checks.py      the namespace, dimension and resource Lamina scales
    state.py       the records, their store layout, ARNs
    paging.py      MaxResults and NextToken

The service imports no other service: it calls Lambda and CloudWatch by name through
`call` (the gateway's call_here, handed over by the composition root).
"""

from __future__ import annotations

from ...engine.timers.scheduler import Scheduler
from ...observability.recorder import MetricsRecorder
from ...store.base import Store
from .activities import ActivitiesApi, TagsApi
from .capacity import Call, Scaler
from .policies import PoliciesApi
from .scheduled import Firing, ScheduledApi
from .state import AutoScalingState
from .targets import TargetsApi
from .tracking import Tracking


class AutoScalingService(TargetsApi, ScheduledApi, PoliciesApi, ActivitiesApi, TagsApi):
    service_name = "application-autoscaling"

    def __init__(self, store: Store, scheduler: Scheduler | None, recorder: MetricsRecorder | None) -> None:
        self.state = AutoScalingState(store)
        self.scaler = Scaler(self.state)
        self.firing = Firing(self.state, self.scaler, scheduler)
        self.tracking = Tracking(self.state, self.scaler, recorder, scheduler)

    @property
    def call(self) -> Call | None:
        return self.scaler.call

    @call.setter
    def call(self, call: Call) -> None:
        """How it reaches Lambda and CloudWatch: set by the composition root."""
        self.scaler.call = call

    async def start(self) -> None:
        """Targets, policies and scheduled actions from the store; the actions armed again
        (one missed while down fires once), target tracking evaluated each minute."""
        await self.state.load()
        self.firing.start()
        self.tracking.start()

    async def stop(self) -> None:
        self.tracking.stop()
        self.firing.stop()
        await self.scaler.stop()

    async def reset(self) -> None:
        self.state.reset()
        self.scaler.reset()
