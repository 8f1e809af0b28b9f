"""The fields Insights discovers in a log event, as AWS does:

- the system fields @timestamp, @message, @logStream, @log ("<account>:<group>"),
  @ingestionTime and @ptr (the pointer GetLogRecord takes back);
- a JSON message's members, nested ones joined with dots (a.b, list.0);
- Lambda's START/END/REPORT lines: @type, @requestId, and for REPORT @duration,
  @billedDuration, @memorySize and @maxMemoryUsed (in bytes, as AWS reports them: 1 MB is
  1000 * 1000) and @initDuration.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from ....store.base import StoredLogEvent
from .values import Timestamp

MAX_JSON_FIELDS = 1000  # AWS discovers at most this many fields in one event
_LAMBDA_LINE = re.compile(r"(START|END|REPORT) RequestId: ([0-9a-fA-F-]+)")
_REPORT_VALUES = {
    "Duration": ("@duration", float),
    "Billed Duration": ("@billedDuration", float),
    "Memory Size": ("@memorySize", lambda text: int(text) * 1_000_000),
    "Max Memory Used": ("@maxMemoryUsed", lambda text: int(text) * 1_000_000),
    "Init Duration": ("@initDuration", float),
}
_REPORT_ITEM = re.compile(r"([A-Za-z ]+): ([\d.]+) (?:ms|MB)")


def pointer(group_key: str, event_id: int) -> str:
    """@ptr: opaque to clients; names the group's store key and the event."""
    raw = json.dumps([group_key, event_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_pointer(ptr: str) -> tuple[str, int] | None:
    try:
        value = json.loads(base64.urlsafe_b64decode(ptr + "=" * (-len(ptr) % 4)))
    except ValueError:
        return None
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], int)):
        return None
    return value[0], value[1]


def _flatten(prefix: str, value: Any, into: dict[str, Any]) -> None:
    if len(into) >= MAX_JSON_FIELDS:
        return
    if isinstance(value, dict):
        for key, member in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), member, into)
    elif isinstance(value, list):
        for index, member in enumerate(value):
            _flatten(f"{prefix}.{index}" if prefix else str(index), member, into)
    else:
        into[prefix] = value


def _discover(message: str, record: dict[str, Any]) -> None:
    text = message.strip()
    if text.startswith("{") and text.endswith("}"):
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        if isinstance(document, dict):
            _flatten("", document, record)
        return
    lambda_line = _LAMBDA_LINE.match(text)
    if lambda_line is None:
        return
    record["@type"], record["@requestId"] = lambda_line.group(1), lambda_line.group(2)
    if lambda_line.group(1) == "REPORT":
        for name, number in _REPORT_ITEM.findall(text):
            known = _REPORT_VALUES.get(name.strip())
            if known is not None:
                record[known[0]] = known[1](number)


def record_of(event: StoredLogEvent, group_key: str, log_name: str) -> dict[str, Any]:
    """The fields of one event; `log_name` is @log's value, "<account>:<group name>"."""
    record: dict[str, Any] = {}
    _discover(event.message, record)
    # system fields win over a JSON member of the same name
    record["@timestamp"] = Timestamp(event.timestamp)
    record["@message"] = event.message
    record["@logStream"] = event.stream
    record["@log"] = log_name
    record["@ingestionTime"] = Timestamp(event.ingestion_time)
    record["@ptr"] = pointer(group_key, event.event_id)
    return record
