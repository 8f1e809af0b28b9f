"""protocol/forms.py: multipart/form-data read as it arrives, whatever the pieces' sizes: the
fields before the file whole, the file as a stream stopping at its delimiter."""

from __future__ import annotations

import asyncio
import os

import pytest

from lamina.protocol.forms import FormError, boundary_of, read_form

BOUNDARY = b"----lamina7MA4YWxkTrZu0gW"


def form(fields: list[tuple[str, str]], file: bytes | None, after: bool = True) -> bytes:
    out = b"preamble ignored\r\n"
    for name, value in fields:
        out += b"--" + BOUNDARY + b"\r\n"
        out += f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value.encode() + b"\r\n"
    if file is not None:
        out += b"--" + BOUNDARY + b"\r\n"
        out += b'Content-Disposition: form-data; name="file"; filename="a \\"b\\".txt"\r\n'
        out += b"Content-Type: text/plain\r\n\r\n" + file + b"\r\n"
        if after:
            out += b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="late"\r\n\r\nx\r\n'
    return out + b"--" + BOUNDARY + b"--\r\n"


async def pieces(data: bytes, size: int):
    for start in range(0, len(data), size):
        yield data[start : start + size]


def parse(data: bytes, size: int):
    async def run():
        fields, file = await read_form(pieces(data, size), BOUNDARY)
        content = None
        if file is not None:
            content = b"".join([chunk async for chunk in file.content])
        return fields, file, content

    return asyncio.run(run())


@pytest.mark.parametrize("size", [1, 2, 3, 7, 41, 1000, 1 << 20])
def test_fields_and_file_in_any_pieces(size):
    payload = os.urandom(3000) + b"\r\n--" + BOUNDARY[:-1] + b"\r\n--"  # near-delimiters inside
    fields, file, content = parse(form([("key", "k/${filename}"), ("x-amz-meta-a", "é b")], payload), size)
    assert fields == [("key", "k/${filename}"), ("x-amz-meta-a", "é b")]
    assert file is not None and file.filename == 'a "b".txt' and file.content_type == "text/plain"
    assert content == payload


def test_no_file_and_empty_file():
    assert parse(form([("key", "k")], None), 5)[1] is None
    fields, file, content = parse(form([], b""), 4)
    assert fields == [] and content == b""


def test_a_truncated_form_is_an_error():
    data = form([("key", "k")], b"abc" * 100)
    with pytest.raises(FormError):
        parse(data[:200], 16)


def test_boundary_of():
    assert boundary_of('multipart/form-data; boundary="abc d"') == b"abc d"
    assert boundary_of("multipart/form-data; charset=utf-8; boundary=xyz") == b"xyz"
    assert boundary_of("application/json") is None
