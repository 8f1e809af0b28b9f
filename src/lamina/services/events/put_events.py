"""PutEvents: checking entries as AWS does, building events, matching them against the
bus's rules, and committing one outbox item per matched target before the answer.

An event as rules see it and targets receive it:

    {"version": "0", "id", "detail-type", "source", "account", "time" (UTC, seconds, Z),
     "region", "resources": [...], "detail": {...}}

The whole request costs one store write (every item of every entry, whatever its bus).
A bus ARN is also a destination (`deliver`): another rule's target, a Lambda function's
OnSuccess/OnFailure destination (its invocation record becomes the detail of a "Lambda
Function Invocation Result - Success|Failure" event from source "lambda"), or EventBridge
Scheduler's target (which passes `detail_type=` and `source=`).

As on AWS, an entry for a bus that does not exist is accepted and dropped (logged once).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import time
from datetime import datetime
from typing import Any

from ... import ids
from ...errors import ServiceError
from ..context import RequestContext
from .archives import Archives
from .delivery import Delivery, outbox_item, unsupported_target
from .state import Bus, BusKey, EventsState, Rule, bus_arn, bus_key, bus_not_found, now_ms, parse_bus_arn, validation
from .transform import payload

log = logging.getLogger("lamina.events")

MAX_REQUEST_BYTES = 256 * 1024
_TIME_BYTES = 14  # AWS counts a given Time as 14 bytes
LAMBDA_RESULT = "Lambda Function Invocation Result - "
MAX_HOPS = 5  # bus-to-bus forwards one event may take


def stamp(moment: datetime | float | None = None) -> str:
    """AWS's event time: ISO 8601 in UTC to the second, with a Z."""
    if moment is None:
        moment = time.time()
    if isinstance(moment, datetime):
        moment = moment.timestamp()
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


def entry_size(entry: dict) -> int:
    """An entry's size as AWS counts it against the 256 KB request limit."""
    size = _TIME_BYTES if entry.get("Time") is not None else 0
    for name in ("Source", "DetailType", "Detail"):
        size += len((entry.get(name) or "").encode("utf-8"))
    return size + sum(len(resource.encode("utf-8")) for resource in entry.get("Resources") or [])


def _invalid(name: str) -> dict:
    return {
        "ErrorCode": "InvalidArgument",
        "ErrorMessage": f"Parameter {name} is not valid. Reason: {name} is a required argument.",
    }


