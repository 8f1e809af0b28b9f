"""Lamina's own HTTP/1.1 server: httptools' parser feeding Gateway.handle() directly.

The gateway stays a plain ASGI app (uvicorn or any ASGI server can run it; LAMINA_HTTP=uvicorn
does), but on the hot path the ASGI layer costs as much as everything Lamina does for an
invoke, so by default requests go straight from the parser to Gateway.handle() and the
response straight to the socket. Keep-alive, pipelining (answered in order), chunked
bodies and Expect: 100-continue are handled; bodies over the gateway's limit get its 413.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
from collections import deque
from urllib.parse import unquote

import httptools

from ..gateway import MAX_BODY_BYTES, Gateway, too_large_response
from ..protocol.messages import Request, Response
from .incoming import IncomingBody
from .websocket import ServerSocket, accept_head, wants_websocket

log = logging.getLogger("lamina.http")

_REASONS = {
    100: "Continue",
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def _head(response: Response, keep_alive: bool, declared: bool = False) -> bytes:
    """The status line and headers; `declared`: the response says its own content-length
    (a HEAD's, or a streamed body of known size), which is then not added again."""
    lines = [f"HTTP/1.1 {response.status} {_REASONS.get(response.status, 'Unknown')}"]
    lines += [f"{name}: {value}" for name, value in response.headers]
    if declared:
        pass
    elif response.stream is None:
        lines.append(f"content-length: {len(response.body)}")
    else:
        lines.append("transfer-encoding: chunked")
    if not keep_alive:
        lines.append("connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _declares_length(response: Response) -> bool:
    """Whether the response names its own content-length: only ones that may (a HEAD's
    answer, a stream of known size) are looked at, to keep the common path free of it."""
    if response.stream is None and response.body:
        return False
    return any(name.lower() == "content-length" for name, _ in response.headers)


class HttpProtocol(asyncio.Protocol):
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.client = ""
        self._queue: deque = deque()  # requests parsed, in order, waiting to be answered
        self._worker: asyncio.Task | None = None
        self._writable = asyncio.Event()  # cleared while the transport's buffer is full
        self._writable.set()
        # A WebSocket upgrade: bytes after the handshake wait here until it is answered, then
        # go to the connection's socket (http/websocket.py).
        self._upgrading: bytearray | None = None
        self._socket: ServerSocket | None = None
        self._reset()

    def _reset(self) -> None:
        self._url = b""
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._size = 0
        self._too_large = False
        self._streaming: IncomingBody | None = None  # the body of a request already handed on

    # --- transport ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.client = peer[0] if isinstance(peer, tuple) else ""

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._writable.set()
        if self._streaming is not None and not self._streaming.ended:
            self._streaming.fail(ConnectionError("the client went away before the body ended"))
        if self._socket is not None:
            self._socket.received(None)
        if self._worker is not None and not self._worker.done():
            self._worker.cancel()

    # A streamed body waits while the client reads slower than it is produced.
    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    def data_received(self, data: bytes) -> None:
        if self._socket is not None:
            self._socket.received(data)
            return
        if self._upgrading is not None:
            self._upgrading += data
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            # The request was queued (on_message_complete); it is answered in turn.
            request, _, _, _ = self._queue[-1] if self._queue else (None, 0, 0, None)
            endpoint = self.gateway.websocket_for(request) if request and wants_websocket(request) else None
            if endpoint is None:
                self._fail(400)
                return
            self._queue[-1] = (request, False, False, endpoint)
            self._upgrading = bytearray(data[upgrade.args[0] :])
        except httptools.HttpParserError:
            self._fail(400)

    def _fail(self, status: int) -> None:
        if self.transport is not None:
            self.transport.write(_head(Response(status, [], b""), keep_alive=False))
            self.transport.close()

    # --- parser callbacks -----------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._reset()

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        self._headers[key] = f"{self._headers[key]},{text}" if key in self._headers else text

    def on_headers_complete(self) -> None:
        if self._headers.get("expect", "").lower() == "100-continue" and self.transport is not None:
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        method = self.parser.get_method().decode("latin-1")
        if self.gateway.streams_body(method, self._headers, self._url):
            # A large upload: the handler gets it now and reads the body as it arrives.
            transport = self.transport
            assert transport is not None
            self._streaming = IncomingBody(transport.pause_reading, transport.resume_reading)
            request = self._request(method)
            request.stream = self._streaming
            self._enqueue(request, False)

    def on_body(self, body: bytes) -> None:
        if self._streaming is not None:
            self._streaming.feed(body)
            return
        if self._too_large:
            return
        self._size += len(body)
        if self._size > MAX_BODY_BYTES:
            self._too_large = True
            self._body = []
        else:
            self._body.append(body)

    def on_message_complete(self) -> None:
        if self._streaming is not None:
            self._streaming.end()
            self._streaming = None
            return
        request = self._request(self.parser.get_method().decode("latin-1"))
        request.body = b"".join(self._body)
        self._enqueue(request, self._too_large)

    def _request(self, method: str) -> Request:
        url = httptools.parse_url(self._url)
        raw_path = (url.path or b"/").decode("latin-1")
        return Request(
            method=method,
            path=unquote(raw_path),
            raw_path=raw_path,
            query_string=(url.query or b"").decode("latin-1"),
            headers=self._headers,
            client=self.client,
        )

    def _enqueue(self, request: Request, too_large: bool) -> None:
        self._queue.append((request, too_large, self.parser.should_keep_alive(), None))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._answer())

    # --- answering ------------------------------------------------------------------------

    async def _answer(self) -> None:
        while self._queue:
            request, too_large, keep_alive, endpoint = self._queue.popleft()
            if endpoint is not None:
                await self._upgrade(request, endpoint)
                return
            try:
                response = too_large_response() if too_large else await self.gateway.handle(request)
            except Exception:  # the gateway turns errors into responses; this is the last net
                log.exception("unhandled error answering %s %s", request.method, request.path)
                response = Response(500, [("content-type", "text/plain")], b"internal error")
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise  # this connection's task is being cancelled (closed, shutting down)
                # Something the request waited on was cancelled, not us: answer, or the
                # client would wait for a response that never comes.
                log.warning("request %s %s was cancelled inside the server", request.method, request.path)
                response = Response(503, [("content-type", "text/plain")], b"request cancelled")
            if isinstance(request.stream, IncomingBody):
                request.stream.discard()  # what its handler left unread: dropped as it comes
            transport = self.transport
            if transport is None:
                return
            declared = _declares_length(response)
            head = _head(response, keep_alive, declared)
            if request.method == "HEAD":  # the headers of a GET, never a body
                if response.stream is not None:
                    await response.stream.aclose()
                transport.write(head)
            elif response.stream is not None:
                transport.write(head)
                if not await self._write_stream(response.stream, chunked=not declared):
                    return
            else:
                transport.write(head + response.body if len(response.body) < 65536 else head)
                if len(response.body) >= 65536:
                    transport.write(response.body)
            if not keep_alive:
                transport.close()
                return

    async def _upgrade(self, request: Request, endpoint) -> None:
        """A WebSocket handshake: the endpoint accepts (None, or a 101 whose headers join the
        answer) or refuses with its Response; accepted, the connection speaks WebSocket."""
        transport = self.transport
        if transport is None:
            return
        socket = ServerSocket(request, transport.write, transport.close)
        socket.attach(endpoint)
        try:
            answer = await endpoint.open(request, socket)
        except Exception:
            log.exception("a WebSocket endpoint failed its handshake")
            answer = Response(500, [("content-type", "text/plain")], b"internal error")
        transport = self.transport
        if transport is None:
            return
        if answer is not None and answer.status != 101:
            transport.write(_head(answer, keep_alive=False) + answer.body)
            transport.close()
            return
        transport.write(accept_head(request, answer.headers if answer is not None else []))
        self._socket = socket
        pending, self._upgrading = bytes(self._upgrading or b""), None
        if pending:
            socket.received(pending)

    async def _write_stream(self, stream, chunked: bool = True) -> bool:
        """A streamed body as it comes, chunked unless its length was declared; False when
        the client went away first. The stream is closed however this ends (the client
        leaving cancels this task)."""
        try:
            async for chunk in stream:
                transport = self.transport
                if transport is None:
                    return False
                if chunk:
                    transport.write(b"%x\r\n%b\r\n" % (len(chunk), chunk) if chunked else chunk)
                if not self._writable.is_set():
                    await self._writable.wait()
            if self.transport is None:
                return False
            if chunked:
                self.transport.write(b"0\r\n\r\n")
            return True
        finally:
            await stream.aclose()


def _freeze_startup_heap() -> None:
    """Everything built at startup (botocore's models above all: hundreds of thousands of
    objects) out of the garbage collector's sight: a full collection otherwise walks all of
    it, a pause of tens of milliseconds every few seconds under load (warm invokes from 32
    connections: ~10% less server CPU per request with it). Objects made at startup live
    as long as the server, or nearly."""
    gc.collect()
    gc.freeze()


async def run(gateway: Gateway, listener: socket.socket, stop: asyncio.Event) -> None:
    """Serve until `stop` is set: startup hooks, accept on `listener` (bound and listening
    already, so that a taken port is known before anything starts), then shutdown hooks."""
    if gateway.on_startup:
        await gateway.on_startup()
    _freeze_startup_heap()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: HttpProtocol(gateway), sock=listener, backlog=2048)
    try:
        await stop.wait()
    finally:
        server.close()
        try:
            await asyncio.wait_for(server.wait_closed(), 5)
        except asyncio.TimeoutError:
            pass
        if gateway.on_shutdown:
            await gateway.on_shutdown()


async def run_behind(gateway: Gateway, fronts, stop: asyncio.Event) -> None:
    """Serve until `stop` is set with the HTTP side in front processes (http/fronts.py):
    startup hooks, then the fronts' links, then shutdown hooks once the fronts are gone."""
    if gateway.on_startup:
        await gateway.on_startup()
    _freeze_startup_heap()
    try:
        await fronts.connect(gateway)
        await stop.wait()
    finally:
        await fronts.stop()
        if gateway.on_shutdown:
            await gateway.on_shutdown()
