"""The link between a front process and the core process: pickled frames on a socketpair.

A front (http/fronts.py) speaks HTTP, checks SigV4 and parses the AWS protocols; the core
owns the services and the engine. Each parsed call crosses the link once each way:

    front -> core   (id, "call", (service, operation, params, ctx))    an AWS operation
                    (id, "raw", Request)                                a Lamina path (/_lamina/...)
    core -> front   (0, "routes", {"paths": [prefix...], "hosts": [suffix...]})  once, when ready
                    (0, "keys", {access key: (secret, Principal)})     IAM users' active keys,
                                                                        whole, whenever they change
                    (id, "ok", result) | (id, "error", ServiceError fields) | (id, "failed", text)
                    (id, "response", Response)

An answer with an event stream (a result member that is an async iterator) crosses as
"ok" with the member replaced by STREAMED, then one frame per event and a last one:

    core -> front   (id, "event", {member: value}) ... (id, "end", None) | (id, "error", fields)
    front -> core   (id, "cancel", None)                                the client went away

WebSocket connections a front holds for the core's endpoints: the "ws-..." frames of
http/websocket_relay.py. Request bodies a front reads for the core's services (S3 uploads):
the "body..." frames of http/body_relay.py.

A frame is a 4-byte big-endian length and a pickle. Frames written in one turn of the
event loop leave in one write: under load, one syscall carries many calls.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import pickle
from collections.abc import Callable
from typing import Any

from ..errors import ServiceError
from ..protocol.messages import Request, Response
from ..services.context import RequestContext
from .body_relay import KINDS_TO_CORE as BODY_KINDS
from .body_relay import Incoming, Outgoing, Relayed, bodies_of
from .websocket_relay import KINDS as WEBSOCKET_KINDS
from .websocket_relay import CoreRelay, FrontRelay

log = logging.getLogger("lamina.link")

_LENGTH = 4
STREAMED = "__lamina_streamed__"  # stands for an event stream's member in an "ok" frame


def _streams(result: Any) -> list[str]:
    """The members of a result that are event streams (async iterators)."""
    if not isinstance(result, dict):
        return []
    return [name for name, value in result.items() if hasattr(value, "__aiter__")]


def _error(fields: tuple) -> ServiceError:
    code, message, status, sender_fault, headers, extra = fields
    return ServiceError(code, message, status, sender_fault=sender_fault, headers=headers, **extra)


def _fields(error: ServiceError) -> tuple:
    return (error.code, error.message, error.status, error.sender_fault, error.headers, error.fields)


class _Frames(asyncio.Protocol):
    """Frames in and out of one stream socket; subclasses handle what arrives."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._out: list[bytes] = []
        self._flush_scheduled = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        offset, size = 0, len(buffer)
        while size - offset >= _LENGTH:
            end = offset + _LENGTH + int.from_bytes(buffer[offset : offset + _LENGTH], "big")
            if end > size:
                break
            frame = pickle.loads(buffer[offset + _LENGTH : end])
            offset = end
            self.frame_received(frame)
        if offset:
            del buffer[:offset]

    def frame_received(self, frame: tuple) -> None:
        raise NotImplementedError

    def send(self, frame: tuple) -> None:
        data = pickle.dumps(frame, protocol=pickle.HIGHEST_PROTOCOL)
        self._out.append(len(data).to_bytes(_LENGTH, "big"))
        self._out.append(data)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        out, self._out = self._out, []
        if self.transport is not None and not self.transport.is_closing():
            self.transport.writelines(out)


# --- the front's end -------------------------------------------------------------------------


