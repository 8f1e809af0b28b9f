"""Event-stream answers (protocol/eventstream.py): the frames botocore reads, the HTTP server's
chunked writing, and the link that carries a stream from the core to a front process."""

from __future__ import annotations

import asyncio
import socket
from datetime import datetime, timezone

import pytest
from botocore.eventstream import EventStreamBuffer, EventStreamError
from botocore.parsers import create_parser
from urllib3._collections import HTTPHeaderDict

from lamina.errors import ServiceError
from lamina.http.link import CoreLink, FrontLink
from lamina.http.server import HttpProtocol
from lamina.protocol import eventstream, serializers
from lamina.protocol.messages import Response
from lamina.protocol.router import Router
from lamina.services.context import RequestContext

from .test_http_server import Transport

EMPTY = {"Records": [], "ContinuationSequenceNumber": "1", "MillisBehindLatest": 5}
RECORD = {
    "SequenceNumber": "1",
    "ApproximateArrivalTimestamp": datetime(2026, 12, 8, tzinfo=timezone.utc),
    "Data": b"hello",
    "PartitionKey": "k",
}


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(["kinesis", "logs", "lambda"])


class Closable:
    """An async iterator of events that notes whether it was closed, and may fail at the end."""

    def __init__(self, events: list[dict], then: BaseException | None = None, wait: bool = False) -> None:
        self.events = list(events)
        self.then = then
        self.wait = wait
        self.closed = False

    def __aiter__(self):
        return self

    async def __anext__(self) -> dict:
        if self.events:
            return self.events.pop(0)
        if self.wait:
            await asyncio.sleep(3600)
        if self.then is not None:
            raise self.then
        raise StopAsyncIteration

    async def aclose(self) -> None:
        self.closed = True


def collect(response: Response) -> bytes:
    async def main() -> bytes:
        assert response.stream is not None
        return b"".join([chunk async for chunk in response.stream])

    return asyncio.run(main())


class RawStream:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self):
        yield from (self.data[i : i + 7] for i in range(0, len(self.data), 7))  # odd splits

    def close(self) -> None:
        pass


def botocore_events(router: Router, service: str, operation: str, response: Response) -> list:
    spec = router.specs[service]
    op = spec.model.operation_model(operation)
    headers = HTTPHeaderDict()
    for name, value in response.headers:
        headers.add(name, value)
    body = RawStream(collect(response))
    parsed = create_parser(spec.protocol).parse(
        {"status_code": response.status, "headers": headers, "body": body, "context": {}}, op.output_shape
    )
    member = op.output_shape.event_stream_name
    return list(parsed[member])


def serialize(router: Router, service: str, operation: str, result: dict) -> Response:
    spec = router.specs[service]
    return serializers.serialize(spec, spec.model.operation_model(operation), result, "rid")


def test_a_message_frames_as_botocore_reads_it():
    data = eventstream.message({":message-type": "event", ":event-type": "X"}, b'{"a":1}')
    buffer = EventStreamBuffer()
    buffer.add_data(data[:5])
    assert list(buffer) == []
    buffer.add_data(data[5:])
    (message,) = list(buffer)
    assert message.headers == {":message-type": "event", ":event-type": "X"}
    assert message.payload == b'{"a":1}'


def test_subscribe_to_shard_events_read_by_botocore(router):
    events = Closable(
        [
            {"SubscribeToShardEvent": {**EMPTY, "Records": [RECORD], "MillisBehindLatest": 0}},
            {"SubscribeToShardEvent": EMPTY},
        ]
    )
    response = serialize(router, "kinesis", "SubscribeToShard", {"EventStream": events})
    assert dict(response.headers)["content-type"] == "application/vnd.amazon.eventstream"
    first, second = botocore_events(router, "kinesis", "SubscribeToShard", response)
    record = first["SubscribeToShardEvent"]["Records"][0]
    assert record["Data"] == b"hello" and record["PartitionKey"] == "k"
    assert record["ApproximateArrivalTimestamp"] == RECORD["ApproximateArrivalTimestamp"]
    assert second["SubscribeToShardEvent"]["MillisBehindLatest"] == 5
    assert events.closed


def test_a_modelled_error_ends_the_stream_as_its_exception(router):
    events = Closable(
        [{"SubscribeToShardEvent": EMPTY}],
        then=ServiceError("ResourceInUseException", "Another active subscription exists for this consumer"),
    )
    response = serialize(router, "kinesis", "SubscribeToShard", {"EventStream": events})
    parsed = iter(botocore_events_lazy(router, response))
    assert "SubscribeToShardEvent" in next(parsed)
    with pytest.raises(EventStreamError) as raised:
        next(parsed)
    assert raised.value.response["Error"] == {
        "Code": "ResourceInUseException",
        "Message": "Another active subscription exists for this consumer",
    }
    assert events.closed


