"""Streamed responses below the service: the ResponseStream (chunks in order, the writer
held back by a slow reader, the size limit, an abandoned reader) and the Runtime API taking
a response in streaming mode over a real socket (chunks handed on as they arrive, an error
in the trailers, a plain Invoke's gathered payload); and the function URL's pure parts
(the event checked against Powertools' model, responses as AWS reads them)."""

from __future__ import annotations

import asyncio
import base64
import json

from aws_lambda_powertools.utilities.parser.models import LambdaFunctionUrlModel

from lamina.engine import streaming
from lamina.engine.sandbox.runtime_api import Invocation, RuntimeApi
from lamina.engine.streaming import ResponseStream
from lamina.http.function_urls import build_event, interpret, preflight
from lamina.protocol.messages import Request


def test_chunks_arrive_in_order_and_end_with_close():
    async def main():
        stream = ResponseStream()
        stream.begin("text/plain")
        got = []

        async def read():
            async for chunk in stream.chunks():
                got.append(chunk)

        reader = asyncio.ensure_future(read())
        assert await stream.write(b"a")
        assert await stream.write(b"b")
        stream.close()
        await reader
        return stream, got

    stream, got = asyncio.run(main())
    assert got == [b"a", b"b"]
    assert stream.streamed and stream.content_type == "text/plain"


def test_a_slow_reader_holds_the_writer_back():
    async def main():
        stream = ResponseStream()
        big = b"x" * (streaming.HIGH_WATER + 1)
        writing = asyncio.ensure_future(stream.write(big))
        await asyncio.sleep(0)
        held = not writing.done()
        chunks = stream.chunks()
        assert await chunks.__anext__() == big  # read: the writer may go on
        await asyncio.wait_for(writing, 5)
        stream.close()
        return held

    assert asyncio.run(main())


def test_the_size_limit_and_an_abandoned_reader():
    async def main():
        stream = ResponseStream(limit_bytes=4)
        assert await stream.write(b"1234")
        over = await stream.write(b"5")
        abandoned = ResponseStream()
        abandoned.abandon()
        kept = await abandoned.write(b"y" * (streaming.HIGH_WATER * 2))  # dropped, never waits
        return over, kept

    assert asyncio.run(main()) == (False, True)


async def _post_streamed(api: RuntimeApi, request_id: str, chunks: list[bytes], trailers: str = "") -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", api.port)
    writer.write(
        (
            f"POST /2018-06-01/runtime/invocation/{request_id}/response HTTP/1.1\r\nHost: x\r\n"
            "Lambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\n"
            "Content-Type: text/plain\r\n\r\n"
        ).encode()
    )
    for chunk in chunks:
        writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        await writer.drain()
        await asyncio.sleep(0.01)  # let the API take it before the next (not asserted on)
    writer.write(f"0\r\n{trailers}\r\n".encode())
    await writer.drain()
    answer = await reader.read(65536)
    assert answer.startswith(b"HTTP/1.1 202")
    writer.close()


def test_runtime_api_hands_a_streamed_response_on_as_it_arrives():
    async def main():
        api = RuntimeApi()
        await api.start()
        stream = ResponseStream()
        invocation = Invocation("r1", b"{}", {}, stream=stream)
        api.offer(invocation)
        poster = asyncio.ensure_future(_post_streamed(api, "r1", [b"one", b"two"]))
        content_type = await stream.began
        got = [chunk async for chunk in _until_closed(stream, invocation)]
        await poster
        outcome = await invocation.done
        await api.close()
        return content_type, got, outcome

    content_type, got, outcome = asyncio.run(main())
    assert content_type == "text/plain"
    assert b"".join(got) == b"onetwo"
    assert outcome.kind == "result"


async def _until_closed(stream: ResponseStream, invocation: Invocation):
    invocation.done.add_done_callback(lambda _: stream.close())
    async for chunk in stream.chunks():
        yield chunk


def test_runtime_api_streamed_error_in_trailers_and_gathered_payload():
    async def main():
        api = RuntimeApi()
        await api.start()
        failing = Invocation("r1", b"{}", {})
        api.offer(failing)
        body = base64.b64encode(json.dumps({"errorType": "Boom", "errorMessage": "broke"}).encode()).decode()
        trailers = f"Lambda-Runtime-Function-Error-Type: Boom\r\nLambda-Runtime-Function-Error-Body: {body}\r\n"
        await _post_streamed(api, "r1", [b"part"], trailers)
        gathered = Invocation("r2", b"{}", {})  # a plain Invoke of a streaming function
        api.offer(gathered)
        await _post_streamed(api, "r2", [b"a", b"b"])
        results = await failing.done, await gathered.done
        await api.close()
        return results

    failed, whole = asyncio.run(main())
    assert failed.kind == "error" and json.loads(failed.payload) == {"errorType": "Boom", "errorMessage": "broke"}
    assert whole.kind == "result" and whole.payload == b"ab"


def _request(**more) -> Request:
    base = dict(
        method="GET",
        path="/p",
        raw_path="/p",
        query_string="x=1&x=2",
        headers={"host": "abc.lambda-url.us-east-1.localhost:4566", "user-agent": "ua", "cookie": "a=b"},
        client="127.0.0.1",
    )
    base.update(more)
    return Request(**base)  # type: ignore[arg-type]


def test_the_event_fits_powertools_model():
    event = build_event(_request(), "abc", "abc.lambda-url.us-east-1.localhost", "rid", "anonymous", None, "4566")
    parsed = LambdaFunctionUrlModel(**event)
    assert parsed.queryStringParameters == {"x": "1,2"}
    assert parsed.cookies == ["a=b"]
    assert parsed.requestContext.http.method == "GET"
    assert event["headers"]["x-forwarded-port"] == "4566"


def test_responses_as_aws_reads_them():
    assert interpret(b'{"a": 1}').body == b'{"a": 1}'  # no statusCode: the result itself
    custom = interpret(json.dumps({"statusCode": 404, "body": {"k": "v"}, "cookies": ["c=1"]}).encode())
    assert custom is not None and custom.status == 404
    assert custom.body == b'{"k": "v"}'
    assert ("set-cookie", "c=1") in custom.headers
    assert interpret(b'{"statusCode": "not a number"}') is None  # a 502


def test_preflight_of_an_unlisted_method_allows_nothing():
    cors = {"AllowOrigins": ["*"], "AllowMethods": ["GET"]}
    request = _request(method="OPTIONS", headers={"origin": "https://x", "access-control-request-method": "DELETE"})
    assert not any(name.startswith("access-control-") for name, _ in preflight(cors, request).headers)
    request = _request(method="OPTIONS", headers={"origin": "https://x", "access-control-request-method": "GET"})
    assert ("access-control-allow-origin", "*") in preflight(cors, request).headers