def check_entry(entry: dict) -> tuple[dict | None, dict | None]:
    """(the entry's detail, None) or (None, the per-entry error AWS answers)."""
    for name in ("Source", "DetailType", "Detail"):
        if not entry.get(name):
            return None, _invalid(name)
    try:
        detail = json.loads(entry["Detail"])
    except ValueError:
        detail = None
    if not isinstance(detail, dict):
        return None, {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
    if entry["Source"].startswith("aws."):
        return None, {"ErrorCode": "NotAuthorizedForSourceException", "ErrorMessage": "Not authorized for the source."}
    return detail, None


def build_event(
    account: str,
    region: str,
    source: str,
    detail_type: str,
    detail: Any,
    resources: list[str] | None = None,
    moment: datetime | float | str | None = None,
) -> dict:
    return {
        "version": "0",
        "id": ids.uuid4(),
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": moment if isinstance(moment, str) else stamp(moment),
        "region": region,
        "resources": list(resources or []),
        "detail": detail,
    }


class PutEventsApi:
    state: EventsState
    delivery: Delivery
    archives: Archives

    _sequence = itertools.count()
    _boot = os.urandom(4).hex()  # keeps outbox keys of two server lives apart, even in one ms
    _warned_buses: set[BusKey]  # buses PutEvents named that do not exist, logged once each

    async def put_events(self, params: dict, ctx: RequestContext) -> dict:
        entries = params.get("Entries") or []
        if sum(entry_size(entry) for entry in entries) > MAX_REQUEST_BYTES:
            raise validation("Total size of the entries in the request is over the limit.")
        results: list[dict] = []
        routed: list[tuple[Bus, dict]] = []
        for entry in entries:
            detail, error = check_entry(entry)
            if error is not None:
                results.append(error)
                continue
            key = bus_key(entry.get("EventBusName"), ctx.account_id, ctx.region)
            event = build_event(
                key[0], key[1], entry["Source"], entry["DetailType"], detail, entry.get("Resources"), entry.get("Time")
            )
            results.append({"EventId": event["id"]})
            bus = self.state.bus(key)
            if bus is None:
                self._warn_missing(key)
                continue
            routed.append((bus, event))
        await self.accept(routed)
        failed = sum(1 for result in results if "ErrorCode" in result)
        return {"FailedEntryCount": failed, "Entries": results}

    def _warn_missing(self, key: BusKey) -> None:
        if key not in self._warned_buses:
            self._warned_buses.add(key)
            log.warning(
                "PutEvents to event bus %s, which does not exist: accepted and dropped, as AWS does",
                bus_arn(key[1], key[0], key[2]),
            )

    async def accept(
        self,
        routed: list[tuple[Bus, dict]],
        only: Rule | None = None,
        hops: int = 0,
        *,
        rules: frozenset[str] | None = None,
        replayed: bool = False,
        extra: list | None = None,
    ) -> int:
        """Match events against their buses' rules (or send them to `only` that rule's
        targets); keep them in the bus's archives; commit and schedule the deliveries.
        Returns how many were scheduled. `hops` counts the buses the events came through (a
        loop guard). A replay passes `rules` (the ARNs of the only rules to match, or None
        for all), `replayed` (not archived again) and `extra` (its own progress, committed
        with the deliveries)."""
        created = now_ms()
        ingestion = stamp(created / 1000)
        items: list[tuple[str, dict]] = []
        archived: list = []
        archives = self.archives.by_bus if not replayed and only is None else None
        for bus, event in routed:
            event_text: str | None = None
            if archives and (bus.account, bus.region, bus.name) in archives:
                event_text = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
                archived += self.archives.puts(
                    (bus.account, bus.region, bus.name), event, event_text, self._outbox_key(created)
                )
            routes = bus.routes if only is None else [only]
            if rules is not None:
                routes = [rule for rule in routes if rule.arn in rules]
            if not routes:
                continue
            for rule in routes:
                try:
                    if only is None and not rule.pattern.matches(event):  # type: ignore[union-attr]
                        continue
                except Exception:  # noqa: BLE001 - one rule's matcher must not fail the request
                    log.exception("matching rule %s", rule.arn)
                    continue
                if event_text is None:
                    event_text = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
                for target in rule.targets.values():
                    body = payload(target, event, event_text, rule.arn, rule.name, ingestion)
                    items.append(
                        (
                            self._outbox_key(created),
                            outbox_item(target, body, event["id"], event_text, rule.arn, created, hops),
                        )
                    )
        if items or archived or extra:
            outbox = self.delivery.outbox
            await self.state.store.write(outbox.puts(items) + archived + (extra or []))
            if archived:
                self.archives.counted(archived)
            for key, item in items:
                outbox.schedule(key, item)
        return len(items)

    async def accept_scheduled(self, bus: Bus, event: dict, rule: Rule) -> int:
        return await self.accept([(bus, event)], only=rule)

    @staticmethod
    def scheduled_event(rule: Rule, moment: datetime) -> dict:
        return build_event(rule.account, rule.region, "aws.events", "Scheduled Event", {}, [rule.arn], moment)

    def _outbox_key(self, ms: int) -> str:
        # Time first, then a sequence: the store's key order is acceptance order, so a restart
        # resumes a FIFO lane in the order its events were accepted.
        return f"{ms:015d}-{self._boot}-{next(self._sequence):012d}"

    async def deliver(
        self,
        arn: str,
        body: bytes,
        attributes: dict[str, str],
        *,
        detail_type: str | None = None,
        source: str | None = None,
        resources: list[str] | None = None,
        hops: int = 0,
        **_options: Any,
    ) -> None:
        """An event bus as a target, a Lambda destination or a Scheduler target."""
        key = parse_bus_arn(arn)
        if key is None:  # an API destination, an archive ...
            raise unsupported_target(arn)
        if hops > MAX_HOPS:
            # Rules whose targets are buses can form a cycle, which would forward an event forever.
            raise ServiceError(
                "LoopDetected", f"The event crossed {hops} event buses: its rules and bus targets form a loop.", 400
            )
        bus = self.state.bus(key)
        if bus is None:
            raise bus_not_found(key[2])
        try:
            document = json.loads(body) if body else {}
        except ValueError:
            document = None
        if detail_type or source:
            if not isinstance(document, dict):
                raise ServiceError("MalformedDetail", "Detail is malformed.", 400)
            event = build_event(key[0], key[1], source or "lamina", detail_type or "Event", document, resources)
        elif isinstance(document, dict) and {"source", "detail-type", "detail"} <= document.keys():
            # A forwarded event keeps the account it came from (receiving rules match on it).
            event = build_event(
                str(document.get("account") or key[0]),
                key[1],
                document["source"],
                document["detail-type"],
                document["detail"],
                document.get("resources"),
                document.get("time"),
            )
        elif (
            isinstance(document, dict)
            and isinstance(document.get("requestContext"), dict)
            and "functionArn" in document["requestContext"]
        ):
            context = document["requestContext"]
            outcome = "Success" if context.get("condition") == "Success" else "Failure"
            event = build_event(
                key[0], key[1], "lambda", LAMBDA_RESULT + outcome, document, [bus.arn, context["functionArn"]]
            )
        else:
            raise validation(
                f"What was sent to {arn} is not an event: a target of type event bus receives the whole event."
            )
        await self.accept([(bus, event)], hops=hops)
