"""Running the gateway: Lamina's own httptools server by default (http/server.py), or
uvicorn (LAMINA_HTTP=uvicorn); uvloop where installed."""
from __future__ import annotations

import asyncio
import logging
import os
import signal

import uvicorn

from .app import build
from .config import Settings
from .http import server as http_server


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


def serve(settings: Settings) -> None:
    """Run until SIGINT or SIGTERM: Lamina's own HTTP server, or uvicorn with LAMINA_HTTP=uvicorn."""
    if os.environ.get("LAMINA_HTTP", "lamina") == "uvicorn":
        make_server(settings).run()
        return
    _configure_logging(settings)
    lamina = build(settings)
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
        await http_server.run(lamina.gateway, settings.host, settings.port, stop)

    asyncio.run(main())


async def serve_async(settings: Settings) -> uvicorn.Server:
    server = make_server(settings)
    asyncio.ensure_future(server.serve())
    return server
