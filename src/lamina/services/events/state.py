"""EventBridge's buses, rules and targets: what they are, where they are kept, how they are found.

    kind "events_bus"     key <account>:<region>:<bus name>          description, tags, times, policy
    kind "events_rule"    key <account>:<region>:<bus name>:<rule>   the rule and its targets
    kind "events_outbox"  key <ms>-<seq>-<hex>                       a matched target not yet delivered

A rule document holds its targets (at most five), so PutTargets is one atomic write. The
`default` bus of an account and region exists without being created; it is written to the
store only once something about it (its tags, its policy) is set. Everything is loaded into
memory at start, and the matching path reads only memory: per bus, the enabled rules that
have a pattern and targets, with their patterns compiled once.
"""

from __future__ import annotations

import base64
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ...errors import ServiceError
from ...patterns import InvalidPattern, Pattern, compile_pattern
from ...store.base import Delete, Put, Store
from ..context import RequestContext

log = logging.getLogger("lamina.events")

DEFAULT_BUS = "default"
BUS_KIND, RULE_KIND, OUTBOX_KIND = "events_bus", "events_rule", "events_outbox"
_BUS_ARN = re.compile(r"^arn:aws[\w-]*:events:([a-z0-9-]+):(\d{12}):event-bus/([/.\-_A-Za-z0-9]+)$")
_RULE_ARN = re.compile(r"^arn:aws[\w-]*:events:([a-z0-9-]+):(\d{12}):rule/(?:([/.\-_A-Za-z0-9]+)/)?([.\-_A-Za-z0-9]+)$")

BusKey = tuple[str, str, str]  # (account, region, bus name)


def now_ms() -> int:
    return int(time.time() * 1000)


# --- errors, in AWS's words ---------------------------------------------------------------------


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message, 400)


def bus_not_found(name: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"Event bus {name} does not exist.", 400)


def rule_not_found(name: str, bus: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"Rule {name} does not exist on EventBus {bus}.", 400)


# --- ARNs ---------------------------------------------------------------------------------------


def bus_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:events:{region}:{account}:event-bus/{name}"


def rule_arn(region: str, account: str, bus: str, name: str) -> str:
    path = name if bus == DEFAULT_BUS else f"{bus}/{name}"
    return f"arn:aws:events:{region}:{account}:rule/{path}"


def parse_bus_arn(arn: str) -> BusKey | None:
    match = _BUS_ARN.match(arn or "")
    return (match.group(2), match.group(1), match.group(3)) if match else None


def parse_rule_arn(arn: str) -> tuple[BusKey, str] | None:
    """((account, region, bus), rule name) of a rule ARN, or None."""
    match = _RULE_ARN.match(arn or "")
    if match is None:
        return None
    return (match.group(2), match.group(1), match.group(3) or DEFAULT_BUS), match.group(4)


def bus_key(value: str | None, account: str, region: str) -> BusKey:
    """An EventBusName parameter (a name or a bus ARN) as (account, region, name)."""
    if not value:
        return account, region, DEFAULT_BUS
    if value.startswith("arn:"):
        parsed = parse_bus_arn(value)
        if parsed is None:
            raise validation(f"Parameter EventBusName is not valid. Reason: {value} is not a valid event bus ARN.")
        if parsed[1] != region:  # a bus lives in its region: another region's endpoint does not know it
            raise bus_not_found(parsed[2])
        return parsed
    return account, region, value


# --- what is kept -------------------------------------------------------------------------------


