"""Who may call a route: its AuthorizationType decides before the integration runs.

NONE      anyone.
CUSTOM    a Lambda REQUEST authorizer. Its identity sources ($request.header.x,
          $request.querystring.x, $context.x, $stageVariables.x) must all be present (else 401
          {"message":"Unauthorized"}, the function not invoked); with AuthorizerResultTtlInSeconds
          its answers are kept per identity-source values (ResetAuthorizersCache drops them).
          The function gets AWS's authorizer event (payload 1.0 or 2.0) and answers
          {isAuthorized, context} (simple responses, 2.0) or {principalId, policyDocument,
          context}, the policy evaluated for execute-api:Invoke on the route's ARN. Not
          authorized: 403 {"message":"Forbidden"}. A function that cannot be invoked (no
          permission), fails, or answers anything else: 500 {"message":"Internal Server Error"}.
          Its context reaches the integration in requestContext.authorizer.lambda.
JWT       jwt_auth.py.
AWS_IAM   the request signed with SigV4 for service execute-api, by a principal allowed
          execute-api:Invoke on the route's ARN (identity policies; the account's root always):
          else 403 {"message":"Forbidden"}. Who called goes to requestContext.authorizer.iam.
"""

from __future__ import annotations

import json
import time
from typing import Any

from ....access.authorizer import OFF, Authorizer
from ....errors import ServiceError
from ....policy import IDENTITY, MalformedPolicy, PolicySet, evaluate, parse_policy
from ....policy import RequestContext as PolicyRequest
from ....protocol.messages import Response
from ....protocol.sigv4 import Verifier
from ....services.apigatewayv2.integrations import function_arn
from ... import iam_callers
from ..functions import Functions
from . import events, replies
from .calls import Call
from .jwt_auth import JwtChecker, Refused
from .mapping import resolver

AUTHORIZER_TIMEOUT_S = 10.0
_KEPT = 4096


def unauthorized(*headers: tuple[str, str]) -> Response:
    return replies.message(401, "Unauthorized", *headers)


def forbidden(*headers: tuple[str, str]) -> Response:
    return replies.message(403, "Forbidden", *headers)


class Malformed(ValueError):
    pass


def _policy_allows(document: Any, route_arn: str, account: str) -> bool:
    try:
        policy = parse_policy(json.dumps(document), kind=IDENTITY)
    except (MalformedPolicy, TypeError, ValueError):
        raise Malformed("the policy document is not a valid policy") from None
    request = PolicyRequest(
        principal_arn=f"arn:aws:iam::{account}:user/apigateway-lambda-authorizer",
        action="execute-api:Invoke",
        resource=route_arn,
        is_root=False,
    )
    return evaluate(request, PolicySet(identity=[policy])).allowed


