"""Queues as Lambda event sources: the records a function receives (AWS's SQS event
shape, as aws-lambda-powertools' SqsModel reads it) and the QueueSource a poller drives."""

from __future__ import annotations

import asyncio

from ...engine.pollers.queue import QueueSource
from .messages import MessagesApi, _receipt
from .queue import Message, Queue
from .state import SqsState, now_ms


def lambda_record(queue: Queue, message: Message, handle: str, system: dict[str, str]) -> dict:
    region = queue.arn.split(":")[3]
    attributes = {}
    for name, value in message.attributes.items():
        entry = {"dataType": value["DataType"], "stringListValues": [], "binaryListValues": []}
        if "BinaryValue" in value:
            entry["binaryValue"] = value["BinaryValue"]  # base64, as Lambda delivers it
        else:
            entry["stringValue"] = value["StringValue"]
        attributes[name] = entry
    record = {
        "messageId": message.message_id,
        "receiptHandle": handle,
        "body": message.body,
        "attributes": system,
        "messageAttributes": attributes,
        "md5OfBody": message.md5_body,
        "eventSource": "aws:sqs",
        "eventSourceARN": queue.arn,
        "awsRegion": region,
    }
    if message.md5_attributes:
        record["md5OfMessageAttributes"] = message.md5_attributes
    return record


class EventSourcesApi:
    state: SqsState

    def queue_source(self, arn: str) -> QueueSource | None:
        """What an event source mapping polls, or None if there is no such queue."""
        queue = self.state.by_arn(arn)
        if queue is None:
            return None
        api: MessagesApi = self  # type: ignore[assignment]

        async def receive(limit: int, wait_s: float, stopped=None) -> list[dict]:
            current = self.state.queues.get(queue.key)
            if current is None:
                # The queue was deleted under its mapping: an empty long poll, not an instant
                # answer (returning at once, without awaiting, made the poller spin and froze
                # the whole server's event loop).
                await asyncio.sleep(wait_s)
                return []
            messages = await api.receive(current, limit, current.visibility_timeout_s, wait_s, stopped)
            return [lambda_record(current, m, _receipt(current, m), api.system_attributes(m)) for m in messages]

        async def delete(handles: list[str]) -> None:
            current = self.state.queues.get(queue.key)
            if current is not None:
                await api.delete_handles(current, handles)

        def depth() -> int:
            current = self.state.queues.get(queue.key)
            return current.backlog(now_ms()) if current else 0

        def wake() -> None:
            current = self.state.queues.get(queue.key)
            if current is not None:
                self.state.notify(current)

        return QueueSource(receive, delete, depth, queue.fifo, wake)
