"""Redrive from a dead-letter queue: StartMessageMoveTask, ListMessageMoveTasks,
CancelMessageMoveTask. A task moves the messages the DLQ holds when it starts back to the
queue each came from (or to DestinationArn), each move atomic (out of one, into the other),
at most MaxNumberOfMessagesPerSecond.

Tasks are documents (kind "sqs_move_task", key the task handle) written with every move, so
the count of messages moved is exact; a task that was running when the server stopped goes
on when it starts again (resume_moves)."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import uuid

from ...errors import ServiceError
from ...store.base import Put
from ..context import RequestContext
from .queue import Message, Queue
from .state import SqsState, now_ms

log = logging.getLogger("lamina.sqs")

KIND = "sqs_move_task"
_INTERNAL = ("last_seq",)  # kept in the document, not part of the API's answer


class MovesApi:
    state: SqsState
    moves: dict[str, dict]

    async def start_message_move_task(self, params: dict, ctx: RequestContext) -> dict:
        source = self.state.by_arn(params["SourceArn"])
        if source is None:
            raise ServiceError(
                "ResourceNotFoundException",
                "The resource that you specified for the SourceArn parameter doesn't exist.",
                400,
            )
        if not any(q.redrive and q.redrive[0] == source.arn for q in self.state.queues.values()):
            raise ServiceError("InvalidParameterValue", "Source queue must be configured as a Dead Letter Queue.", 400)
        if any(t["SourceArn"] == source.arn and t["Status"] == "RUNNING" for t in self.moves.values()):
            raise ServiceError(
                "UnsupportedOperation",
                "There is already a task running. Only one active task is "
                "allowed for a source queue arn at a given time.",
                400,
            )
        destination = params.get("DestinationArn")
        if destination and self.state.by_arn(destination) is None:
            raise ServiceError(
                "ResourceNotFoundException",
                "The resource that you specified for the DestinationArn parameter doesn't exist.",
                400,
            )
        rate = params.get("MaxNumberOfMessagesPerSecond")
        if rate is not None and not 1 <= rate <= 500:
            raise ServiceError("InvalidParameterValue", "MaxNumberOfMessagesPerSecond must be between 1 and 500.", 400)
        handle = base64.b64encode(json.dumps({"taskId": str(uuid.uuid4()), "sourceArn": source.arn}).encode()).decode()
        task = {
            "TaskHandle": handle,
            "Status": "RUNNING",
            "SourceArn": source.arn,
            "ApproximateNumberOfMessagesMoved": 0,
            "ApproximateNumberOfMessagesToMove": len(source.messages),
            "StartedTimestamp": now_ms(),
            "last_seq": max(source.messages, default=0),  # what the queue held when the task started
        }
        if destination:
            task["DestinationArn"] = destination
        if rate:
            task["MaxNumberOfMessagesPerSecond"] = rate
        await self.state.store.write([Put(KIND, handle, task)])
        self.moves[handle] = task
        asyncio.ensure_future(self._move(task, source))
        return {"TaskHandle": handle}

    async def resume_moves(self) -> None:
        """At startup: the tasks as they were, and the running ones on their way again."""
        for handle, task in await self.state.store.scan(KIND):
            self.moves[handle] = task
            source = self.state.by_arn(task["SourceArn"])
            if task["Status"] == "RUNNING":
                if source is None:
                    task.update(Status="FAILED", FailureReason="The source queue was deleted.")
                    await self.state.store.write([Put(KIND, handle, task)])
                else:
                    asyncio.ensure_future(self._move(task, source))

    async def _move(self, task: dict, source: Queue) -> None:
        pause = 1.0 / task["MaxNumberOfMessagesPerSecond"] if task.get("MaxNumberOfMessagesPerSecond") else 0.0
        try:
            for seq in sorted(s for s in source.messages if s <= task.get("last_seq", s)):
                if task["Status"] != "RUNNING":
                    break  # cancelled
                message = source.messages.get(seq)
                if message is None or message.visible_at > now_ms():
                    continue
                target = self.state.by_arn(
                    task.get("DestinationArn") or message.system.get("DeadLetterQueueSourceArn", "")
                )
                if target is None:
                    continue
                await self._move_one(source, message, target, task)
                if pause:
                    await asyncio.sleep(pause)
                elif task["ApproximateNumberOfMessagesMoved"] % 100 == 0:
                    await asyncio.sleep(0)
            if task["Status"] == "RUNNING":
                task["Status"] = "COMPLETED"
        except Exception as error:
            log.exception("message move task failed")
            task["Status"] = "FAILED"
            task["FailureReason"] = str(error)
        try:
            # Written last, after the last move's own write: a cancel is not undone by it.
            await self.state.store.write([Put(KIND, task["TaskHandle"], task)])
        except Exception:
            log.exception("could not record the end of a message move task")

    async def _move_one(self, source: Queue, message: Message, target: Queue, task: dict) -> None:
        now = now_ms()
        moved = self._moved(target, message, source, now)  # type: ignore[attr-defined]
        moved.system.pop("DeadLetterQueueSourceArn", None)
        moved.receives = 0
        moved.first_receive_ms = None
        counted = dict(task, ApproximateNumberOfMessagesMoved=task["ApproximateNumberOfMessagesMoved"] + 1)
        # The move and the task's count in one commit: after a crash the count is exact.
        await self.state.store.write(
            [
                self.state.delete_ops(source, [message.seq]),
                self.state.put_ops(target, [moved]),
                Put(KIND, task["TaskHandle"], counted),
            ]
        )
        task["ApproximateNumberOfMessagesMoved"] = counted["ApproximateNumberOfMessagesMoved"]
        source.delete(message.seq)
        target.add(moved, now)
        self.state.notify(target)

    async def list_message_move_tasks(self, params: dict, ctx: RequestContext) -> dict:
        if self.state.by_arn(params["SourceArn"]) is None:
            raise ServiceError(
                "ResourceNotFoundException",
                "The resource that you specified for the SourceArn parameter doesn't exist.",
                400,
            )
        tasks = [t for t in self.moves.values() if t["SourceArn"] == params["SourceArn"]]
        tasks.sort(key=lambda t: t["StartedTimestamp"], reverse=True)
        limit = params.get("MaxResults") or 1
        results = []
        for task in tasks[:limit]:
            item = {k: v for k, v in task.items() if k not in _INTERNAL}
            if item["Status"] != "RUNNING":
                item.pop("TaskHandle", None)  # only running tasks can be cancelled, so only they show it
            results.append(item)
        return {"Results": results}

    async def cancel_message_move_task(self, params: dict, ctx: RequestContext) -> dict:
        task = self.moves.get(params["TaskHandle"])
        if task is None:
            raise ServiceError("ResourceNotFoundException", "Task does not exist.", 400)
        if task["Status"] != "RUNNING":
            raise ServiceError("UnsupportedOperation", "Only active tasks can be cancelled.", 400)
        task["Status"] = "CANCELLED"
        await self.state.store.write([Put(KIND, task["TaskHandle"], task)])
        return {"ApproximateNumberOfMessagesMoved": task["ApproximateNumberOfMessagesMoved"]}
