"""Event bus operations: CreateEventBus, DescribeEventBus, UpdateEventBus, DeleteEventBus,
ListEventBuses; and tags (TagResource, UntagResource, ListTagsForResource) on buses and rules.

Every account and region has a `default` bus that cannot be created or deleted. A custom bus
must have no rules left when it is deleted (AWS: "All rules associated with this event bus
need to be deleted"). Partner event buses (EventSourceName) are not offered.
"""

from __future__ import annotations

from ...errors import ServiceError
from ..context import RequestContext
from .rules import tags_of
from .state import (
    DEFAULT_BUS,
    Bus,
    EventsState,
    Rule,
    bus_key,
    bus_not_found,
    now_ms,
    page,
    parse_bus_arn,
    parse_rule_arn,
    rule_not_found,
    validation,
)


def _describe(bus: Bus) -> dict:
    shown: dict = {
        "Name": bus.name,
        "Arn": bus.arn,
        "CreationTime": bus.created_ms / 1000,
        "LastModifiedTime": bus.modified_ms / 1000,
    }
    if bus.description:
        shown["Description"] = bus.description
    if bus.dead_letter_arn:
        shown["DeadLetterConfig"] = {"Arn": bus.dead_letter_arn}
    if bus.policy:
        shown["Policy"] = bus.policy
    return shown


class BusesApi:
    state: EventsState

    async def create_event_bus(self, params: dict, ctx: RequestContext) -> dict:
        name = params["Name"]
        if params.get("EventSourceName") or name.startswith("aws.partner/"):
            raise validation("Partner event buses are not offered by Lamina.")
        if "/" in name:
            raise validation("Event bus name must not contain '/'.")
        key = (ctx.account_id, ctx.region, name)
        if name == DEFAULT_BUS or key in self.state.buses:
            raise ServiceError("ResourceAlreadyExistsException", f"Event bus {name} already exists.", 400)
        dead_letter = (params.get("DeadLetterConfig") or {}).get("Arn")
        bus = Bus(
            *key, description=params.get("Description"), tags=tags_of(params.get("Tags")), dead_letter_arn=dead_letter
        )
        await self.state.save_bus(bus)
        result = {"EventBusArn": bus.arn}
        if bus.description:
            result["Description"] = bus.description
        if dead_letter:
            result["DeadLetterConfig"] = {"Arn": dead_letter}
        return result

    async def describe_event_bus(self, params: dict, ctx: RequestContext) -> dict:
        return _describe(self.state.existing_bus(bus_key(params.get("Name"), ctx.account_id, ctx.region)))

    async def update_event_bus(self, params: dict, ctx: RequestContext) -> dict:
        bus = self.state.existing_bus(bus_key(params.get("Name"), ctx.account_id, ctx.region))
        if "Description" in params:
            bus.description = params["Description"] or None
        if "DeadLetterConfig" in params:
            bus.dead_letter_arn = (params["DeadLetterConfig"] or {}).get("Arn")
        bus.modified_ms = now_ms()
        await self.state.save_bus(bus)
        result = {"Arn": bus.arn, "Name": bus.name}
        if bus.description:
            result["Description"] = bus.description
        return result

    async def delete_event_bus(self, params: dict, ctx: RequestContext) -> dict:
        name = params["Name"]
        if name == DEFAULT_BUS:
            raise validation("Cannot delete event bus default.")
        bus = self.state.buses.get((ctx.account_id, ctx.region, name))
        if bus is None:
            return {}  # as on AWS: deleting a bus that is gone succeeds
        if bus.rules:
            raise validation(f"Cannot delete event bus {name} while it has rules: delete them first.")
        await self.state.delete_bus(bus)
        return {}

    async def list_event_buses(self, params: dict, ctx: RequestContext) -> dict:
        prefix = params.get("NamePrefix") or ""
        buses = {
            bus.name: bus for bus in self.state.buses_of(ctx.account_id, ctx.region) if bus.name.startswith(prefix)
        }
        chosen, token = page(sorted(buses), params.get("NextToken"), params.get("Limit"))
        result: dict = {"EventBuses": [_describe(buses[name]) for name in chosen]}
        if token:
            result["NextToken"] = token
        return result

    # --- tags ------------------------------------------------------------------------------------

    def _tagged(self, arn: str) -> Bus | Rule:
        bus_ref = parse_bus_arn(arn)
        if bus_ref is not None:
            return self.state.existing_bus(bus_ref)
        rule_ref = parse_rule_arn(arn)
        if rule_ref is not None:
            key, name = rule_ref
            rule = self.state.existing_bus(key).rules.get(name)
            if rule is None:
                raise rule_not_found(name, key[2])
            return rule
        raise bus_not_found(arn)

    async def _save_tags(self, resource: Bus | Rule, tags: dict[str, str]) -> None:
        resource.tags = tags
        if isinstance(resource, Bus):
            await self.state.save_bus(resource)
        else:
            await self.state.save_rule(
                self.state.existing_bus((resource.account, resource.region, resource.bus)), resource
            )

    async def tag_resource(self, params: dict, ctx: RequestContext) -> dict:
        resource = self._tagged(params["ResourceARN"])
        await self._save_tags(resource, dict(resource.tags, **tags_of(params.get("Tags"))))
        return {}

    async def untag_resource(self, params: dict, ctx: RequestContext) -> dict:
        resource = self._tagged(params["ResourceARN"])
        gone = set(params.get("TagKeys") or [])
        await self._save_tags(resource, {k: v for k, v in resource.tags.items() if k not in gone})
        return {}

    async def list_tags_for_resource(self, params: dict, ctx: RequestContext) -> dict:
        resource = self._tagged(params["ResourceARN"])
        return {"Tags": [{"Key": k, "Value": v} for k, v in resource.tags.items()]}
