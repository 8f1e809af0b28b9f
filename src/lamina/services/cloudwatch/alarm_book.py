"""The owner of alarms, their history and dashboards: memory is the truth, every change is
committed to the store (one write with its history item and action deliveries) before it
is acknowledged, and load() rebuilds memory at start.

Documents:
    cw_alarm       "<account>:<region>:<name>"                 an alarm (metric or composite), wire
                                                               member names, times as epoch seconds
    cw_history     "<account>:<region>:<ms>:<seq>"             an AlarmHistoryItem
    cw_dashboard   "<account>:<name>"                          {DashboardName, DashboardBody, LastModified}
    cw_action      outbox items (alarm actions, the EventBridge event), engine/delivery/outbox.py

History is kept 30 days (AWS's retention), pruned at load and as items are added; the
history of a deleted alarm stays, as on AWS.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable

from ...store.base import Delete, Put, Store

ALARM_KIND, HISTORY_KIND, DASHBOARD_KIND, ACTION_KIND = "cw_alarm", "cw_history", "cw_dashboard", "cw_action"
HISTORY_RETENTION_S = 30 * 24 * 3600

Scope = tuple[str, str]  # (account, region)


class AlarmBook:
    def __init__(self, store: Store | None) -> None:
        self.store = store
        self.alarms: dict[Scope, dict[str, dict]] = {}
        self.history: dict[Scope, list[tuple[str, dict]]] = {}  # (store key, item), oldest first
        self.dashboards: dict[str, dict[str, dict]] = {}  # account -> name -> document
        self._sequence = itertools.count()

    async def load(self) -> None:
        self.alarms.clear()
        self.history.clear()
        self.dashboards.clear()
        if self.store is None:
            return
        for key, doc in await self.store.scan(ALARM_KIND):
            account, region, _ = key.split(":", 2)
            self.alarms.setdefault((account, region), {})[doc["AlarmName"]] = doc
        cutoff = time.time() - HISTORY_RETENTION_S
        stale = []
        for key, doc in await self.store.scan(HISTORY_KIND):
            account, region, _ = key.split(":", 2)
            if doc["Timestamp"] < cutoff:
                stale.append(Delete(HISTORY_KIND, key))
                continue
            self.history.setdefault((account, region), []).append((key, doc))
        for items in self.history.values():
            items.sort(key=lambda pair: (pair[1]["Timestamp"], pair[0]))
        for key, doc in await self.store.scan(DASHBOARD_KIND):
            account, _ = key.split(":", 1)
            self.dashboards.setdefault(account, {})[doc["DashboardName"]] = doc
        if stale:
            await self.store.write(stale)

    def reset(self) -> None:
        self.alarms.clear()
        self.history.clear()
        self.dashboards.clear()

    # --- alarms -----------------------------------------------------------------------------

    def scope(self, scope: Scope) -> dict[str, dict]:
        return self.alarms.setdefault(scope, {})

    def get(self, scope: Scope, name: str) -> dict | None:
        return self.alarms.get(scope, {}).get(name)

    def by_arn(self, arn: str) -> dict | None:
        parts = arn.split(":", 6)
        if len(parts) != 7 or parts[2] != "cloudwatch" or parts[5] != "alarm":
            return None
        return self.get((parts[4], parts[3]), parts[6])

    def all_scopes(self) -> Iterable[tuple[Scope, dict[str, dict]]]:
        return list(self.alarms.items())

    @staticmethod
    def alarm_key(scope: Scope, name: str) -> str:
        return f"{scope[0]}:{scope[1]}:{name}"

    def put_op(self, scope: Scope, alarm: dict) -> Put:
        return Put(ALARM_KIND, self.alarm_key(scope, alarm["AlarmName"]), alarm)

    def delete_op(self, scope: Scope, name: str) -> Delete:
        return Delete(ALARM_KIND, self.alarm_key(scope, name))

    # --- history ----------------------------------------------------------------------------

    def history_item(
        self, scope: Scope, alarm: dict, kind: str, summary: str, data: str, now: float
    ) -> tuple[str, dict]:
        key = f"{scope[0]}:{scope[1]}:{int(now * 1000):015d}:{next(self._sequence):09d}"
        item = {
            "AlarmName": alarm["AlarmName"],
            "AlarmType": alarm["Type"],
            "Timestamp": now,
            "HistoryItemType": kind,
            "HistorySummary": summary,
            "HistoryData": data,
        }
        return key, item

    def remember(self, scope: Scope, items: list[tuple[str, dict]]) -> list[Delete]:
        """Add committed history items; the deletes of those past retention."""
        kept = self.history.setdefault(scope, [])
        kept.extend(items)
        cutoff = time.time() - HISTORY_RETENTION_S
        stale = 0
        while stale < len(kept) and kept[stale][1]["Timestamp"] < cutoff:
            stale += 1
        dropped = kept[:stale]
        del kept[:stale]
        return [Delete(HISTORY_KIND, key) for key, _ in dropped]

    @staticmethod
    def history_op(key: str, item: dict) -> Put:
        return Put(HISTORY_KIND, key, item)

    async def write(self, ops: list) -> None:
        if self.store is not None and ops:
            await self.store.write(ops)
