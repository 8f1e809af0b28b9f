"""The aws-chunked content encoding of streaming uploads (S3's PutObject, UploadPart).

A body sent with `Content-Encoding: aws-chunked` (and `x-amz-content-sha256` naming one of
the STREAMING-* payload kinds) is a sequence of chunks, then optional trailers:

    <hex size>[;chunk-signature=<sig>]\\r\\n<size bytes>\\r\\n   ... repeated
    0[;chunk-signature=<sig>]\\r\\n
    [<trailer name>:<value>\\r\\n ...]                             e.g. x-amz-checksum-crc32
    [x-amz-trailer-signature:<sig>\\r\\n]
    \\r\\n

Signed chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER], the Java and Go SDKs') each
carry a signature chained from the request's own (the seed); boto3 sends
STREAMING-UNSIGNED-PAYLOAD-TRAILER: unsigned chunks with the checksum in a trailer.

ChunkedDecoder is sans-I/O: feed() it bytes as they arrive, take the payload bytes it
returns, close() it at the end for the trailers. Every chunk signature is checked as its
chunk ends, so nothing of a forged body is accepted past its first chunk.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from ..errors import ServiceError

SIGNED = frozenset({"STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"})
UNSIGNED = frozenset({"STREAMING-UNSIGNED-PAYLOAD-TRAILER"})
STREAMING = SIGNED | UNSIGNED
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_MIN_SIGNED_CHUNK = 8192  # S3: every signed chunk but the last carries at least 8 KB
_MAX_LINE = 4096  # a size line or a trailer longer than this is not aws-chunked


@dataclass(frozen=True)
class ChunkSigning:
    """What chains the chunk signatures: the request's signing key, X-Amz-Date, credential
    scope, and the request's signature (the seed)."""

    key: bytes
    timestamp: str
    scope: str
    seed: str

    def chunk(self, previous: str, data_sha256: str) -> str:
        to_sign = "\n".join(
            ("AWS4-HMAC-SHA256-PAYLOAD", self.timestamp, self.scope, previous, _EMPTY_SHA256, data_sha256)
        )
        return hmac.new(self.key, to_sign.encode(), hashlib.sha256).hexdigest()

    def trailer(self, previous: str, trailers: bytes) -> str:
        to_sign = "\n".join(
            ("AWS4-HMAC-SHA256-TRAILER", self.timestamp, self.scope, previous, hashlib.sha256(trailers).hexdigest())
        )
        return hmac.new(self.key, to_sign.encode(), hashlib.sha256).hexdigest()


def incomplete() -> ServiceError:
    return ServiceError("IncompleteBody", "The request body terminated unexpectedly", 400)


def signature_mismatch() -> ServiceError:
    return ServiceError(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
        403,
    )


class ChunkedDecoder:
    def __init__(self, signing: ChunkSigning | None = None, decoded_length: int | None = None) -> None:
        self.signing = signing  # None: unsigned chunks
        self.decoded_length = decoded_length  # x-amz-decoded-content-length, when sent
        self.trailers: dict[str, str] = {}
        self._buffer = bytearray()
        self._state = "size"  # size, data, data-end, trailers, done
        self._remaining = 0  # bytes of the current chunk's data still to come
        self._chunk_signature = ""  # what the current chunk's size line claimed
        self._chunk_hash = hashlib.sha256()
        self._previous = signing.seed if signing is not None else ""
        self._chunk_size = 0
        self._short_chunk_seen = False
        self._trailer_lines: list[bytes] = []
        self._decoded = 0

    @property
    def done(self) -> bool:
        return self._state == "done"

    def feed(self, data: bytes) -> bytes:
        """The payload bytes `data` completes (possibly none)."""
        self._buffer += data
        out = bytearray()
        while self._buffer and self._state != "done":
            if self._state == "data":
                take = min(self._remaining, len(self._buffer))
                piece = bytes(self._buffer[:take])
                del self._buffer[:take]
                self._remaining -= take
                if self.signing is not None:
                    self._chunk_hash.update(piece)
                out += piece
                if self._remaining == 0:
                    self._state = "data-end"
                continue
            line = self._line()
            if line is None:
                break
            if self._state == "size":
                self._size_line(line)
            elif self._state == "data-end":
                if line:
                    raise incomplete()
                self._chunk_ended()
                self._state = "size"
            elif self._state == "trailers":
                if line:
                    self._trailer_lines.append(line)
                else:
                    self._end_trailers()
        self._decoded += len(out)
        if self.decoded_length is not None and self._decoded > self.decoded_length:
            raise incomplete()
        return bytes(out)

    def close(self) -> dict[str, str]:
        """The body has ended: the trailers, once everything checked out."""
        if self._state != "done" or self._buffer.strip():
            raise incomplete()
        if self.decoded_length is not None and self._decoded != self.decoded_length:
            raise ServiceError(
                "IncompleteBody",
                "You did not provide the number of bytes specified by the Content-Length HTTP header",
                400,
            )
        return self.trailers

    # --- the grammar ------------------------------------------------------------------------

    def _line(self) -> bytes | None:
        end = self._buffer.find(b"\r\n")
        if end < 0:
            if len(self._buffer) > _MAX_LINE:
                raise incomplete()
            return None
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 2]
        return line

    def _size_line(self, line: bytes) -> None:
        size_text, _, extension = line.partition(b";")
        try:
            size = int(size_text.strip(), 16)
        except ValueError:
            raise incomplete() from None
        signature = b""
        if extension.startswith(b"chunk-signature="):
            signature = extension[len(b"chunk-signature=") :].strip()
        if self.signing is not None and not signature:
            raise signature_mismatch()
        self._chunk_signature = signature.decode("ascii", "replace")
        self._chunk_size = size
        if self.signing is not None and size and self._short_chunk_seen:
            raise ServiceError(
                "InvalidChunkSizeError", "Only the last chunk is allowed to have a size less than 8192 bytes", 403
            )
        if size == 0:
            self._chunk_ended()
            self._state = "trailers"
            return
        self._remaining = size
        self._state = "data"

    def _chunk_ended(self) -> None:
        if self.signing is None:
            return
        expected = self.signing.chunk(self._previous, self._chunk_hash.hexdigest())
        if not hmac.compare_digest(expected, self._chunk_signature):
            raise signature_mismatch()
        self._previous = expected
        self._chunk_hash = hashlib.sha256()
        if 0 < self._chunk_size < _MIN_SIGNED_CHUNK:
            self._short_chunk_seen = True

    def _end_trailers(self) -> None:
        signed: list[bytes] = []
        trailer_signature = None
        for line in self._trailer_lines:
            name, colon, value = line.partition(b":")
            if not colon:
                raise incomplete()
            key = name.strip().lower().decode("ascii", "replace")
            if key == "x-amz-trailer-signature":
                trailer_signature = value.strip().decode("ascii", "replace")
                continue
            self.trailers[key] = value.strip().decode("utf-8", "replace")
            signed.append(name.strip().lower() + b":" + value.strip() + b"\n")
        if self.signing is not None and self.trailers:
            expected = self.signing.trailer(self._previous, b"".join(signed))
            if trailer_signature is None or not hmac.compare_digest(expected, trailer_signature):
                raise signature_mismatch()
        self._state = "done"


def decode(body: bytes, signing: ChunkSigning | None = None, decoded_length: int | None = None) -> tuple[bytes, dict]:
    """A whole aws-chunked body: (payload, trailers)."""
    decoder = ChunkedDecoder(signing, decoded_length)
    payload = decoder.feed(body)
    return payload, decoder.close()
