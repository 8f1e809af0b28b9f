"""Binding the server's port, first of all: before anything is built or printed, so that a
taken port is one clear line and nothing else (`lamina serve`, `lamina up`). Standard
library only: `lamina up` binds here and hands the socket to the server it starts."""

from __future__ import annotations

import errno
import socket

BACKLOG = 2048


class CannotListen(Exception):
    """The port could not be bound: say so in one line, start nothing."""


def listen(host: str, port: int) -> socket.socket:
    """A non-blocking listening socket on host:port; CannotListen if it cannot be had."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        listener = socket.socket(family, kind, proto)
    except OSError as error:
        raise CannotListen(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(BACKLOG)
    except OSError as error:
        listener.close()
        if error.errno == errno.EADDRINUSE:
            raise CannotListen(
                f"port {port} is already in use on {host} (another server?); "
                "choose another with --port N or LAMINA_PORT=N"
            ) from None
        raise CannotListen(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    listener.setblocking(False)
    return listener


def adopt(fd: int) -> socket.socket:
    """The listening socket a parent bound and passed down (`lamina up` to its server)."""
    listener = socket.socket(fileno=fd)
    listener.setblocking(False)
    return listener
