"""A request payload a service reads as it arrives (S3's object bodies).

The gateway hands a streaming blob payload (PutObject's Body, UploadPart's) to the service
as a Body: the bytes already read, or the rest of the request still coming over the
socket; decoded from aws-chunked when it was sent so (protocol/aws_chunked.py, chunk
signatures checked as they end); and, when the request signed its payload's SHA-256, that
hash checked once the last byte is in (S3's XAmzContentSHA256Mismatch). A failure is raised
from the iteration, so a service that writes what it reads to a temporary file and commits
only after the end never keeps a body that was refused.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator

from ..errors import ServiceError
from .aws_chunked import SIGNED, STREAMING, ChunkedDecoder
from .messages import Request

CHUNK = 1024 * 1024  # what a whole body already in memory is handed out in


def sha256_mismatch() -> ServiceError:
    return ServiceError(
        "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.", 400
    )


class Body:
    def __init__(
        self,
        source: bytes | AsyncIterator[bytes],
        decoder: ChunkedDecoder | None = None,
        expected_sha256: str | None = None,
        length: int | None = None,
    ) -> None:
        self._source = source
        self._decoder = decoder  # aws-chunked, or None for a plain body
        self._expected = expected_sha256.lower() if expected_sha256 else None  # of the bytes as sent
        self.length = length  # of the payload, when the request says it (Content-Length or decoded)
        self.trailers: dict[str, str] = {}  # aws-chunked trailers (x-amz-checksum-*), once read
        self._consumed = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        if self._consumed:
            raise RuntimeError("a request body is read once")
        self._consumed = True
        digest = hashlib.sha256() if self._expected else None
        async for raw in self._raw():
            if digest is not None:
                digest.update(raw)
            if self._decoder is None:
                yield raw
                continue
            payload = self._decoder.feed(raw)
            if payload:
                yield payload
        if self._decoder is not None:
            self.trailers = self._decoder.close()
        if digest is not None and self._expected is not None:
            if not hmac.compare_digest(digest.hexdigest(), self._expected):
                raise sha256_mismatch()

    async def _raw(self) -> AsyncIterator[bytes]:
        if isinstance(self._source, (bytes, bytearray, memoryview)):
            data = memoryview(self._source)
            for start in range(0, len(data), CHUNK):
                yield bytes(data[start : start + CHUNK])
            return
        async for piece in self._source:
            yield piece

    async def read(self) -> bytes:
        """The whole payload (for bodies known to be small)."""
        return b"".join([chunk async for chunk in self])


def of_request(request: Request) -> Body:
    """A streaming blob payload as the service gets it: the body as it was sent or is still
    arriving, aws-chunked decoded (its chunk signatures checked when the request signed them),
    and, for a body that was not in hand when the signature was checked, the SHA-256 the
    request signed checked at its end."""
    headers = request.headers
    claimed = headers.get("x-amz-content-sha256", "")
    decoded_length = headers.get("x-amz-decoded-content-length")
    decoder = None
    if claimed in STREAMING or "aws-chunked" in headers.get("content-encoding", ""):
        signing = request.chunk_signing if claimed in SIGNED else None
        decoder = ChunkedDecoder(signing, int(decoded_length) if decoded_length and decoded_length.isdigit() else None)
    expected = claimed if request.stream is not None and _is_sha256(claimed) else None
    length_text = decoded_length if decoder is not None else headers.get("content-length")
    length = int(length_text) if length_text and length_text.isdigit() else None
    return Body(request.stream if request.stream is not None else request.body, decoder, expected, length)


def _is_sha256(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdefABCDEF" for c in text)


# A body this size or more (or of unknown size) is streamed rather than read whole first.
STREAM_FROM = 1024 * 1024


def streams(headers: dict[str, str], url: bytes) -> bool:
    """Whether a PUT or POST is an S3 upload big enough (or of unknown size) to be read as
    it arrives: signed for s3 (Authorization's scope or a presigned URL's), by its headers."""
    length = headers.get("content-length")
    if length is not None and length.isdigit() and int(length) < STREAM_FROM:
        return False
    authorization = headers.get("authorization")
    if authorization is not None:
        return "/s3/aws4_request" in authorization
    return b"%2Fs3%2Faws4_request" in url or b"/s3/aws4_request" in url
