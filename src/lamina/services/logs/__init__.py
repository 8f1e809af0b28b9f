"""CloudWatch Logs (placeholder until the real service lands)."""
from __future__ import annotations


class LogsService:
    service_name = "logs"

    def __init__(self, store, sink) -> None:
        self.store = store
        self.sink = sink
