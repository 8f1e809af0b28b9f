"""Request bodies that arrive in a front process, read by the core's services (S3 uploads).

A front reads the client's upload, decodes and checks it (protocol/bodies.Body: aws-chunked,
chunk signatures, the signed SHA-256) and sends the payload to the core over the link in
pieces, as the service there reads them:

    front -> core   (n, "call", ...)  the call, its Body member replaced by RELAYED(length)
                    (n, "body", bytes) ...                      payload pieces, in order
                    (n, "body-end", trailers) | (n, "body-error", error fields)
    core -> front   (n, "body-ack", byte count)                 what the service has read

The front keeps at most WINDOW bytes unacknowledged, so a service that reads slowly (a disk
slower than the network) slows the client down instead of filling the core's memory. When
the call's answer comes first (the service refused before reading, or read only part), the
front stops sending.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from ..errors import ServiceError
from ..protocol.bodies import Body

KINDS_TO_CORE = frozenset({"body", "body-end", "body-error"})
WINDOW = 8 * 1024 * 1024

Send = Callable[[tuple], None]


@dataclass(frozen=True)
class Relayed:
    """Stands for a Body in a call crossing the link."""

    length: int | None


def bodies_of(params: dict) -> list[str]:
    return [name for name, value in params.items() if isinstance(value, Body)]


# --- the front's end -------------------------------------------------------------------------


class Outgoing:
    """A Body sent to the core as its service reads it."""

    def __init__(self, number: int, body: Body, send: Send) -> None:
        self.number = number
        self.body = body
        self._send = send
        self._unacknowledged = 0
        self._room = asyncio.Event()
        self._room.set()

    def acknowledged(self, count: int) -> None:
        self._unacknowledged -= count
        if self._unacknowledged < WINDOW:
            self._room.set()

    async def pump(self) -> None:
        try:
            async for piece in self.body:
                self._unacknowledged += len(piece)
                self._send((self.number, "body", piece))
                if self._unacknowledged >= WINDOW:
                    self._room.clear()
                    await self._room.wait()
            self._send((self.number, "body-end", self.body.trailers))
        except ServiceError as error:
            fields = (error.code, error.message, error.status, error.sender_fault, error.headers, error.fields)
            self._send((self.number, "body-error", fields))


# --- the core's end --------------------------------------------------------------------------


class RemoteBody:
    """The core's stand-in for a Body a front is sending: read it as you would a Body."""

    def __init__(self, number: int, length: int | None, send: Send) -> None:
        self.number = number
        self.length = length
        self.trailers: dict[str, str] = {}
        self._send = send
        self._pieces: asyncio.Queue = asyncio.Queue()
        self._consumed = False

    def received(self, kind: str, payload: Any) -> None:
        self._pieces.put_nowait((kind, payload))

    def lost(self) -> None:
        self._pieces.put_nowait(
            ("body-error", ("IncompleteBody", "The request body terminated unexpectedly", 400, True, {}, {}))
        )

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._read()

    async def _read(self) -> AsyncIterator[bytes]:
        if self._consumed:
            raise RuntimeError("a request body is read once")
        self._consumed = True
        while True:
            kind, payload = await self._pieces.get()
            if kind == "body":
                yield payload
                self._send((self.number, "body-ack", len(payload)))
                continue
            if kind == "body-end":
                self.trailers = payload
                return
            code, message, status, sender_fault, headers, fields = payload
            raise ServiceError(code, message, status, sender_fault=sender_fault, headers=headers, **fields)

    async def read(self) -> bytes:
        return b"".join([piece async for piece in self])


class Incoming:
    """The core's bodies in flight, by call number."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._bodies: dict[int, RemoteBody] = {}

    def open(self, number: int, params: dict) -> dict:
        """A call's params with each relayed body stood in for by a RemoteBody."""
        out = dict(params)
        for name, value in params.items():
            if isinstance(value, Relayed):
                body = self._bodies[number] = RemoteBody(number, value.length, self._send)
                out[name] = body
        return out

    def received(self, number: int, kind: str, payload: Any) -> None:
        body = self._bodies.get(number)
        if body is not None:
            body.received(kind, payload)
            if kind != "body":
                del self._bodies[number]

    def close(self, number: int) -> None:
        self._bodies.pop(number, None)

    def lost(self) -> None:
        for body in self._bodies.values():
            body.lost()
        self._bodies.clear()
