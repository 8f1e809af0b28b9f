"""Response streaming: InvokeWithResponseStream through boto3 (PayloadChunk events, then
InvokeComplete), Node's awslambda.streamifyResponse and HttpResponseStream.from behind a
RESPONSE_STREAM function URL, a custom runtime's streaming mode over the Runtime API, and
Python answering in one piece.

That chunks flow as they are written is shown by ordering, not timing: the function writes
its first chunk, then asks a gate (a small HTTP server of the test's) what to write next;
the gate answers "go" once the test has read the first chunk, and "late" only if it never
does (its fallback keeps a failing test from hanging). A buffered response would read
"late"."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from lamina.config import Settings
from lamina.engine.runtimes import NODE_VERSIONS, Runtimes

HOST = Runtimes(Settings().interpreters)
PRESENT = [runtime for runtime in NODE_VERSIONS if HOST.find(runtime) is not None]
NODE = PRESENT[-1] if PRESENT else None
needs_node = pytest.mark.skipif(NODE is None, reason="no node on this host for any nodejs runtime")
GATE_FALLBACK_S = 60  # only so that a broken stream fails the test instead of hanging it


class Gate:
    """GET /go answers "go" once opened, "late" if it never is."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        gate = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = b"go" if gate.opened.wait(GATE_FALLBACK_S) else b"late"
                self.send_response(200)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/go"

    def open(self) -> None:
        self.opened.set()


