"""Publish and PublishBatch: the checks SNS makes, FIFO sequencing and deduplication, the
filter policies that choose the subscriptions, and the outbox write before the answer.

A published message is kept (in the outbox and in the delivery tasks) as a plain dict:

    id, topic, ms, endpoint   message id, topic ARN, publish time, Lamina's URL for links
    message, structure        the text, and with MessageStructure=json the per-protocol texts
    subject, attributes       Subject (or None); {name: {"Type", "Value"}} (binary in base64)
    fifo, group, dedup, sequence    FIFO topics only
    subscriptions             the ARNs whose filter policy matched, at publish time
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re

from ... import ids
from ...engine.delivery.destinations import Attributes, typed
from ...errors import ServiceError
from ...patterns import InvalidPattern, sns_policy_matches
from ..attribute_numbers import is_attribute_number
from ..context import RequestContext
from . import data_protection
from .attributes import MAX_MESSAGE_BYTES
from .delivery import Deliverer
from .envelopes import message_for
from .platforms import PlatformState, is_endpoint_arn
from .sms import normal, valid_number
from .state import SnsState, Topic, invalid, now_ms, parse_topic_arn

log = logging.getLogger("lamina.sns")

MAX_BATCH = 10
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
_GROUP_ID = re.compile(r"^[!-~]{1,128}$")  # printable ASCII, no spaces
_BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
# AWS's own attributes a publisher may set: SMS settings (AWS.SNS.SMS.SMSType, SenderID,
# MaxPrice; AWS.MM.SMS.OriginationNumber...) and push settings (AWS.SNS.MOBILE.*).
RESERVED_ALLOWED = ("AWS.SNS.", "AWS.MM.SMS.")
MAX_SMS_BYTES = 1600


def _attribute_error(reason: str) -> ServiceError:
    return invalid(f"MessageAttributes Reason: {reason}")


def canonical_attributes(given: dict | None) -> dict[str, dict[str, str]]:
    """Publish's MessageAttributes, checked, as subscribers see them: {name: {Type, Value}}."""
    out: dict[str, dict[str, str]] = {}
    for name, value in (given or {}).items():
        if (
            not _ATTRIBUTE_NAME.match(name)
            or name.startswith(".")
            or name.endswith(".")
            or ".." in name
            or (name.lower().startswith(("aws.", "amazon.")) and not name.startswith(RESERVED_ALLOWED))
        ):
            raise _attribute_error(f"The message attribute name '{name}' is invalid.")
        data_type = value.get("DataType") or ""
        base = data_type.split(".", 1)[0]
        if base not in ("String", "Number", "Binary"):
            raise _attribute_error(
                f"The message attribute '{name}' has an invalid message attribute type, the set "
                "of supported type prefixes is Binary, Number, and String."
            )
        if base == "Binary":
            binary = value.get("BinaryValue")
            if binary is None:
                raise _attribute_error(f"The message attribute '{name}' with type 'Binary' must use field 'Binary'.")
            out[name] = {"Type": data_type, "Value": base64.b64encode(binary).decode("ascii")}
            continue
        text = value.get("StringValue")
        if text is None or (text == "" and base == "Number"):
            raise _attribute_error(
                f"The message attribute '{name}' must contain non-empty message attribute value "
                f"for message attribute type '{base}'."
            )
        if base == "Number" and not is_attribute_number(text):
            raise _attribute_error(f"Could not cast message attribute '{name}' value to number.")
        if data_type == "String.Array":
            try:
                decoded = json.loads(text)
            except ValueError:
                decoded = None
            if not isinstance(decoded, list):
                raise _attribute_error(
                    f"The message attribute '{name}' with type 'String.Array' must be a JSON "
                    "array of strings, numbers, true, false and null."
                )
        out[name] = {"Type": data_type, "Value": text}
    return out


def _attributes_size(attributes: dict[str, dict[str, str]]) -> int:
    return sum(len(k.encode()) + len(v["Type"].encode()) + len(v["Value"].encode()) for k, v in attributes.items())


def _structure(text: str) -> dict[str, str]:
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if not isinstance(document, dict) or not all(isinstance(v, str) for v in document.values()):
        raise invalid("Message Structure - JSON message body failed to parse")
    if "default" not in document:
        raise invalid("Message Structure - No default entry in JSON message body")
    return document


