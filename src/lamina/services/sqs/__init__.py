"""Amazon SQS: standard and FIFO queues, durable in the store, served over the json protocol.

queue.py      one queue in memory: visibility, delays, FIFO groups, dedup (no I/O)
state.py      the queues, their store layout, long-poll waiting
queues.py     CreateQueue, GetQueueUrl, ListQueues, DeleteQueue, attributes, tags, purge
messages.py   Send/Receive/Delete/ChangeVisibility (and batches); deliver() for Lamina
permissions.py AddPermission, RemovePermission: the queue's access policy
moves.py      StartMessageMoveTask, ListMessageMoveTasks, CancelMessageMoveTask (DLQ redrive)
attributes.py queue attributes: defaults, ranges, checks
md5.py        the digests boto3 verifies
events.py     queues as Lambda event sources: records and the poller's QueueSource
"""

from __future__ import annotations

from ...store.base import Store
from .events import EventSourcesApi
from .messages import MessagesApi
from .moves import MovesApi
from .permissions import PermissionsApi
from .queues import QueuesApi
from .state import SqsState


class SqsService(QueuesApi, PermissionsApi, MessagesApi, MovesApi, EventSourcesApi):
    service_name = "sqs"

    def __init__(self, store: Store) -> None:
        self.state = SqsState(store)
        self.moves: dict[str, dict] = {}

    async def start(self) -> None:
        await self.state.load()
        await self.resume_moves()

    async def stop(self) -> None:
        """Nothing to flush: every accepted message and each move's progress is in the store
        (a move in flight resumes at the next start)."""

    async def reset(self) -> None:
        """No queue, message or move task; a move in flight stops at its next message."""
        for task in self.moves.values():
            if task["Status"] == "RUNNING":
                task["Status"] = "CANCELLED"
        self.moves.clear()
        self.state.reset()
