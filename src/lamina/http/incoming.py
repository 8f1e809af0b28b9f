"""A request body still arriving: what the server hands a handler instead of the whole body
(S3 uploads of up to 5 GB), read with `async for`.

The parser feeds it as the socket delivers; past HIGH bytes waiting unread the connection
stops reading (TCP then slows the client), and reading resumes below LOW. A body its reader
abandons is discarded as it arrives, so the connection can go on to its next request.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable

HIGH = 4 * 1024 * 1024
LOW = 1024 * 1024


class IncomingBody:
    def __init__(self, pause: Callable[[], None], resume: Callable[[], None]) -> None:
        self._pause = pause
        self._resume = resume
        self._pieces: deque[bytes] = deque()
        self._waiting = 0
        self._paused = False
        self._ended = False
        self._failed: BaseException | None = None
        self._discarding = False
        self._ready = asyncio.Event()

    # --- the parser's side ------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        if self._discarding:
            return
        self._pieces.append(data)
        self._waiting += len(data)
        self._ready.set()
        if self._waiting > HIGH and not self._paused:
            self._paused = True
            self._pause()

    def end(self) -> None:
        self._ended = True
        self._ready.set()

    def fail(self, error: BaseException) -> None:
        self._failed = error
        self._ready.set()

    @property
    def ended(self) -> bool:
        return self._ended

    def discard(self) -> None:
        """The reader is done with it: whatever else comes is dropped."""
        self._discarding = True
        self._pieces.clear()
        self._waiting = 0
        if self._paused:
            self._paused = False
            self._resume()

    # --- the reader's side ------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._read()

    async def _read(self) -> AsyncIterator[bytes]:
        while True:
            while self._pieces:
                piece = self._pieces.popleft()
                self._waiting -= len(piece)
                if self._paused and self._waiting < LOW:
                    self._paused = False
                    self._resume()
                yield piece
            if self._failed is not None:
                raise self._failed
            if self._ended:
                return
            self._ready.clear()
            await self._ready.wait()
