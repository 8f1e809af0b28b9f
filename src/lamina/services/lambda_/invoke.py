"""Invoke (RequestResponse, Event, DryRun) and the older InvokeAsync.

Synchronous invokes run through the engine's invoker and answer with the function's
result or its error payload. Event invokes are committed to the async queue before the
202 (async_events.py enqueues and runs them).
"""

from __future__ import annotations

import base64
import json
import logging

from ...engine.concurrency import Throttled
from ...engine.delivery.async_queue import AsyncQueue
from ...engine.pool import PoolExhausted
from ...errors import ServiceError, invalid_parameter
from ..context import RequestContext
from .arns import function_arn, function_ref
from .async_events import enqueue
from .concurrency import throttled
from .state import LambdaState

log = logging.getLogger("lamina.lambda")


def too_large(limit: int) -> ServiceError:
    return ServiceError(
        "RequestTooLargeException", f"Request must be smaller than {limit} bytes for the InvokeFunction operation", 413
    )


def check_json(payload: bytes) -> None:
    if not payload:
        return
    try:
        json.loads(utf8_text(payload))
    except (ValueError, UnicodeDecodeError) as error:
        raise ServiceError(
            "InvalidRequestContentException",
            f"Could not parse request body into json: Could not parse payload into json: {error}",
            400,
        ) from None


def utf8_text(payload: bytes) -> bytes | str:
    """What json.loads(payload) would decode, decoded as it would: an object or array whose
    first two bytes are not NUL is UTF-8 by json's detect_encoding (no BOM starts with "{"
    or "["), so the hot path skips that Python function; anything else is left to json."""
    if payload[:1] in _OPENERS and payload[1:2] != b"\x00":
        return payload.decode("utf-8", "surrogatepass")
    return payload


_OPENERS = (b"{", b"[")


class InvokeApi:
    state: LambdaState
    async_queue: AsyncQueue

    async def invoke(self, params: dict, ctx: RequestContext) -> dict:
        ref = function_ref(params, ctx, params.get("Qualifier"))
        kind = params.get("InvocationType") or "RequestResponse"
        payload = params.get("Payload") or b""
        if kind == "Event":
            if len(payload) > self.state.limits.async_payload_bytes:
                raise too_large(self.state.limits.async_payload_bytes)
        elif len(payload) > self.state.limits.sync_payload_bytes:
            raise too_large(self.state.limits.sync_payload_bytes)
        if kind not in ("RequestResponse", "Event", "DryRun"):
            raise invalid_parameter(f"Unsupported invocation type {kind}")
        check_json(payload)
        function, record = await self.state.resolve(ref, ref.qualifier)
        self.state.check_runnable(record)
        if kind == "DryRun":
            return {"StatusCode": 204}
        if kind == "Event":
            await enqueue(self.state, self.async_queue, ref, payload, ctx.request_id)
            return {"StatusCode": 202}
        version = record["config"]["Version"]
        spec = await self.state.spec(record, version)
        client_context = None
        if params.get("ClientContext"):
            try:
                client_context = json.loads(base64.b64decode(params["ClientContext"]))
            except Exception:
                raise invalid_parameter("Client context must be a valid Base64-encoded JSON object.") from None
        try:
            result = await self.state.engine.invoke(
                spec,
                payload,
                request_id=ctx.request_id,
                invoked_arn=function_arn(ref.region, ref.account, ref.name, ref.qualifier),
                client_context=client_context,
                want_tail=params.get("LogType") == "Tail",
            )
        except Throttled as error:
            raise throttled(error.reason, error.message) from None
        except PoolExhausted:
            raise throttled("ConcurrentInvocationLimitExceeded") from None
        response = {"StatusCode": 200, "Payload": result.payload, "ExecutedVersion": result.executed_version}
        if result.function_error:
            response["FunctionError"] = result.function_error
        if result.log_tail:
            response["LogResult"] = result.log_tail
        return response

    async def invoke_async(self, params: dict, ctx: RequestContext) -> dict:
        ref = function_ref(params, ctx)
        payload = params.get("InvokeArgs") or b""
        if not isinstance(payload, bytes):
            payload = payload.read() if hasattr(payload, "read") else bytes(payload)
        if len(payload) > self.state.limits.async_payload_bytes:
            raise too_large(self.state.limits.async_payload_bytes)
        check_json(payload)
        function, record = await self.state.resolve(ref, None)
        self.state.check_runnable(record)
        await enqueue(self.state, self.async_queue, ref, payload, ctx.request_id)
        return {"Status": 202}
