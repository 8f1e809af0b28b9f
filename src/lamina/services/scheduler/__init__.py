"""Amazon EventBridge Scheduler: schedules and schedule groups, served over rest-json.

    state.py      groups and schedules: store layout, finding, persisting, AWS's errors
    checks.py     what CreateSchedule / UpdateSchedule accept; the schedule as kept
    schedules.py  CreateSchedule, GetSchedule, UpdateSchedule, DeleteSchedule, ListSchedules
    groups.py     Create/Get/Delete/ListScheduleGroups, tags of groups
    firing.py     arming schedules in the engine's Scheduler; each occurrence a durable
                  delivery through the outbox (retries, dead-letter queue, context attributes)
    tokens.py     ClientToken idempotency
    paging.py     NextToken paging

Schedules fire through engine/scheduler.py (expressions in engine/schedule.py) and reach
their targets through engine/destinations.py: Lambda (async invoke), SQS, SNS, EventBridge.
"""

from __future__ import annotations

import logging

from ...engine.delivery.destinations import Destinations
from ...engine.timers.scheduler import Scheduler
from ...store.base import Store
from .firing import Firing
from .groups import GroupsApi
from .schedules import SchedulesApi
from .state import SchedulerState
from .tokens import RecentTokens

log = logging.getLogger("lamina")


class SchedulerService(SchedulesApi, GroupsApi):
    service_name = "scheduler"

    def __init__(self, store: Store, destinations: Destinations, scheduler: Scheduler) -> None:
        self.store = store
        self.destinations = destinations
        self.scheduler = scheduler
        self.state = SchedulerState(store)
        self.firing = Firing(self.state, store, destinations, scheduler)
        self.tokens = RecentTokens()

    async def start(self) -> None:
        """Load schedules and arm them; resume undelivered occurrences."""
        await self.state.load()
        resumed = await self.firing.start()
        if resumed:
            log.info("resumed %d undelivered schedule occurrences", resumed)

    async def stop(self) -> None:
        await self.firing.stop()

    async def reset(self) -> None:
        """Disarm every schedule, then forget them, their groups and the client tokens."""
        self.firing.reset()
        self.state.reset()
        self.tokens = RecentTokens()