class CoreLink(_Frames):
    """A front's connection to the core: call() and forward() await the core's answer."""

    def __init__(self) -> None:
        super().__init__()
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future] = {}
        self._streaming: dict[int, asyncio.Queue] = {}  # answers whose events are still coming
        self.routes: asyncio.Future = asyncio.get_running_loop().create_future()
        self.closed = asyncio.Event()
        # What to do with the IAM users' keys the core shares (the front's key ring takes them).
        self.on_keys: Callable[[dict], None] | None = None
        # The endpoint of the hosts whose WebSocket connections the core serves.
        self.websockets = FrontRelay(self.send, self._ask_numbered)
        self._outgoing: dict[int, Outgoing] = {}  # request bodies being sent, by call number

    def frame_received(self, frame: tuple) -> None:
        number, kind, payload = frame
        if kind in ("ws-out", "ws-close"):
            self.websockets.received(number, kind, payload)
            return
        if kind == "body-ack":
            outgoing = self._outgoing.get(number)
            if outgoing is not None:
                outgoing.acknowledged(payload)
            return
        if kind == "routes":
            if not self.routes.done():
                self.routes.set_result(payload)
            return
        if kind == "keys":
            if self.on_keys is not None:
                self.on_keys(payload)
            return
        queue = self._streaming.get(number)
        if queue is not None:
            queue.put_nowait((kind, payload))
            return
        future = self._waiting.pop(number, None)
        if future is not None and not future.done():
            if kind == "ok":
                # The events follow this frame: their queue must exist before they arrive.
                for name in [name for name, value in payload.items() if value == STREAMED]:
                    queue = self._streaming[number] = asyncio.Queue()
                    payload[name] = self._events(number, queue)
            future.set_result((kind, payload))

    async def _events(self, number: int, queue: asyncio.Queue):
        ended = False
        try:
            while True:
                kind, payload = await queue.get()
                if kind == "event":
                    yield payload
                    continue
                ended = True
                if kind == "error":
                    raise _error(payload)
                if kind == "failed":
                    raise RuntimeError(payload)
                return
        finally:
            self._streaming.pop(number, None)
            if not ended and self.transport is not None:
                self.send((number, "cancel", None))

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.websockets.lost()
        for queue in self._streaming.values():
            queue.put_nowait(("failed", "the core process went away"))
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(ConnectionError("the core process went away"))
        self._waiting.clear()
        if not self.routes.done():
            self.routes.set_exception(ConnectionError("the core process went away"))
        self.closed.set()

    async def _ask(self, kind: str, payload: Any) -> tuple[str, Any]:
        _, answer_kind, answer = await self._ask_numbered(kind, payload)
        return answer_kind, answer

    async def _ask_numbered(self, kind: str, payload: Any) -> tuple[int, str, Any]:
        if self.transport is None:
            raise ConnectionError("the core process went away")
        number = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        self._waiting[number] = future
        try:
            self.send((number, kind, payload))
            answer_kind, answer = await future
            return number, answer_kind, answer
        finally:
            self._waiting.pop(number, None)

    async def call(self, service: str, operation: str, params: dict, ctx: RequestContext) -> dict:
        names = bodies_of(params)
        if names:
            kind, payload = await self._call_with_body(service, operation, params, ctx, names)
        else:
            kind, payload = await self._ask("call", (service, operation, params, ctx))
        if kind == "ok":
            return payload
        if kind == "error":
            raise _error(payload)
        raise RuntimeError(f"the core process failed this call: {payload}")

    async def _call_with_body(
        self, service: str, operation: str, params: dict, ctx: RequestContext, names: list[str]
    ) -> tuple[str, Any]:
        """A call whose params hold a request body still being read: the call, then the body's
        pieces as the core's service takes them, until the answer comes."""
        if self.transport is None:
            raise ConnectionError("the core process went away")
        number = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        self._waiting[number] = future
        relayed = dict(params)
        for name in names:
            relayed[name] = Relayed(params[name].length)
        (name,) = names  # one body per request: the operation's payload
        outgoing = self._outgoing[number] = Outgoing(number, params[name], self.send)
        self.send((number, "call", (service, operation, relayed, ctx)))
        pump = asyncio.get_running_loop().create_task(outgoing.pump())
        try:
            return await future
        finally:
            pump.cancel()
            self._outgoing.pop(number, None)
            self._waiting.pop(number, None)

    async def forward(self, request: Request) -> Response:
        kind, payload = await self._ask("raw", request)
        if kind == "response":
            return payload
        raise RuntimeError(f"the core process failed this request: {payload}")


