"""Queue attributes: the settable ones, their defaults and ranges, and the computed ones."""

from __future__ import annotations

import json

from ...errors import ServiceError
from ...policy import RESOURCE, MalformedPolicy, parse_policy

MAX_MESSAGE_BYTES = 1024 * 1024  # AWS raised SQS's limit from 256 KiB to 1 MiB

DEFAULTS = {
    "VisibilityTimeout": "30",
    "MaximumMessageSize": str(MAX_MESSAGE_BYTES),
    "MessageRetentionPeriod": "345600",
    "DelaySeconds": "0",
    "ReceiveMessageWaitTimeSeconds": "0",
    "SqsManagedSseEnabled": "true",
}
FIFO_DEFAULTS = {
    "FifoQueue": "true",
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "queue",
    "FifoThroughputLimit": "perQueue",
}

RANGES = {
    "VisibilityTimeout": (0, 43200),
    "MaximumMessageSize": (1024, MAX_MESSAGE_BYTES),
    "MessageRetentionPeriod": (60, 1209600),
    "DelaySeconds": (0, 900),
    "ReceiveMessageWaitTimeSeconds": (0, 20),
    "KmsDataKeyReusePeriodSeconds": (60, 86400),
}
SETTABLE = set(RANGES) | {
    "Policy",
    "RedrivePolicy",
    "RedriveAllowPolicy",
    "ContentBasedDeduplication",
    "KmsMasterKeyId",
    "SqsManagedSseEnabled",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "FifoQueue",
}
COMPUTED = {
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
}


def invalid_value(name: str, reason: str = "") -> ServiceError:
    return ServiceError(
        "InvalidAttributeValue",
        f"Invalid value for the parameter {name}.{(' Reason: ' + reason) if reason else ''}",
        400,
    )


def checked(attributes: dict[str, str], fifo: bool, creating: bool) -> dict[str, str]:
    out = {}
    for name, value in attributes.items():
        if name not in SETTABLE:
            raise ServiceError("InvalidAttributeName", f"Unknown Attribute {name}.", 400)
        if name in RANGES:
            low, high = RANGES[name]
            try:
                number = int(value)
            except (TypeError, ValueError):
                raise invalid_value(name) from None
            if not low <= number <= high:
                raise invalid_value(name, f"Must be between {low} and {high}, if provided.")
            value = str(number)
        elif name == "FifoQueue":
            if not creating:
                raise invalid_value(name, "Modifying queue type is not supported.")
            if (value.lower() == "true") != fifo:
                raise invalid_value(
                    name,
                    "The name of a FIFO queue can only include alphanumeric characters, "
                    "hyphens, or underscores, must end with .fifo suffix.",
                )
            value = value.lower()
        elif name == "ContentBasedDeduplication":
            if not fifo:
                raise ServiceError("InvalidAttributeName", f"Unknown Attribute {name}.", 400)
            value = value.lower()
        elif name == "Policy" and value:
            try:
                parse_policy(value, kind=RESOURCE)
            except MalformedPolicy:
                raise invalid_value(name) from None
        elif name == "RedrivePolicy" and value:
            try:
                policy = json.loads(value)
                target = policy["deadLetterTargetArn"]
                count = int(policy["maxReceiveCount"])
            except (ValueError, KeyError, TypeError):
                raise invalid_value(
                    name, "Redrive policy is not a valid JSON map with deadLetterTargetArn and maxReceiveCount."
                ) from None
            if not 1 <= count <= 1000:
                raise invalid_value(name, "Value for maxReceiveCount must be between 1 and 1000.")
            if not str(target).startswith("arn:"):
                raise invalid_value(name, "Dead-letter target ARN is not a valid ARN.")
        out[name] = value
    return out
