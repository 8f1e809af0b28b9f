"""PutLogEvents, GetLogEvents, FilterLogEvents.

GetLogEvents pages with AWS's tokens: "f/<event id>" reads forward from after that event,
"b/<event id>" reads backward from before it; an empty page hands back the token it was given,
which is how clients know they have reached the end. FilterLogEvents pages with an opaque
cursor over event ids and stops after a bounded amount of scanning, as AWS does, so a page may
be short or empty while a nextToken says there is more.
"""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Any

from ...observability.logsink import LogSink
from ...store.base import AppendLogs, LogEvent, LogQuery, Store, StoredLogEvent
from ..context import RequestContext
from .filter_pattern import FilterPatternError, compile_pattern
from .ingest import Ingest
from .paging import INVALID_TOKEN, decode_token, encode_token
from .resources import group_from_params, group_ref, invalid_parameter, load_group, load_stream, now_ms
from .streams import sequence_token

DEFAULT_EVENT_LIMIT = 10_000
MAX_RESPONSE_BYTES = 1_048_576  # a page of events holds at most 1 MB of messages
MAX_BATCH_BYTES = 1_048_576  # PutLogEvents: messages in UTF-8 plus 26 bytes per event
EVENT_OVERHEAD_BYTES = 26
MAX_BATCH_SPAN_MS = 24 * 3600 * 1000
TOO_NEW_MS = 2 * 3600 * 1000
TOO_OLD_MS = 14 * 24 * 3600 * 1000
DAY_MS = 24 * 3600 * 1000
FILTER_BATCH = 2_000  # events read per store query while filtering
FILTER_SCAN_BUDGET = 100_000  # events examined per FilterLogEvents call before handing back a token

_EVENT_TOKEN = re.compile(r"([fb])/(\d{1,60})")


def _event_token(direction: str, event_id: int) -> str:
    return f"{direction}/{event_id:056d}"


def _event_id(event_id: int) -> str:
    return f"{event_id:056d}"


def _event_size(event: StoredLogEvent) -> int:
    return len(event.message.encode()) + EVENT_OVERHEAD_BYTES


def _within_response_size(rows: list[StoredLogEvent]) -> list[StoredLogEvent]:
    """The leading rows that fit in one response (at least one)."""
    total = 0
    for index, row in enumerate(rows):
        total += _event_size(row)
        if total > MAX_RESPONSE_BYTES and index > 0:
            return rows[:index]
    return rows


