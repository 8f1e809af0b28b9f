"""The two plain values that cross the protocol boundary: a request and a response.

The gateway builds a Request from the ASGI scope and body; everything below it works on
this dataclass, so the protocol layer can be tested without a server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class Request:
    method: str
    path: str  # decoded path
    raw_path: str  # as sent, percent-encoded (what SigV4 signs)
    query_string: str  # as sent
    headers: dict[str, str]  # lower-case names; repeated headers joined with ","
    body: bytes = b""
    client: str = ""
    # A body still arriving (a large upload), read as it comes; `body` is empty then.
    stream: AsyncIterator[bytes] | None = None
    # Set by SigV4's check of a request whose payload is signed chunk by chunk
    # (aws_chunked.ChunkSigning: the key and seed that chain the chunk signatures).
    chunk_signing: Any = None

    _query: list[tuple[str, str]] | None = field(default=None, repr=False)

    @property
    def query(self) -> list[tuple[str, str]]:
        if self._query is None:
            self._query = parse_qsl(self.query_string, keep_blank_values=True)
        return self._query


@dataclass
class Response:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    # A body that keeps coming (an event stream): written as it is produced, chunked, after
    # `body` (empty then). Whoever writes it must close it (aclose) if it stops early.
    stream: AsyncIterator[bytes] | None = None
