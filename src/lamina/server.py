"""Running the gateway under uvicorn (uvloop and httptools where installed)."""
from __future__ import annotations

import asyncio
import logging

import uvicorn

from .app import build
from .config import Settings


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


def make_server(settings: Settings) -> uvicorn.Server:
    logging.basicConfig(
        level=getattr(logging, settings.log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
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
    server = make_server(settings)
    server.run()


async def serve_async(settings: Settings) -> uvicorn.Server:
    server = make_server(settings)
    asyncio.ensure_future(server.serve())
    return server
