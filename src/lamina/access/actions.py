"""An operation's IAM action, as AWS's Service Authorization Reference names it.

Mostly "<prefix>:<Operation>"; the exceptions are listed. The prefix is the service's IAM
prefix, which is not always its botocore name (cloudwatch: monitoring's is "cloudwatch").
"""

from __future__ import annotations

PREFIX = {
    "lambda": "lambda",
    "sqs": "sqs",
    "sns": "sns",
    "kinesis": "kinesis",
    "logs": "logs",
    "cloudwatch": "cloudwatch",
    "events": "events",
    "scheduler": "scheduler",
    "iam": "iam",
    "sts": "sts",
}

# Operations whose action is not their own name.
RENAMED = {
    ("lambda", "Invoke"): "InvokeFunction",
    ("lambda", "InvokeAsync"): "InvokeFunction",
    ("lambda", "InvokeWithResponseStream"): "InvokeFunction",
    ("lambda", "GetLayerVersionByArn"): "GetLayerVersion",
    ("sqs", "SendMessageBatch"): "SendMessage",
    ("sqs", "DeleteMessageBatch"): "DeleteMessage",
    ("sqs", "ChangeMessageVisibilityBatch"): "ChangeMessageVisibility",
    ("sns", "PublishBatch"): "Publish",
}


def iam_action(service: str, operation: str) -> str:
    return f"{PREFIX.get(service, service)}:{RENAMED.get((service, operation), operation)}"