class EventsApi:
    store: Store
    sink: LogSink
    ingest: Ingest

    async def put_log_events(self, params: dict, ctx: RequestContext) -> dict:
        group = group_ref(ctx, params["logGroupName"])
        stream = params["logStreamName"]
        await load_stream(self.store, group, stream)
        group_doc = await load_group(self.store, group)
        events = params["logEvents"]
        timestamps = [event["timestamp"] for event in events]
        if any(later < earlier for earlier, later in pairwise(timestamps)):
            raise invalid_parameter("Log events in a single PutLogEvents request must be in chronological order.")
        size = sum(len(event["message"].encode()) + EVENT_OVERHEAD_BYTES for event in events)
        if size > MAX_BATCH_BYTES:
            raise invalid_parameter(f"Upload too large: {size} bytes exceeds limit of {MAX_BATCH_BYTES}")

        now = now_ms()
        retention = group_doc.get("retentionInDays")
        expired_before = now - retention * DAY_MS if retention else None
        rejected: dict[str, int] = {}
        accepted: list[LogEvent] = []
        for index, event in enumerate(events):
            timestamp = event["timestamp"]
            if timestamp > now + TOO_NEW_MS:
                rejected.setdefault("tooNewLogEventStartIndex", index)
            elif timestamp < now - TOO_OLD_MS:
                rejected["tooOldLogEventEndIndex"] = index + 1
            elif expired_before is not None and timestamp < expired_before:
                rejected["expiredLogEventEndIndex"] = index + 1
            else:
                accepted.append(LogEvent(timestamp, event["message"]))
        if accepted and accepted[-1].timestamp - accepted[0].timestamp > MAX_BATCH_SPAN_MS:
            raise invalid_parameter(
                "The batch of log events in a single PutLogEvents request cannot span more than 24 hours."
            )
        if accepted:
            # The group's filters: subscription deliveries committed with the events, metric
            # values before the answer.
            filtered = self.ingest.accept(group.key, stream, [(event.timestamp, event.message) for event in accepted])
            await self.store.write([AppendLogs(group.key, stream, tuple(accepted), ingestion_time=now), *filtered.ops])
            await self.ingest.committed(filtered)

        last = await self.store.read_logs(LogQuery(group=group.key, streams=[stream], limit=1, forward=False))
        result: dict[str, Any] = {"nextSequenceToken": sequence_token(last[0].event_id if last else 0)}
        if rejected:
            result["rejectedLogEventsInfo"] = rejected
        return result

    async def get_log_events(self, params: dict, ctx: RequestContext) -> dict:
        await self.sink.flush()
        group = group_from_params(params, ctx)
        stream = params["logStreamName"]
        await load_stream(self.store, group, stream)
        token = params.get("nextToken")
        if token is not None:
            parsed = _EVENT_TOKEN.fullmatch(token)
            if parsed is None:
                raise invalid_parameter(INVALID_TOKEN)
            direction, cursor = parsed.group(1), int(parsed.group(2))
        else:
            direction, cursor = ("f" if params.get("startFromHead") else "b"), None

        query = LogQuery(
            group=group.key,
            streams=[stream],
            start_time=params.get("startTime"),
            end_time=params.get("endTime"),  # exclusive, as on AWS
            limit=params.get("limit") or DEFAULT_EVENT_LIMIT,
        )
        if direction == "f":
            query.after_id = cursor
            rows = _within_response_size(await self.store.read_logs(query))
        else:
            query.before_id = cursor
            query.forward = False
            rows = _within_response_size(await self.store.read_logs(query))[::-1]

        if rows:
            forward, backward = _event_token("f", rows[-1].event_id), _event_token("b", rows[0].event_id)
        elif token is None:
            forward, backward = _event_token("f", 0), _event_token("b", 0)
        elif direction == "f":
            forward, backward = token, _event_token("b", cursor + 1)
        else:
            forward, backward = _event_token("f", max(cursor - 1, 0)), token
        return {
            "events": [
                {"timestamp": row.timestamp, "message": row.message, "ingestionTime": row.ingestion_time}
                for row in rows
            ],
            "nextForwardToken": forward,
            "nextBackwardToken": backward,
        }

    async def filter_log_events(self, params: dict, ctx: RequestContext) -> dict:
        await self.sink.flush()
        group = group_from_params(params, ctx)
        names = params.get("logStreamNames")
        prefix = params.get("logStreamNamePrefix")
        if names and prefix:
            raise invalid_parameter("logStreamNames and logStreamNamePrefix are mutually exclusive parameters.")
        try:
            matcher = compile_pattern(params.get("filterPattern"))
        except FilterPatternError:
            raise invalid_parameter("Invalid filter pattern") from None
        limit = params.get("limit") or DEFAULT_EVENT_LIMIT
        cursor = decode_token(params.get("nextToken"), "after")
        if cursor is not None and not isinstance(cursor["after"], int):
            raise invalid_parameter(INVALID_TOKEN)
        await load_group(self.store, group)

        end_time = params.get("endTime")
        query = LogQuery(
            group=group.key,
            streams=names,
            stream_prefix=prefix,
            start_time=params.get("startTime"),
            end_time=end_time + 1 if end_time is not None else None,  # inclusive here, unlike GetLogEvents
            after_id=cursor["after"] if cursor else None,
            limit=FILTER_BATCH,
        )
        events: list[dict] = []
        size = scanned = 0
        more = False
        while not more:
            rows = await self.store.read_logs(query)
            for index, row in enumerate(rows):
                if size + _event_size(row) > MAX_RESPONSE_BYTES and events:
                    more = True
                    break
                query.after_id = row.event_id
                if matcher(row.message):
                    events.append(_filtered_event(row))
                    size += _event_size(row)
                    if len(events) == limit:
                        more = index < len(rows) - 1 or len(rows) == FILTER_BATCH
                        break
            if len(events) == limit or len(rows) < FILTER_BATCH:
                break
            scanned += len(rows)
            more = more or scanned >= FILTER_SCAN_BUDGET

        result: dict[str, Any] = {"events": events, "searchedLogStreams": []}
        if more:
            result["nextToken"] = encode_token({"after": query.after_id})
        return result


def _filtered_event(row: StoredLogEvent) -> dict:
    return {
        "logStreamName": row.stream,
        "timestamp": row.timestamp,
        "message": row.message,
        "ingestionTime": row.ingestion_time,
        "eventId": _event_id(row.event_id),
    }
