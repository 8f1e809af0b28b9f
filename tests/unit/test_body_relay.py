"""Request bodies read in a front process and relayed to the core's services over the link
(http/body_relay.py): every byte in order with the trailers, a window that keeps a slow
reader from being flooded, and a call answered before its body was read."""

from __future__ import annotations

import asyncio
import socket

from lamina.errors import ServiceError
from lamina.http import body_relay
from lamina.http.link import CoreLink, FrontLink
from lamina.protocol.aws_chunked import ChunkedDecoder
from lamina.protocol.bodies import Body
from lamina.services.context import RequestContext

CTX = RequestContext(account_id="000000000000", region="us-east-1", request_id="r", endpoint_url="http://h")


async def linked(call):
    loop = asyncio.get_running_loop()
    core_end, front_end = socket.socketpair()
    await loop.create_unix_connection(lambda: FrontLink(call, None, {}), sock=core_end)
    _, link = await loop.create_unix_connection(CoreLink, sock=front_end)
    await link.routes
    return link


async def pieces(count: int, size: int, sent: list[int]):
    for index in range(count):
        sent.append(index)
        yield bytes([index % 256]) * size


def test_a_body_crosses_whole_and_in_order_at_the_readers_pace():
    seen: dict = {}

    async def call(service, operation, params, ctx):
        body = params["Body"]
        total = bytearray()
        async for piece in body:
            total += piece
            await asyncio.sleep(0)  # a reader slower than the sender
            seen.setdefault("most_ahead", 0)
            seen["most_ahead"] = max(seen["most_ahead"], len(sent) * 65536 - len(total))
        return {"Size": len(total), "Trailers": body.trailers, "Length": body.length, "Head": bytes(total[:1])}

    sent: list[int] = []

    async def main():
        link = await linked(call)
        body = Body(pieces(400, 65536, sent), length=400 * 65536)
        return await link.call("s3", "PutObject", {"Bucket": "b", "Body": body}, CTX)

    answer = asyncio.run(main())
    assert answer["Size"] == 400 * 65536 and answer["Length"] == 400 * 65536 and answer["Head"] == b"\x00"
    # The front never ran more than the window (and a piece) ahead of what was read.
    assert seen["most_ahead"] <= body_relay.WINDOW + 2 * 65536


def test_trailers_and_a_refused_body_reach_the_reader():
    async def call(service, operation, params, ctx):
        body = params["Body"]
        try:
            data = await body.read()
        except ServiceError as error:
            return {"Refused": error.code}
        return {"Data": data, "Trailers": body.trailers}

    async def chunked(text: bytes):
        yield text

    async def main():
        link = await linked(call)
        good = Body(chunked(b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAA\r\n\r\n"), ChunkedDecoder())
        bad = Body(chunked(b"5\r\nhelloXX"), ChunkedDecoder())
        return (
            await link.call("s3", "PutObject", {"Body": good}, CTX),
            await link.call("s3", "PutObject", {"Body": bad}, CTX),
        )

    good, bad = asyncio.run(main())
    assert good == {"Data": b"hello", "Trailers": {"x-amz-checksum-crc32": "AAAA"}}
    assert bad == {"Refused": "IncompleteBody"}


def test_an_answer_before_the_body_was_read_stops_the_sending():
    async def call(service, operation, params, ctx):
        raise ServiceError("NoSuchBucket", "The specified bucket does not exist", 404)

    sent: list[int] = []

    async def endless():
        index = 0
        while True:
            sent.append(index)
            index += 1
            yield b"x" * 65536
            await asyncio.sleep(0)

    async def main():
        link = await linked(call)
        try:
            await link.call("s3", "PutObject", {"Body": Body(endless())}, CTX)
        except ServiceError as error:
            return error.code

    assert asyncio.run(main()) == "NoSuchBucket"
    assert len(sent) * 65536 <= body_relay.WINDOW + 2 * 65536
