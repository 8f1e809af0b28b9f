"""Who may connect: the $connect route's authorization and API key, checked at the handshake
(WebSocket APIs authorize $connect only; later messages ride on the connection).

    AWS_IAM  the handshake is SigV4-signed for the service execute-api (headers, or a
             presigned URL's query string), and the signer may execute-api:Invoke on
             arn:aws:execute-api:{region}:{account}:{api}/{stage}/$connect
    CUSTOM   a Lambda REQUEST authorizer: every identity source (route.request.header.X,
             route.request.querystring.Y) must be there, else 401 without calling it; it
             answers {principalId, policyDocument, context}; the policy must allow
             execute-api:Invoke on the methodArn, else 403; principalId and context reach
             every later event as requestContext.authorizer
    ApiKeyRequired  the key the ApiKeySelectionExpression selects (default the x-api-key
             header) must be one of a usage plan of this stage (`api_keys`, from API
             Gateway's REST control plane, which keeps keys and plans); none: 403

Refusals are AWS's answers: 401 {"message":"Unauthorized"}, 403 {"message":"Forbidden"},
500 {"message": null} when the authorizer itself fails.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ....access.authorizer import Authorizer
from ....errors import ServiceError
from ....policy import MalformedPolicy, PolicySet, evaluate, parse_policy
from ....policy import RequestContext as PolicyRequest
from ....protocol.messages import Request, Response
from ....protocol.sigv4 import Verifier
from ..functions import Functions, function_arn
from .connections import Connection
from .events import authorizer_event, query_of
from .selection import Sources
from .selection import evaluate as select

log = logging.getLogger("lamina.websocket_api")

# (account, region, api id, stage, key value) -> the key's id if it may call, else None
ApiKeys = Callable[[str, str, str, str, str], Awaitable["str | None"]]


def _answer(status: int, message: str | None) -> Response:
    body = json.dumps({"message": message}, separators=(",", ":")).encode()
    return Response(status, [("content-type", "application/json")], body)


UNAUTHORIZED = _answer(401, "Unauthorized")
FORBIDDEN = _answer(403, "Forbidden")
AUTHORIZER_FAILED = _answer(500, None)


@dataclass
class Verdict:
    refusal: Response | None = None
    authorizer: dict[str, Any] | None = None
    identity: dict[str, Any] = field(default_factory=dict)


def execute_api_arn(region: str, account: str, api_id: str, rest: str) -> str:
    return f"arn:aws:execute-api:{region}:{account}:{api_id}/{rest}"


class ConnectAuthorization:
    def __init__(
        self,
        invoker: Functions,
        verifier: Verifier | None,
        authorizer: Authorizer | None,
        api_keys: ApiKeys | None = None,
    ) -> None:
        self.invoker = invoker
        self.verifier = verifier
        self.authorizer = authorizer
        self.api_keys = api_keys  # None: no source of keys, so a required key never matches

    async def check(
        self, served: Any, stage: Any, route: Any, connection: Connection, request: Request, request_id: str
    ) -> Verdict:
        verdict = Verdict()
        method_arn = execute_api_arn(served.region, served.account, served.api_id, f"{stage.name}/$connect")
        if route.authorization_type == "AWS_IAM":
            refusal = await self._iam(served, method_arn, request, verdict)
            if refusal is not None:
                return Verdict(refusal)
        elif route.authorization_type == "CUSTOM":
            refusal = await self._custom(served, stage, route, connection, request, request_id, method_arn, verdict)
            if refusal is not None:
                return Verdict(refusal)
        if route.api_key_required:
            refusal = await self._api_key(served, stage, request, verdict)
            if refusal is not None:
                return Verdict(refusal)
        return verdict

    async def _iam(self, served: Any, method_arn: str, request: Request, verdict: Verdict) -> Response | None:
        if self.verifier is None:
            return None
        signed = "authorization" in request.headers or "X-Amz-Signature=" in request.query_string
        if not signed and self.verifier.enforce:
            return FORBIDDEN
        try:
            caller = self.verifier.verify(request)
        except ServiceError:
            return FORBIDDEN
        principal = caller.principal
        if principal is None:
            return None  # an unknown key let through: signatures are not enforced
        if self.authorizer is not None:
            denial = await self.authorizer.denial(
                principal, "execute-api", "execute-api:Invoke", method_arn, served.account, {}
            )
            if denial is not None:
                return FORBIDDEN
        verdict.identity.update(
            {
                "accountId": principal.account,
                "caller": principal.user_id,
                "accessKey": caller.access_key,
                "userArn": principal.arn,
                "user": principal.user_id,
            }
        )
        return None

    async def _custom(
        self,
        served: Any,
        stage: Any,
        route: Any,
        connection: Connection,
        request: Request,
        request_id: str,
        method_arn: str,
        verdict: Verdict,
    ) -> Response | None:
        record = stage.authorizers.get(route.authorizer_id or "")
        function = function_arn(record.get("AuthorizerUri", "")) if record else None
        if record is None or function is None:
            return AUTHORIZER_FAILED
        query, _ = query_of(request)
        for source in record.get("IdentitySource") or ():
            where, _, name = source.removeprefix("route.request.").partition(".")
            present = request.headers.get(name.lower()) if where == "header" else query.get(name)
            if not present:
                return UNAUTHORIZED
        event = authorizer_event(connection, request, request_id, method_arn, stage.stage_variables)
        started = time.monotonic()
        try:
            invoked = await self.invoker.run(
                function,
                json.dumps(event).encode(),
                source_arn=execute_api_arn(
                    served.region, served.account, served.api_id, f"authorizers/{record['AuthorizerId']}"
                ),
                request_id=request_id,
                credentials_arn=record.get("AuthorizerCredentialsArn"),
            )
        except ServiceError as error:
            log.info("authorizer %s could not run: %s", record.get("AuthorizerId"), error.message)
            return AUTHORIZER_FAILED
        latency = int((time.monotonic() - started) * 1000)
        if invoked.function_error:
            # A function that raises "Unauthorized" means 401, as AWS reads it.
            return UNAUTHORIZED if b'"Unauthorized"' in invoked.payload else AUTHORIZER_FAILED
        try:
            answer = json.loads(invoked.payload)
            allowed = _allows(answer["policyDocument"], method_arn)
        except (ValueError, KeyError, TypeError, MalformedPolicy):
            return AUTHORIZER_FAILED
        if not allowed:
            return FORBIDDEN
        context = answer.get("context") if isinstance(answer.get("context"), dict) else {}
        verdict.authorizer = {**context, "principalId": answer.get("principalId"), "integrationLatency": latency}
        if answer.get("usageIdentifierKey"):
            verdict.authorizer["usageIdentifierKey"] = answer["usageIdentifierKey"]
        return None

    async def _api_key(self, served: Any, stage: Any, request: Request, verdict: Verdict) -> Response | None:
        query, _ = query_of(request)
        sources = Sources(headers=request.headers, query=query, context={"authorizer": verdict.authorizer or {}})
        value = select(served.api_key_selection_expression or "$request.header.x-api-key", sources)
        if not value or self.api_keys is None:
            return FORBIDDEN
        key_id = await self.api_keys(served.account, served.region, served.api_id, stage.name, value)
        if key_id is None:
            return FORBIDDEN
        verdict.identity.update({"apiKey": value, "apiKeyId": key_id})
        return None


def _allows(document: Any, method_arn: str) -> bool:
    """Whether an authorizer's policy allows execute-api:Invoke on the method ARN (an explicit
    Deny wins; no Allow is a denial)."""
    policy = parse_policy(document if isinstance(document, str) else json.dumps(document))
    # Not a root (whose own account's policies do not bind it): the policy decides alone.
    caller = "arn:aws:sts::000000000000:assumed-role/authorizer/caller"
    request = PolicyRequest(principal_arn=caller, action="execute-api:Invoke", resource=method_arn)
    return evaluate(request, PolicySet(identity=[policy])).allowed
