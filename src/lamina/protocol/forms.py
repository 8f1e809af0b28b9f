"""multipart/form-data (RFC 7578) read as it arrives: the fields before the file whole
(they are small), the file part as an async iterator of its bytes, never held whole.

S3's browser uploads (POST Object) put the file last and ignore what follows it, so the
reader stops at the end of the file part. A form that does not parse is a FormError."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

MAX_FIELD_BYTES = 64 * 1024  # one field's value
MAX_HEADER_BYTES = 16 * 1024  # one part's headers
MAX_FIELDS_BYTES = 1024 * 1024  # every field before the file

_PARAM = re.compile(r';\s*([A-Za-z0-9_*-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


class FormError(Exception):
    pass


def boundary_of(content_type: str) -> bytes | None:
    """The boundary of a multipart/form-data Content-Type, or None."""
    kind, _, rest = content_type.partition(";")
    if kind.strip().lower() != "multipart/form-data":
        return None
    for name, value in _PARAM.findall(";" + rest):
        if name.lower() == "boundary":
            value = value.strip()
            if value.startswith('"') and value.endswith('"'):
                value = value[1:-1]
            return value.encode("latin-1") if value else None
    return None


def _disposition(headers: dict[str, str]) -> tuple[str | None, str | None]:
    """(name, filename) of a part's Content-Disposition."""
    value = headers.get("content-disposition", "")
    kind, _, rest = value.partition(";")
    if kind.strip().lower() != "form-data":
        return None, None
    found: dict[str, str] = {}
    for name, raw in _PARAM.findall(";" + rest):
        raw = raw.strip()
        if raw.startswith('"') and raw.endswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        found[name.lower()] = raw
    return found.get("name"), found.get("filename")


@dataclass
class FilePart:
    name: str
    filename: str
    content_type: str | None
    content: AsyncIterator[bytes] = field(repr=False)


class _Reader:
    """The body's bytes with look-ahead: what was read past a delimiter stays buffered."""

    def __init__(self, source: AsyncIterator[bytes]) -> None:
        self._source = source
        self.buffer = bytearray()
        self.ended = False

    async def more(self) -> bool:
        if self.ended:
            return False
        try:
            piece = await self._source.__anext__()
        except StopAsyncIteration:
            self.ended = True
            return False
        self.buffer += piece
        return True

    async def until(self, token: bytes, limit: int) -> bytes:
        """The bytes before `token` (which is consumed); FormError past `limit` or at the end."""
        start = 0
        while True:
            at = self.buffer.find(token, start)
            if at >= 0:
                data = bytes(self.buffer[:at])
                del self.buffer[: at + len(token)]
                return data
            if len(self.buffer) > limit + len(token):
                raise FormError("a form field is too large")
            start = max(0, len(self.buffer) - len(token) + 1)
            if not await self.more():
                raise FormError("the form ended early")

    async def need(self, count: int) -> bytes:
        while len(self.buffer) < count:
            if not await self.more():
                raise FormError("the form ended early")
        return bytes(self.buffer[:count])


def _headers(block: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in block.decode("utf-8", "replace").split("\r\n"):
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return headers


async def read_form(
    source: AsyncIterator[bytes], boundary: bytes, file_field: str = "file"
) -> tuple[list[tuple[str, str]], FilePart | None]:
    """The fields before the part named `file_field` ((name, value) in order), and that part
    (its content still to be read), or None when the form has none."""
    reader = _Reader(source.__aiter__())
    delimiter = b"\r\n--" + boundary
    reader.buffer += b"\r\n"  # the first delimiter has no line break before it
    await reader.until(delimiter, MAX_FIELDS_BYTES)  # the preamble
    fields: list[tuple[str, str]] = []
    total = 0
    while True:
        after = await reader.need(2)
        if after == b"--":
            return fields, None
        await reader.until(b"\r\n", 1024)  # transport padding, then the line's end
        if (await reader.need(2)) == b"\r\n":  # a part without headers
            del reader.buffer[:2]
            headers: dict[str, str] = {}
        else:
            headers = _headers(await reader.until(b"\r\n\r\n", MAX_HEADER_BYTES))
        name, filename = _disposition(headers)
        if name is None:
            raise FormError("a form part has no name")
        if name.lower() == file_field:
            return fields, FilePart(name, filename or "", headers.get("content-type"), _content(reader, delimiter))
        value = await reader.until(delimiter, MAX_FIELD_BYTES)
        total += len(value)
        if total > MAX_FIELDS_BYTES:
            raise FormError("the form's fields are too large")
        fields.append((name, value.decode("utf-8", "replace")))


async def _content(reader: _Reader, delimiter: bytes) -> AsyncIterator[bytes]:
    """A part's bytes up to the next delimiter, as they arrive."""
    keep = len(delimiter) - 1
    while True:
        at = reader.buffer.find(delimiter)
        if at >= 0:
            if at:
                yield bytes(reader.buffer[:at])
            del reader.buffer[: at + len(delimiter)]
            return
        if len(reader.buffer) > keep:
            cut = len(reader.buffer) - keep
            yield bytes(reader.buffer[:cut])
            del reader.buffer[:cut]
        if not await reader.more():
            raise FormError("the form ended inside its file")
