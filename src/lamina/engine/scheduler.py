"""Firing jobs on schedules (EventBridge scheduled rules and EventBridge Scheduler)."""
from __future__ import annotations


class Scheduler:
    def start(self) -> None:
        pass

    async def close(self) -> None:
        pass
