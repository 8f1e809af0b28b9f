"""WebSocket connections: what an endpoint sees, and the server side of one connection.

An endpoint addressed by Host (Gateway.mount_host(..., websocket=endpoint)) can take
WebSocket upgrades. It decides at the handshake (`open` answers None to accept, or the
Response to refuse with, as API Gateway's $connect route does), then hears each message
and the close. It talks back through the Socket it was given, from any task.

The frames are wsproto's (a sans-I/O implementation of RFC 6455): this module only feeds it
the bytes that arrive and writes the bytes it produces. The handshake was parsed by the
HTTP server already (httptools), so the 101 answer is written here from the request's key.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from typing import Protocol

from wsproto.connection import Connection, ConnectionState, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Message, Ping, TextMessage
from wsproto.utilities import generate_accept_token

from ..protocol.messages import Request, Response

log = logging.getLogger("lamina.websocket")

# A message bigger than this closes the connection (1009, "message too big"): the server's
# own bound on what one client can make it hold; endpoints enforce their smaller limits.
MAX_MESSAGE_BYTES = 16 * 1024 * 1024

_numbers = itertools.count(1)


class Socket(Protocol):
    """One accepted connection, as an endpoint uses it."""

    number: int  # unique in this process, for the endpoint's bookkeeping
    request: Request  # the handshake request

    def send(self, data: str | bytes) -> None: ...  # a text or binary message

    def close(self, code: int = 1000, reason: str = "") -> None: ...

    @property
    def open(self) -> bool: ...


class Endpoint(Protocol):
    async def open(self, request: Request, socket: Socket) -> Response | None: ...

    async def message(self, socket: Socket, data: str | bytes) -> None: ...

    async def closed(self, socket: Socket, code: int, reason: str) -> None: ...


def wants_websocket(request: Request) -> bool:
    return (
        request.headers.get("upgrade", "").lower() == "websocket"
        and "upgrade" in request.headers.get("connection", "").lower()
        and "sec-websocket-key" in request.headers
    )


def accept_head(request: Request, headers: list[tuple[str, str]] = ()) -> bytes:  # type: ignore[assignment]
    """The 101 that completes the handshake (extra headers: a chosen subprotocol, say)."""
    lines = [
        "HTTP/1.1 101 Switching Protocols",
        "upgrade: websocket",
        "connection: Upgrade",
        f"sec-websocket-accept: {generate_accept_token(request.headers['sec-websocket-key'].encode()).decode()}",
        *(f"{name}: {value}" for name, value in headers),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class ServerSocket:
    """The server's end of one connection over an asyncio transport."""

    def __init__(self, request: Request, write: Callable[[bytes], None], close_transport: Callable[[], None]) -> None:
        self.number = next(_numbers)
        self.request = request
        self._write = write
        self._close_transport = close_transport
        self._connection = Connection(ConnectionType.SERVER)
        self._parts: list[str | bytes] = []
        self._size = 0
        self._endpoint: Endpoint | None = None
        self._closed_reported = False
        self._tasks: set[asyncio.Task] = set()

    @property
    def open(self) -> bool:
        return self._connection.state is ConnectionState.OPEN

    def attach(self, endpoint: Endpoint) -> None:
        self._endpoint = endpoint

    # --- the endpoint's side ----------------------------------------------------------------

    def send(self, data: str | bytes) -> None:
        if not self.open:
            return
        event = TextMessage(data=data) if isinstance(data, str) else BytesMessage(data=data)
        self._write(self._connection.send(event))

    def close(self, code: int = 1000, reason: str = "") -> None:
        if self.open:
            self._write(self._connection.send(CloseConnection(code=code, reason=reason)))
        self._report_closed(code, reason)
        # The client answers our close frame; if it does not, the transport goes anyway.
        asyncio.get_running_loop().call_later(1.0, self._close_transport)

    # --- the wire's side --------------------------------------------------------------------

    def received(self, data: bytes | None) -> None:
        """Bytes from the client (None: the connection was lost)."""
        self._connection.receive_data(data)
        for event in self._connection.events():
            if isinstance(event, Message):
                self._part(event)
            elif isinstance(event, Ping):
                self._write(self._connection.send(event.response()))
            elif isinstance(event, CloseConnection):
                if self._connection.state is ConnectionState.REMOTE_CLOSING:
                    self._write(self._connection.send(event.response()))
                self._report_closed(event.code, event.reason or "")
                self._close_transport()
        if data is None:
            self._report_closed(1006, "")

    def _part(self, event: Message) -> None:
        self._parts.append(event.data)
        self._size += len(event.data)
        if self._size > MAX_MESSAGE_BYTES:
            self._parts, self._size = [], 0
            self.close(1009, "Message too big")
            return
        if not event.message_finished:
            return
        parts, self._parts, self._size = self._parts, [], 0
        data: str | bytes = "".join(parts) if isinstance(event, TextMessage) else b"".join(parts)  # type: ignore[arg-type]
        if self._endpoint is not None:
            self._spawn(self._endpoint.message(self, data))

    def _report_closed(self, code: int, reason: str) -> None:
        if self._closed_reported or self._endpoint is None:
            return
        self._closed_reported = True
        self._spawn(self._endpoint.closed(self, code, reason))

    def _spawn(self, work) -> None:
        spawn(self._tasks, work)


def spawn(tasks: set[asyncio.Task], work) -> None:
    """Run an endpoint's coroutine as a task kept in `tasks` until done; its failure is
    logged, never raised into the connection."""
    task = asyncio.ensure_future(_logged(work))
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def _logged(work) -> None:
    try:
        await work
    except Exception:
        log.exception("a WebSocket endpoint failed")
