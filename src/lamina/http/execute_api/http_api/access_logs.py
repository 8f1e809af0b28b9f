"""Access logs: one line per call to a stage with AccessLogSettings, its Format with API
Gateway's `$context` variables filled in ("-" where a variable has no value, as AWS writes
them), sent to the CloudWatch Logs group of its DestinationArn through the log sink (so the
Logs service's metric and subscription filters see it too).

As on AWS the group must exist (API Gateway does not create it; a missing group loses the
lines, looked for again every GROUP_RECHECK_S); the stream is made on the first line. A
call refused before it had a stage (an unknown stage, no $default) writes nothing.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from ....observability.logsink import LogSink, group_key
from ....store.base import Store
from .calls import Call

log = logging.getLogger("lamina.execute_api")

GROUP_RECHECK_S = 5.0
_VARIABLE = re.compile(r"\$context\.([A-Za-z0-9_]+(?:\.[A-Za-z0-9_\-]+)*)")


class Format:
    """A Format compiled once: static text and $context variables."""

    __slots__ = ("parts",)

    def __init__(self, text: str) -> None:
        parts: list[tuple[bool, str]] = []
        last = 0
        for match in _VARIABLE.finditer(text):
            if match.start() > last:
                parts.append((False, text[last : match.start()]))
            parts.append((True, match.group(1)))
            last = match.end()
        if last < len(text):
            parts.append((False, text[last:]))
        self.parts = tuple(parts)

    def render(self, call: Call) -> str:
        out = []
        for variable, text in self.parts:
            if not variable:
                out.append(text)
                continue
            value = call.context(text)
            out.append("-" if value is None or value == "" else _text(value))
        return "".join(out)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Destination:
    """A stage's access log settings, compiled."""

    __slots__ = ("account", "format", "group", "key", "region", "stream")

    def __init__(self, settings: dict[str, Any], api_id: str, stage: str) -> None:
        arn = settings["DestinationArn"]
        parts = arn.split(":", 6)
        self.region, self.account = parts[3], parts[4]
        self.group = parts[6] if len(parts) > 6 else ""
        self.key = group_key(self.account, self.region, self.group)
        self.stream = f"{api_id}_{stage}"
        self.format = Format(settings.get("Format") or "")


class AccessLogs:
    def __init__(self, sink: LogSink, store: Store) -> None:
        self.sink = sink
        self.store = store
        self._groups: dict[str, float] = {}  # group key -> when last found missing (0: exists)
        # (group key, stream) -> when its group was last seen: looked for again after
        # GROUP_RECHECK_S, so a group deleted (or Lamina reset) is noticed.
        self._streams: dict[tuple[str, str], float] = {}

    async def write(self, destination: Destination, call: Call) -> None:
        try:
            line = destination.format.render(call)
            if not await self._ready(destination):
                return
            self.sink.emit(destination.key, destination.stream, [(int(call.epoch * 1000), line)])
        except Exception:  # an access log must never take the call down with it
            log.exception("could not write the access log of %s", call.api_id)

    async def _ready(self, destination: Destination) -> bool:
        now = time.monotonic()
        seen = self._streams.get((destination.key, destination.stream))
        if seen is not None and now - seen < GROUP_RECHECK_S:
            return True
        missing_since = self._groups.get(destination.key)
        if missing_since and now - missing_since < GROUP_RECHECK_S:
            return False
        if await self.store.get("log_group", destination.key) is None:
            self._groups[destination.key] = now
            self._streams.pop((destination.key, destination.stream), None)
            return False
        self._groups[destination.key] = 0.0
        if seen is None or await self.store.get("log_stream", f"{destination.key}:{destination.stream}") is None:
            await self.sink.ensure_stream(
                destination.account, destination.region, destination.group, destination.stream
            )
        self._streams[(destination.key, destination.stream)] = now
        return True
