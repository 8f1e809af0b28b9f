"""WebSocket upgrades in Lamina's HTTP server (http/server.py + http/websocket.py), driven by a
real client (the websockets library) over a real socket."""

from __future__ import annotations

import asyncio
import socket

import pytest
import websockets

from lamina.http.link import CoreLink, FrontLink
from lamina.http.server import HttpProtocol
from lamina.protocol.messages import Request, Response


class Echo:
    """Accepts unless the path says otherwise; echoes; "close" closes; "push" sends twice."""

    def __init__(self) -> None:
        self.closes: list[tuple[int, str]] = []
        self.opens: list[Request] = []

    async def open(self, request: Request, socket) -> Response | None:
        self.opens.append(request)
        if request.path == "/refuse":
            return Response(403, [("content-type", "application/json")], b'{"message":"Forbidden"}')
        if "sec-websocket-protocol" in request.headers:
            return Response(101, [("sec-websocket-protocol", request.headers["sec-websocket-protocol"])])
        return None

    async def message(self, socket, data) -> None:
        if data == "close":
            socket.close(4000, "asked to")
        elif data == "push":
            socket.send("one")
            socket.send(b"two")
        else:
            socket.send(data)

    async def closed(self, socket, code: int, reason: str) -> None:
        self.closes.append((code, reason))


class Gateway:
    def __init__(self, endpoint) -> None:
        self.endpoint = endpoint

    def streams_body(self, method, headers, url) -> bool:
        return False

    async def handle(self, request):
        return Response(200, [("content-type", "text/plain")], b"plain http")

    def websocket_for(self, request):
        return self.endpoint if request.headers.get("host", "").startswith("ws.x:") else None


def serve(test):
    async def main():
        endpoint = Echo()
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: HttpProtocol(Gateway(endpoint)), "127.0.0.1", 0)  # type: ignore[arg-type]
        port = server.sockets[0].getsockname()[1]
        try:
            await test(port, endpoint)
        finally:
            server.close()

    asyncio.run(main())


def test_messages_both_ways_and_a_clean_close():
    async def test(port, endpoint):
        async with websockets.connect(f"ws://ws.x:{port}/prod", host="127.0.0.1") as client:
            await client.send("hello")
            assert await client.recv() == "hello"
            await client.send(b"\x00\x01" * 70000)  # bigger than one frame of most clients
            assert await client.recv() == b"\x00\x01" * 70000
            await client.send("push")
            assert [await client.recv(), await client.recv()] == ["one", b"two"]
        for _ in range(100):
            if endpoint.closes:
                break
            await asyncio.sleep(0.01)
        assert endpoint.closes == [(1000, "")]
        assert endpoint.opens[0].path == "/prod"

    serve(test)


def test_the_endpoint_closes_and_the_client_hears_its_code():
    async def test(port, endpoint):
        async with websockets.connect(f"ws://ws.x:{port}/", host="127.0.0.1") as client:
            await client.send("close")
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await client.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4000
        assert endpoint.closes == [(4000, "asked to")]

    serve(test)


def test_a_refused_handshake_answers_the_endpoints_response():
    async def test(port, endpoint):
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(f"ws://ws.x:{port}/refuse", host="127.0.0.1"):
                pass
        assert refused.value.response.status_code == 403
        assert refused.value.response.body == b'{"message":"Forbidden"}'

    serve(test)


def test_a_subprotocol_chosen_at_the_handshake():
    async def test(port, endpoint):
        async with websockets.connect(f"ws://ws.x:{port}/", host="127.0.0.1", subprotocols=["chat"]) as client:
            assert client.subprotocol == "chat"

    serve(test)


def test_an_upgrade_to_a_host_without_an_endpoint_is_refused():
    async def test(port, endpoint):
        with pytest.raises((websockets.InvalidStatus, websockets.InvalidMessage)):
            async with websockets.connect(f"ws://other:{port}/", host="127.0.0.1"):
                pass
        assert endpoint.opens == []

    serve(test)


def test_a_front_process_relays_connections_to_the_cores_endpoint():
    """With front processes the client's socket is in a front and the endpoint in the core:
    the link carries the handshake, the messages both ways and the closes."""

    async def main():
        loop = asyncio.get_running_loop()
        endpoint = Echo()
        core_end, front_end = socket.socketpair()
        await loop.create_unix_connection(lambda: FrontLink(None, None, {}, lambda request: endpoint), sock=core_end)
        _, link = await loop.create_unix_connection(CoreLink, sock=front_end)
        await link.routes
        server = await loop.create_server(
            lambda: HttpProtocol(Gateway(link.websockets)),  # type: ignore[arg-type]
            "127.0.0.1",
            0,
        )
        port = server.sockets[0].getsockname()[1]
        try:
            async with websockets.connect(f"ws://ws.x:{port}/prod", host="127.0.0.1") as client:
                await client.send("hello")
                assert await client.recv() == "hello"
                await client.send("push")
                assert [await client.recv(), await client.recv()] == ["one", b"two"]
                await client.send("close")
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await client.recv()
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 4000
            with pytest.raises(websockets.InvalidStatus) as refused:
                async with websockets.connect(f"ws://ws.x:{port}/refuse", host="127.0.0.1"):
                    pass
            assert refused.value.response.status_code == 403
        finally:
            server.close()
        assert endpoint.closes == [(4000, "asked to")]
        assert [request.path for request in endpoint.opens] == ["/prod", "/refuse"]

    asyncio.run(main())
