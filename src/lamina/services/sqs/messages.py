"""Message operations: SendMessage(Batch), ReceiveMessage (long polling), DeleteMessage(Batch),
ChangeMessageVisibility(Batch); plus the calls other parts of Lamina make (destinations,
dead-letter queues, event source mappings)."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable

from ... import ids
from ...engine.delivery.destinations import Attributes, typed
from ...errors import ServiceError
from ..attribute_numbers import is_attribute_number
from ..context import RequestContext
from .attributes import MAX_MESSAGE_BYTES
from .md5 import attributes_size, md5_of_attributes, md5_of_body
from .queue import Message, Queue
from .state import SqsState, now_ms

_ALLOWED = re.compile("^[\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*$")
_BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
MAX_RECEIVE = 10


def _invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParameterValue", message, 400)


def _receipt(queue: Queue, message: Message) -> str:
    raw = f"{queue.key}|{message.seq}|{message.receipt}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _from_receipt(queue: Queue, handle: str) -> tuple[int, str]:
    try:
        key, seq, nonce = base64.urlsafe_b64decode(handle.encode()).decode().rsplit("|", 2)
        if key != queue.key:
            raise ValueError
        return int(seq), nonce
    except Exception:
        raise ServiceError(
            "ReceiptHandleIsInvalid", f'The input receipt handle "{handle}" is not a valid receipt handle.', 400
        ) from None


def _stored_attributes(given: dict | None) -> dict[str, dict]:
    out = {}
    for name, value in (given or {}).items():
        data_type = value.get("DataType")
        if not data_type:
            raise _invalid(f"The message attribute '{name}' must contain a non-empty attribute type.")
        entry = {"DataType": data_type}
        if data_type.startswith("Binary"):
            if value.get("BinaryValue") is None:
                raise _invalid(f"The message attribute '{name}' with type 'Binary' must use field 'Binary'.")
            if not value["BinaryValue"]:  # SQS refuses empty values (they would be indistinguishable)
                raise _invalid(f"Message (user) attribute '{name}' must contain a non-empty value of type 'Binary'.")
            entry["BinaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
        else:
            if value.get("StringValue") is None:
                raise _invalid(f"The message attribute '{name}' with type '{data_type}' must use field 'String'.")
            if value["StringValue"] == "":
                raise _invalid(f"Message (user) attribute '{name}' must contain a non-empty value of type 'String'.")
            entry["StringValue"] = value["StringValue"]
            if data_type.startswith("Number") and not is_attribute_number(value["StringValue"]):
                raise _invalid(f"Can't cast the value of message (user) attribute '{name}' to a number.")
        out[name] = entry
    if len(out) > 10:
        raise _invalid(f"Number of message attributes [{len(out)}] exceeds the allowed maximum [10].")
    return out


def _wire_attributes(stored: dict[str, dict]) -> dict[str, dict]:
    return {
        name: (
            {"DataType": v["DataType"], "BinaryValue": base64.b64decode(v["BinaryValue"])}
            if "BinaryValue" in v
            else {"DataType": v["DataType"], "StringValue": v["StringValue"]}
        )
        for name, v in stored.items()
    }


def _wanted(names: list[str] | None, available: dict) -> dict:
    names = names or []
    if not names:
        return {}
    if "All" in names or ".*" in names:
        return available
    out = {}
    for pattern in names:
        if pattern.endswith(".*"):
            out.update({k: v for k, v in available.items() if k.startswith(pattern[:-2])})
        elif pattern in available:
            out[pattern] = available[pattern]
    return out


class MessagesApi:
    state: SqsState

    # --- sending ----------------------------------------------------------------------------

    def _prepare(self, queue: Queue, entry: dict, ctx_sender: str, now: int) -> tuple[Message, bool]:
        """A new message for the queue (or the one it duplicates), checked as SQS checks it."""
        body = entry.get("MessageBody")
        if body is None or body == "":
            raise ServiceError("MissingParameter", "The request must contain the parameter MessageBody.", 400)
        if not _ALLOWED.match(body):
            raise ServiceError(
                "InvalidMessageContents",
                "Invalid characters found. Valid unicode characters are "
                "#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
                400,
            )
        attributes = _stored_attributes(entry.get("MessageAttributes"))
        size = len(body.encode("utf-8")) + attributes_size(attributes)
        limit = queue.setting("MaximumMessageSize", MAX_MESSAGE_BYTES)
        if size > limit:
            raise _invalid(f"One or more parameters are invalid. Reason: Message must be shorter than {limit} bytes.")
        delay = entry.get("DelaySeconds")
        if queue.fifo and delay == 0:
            # A FIFO queue takes no per-message delay, but AWS accepts an explicit 0 (what some
            # SDKs and tools always send): the queue's own delay still applies.
            delay = None
        if delay is not None:
            if queue.fifo:
                raise _invalid(
                    f"Value {delay} for parameter DelaySeconds is invalid. Reason: The request include "
                    "parameter that is not valid for this queue type."
                )
            if not 0 <= delay <= 900:
                raise _invalid(
                    f"Value {delay} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be "
                    ">= 0 and <= 900."
                )
        else:
            delay = queue.setting("DelaySeconds", 0)
        group = entry.get("MessageGroupId")
        if queue.fifo and not group:
            raise ServiceError("MissingParameter", "The request must contain the parameter MessageGroupId.", 400)
        dedup = queue.dedup_id_for(body, entry.get("MessageDeduplicationId"))
        if queue.fifo and dedup is None:
            raise _invalid(
                "The queue should either have ContentBasedDeduplication enabled or "
                "MessageDeduplicationId provided explicitly"
            )
        if not queue.fifo and entry.get("MessageDeduplicationId"):
            raise _invalid("The request includes a parameter that is not valid for this queue type.")
        if dedup:
            duplicate = queue.duplicate_of(group, dedup, now)
            if duplicate is not None:
                message_id, sequence = duplicate
                return Message(
                    0,
                    message_id,
                    body,
                    md5_of_body(body),
                    now,
                    now,
                    attributes,
                    md5_of_attributes(attributes),
                    {},
                    sequence_number=sequence,
                ), False
        system = {"SenderId": ctx_sender}
        trace = ((entry.get("MessageSystemAttributes") or {}).get("AWSTraceHeader") or {}).get("StringValue")
        if trace:
            system["AWSTraceHeader"] = trace
        message = queue.new_message(
            body, md5_of_body(body), now, delay, attributes, md5_of_attributes(attributes), system, group, dedup
        )
        return message, True

    @staticmethod
    def _sent(message: Message) -> dict:
        result = {"MessageId": message.message_id, "MD5OfMessageBody": message.md5_body}
        if message.md5_attributes:
            result["MD5OfMessageAttributes"] = message.md5_attributes
        if message.sequence_number:
            result["SequenceNumber"] = message.sequence_number
        return result

    async def _commit(self, queue: Queue, messages: list[Message]) -> None:
        if messages:
            ops: list = [self.state.put_ops(queue, messages)]
            keys = [queue.dedup_key(m.group_id, m.dedup_id) for m in messages if m.dedup_id]
            if queue.fifo:
                # The deduplication window outlives a restart: committed with the messages.
                ops += [queue.dedup.op(key) for key in keys]
                ops += queue.dedup.prune(now_ms())
            try:
                await self.state.store.write(ops)
            except BaseException:
                for key in keys:
                    queue.dedup.forget(key)
                raise
            now = now_ms()
            for message in messages:
                queue.add(message, now)
            self.state.notify(queue)

    async def send_message(self, params: dict, ctx: RequestContext) -> dict:
        queue = self.state.by_url(params["QueueUrl"], ctx)
        message, new = self._prepare(queue, params, ctx.access_key or ctx.account_id, now_ms())
        await self._commit(queue, [message] if new else [])
        return self._sent(message)

    async def send_message_batch(self, params: dict, ctx: RequestContext) -> dict:
        queue = self.state.by_url(params["QueueUrl"], ctx)
        entries = params.get("Entries") or []
        self._check_batch(entries)
        total = sum(len(e.get("MessageBody", "").encode()) + attributes_size(_safe_attributes(e)) for e in entries)
        if total > queue.setting("MaximumMessageSize", MAX_MESSAGE_BYTES):
            raise ServiceError(
                "BatchRequestTooLong",
                f"Batch requests cannot be longer than {queue.setting('MaximumMessageSize', MAX_MESSAGE_BYTES)} bytes.",
                400,
            )
        now = now_ms()
        successful, failed, fresh = [], [], []
        for entry in entries:
            try:
                message, new = self._prepare(queue, entry, ctx.access_key or ctx.account_id, now)
            except ServiceError as error:
                failed.append({"Id": entry["Id"], "SenderFault": True, "Code": error.code, "Message": error.message})
                continue
            if new:
                fresh.append(message)
            successful.append(dict(self._sent(message), Id=entry["Id"]))
        await self._commit(queue, fresh)
        return {"Successful": successful, "Failed": failed}

    @staticmethod
    def _check_batch(entries: list[dict], kind: str = "SendMessageBatchRequestEntry") -> None:
        if not entries:
            raise ServiceError("EmptyBatchRequest", f"There should be at least one {kind} in the request.", 400)
        if len(entries) > 10:
            raise ServiceError(
                "TooManyEntriesInBatchRequest",
                f"Maximum number of entries per request are 10. You have sent {len(entries)}.",
                400,
            )
        ids = [e.get("Id", "") for e in entries]
        if len(set(ids)) != len(ids):
            raise ServiceError(
                "BatchEntryIdsNotDistinct", "Id " + next(i for i in ids if ids.count(i) > 1) + " repeated.", 400
            )
        for entry_id in ids:
            if not _BATCH_ID.match(entry_id):
                raise ServiceError(
                    "InvalidBatchEntryId",
                    "A batch entry id can only contain alphanumeric "
                    "characters, hyphens and underscores. It can be at most 80 letters long.",
                    400,
                )

    # --- receiving --------------------------------------------------------------------------

    async def receive(
        self, queue: Queue, limit: int, visibility_s: int, wait_s: float, stopped: Callable[[], bool] | None = None
    ) -> list[Message]:
        """Up to `limit` messages, waiting up to `wait_s` for one; moves messages past
        maxReceiveCount to the dead-letter queue on the way, as SQS does. Once `stopped()`
        is true (a poller shutting down, woken by notify) it takes nothing more."""
        deadline = time.monotonic() + wait_s
        while True:
            if stopped is not None and stopped():
                return []
            now = now_ms()
            received = queue.receive(limit, visibility_s, now)
            ops = []
            if received.messages:
                ops.append(self.state.mark_ops(queue, received.messages))
            gone = [m.seq for m in received.to_dead_letter + received.expired]
            if gone:
                ops.append(self.state.delete_ops(queue, gone))
            dead_letter_queue = None
            if received.to_dead_letter:
                dead_letter_queue = self.state.by_arn(queue.redrive[0]) if queue.redrive else None
                if dead_letter_queue is not None:
                    moved = [self._moved(dead_letter_queue, m, queue, now) for m in received.to_dead_letter]
                    ops.append(self.state.put_ops(dead_letter_queue, moved))
            if ops:
                await self.state.store.write(ops)  # moved atomically: out of one queue, into the other
                if dead_letter_queue is not None:
                    for message in moved:
                        dead_letter_queue.add(message, now)
                    self.state.notify(dead_letter_queue)
            if received.messages or time.monotonic() >= deadline:
                return received.messages
            await self.state.wait(queue, deadline)
            if queue.key not in self.state.queues:
                return []

    @staticmethod
    def _moved(target: Queue, message: Message, source: Queue, now: int) -> Message:
        seq = target.next_seq
        target.next_seq += 1
        system = dict(message.system, DeadLetterQueueSourceArn=source.arn)
        sequence = None
        if target.fifo:
            target._sequence += 1
            sequence = f"{now:013d}{target._sequence:07d}"
        return Message(
            seq,
            message.message_id,
            message.body,
            message.md5_body,
            message.sent_ms,
            now,
            message.attributes,
            message.md5_attributes,
            system,
            receives=message.receives,
            first_receive_ms=message.first_receive_ms,
            group_id=message.group_id,
            dedup_id=message.dedup_id,
            sequence_number=sequence or message.sequence_number,
        )

    async def receive_message(self, params: dict, ctx: RequestContext) -> dict:
        queue = self.state.by_url(params["QueueUrl"], ctx)
        limit = params.get("MaxNumberOfMessages", 1)
        if not 1 <= limit <= MAX_RECEIVE:
            raise _invalid(
                f"Value {limit} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 "
                "and 10, if provided."
            )
        wait = params.get("WaitTimeSeconds")
        if wait is None:
            wait = queue.setting("ReceiveMessageWaitTimeSeconds", 0)
        if not 0 <= wait <= 20:
            raise _invalid(
                f"Value {wait} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided."
            )
        visibility = params.get("VisibilityTimeout")
        if visibility is None:
            visibility = queue.visibility_timeout_s
        elif not 0 <= visibility <= 43200:
            raise _invalid(
                f"Value {visibility} for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 "
                "and <= 43200, if provided."
            )
        messages = await self.receive(queue, limit, visibility, wait)
        wanted_system = list(params.get("AttributeNames") or []) + list(params.get("MessageSystemAttributeNames") or [])
        out = []
        for message in messages:
            item = {
                "MessageId": message.message_id,
                "ReceiptHandle": _receipt(queue, message),
                "MD5OfBody": message.md5_body,
                "Body": message.body,
            }
            system = _wanted(wanted_system, self.system_attributes(message))
            if system:
                item["Attributes"] = system
            user = _wanted(params.get("MessageAttributeNames"), message.attributes)
            if user:
                item["MessageAttributes"] = _wire_attributes(user)
                item["MD5OfMessageAttributes"] = md5_of_attributes(user)
            out.append(item)
        return {"Messages": out} if out else {}

    @staticmethod
    def system_attributes(message: Message) -> dict[str, str]:
        attributes = {
            "SenderId": message.system.get("SenderId", ""),
            "SentTimestamp": str(message.sent_ms),
            "ApproximateReceiveCount": str(message.receives),
            "ApproximateFirstReceiveTimestamp": str(message.first_receive_ms or message.sent_ms),
        }
        for name in ("AWSTraceHeader", "DeadLetterQueueSourceArn"):
            if name in message.system:
                attributes[name] = message.system[name]
        if message.group_id is not None:
            attributes["MessageGroupId"] = message.group_id
        if message.dedup_id is not None:
            attributes["MessageDeduplicationId"] = message.dedup_id
        if message.sequence_number is not None:
            attributes["SequenceNumber"] = message.sequence_number
        return attributes

    # --- deleting and visibility --------------------------------------------------------------

    async def delete_handles(self, queue: Queue, handles: list[str]) -> list[ServiceError | None]:
        """Delete by receipt handles, all in one write; per handle, None or its error."""
        outcomes: list[ServiceError | None] = []
        seqs = []
        for handle in handles:
            try:
                seq, _ = _from_receipt(queue, handle)
            except ServiceError as error:
                outcomes.append(error)
                continue
            seqs.append(seq)
            outcomes.append(None)
        if seqs:
            await self.state.store.write([self.state.delete_ops(queue, seqs)])
            for seq in seqs:
                queue.delete(seq)  # already gone is fine: SQS deletes are idempotent
            self.state.notify(queue)  # a FIFO group may be free again
        return outcomes

    async def delete_message(self, params: dict, ctx: RequestContext) -> dict:
        queue = self.state.by_url(params["QueueUrl"], ctx)
        error = (await self.delete_handles(queue, [params["ReceiptHandle"]]))[0]
        if error is not None:
            raise error
        return {}

    async def delete_message_batch(self, params: dict, ctx: RequestContext) -> dict:
        queue = self.state.by_url(params["QueueUrl"], ctx)
        entries = params.get("Entries") or []
        self._check_batch(entries, "DeleteMessageBatchRequestEntry")
        outcomes = await self.delete_handles(queue, [e["ReceiptHandle"] for e in entries])
        return {
            "Successful": [{"Id": e["Id"]} for e, o in zip(entries, outcomes, strict=True) if o is None],
            "Failed": [
                {"Id": e["Id"], "SenderFault": True, "Code": o.code, "Message": o.message}
                for e, o in zip(entries, outcomes, strict=True)
                if o is not None
            ],
        }

    async def change_visibility(self, queue: Queue, handle: str, timeout_s: int) -> None:
        seq, nonce = _from_receipt(queue, handle)
        if not 0 <= timeout_s <= 43200:
            raise _invalid(
                f"Value {timeout_s} for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200."
            )
        message = queue.messages.get(seq)
        now = now_ms()
        if message is None or message.visible_at <= now or message.receipt != nonce:
            raise ServiceError(
                "MessageNotInflight", "Message does not exist or is not available for visibility timeout change.", 400
            )
        queue.change_visibility(message, timeout_s, now)
        await self.state.store.write([self.state.mark_ops(queue, [message])])
        if timeout_s == 0:
            self.state.notify(queue)

    async def change_message_visibility(self, params: dict, ctx: RequestContext) -> dict:
        queue = self.state.by_url(params["QueueUrl"], ctx)
        await self.change_visibility(queue, params["ReceiptHandle"], params["VisibilityTimeout"])
        return {}

    async def change_message_visibility_batch(self, params: dict, ctx: RequestContext) -> dict:
        queue = self.state.by_url(params["QueueUrl"], ctx)
        entries = params.get("Entries") or []
        self._check_batch(entries, "ChangeMessageVisibilityBatchRequestEntry")
        successful, failed = [], []
        for entry in entries:
            try:
                await self.change_visibility(queue, entry["ReceiptHandle"], entry.get("VisibilityTimeout", 0))
                successful.append({"Id": entry["Id"]})
            except ServiceError as error:
                failed.append({"Id": entry["Id"], "SenderFault": True, "Code": error.code, "Message": error.message})
        return {"Successful": successful, "Failed": failed}

    # --- for the rest of Lamina -----------------------------------------------------------------

    async def deliver(
        self,
        arn: str,
        body: bytes,
        attributes: Attributes,
        *,
        message_group_id: str | None = None,
        deduplication_id: str | None = None,
        message_attributes: dict[str, dict] | None = None,
        **_options,
    ) -> None:
        """A queue as a destination, dead-letter queue or target (engine/destinations.py).

        `attributes` as destinations.send() takes them; `message_attributes`, when a sender
        has binary ones too (SNS raw delivery), as SendMessage takes them ({DataType,
        StringValue | BinaryValue as bytes}), and win."""
        queue = self.state.by_arn(arn)
        if queue is None:
            raise ServiceError("QueueDoesNotExist", f"The queue {arn} does not exist.", 400)
        entry: dict = {
            "MessageBody": body.decode("utf-8", "replace"),
            "MessageAttributes": message_attributes if message_attributes is not None else typed(attributes),
        }
        if queue.fifo:
            entry["MessageGroupId"] = message_group_id or "lamina"
            entry["MessageDeduplicationId"] = deduplication_id or ids.hex32()
        message, new = self._prepare(queue, entry, "lamina", now_ms())
        await self._commit(queue, [message] if new else [])


def _safe_attributes(entry: dict) -> dict[str, dict]:
    try:
        return _stored_attributes(entry.get("MessageAttributes"))
    except ServiceError:
        return {}
