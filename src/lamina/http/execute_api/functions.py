"""Invoking a Lambda function as API Gateway does, for an integration or a Lambda
authorizer: one `Functions` per plane (HTTP, REST, WebSocket).

API Gateway calls as the service principal apigateway.amazonaws.com, for a source ARN
(`arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}/{route path}` for a route,
`.../{api}/authorizers/{id}` for an authorizer): the function's resource policy must allow it
(`lambda add-permission --principal apigateway.amazonaws.com --source-arn ...`), unless the
integration names a role (CredentialsArn, an authorizer's AuthorizerCredentialsArn), which
must trust apigateway.amazonaws.com and be allowed lambda:InvokeFunction. The delivery gate
(access/deliveries.py) decides.

The invocation itself is Lambda's Invoke through the gateway by name (Gateway.call_here: the
reset gate and Lambda's own checks apply, and no layer is skipped), as the function's account,
the gate having decided who may. Two ways:

    invoke()  the HTTP and REST planes: the gate's decisions for a function's policy kept per
              policy text (a warm route pays one dict lookup; a changed policy, by
              AddPermission or RemovePermission, is seen on the next call), a role's until
              IAM changes; given the integration's timeout, past which the caller is answered
              and the invocation finishes on its own, as on AWS. A refusal, Lambda's error or
              the timeout is in the `Invoked` answered (for AWS's 500 or 503).
    run()     the WebSocket plane: the gate asked each time, no timeout of its own (the plane
              bounds the integration), the refusal's or Lambda's ServiceError raised.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from ... import ids
from ...errors import ServiceError
from ...identity.principals import root
from ...services.context import RequestContext

log = logging.getLogger("lamina.execute_api")

SERVICE_PRINCIPAL = "apigateway.amazonaws.com"
CALLER_CREDENTIALS = "arn:aws:iam::*:user/*"  # "invoke with the caller's credentials": no role
_KEPT = 4096

# arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function ARN}/invocations
_INVOCATION_URI = re.compile(r"^arn:aws[\w-]*:apigateway:[\w-]+:lambda:path/[\d-]+/functions/(arn:[^/]+)/invocations$")

Call = Callable[[str, str, dict, RequestContext], Coroutine[Any, Any, dict]]  # Gateway.call_here
Check = Callable[[str, dict], Awaitable[None]]  # DeliveryGate.check
PolicyOf = Callable[[str], Awaitable["str | None"]]  # a function's resource policy ("" none, None no function)


def function_arn(uri: str) -> str | None:
    """The function an integration URI invokes (the apigateway invocation form, or a bare
    function ARN as HTTP APIs take), or None if it names no function."""
    match = _INVOCATION_URI.match(uri or "")
    if match:
        return match.group(1)
    parts = (uri or "").split(":")
    return uri if len(parts) >= 7 and parts[2] == "lambda" and parts[5] == "function" else None


@dataclass
class Invoked:
    payload: bytes = b""
    function_error: str | None = None  # "Unhandled" when the function raised
    error: str | None = None  # why there is no result: $context.integrationErrorMessage
    status: int = 200  # Lambda's own status: 200, or its error's
    timed_out: bool = False
    request_id: str = ""
    latency_ms: float = 0.0


def _background(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.debug("an invocation past its integration timeout failed: %s", task.exception())


class Functions:
    def __init__(
        self,
        call: Call,
        check: Check | None,
        policy_of: PolicyOf | None,
        generation: Callable[[], int],
        endpoint_url: str,
    ) -> None:
        self.call = call
        self.check = check  # None: every call allowed (LAMINA_IAM=off is the gate's own business)
        self.policy_of = policy_of
        self.generation = generation  # IAM's change counter: a role's decisions are kept until it moves
        self.endpoint_url = endpoint_url
        self._decided: dict[tuple[str, str, str | None], tuple[Any, str | None]] = {}

    @classmethod
    def for_plane(cls, call: Call, check: Check | None, access: Any, endpoint_url: str) -> Functions:
        """`access`: the Authorizer (its resource policies, Lambda's among them, and IAM's
        change counter)."""
        lookups = access.resource_policies

        async def policy_of(arn: str) -> str | None:  # Lambda's lookup is registered after the plane is built
            lookup = lookups.get("lambda")
            return await lookup(arn) if lookup is not None else ""

        return cls(call, check, policy_of if check is not None else None, access.generation, endpoint_url)

    @staticmethod
    def _options(source_arn: str, role_arn: str | None) -> dict[str, Any]:
        options: dict[str, Any] = {"source_service": SERVICE_PRINCIPAL, "source_arn": source_arn}
        if role_arn:
            options["role_arn"] = role_arn
        return options

    async def refusal(self, function: str, source_arn: str, role_arn: str | None) -> str | None:
        """Why API Gateway may not invoke `function` here, or None."""
        if self.check is None:
            return None
        key = (function, source_arn, role_arn)
        if role_arn:
            version: Any = self.generation()
        else:
            version = await self.policy_of(function) if self.policy_of is not None else None
            if version is None:
                return None  # no such function: Lambda says so
        kept = self._decided.get(key)
        if kept is not None and kept[0] == version:
            return kept[1]
        try:
            await self.check(function, self._options(source_arn, role_arn))
            refusal = None
        except ServiceError as error:
            refusal = error.message
        if len(self._decided) >= _KEPT:
            self._decided.clear()
        self._decided[key] = (version, refusal)
        return refusal

    async def invoke(
        self, function: str, payload: bytes, source_arn: str, role_arn: str | None, timeout_s: float
    ) -> Invoked:
        started = time.perf_counter()
        refusal = await self.refusal(function, source_arn, role_arn)
        if refusal is not None:
            return Invoked(error=refusal, status=403, latency_ms=(time.perf_counter() - started) * 1000)
        parts = function.split(":")
        ctx = RequestContext(
            account_id=parts[4], region=parts[3], request_id=ids.uuid4(), endpoint_url=self.endpoint_url
        )
        params = {"FunctionName": function, "InvocationType": "RequestResponse", "Payload": payload}
        # The invocation runs as its own task so that, past the integration's timeout, the
        # caller is answered and the invocation still finishes (cancelling it would cut a
        # function off mid-run). One future woken by whichever comes first: cheaper than
        # asyncio.wait on the hot path.
        loop = asyncio.get_running_loop()
        task: asyncio.Task[dict] = loop.create_task(self.call("lambda", "Invoke", params, ctx))
        woken = loop.create_future()

        def wake(_: object = None) -> None:
            if not woken.done():
                woken.set_result(None)

        timer = loop.call_later(timeout_s, wake)
        task.add_done_callback(wake)
        try:
            await woken
        except asyncio.CancelledError:
            task.cancel()
            raise
        finally:
            timer.cancel()
        latency = (time.perf_counter() - started) * 1000
        if not task.done():
            task.add_done_callback(_background)
            return Invoked(error="Integration timeout", status=0, timed_out=True, latency_ms=latency)
        try:
            result = task.result()
        except ServiceError as error:
            return Invoked(
                error=error.message, status=error.status or 500, request_id=ctx.request_id, latency_ms=latency
            )
        return Invoked(
            payload=result.get("Payload") or b"",
            function_error=result.get("FunctionError"),
            status=int(result.get("StatusCode", 200)),
            request_id=ctx.request_id,
            latency_ms=latency,
        )

    async def run(
        self, function: str, payload: bytes, *, source_arn: str, request_id: str, credentials_arn: str | None = None
    ) -> Invoked:
        """Runs `function` (its ARN) synchronously. Raises the ServiceError of a refusal (the
        function's policy or the role does not allow it) or of Lambda (no such function,
        throttled)."""
        if self.check is not None:
            role_arn = credentials_arn if credentials_arn != CALLER_CREDENTIALS else None
            await self.check(function, self._options(source_arn, role_arn))
        parts = function.split(":")
        account, region = parts[4], parts[3]
        ctx = RequestContext(account, region, request_id, self.endpoint_url, principal=root(account))
        result = await self.call("lambda", "Invoke", {"FunctionName": function, "Payload": payload}, ctx)
        body = result.get("Payload") or b""
        return Invoked(body if isinstance(body, bytes) else bytes(body), result.get("FunctionError"))
