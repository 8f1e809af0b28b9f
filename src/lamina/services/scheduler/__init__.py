"""Amazon EventBridge Scheduler: schedules and schedule groups, served over rest-json."""
from __future__ import annotations

from ...engine.destinations import Destinations
from ...engine.scheduler import Scheduler
from ...store.base import Store


class SchedulerService:
    service_name = "scheduler"

    def __init__(self, store: Store, destinations: Destinations, scheduler: Scheduler) -> None:
        self.store = store
        self.destinations = destinations
        self.scheduler = scheduler

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass
