"""Rule operations: PutRule, DescribeRule, DeleteRule, ListRules, EnableRule, DisableRule,
ListRuleNamesByTarget, and TestEventPattern.

PutRule creates or replaces: arguments left out are cleared, as AWS documents; the targets
and tags of a rule being replaced are kept. A rule has an EventPattern, a
ScheduleExpression (default bus only), or both.
"""

from __future__ import annotations

import json

from ...errors import ServiceError
from ...patterns import InvalidPattern, Pattern, compile_pattern
from ..context import RequestContext
from .schedules import RuleSchedules
from .state import DEFAULT_BUS, EventsState, Rule, bus_key, now_ms, page, validation

_EVENT_FIELDS = ("id", "account", "source", "time", "region", "detail-type")


def invalid_pattern(error: Exception) -> ServiceError:
    """AWS's words, with where the parser stood (` at [Source: (String)"..."; line: 1, column: N]`)."""
    where = getattr(error, "location", "")
    return ServiceError("InvalidEventPatternException", f"Event pattern is not valid. Reason: {error}{where}", 400)


def compile_or_refuse(text: str) -> Pattern:
    try:
        return compile_pattern(text)
    except InvalidPattern as error:
        raise invalid_pattern(error) from None


def tags_of(given: list[dict] | None) -> dict[str, str]:
    tags: dict[str, str] = {}
    for tag in given or []:
        if tag["Key"] in tags:
            raise validation("Invalid parameter: Duplicated keys are not allowed.")
        tags[tag["Key"]] = tag.get("Value", "")
    return tags


def describe(rule: Rule) -> dict:
    """A rule as DescribeRule and ListRules show it (members without a value left out)."""
    shown = {
        "Name": rule.name,
        "Arn": rule.arn,
        "EventPattern": rule.pattern_text,
        "ScheduleExpression": rule.schedule,
        "State": rule.state,
        "Description": rule.description,
        "RoleArn": rule.role_arn,
        "EventBusName": rule.bus,
    }
    return {key: value for key, value in shown.items() if value is not None}


class RulesApi:
    state: EventsState
    schedules: RuleSchedules

    async def put_rule(self, params: dict, ctx: RequestContext) -> dict:
        key = bus_key(params.get("EventBusName"), ctx.account_id, ctx.region)
        bus = self.state.existing_bus(key)
        pattern_text, schedule = params.get("EventPattern") or None, params.get("ScheduleExpression") or None
        if pattern_text is None and schedule is None:
            raise validation("Parameter(s) EventPattern or ScheduleExpression must be specified.")
        if schedule is not None and bus.name != DEFAULT_BUS:
            raise validation("ScheduleExpression is supported only on the default event bus.")
        pattern = compile_or_refuse(pattern_text) if pattern_text is not None else None
        if schedule is not None:
            self.schedules.check(schedule)
        existing = bus.rules.get(params["Name"])
        rule = Rule(
            key[0],
            key[1],
            bus.name,
            params["Name"],
            pattern_text,
            schedule,
            params.get("State") or "ENABLED",
            params.get("Description"),
            params.get("RoleArn"),
            existing.tags if existing else tags_of(params.get("Tags")),
            existing.targets if existing else {},
            existing.created_ms if existing else now_ms(),
            pattern,
        )
        await self.state.save_rule(bus, rule)
        self.schedules.sync(rule)
        return {"RuleArn": rule.arn}

    async def describe_rule(self, params: dict, ctx: RequestContext) -> dict:
        rule = self.state.rule(bus_key(params.get("EventBusName"), ctx.account_id, ctx.region), params["Name"])
        return dict(describe(rule), CreatedBy=rule.account)

    async def delete_rule(self, params: dict, ctx: RequestContext) -> dict:
        bus = self.state.existing_bus(bus_key(params.get("EventBusName"), ctx.account_id, ctx.region))
        rule = bus.rules.get(params["Name"])
        if rule is None:
            return {}  # AWS: deleting a rule that is gone succeeds
        if rule.targets and not params.get("Force"):
            raise validation("Rule can't be deleted since it has targets.")
        await self.state.delete_rule(bus, rule)
        self.schedules.remove(rule)
        return {}

    async def list_rules(self, params: dict, ctx: RequestContext) -> dict:
        bus = self.state.existing_bus(bus_key(params.get("EventBusName"), ctx.account_id, ctx.region))
        prefix = params.get("NamePrefix") or ""
        names = sorted(name for name in bus.rules if name.startswith(prefix))
        chosen, token = page(names, params.get("NextToken"), params.get("Limit"))
        result: dict = {"Rules": [describe(bus.rules[name]) for name in chosen]}
        if token:
            result["NextToken"] = token
        return result

    async def enable_rule(self, params: dict, ctx: RequestContext) -> dict:
        return await self._set_state(params, ctx, "ENABLED")

    async def disable_rule(self, params: dict, ctx: RequestContext) -> dict:
        return await self._set_state(params, ctx, "DISABLED")

    async def _set_state(self, params: dict, ctx: RequestContext, state: str) -> dict:
        key = bus_key(params.get("EventBusName"), ctx.account_id, ctx.region)
        rule = self.state.rule(key, params["Name"])
        if rule.state != state:
            rule.state = state
            await self.state.save_rule(self.state.existing_bus(key), rule)
            self.schedules.sync(rule)
        return {}

    async def list_rule_names_by_target(self, params: dict, ctx: RequestContext) -> dict:
        bus = self.state.existing_bus(bus_key(params.get("EventBusName"), ctx.account_id, ctx.region))
        arn = params["TargetArn"]
        names = sorted(
            name for name, rule in bus.rules.items() if any(target["Arn"] == arn for target in rule.targets.values())
        )
        chosen, token = page(names, params.get("NextToken"), params.get("Limit"))
        result: dict = {"RuleNames": chosen}
        if token:
            result["NextToken"] = token
        return result

    async def test_event_pattern(self, params: dict, ctx: RequestContext) -> dict:
        pattern = compile_or_refuse(params["EventPattern"])
        try:
            event = json.loads(params["Event"])
        except ValueError:
            event = None
        if not isinstance(event, dict) or not all(name in event for name in _EVENT_FIELDS):
            raise validation("Parameter Event is not valid.")
        return {"Result": pattern.matches(event)}
