"""CreateLogStream, DeleteLogStream, DescribeLogStreams.

A stream's event statistics (first and last event, last ingestion) are read from the events
themselves: the engine appends function output without touching stream documents.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ...errors import ServiceError
from ...observability.logsink import LogSink, new_stream_doc, stream_key
from ...store.base import Delete, DeleteLogs, LogQuery, Put, Store, StoredLogEvent
from ..context import RequestContext
from .paging import INVALID_TOKEN, decode_token, encode_token
from .resources import (
    STREAM_KIND,
    GroupRef,
    check_deletable,
    group_from_params,
    group_ref,
    invalid_parameter,
    load_group,
    load_stream,
    now_ms,
)

DEFAULT_LIMIT = 50
ORDERS = ("LogStreamName", "LastEventTime")


def sequence_token(event_id: int) -> str:
    """A sequence token in AWS's shape (56 digits). AWS no longer checks them, nor do we."""
    return f"{event_id:056d}"


class StreamsApi:
    store: Store
    sink: LogSink

    async def create_log_stream(self, params: dict, ctx: RequestContext) -> dict:
        group = group_ref(ctx, params["logGroupName"])
        stream = params["logStreamName"]
        await load_group(self.store, group)
        key = stream_key(group.key, stream)
        if await self.store.get(STREAM_KIND, key) is not None:
            raise ServiceError("ResourceAlreadyExistsException", "The specified log stream already exists", 400)
        doc = new_stream_doc(ctx.account_id, ctx.region, group.name, stream, now_ms())
        await self.store.write([Put(STREAM_KIND, key, doc)])
        return {}

    async def delete_log_stream(self, params: dict, ctx: RequestContext) -> dict:
        group = group_ref(ctx, params["logGroupName"])
        stream = params["logStreamName"]
        await load_stream(self.store, group, stream)
        check_deletable(await load_group(self.store, group))
        await self.sink.flush()
        await self.store.write([Delete(STREAM_KIND, stream_key(group.key, stream)), DeleteLogs(group.key, stream)])
        return {}

    async def describe_log_streams(self, params: dict, ctx: RequestContext) -> dict:
        await self.sink.flush()
        group = group_from_params(params, ctx)
        order = params.get("orderBy") or "LogStreamName"
        prefix = params.get("logStreamNamePrefix") or ""
        descending = bool(params.get("descending"))
        if order not in ORDERS:
            raise invalid_parameter(f"orderBy must be one of {', '.join(ORDERS)}.")
        if order == "LastEventTime" and prefix:
            raise invalid_parameter("Cannot order by LastEventTime with a logStreamNamePrefix.")
        limit = params.get("limit") or DEFAULT_LIMIT
        cursor = _cursor_key(decode_token(params.get("nextToken"), "after"), order)
        await load_group(self.store, group)

        if order == "LogStreamName" and not descending:
            # the store lists in key order, which is name order: read just one page
            after = stream_key(group.key, cursor[0]) if cursor else None
            rows = await self.store.scan(
                STREAM_KIND, prefix=group.streams_prefix() + prefix, after=after, limit=limit + 1
            )
            docs = [doc for _, doc in rows]
            page = docs[:limit]
            bounds = await self._bounds_of(group, page)
            next_key = [page[-1]["logStreamName"]] if len(docs) > limit else None
        else:
            page, bounds, next_key = await self._sorted_page(group, order, prefix, descending, limit, cursor)

        result: dict[str, Any] = {
            "logStreams": [_describe_stream(doc, *bound) for doc, bound in zip(page, bounds, strict=True)]
        }
        if next_key is not None:
            result["nextToken"] = encode_token({"after": next_key})
        return result

    async def _sorted_page(self, group: GroupRef, order: str, prefix: str, descending: bool, limit: int, cursor):
        """A page of streams in an order the store cannot list in: read them all, sort, cut."""
        docs = [doc for _, doc in await self.store.scan(STREAM_KIND, prefix=group.streams_prefix() + prefix)]
        lasts = await asyncio.gather(*(self._edge_event(group, doc["logStreamName"], first=False) for doc in docs))

        def sort_key(item: tuple[dict, StoredLogEvent | None]) -> tuple:
            doc, last = item
            if order == "LastEventTime":
                return (last.timestamp if last else 0, doc["logStreamName"])
            return (doc["logStreamName"],)

        items = sorted(zip(docs, lasts, strict=True), key=sort_key, reverse=descending)
        if cursor:
            items = [item for item in items if (sort_key(item) < cursor if descending else sort_key(item) > cursor)]
        chosen = items[:limit]
        firsts = await asyncio.gather(*(self._edge_event(group, doc["logStreamName"], first=True) for doc, _ in chosen))
        next_key = list(sort_key(chosen[-1])) if len(items) > limit else None
        return [doc for doc, _ in chosen], list(zip(firsts, (last for _, last in chosen), strict=True)), next_key

    async def _bounds_of(self, group: GroupRef, docs: list[dict]) -> list[tuple]:
        async def bounds(stream: str) -> tuple:
            return (
                await self._edge_event(group, stream, first=True),
                await self._edge_event(group, stream, first=False),
            )

        return list(await asyncio.gather(*(bounds(doc["logStreamName"]) for doc in docs)))

    async def _edge_event(self, group: GroupRef, stream: str, first: bool) -> StoredLogEvent | None:
        rows = await self.store.read_logs(LogQuery(group=group.key, streams=[stream], limit=1, forward=first))
        return rows[0] if rows else None


def _cursor_key(cursor: dict | None, order: str) -> tuple | None:
    """The sort key a nextToken points after: (name,) or (last event time, name)."""
    if cursor is None:
        return None
    key = cursor["after"]
    shape = (str,) if order == "LogStreamName" else (int, str)
    if not isinstance(key, list) or len(key) != len(shape) or not all(map(isinstance, key, shape)):
        raise invalid_parameter(INVALID_TOKEN)
    return tuple(key)


def _describe_stream(doc: dict, first: StoredLogEvent | None, last: StoredLogEvent | None) -> dict:
    shown = {
        "logStreamName": doc["logStreamName"],
        "creationTime": doc["creationTime"],
        "arn": doc["arn"],
        "storedBytes": 0,  # AWS has reported 0 for streams since 2019
    }
    if first is not None and last is not None:
        shown["firstEventTimestamp"] = first.timestamp
        shown["lastEventTimestamp"] = last.timestamp
        shown["lastIngestionTime"] = last.ingestion_time
        shown["uploadSequenceToken"] = sequence_token(last.event_id)
    return shown
