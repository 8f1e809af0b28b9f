"""SQS's query dialect: the wire names and error codes its query API has and botocore's
current (JSON) SQS model has dropped.

SQS moved to the JSON protocol in 2023, but older SDKs and some AWS CLI v1 set-ups still
send `Action=SendMessage&QueueUrl=...` form posts and read XML answers. botocore's model
keeps the `flattened` flags of the query API but not its `locationName`s nor its error
codes (`awsQueryError`), so these tables put them back, as botocore's last query-protocol
SQS model (service-2.json of 2012-11-05, protocol "query") had them; the members SQS added
since (MessageSystemAttributes, the move tasks' results, AddPermission's lists) follow
the same pattern.

`query_model(raw)` patches a copy of the JSON model with them: the router resolves a form
post with an SQS Action against that model, and query.py parses and serializes it as any
query service. `ERROR_CODES` is also what the JSON protocol puts in `x-amzn-query-error`
(protocol/faults.py), as SQS's awsQueryCompatible trait asks.
"""

from __future__ import annotations

import copy
import re
from typing import Any

SERVICE = "sqs"
XML_NAMESPACE = "http://queue.amazonaws.com/doc/2012-11-05/"

# (structure, member) -> the member's wire name.
MEMBER_NAMES: dict[tuple[str, str], str] = {
    ("CreateQueueRequest", "Attributes"): "Attribute",
    ("CreateQueueRequest", "tags"): "Tag",
    ("SetQueueAttributesRequest", "Attributes"): "Attribute",
    ("GetQueueAttributesResult", "Attributes"): "Attribute",
    ("SendMessageRequest", "MessageAttributes"): "MessageAttribute",
    ("SendMessageRequest", "MessageSystemAttributes"): "MessageSystemAttribute",
    ("SendMessageBatchRequestEntry", "MessageAttributes"): "MessageAttribute",
    ("SendMessageBatchRequestEntry", "MessageSystemAttributes"): "MessageSystemAttribute",
    ("Message", "Attributes"): "Attribute",
    ("Message", "MessageAttributes"): "MessageAttribute",
    ("MessageAttributeValue", "StringListValues"): "StringListValue",
    ("MessageAttributeValue", "BinaryListValues"): "BinaryListValue",
    ("MessageSystemAttributeValue", "StringListValues"): "StringListValue",
    ("MessageSystemAttributeValue", "BinaryListValues"): "BinaryListValue",
    ("TagQueueRequest", "Tags"): "Tag",
    ("ListQueueTagsResult", "Tags"): "Tag",
}

# list shape -> its members' wire name (a flattened list's items are `<that name>.N`).
LIST_MEMBERS: dict[str, str] = {
    "AttributeNameList": "AttributeName",
    "MessageAttributeNameList": "MessageAttributeName",
    "QueueUrlList": "QueueUrl",
    "TagKeyList": "TagKey",
    "AWSAccountIdList": "AWSAccountId",
    "ActionNameList": "ActionName",
    "StringList": "StringListValue",
    "BinaryList": "BinaryListValue",
    "MessageList": "Message",
    "BatchResultErrorEntryList": "BatchResultErrorEntry",
    "SendMessageBatchRequestEntryList": "SendMessageBatchRequestEntry",
    "SendMessageBatchResultEntryList": "SendMessageBatchResultEntry",
    "DeleteMessageBatchRequestEntryList": "DeleteMessageBatchRequestEntry",
    "DeleteMessageBatchResultEntryList": "DeleteMessageBatchResultEntry",
    "ChangeMessageVisibilityBatchRequestEntryList": "ChangeMessageVisibilityBatchRequestEntry",
    "ChangeMessageVisibilityBatchResultEntryList": "ChangeMessageVisibilityBatchResultEntry",
    "ListMessageMoveTasksResultEntryList": "ListMessageMoveTasksResultEntry",
}

# map shape -> (key name, value name): `Attribute.N.Name` / `Attribute.N.Value`.
MAP_ENTRIES: dict[str, tuple[str, str]] = {
    "QueueAttributeMap": ("Name", "Value"),
    "MessageBodyAttributeMap": ("Name", "Value"),
    "MessageSystemAttributeMap": ("Name", "Value"),
    "MessageBodySystemAttributeMap": ("Name", "Value"),
    "TagMap": ("Key", "Value"),
}