@dataclass
class Rule:
    account: str
    region: str
    bus: str
    name: str
    pattern_text: str | None
    schedule: str | None
    state: str
    description: str | None
    role_arn: str | None
    tags: dict[str, str]
    targets: dict[str, dict]  # target Id -> the Target as given to PutTargets, in order
    created_ms: int
    pattern: Pattern | None = field(default=None, repr=False)

    @property
    def arn(self) -> str:
        return rule_arn(self.region, self.account, self.bus, self.name)

    @property
    def key(self) -> str:
        return f"{self.account}:{self.region}:{self.bus}:{self.name}"

    @property
    def enabled(self) -> bool:
        return self.state != "DISABLED"

    def doc(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "region": self.region,
            "bus": self.bus,
            "name": self.name,
            "pattern": self.pattern_text,
            "schedule": self.schedule,
            "state": self.state,
            "description": self.description,
            "role": self.role_arn,
            "tags": self.tags,
            "targets": list(self.targets.values()),
            "created": self.created_ms,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Rule:
        rule = cls(
            doc["account"],
            doc["region"],
            doc["bus"],
            doc["name"],
            doc.get("pattern"),
            doc.get("schedule"),
            doc.get("state") or "ENABLED",
            doc.get("description"),
            doc.get("role"),
            doc.get("tags") or {},
            {t["Id"]: t for t in doc.get("targets") or []},
            doc.get("created", 0),
        )
        if rule.pattern_text:
            try:
                rule.pattern = compile_pattern(rule.pattern_text)
            except InvalidPattern as error:  # accepted once; a matcher that changed since matches nothing
                log.warning("event pattern of %s no longer compiles: %s", rule.arn, error)
        return rule


@dataclass
class Bus:
    account: str
    region: str
    name: str
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    dead_letter_arn: str | None = None
    created_ms: int = field(default_factory=now_ms)
    modified_ms: int = field(default_factory=now_ms)
    policy: str | None = None  # the resource-based policy (permissions.py), JSON text
    rules: dict[str, Rule] = field(default_factory=dict)
    _routes: list[Rule] | None = field(default=None, repr=False)

    @property
    def arn(self) -> str:
        return bus_arn(self.region, self.account, self.name)

    @property
    def key(self) -> str:
        return f"{self.account}:{self.region}:{self.name}"

    @property
    def routes(self) -> list[Rule]:
        """The rules an event can match: enabled, with a pattern and at least one target.
        Cached; `changed()` drops the cache whenever a rule of the bus changes."""
        if self._routes is None:
            self._routes = [
                rule
                for _, rule in sorted(self.rules.items())
                if rule.enabled and rule.pattern is not None and rule.targets
            ]
        return self._routes

    def changed(self) -> None:
        self._routes = None

    def doc(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "region": self.region,
            "name": self.name,
            "description": self.description,
            "tags": self.tags,
            "dead_letter": self.dead_letter_arn,
            "created": self.created_ms,
            "modified": self.modified_ms,
            "policy": self.policy,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Bus:
        return cls(
            doc["account"],
            doc["region"],
            doc["name"],
            doc.get("description"),
            doc.get("tags") or {},
            doc.get("dead_letter"),
            doc.get("created", 0),
            doc.get("modified", 0),
            doc.get("policy"),
        )


class EventsState:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.buses: dict[BusKey, Bus] = {}

    async def load(self) -> None:
        for _, doc in await self.store.scan(BUS_KIND):
            bus = Bus.from_doc(doc)
            self.buses[(bus.account, bus.region, bus.name)] = bus
        for _, doc in await self.store.scan(RULE_KIND):
            rule = Rule.from_doc(doc)
            bus = self.bus((rule.account, rule.region, rule.bus))
            if bus is None:  # the bus went away without its rules: keep the rule reachable
                bus = self.buses[(rule.account, rule.region, rule.bus)] = Bus(rule.account, rule.region, rule.bus)
            bus.rules[rule.name] = rule

    def reset(self) -> None:
        """Lamina's reset: no bus or rule (each account's default bus comes back as on a new
        server, when first asked for)."""
        self.buses.clear()

    # --- finding ----------------------------------------------------------------------------------

    def bus(self, key: BusKey) -> Bus | None:
        """A bus, the default bus of any account and region included (made on first sight)."""
        bus = self.buses.get(key)
        if bus is None and key[2] == DEFAULT_BUS:
            bus = self.buses[key] = Bus(*key)
        return bus

    def existing_bus(self, key: BusKey) -> Bus:
        bus = self.bus(key)
        if bus is None:
            raise bus_not_found(key[2])
        return bus

    def rule(self, key: BusKey, name: str) -> Rule:
        rule = self.existing_bus(key).rules.get(name)
        if rule is None:
            raise rule_not_found(name, key[2])
        return rule

    def buses_of(self, account: str, region: str) -> list[Bus]:
        self.bus((account, region, DEFAULT_BUS))
        return [bus for (a, r, _), bus in self.buses.items() if a == account and r == region]

    # --- persisting -------------------------------------------------------------------------------

    async def save_bus(self, bus: Bus) -> None:
        await self.store.write([Put(BUS_KIND, bus.key, bus.doc())])
        self.buses[(bus.account, bus.region, bus.name)] = bus

    async def delete_bus(self, bus: Bus) -> None:
        await self.store.write([Delete(BUS_KIND, bus.key)])
        self.buses.pop((bus.account, bus.region, bus.name), None)

    async def save_rule(self, bus: Bus, rule: Rule) -> None:
        await self.store.write([Put(RULE_KIND, rule.key, rule.doc())])
        bus.rules[rule.name] = rule
        bus.changed()

    async def delete_rule(self, bus: Bus, rule: Rule) -> None:
        await self.store.write([Delete(RULE_KIND, rule.key)])
        bus.rules.pop(rule.name, None)
        bus.changed()


# --- paging -------------------------------------------------------------------------------------


def decode_token(token: str) -> str:
    try:
        text = base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
    except ValueError:
        text = ""
    if not text:
        raise validation("The NextToken provided is invalid.")
    return text


def encode_token(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def page(
    names: list[str], token: str | None, limit: int | None, default_limit: int = 100
) -> tuple[list[str], str | None]:
    """One page of sorted names after the token (the last name of the previous page)."""
    start = 0
    if token:
        after = decode_token(token)
        start = next((i for i, name in enumerate(names) if name > after), len(names))
    size = limit or default_limit
    chosen = names[start : start + size]
    more = start + size < len(names)
    return chosen, encode_token(chosen[-1]) if more and chosen else None


T = TypeVar("T")


def listed(
    found: Mapping[tuple[str, str, str], T],
    params: dict,
    ctx: RequestContext,
    member: str,
    show: Callable[[T], dict],
    keep: Callable[[T], bool] = lambda _: True,
) -> dict:
    """A List* answer over things kept by (account, region, name): the caller's, named with
    NamePrefix, that `keep` keeps, a page of them (NextToken, Limit) shown under `member`."""
    prefix = params.get("NamePrefix") or ""
    chosen = {
        name: item
        for (account, region, name), item in found.items()
        if account == ctx.account_id and region == ctx.region and name.startswith(prefix) and keep(item)
    }
    names, token = page(sorted(chosen), params.get("NextToken"), params.get("Limit"))
    result: dict = {member: [show(chosen[name]) for name in names]}
    if token:
        result["NextToken"] = token
    return result