class Authorizers:
    def __init__(self, functions: Functions, verifier: Verifier, access: Authorizer, epoch) -> None:
        self.functions = functions
        self.verifier = verifier
        self.access = access
        self.epoch = epoch  # (api id, stage) -> ResetAuthorizersCache's counter
        self.jwt = JwtChecker()
        self._cache: dict[tuple, tuple[float, dict[str, Any], float]] = {}

    async def authorize(self, call: Call, route: Any, authorizer: dict[str, Any] | None) -> Response | None:
        """None if the call may go on (call.authorizer filled in), else the refusal."""
        kind = route.authorization_type
        if kind == "NONE":
            return None
        if kind == "AWS_IAM":
            return await self._iam(call)
        if authorizer is None:
            call.authorizer_error = "the route's authorizer is not deployed"
            return replies.internal_error()
        if kind == "JWT":
            return await self._jwt(call, route, authorizer)
        return await self._lambda(call, route, authorizer)

    # --- Lambda REQUEST authorizers -----------------------------------------------------------

    async def _lambda(self, call: Call, route: Any, authorizer: dict[str, Any]) -> Response | None:
        resolve = resolver(call)
        identity: list[str] = []
        for source in authorizer.get("IdentitySource") or []:
            value = resolve(source[1:]) if source.startswith("$") else None
            if value is None or value == "":
                call.authorizer_error = f"the identity source {source} is missing"
                return unauthorized()
            identity.append(str(value))
        ttl = int(authorizer.get("AuthorizerResultTtlInSeconds") or 0)
        key = (call.api_id, call.stage, authorizer["AuthorizerId"], self.epoch(call.api_id, call.stage), *identity)
        kept = self._cache.get(key) if ttl else None
        if kept is not None and kept[0] > time.monotonic():
            answer, latency = kept[1], kept[2]
        else:
            answer_or_refusal = await self._invoke(call, route, authorizer, identity)
            if isinstance(answer_or_refusal, Response):
                return answer_or_refusal
            answer, latency = answer_or_refusal
            if ttl:
                if len(self._cache) >= _KEPT:
                    self._cache.clear()
                self._cache[key] = (time.monotonic() + ttl, answer, latency)
        try:
            allowed = self._decide(call, authorizer, answer)
        except Malformed as error:
            call.authorizer_error = str(error)
            return replies.internal_error()
        context = answer.get("context") or {}
        call.authorizer = {"lambda": context}
        call.authorizer_values = {**context, "integrationLatency": int(latency)}
        if "principalId" in answer:
            call.authorizer_values["principalId"] = answer["principalId"]
        return None if allowed else forbidden()

    async def _invoke(
        self, call: Call, route: Any, authorizer: dict[str, Any], identity: list[str]
    ) -> Response | tuple[dict[str, Any], float]:
        function = function_arn(authorizer.get("AuthorizerUri") or "")
        if function is None:
            call.authorizer_error = "the authorizer names no function"
            return replies.internal_error()
        if authorizer.get("AuthorizerPayloadFormatVersion") == "1.0":
            route_path = route.key.path if not route.key.is_default else None
            event = events.authorizer_v1(call, identity, route_path, route.key.text)
        else:
            event = events.authorizer_v2(call, identity)
        invoked = await self.functions.invoke(
            function,
            json.dumps(event, separators=(",", ":")).encode(),
            call.arn(f"authorizers/{authorizer['AuthorizerId']}"),
            authorizer.get("AuthorizerCredentialsArn"),
            AUTHORIZER_TIMEOUT_S,
        )
        if invoked.error is not None or invoked.function_error:
            call.authorizer_error = invoked.error or f"the authorizer failed ({invoked.function_error})"
            return replies.internal_error()
        try:
            answer = json.loads(invoked.payload)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            call.authorizer_error = "the authorizer's response is not a JSON object"
            return replies.internal_error()
        return answer, invoked.latency_ms

    @staticmethod
    def _decide(call: Call, authorizer: dict[str, Any], answer: dict[str, Any]) -> bool:
        context = answer.get("context")
        if context is not None and not isinstance(context, dict):
            raise Malformed("the authorizer's context is not an object")
        if authorizer.get("EnableSimpleResponses"):
            allowed = answer.get("isAuthorized")
            if not isinstance(allowed, bool):
                raise Malformed("the authorizer's response has no boolean isAuthorized")
            return allowed
        document = answer.get("policyDocument")
        if not isinstance(document, dict) or "principalId" not in answer:
            raise Malformed("the authorizer's response has no principalId and policyDocument")
        return _policy_allows(document, call.route_arn(), call.account)

    # --- JWT --------------------------------------------------------------------------------

    async def _jwt(self, call: Call, route: Any, authorizer: dict[str, Any]) -> Response | None:
        sources = authorizer.get("IdentitySource") or ["$request.header.Authorization"]
        raw = resolver(call)(sources[0][1:])
        scopes = " ".join(route.authorization_scopes)
        if not raw:
            call.authorizer_error = "no token"
            return unauthorized(("www-authenticate", f'Bearer scope="{scopes}"'))
        try:
            verified = await self.jwt.verify(
                str(raw), authorizer.get("JwtConfiguration") or {}, route.authorization_scopes
            )
        except Refused as refused:
            call.authorizer_error = refused.description
            answer = forbidden if refused.status == 403 else unauthorized
            return answer(("www-authenticate", refused.www_authenticate))
        call.authorizer = {"jwt": {"claims": verified.claims, "scopes": verified.scopes}}
        call.authorizer_values = {"claims": verified.claims}
        return None

    # --- AWS_IAM ----------------------------------------------------------------------------

    async def _iam(self, call: Call) -> Response | None:
        request = call.request
        if "authorization" not in request.headers and "X-Amz-Signature=" not in request.query_string:
            call.error_message = "Forbidden"
            return forbidden()
        try:
            caller = self.verifier.verify(request)
        except ServiceError as error:
            call.error_message = error.message
            return replies.message(403, error.message)
        principal = caller.principal
        if principal is None or caller.service != "execute-api":
            call.error_message = "Forbidden"
            return forbidden()
        if self.access.mode != OFF:
            denial = await self.access.denial(
                principal,
                "execute-api",
                "execute-api:Invoke",
                call.route_arn(),
                call.account,
                {"aws:SourceIp": call.source_ip, "aws:SecureTransport": "false"},
            )
            if denial is not None:
                call.error_message = denial
                return forbidden()
        call.authorizer = {"iam": iam_callers.authorizer_iam(caller)}
        call.identity = iam_callers.identity(caller)
        return None
