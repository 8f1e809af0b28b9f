"""A response streamed as the function writes it (InvokeWithResponseStream, a function URL
in RESPONSE_STREAM mode).

The sandbox writes into a ResponseStream while the invocation runs (a custom runtime's or
Node's Runtime API POST in `Lambda-Runtime-Function-Response-Mode: streaming`, one chunk
as it arrives); whoever asked for the invocation reads `chunks()` at the same time and
hands each on to its client. A runtime that answers in one piece (Python) never writes
into it: its caller gets the whole payload from the InvocationResult, as on AWS.

The writer waits while more than HIGH_WATER bytes are unread, so a slow client slows the
function's writes down (through the Runtime API's socket) instead of filling memory. The
size limit is AWS's for a streamed response; past it the writer is told no (write answers
False) and the invocation fails with Function.ResponseSizeTooLarge.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator

# AWS's maximum streamed response (the current Lambda guide: 200 MB; 20 MB before 2025).
MAX_STREAMED_BYTES = 200 * 1024 * 1024
HIGH_WATER = 1024 * 1024  # unread bytes before the writer waits
LOW_WATER = 256 * 1024  # ...and the writer goes on once the reader is down to this
DEFAULT_CONTENT_TYPE = "application/octet-stream"


class ResponseStream:
    def __init__(self, limit_bytes: int = MAX_STREAMED_BYTES) -> None:
        loop = asyncio.get_running_loop()
        self.limit_bytes = limit_bytes
        # Resolved with the stream's content type when the function starts streaming: the
        # moment a caller may answer its client (status and headers) and start reading.
        self.began: asyncio.Future[str] = loop.create_future()
        self.size = 0
        self._chunks: collections.deque[bytes] = collections.deque()
        self._unread = 0
        self._readable = asyncio.Event()
        self._writable = asyncio.Event()
        self._writable.set()
        self._closed = False
        self._abandoned = False

    @property
    def streamed(self) -> bool:
        """Whether the function answered in streaming mode (else its payload is whole)."""
        return self.began.done()

    @property
    def content_type(self) -> str:
        return self.began.result() if self.began.done() else DEFAULT_CONTENT_TYPE

    # --- the writer: the sandbox ----------------------------------------------------------

    def begin(self, content_type: str | None) -> None:
        if not self.began.done():
            self.began.set_result(content_type or DEFAULT_CONTENT_TYPE)

    async def write(self, chunk: bytes) -> bool:
        """Hand one chunk on; False once the response is over the size limit (the chunk is
        dropped). Waits while the reader is behind."""
        self.size += len(chunk)
        if self.size > self.limit_bytes:
            return False
        if self._closed or self._abandoned or not chunk:
            return True
        self._chunks.append(chunk)
        self._unread += len(chunk)
        self._readable.set()
        if self._unread > HIGH_WATER:
            self._writable.clear()
            await self._writable.wait()
        return True

    def close(self) -> None:
        """No more chunks (the invocation ended, however it ended): the reader finishes
        with what is queued, a waiting writer goes on."""
        self._closed = True
        self._readable.set()
        self._writable.set()

    # --- the reader: the service ----------------------------------------------------------

    def abandon(self) -> None:
        """The reader went away (its client disconnected): the function's further chunks
        are dropped rather than held."""
        self._abandoned = True
        self._chunks.clear()
        self._unread = 0
        self._writable.set()

    async def chunks(self) -> AsyncIterator[bytes]:
        while True:
            while self._chunks:
                chunk = self._chunks.popleft()
                self._unread -= len(chunk)
                if self._unread <= LOW_WATER:
                    self._writable.set()
                yield chunk
            if self._closed:
                return
            self._readable.clear()
            await self._readable.wait()