def _push_structure(text: str, platform: str) -> dict[str, str]:
    """MessageStructure=json for one endpoint: its platform's entry or "default" is needed."""
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if not isinstance(document, dict) or not all(isinstance(v, str) for v in document.values()):
        raise invalid("Message Structure - JSON message body failed to parse")
    if "default" not in document and platform not in document:
        raise invalid("Message Structure - No default entry in JSON message body")
    return document


class PublishApi:
    state: SnsState
    deliverer: Deliverer
    platforms: PlatformState

    def _target(self, params: dict, ctx: RequestContext) -> Topic:
        topic_arn, target_arn = params.get("TopicArn"), params.get("TargetArn")
        if topic_arn and target_arn:
            raise invalid("TopicArn or TargetArn Reason: Only one of TopicArn and TargetArn may be given")
        if not topic_arn and not target_arn:
            raise invalid("TopicArn or TargetArn Reason: no value for required parameter")
        if target_arn:
            parse_topic_arn(target_arn, "TargetArn")
        return self.state.topic(topic_arn or target_arn, "TopicArn" if topic_arn else "TargetArn", ctx.region)

    def _direct(self, params: dict, ctx: RequestContext, now: int) -> dict:
        """A checked message for a mobile endpoint (TargetArn) or a phone number (PhoneNumber),
        delivered as a one-subscriber message whose subscriber is the endpoint or the number."""
        text = params.get("Message")
        if not text:
            raise invalid("Empty message")
        subject = params.get("Subject")
        if subject is not None and (not subject or len(subject) > 100 or not subject.isascii()):
            raise invalid("Subject")
        if params.get("MessageDeduplicationId") is not None:
            raise invalid(
                "MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter "
                "that is not valid for this topic type"
            )
        structure = params.get("MessageStructure")
        if structure is not None and structure != "json":
            raise invalid("MessageStructure")
        attributes = canonical_attributes(params.get("MessageAttributes"))
        if len(text.encode("utf-8")) + _attributes_size(attributes) > MAX_MESSAGE_BYTES:
            raise invalid("Message too long")
        phone = params.get("PhoneNumber")
        if phone is not None:
            if not valid_number(phone):
                raise invalid(f"PhoneNumber Reason: {phone} is not valid to publish to")
            per_protocol = _structure(text) if structure == "json" else None
            if len(message_for("sms", {"message": text, "structure": per_protocol}).encode("utf-8")) > MAX_SMS_BYTES:
                raise invalid("Message too long")
            target = normal(phone)
        else:
            target = params["TargetArn"]
            endpoint = self.platforms.endpoints.get(target)
            region, account = target.split(":")[3:5]
            if endpoint is None or region != ctx.region or account != ctx.account_id:
                raise invalid("TargetArn Reason: No endpoint found for the target arn specified")
            if not endpoint.enabled:
                raise ServiceError("EndpointDisabled", "Endpoint is disabled", 400)
            per_protocol = _push_structure(text, target.split(":")[5].split("/")[1]) if structure == "json" else None
        message: dict = {
            "id": ids.uuid4(),
            "ms": now,
            "message": text,
            "subject": subject,
            "attributes": attributes,
            "account": ctx.account_id,
            "region": ctx.region,
            "subscriptions": [target],
        }
        if per_protocol is not None:
            message["structure"] = per_protocol
        return message

    def _prepare(self, topic: Topic, entry: dict, endpoint: str, now: int) -> tuple[dict, bool]:
        """A checked message for the topic (or the one it duplicates, with False)."""
        text = entry.get("Message")
        if not text:
            raise invalid("Empty message")
        subject = entry.get("Subject")
        if subject is not None and (
            not subject
            or len(subject) > 100
            or not subject.isascii()
            or any(not (c.isprintable() or c == " ") for c in subject)
        ):
            raise invalid("Subject")
        structure = entry.get("MessageStructure")
        if structure is not None and structure != "json":
            raise invalid("MessageStructure")
        per_protocol = _structure(text) if structure == "json" else None
        attributes = canonical_attributes(entry.get("MessageAttributes"))
        if len(text.encode("utf-8")) + _attributes_size(attributes) > MAX_MESSAGE_BYTES:
            raise invalid("Message too long")
        group, dedup = entry.get("MessageGroupId"), entry.get("MessageDeduplicationId")
        if topic.fifo:
            if not group:
                raise invalid("The MessageGroupId parameter is required for FIFO topics")
            if not _GROUP_ID.match(group):
                raise invalid("MessageGroupId")
            if dedup is None and topic.attributes.get("ContentBasedDeduplication") == "true":
                dedup = hashlib.sha256(text.encode("utf-8")).hexdigest()
            if dedup is None:
                raise invalid(
                    "The topic should either have ContentBasedDeduplication enabled or "
                    "MessageDeduplicationId provided explicitly"
                )
            if not _GROUP_ID.match(dedup):
                raise invalid("MessageDeduplicationId")
            seen = topic.dedup.find(dedup, now)
            if seen is not None:
                return {"id": seen[0], "sequence": seen[1]}, False
        elif dedup is not None:
            raise invalid(
                "MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter "
                "that is not valid for this topic type"
            )
        message: dict = {
            "id": ids.uuid4(),
            "topic": topic.arn,
            "ms": now,
            "endpoint": endpoint,
            "message": text,
            "subject": subject,
            "attributes": attributes,
            "signature_version": topic.attributes.get("SignatureVersion", "1"),
        }
        if per_protocol is not None:
            message["structure"] = per_protocol
        if topic.fifo:
            topic.sequence += 1
            message.update(fifo=True, group=group, dedup=dedup, sequence=f"{now:013d}{topic.sequence % 10**7:07d}")
            topic.dedup.remember(dedup, now, message["id"], message["sequence"])
        message["subscriptions"] = self._matching(topic, message)
        return message, True

    def _matching(self, topic: Topic, message: dict) -> list[str]:
        chosen = []
        for subscription in self.state.subscriptions_of(topic):
            if subscription.pending:
                continue
            try:
                policy = subscription.filter
                if policy is not None and not sns_policy_matches(
                    policy,
                    message["attributes"],
                    message_for(subscription.protocol, message),
                    subscription.filter_scope,
                ):
                    continue
            except InvalidPattern as error:  # checked when set; a policy that no longer compiles matches nothing
                log.warning("filter policy of %s: %s", subscription.arn, error)
                continue
            chosen.append(subscription.arn)
        return chosen

    async def _commit(self, messages: list[dict]) -> None:
        """Into the outbox (committed before the caller hears of it), then delivered; a FIFO
        topic's deduplication window with them."""
        items = self.deliverer.items(messages)
        windows, remembered = [], []
        for message in messages:
            topic = self.state.topics.get(message["topic"]) if message.get("fifo") else None
            if topic is not None:
                windows.append(topic.dedup.op(message["dedup"]))
                windows += topic.dedup.prune(message["ms"])
                remembered.append((topic, message["dedup"]))
        if not items and not windows:
            return
        try:
            await self.state.store.write(self.deliverer.outbox.puts(items) + windows)
        except BaseException:
            for topic, dedup in remembered:  # not published after all: a retry is new
                topic.dedup.forget(dedup)
            raise
        self.deliverer.schedule(items)

    @staticmethod
    def _published(message: dict) -> dict:
        result = {"MessageId": message["id"]}
        if message.get("sequence"):
            result["SequenceNumber"] = message["sequence"]
        return result

    async def publish(self, params: dict, ctx: RequestContext) -> dict:
        phone, target_arn = params.get("PhoneNumber"), params.get("TargetArn")
        if phone is not None or (target_arn and is_endpoint_arn(target_arn)):
            if params.get("TopicArn") or (phone is not None and target_arn):
                raise invalid(
                    "TopicArn or TargetArn Reason: Only one of TopicArn, TargetArn or PhoneNumber may be given"
                )
            message = self._direct(params, ctx, now_ms())
            await self._commit([message])
            return self._published(message)
        topic = self._target(params, ctx)
        entry, audit = self._inbound(topic, params, ctx)
        message, new = self._prepare(topic, entry, ctx.endpoint_url, now_ms())
        if new:
            await self._commit([message])
            self._audit(topic, message, audit)
        return self._published(message)

    def _inbound(self, topic: Topic, entry: dict, ctx: RequestContext) -> tuple[dict, dict | None]:
        """The entry as the topic's data protection policy lets it in (data_protection.py):
        de-identified, or refused (AuthorizationError); and the audit record to write, if any."""
        policy = topic.protection
        text = entry.get("Message")
        if policy is None or not text:
            return entry, None
        principal = ctx.principal.arn if ctx.principal is not None else f"arn:aws:iam::{ctx.account_id}:root"
        result = data_protection.inbound(policy, text, principal)
        if result.text != text:
            entry = dict(entry, Message=result.text)
        return entry, result.audit

    def _audit(self, topic: Topic, message: dict, audit: dict | None) -> None:
        if audit is None:
            return
        record = dict(audit["record"], messageId=message["id"], resourceArn=topic.arn)
        region, account = topic.arn.split(":")[3:5]
        self.deliverer.audit(f"arn:aws:logs:{region}:{account}:log-group:{audit['group']}", record)

    async def publish_batch(self, params: dict, ctx: RequestContext) -> dict:
        topic = self.state.topic(params["TopicArn"], region=ctx.region)
        entries = params.get("PublishBatchRequestEntries") or []
        if not entries:
            raise ServiceError("EmptyBatchRequest", "The batch request doesn't contain any entries.", 400)
        if len(entries) > MAX_BATCH:
            raise ServiceError(
                "TooManyEntriesInBatchRequest", "The batch request contains more entries than permissible.", 400
            )
        ids = [entry.get("Id", "") for entry in entries]
        if len(set(ids)) != len(ids):
            raise ServiceError(
                "BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id.", 400
            )
        if not all(_BATCH_ID.match(entry_id) for entry_id in ids):
            raise ServiceError(
                "InvalidBatchEntryId",
                "The Id of a batch entry in a batch request doesn't abide by the specification.",
                400,
            )
        total = sum(len((e.get("Message") or "").encode("utf-8")) + _safe_size(e) for e in entries)
        if total > MAX_MESSAGE_BYTES:
            raise ServiceError(
                "BatchRequestTooLong", "The length of all the messages put together is more than the limit.", 400
            )
        now = now_ms()
        successful, failed, fresh = [], [], []
        audits = []
        for entry in entries:
            try:
                entry, audit = self._inbound(topic, entry, ctx)
                message, new = self._prepare(topic, entry, ctx.endpoint_url, now)
            except ServiceError as error:
                failed.append(
                    {"Id": entry["Id"], "Code": error.code, "Message": error.message, "SenderFault": error.sender_fault}
                )
                continue
            if new:
                fresh.append(message)
                audits.append((message, audit))
            successful.append(dict(self._published(message), Id=entry["Id"]))
        await self._commit(fresh)
        for message, audit in audits:
            self._audit(topic, message, audit)
        return {"Successful": successful, "Failed": failed}

    async def deliver(
        self,
        arn: str,
        body: bytes,
        attributes: Attributes,
        *,
        message_group_id: str | None = None,
        deduplication_id: str | None = None,
        subject: str | None = None,
        **_options,
    ) -> None:
        """A topic as a Lambda destination, dead-letter queue or target (engine/destinations.py);
        `subject` for senders that give one (CloudWatch alarms' "ALARM: ..." notifications)."""
        topic = self.state.topic(arn)
        entry: dict = {"Message": body.decode("utf-8", "replace") or "{}", "MessageAttributes": typed(attributes)}
        if subject:
            entry["Subject"] = subject
        if topic.fifo:
            entry["MessageGroupId"] = message_group_id or "lamina"
            entry["MessageDeduplicationId"] = deduplication_id or ids.hex32()
        message, new = self._prepare(topic, entry, self.endpoint_url, now_ms())  # type: ignore[attr-defined]
        if new:
            await self._commit([message])


def _safe_size(entry: dict) -> int:
    try:
        return _attributes_size(canonical_attributes(entry.get("MessageAttributes")))
    except ServiceError:
        return 0
