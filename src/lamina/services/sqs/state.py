"""The SQS service's queues: where they are kept, found, persisted and waited on.

    kind "sqs_queue"     key "<account>:<region>:<name>"   the queue's settings and tags
    queue_messages rows  queue "<account>:<region>:<name>"  its messages (store/base.py)

Every change is written to the store before the caller hears about it; the in-memory
Queue objects are rebuilt from the store at startup (messages in flight keep their
visibility deadline). Long polls wait on a per-queue condition, woken by sends and by
messages becoming visible again.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlparse

from ...engine.delivery.dedup import load_windows
from ...errors import ServiceError
from ...store.base import DeleteMessages, MarkReceived, PutMessages, QueuedMessage, Store
from ..context import RequestContext
from .queue import DEDUP_KIND, Message, Queue


def now_ms() -> int:
    return int(time.time() * 1000)


def queue_key(account: str, region: str, name: str) -> str:
    return f"{account}:{region}:{name}"


def queue_arn(account: str, region: str, name: str) -> str:
    return f"arn:aws:sqs:{region}:{account}:{name}"


def no_such_queue() -> ServiceError:
    return ServiceError("QueueDoesNotExist", "The specified queue does not exist.", 400)


class SqsState:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.queues: dict[str, Queue] = {}
        self._arrivals: dict[str, asyncio.Event] = {}

    async def load(self) -> None:
        for key, doc in await self.store.scan("sqs_queue"):
            account, region, name = key.split(":", 2)
            self.queues[key] = Queue(
                key, name, queue_arn(account, region, name), doc["attributes"], doc["created"], doc.get("tags")
            )
            self.queues[key].modified = doc.get("modified", doc["created"])
        now = now_ms()
        await load_windows(self.store, DEDUP_KIND, {key: queue.dedup for key, queue in self.queues.items()}, now)
        for row in await self.store.read_messages():
            queue = self.queues.get(row.queue)
            if queue is not None:
                queue.add(Message.from_row(row.seq, row.message, row.visible_at, row.receives), now)

    def reset(self) -> None:
        """Lamina's reset: no queue, no message (the store is emptied beside it)."""
        self.queues.clear()
        for arrival in self._arrivals.values():
            arrival.set()  # nobody should be waiting (requests are held); wake any anyway
        self._arrivals.clear()

    # --- finding ----------------------------------------------------------------------------

    def by_url(self, url: str, ctx: RequestContext) -> Queue:
        """A queue from its URL (any host: what matters is /<account>/<name>)."""
        path = urlparse(url).path if "://" in url else url
        parts = [p for p in path.split("/") if p]
        if len(parts) < 2:
            # A bare name is accepted too, as boto3 users sometimes pass one.
            if len(parts) == 1:
                return self.by_name(parts[0], ctx.account_id, ctx.region)
            raise no_such_queue()
        return self.by_name(parts[-1], parts[-2], ctx.region)

    def by_name(self, name: str, account: str, region: str) -> Queue:
        queue = self.queues.get(queue_key(account, region, name))
        if queue is None:
            raise no_such_queue()
        return queue

    def by_arn(self, arn: str) -> Queue | None:
        parts = arn.split(":")
        if len(parts) != 6 or parts[2] != "sqs":
            return None
        return self.queues.get(queue_key(parts[4], parts[3], parts[5]))

    @staticmethod
    def url(queue: Queue, ctx: RequestContext) -> str:
        account = queue.key.split(":", 1)[0]
        return f"{ctx.endpoint_url}/{account}/{queue.name}"

    # --- persisting ---------------------------------------------------------------------------

    @staticmethod
    def put_ops(queue: Queue, messages: list[Message]) -> PutMessages:
        return PutMessages(tuple(QueuedMessage(queue.key, m.seq, m.doc(), m.visible_at, m.receives) for m in messages))

    @staticmethod
    def mark_ops(queue: Queue, messages: list[Message]) -> MarkReceived:
        return MarkReceived(queue.key, tuple((m.seq, m.visible_at, m.receives) for m in messages))

    @staticmethod
    def delete_ops(queue: Queue, seqs: list[int] | None) -> DeleteMessages:
        return DeleteMessages(queue.key, None if seqs is None else tuple(seqs))

    # --- waiting --------------------------------------------------------------------------------

    def notify(self, queue: Queue) -> None:
        event = self._arrivals.get(queue.key)
        if event is not None:
            event.set()

    async def wait(self, queue: Queue, deadline: float) -> None:
        """Until something may have become receivable, or `deadline` (monotonic seconds)."""
        event = self._arrivals.setdefault(queue.key, asyncio.Event())
        event.clear()
        timeout = deadline - time.monotonic()
        now = now_ms()
        next_visible = queue.next_visible_at(now)
        if next_visible is not None:
            timeout = min(timeout, max(0.0, (next_visible - now) / 1000))
        if timeout <= 0:
            # Yield even so: a caller looping on wait() must never starve the event loop.
            await asyncio.sleep(0)
            return
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except asyncio.TimeoutError:
            pass
