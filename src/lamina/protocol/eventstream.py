"""AWS event streams: the framed binary messages of a streaming response.

Operations such as Kinesis's SubscribeToShard and Logs' StartLiveTail answer with a body
that keeps going: a sequence of messages in the `application/vnd.amazon.eventstream`
framing, each

    total length (4) | headers length (4) | CRC32 of those 8 bytes (4)
    | headers | payload | CRC32 of everything before (4)

with headers `:message-type` (event, exception or error), `:event-type` naming the member
of the stream's union, `:content-type` of the payload. For the JSON protocols the first
message is an `initial-response` event carrying the output's other members (botocore
refuses a stream without it).

A service answers such an operation with the stream member of its result set to an async
iterator of one-key dicts, `{member name: value}`. A ServiceError raised by the iterator
ends the stream with an exception message (the union's member of that name when it has
one, an error message otherwise); the iterator is closed (aclose) however the stream ends,
the client going away included, so a service can let go of what it watched.
"""

from __future__ import annotations

import binascii
import logging
import struct
from collections.abc import AsyncIterator, Callable
from typing import Any

from botocore.model import Shape

from ..errors import ServiceError

log = logging.getLogger("lamina.eventstream")

CONTENT_TYPE = "application/vnd.amazon.eventstream"

# (member shape, value) -> (payload content type, payload bytes)
Encode = Callable[[Shape, Any], tuple[str, bytes]]

_STRING = 7  # the header value type of a string


def message(headers: dict[str, str], payload: bytes) -> bytes:
    """One framed message: string headers (the only kind responses need) and the payload."""
    encoded = b"".join(_header(name, value) for name, value in headers.items())
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack(">II", total, len(encoded))
    head = prelude + struct.pack(">I", binascii.crc32(prelude)) + encoded + payload
    return head + struct.pack(">I", binascii.crc32(head))


def _header(name: str, value: str) -> bytes:
    name_bytes, value_bytes = name.encode("utf-8"), value.encode("utf-8")
    return bytes([len(name_bytes)]) + name_bytes + bytes([_STRING]) + struct.pack(">H", len(value_bytes)) + value_bytes


def stream_member(shape: Shape | None) -> str | None:
    """The name of the output member that is an event stream, if there is one."""
    if shape is None or shape.type_name != "structure":
        return None
    return shape.event_stream_name


async def frames(
    output: Shape, member: str, result: dict, encode: Encode, initial_response: bool
) -> AsyncIterator[bytes]:
    """The messages of one streaming answer, as bytes to write."""
    union = output.members[member]
    events = result.get(member)
    try:
        if initial_response:
            rest = {name: value for name, value in result.items() if name != member}
            content_type, payload = encode(output, rest)
            yield message(_event_headers("initial-response", content_type), payload)
        if events is None:
            return
        async for event in events:
            for name, value in event.items():
                event_shape = union.members.get(name)
                if event_shape is None:
                    raise ValueError(f"{name} is not an event of {union.name}")
                yield _event(name, event_shape, value, encode)
    except ServiceError as error:
        yield _failure(union, error, encode)
    except Exception:
        log.exception("an event stream of %s failed", union.name)
        yield message(
            {
                ":message-type": "error",
                ":error-code": "InternalFailure",
                ":error-message": "An internal error occurred; the server keeps running.",
            },
            b"",
        )
    finally:
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()


def _event_headers(event_type: str, content_type: str) -> dict[str, str]:
    return {":message-type": "event", ":event-type": event_type, ":content-type": content_type}


def _event(name: str, shape: Shape, value: dict, encode: Encode) -> bytes:
    """An event: members marked eventheader go in headers, an eventpayload member is the
    whole payload, otherwise the payload is the event structure itself."""
    headers = _event_headers(name, "application/json")
    body: Any = value
    payload_shape: Shape = shape
    for member_name, member_shape in shape.members.items():
        if member_shape.serialization.get("eventheader") and value.get(member_name) is not None:
            headers[member_name] = str(value[member_name])
        elif member_shape.serialization.get("eventpayload"):
            payload_shape, body = member_shape, value.get(member_name)
            if member_shape.type_name == "blob":
                headers[":content-type"] = "application/octet-stream"
                return message(headers, bytes(body or b""))
            if member_shape.type_name == "string":
                headers[":content-type"] = "text/plain"
                return message(headers, (body or "").encode("utf-8"))
    content_type, payload = encode(payload_shape, body or {})
    headers[":content-type"] = content_type
    return message(headers, payload)


def _failure(union: Shape, error: ServiceError, encode: Encode) -> bytes:
    shape = union.members.get(error.code)
    if shape is not None and shape.metadata.get("exception"):
        content_type, payload = encode(shape, {"message": error.message, "Message": error.message, **error.fields})
        headers = {":message-type": "exception", ":exception-type": error.code, ":content-type": content_type}
        return message(headers, payload)
    return message({":message-type": "error", ":error-code": error.code, ":error-message": error.message}, b"")
