"""Lamina's HTTP server (http/server.py) on a fake transport: every request gets an answer."""

from __future__ import annotations

import asyncio

from lamina.http.server import HttpProtocol
from lamina.protocol.messages import Response

REQUEST = b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n"


class Transport:
    def __init__(self) -> None:
        self.written = b""
        self.closed = False

    def get_extra_info(self, name):
        return ("127.0.0.1", 1234)

    def write(self, data: bytes) -> None:
        self.written += data

    def close(self) -> None:
        self.closed = True


class Gateway:
    """Answers 200, except that the first request waits on something that gets cancelled."""

    def __init__(self) -> None:
        self.calls = 0

    def streams_body(self, method, headers, url) -> bool:
        return False

    async def handle(self, request):
        self.calls += 1
        if self.calls == 1:
            inner = asyncio.get_running_loop().create_future()
            asyncio.get_running_loop().call_soon(inner.cancel)
            await inner  # raises CancelledError in the request, not in the connection's task
        return Response(200, [("content-type", "text/plain")], b"ok")


def test_a_request_whose_work_was_cancelled_still_gets_an_answer():
    async def main():
        transport = Transport()
        protocol = HttpProtocol(Gateway())  # type: ignore[arg-type]
        protocol.connection_made(transport)  # type: ignore[arg-type]
        protocol.data_received(REQUEST)
        await asyncio.sleep(0.01)
        protocol.data_received(REQUEST)  # the connection keeps serving
        await asyncio.sleep(0.01)
        return transport.written

    written = asyncio.run(main())
    answers = written.split(b"HTTP/1.1 ")[1:]
    assert [answer[:3] for answer in answers] == [b"503", b"200"]


def test_a_closed_connection_cancels_its_task_quietly():
    async def main():
        transport = Transport()
        gateway = Gateway()
        gateway.calls = 1  # no inner cancel: the request just waits

        async def slow(request):
            await asyncio.sleep(10)

        gateway.handle = slow  # type: ignore[method-assign]
        protocol = HttpProtocol(gateway)  # type: ignore[arg-type]
        protocol.connection_made(transport)  # type: ignore[arg-type]
        protocol.data_received(REQUEST)
        await asyncio.sleep(0.01)
        worker = protocol._worker
        protocol.connection_lost(None)
        await asyncio.sleep(0.01)
        return worker, transport.written

    worker, written = asyncio.run(main())
    assert worker is not None and worker.cancelled()
    assert written == b""


class StreamingGateway:
    """Streams every POST's body; answers with what it read (or reads nothing for /skip)."""

    def __init__(self) -> None:
        self.handled: list[tuple[str, bytes]] = []

    def streams_body(self, method, headers, url) -> bool:
        return method == "POST"

    async def handle(self, request):
        data = b""
        if request.stream is not None and request.path != "/skip":
            data = b"".join([piece async for piece in request.stream])
        else:
            data = request.body
        self.handled.append((request.path, data))
        return Response(200, [("content-type", "text/plain")], b"%d" % len(data))


def test_a_streamed_body_reaches_its_handler_as_it_arrives_and_the_connection_goes_on():
    async def main():
        transport = Transport()
        transport.pause_reading = lambda: None  # type: ignore[attr-defined]
        transport.resume_reading = lambda: None  # type: ignore[attr-defined]
        gateway = StreamingGateway()
        protocol = HttpProtocol(gateway)  # type: ignore[arg-type]
        protocol.connection_made(transport)  # type: ignore[arg-type]
        protocol.data_received(b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nhello")
        await asyncio.sleep(0.01)
        assert gateway.handled == []  # the handler is waiting for the rest
        protocol.data_received(b"world")
        await asyncio.sleep(0.01)
        # A handler that reads nothing: its body is dropped, the next request still parses.
        protocol.data_received(b"POST /skip HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc")
        protocol.data_received(b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n")
        await asyncio.sleep(0.05)
        return gateway, transport.written

    gateway, written = asyncio.run(main())
    assert gateway.handled == [("/a", b"helloworld"), ("/skip", b""), ("/x", b"")]
    assert written.count(b"HTTP/1.1 200 OK") == 3
