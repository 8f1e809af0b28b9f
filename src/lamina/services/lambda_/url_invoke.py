"""The invocations a function URL asks for (http/function_urls.py turns the HTTP request
into the event and the answer into the HTTP response): BUFFERED runs an ordinary
synchronous invoke, RESPONSE_STREAM a streamed one (streaming.py). Who may call the URL
was decided before (the data plane checks the signature and the function's policy)."""

from __future__ import annotations

from ...engine.concurrency import Throttled
from ...engine.invoker import InvocationResult
from ...engine.pool import PoolExhausted
from .arns import function_arn
from .concurrency import throttled
from .function_urls import UrlTarget
from .invoke import too_large
from .state import LambdaState
from .streaming import StreamedRun, start_streamed


class UrlInvokeApi:
    state: LambdaState

    def _check_size(self, event: bytes) -> None:
        if len(event) > self.state.limits.sync_payload_bytes:
            raise too_large(self.state.limits.sync_payload_bytes)

    async def invoke_url(self, target: UrlTarget, event: bytes, request_id: str) -> InvocationResult:
        """A BUFFERED URL's invocation: the function's whole result. Raises the ServiceError
        of an invocation that may not run (throttled, Failed, too large a request)."""
        self._check_size(event)
        ref = target.ref
        _, record = await self.state.resolve(ref, ref.qualifier)
        self.state.check_runnable(record)
        spec = await self.state.spec(record, record["config"]["Version"])
        try:
            return await self.state.engine.invoke(
                spec,
                event,
                request_id=request_id,
                invoked_arn=function_arn(ref.region, ref.account, ref.name, ref.qualifier),
            )
        except Throttled as error:
            raise throttled(error.reason, error.message) from None
        except PoolExhausted:
            raise throttled("ConcurrentInvocationLimitExceeded") from None

    async def invoke_url_streamed(self, target: UrlTarget, event: bytes, request_id: str) -> StreamedRun:
        """A RESPONSE_STREAM URL's invocation, once it has begun streaming or has ended."""
        self._check_size(event)
        return await start_streamed(self.state, target.ref, event, request_id)
