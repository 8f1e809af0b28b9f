"""WebSocket connections held by a front process, served by the core's endpoints.

With front processes (http/fronts.py) the client's socket is in a front, the endpoint (API
Gateway's WebSocket APIs) in the core. The front's endpoint for those hosts is a
FrontRelay, which carries each connection over the link (http/link.py) as frames:

    front -> core   (n, "ws-open", Request)            the handshake; answered "ws-opened"
                    (n, "ws-in", text or bytes)        a message from the client
                    (n, "ws-closed", (code, reason))   the client closed, or went away
    core -> front   (n, "ws-opened", Response | None)  the endpoint's answer to the handshake
                    (n, "ws-out", text or bytes)       a message to the client
                    (n, "ws-close", (code, reason))    the endpoint closes the connection

and the core's CoreRelay hands them to the endpoint with a RelayedSocket standing for the
client's. Frames of one connection keep their order (one link, one reader).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ..protocol.messages import Request, Response
from .websocket import Socket, spawn

log = logging.getLogger("lamina.websocket")

KINDS = frozenset({"ws-open", "ws-in", "ws-closed", "ws-opened", "ws-out", "ws-close"})

Send = Callable[[tuple], None]


class FrontRelay:
    """The front's Endpoint for the hosts whose WebSockets the core serves."""

    def __init__(self, send: Send, ask: Callable[[str, Any], Awaitable[tuple[int, str, Any]]]) -> None:
        self._send = send
        self._ask = ask  # sends a frame and awaits the core's answer to it: (number, kind, payload)
        self._sockets: dict[Socket, int] = {}
        self._by_number: dict[int, Socket] = {}

    async def open(self, request: Request, socket: Socket) -> Response | None:
        number, _, answer = await self._ask("ws-open", request)
        if answer is None or answer.status == 101:
            self._sockets[socket] = number
            self._by_number[number] = socket
        return answer

    async def message(self, socket: Socket, data: str | bytes) -> None:
        number = self._sockets.get(socket)
        if number is not None:
            self._send((number, "ws-in", data))

    async def closed(self, socket: Socket, code: int, reason: str) -> None:
        number = self._sockets.pop(socket, None)
        if number is not None:
            self._by_number.pop(number, None)
            self._send((number, "ws-closed", (code, reason)))

    def received(self, number: int, kind: str, payload: Any) -> None:
        """A frame from the core for one of this front's connections."""
        socket = self._by_number.get(number)
        if socket is None:
            return
        if kind == "ws-out":
            socket.send(payload)
        elif kind == "ws-close":
            socket.close(*payload)

    def lost(self) -> None:
        """The core went away: every connection it served ends."""
        for socket in list(self._sockets):
            socket.close(1011, "Internal server error")


class RelayedSocket:
    """The core's stand-in for a client's socket held by a front."""

    def __init__(self, number: int, request: Request, send: Send) -> None:
        self.number = number
        self.request = request
        self._send = send
        self._open = True

    @property
    def open(self) -> bool:
        return self._open

    def send(self, data: str | bytes) -> None:
        if self._open:
            self._send((self.number, "ws-out", data))

    def close(self, code: int = 1000, reason: str = "") -> None:
        if self._open:
            self._open = False
            self._send((self.number, "ws-close", (code, reason)))


class CoreRelay:
    """The core's end: the endpoints (by request) and the connections the fronts hold."""

    def __init__(self, send: Send, endpoint_for: Callable[[Request], Any]) -> None:
        self._send = send
        self._endpoint_for = endpoint_for
        self._connections: dict[int, tuple[Any, RelayedSocket]] = {}
        self._tasks: set[asyncio.Task] = set()

    def received(self, number: int, kind: str, payload: Any) -> None:
        if kind == "ws-open":
            self._spawn(self._open(number, payload))
            return
        connection = self._connections.get(number)
        if connection is None:
            return
        endpoint, socket = connection
        if kind == "ws-in":
            self._spawn(endpoint.message(socket, payload))
        elif kind == "ws-closed":
            del self._connections[number]
            socket._open = False
            self._spawn(endpoint.closed(socket, *payload))

    async def _open(self, number: int, request: Request) -> None:
        endpoint = self._endpoint_for(request)
        if endpoint is None:
            self._send((number, "ws-opened", Response(400, [], b"")))
            return
        socket = RelayedSocket(number, request, self._send)
        self._connections[number] = (endpoint, socket)
        try:
            answer = await endpoint.open(request, socket)
        except Exception:
            log.exception("a WebSocket endpoint failed its handshake")
            answer = Response(500, [("content-type", "text/plain")], b"internal error")
        if answer is not None and answer.status != 101:
            self._connections.pop(number, None)
        self._send((number, "ws-opened", answer))

    def lost(self) -> None:
        """The front went away: its clients' connections are closed (1006, abnormally)."""
        connections, self._connections = self._connections, {}
        for endpoint, socket in connections.values():
            socket._open = False
            self._spawn(endpoint.closed(socket, 1006, ""))

    def _spawn(self, work) -> None:
        spawn(self._tasks, work)