@contextmanager
def gate() -> Iterator[Gate]:
    made = Gate()
    thread = threading.Thread(target=made.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield made
    finally:
        made.open()
        made.server.shutdown()
        made.server.server_close()


NODE_STREAMING = """
exports.handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
  responseStream.setContentType('text/plain');
  responseStream.write('first;');
  const next = await (await fetch(event.gate)).text();
  responseStream.write(next);
  if (event.fail) throw new Error('broke mid-stream');
  responseStream.end();
});
"""

NODE_URL = """
exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
  const stream = awslambda.HttpResponseStream.from(responseStream, {
    statusCode: 201,
    headers: { 'content-type': 'text/plain', 'x-made-by': 'node' },
    cookies: ['session=1; Path=/'],
  });
  stream.write('first;');
  const next = await (await fetch(event.queryStringParameters.gate)).text();
  stream.write(next);
  stream.end();
});
"""

# A custom runtime speaking the Runtime API's streaming mode itself: chunked transfer
# encoding, an error in the trailers.
CUSTOM_RUNTIME = r"""
import json, os, socket, urllib.request

api = os.environ["AWS_LAMBDA_RUNTIME_API"]
host, port = api.split(":")
while True:
    with urllib.request.urlopen(f"http://{api}/2018-06-01/runtime/invocation/next") as answer:
        request_id = answer.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(answer.read())
    out = socket.create_connection((host, int(port)))
    out.sendall(
        (
            f"POST /2018-06-01/runtime/invocation/{request_id}/response HTTP/1.1\r\nHost: {api}\r\n"
            "Lambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\n"
            "Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n"
            "Content-Type: text/plain\r\n\r\n"
        ).encode()
    )

    def chunk(data: bytes) -> None:
        out.sendall(b"%x\r\n%s\r\n" % (len(data), data))

    chunk(b"first;")
    chunk(urllib.request.urlopen(event["gate"]).read())
    if event.get("fail"):
        import base64
        body = base64.b64encode(json.dumps({"errorType": "Custom.Broke", "errorMessage": "broke"}).encode()).decode()
        trailers = f"Lambda-Runtime-Function-Error-Type: Custom.Broke\r\nLambda-Runtime-Function-Error-Body: {body}"
        out.sendall(f"0\r\n{trailers}\r\n\r\n".encode())
    else:
        out.sendall(b"0\r\n\r\n")
    out.recv(65536)
    out.close()
"""


def _stream(lambda_client, name: str, payload: dict, **more):
    response = lambda_client.invoke_with_response_stream(
        FunctionName=name, Payload=json.dumps(payload).encode(), **more
    )
    return response, response["EventStream"]


def _read_gated(events, opened: Gate) -> tuple[list[bytes], dict]:
    """The chunks and the InvokeComplete event; the gate opens once the first chunk is read."""
    chunks: list[bytes] = []
    complete: dict = {}
    for event in events:
        if "PayloadChunk" in event:
            chunks.append(event["PayloadChunk"]["Payload"])
            opened.open()
        elif "InvokeComplete" in event:
            complete = event["InvokeComplete"]
    return chunks, complete


def test_python_answers_in_one_chunk(lambda_client, create_function, unique_name):
    create_function(code={"app.py": "def handler(event, context):\n    return {'got': event}\n"})
    response, events = _stream(lambda_client, unique_name, {"a": 1}, LogType="Tail")
    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "$LATEST"
    assert response["ResponseStreamContentType"] == "application/vnd.amazon.eventstream"
    parsed = list(events)
    assert parsed[0] == {"PayloadChunk": {"Payload": b'{"got": {"a": 1}}'}}
    assert "LogResult" in parsed[-1]["InvokeComplete"]
    assert "ErrorCode" not in parsed[-1]["InvokeComplete"]


def test_python_error_ends_the_stream_with_its_code(lambda_client, create_function, unique_name):
    create_function(code={"app.py": "def handler(event, context):\n    raise ValueError('nope')\n"})
    _, events = _stream(lambda_client, unique_name, {})
    parsed = list(events)
    assert parsed == [{"InvokeComplete": {"ErrorCode": "ValueError", "ErrorDetails": "nope"}}]


def test_unknown_function_is_an_error_response(lambda_client):
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as error:
        lambda_client.invoke_with_response_stream(FunctionName="no-such-streamer", Payload=b"{}")
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"


@needs_node
def test_node_streams_as_it_writes(lambda_client, create_function, unique_name):
    create_function(code={"index.js": NODE_STREAMING}, handler="index.handler", Runtime=NODE, Timeout=90)
    with gate() as opened:
        response, events = _stream(lambda_client, unique_name, {"gate": opened.url})
        chunks, complete = _read_gated(events, opened)
    assert b"".join(chunks) == b"first;go"
    assert chunks[0] == b"first;"
    assert complete == {}


@needs_node
def test_node_failing_mid_stream(lambda_client, create_function, unique_name):
    create_function(code={"index.js": NODE_STREAMING}, handler="index.handler", Runtime=NODE, Timeout=90)
    with gate() as opened:
        _, events = _stream(lambda_client, unique_name, {"gate": opened.url, "fail": True})
        chunks, complete = _read_gated(events, opened)
    assert b"".join(chunks) == b"first;go"
    assert complete["ErrorCode"] == "Error"
    assert complete["ErrorDetails"] == "broke mid-stream"


@needs_node
def test_node_streaming_handler_through_plain_invoke(lambda_client, create_function, unique_name):
    """Invoke (not streaming) gets the whole stream as one payload, as on AWS."""
    create_function(code={"index.js": NODE_STREAMING}, handler="index.handler", Runtime=NODE, Timeout=90)
    with gate() as opened:
        opened.open()
        response = lambda_client.invoke(FunctionName=unique_name, Payload=json.dumps({"gate": opened.url}).encode())
    assert "FunctionError" not in response
    assert response["Payload"].read() == b"first;go"


@needs_node
def test_node_streams_through_a_function_url(lambda_client, lamina, create_function, unique_name):
    create_function(code={"index.js": NODE_URL}, handler="index.handler", Runtime=NODE, Timeout=90)
    url = lambda_client.create_function_url_config(
        FunctionName=unique_name, AuthType="NONE", InvokeMode="RESPONSE_STREAM"
    )["FunctionUrl"]
    for sid, action, extra in (
        ("url", "lambda:InvokeFunctionUrl", {"FunctionUrlAuthType": "NONE"}),
        ("invoke", "lambda:InvokeFunction", {"InvokedViaFunctionUrl": True}),
    ):
        lambda_client.add_permission(FunctionName=unique_name, StatementId=sid, Action=action, Principal="*", **extra)
    host = url.split("//", 1)[1].rstrip("/")
    with gate() as opened, httpx.Client(base_url=lamina.url, headers={"Host": host}, timeout=120) as http:
        with http.stream("GET", "/", params={"gate": opened.url}) as response:
            assert response.status_code == 201
            assert response.headers["content-type"] == "text/plain"
            assert response.headers["x-made-by"] == "node"
            assert response.headers.get_list("set-cookie") == ["session=1; Path=/"]
            received = b""
            for data in response.iter_raw():
                received += data
                if received.startswith(b"first;"):
                    opened.open()
    assert received == b"first;go"


def test_custom_runtime_streams_as_it_writes(lambda_client, create_function, unique_name):
    create_function(
        code={"bootstrap": f"#!/bin/sh\nexec {sys.executable} runtime.py\n", "runtime.py": CUSTOM_RUNTIME},
        handler="unused",
        Runtime="provided.al2023",
        Timeout=90,
    )
    with gate() as opened:
        response, events = _stream(lambda_client, unique_name, {"gate": opened.url})
        chunks, complete = _read_gated(events, opened)
    assert chunks[0] == b"first;"
    assert b"".join(chunks) == b"first;go"
    assert complete == {}

    with gate() as opened:
        _, events = _stream(lambda_client, unique_name, {"gate": opened.url, "fail": True})
        chunks, complete = _read_gated(events, opened)
    assert b"".join(chunks) == b"first;go"
    assert complete == {"ErrorCode": "Custom.Broke", "ErrorDetails": "broke"}


@needs_node
def test_node_pipeline_and_an_unfinished_stream(lambda_client, create_function, unique_name):
    code = """
const { pipeline } = require('node:stream/promises');
const { Readable } = require('node:stream');
exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
  if (event.unfinished) { responseStream.write('half'); return; }
  await pipeline(Readable.from(['a', 'b', 'c']), responseStream);
});
"""
    create_function(code={"index.js": code}, handler="index.handler", Runtime=NODE, Timeout=60)
    _, events = _stream(lambda_client, unique_name, {})
    parsed = list(events)
    assert b"".join(e["PayloadChunk"]["Payload"] for e in parsed if "PayloadChunk" in e) == b"abc"
    assert parsed[-1] == {"InvokeComplete": {}}
    _, events = _stream(lambda_client, unique_name, {"unfinished": True})
    complete = list(events)[-1]["InvokeComplete"]
    assert complete == {
        "ErrorCode": "Runtime.InvalidStreamingOperation",
        "ErrorDetails": "Response stream is not finished.",
    }
