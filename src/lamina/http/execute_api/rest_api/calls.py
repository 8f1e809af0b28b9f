"""One call of a REST API as it goes through the plane: what it asked for, what was decided,
and what API Gateway's `$context` variables say of it (templates, gateway responses,
parameter mappings and access logs all read them from here).

REST APIs' ids are AWS's: requestId a UUID (also the x-amzn-RequestId header),
extendedRequestId 10 random bytes in base64 (the x-amz-apigw-id header). Times are CLF.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .... import ids
from ....protocol.messages import Request
from ..addresses import Address
from ..http_api.calls import clf
from ..http_api.calls import request_id as extended_id


@dataclass
class RestCall:
    request: Request
    where: Address
    api_id: str
    api_name: str
    account: str
    region: str
    stage: str
    api_path: str  # the path within the stage, decoded
    started: float  # perf_counter at arrival
    epoch: float  # time.time() at arrival
    request_id: str = field(default_factory=ids.uuid4)
    extended_request_id: str = field(default_factory=extended_id)
    stage_variables: dict[str, str] = field(default_factory=dict)
    resource_id: str | None = None
    resource_path: str | None = None
    path_parameters: dict[str, str] = field(default_factory=dict)
    operation_name: str | None = None
    # What authorization found: $context.authorizer.* (principalId, the context, claims),
    # $context.identity.* (IAM callers, the API key).
    authorizer: dict[str, Any] | None = None
    identity: dict[str, Any] = field(default_factory=dict)
    usage_key: str | None = None  # an AUTHORIZER-sourced API key (usageIdentifierKey)
    # What happened.
    status: int = 0
    response_length: int = 0
    error_message: str | None = None
    error_type: str | None = None  # the gateway response type answered, if any
    validation_error: str | None = None
    authorizer_error: str | None = None
    authorizer_latency: float | None = None
    authorizer_status: int | None = None
    integration_status: Any = None
    integration_latency: float | None = None
    integration_error: str | None = None
    aws_request_id: str | None = None
    # $context.requestOverride / responseOverride, which templates may set.
    request_override: dict[str, dict[str, str]] = field(
        default_factory=lambda: {"header": {}, "querystring": {}, "path": {}}
    )
    response_override: dict[str, Any] = field(default_factory=lambda: {"status": None, "header": {}})

    @property
    def method(self) -> str:
        return self.request.method

    @property
    def path(self) -> str:
        """The path as the client called it, the stage's segment included."""
        return self.where.path

    @property
    def domain(self) -> str:
        return self.where.host

    @property
    def source_ip(self) -> str:
        forwarded = self.request.headers.get("x-forwarded-for")
        return forwarded.split(",")[0].strip() if forwarded else self.request.client or "127.0.0.1"

    @property
    def user_agent(self) -> str:
        return self.request.headers.get("user-agent", "")

    def arn(self, tail: str) -> str:
        return f"arn:aws:execute-api:{self.region}:{self.account}:{self.api_id}/{tail}"

    def method_arn(self) -> str:
        """What authorizers and policies decide on: the stage, the method and the path
        called (not the resource's template)."""
        return self.arn(f"{self.stage}/{self.method}{self.api_path}")

    def identity_tree(self) -> dict[str, Any]:
        """$context.identity, every key AWS has (None where it has no value)."""
        tree: dict[str, Any] = dict.fromkeys(_IDENTITY_KEYS)
        tree.update(self.identity)
        tree["sourceIp"] = self.source_ip
        tree["userAgent"] = self.user_agent
        return tree

    def context_tree(self) -> dict[str, Any]:
        """$context as templates see it."""
        tree = {name: getter(self) for name, getter in _SIMPLE.items() if "." not in name}
        tree["identity"] = self.identity_tree()
        tree["authorizer"] = dict(self.authorizer or {})
        tree["error"] = {
            "message": self.error_message,
            "messageString": _quoted(self.error_message),
            "responseType": self.error_type,
            "validationErrorString": self.validation_error,
        }
        tree["requestOverride"] = self.request_override
        tree["responseOverride"] = self.response_override
        tree["integration"] = {
            "error": self.integration_error,
            "integrationStatus": self.integration_status,
            "latency": _ms(self.integration_latency),
            "requestId": self.aws_request_id,
            "status": self.integration_status,
        }
        return tree

    def context(self, name: str) -> Any:
        """$context.<name> for access logs and mappings, or None (written "-")."""
        simple = _SIMPLE.get(name)
        if simple is not None:
            return simple(self)
        head, _, rest = name.partition(".")
        if head == "authorizer":
            return (self.authorizer or {}).get(rest)
        if head == "identity":
            return self.identity_tree().get(rest)
        return None


_IDENTITY_KEYS = (
    "accountId",
    "apiKey",
    "apiKeyId",
    "caller",
    "cognitoAuthenticationProvider",
    "cognitoAuthenticationType",
    "cognitoIdentityId",
    "cognitoIdentityPoolId",
    "principalOrgId",
    "sourceIp",
    "clientCert",
    "vpcId",
    "vpceId",
    "user",
    "userAgent",
    "userArn",
    "accessKey",
)


def _quoted(message: str | None) -> str:
    """$context.error.messageString: the message as a JSON string (null when there is none)."""
    if message is None:
        return "null"
    return '"' + message.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ms(value: float | None) -> int | None:
    return None if value is None else int(value)


_SIMPLE: dict[str, Any] = {
    "accountId": lambda c: c.account,
    "apiId": lambda c: c.api_id,
    "awsEndpointRequestId": lambda c: c.aws_request_id,
    "domainName": lambda c: c.domain,
    "domainPrefix": lambda c: c.domain.split(".", 1)[0],
    "error.message": lambda c: c.error_message,
    "error.messageString": lambda c: None if c.error_message is None else _quoted(c.error_message),
    "error.responseType": lambda c: c.error_type,
    "error.validationErrorString": lambda c: c.validation_error,
    "extendedRequestId": lambda c: c.extended_request_id,
    "httpMethod": lambda c: c.method,
    "identity.sourceIp": lambda c: c.source_ip,
    "identity.userAgent": lambda c: c.user_agent,
    "authorizer.error": lambda c: c.authorizer_error,
    "authorizer.latency": lambda c: _ms(c.authorizer_latency),
    "authorizer.status": lambda c: c.authorizer_status,
    "integration.error": lambda c: c.integration_error,
    "integration.integrationStatus": lambda c: c.integration_status,
    "integration.latency": lambda c: _ms(c.integration_latency),
    "integration.requestId": lambda c: c.aws_request_id,
    "integration.status": lambda c: c.integration_status,
    "integrationErrorMessage": lambda c: c.integration_error,
    "integrationLatency": lambda c: _ms(c.integration_latency),
    "integrationStatus": lambda c: c.integration_status,
    "operationName": lambda c: c.operation_name,
    "path": lambda c: c.path,
    "protocol": lambda c: "HTTP/1.1",
    "requestId": lambda c: c.request_id,
    "requestTime": lambda c: clf(c.epoch),
    "requestTimeEpoch": lambda c: int(c.epoch * 1000),
    "resourceId": lambda c: c.resource_id,
    "resourcePath": lambda c: c.resource_path,
    "responseLatency": lambda c: int((time.perf_counter() - c.started) * 1000),
    "responseLength": lambda c: c.response_length,
    "stage": lambda c: c.stage,
    "status": lambda c: c.status or None,
    "wafResponseCode": lambda c: None,
    "webaclArn": lambda c: None,
}
