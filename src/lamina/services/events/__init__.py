"""Amazon EventBridge: event buses, rules, targets, served over the json protocol.

    state.py       buses, rules (with their targets): store layout, finding, persisting, ARNs
    buses.py       Create/Describe/Update/Delete/ListEventBuses; tags on buses and rules
    permissions.py Put/RemovePermission: a bus's resource-based policy (DescribeEventBus's Policy)
    rules.py       Put/Describe/Delete/List/Enable/DisableRule, ListRuleNamesByTarget,
                   TestEventPattern
    targets.py     PutTargets, RemoveTargets, ListTargetsByRule
    put_events.py  PutEvents: entry checks, the event, matching, one store write; a bus as
                   a target and a destination (deliver)
    transform.py   what a target receives: the event, Input, InputPath, InputTransformer
    delivery.py    the outbox's send and dead-letter sides: retries, DLQ attributes
    schedules.py   scheduled rules on the engine's scheduler

Settings read here: LAMINA_EVENTS_RETRY_BASE, the first retry delay of a failed target
delivery in seconds (default 1.0; later ones double, up to 300 s).
"""

from __future__ import annotations

import logging

from ...engine.delivery.destinations import Destinations
from ...engine.timers.scheduler import Scheduler
from ...store.base import Store
from .buses import BusesApi
from .delivery import Delivery
from .permissions import PermissionsApi
from .put_events import PutEventsApi
from .rules import RulesApi
from .schedules import RuleSchedules
from .state import EventsState
from .targets import TargetsApi

log = logging.getLogger("lamina")


class EventsService(BusesApi, PermissionsApi, RulesApi, TargetsApi, PutEventsApi):
    service_name = "events"

    def __init__(
        self, store: Store, destinations: Destinations, scheduler: Scheduler, retry_base_s: float = 1.0
    ) -> None:
        self.state = EventsState(store)
        self.delivery = Delivery(store, destinations, base_delay_s=retry_base_s)
        self.schedules = RuleSchedules(scheduler, self.state, self.accept_scheduled, self.scheduled_event)
        self._warned_buses = set()
        # A bus ARN is a target of rules, a Lambda destination and a Scheduler target.
        destinations.register("events", self.deliver)

    async def start(self) -> None:
        """Load buses and rules, schedule the scheduled rules, resume undelivered events."""
        await self.state.load()
        self.schedules.start()
        resumed = await self.delivery.start()
        if resumed:
            log.info("resumed %d undelivered EventBridge target deliveries", resumed)

    async def stop(self) -> None:
        await self.delivery.stop()

    async def reset(self) -> None:
        """Disarm the scheduled rules, then forget every bus and rule."""
        for bus in self.state.buses.values():
            for rule in bus.rules.values():
                self.schedules.remove(rule)
        self.state.reset()
        self._warned_buses.clear()