def botocore_events_lazy(router: Router, response: Response):
    spec = router.specs["kinesis"]
    op = spec.model.operation_model("SubscribeToShard")
    parsed = create_parser("json").parse(
        {"status_code": 200, "headers": dict(response.headers), "body": RawStream(collect(response)), "context": {}},
        op.output_shape,
    )
    return parsed["EventStream"]


def test_an_unmodelled_error_and_a_bug_end_the_stream_as_error_messages(router):
    for failure, code in [
        (ServiceError("ThrottlingException", "Rate exceeded"), "ThrottlingException"),
        (RuntimeError("a bug"), "InternalFailure"),
    ]:
        response = serialize(router, "logs", "StartLiveTail", {"responseStream": Closable([], then=failure)})
        with pytest.raises(EventStreamError) as raised:
            botocore_events(router, "logs", "StartLiveTail", response)
        assert raised.value.response["Error"]["Code"] == code


def test_a_rest_json_stream_has_no_initial_response(router):
    # Lambda's InvokeWithResponseStream: the other members are headers, the events follow.
    events = Closable([{"PayloadChunk": {"Payload": b"part"}}, {"InvokeComplete": {"LogResult": "bG9n"}}])
    response = serialize(
        router, "lambda", "InvokeWithResponseStream", {"StatusCode": 200, "ExecutedVersion": "1", "EventStream": events}
    )
    assert ("X-Amz-Executed-Version", "1") in response.headers
    parsed = botocore_events(router, "lambda", "InvokeWithResponseStream", response)
    assert parsed == [{"PayloadChunk": {"Payload": b"part"}}, {"InvokeComplete": {"LogResult": "bG9n"}}]


class StreamingGateway:
    def __init__(self, stream) -> None:
        self.stream = stream

    def streams_body(self, method, headers, url) -> bool:
        return False

    async def handle(self, request):
        return Response(200, [("content-type", eventstream.CONTENT_TYPE)], b"", self.stream)


async def _chunks(items: list[bytes], source: Closable):
    try:
        async for _ in source:
            pass
        for item in items:
            yield item
    finally:
        await source.aclose()


def test_the_server_writes_a_stream_chunked_and_keeps_the_connection():
    async def main():
        transport = Transport()
        protocol = HttpProtocol(StreamingGateway(_chunks([b"abc", b"defgh"], Closable([]))))  # type: ignore[arg-type]
        protocol.connection_made(transport)  # type: ignore[arg-type]
        protocol.data_received(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n")
        await asyncio.sleep(0.05)
        return transport

    transport = asyncio.run(main())
    head, body = transport.written.split(b"\r\n\r\n", 1)
    assert b"transfer-encoding: chunked" in head and b"content-length" not in head
    assert body == b"3\r\nabc\r\n5\r\ndefgh\r\n0\r\n\r\n"
    assert not transport.closed


def test_a_client_going_away_closes_the_stream():
    source = Closable([], wait=True)

    async def main():
        transport = Transport()
        protocol = HttpProtocol(StreamingGateway(_chunks([], source)))  # type: ignore[arg-type]
        protocol.connection_made(transport)  # type: ignore[arg-type]
        protocol.data_received(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n")
        await asyncio.sleep(0.05)
        protocol.connection_lost(None)
        await asyncio.sleep(0.05)

    asyncio.run(main())
    assert source.closed


def test_a_stream_crosses_the_link_from_the_core_to_a_front():
    sources: list[Closable] = []

    async def call(service, operation, params, ctx):
        source = Closable([{"E": 1}, {"E": 2}], wait=params.get("wait", False))
        sources.append(source)
        return {"Other": "x", "Stream": source}

    async def main():
        loop = asyncio.get_running_loop()
        core_end, front_end = socket.socketpair()
        await loop.create_unix_connection(lambda: FrontLink(call, None, []), sock=core_end)
        _, link = await loop.create_unix_connection(CoreLink, sock=front_end)
        await link.routes
        ctx = RequestContext(account_id="000000000000", region="us-east-1", request_id="r", endpoint_url="http://h")
        finished = await link.call("kinesis", "SubscribeToShard", {}, ctx)
        assert finished["Other"] == "x"
        assert [event async for event in finished["Stream"]] == [{"E": 1}, {"E": 2}]
        endless = await link.call("kinesis", "SubscribeToShard", {"wait": True}, ctx)
        stream = endless["Stream"]
        assert [await stream.__anext__(), await stream.__anext__()] == [{"E": 1}, {"E": 2}]
        await stream.aclose()  # the client went away: the core lets go of its iterator
        for _ in range(100):
            if sources[1].closed:
                break
            await asyncio.sleep(0.01)
        assert sources[0].closed and sources[1].closed

    asyncio.run(main())
