"""Running the gateway: Lamina's own httptools server by default (http/server.py), in this
process or in front processes beside it (LAMINA_HTTP_WORKERS, http/fronts.py), or uvicorn
(LAMINA_HTTP=uvicorn); uvloop where installed."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket

import uvicorn

from .app import build, front_door
from .config import Settings
from .http import fronts as http_fronts
from .http import server as http_server
from .http.listen import listen


def _loop_name() -> str:
    try:
        import uvloop  # noqa: F401

        return "uvloop"
    except ImportError:
        return "asyncio"


def _http_name() -> str:
    try:
        import httptools  # noqa: F401

        return "httptools"
    except ImportError:
        return "h11"


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=getattr(logging, settings.log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def make_server(settings: Settings) -> uvicorn.Server:
    _configure_logging(settings)
    lamina = build(settings)
    config = uvicorn.Config(
        lamina.gateway,
        host=settings.host,
        port=settings.port,
        loop=_loop_name(),
        http=_http_name(),
        lifespan="on",
        log_level="warning",
        access_log=False,
        proxy_headers=False,  # no proxy in front by default; saves a middleware per request
        timeout_keep_alive=75,
        limit_concurrency=None,
    )
    return uvicorn.Server(config)


def serve(settings: Settings, listener: socket.socket | None = None) -> None:
    """Run until SIGINT or SIGTERM: Lamina's own HTTP server, or uvicorn with LAMINA_HTTP=uvicorn.
    `listener`: the socket from http/listen.py (bound here if not given: CannotListen if taken)."""
    if listener is None:
        listener = listen(settings.host, settings.port)
    if settings.http_server == "uvicorn":
        make_server(settings).run(sockets=[listener])
        return
    _configure_logging(settings)
    count = http_fronts.default_count() if settings.http_workers is None else settings.http_workers
    fronts = None
    door = None
    if count > 0:
        # Fronts are forked first, before build() starts the store's threads.
        door = front_door(settings)
        fronts = http_fronts.fork(count, listener, *door, settings.endpoint_url)
    lamina = build(settings, door, tuple(front.pid for front in fronts.fronts) if fronts else ())
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        if fronts is None:
            await http_server.run(lamina.gateway, listener, stop)
        else:
            await http_server.run_behind(lamina.gateway, fronts, stop)

    asyncio.run(main())


async def serve_async(settings: Settings) -> uvicorn.Server:
    server = make_server(settings)
    asyncio.ensure_future(server.serve())
    return server
