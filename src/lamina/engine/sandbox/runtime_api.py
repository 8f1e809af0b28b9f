"""The Lambda Runtime API (2018-06-01) that custom runtimes and awslambdaric speak.

Each custom-runtime instance gets its own listener on a loopback port (the runtime finds
it in AWS_LAMBDA_RUNTIME_API, which has room for host:port only, so the port is what
tells instances apart). Endpoints, as AWS documents them:

    GET  /2018-06-01/runtime/invocation/next            the next event (long poll)
    POST /2018-06-01/runtime/invocation/{id}/response   the result
    POST /2018-06-01/runtime/invocation/{id}/error      a function error
    POST /2018-06-01/runtime/init/error                 init failed

A response in `Lambda-Runtime-Function-Response-Mode: streaming` (AWS's response streaming:
chunked transfer encoding, an error reported in the trailers Lambda-Runtime-Function-Error-
Type and -Body) is handed on chunk by chunk as it arrives, to the invocation's
ResponseStream (engine/streaming.py) when its caller streams, else gathered into one
payload (a plain Invoke of a streaming function: AWS's 6 MB limit applies).

HTTP parsing is httptools' (the parser uvicorn uses); the rest is a few lines of asyncio.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from dataclasses import dataclass, field

import httptools

from ..streaming import ResponseStream

PREFIX = "/2018-06-01/runtime"
STREAMING_MODE = "lambda-runtime-function-response-mode"
ERROR_TYPE_TRAILER = "lambda-runtime-function-error-type"
ERROR_BODY_TRAILER = "lambda-runtime-function-error-body"


@dataclass
class Invocation:
    request_id: str
    payload: bytes
    headers: dict[str, str]
    done: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    stream: ResponseStream | None = None  # where a streamed response goes as it arrives


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


def _too_large(limit: int) -> Outcome:
    return Outcome(
        "error",
        json.dumps(
            {
                "errorMessage": f"Response payload size exceeded maximum allowed payload size ({limit} bytes).",
                "errorType": "Function.ResponseSizeTooLarge",
            }
        ).encode(),
        "Function.ResponseSizeTooLarge",
    )


class _Streamed:
    """One response arriving in streaming mode: its chunks go to the invocation's stream as
    they come (or are gathered, for a caller that did not stream)."""

    def __init__(self, invocation: Invocation, content_type: str | None, limit: int) -> None:
        self.invocation = invocation
        self.limit = limit
        self.gathered: list[bytes] = []
        self.size = 0
        self.too_large = False
        if invocation.stream is not None:
            invocation.stream.begin(content_type)

    async def write(self, chunk: bytes) -> None:
        if self.too_large:
            return
        stream = self.invocation.stream
        if stream is not None:
            self.too_large = not await stream.write(chunk)
            return
        self.size += len(chunk)
        self.too_large = self.size > self.limit
        if not self.too_large:
            self.gathered.append(chunk)

    def outcome(self, trailers: dict[str, str]) -> Outcome:
        stream = self.invocation.stream
        if self.too_large:
            return _too_large(stream.limit_bytes if stream is not None else self.limit)
        error_type = trailers.get(ERROR_TYPE_TRAILER)
        if error_type:
            body = trailers.get(ERROR_BODY_TRAILER, "")
            try:
                document = json.loads(base64.b64decode(body)) if body else {}
            except (ValueError, binascii.Error):
                document = {"errorMessage": body}
            if not isinstance(document, dict):
                document = {"errorMessage": str(document)}
            document.setdefault("errorType", error_type)
            document.setdefault("errorMessage", "")
            return Outcome("error", json.dumps(document).encode(), error_type)
        return Outcome("result", b"".join(self.gathered))


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
                answer = await self._one_request(reader)
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError, httptools.HttpParserError):
            pass
        finally:
            self._connections.discard(writer)
            if task is not None:
                self._handlers.discard(task)
            writer.close()

    async def _one_request(self, reader: asyncio.StreamReader) -> bytes | None:
        """Read one request and answer it; a streamed response is handed on as it arrives."""
        collector = _Collector()
        parser = httptools.HttpRequestParser(collector)
        streamed: _Streamed | None = None
        decided = False
        while not collector.complete:
            data = await reader.read(65536)
            if not data:
                return None
            parser.feed_data(data)
            if not decided and collector.headers_done:
                decided = True
                streamed = self._streamed(parser.get_method().decode(), collector)
            if streamed is not None:
                chunks, collector.body = collector.body, []
                for chunk in chunks:
                    await streamed.write(chunk)
        if streamed is not None:
            invocation = streamed.invocation
            self._active.pop(invocation.request_id, None)
            if not invocation.done.done():
                invocation.done.set_result(streamed.outcome(collector.trailers))
            return _json(202, {"status": "OK"})
        method = parser.get_method().decode()
        return await self._route(method, collector.url.decode("latin-1"), collector.headers, b"".join(collector.body))

    def _streamed(self, method: str, collector: _Collector) -> _Streamed | None:
        """A POST of an active invocation's response in streaming mode, or None."""
        if method != "POST" or collector.headers.get(STREAMING_MODE, "").lower() != "streaming":
            return None
        path = collector.url.decode("latin-1").split("?", 1)[0]
        request_id, _, action = path[len(f"{PREFIX}/invocation/") :].partition("/")
        if not path.startswith(f"{PREFIX}/invocation/") or action != "response":
            return None
        invocation = self._active.get(request_id)
        if invocation is None or invocation.done.done():
            return None  # answered as a buffered POST would be: 400
        return _Streamed(invocation, collector.headers.get("content-type"), self.MAX_RESPONSE)

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
                    invocation.done.set_result(_too_large(self.MAX_RESPONSE))
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
        self.trailers: dict[str, str] = {}  # headers after the body (chunked encoding)
        self.body: list[bytes] = []
        self.headers_done = False
        self.complete = False

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        target = self.trailers if self.headers_done else self.headers
        target[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self.headers_done = True

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.complete = True
