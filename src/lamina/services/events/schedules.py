"""Scheduled rules: a rule with a ScheduleExpression fires on the engine's scheduler.

    rate(1 minute), rate(5 minutes), rate(2 hours), rate(1 day) ...   counted from the rule's
                                                                       creation time
    cron(0 12 * * ? *)  AWS's six fields: minutes hours day-of-month month day-of-week year

(at() is EventBridge Scheduler's, not a rule's.) Each occurrence sends this rule's targets
(only this rule's: no pattern is involved) the event

    {"source": "aws.events", "detail-type": "Scheduled Event", "resources": [rule ARN],
     "detail": {}, "time": the scheduled time, ...}

through the same outbox as PutEvents. A job runs while the rule is enabled; it is keyed by
the rule's ARN, re-added when the rule changes, and rebuilt from the store at startup.
Occurrences missed while the server was down are not replayed, as on AWS.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone

from ...engine.timers.expressions import InvalidSchedule, Schedule, parse
from ...engine.timers.scheduler import Scheduler
from .state import Bus, EventsState, Rule, validation

log = logging.getLogger("lamina.events")

# accept(bus, event, rule): commit and schedule the deliveries of one rule's targets.
Accept = Callable[[Bus, dict, Rule], Awaitable[int]]
MakeEvent = Callable[[Rule, datetime], dict]


def parse_rule_schedule(expression: str) -> Schedule:
    """A rule's ScheduleExpression, or AWS's ValidationException."""
    if not expression.startswith(("rate(", "cron(")):
        raise validation("Parameter ScheduleExpression is not valid.")
    try:
        return parse(expression)
    except InvalidSchedule:
        raise validation("Parameter ScheduleExpression is not valid.") from None


class RuleSchedules:
    def __init__(self, scheduler: Scheduler, state: EventsState, accept: Accept, make_event: MakeEvent) -> None:
        self.scheduler = scheduler
        self.state = state
        self.accept = accept
        self.make_event = make_event

    def check(self, expression: str) -> None:
        parse_rule_schedule(expression)

    def start(self) -> int:
        """Add a job for every enabled scheduled rule (their count)."""
        count = 0
        for bus in list(self.state.buses.values()):
            for rule in bus.rules.values():
                count += self.sync(rule)
        return count

    def sync(self, rule: Rule) -> bool:
        """Make the scheduler match the rule: a job while it is enabled and scheduled."""
        if not rule.schedule or not rule.enabled:
            self.scheduler.remove(rule.arn)
            return False
        try:
            schedule = parse_rule_schedule(rule.schedule)
        except Exception:  # noqa: BLE001 - accepted once; a parser that changed since must not stop startup
            log.warning("schedule %r of %s no longer parses; the rule will not fire", rule.schedule, rule.arn)
            self.scheduler.remove(rule.arn)
            return False
        anchor = datetime.fromtimestamp(rule.created_ms / 1000, timezone.utc)
        key, name = (rule.account, rule.region, rule.bus), rule.name
        self.scheduler.add(rule.arn, schedule.with_anchor(anchor), lambda moment: self._fire(key, name, moment))
        return True

    def remove(self, rule: Rule) -> None:
        self.scheduler.remove(rule.arn)

    async def _fire(self, key: tuple[str, str, str], name: str, moment: datetime) -> None:
        bus = self.state.buses.get(key)
        rule = bus.rules.get(name) if bus else None
        if bus is None or rule is None or not rule.enabled or not rule.targets:
            return
        await self.accept(bus, self.make_event(rule, moment), rule)
