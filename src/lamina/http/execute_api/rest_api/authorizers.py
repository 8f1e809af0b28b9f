"""Who may call a method: its authorizationType decides, before the integration runs
(apigateway-use-lambda-authorizer, permissions).

NONE                anyone (the resource policy aside: policies.py).
CUSTOM, TOKEN       the identity source header (`method.request.header.Authorization`)
                    must be there and match identityValidationExpression (else 401
                    "Unauthorized", the function not called); the function gets
                    {type: TOKEN, authorizationToken, methodArn}.
CUSTOM, REQUEST     the identity sources (headers, query string, stage variables, context)
                    must all be there when results are cached (else 401); the function gets
                    the request (the proxy event without the body) with type and methodArn.
                    Either answers {principalId, policyDocument, context, usageIdentifierKey}:
                    the policy is evaluated (policy/) for execute-api:Invoke on the methodArn,
                    an explicit Deny is 403 "User is not authorized to access this resource
                    with an explicit deny", no Allow 403 "User is not authorized to access this
                    resource". The function raising "Unauthorized" is 401; failing otherwise,
                    answering something else, or not being allowed to be invoked is 500
                    AUTHORIZER_CONFIGURATION_ERROR with a null message (what AWS answers).
                    Answers are kept authorizerResultTtlInSeconds (300 by default; 0: none) per
                    identity source values, and the kept policy is evaluated again for each
                    method called, as on AWS; FlushStageAuthorizersCache drops them.
                    principalId and the context (values as strings) reach the integration as
                    $context.authorizer.* and requestContext.authorizer.
COGNITO_USER_POOLS  Lamina has no Cognito: a request with its token header gets AWS's 500
                    AUTHORIZER_CONFIGURATION_ERROR (without one, 401).
AWS_IAM             SigV4 for service execute-api (unsigned: 403 "Missing Authentication
                    Token"; a bad signature: 403 with SigV4's message), by a principal whose
                    policies (or the API's resource policy) allow execute-api:Invoke on the
                    methodArn (else 403 "User: <arn> is not authorized to perform:
                    execute-api:Invoke on resource: <arn>": the plane decides, policies.py).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

from ....access.authorizer import OFF, Authorizer
from ....errors import ServiceError
from ....policy import EXPLICIT_DENY, IDENTITY, MalformedPolicy, PolicySet, evaluate, parse_policy
from ....policy import RequestContext as PolicyRequest
from ....protocol.sigv4 import Verifier
from ... import iam_callers
from ..functions import Functions, function_arn
from . import events
from .calls import RestCall
from .lambdas import with_stage_variables
from .refusals import Refusal
from .sources import resolve

AUTHORIZER_TIMEOUT_S = 10.0
DEFAULT_TTL = 300
_KEPT = 4096
EXPLICIT = "User is not authorized to access this resource with an explicit deny"
IMPLICIT = "User is not authorized to access this resource"


def unauthorized() -> Refusal:
    return Refusal("UNAUTHORIZED", "Unauthorized", 401)


def misconfigured() -> Refusal:
    return Refusal("AUTHORIZER_CONFIGURATION_ERROR", None, 500)


def _string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def decide(document: Any, method_arn: str, account: str) -> str | None:
    """None if the policy allows the method, else the refusal's message. Raises ValueError
    for a document that is no policy."""
    try:
        policy = parse_policy(json.dumps(document), kind=IDENTITY)
    except (MalformedPolicy, TypeError, ValueError):
        raise ValueError("the policy document is not a valid policy") from None
    request = PolicyRequest(
        principal_arn=f"arn:aws:iam::{account}:user/apigateway-authorizer",
        action="execute-api:Invoke",
        resource=method_arn,
        is_root=False,
    )
    decision = evaluate(request, PolicySet(identity=[policy]))
    if decision.allowed:
        return None
    return EXPLICIT if decision.reason == EXPLICIT_DENY else IMPLICIT


class Authorizers:
    def __init__(self, functions: Functions, verifier: Verifier, access: Authorizer, epoch: Callable) -> None:
        self.functions = functions
        self.verifier = verifier
        self.access = access
        self.epoch = epoch  # (api id, stage) -> FlushStageAuthorizersCache's counter
        self._cache: dict[tuple, tuple[float, dict[str, Any], float]] = {}

    async def authorize(self, call: RestCall, method: Any, authorizers: dict[str, dict[str, Any]]) -> Any:
        """Raises the Refusal. For AWS_IAM returns (the caller's Principal, why its own
        policies refuse or None): the resource policy may still let it in (policies.py)."""
        kind = method.authorization_type
        if kind == "NONE":
            return None
        if kind == "AWS_IAM":
            return await self._iam(call)
        authorizer = authorizers.get(method.authorizer_id or "")
        if authorizer is None:
            call.authorizer_error = "the method's authorizer is not in the deployment"
            raise misconfigured()
        if authorizer.get("type") == "COGNITO_USER_POOLS" or kind == "COGNITO_USER_POOLS":
            source = (authorizer.get("identitySource") or "method.request.header.Authorization").split(",")[0]
            if not resolve(source, call):
                raise unauthorized()
            call.authorizer_error = "Lamina does not serve Amazon Cognito user pools"
            raise misconfigured()
        await self._lambda(call, authorizer)
        return None

    # --- Lambda authorizers --------------------------------------------------------------------

    def _identity(self, call: RestCall, authorizer: dict[str, Any], ttl: int) -> list[str]:
        if authorizer.get("type") == "TOKEN":
            source = authorizer.get("identitySource") or "method.request.header.Authorization"
            token = resolve(source, call)
            if not token:
                call.authorizer_error = f"the identity source {source} is missing"
                raise unauthorized()
            expression = authorizer.get("identityValidationExpression")
            if expression and not re.fullmatch(expression, token):
                call.authorizer_error = "the token does not match the identity validation expression"
                raise unauthorized()
            return [token]
        values = []
        for source in (authorizer.get("identitySource") or "").split(","):
            source = source.strip()
            if not source:
                continue
            value = resolve(source, call)
            if not value and ttl:
                call.authorizer_error = f"the identity source {source} is missing"
                raise unauthorized()
            values.append(value or "")
        return values

    async def _lambda(self, call: RestCall, authorizer: dict[str, Any]) -> None:
        ttl = int(authorizer.get("authorizerResultTtlInSeconds", DEFAULT_TTL) or 0)
        identity = self._identity(call, authorizer, ttl)
        key = (call.api_id, call.stage, authorizer["id"], self.epoch(call.api_id, call.stage), *identity)
        kept = self._cache.get(key) if ttl else None
        if kept is not None and kept[0] > time.monotonic():
            answer, latency = kept[1], kept[2]
        else:
            answer, latency = await self._invoke(call, authorizer, identity)
            if ttl:
                if len(self._cache) >= _KEPT:
                    self._cache.clear()
                self._cache[key] = (time.monotonic() + ttl, answer, latency)
        call.authorizer_latency = latency
        context = answer.get("context") or {}
        if not isinstance(context, dict) or any(isinstance(v, (dict, list)) for v in context.values()):
            call.authorizer_error = "the authorizer's context must map names to strings, numbers or booleans"
            raise misconfigured()
        try:
            refusal = decide(answer["policyDocument"], call.method_arn(), call.account)
        except ValueError as error:
            call.authorizer_error = str(error)
            raise misconfigured() from None
        values = {name: _string(value) for name, value in context.items() if value is not None}
        call.authorizer = {"principalId": _string(answer["principalId"]), **values, "integrationLatency": int(latency)}
        if answer.get("usageIdentifierKey"):
            call.usage_key = str(answer["usageIdentifierKey"])
        if refusal is not None:
            raise Refusal("ACCESS_DENIED", refusal, 403)

    async def _invoke(
        self, call: RestCall, authorizer: dict[str, Any], identity: list[str]
    ) -> tuple[dict[str, Any], float]:
        function = function_arn(with_stage_variables(authorizer.get("authorizerUri") or "", call.stage_variables))
        if function is None:
            call.authorizer_error = "the authorizer names no function"
            raise misconfigured()
        if authorizer.get("type") == "TOKEN":
            event = events.token_authorizer(call, identity[0])
        else:
            event = events.request_authorizer(call)
        invoked = await self.functions.invoke(
            function,
            json.dumps(event, separators=(",", ":")).encode(),
            call.arn(f"authorizers/{authorizer['id']}"),
            authorizer.get("authorizerCredentials"),
            AUTHORIZER_TIMEOUT_S,
        )
        call.authorizer_status = invoked.status
        if invoked.error is not None:
            call.authorizer_error = invoked.error
            raise misconfigured()
        if invoked.function_error:
            message = _error_message(invoked.payload)
            call.authorizer_error = message or invoked.function_error
            if message == "Unauthorized":
                raise unauthorized()
            raise misconfigured()
        try:
            answer = json.loads(invoked.payload)
        except ValueError:
            answer = None
        if (
            not isinstance(answer, dict)
            or "principalId" not in answer
            or not isinstance(answer.get("policyDocument"), dict)
        ):
            call.authorizer_error = "the authorizer's answer has no principalId and policyDocument"
            raise misconfigured()
        return answer, invoked.latency_ms

    # --- AWS_IAM ------------------------------------------------------------------------------

    async def _iam(self, call: RestCall) -> Any:
        request = call.request
        if "authorization" not in request.headers and "X-Amz-Signature=" not in request.query_string:
            raise Refusal("MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token", 403)
        try:
            caller = self.verifier.verify(request)
        except ServiceError as error:
            expired = "expired" in error.message.lower()
            raise Refusal("EXPIRED_TOKEN" if expired else "INVALID_SIGNATURE", error.message, 403) from None
        principal = caller.principal
        if principal is None or caller.service != "execute-api":
            raise Refusal("INVALID_SIGNATURE", "Credential should be scoped to correct service: 'execute-api'. ", 403)
        call.identity.update(iam_callers.identity(caller))
        denial = None
        if self.access.mode != OFF:
            denial = await self.access.denial(
                principal,
                "execute-api",
                "execute-api:Invoke",
                call.method_arn(),
                call.account,
                {"aws:SourceIp": call.source_ip, "aws:SecureTransport": "false"},
            )
        return principal, denial


def _error_message(payload: bytes) -> str | None:
    try:
        document = json.loads(payload)
    except ValueError:
        return None
    return str(document.get("errorMessage")) if isinstance(document, dict) and "errorMessage" in document else None
