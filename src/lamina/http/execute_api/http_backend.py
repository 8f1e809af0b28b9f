"""Sending a call to an HTTP backend, for the HTTP and REST planes' HTTP(_PROXY)
integrations (http_api/http_proxy.py, rest_api/http_backends.py): each plane builds the
URL, headers and body its way, then `send` does the rest.

Headers AWS does not forward (hop-by-hop ones, content-length, host) are dropped both ways;
redirects are answered, not followed. The calls run on a thread pool (urllib, as
EventBridge's API destinations do), never on the event loop. A backend that answers past
the timeout, or cannot be reached, gives a `Forwarded` without a response: what went
wrong, and whether it was the timeout (each plane words the refusal its way).
"""

from __future__ import annotations

import asyncio
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from ...protocol.messages import Response

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "host",
    }
)
_VARIABLE = re.compile(r"\{([A-Za-z0-9_.\-]+)\+?\}")
_pool = ThreadPoolExecutor(max_workers=64, thread_name_prefix="execute-api-http")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # the client gets the 3xx itself
        return None


_opener = urllib.request.build_opener(_NoRedirects)


@dataclass
class Forwarded:
    response: Response | None
    error: str | None = None
    timed_out: bool = False


def with_path_values(url: str, value_of: Callable[[str], str | None]) -> str:
    """The URL's `{name}` and `{name+}` path variables replaced by their values (quoted; a
    variable without one stays as it is)."""

    def value(match: re.Match) -> str:
        found = value_of(match.group(1))
        return quote(found, safe="/") if found is not None else match.group(0)

    return _VARIABLE.sub(value, url)


def forwarded_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k not in HOP_BY_HOP}


async def send(method: str, url: str, headers: dict[str, str], body: bytes, timeout_s: float) -> Forwarded:
    loop = asyncio.get_running_loop()
    try:
        response = await asyncio.wait_for(
            loop.run_in_executor(_pool, _send, method, url, headers, body, timeout_s), timeout_s + 0.5
        )
    except (asyncio.TimeoutError, TimeoutError):
        return Forwarded(None, "Integration timeout", timed_out=True)
    except OSError as error:
        reason = getattr(error, "reason", None) or error
        if isinstance(reason, TimeoutError) or "timed out" in str(reason):
            return Forwarded(None, "Integration timeout", timed_out=True)
        return Forwarded(None, f"Could not reach {urlsplit(url).netloc}: {reason}")
    return Forwarded(response)


def _send(method: str, url: str, headers: dict[str, str], body: bytes, timeout_s: float) -> Response:
    request = urllib.request.Request(url, data=body or None, method=method, headers=headers)
    try:
        with _opener.open(request, timeout=timeout_s) as answer:
            return Response(answer.status, _kept(answer.headers.items()), answer.read())
    except urllib.error.HTTPError as answer:  # any status but 2xx: still the backend's answer
        with answer:
            return Response(answer.code, _kept(answer.headers.items()), answer.read())


def _kept(headers) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP]
