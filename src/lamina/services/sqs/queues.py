"""Queue operations: CreateQueue, GetQueueUrl, ListQueues, DeleteQueue, Get/SetQueueAttributes,
PurgeQueue, Tag/Untag/ListQueueTags, ListDeadLetterSourceQueues."""

from __future__ import annotations

import base64
import json
import re
import time

from ...errors import ServiceError
from ...store.base import Delete, Put
from ..context import RequestContext
from . import attributes as attrs
from .queue import Queue
from .state import SqsState, now_ms, queue_arn, queue_key

PURGE_INTERVAL_S = 60
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


def _invalid_name() -> ServiceError:
    return ServiceError(
        "InvalidParameterValue",
        "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
        400,
    )


class QueuesApi:
    state: SqsState

    async def _save(self, queue: Queue) -> None:
        await self.state.store.write(
            [
                Put(
                    "sqs_queue",
                    queue.key,
                    {
                        "attributes": queue.attributes,
                        "created": queue.created,
                        "modified": queue.modified,
                        "tags": queue.tags,
                    },
                )
            ]
        )

    async def create_queue(self, params: dict, ctx: RequestContext) -> dict:
        name = params["QueueName"]
        fifo = name.endswith(".fifo")
        if not _NAME.match(name[:-5] if fifo else name) or len(name) > 80:
            raise _invalid_name()
        given = dict(params.get("Attributes") or {})
        if not fifo and given.get("FifoQueue", "false").lower() == "true":
            raise attrs.invalid_value("FifoQueue", "The name of a FIFO queue must end with the .fifo suffix.")
        wanted = dict(attrs.DEFAULTS, **(attrs.FIFO_DEFAULTS if fifo else {}))
        wanted.update(attrs.checked(given, fifo, creating=True))
        self._check_dead_letter_target(wanted, fifo)
        key = queue_key(ctx.account_id, ctx.region, name)
        existing = self.state.queues.get(key)
        if existing is not None:
            if any(existing.attributes.get(k) != v for k, v in attrs.checked(given, fifo, True).items()):
                raise ServiceError(
                    "QueueNameExists",
                    "A queue already exists with the same name and a different value for attribute(s)",
                    400,
                )
            return {"QueueUrl": self.state.url(existing, ctx)}
        now = now_ms()
        queue = Queue(
            key, name, queue_arn(ctx.account_id, ctx.region, name), wanted, now, dict(params.get("tags") or {})
        )
        await self._save(queue)
        self.state.queues[key] = queue
        return {"QueueUrl": self.state.url(queue, ctx)}

    def _check_dead_letter_target(self, attributes: dict[str, str], fifo: bool) -> None:
        """The DLQ a RedrivePolicy names must exist and be of the source's type, as SQS
        checks: otherwise a message past maxReceiveCount had nowhere to go and was dropped."""
        raw = attributes.get("RedrivePolicy")
        if not raw:
            return
        target = self.state.by_arn(str(json.loads(raw)["deadLetterTargetArn"]))
        if target is None:
            raise attrs.invalid_value("RedrivePolicy", "Dead letter target does not exist.")
        if target.fifo != fifo:
            raise attrs.invalid_value("RedrivePolicy", "Dead-letter queue must be same type of queue as the source.")

    async def get_queue_url(self, params: dict, ctx: RequestContext) -> dict:
        account = params.get("QueueOwnerAWSAccountId") or ctx.account_id
        queue = self.state.by_name(params["QueueName"], account, ctx.region)
        return {"QueueUrl": self.state.url(queue, ctx)}

    async def list_queues(self, params: dict, ctx: RequestContext) -> dict:
        prefix = f"{ctx.account_id}:{ctx.region}:{params.get('QueueNamePrefix', '')}"
        keys = sorted(k for k in self.state.queues if k.startswith(prefix))
        limit = params.get("MaxResults")
        if limit is not None and not 1 <= limit <= 1000:
            raise ServiceError(
                "InvalidParameterValue",
                "Value for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000.",
                400,
            )
        start = 0
        if params.get("NextToken"):
            try:
                start = int(base64.urlsafe_b64decode(params["NextToken"].encode()).decode())
            except Exception:
                raise ServiceError("InvalidParameterValue", "Invalid NextToken value.", 400) from None
        page = keys[start : start + (limit or 1000)]
        result: dict = {"QueueUrls": [self.state.url(self.state.queues[k], ctx) for k in page]} if page else {}
        if limit and start + limit < len(keys):
            result["NextToken"] = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
        return result

    async def delete_queue(self, params: dict, ctx: RequestContext) -> dict:
        queue = self.state.by_url(params["QueueUrl"], ctx)
        await self.state.store.write(
            [Delete("sqs_queue", queue.key), self.state.delete_ops(queue, None), queue.dedup.forget_all()]
        )
        self.state.queues.pop(queue.key, None)
        self.state.notify(queue)
        return {}

    async def get_queue_attributes(self, params: dict, ctx: RequestContext) -> dict:
        queue = self.state.by_url(params["QueueUrl"], ctx)
        names = set(params.get("AttributeNames") or [])
        everything = self._all_attributes(queue)
        if "All" in names:
            chosen = everything
        else:
            unknown = names - set(everything) - attrs.SETTABLE - attrs.COMPUTED
            if unknown:
                raise ServiceError("InvalidAttributeName", f"Unknown Attribute {sorted(unknown)[0]}.", 400)
            chosen = {k: v for k, v in everything.items() if k in names}
        return {"Attributes": chosen} if chosen else {}

    def _all_attributes(self, queue: Queue) -> dict[str, str]:
        visible, in_flight, delayed = queue.counts(now_ms())
        return {
            **queue.attributes,
            "QueueArn": queue.arn,
            "ApproximateNumberOfMessages": str(visible),
            "ApproximateNumberOfMessagesNotVisible": str(in_flight),
            "ApproximateNumberOfMessagesDelayed": str(delayed),
            "CreatedTimestamp": str(queue.created // 1000),
            "LastModifiedTimestamp": str(queue.modified // 1000),
        }

    async def set_queue_attributes(self, params: dict, ctx: RequestContext) -> dict:
        queue = self.state.by_url(params["QueueUrl"], ctx)
        changes = attrs.checked(params.get("Attributes") or {}, queue.fifo, creating=False)
        self._check_dead_letter_target(changes, queue.fifo)
        for name, value in changes.items():
            if value == "" and name in ("RedrivePolicy", "Policy", "RedriveAllowPolicy"):
                queue.attributes.pop(name, None)
            else:
                queue.attributes[name] = value
        queue.modified = now_ms()
        await self._save(queue)
        self.state.notify(queue)
        return {}

    async def purge_queue(self, params: dict, ctx: RequestContext) -> dict:
        queue = self.state.by_url(params["QueueUrl"], ctx)
        # One purge a minute per queue, as AWS allows (the last one is remembered in memory).
        now = time.monotonic()
        last = queue.purged_at
        if last is not None and now - last < PURGE_INTERVAL_S:
            raise ServiceError(
                "PurgeQueueInProgress",
                f"Only one PurgeQueue operation on {queue.name} is allowed every {PURGE_INTERVAL_S} seconds.",
                403,
            )
        queue.purged_at = now
        await self.state.store.write([self.state.delete_ops(queue, None)])
        queue.purge()
        return {}

    async def tag_queue(self, params: dict, ctx: RequestContext) -> dict:
        queue = self.state.by_url(params["QueueUrl"], ctx)
        # Check the limit on a copy: a refused request must leave the tags as they were.
        tags = {**queue.tags, **(params.get("Tags") or {})}
        if len(tags) > 50:
            raise ServiceError("InvalidParameterValue", "Too many tags added for queue.", 400)
        queue.tags = tags
        await self._save(queue)
        return {}

    async def untag_queue(self, params: dict, ctx: RequestContext) -> dict:
        queue = self.state.by_url(params["QueueUrl"], ctx)
        for key in params.get("TagKeys") or []:
            queue.tags.pop(key, None)
        await self._save(queue)
        return {}

    async def list_queue_tags(self, params: dict, ctx: RequestContext) -> dict:
        queue = self.state.by_url(params["QueueUrl"], ctx)
        return {"Tags": dict(queue.tags)} if queue.tags else {}

    async def list_dead_letter_source_queues(self, params: dict, ctx: RequestContext) -> dict:
        target = self.state.by_url(params["QueueUrl"], ctx)
        sources = [q for q in self.state.queues.values() if q.redrive and q.redrive[0] == target.arn]
        return {"queueUrls": [self.state.url(q, ctx) for q in sorted(sources, key=lambda q: q.name)]}