# --- the core's end --------------------------------------------------------------------------


class FrontLink(_Frames):
    """The core's end of one front's link: runs each call as a task of its own and answers.

    `call(service, operation, params, ctx)` and `handle(request)` are the gateway's own
    (Gateway.call_here, Gateway.handle), so a call that crossed the link runs exactly as one
    that did not.
    """

    def __init__(self, call: Callable, handle: Callable, routes: Any, websocket_for: Callable | None = None) -> None:
        super().__init__()
        self._call = call
        self._handle = handle
        self._routes = routes
        self._websockets = CoreRelay(self.send, websocket_for or (lambda request: None))
        self._bodies = Incoming(self.send)
        self._tasks: set[asyncio.Task] = set()
        self._serving: dict[int, asyncio.Task] = {}  # by call number, for a front's "cancel"
        self.closed = asyncio.Event()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.send((0, "routes", self._routes))

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._websockets.lost()
        self._bodies.lost()
        self.closed.set()

    def frame_received(self, frame: tuple) -> None:
        number, kind, payload = frame
        if kind in WEBSOCKET_KINDS:
            self._websockets.received(number, kind, payload)
            return
        if kind in BODY_KINDS:
            self._bodies.received(number, kind, payload)
            return
        if kind == "call" and any(isinstance(value, Relayed) for value in payload[2].values()):
            # Its body's pieces follow this frame: their reader must exist before they come.
            service, operation, params, ctx = payload
            frame = (number, kind, (service, operation, self._bodies.open(number, params), ctx))
        if kind == "cancel":  # the client of a streamed answer went away
            serving = self._serving.get(number)
            if serving is not None:
                serving.cancel()
            return
        task = asyncio.ensure_future(self._serve(*frame))
        self._tasks.add(task)
        self._serving[number] = task
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda _: self._serving.pop(number, None))
        task.add_done_callback(lambda _: self._bodies.close(number))

    async def _serve(self, number: int, kind: str, payload: Any) -> None:
        try:
            if kind == "call":
                result = await self._call(*payload)
                streams = _streams(result)
                if streams:
                    await self._stream(number, result, streams)
                    return
                answer: tuple = (number, "ok", result)
            else:
                answer = (number, "response", await self._handle(payload))
        except ServiceError as error:
            answer = (number, "error", _fields(error))
        except Exception as error:  # the front answers 500, as the gateway would here
            log.exception("unexpected error in a call from a front process")
            answer = (number, "failed", f"{type(error).__name__}: {error}")
        try:
            self.send(answer)
        except Exception as error:  # an answer that does not pickle: say so rather than hang
            log.exception("could not send an answer to a front process")
            self.send((number, "failed", f"{type(error).__name__}: {error}"))

    async def _stream(self, number: int, result: dict, streams: list[str]) -> None:
        """An answer with an event stream: the rest of it, then its events as they come."""
        events = {name: result[name] for name in streams}
        self.send((number, "ok", {**result, **dict.fromkeys(streams, STREAMED)}))
        try:
            for iterator in events.values():  # one stream per output, in practice
                async for event in iterator:
                    self.send((number, "event", event))
            self.send((number, "end", None))
        except ServiceError as error:
            self.send((number, "error", _fields(error)))
        except Exception as error:
            log.exception("an event stream failed in a call from a front process")
            self.send((number, "failed", f"{type(error).__name__}: {error}"))
        finally:
            for iterator in events.values():
                close = getattr(iterator, "aclose", None)
                if close is not None:
                    await close()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self.transport is not None:
            self.transport.close()