# error shape -> the code the query API (and x-amzn-query-error) gives it; shapes not named
# here have their own name as their code (ReceiptHandleIsInvalid, InvalidAttributeName...).
ERROR_CODES: dict[str, str] = {
    "QueueDoesNotExist": "AWS.SimpleQueueService.NonExistentQueue",
    "QueueNameExists": "QueueAlreadyExists",
    "QueueDeletedRecently": "AWS.SimpleQueueService.QueueDeletedRecently",
    "MessageNotInflight": "AWS.SimpleQueueService.MessageNotInflight",
    "PurgeQueueInProgress": "AWS.SimpleQueueService.PurgeQueueInProgress",
    "BatchEntryIdsNotDistinct": "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
    "BatchRequestTooLong": "AWS.SimpleQueueService.BatchRequestTooLong",
    "EmptyBatchRequest": "AWS.SimpleQueueService.EmptyBatchRequest",
    "InvalidBatchEntryId": "AWS.SimpleQueueService.InvalidBatchEntryId",
    "TooManyEntriesInBatchRequest": "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
    "UnsupportedOperation": "AWS.SimpleQueueService.UnsupportedOperation",
    "KmsAccessDenied": "KMS.AccessDeniedException",
    "KmsDisabled": "KMS.DisabledException",
    "KmsInvalidKeyUsage": "KMS.InvalidKeyUsageException",
    "KmsInvalidState": "KMS.InvalidStateException",
    "KmsNotFound": "KMS.NotFoundException",
    "KmsOptInRequired": "KMS.OptInRequired",
    "KmsThrottled": "KMS.ThrottlingException",
}

# A form post cannot send an empty list: a batch without entries omits them, and SQS answers
# AWS.SimpleQueueService.EmptyBatchRequest (not a missing parameter), so these are optional here.
EMPTY_LISTS_ALLOWED: dict[str, str] = {
    "SendMessageBatchRequest": "Entries",
    "DeleteMessageBatchRequest": "Entries",
    "ChangeMessageVisibilityBatchRequest": "Entries",
}

# The query API also takes the queue from the request path: POST /<account>/<queue>.
_QUEUE_PATH = re.compile(r"^/[^/]+/[^/]+/?$")


def query_model(raw: dict[str, Any]) -> dict[str, Any]:
    """A copy of botocore's JSON SQS model (its service-2 dict) speaking the query protocol."""
    model = copy.deepcopy(raw)
    meta = model["metadata"]
    meta["protocol"] = "query"
    meta["protocols"] = ["query"]
    meta["xmlNamespace"] = XML_NAMESPACE
    for key in ("targetPrefix", "jsonVersion", "awsQueryCompatible"):
        meta.pop(key, None)
    for name, operation in model["operations"].items():
        if "output" in operation:
            operation["output"]["resultWrapper"] = f"{name}Result"
    shapes = model["shapes"]
    for (structure, member), wire in MEMBER_NAMES.items():
        if structure in shapes and member in shapes[structure].get("members", {}):
            shapes[structure]["members"][member]["locationName"] = wire
    for name, wire in LIST_MEMBERS.items():
        if name in shapes:
            shapes[name]["member"]["locationName"] = wire
    for name, (key, value) in MAP_ENTRIES.items():
        if name in shapes:
            shapes[name]["key"]["locationName"] = key
            shapes[name]["value"]["locationName"] = value
    for name, code in ERROR_CODES.items():
        if name in shapes:
            shapes[name].setdefault("error", {})["code"] = code
    for name, member in EMPTY_LISTS_ALLOWED.items():
        required = shapes.get(name, {}).get("required")
        if required and member in required:
            required.remove(member)
    return model


def queue_path(path: str) -> dict[str, str]:
    """{"QueueUrl": path} when a query request is posted to a queue's URL, else {}."""
    return {"QueueUrl": path} if _QUEUE_PATH.match(path) else {}
