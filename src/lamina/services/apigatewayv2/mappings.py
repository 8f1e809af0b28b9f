"""Parameter mappings as AWS accepts them.

HTTP APIs' integrations (HTTP_PROXY and Lambda's AWS_PROXY): RequestParameters keys
`append:|overwrite:|remove:` + `header.<name>` or `querystring.<name>`, or `overwrite:path`;
ResponseParameters: status code (200-599) -> `append:|overwrite:|remove:header.<name>` or
`overwrite:statuscode`. AWS service integrations (IntegrationSubtype): the subtype's own
parameters (SUBTYPES), its required ones present. WebSocket integrations:
`integration.request.(header|querystring|path).<name>` -> a `route.request...` source,
`$context...`, `$stageVariables...` or a quoted static value.
"""

from __future__ import annotations

import re
from typing import Any

from ..api_gateway_errors import bad_request

# subtype -> (required parameters, optional parameters)
SUBTYPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "EventBridge-PutEvents": (
        ("Detail", "DetailType", "Source"),
        ("Time", "EventBusName", "Resources", "Region", "TraceHeader"),
    ),
    "SQS-SendMessage": (
        ("QueueUrl", "MessageBody"),
        (
            "DelaySeconds",
            "MessageAttributes",
            "MessageDeduplicationId",
            "MessageGroupId",
            "MessageSystemAttributes",
            "Region",
        ),
    ),
    "SQS-ReceiveMessage": (
        ("QueueUrl",),
        (
            "AttributeNames",
            "MaxNumberOfMessages",
            "MessageAttributeNames",
            "ReceiveRequestAttemptId",
            "VisibilityTimeout",
            "WaitTimeSeconds",
            "Region",
        ),
    ),
    "SQS-DeleteMessage": (("QueueUrl", "ReceiptHandle"), ("Region",)),
    "SQS-PurgeQueue": (("QueueUrl",), ("Region",)),
    "AppConfig-GetConfiguration": (
        ("Application", "Environment", "Configuration", "ClientId"),
        ("ClientConfigurationVersion", "Region"),
    ),
    "Kinesis-PutRecord": (
        ("StreamName", "Data", "PartitionKey"),
        ("SequenceNumberForOrdering", "ExplicitHashKey", "Region"),
    ),
    "StepFunctions-StartExecution": (("StateMachineArn",), ("Name", "Input", "Region", "TraceHeader")),
    "StepFunctions-StartSyncExecution": (("StateMachineArn",), ("Name", "Input", "Region", "TraceHeader")),
    "StepFunctions-StopExecution": (("ExecutionArn",), ("Cause", "Error", "Region")),
}

_HTTP_REQUEST_KEY = re.compile(r"^(append|overwrite|remove):(header|querystring)\.([A-Za-z0-9!#$%&'*+\-.^_`|~]+)$")
_HTTP_RESPONSE_KEY = re.compile(r"^(append|overwrite|remove):header\.([A-Za-z0-9!#$%&'*+\-.^_`|~]+)$")
_WS_REQUEST_KEY = re.compile(r"^integration\.request\.(header|querystring|path)\.[A-Za-z0-9._\-]+$")
_SOURCE = re.compile(
    r"\$(request\.(header|querystring|multivalueheader|multivaluequerystring|path)(\.[A-Za-z0-9._\-]+)?"
    r"|request\.body(\.[A-Za-z0-9._\-\[\]]+)?|context\.[A-Za-z0-9._\-]+|stageVariables\.[A-Za-z0-9_]+"
    r"|response\.(header|body)(\.[A-Za-z0-9._\-]+)?)"
    r"|\$\{[^}]+\}"
)
_WS_SOURCE = re.compile(
    r"^(route\.request\.(header|querystring|path)\.[A-Za-z0-9._\-]+|route\.request\.body\.[A-Za-z0-9._\-\[\]$]+"
    r"|context\.[A-Za-z0-9._\-]+|stageVariables\.[A-Za-z0-9_]+|'[^']*')$"
)


def _invalid(key: str, value: str | None = None):
    return bad_request(f"Invalid mapping expression specified: {key if value is None else value}")


def _value(key: str, value: str) -> None:
    """A mapped value: static text, with `$request...`, `$context...`, `$stageVariables...`
    references (also as `${...}`) that must be well formed."""
    for match in re.finditer(r"\$\{?[A-Za-z]", value):
        if not _SOURCE.match(value, match.start()):
            raise _invalid(key, value)


def http_request(params: dict[str, str]) -> None:
    for key, value in params.items():
        if key == "overwrite:path":
            _value(key, value)
            continue
        match = _HTTP_REQUEST_KEY.match(key)
        if not match:
            raise _invalid(key)
        if match.group(1) != "remove":
            _value(key, value)


def http_response(params: dict[str, dict[str, str]]) -> None:
    for status, mapping in params.items():
        if not (status.isdigit() and 200 <= int(status) <= 599):
            raise bad_request(
                f"Invalid status code specified for response parameters: {status}. It must be between 200 and 599"
            )
        for key, value in mapping.items():
            if key == "overwrite:statuscode":
                if not (value.isdigit() and 200 <= int(value) <= 599) and not value.startswith("$"):
                    raise _invalid(key, value)
                continue
            match = _HTTP_RESPONSE_KEY.match(key)
            if not match:
                raise _invalid(key)
            if match.group(1) != "remove":
                _value(key, value)


def service(subtype: str, params: dict[str, str]) -> None:
    required, optional = SUBTYPES[subtype]
    for key, value in params.items():
        if key not in required and key not in optional:
            raise bad_request(f"Parameter: {key} is not supported for integration subtype {subtype}")
        _value(key, value)
    missing = [name for name in required if name not in params]
    if missing:
        raise bad_request(f"Parameter: {missing[0]} is required for integration subtype {subtype}")


def websocket_request(params: dict[str, str]) -> None:
    for key, value in params.items():
        if not _WS_REQUEST_KEY.match(key):
            raise _invalid(key)
        if not _WS_SOURCE.match(value):
            raise _invalid(key, value)


def route_request(params: dict[str, Any]) -> None:
    """A WebSocket route's RequestParameters: `route.request.header|querystring.<name>` ->
    {"Required": bool}."""
    for key in params:
        if not re.match(r"^route\.request\.(header|querystring)\.[A-Za-z0-9._\-]+$", key):
            raise bad_request(f"Invalid route request parameter specified: {key}")
