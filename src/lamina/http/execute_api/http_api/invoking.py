"""Calling a Lambda function as API Gateway does, for an integration or a Lambda authorizer.

API Gateway calls as the service principal apigateway.amazonaws.com, for a source ARN
(`arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}/{route path}` for a route,
`.../{api}/authorizers/{id}` for an authorizer): the function's resource policy must allow it
(`lambda add-permission --principal apigateway.amazonaws.com --source-arn ...`), unless the
integration names a role (CredentialsArn), which must trust apigateway.amazonaws.com and be
allowed lambda:InvokeFunction. The delivery gate (access/deliveries.py) decides; its
decisions for a function's policy are kept per policy text, so a warm route pays one dict
lookup, and a changed policy (AddPermission, RemovePermission) is seen on the next call. A
refusal is AWS's 500 {"message":"Internal Server Error"}.

The invocation itself is Lambda's Invoke through the gateway by name (Gateway.call_here: the
reset gate and Lambda's own checks apply, and no layer is skipped), as the function's account,
the gate having decided who may. It is given the integration's timeout: past it the caller
gets 503 and the invocation finishes on its own, as on AWS.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from .... import ids
from ....errors import ServiceError
from ....services.context import RequestContext

log = logging.getLogger("lamina.execute_api")

SERVICE_PRINCIPAL = "apigateway.amazonaws.com"
_KEPT = 4096

Call = Callable[[str, str, dict, RequestContext], Coroutine[Any, Any, dict]]  # Gateway.call_here
Check = Callable[[str, dict], Awaitable[None]]  # DeliveryGate.check
PolicyOf = Callable[[str], Awaitable["str | None"]]  # a function's resource policy ("" none, None no function)


@dataclass
class Invoked:
    payload: bytes = b""
    function_error: str | None = None
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
        options: dict[str, Any] = {"source_service": SERVICE_PRINCIPAL, "source_arn": source_arn}
        if role_arn:
            options["role_arn"] = role_arn
        try:
            await self.check(function, options)
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
