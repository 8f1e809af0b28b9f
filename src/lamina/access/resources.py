"""The resource ARN an operation acts on, from its parameters, in the formats of AWS's
Service Authorization Reference. Operations on no particular resource (List*, Create* of
account-wide things without a name) act on "*".
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

Params = dict[str, Any]

# The parameters that can name another account's resource (an ARN, a queue URL).
_NAMING = (
    "Arn",
    "FunctionName",
    "QueueUrl",
    "TopicArn",
    "TargetArn",
    "StreamARN",
    "EventBusName",
    "ResourceArn",
    "Resource",
)


def names_other_account(params: Params, account: str) -> bool:
    """Whether a call's parameters name a resource of an account other than `account`: the
    only case where an account's root needs a decision (cheap: a few dictionary lookups)."""
    for key in _NAMING:
        value = params.get(key)
        if isinstance(value, str) and len(value) > 12 and account not in value and re.search(r"[:/]\d{12}[:/]", value):
            return True
    entries = params.get("Entries")
    if type(entries) is list and entries and type(entries[0]) is dict and "EventBusName" in entries[0]:
        return any(names_other_account(entry, account) for entry in entries)
    return False


def account_of(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4] else None


def resource_arns(service: str, operation: str, params: Params, region: str, account: str) -> list[str]:
    """The resources a call acts on: one, except for EventBridge's PutEvents, whose entries
    each name their bus."""
    if service == "events" and operation == "PutEvents":
        buses = {_events(operation, entry, region, account) or "*" for entry in params.get("Entries") or [{}]}
        return sorted(buses)
    return [resource_arn(service, operation, params, region, account)]


def resource_arn(service: str, operation: str, params: Params, region: str, account: str) -> str:
    resolve = _RESOLVERS.get(service)
    if resolve is None:
        return "*"
    return resolve(operation, params, region, account) or "*"


def _lambda(operation: str, params: Params, region: str, account: str) -> str | None:
    base = f"arn:aws:lambda:{region}:{account}"
    if operation == "GetLayerVersionByArn" and params.get("Arn"):
        return params["Arn"]
    if "UUID" in params:
        return f"{base}:event-source-mapping:{params['UUID']}"
    if "LayerName" in params:
        name = params["LayerName"]
        arn = name if name.startswith("arn:") else f"{base}:layer:{name}"
        version = params.get("VersionNumber")
        return f"{arn}:{version}" if version else arn
    name = params.get("FunctionName")
    if not name:
        return None
    if name.startswith("arn:"):
        arn = name
    elif ":" in name:  # account:function:name, or name:qualifier
        parts = name.split(":")
        arn = f"{base}:function:{parts[2]}" if len(parts) >= 3 and parts[1] == "function" else f"{base}:function:{name}"
    else:
        arn = f"{base}:function:{name}"
    qualifier = params.get("Qualifier")
    if qualifier and arn.count(":") == 6:
        arn = f"{arn}:{qualifier}"
    return arn


def _sqs(operation: str, params: Params, region: str, account: str) -> str | None:
    url = params.get("QueueUrl")
    if url:
        parts = urlsplit(url).path.strip("/").split("/")
        if len(parts) >= 2:
            return f"arn:aws:sqs:{region}:{parts[-2]}:{parts[-1]}"
    name = params.get("QueueName")
    return f"arn:aws:sqs:{region}:{account}:{name}" if name else None


def _sns(operation: str, params: Params, region: str, account: str) -> str | None:
    for key in ("TopicArn", "TargetArn", "ResourceArn"):
        if params.get(key):
            return params[key]
    if params.get("SubscriptionArn"):
        return params["SubscriptionArn"].rsplit(":", 1)[0]  # the topic's
    if operation == "CreateTopic" and params.get("Name"):
        return f"arn:aws:sns:{region}:{account}:{params['Name']}"
    return None


def _kinesis(operation: str, params: Params, region: str, account: str) -> str | None:
    if params.get("StreamARN"):
        return params["StreamARN"]
    if params.get("ConsumerARN"):
        return params["ConsumerARN"]
    if params.get("ResourceARN"):
        return params["ResourceARN"]
    name = params.get("StreamName")
    return f"arn:aws:kinesis:{region}:{account}:stream/{name}" if name else None


def _logs(operation: str, params: Params, region: str, account: str) -> str | None:
    group = params.get("logGroupName") or params.get("logGroupIdentifier")
    if not group:
        return params.get("resourceArn")
    if group.startswith("arn:"):
        return group
    stream = params.get("logStreamName")
    base = f"arn:aws:logs:{region}:{account}:log-group:{group}"
    return f"{base}:log-stream:{stream}" if stream else f"{base}:*"


def _events(operation: str, params: Params, region: str, account: str) -> str | None:
    bus = params.get("EventBusName") or "default"
    bus_name = bus.rsplit("/", 1)[-1] if bus.startswith("arn:") else bus
    if "Rule" in params or (operation.endswith("Rule") and "Name" in params):
        rule = params.get("Rule") or params["Name"]
        path = f"rule/{rule}" if bus_name == "default" else f"rule/{bus_name}/{rule}"
        return f"arn:aws:events:{region}:{account}:{path}"
    if operation.endswith("EventBus") and params.get("Name"):
        return f"arn:aws:events:{region}:{account}:event-bus/{params['Name']}"
    if params.get("ResourceARN"):
        return params["ResourceARN"]
    if bus.startswith("arn:"):  # another account's bus, maybe
        return bus
    return f"arn:aws:events:{region}:{account}:event-bus/{bus_name}"


def _scheduler(operation: str, params: Params, region: str, account: str) -> str | None:
    if params.get("ResourceArn"):
        return params["ResourceArn"]
    name = params.get("Name")
    if not name:
        return None
    if operation.endswith("ScheduleGroup"):
        return f"arn:aws:scheduler:{region}:{account}:schedule-group/{name}"
    return f"arn:aws:scheduler:{region}:{account}:schedule/{params.get('GroupName') or 'default'}/{name}"


def _iam(operation: str, params: Params, region: str, account: str) -> str | None:
    for key in ("PolicyArn", "OpenIDConnectProviderArn", "SAMLProviderArn"):
        if params.get(key):
            return params[key]
    path = params.get("Path") or "/"
    for key, kind in (
        ("RoleName", "role"),
        ("UserName", "user"),
        ("GroupName", "group"),
        ("InstanceProfileName", "instance-profile"),
    ):
        if params.get(key):
            return f"arn:aws:iam::{account}:{kind}{path}{params[key]}"
    if operation == "CreatePolicy" and params.get("PolicyName"):
        return f"arn:aws:iam::{account}:policy{path}{params['PolicyName']}"
    return None


_RESOLVERS = {
    "lambda": _lambda,
    "sqs": _sqs,
    "sns": _sns,
    "kinesis": _kinesis,
    "logs": _logs,
    "events": _events,
    "scheduler": _scheduler,
    "iam": _iam,
}
