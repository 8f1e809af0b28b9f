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
    archives.py    Create/Describe/List/Update/DeleteArchive; keeping a bus's events
    replays.py     Start/Describe/List/CancelReplay: archived events back to the bus's rules
    connections.py Create/Describe/List/Update/Delete/DeauthorizeConnection
    api_destinations.py  Create/Describe/List/Update/DeleteApiDestination
    http_target.py calling API destinations (auth, parameters, the rate limit, OAuth tokens)

Settings read here: LAMINA_EVENTS_RETRY_BASE, the first retry delay of a failed target
delivery in seconds (default 1.0; later ones double, up to 300 s).
"""

from __future__ import annotations

import logging
from typing import Any

from ...engine.delivery.destinations import Destinations
from ...engine.timers.scheduler import Scheduler
from ...store.base import Store
from .api_destinations import ApiDestinationsApi
from .archives import Archives, ArchivesApi
from .buses import BusesApi
from .connections import ConnectionsApi
from .delivery import Delivery
from .http_target import HttpTargets
from .permissions import PermissionsApi
from .put_events import PutEventsApi
from .replays import ReplaysApi
from .rules import RulesApi
from .schedules import RuleSchedules
from .state import EventsState
from .targets import TargetsApi

log = logging.getLogger("lamina")


class EventsService(
    BusesApi,
    PermissionsApi,
    RulesApi,
    TargetsApi,
    PutEventsApi,
    ArchivesApi,
    ReplaysApi,
    ConnectionsApi,
    ApiDestinationsApi,
):
    service_name = "events"

    def __init__(
        self, store: Store, destinations: Destinations, scheduler: Scheduler, retry_base_s: float = 1.0
    ) -> None:
        self.state = EventsState(store)
        self.delivery = Delivery(store, destinations, base_delay_s=retry_base_s)
        self.schedules = RuleSchedules(scheduler, self.state, self.accept_scheduled, self.scheduled_event)
        self._warned_buses = set()
        self.archives = Archives(store)
        self.replays = {}
        self._replay_tasks = {}
        self.connections = {}
        self._authorizing = set()
        self.api_destinations = {}
        self.http = HttpTargets(self.api_destination_by_arn, self.connection_by_arn)
        # A bus ARN is a target of rules, a Lambda destination and a Scheduler target; an
        # API destination ARN (events too) is a rule's target called over HTTP.
        destinations.register("events", self._deliver)

    async def _deliver(self, arn: str, body: bytes, attributes: dict, **options: Any) -> None:
        if ":api-destination/" in arn:
            await self.http.send(arn, body, attributes, **options)
        else:
            await self.deliver(arn, body, attributes, **options)

    async def start(self) -> None:
        """Load buses, rules, archives, connections and API destinations, schedule the
        scheduled rules, resume undelivered events and unfinished replays."""
        await self.state.load()
        await self.archives.load()
        await self.load_connections()
        await self.load_api_destinations()
        self.schedules.start()
        resumed = await self.delivery.start()
        if resumed:
            log.info("resumed %d undelivered EventBridge target deliveries", resumed)
        await self.load_replays()

    async def stop(self) -> None:
        await self.stop_replays()
        for task in list(self._authorizing):
            task.cancel()
        await self.archives.stop()
        await self.delivery.stop()
        self.http.close()

    async def reset(self) -> None:
        """Disarm the scheduled rules, then forget every bus and rule."""
        for bus in self.state.buses.values():
            for rule in bus.rules.values():
                self.schedules.remove(rule)
        self.state.reset()
        self._warned_buses.clear()
        await self.stop_replays()
        for task in list(self._authorizing):
            task.cancel()
        self.archives.reset()
        self.replays.clear()
        self.connections.clear()
        self.api_destinations.clear()
        self.http.reset()
