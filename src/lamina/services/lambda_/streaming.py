"""InvokeWithResponseStream, and the streamed invocation it shares with function URLs in
RESPONSE_STREAM mode.

A streamed invocation runs in a task of its own while its caller reads the response:
what the function streams (Node's streamifyResponse, a custom runtime's streaming mode) as
it is written, or, for a runtime that answers in one piece (Python), the whole payload as
one chunk once it is done, as on AWS. The caller answers its client once the function
has begun streaming or has finished, so that a throttle or a missing function is still an
ordinary error response.

The limits enforced: the streamed response's size (engine/streaming.py, AWS's current
200 MB; past it the invocation fails with Function.ResponseSizeTooLarge); a request
payload of 6 MB. AWS's bandwidth cap after the first 6 MB (2 MB/s) is not imposed: on one
machine it would only slow tests down.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass

from ...engine.concurrency import Throttled
from ...engine.invoker import InvocationResult
from ...engine.pool import PoolExhausted
from ...engine.streaming import ResponseStream
from ...errors import invalid_parameter
from ..context import RequestContext
from .arns import FunctionRef, function_arn, function_ref
from .concurrency import throttled
from .invoke import check_json, too_large
from .state import LambdaState


@dataclass
class StreamedRun:
    """One streamed invocation under way: its stream and the task that runs it."""

    stream: ResponseStream
    task: asyncio.Future[InvocationResult]
    version: str

    @property
    def content_type(self) -> str:
        return self.stream.content_type if self.stream.streamed else "application/json"

    async def chunks(self) -> AsyncGenerator[bytes, None]:
        """The response as it is produced; nothing for a function error (read `result()`)."""
        try:
            if self.stream.streamed:
                async for chunk in self.stream.chunks():
                    yield chunk
            result = await self.task
            if not self.stream.streamed and not result.function_error and result.payload:
                yield result.payload
        finally:
            self.stop_reading()

    def stop_reading(self) -> None:
        """The reader is gone: the function's further chunks are dropped, not held (its
        invocation runs to its end, within its concurrency lease)."""
        if not self.task.done():
            self.stream.abandon()

    async def result(self) -> InvocationResult:
        return await self.task


async def start_streamed(
    state: LambdaState,
    ref: FunctionRef,
    payload: bytes,
    request_id: str,
    client_context: dict | None = None,
    want_tail: bool = False,
) -> StreamedRun:
    """Start a streamed invocation of `ref` (its qualifier: alias, version or none) and
    return once it has begun streaming or has ended. Raises the ServiceError of an
    invocation that may not run (unknown function, Failed state, throttled)."""
    function, record = await state.resolve(ref, ref.qualifier)
    state.check_runnable(record)
    version = record["config"]["Version"]
    spec = await state.spec(record, version)
    stream = ResponseStream()
    task = asyncio.ensure_future(
        state.engine.invoke(
            spec,
            payload,
            request_id=request_id,
            invoked_arn=function_arn(ref.region, ref.account, ref.name, ref.qualifier),
            client_context=client_context,
            want_tail=want_tail,
            stream=stream,
        )
    )
    run = StreamedRun(stream, task, version)
    try:
        await asyncio.wait([task, stream.began], return_when=asyncio.FIRST_COMPLETED)  # type: ignore[type-var]
    except asyncio.CancelledError:
        run.stop_reading()  # the client left before the answer began
        raise
    if task.done() and task.exception() is not None:
        error = task.exception()
        if isinstance(error, Throttled):
            raise throttled(error.reason, error.message) from None
        if isinstance(error, PoolExhausted):
            raise throttled("ConcurrentInvocationLimitExceeded") from None
        raise error  # type: ignore[misc]
    return run


async def _events(run: StreamedRun, want_tail: bool) -> AsyncIterator[dict]:
    """InvokeWithResponseStream's EventStream: PayloadChunk events, then InvokeComplete."""
    try:
        async for chunk in run.chunks():
            yield {"PayloadChunk": {"Payload": chunk}}
        result = await run.result()
        complete: dict[str, str] = {}
        if result.function_error:
            complete["ErrorCode"] = result.error_type or result.function_error
            complete["ErrorDetails"] = _details(result.payload)
        if want_tail and result.log_tail:
            complete["LogResult"] = result.log_tail
        yield {"InvokeComplete": complete}
    finally:
        run.stop_reading()


def _details(payload: bytes) -> str:
    try:
        document = json.loads(payload)
    except ValueError:
        return payload.decode("utf-8", "replace")
    if isinstance(document, dict) and isinstance(document.get("errorMessage"), str):
        return document["errorMessage"]
    return payload.decode("utf-8", "replace")


class StreamingApi:
    state: LambdaState

    async def invoke_with_response_stream(self, params: dict, ctx: RequestContext) -> dict:
        ref = function_ref(params, ctx, params.get("Qualifier"))
        kind = params.get("InvocationType") or "RequestResponse"
        if kind not in ("RequestResponse", "DryRun"):
            raise invalid_parameter(f"Unsupported invocation type {kind}")
        payload = params.get("Payload") or b""
        if len(payload) > self.state.limits.sync_payload_bytes:
            raise too_large(self.state.limits.sync_payload_bytes)
        check_json(payload)
        if kind == "DryRun":
            _, record = await self.state.resolve(ref, ref.qualifier)
            self.state.check_runnable(record)
            return {"StatusCode": 204}
        client_context = None
        if params.get("ClientContext"):
            try:
                client_context = json.loads(base64.b64decode(params["ClientContext"]))
            except Exception:
                raise invalid_parameter("Client context must be a valid Base64-encoded JSON object.") from None
        want_tail = params.get("LogType") == "Tail"
        run = await start_streamed(self.state, ref, payload, ctx.request_id, client_context, want_tail)
        # ResponseStreamContentType is the HTTP Content-Type, which AWS sets to the event
        # stream's (application/vnd.amazon.eventstream), whatever the function streams.
        return {"StatusCode": 200, "ExecutedVersion": run.version, "EventStream": _events(run, want_tail)}
