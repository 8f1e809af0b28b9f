"""One call of an HTTP API, as it goes through the plane: what it asked for, what was decided,
and what API Gateway's `$context` variables say of it (parameter mappings, identity sources
and access logs read them from here).

Request ids are AWS's shape for HTTP APIs: 10 random bytes in base64 ("JeB0DgWWIAMEY5A="),
the same value serving as requestId and extendedRequestId. Times are CLF ("12/Mar/2020:19:03:58
+0000"), formatted once per second.
"""

from __future__ import annotations

import base64
import random
import time
from dataclasses import dataclass, field
from typing import Any

from ....protocol.messages import Request

_random = random.Random(random.SystemRandom().getrandbits(64))
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_clf: list[Any] = [0, ""]  # the second last formatted, and its text


def request_id() -> str:
    return base64.b64encode(_random.getrandbits(80).to_bytes(10, "big")).decode()


def clf(epoch_s: float) -> str:
    """The time in Common Log Format, UTC, English month names whatever the locale."""
    second = int(epoch_s)
    if _clf[0] != second:
        t = time.gmtime(second)
        _clf[0] = second
        _clf[1] = (
            f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"
        )
    return _clf[1]


@dataclass
class Call:
    request: Request
    api_id: str
    account: str
    region: str
    domain: str  # the Host the client used, port aside
    stage: str
    path: str  # decoded, as the client sent it (the stage's segment included)
    api_path: str  # the path within the stage (what routes match)
    started: float  # perf_counter at arrival
    epoch: float  # time.time() at arrival
    request_id: str = field(default_factory=request_id)
    route_key: str = "-"
    path_parameters: dict[str, str] = field(default_factory=dict)
    stage_variables: dict[str, str] = field(default_factory=dict)
    # What authorization found: the event's requestContext.authorizer (2.0 shape), and the
    # flat $context.authorizer.* values (a Lambda authorizer's context, principalId, claims).
    authorizer: dict[str, Any] | None = None
    authorizer_values: dict[str, Any] = field(default_factory=dict)
    identity: dict[str, Any] = field(default_factory=dict)  # $context.identity.* (IAM callers)
    status: int = 0
    response_length: int = 0
    integration_status: Any = None  # what the integration's service answered (Lambda's 200)
    backend_status: Any = None  # what the backend answered (the function's statusCode)
    integration_latency: float | None = None
    integration_error: str | None = None
    error_message: str | None = None
    authorizer_error: str | None = None
    aws_request_id: str | None = None

    @property
    def method(self) -> str:
        return self.request.method

    @property
    def source_ip(self) -> str:
        return self.request.client or "127.0.0.1"

    @property
    def user_agent(self) -> str:
        return self.request.headers.get("user-agent", "")

    @property
    def domain_prefix(self) -> str:
        return self.domain.split(".", 1)[0]

    def arn(self, tail: str) -> str:
        """arn:aws:execute-api:{region}:{account}:{api}/{tail}"""
        return f"arn:aws:execute-api:{self.region}:{self.account}:{self.api_id}/{tail}"

    def route_arn(self) -> str:
        """What IAM and Lambda authorizers decide on: the stage, method and path called."""
        return self.arn(f"{self.stage}/{self.method}{self.api_path}")

    def context(self, name: str) -> Any:
        """$context.<name>, or None where AWS has no value (access logs write "-")."""
        simple = _SIMPLE.get(name)
        if simple is not None:
            return simple(self)
        if name.startswith("authorizer."):
            key = name[len("authorizer.") :]
            if key == "error":
                return self.authorizer_error
            if key.startswith("claims."):
                return (self.authorizer_values.get("claims") or {}).get(key[len("claims.") :])
            return self.authorizer_values.get(key)
        if name.startswith("identity."):
            return self.identity.get(name[len("identity.") :])
        return None


def _latency(call: Call) -> int:
    return int((time.perf_counter() - call.started) * 1000)


_SIMPLE: dict[str, Any] = {
    "accountId": lambda c: c.account,
    "apiId": lambda c: c.api_id,
    "awsEndpointRequestId": lambda c: c.aws_request_id,
    "integration.requestId": lambda c: c.aws_request_id,
    "dataProcessed": lambda c: len(c.request.body) + c.response_length,
    "domainName": lambda c: c.domain,
    "domainPrefix": lambda c: c.domain_prefix,
    "error.message": lambda c: c.error_message,
    "error.messageString": lambda c: None if c.error_message is None else f'"{c.error_message}"',
    "error.responseType": lambda c: None,
    "extendedRequestId": lambda c: c.request_id,
    "httpMethod": lambda c: c.method,
    "identity.sourceIp": lambda c: c.source_ip,
    "identity.userAgent": lambda c: c.user_agent,
    "integration.error": lambda c: c.integration_error,
    "integrationErrorMessage": lambda c: c.integration_error,
    "integration.integrationStatus": lambda c: c.integration_status,
    "integrationStatus": lambda c: c.integration_status,
    "integration.latency": lambda c: None if c.integration_latency is None else int(c.integration_latency),
    "integrationLatency": lambda c: None if c.integration_latency is None else int(c.integration_latency),
    "integration.status": lambda c: c.backend_status,
    "path": lambda c: c.path,
    "protocol": lambda c: "HTTP/1.1",
    "requestId": lambda c: c.request_id,
    "requestTime": lambda c: clf(c.epoch),
    "requestTimeEpoch": lambda c: int(c.epoch * 1000),
    "responseLatency": _latency,
    "responseLength": lambda c: c.response_length,
    "routeKey": lambda c: c.route_key,
    "stage": lambda c: c.stage,
    "status": lambda c: c.status or None,
}
