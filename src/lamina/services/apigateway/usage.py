"""What each API key used of each usage plan, day by day: the owner of the counters GetUsage
reads, UpdateUsage adjusts and the data plane (http/execute_api/) adds to.

    kind "apigw_usage"   key <account>:<region>:<planId>/<keyId>/<YYYY-MM-DD>   {"n": requests}

    await state.usage.record(account, region, plan_id, key_id)   # one request, today (UTC)
    state.usage.used_in_period(account, region, plan_id, key_id, quota)   # for a quota check

A record is written to the store before `record` returns (the store's group commit keeps
that cheap); the counters are rebuilt from the store at start.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ...store.base import Put, Store

USAGE_KIND = "apigw_usage"


def today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def period_start(quota: dict[str, Any], day: dt.date) -> dt.date:
    """The first day of the quota period holding `day` (DAY, WEEK from Monday, MONTH from the
    1st; `offset` days into the period)."""
    period = quota.get("period", "DAY")
    offset = int(quota.get("offset") or 0)
    if period == "WEEK":
        start = day - dt.timedelta(days=day.weekday())
    elif period == "MONTH":
        start = day.replace(day=1)
    else:
        return day
    start += dt.timedelta(days=offset)
    if start > day:  # the offset moves the period's start past today: the previous period
        if period == "WEEK":
            start -= dt.timedelta(days=7)
        else:
            previous = (day.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
            start = previous + dt.timedelta(days=offset)
    return start


class UsageBook:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.counts: dict[tuple[str, str, str, str], dict[str, int]] = {}  # (acct, region, plan, key) -> day -> n

    async def load(self) -> None:
        for key, doc in await self.store.scan(USAGE_KIND):
            account, region, rest = key.split(":", 2)
            plan_id, key_id, day = rest.split("/", 2)
            self.counts.setdefault((account, region, plan_id, key_id), {})[day] = int(doc.get("n", 0))

    def reset(self) -> None:
        self.counts.clear()

    def days(self, account: str, region: str, plan_id: str, key_id: str) -> dict[str, int]:
        return self.counts.get((account, region, plan_id, key_id), {})

    async def record(
        self, account: str, region: str, plan_id: str, key_id: str, n: int = 1, day: dt.date | None = None
    ) -> int:
        """Adds `n` requests to the day's count (today by default); the new count."""
        return await self.set(account, region, plan_id, key_id, day or today(), None, n)

    async def set(
        self, account: str, region: str, plan_id: str, key_id: str, day: dt.date, value: int | None, add: int = 0
    ) -> int:
        table = self.counts.setdefault((account, region, plan_id, key_id), {})
        name = day.isoformat()
        count = max(0, (table.get(name, 0) if value is None else value) + add)
        await self.store.write([Put(USAGE_KIND, f"{account}:{region}:{plan_id}/{key_id}/{name}", {"n": count})])
        table[name] = count
        return count

    def used_between(self, account: str, region: str, plan_id: str, key_id: str, first: dt.date, last: dt.date) -> int:
        days = self.days(account, region, plan_id, key_id)
        return sum(n for name, n in days.items() if first.isoformat() <= name <= last.isoformat())

    def used_in_period(
        self, account: str, region: str, plan_id: str, key_id: str, quota: dict[str, Any], day: dt.date | None = None
    ) -> int:
        day = day or today()
        return self.used_between(account, region, plan_id, key_id, period_start(quota, day), day)
