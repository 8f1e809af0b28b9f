"""The Lambda Runtime API (2018-06-01) that custom runtimes and awslambdaric speak.

Each custom-runtime instance gets its own listener on a loopback port (the runtime finds
it in AWS_LAMBDA_RUNTIME_API, which has room for host:port only, so the port is what
tells instances apart). Endpoints, as AWS documents them:

    GET  /2018-06-01/runtime/invocation/next            the next event (long poll)
    POST /2018-06-01/runtime/invocation/{id}/response   the result
    POST /2018-06-01/runtime/invocation/{id}/error      a function error
    POST /2018-06-01/runtime/init/error                 init failed

HTTP parsing is httptools' (the parser uvicorn uses); the rest is a few lines of asyncio.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

import httptools

PREFIX = "/2018-06-01/runtime"


@dataclass
class Invocation:
    request_id: str
    payload: bytes
    headers: dict[str, str]
    done: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())


@dataclass
class Outcome:
    kind: str  # "result" or "error"
    payload: bytes
    error_type: str | None = None


def _response(status: int, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    reason = {
        200: "OK",
        202: "Accepted",
        400: "Bad Request",
        403: "Forbidden",
        404: "Not Found",
        413: "Payload Too Large",
        500: "Internal Server Error",
    }.get(status, "OK")
    lines = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(body)}", "Content-Type: application/json"]
    lines.extend(f"{k}: {v}" for k, v in (headers or {}).items())
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _json(status: int, document: dict) -> bytes:
    return _response(status, json.dumps(document).encode())


class RuntimeApi:
    """One instance's Runtime API: events go in with offer(), outcomes come back."""

    MAX_RESPONSE = 6 * 1024 * 1024 + 100

    def __init__(self) -> None:
        self.port = 0
        self._server: asyncio.AbstractServer | None = None
        self._queue: asyncio.Queue[Invocation] = asyncio.Queue()
        self._active: dict[str, Invocation] = {}
        self.first_poll: asyncio.Future = asyncio.get_running_loop().create_future()
        self.init_error: dict | None = None
        self._connections: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task] = set()  # one per connection, cancelled by close()

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return f"127.0.0.1:{self.port}"

    def offer(self, invocation: Invocation) -> None:
        self._active[invocation.request_id] = invocation
        self._queue.put_nowait(invocation)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._connections):
            writer.close()  # a runtime long-polling /next must not outlive its instance
        for task in list(self._handlers):
            task.cancel()  # (left pending, a handler waiting in /next is destroyed with a warning)
        for invocation in self._active.values():
            if not invocation.done.done():
                invocation.done.cancel()

    # --- HTTP ---------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                method, path, headers, body = request
                writer.write(await self._route(method, path, headers, body))
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError, httptools.HttpParserError):
            pass
        finally:
            self._connections.discard(writer)
            if task is not None:
                self._handlers.discard(task)
            writer.close()

    async def _route(self, method: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
        path = path.split("?", 1)[0]
        if method == "GET" and path == f"{PREFIX}/invocation/next":
            if not self.first_poll.done():
                self.first_poll.set_result(None)  # the runtime finished its init
            invocation = await self._queue.get()
            return _response(200, invocation.payload, invocation.headers)
        if method == "POST" and path == f"{PREFIX}/init/error":
            self.init_error = _error_document(body, headers)
            if not self.first_poll.done():
                self.first_poll.set_result(None)
            return _json(202, {"status": "OK"})
        if method == "POST" and path.startswith(f"{PREFIX}/invocation/"):
            request_id, _, action = path[len(f"{PREFIX}/invocation/") :].partition("/")
            active = self._active.get(request_id)
            if active is None or action not in ("response", "error"):
                return _json(400, {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"})
            invocation = active
            if invocation.done.done():
                return _json(400, {"errorMessage": "Invalid state transition", "errorType": "InvalidStateTransition"})
            del self._active[request_id]
            if action == "response":
                if len(body) > self.MAX_RESPONSE:
                    invocation.done.set_result(
                        Outcome(
                            "error",
                            json.dumps(
                                {
                                    "errorMessage": "Response payload size exceeded maximum allowed payload size "
                                    f"({self.MAX_RESPONSE} bytes).",
                                    "errorType": "Function.ResponseSizeTooLarge",
                                }
                            ).encode(),
                            "Function.ResponseSizeTooLarge",
                        )
                    )
                    return _json(413, {"errorMessage": "Payload Too Large", "errorType": "RequestEntityTooLarge"})
                invocation.done.set_result(Outcome("result", body))
            else:
                document = _error_document(body, headers)
                invocation.done.set_result(Outcome("error", json.dumps(document).encode(), document.get("errorType")))
            return _json(202, {"status": "OK"})
        return _json(404, {"errorMessage": "Not found", "errorType": "NotFound"})


def _error_document(body: bytes, headers: dict[str, str]) -> dict:
    try:
        document = json.loads(body) if body else {}
        if not isinstance(document, dict):
            raise ValueError
    except ValueError:
        document = {"errorMessage": body.decode("utf-8", "replace")}
    document.setdefault("errorType", headers.get("lambda-runtime-function-error-type", "Runtime.Unknown"))
    document.setdefault("errorMessage", "")
    return document


class _Collector:
    def __init__(self) -> None:
        self.url = b""
        self.headers: dict[str, str] = {}
        self.body: list[bytes] = []
        self.complete = False

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.complete = True


async def _read_request(reader: asyncio.StreamReader):
    collector = _Collector()
    parser = httptools.HttpRequestParser(collector)
    while not collector.complete:
        data = await reader.read(65536)
        if not data:
            return None
        parser.feed_data(data)
    method = parser.get_method().decode()
    return method, collector.url.decode("latin-1"), collector.headers, b"".join(collector.body)
