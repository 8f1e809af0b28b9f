"""A log group as a delivery target (registered as "logs" with Destinations): EventBridge's
CloudWatch Logs target and any other sender that names a log group by ARN.

Each delivery becomes one log event. As for EventBridge's targets on AWS, the event goes to a
log stream named after the event's id (the body's "id", when it is a JSON event; a fresh id
otherwise), stamped with the event's "time" (now, if it has none). The log group must exist;
the stream is made (and the group too for a sender that asks: `create_log_group="true"`, as
SNS's delivery status logs do). The event passes the group's metric and subscription filters like any other.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from typing import Any

from ...errors import ServiceError
from ...observability.logsink import group_key, new_group_doc, new_stream_doc, stream_key
from ...store.base import AppendLogs, LogEvent, Put, Store
from .ingest import Ingest
from .resources import GROUP_KIND, GROUP_NOT_FOUND, STREAM_KIND, now_ms

_LOG_GROUP_ARN = re.compile(r"arn:aws[\w-]*:logs:([\w-]*):(\d{12}):log-group:([^:]+)(?::\*)?")


def _event_id_and_time(body: str) -> tuple[str, int]:
    now = now_ms()
    try:
        event = json.loads(body)
    except ValueError:
        return str(uuid.uuid4()), now
    if not isinstance(event, dict):
        return str(uuid.uuid4()), now
    stream = event.get("id") if isinstance(event.get("id"), str) and event.get("id") else str(uuid.uuid4())
    stamp = now
    if isinstance(event.get("time"), str):
        try:
            stamp = int(datetime.fromisoformat(event["time"].replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            pass
    return stream.replace(":", "-").replace("*", "-")[:512], stamp


class LogTarget:
    store: Store
    ingest: Ingest

    async def deliver(self, arn: str, body: bytes, attributes: dict, **options: Any) -> None:
        found = _LOG_GROUP_ARN.fullmatch(arn)
        if found is None:
            raise ServiceError("InvalidParameterException", f"Invalid log group ARN: {arn}", 400)
        region, account, name = found.groups()
        key = group_key(account, region, name)
        ops: list = []
        if await self.store.get(GROUP_KIND, key) is None:
            # A sender writing its own delivery logs (SNS's delivery status logs, as AWS makes
            # them) has the group made; anyone else's target must exist.
            if str(options.get("create_log_group", "")).lower() != "true":
                raise ServiceError("ResourceNotFoundException", GROUP_NOT_FOUND, 400)
            ops.append(Put(GROUP_KIND, key, new_group_doc(account, region, name, now_ms())))
        message = body.decode("utf-8", "replace")
        stream, timestamp = _event_id_and_time(message)
        if await self.store.get(STREAM_KIND, stream_key(key, stream)) is None:
            ops.append(
                Put(STREAM_KIND, stream_key(key, stream), new_stream_doc(account, region, name, stream, now_ms()))
            )
        accepted = self.ingest.accept(key, stream, [(timestamp, message)])
        ops.append(AppendLogs(key, stream, (LogEvent(timestamp, message),), ingestion_time=now_ms()))
        await self.store.write([*ops, *accepted.ops])
        await self.ingest.committed(accepted)
