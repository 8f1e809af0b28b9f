"""The connections of WebSocket APIs: who is connected to which API and stage, by id.

The registry is the owner of the connections, and it keeps them in memory only: a
connection is a socket held by this server (or one of its front processes), which a restart
ends anyway. Clients reconnect, as they do on AWS when API Gateway's node goes away; an id
from before the restart answers GoneException like any closed one.

It also enforces AWS's two time limits: a connection idle (no message either way) longer
than the idle timeout, or open longer than the maximum duration, is closed (1001 "Going
away"), which runs $disconnect like any other close.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ...websocket import Socket

log = logging.getLogger("lamina.websocket_api")

GOING_AWAY = (1001, "Going away")


def new_id() -> str:
    """An id in AWS's shape: 11 random bytes, URL-safe base64, 16 characters ending "="
    ("L0SM9cOFvHcCIhw="). Connection, request and message ids all look like this."""
    return base64.urlsafe_b64encode(os.urandom(11)).decode()


@dataclass
class Connection:
    connection_id: str
    api_id: str
    stage: str
    account: str
    region: str
    domain: str  # the event's domainName
    socket: Socket
    source_ip: str
    user_agent: str
    connected_at: float = field(default_factory=time.time)
    last_active_at: float = field(default_factory=time.time)
    # What $connect's authorizer returned (principalId and its context), passed to every
    # later event as requestContext.authorizer; the caller's IAM identity or API key too.
    authorizer: dict[str, Any] | None = None
    identity: dict[str, Any] = field(default_factory=dict)
    # Set when the server closes it (idle, duration, DeleteConnection): what $disconnect
    # reports, whatever the client answers.
    closed_by_server: tuple[int, str] | None = None

    def close(self, code: int, reason: str) -> None:
        if self.closed_by_server is None:
            self.closed_by_server = (code, reason)
        self.socket.close(code, reason)


class Connections:
    def __init__(self, idle_timeout_s: float, max_duration_s: float) -> None:
        self.idle_timeout_s = idle_timeout_s
        self.max_duration_s = max_duration_s
        self._by_id: dict[str, Connection] = {}
        self._by_socket: dict[int, Connection] = {}  # id(socket): numbers repeat across fronts
        self._sweeper: asyncio.Task | None = None

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[Connection]:
        return iter(list(self._by_id.values()))

    def add(self, connection: Connection) -> None:
        self._by_id[connection.connection_id] = connection
        self._by_socket[id(connection.socket)] = connection
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.ensure_future(self._sweep())

    def get(self, connection_id: str) -> Connection | None:
        connection = self._by_id.get(connection_id)
        if connection is not None and not connection.socket.open:
            return None  # closing: gone for the management API already
        return connection

    def of(self, socket: Socket) -> Connection | None:
        return self._by_socket.get(id(socket))

    def remove(self, socket: Socket) -> Connection | None:
        connection = self._by_socket.pop(id(socket), None)
        if connection is not None:
            self._by_id.pop(connection.connection_id, None)
        return connection

    def close_all(self) -> None:
        for connection in self:
            connection.close(*GOING_AWAY)

    async def _sweep(self) -> None:
        """Closes connections past their idle timeout or maximum duration; runs while there
        are connections, checking a few times per the shorter limit (at most every 5 s)."""
        every = min(5.0, max(0.05, min(self.idle_timeout_s, self.max_duration_s) / 10))
        while self._by_id:
            await asyncio.sleep(every)
            now = time.time()
            for connection in self:
                if connection.socket.open and (
                    now - connection.last_active_at >= self.idle_timeout_s
                    or now - connection.connected_at >= self.max_duration_s
                ):
                    try:
                        connection.close(*GOING_AWAY)
                    except Exception:
                        log.exception("closing connection %s failed", connection.connection_id)
