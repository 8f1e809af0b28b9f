"""Object bytes on disk, under the S3 directory of the data dir:

    tmp/<random>              a body being received (or copied): swept at start
    objects/<bucket>/<uid>    one file per stored version (uid: the version's commit number)

A body is streamed into a temporary file in 1 MiB pieces (hashed on the way), fsynced,
and renamed into place only once it was accepted; the metadata is committed to the store
after that, so a crash leaves either nothing visible or a file no document names, which
the sweep at start removes. Reads stream the file in 1 MiB pieces, each read in a thread,
so neither direction holds an object in memory."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO, Protocol

PIECE = 1024 * 1024


class Hashing(Protocol):
    def update(self, data: bytes) -> None: ...


async def chunks(body: Any) -> AsyncIterator[bytes]:
    """The pieces of a request payload: bytes had whole, or an async iterable of bytes (the
    protocol layer's Body, read as it arrives)."""
    if body is None:
        return
    if isinstance(body, (bytes, bytearray, memoryview)):
        view = memoryview(body)
        for start in range(0, len(view), PIECE):
            yield bytes(view[start : start + PIECE])
        return
    async for piece in body:
        if piece:
            yield piece


class TooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


def _absorb(handle: BinaryIO, data: bytes, hashers: Iterable[Hashing]) -> None:
    for hasher in hashers:
        hasher.update(data)
    handle.write(data)


def _finish(handle: BinaryIO, data: bytes, hashers: Iterable[Hashing]) -> None:
    try:
        if data:
            _absorb(handle, data, hashers)
        handle.flush()
        os.fsync(handle.fileno())
    finally:
        handle.close()


def _copy(source: BinaryIO, start: int, length: int, target: BinaryIO, hashers: Iterable[Hashing]) -> None:
    try:
        source.seek(start)
        left = length
        while left > 0:
            data = source.read(min(PIECE, left))
            if not data:
                break
            left -= len(data)
            _absorb(target, data, hashers)
        target.flush()
        os.fsync(target.fileno())
    finally:
        source.close()
        target.close()


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Files:
    def __init__(self, root: str) -> None:
        self.root = root
        self.tmp = os.path.join(root, "tmp")
        self.objects = os.path.join(root, "objects")

    def prepare(self) -> None:
        """At start: the directories there, and no temporary file left from before."""
        shutil.rmtree(self.tmp, ignore_errors=True)
        os.makedirs(self.tmp, exist_ok=True)
        os.makedirs(self.objects, exist_ok=True)

    def sweep(self, known: dict[str, set[str]]) -> int:
        """Removes what no document names: files of uploads a crash cut after their rename,
        of versions replaced or deleted just before one, and directories of deleted buckets.
        `known`: bucket -> the uids of its versions. Returns how many it removed."""
        removed = 0
        for bucket in os.listdir(self.objects):
            path = os.path.join(self.objects, bucket)
            uids = known.get(bucket)
            if uids is None:
                shutil.rmtree(path, ignore_errors=True)
                removed += 1
                continue
            for name in os.listdir(path):
                if name not in uids:
                    os.unlink(os.path.join(path, name))
                    removed += 1
        return removed

    def reset(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def path(self, bucket: str, uid: str) -> str:
        return os.path.join(self.objects, bucket, uid)

    def _temporary(self) -> str:
        return os.path.join(self.tmp, uuid.uuid4().hex)

    async def receive(self, body: Any, hashers: list[Hashing], limit: int) -> tuple[str, int]:
        """The body into a temporary file, fsynced: (its path, its size). TooLarge past
        `limit`; whatever the body's iteration raises (a refused signature) passes through.
        Nothing is left behind when it fails."""
        tmp = self._temporary()
        handle = await asyncio.to_thread(open, tmp, "wb")
        size = 0
        buffer = bytearray()
        try:
            async for piece in chunks(body):
                size += len(piece)
                if size > limit:
                    raise TooLarge(size)
                buffer += piece
                if len(buffer) >= PIECE:
                    data = bytes(buffer)
                    buffer.clear()
                    await asyncio.to_thread(_absorb, handle, data, hashers)
            await asyncio.to_thread(_finish, handle, bytes(buffer), hashers)
        except BaseException:
            handle.close()
            self.discard(tmp)
            raise
        return tmp, size

    async def copy(self, source: BinaryIO, start: int, length: int, hashers: list[Hashing]) -> str:
        """`length` bytes of an open file from `start` into a temporary file, fsynced (the
        source is closed after)."""
        tmp = self._temporary()
        try:
            target = await asyncio.to_thread(open, tmp, "wb")
            await asyncio.to_thread(_copy, source, start, length, target, hashers)
        except BaseException:
            source.close()
            self.discard(tmp)
            raise
        return tmp

    async def install(self, tmp: str, bucket: str, uid: str) -> None:
        """A received file into its place, the rename made durable."""

        def move() -> None:
            directory = os.path.join(self.objects, bucket)
            os.makedirs(directory, exist_ok=True)
            os.rename(tmp, os.path.join(directory, uid))
            _fsync_dir(directory)

        await asyncio.to_thread(move)

    def discard(self, path: str) -> None:
        try:
            os.unlink(path)
        except OSError:
            pass

    @contextmanager
    def discarded_on_error(self, path: str) -> Iterator[None]:
        """A received file kept only if the block ends without an error."""
        try:
            yield
        except BaseException:
            self.discard(path)
            raise

    async def remove(self, bucket: str, uids: list[str]) -> None:
        def unlink() -> None:
            for uid in uids:
                self.discard(self.path(bucket, uid))

        if uids:
            await asyncio.to_thread(unlink)

    async def remove_bucket(self, bucket: str) -> None:
        await asyncio.to_thread(shutil.rmtree, os.path.join(self.objects, bucket), True)

    def open(self, bucket: str, uid: str) -> BinaryIO:
        """Opened at once (a version replaced later keeps being readable through it)."""
        return open(self.path(bucket, uid), "rb")


class FileReader:
    """`length` bytes of an open file from `start`, as an async iterator of 1 MiB pieces
    each read in a thread; the file is closed at the end or by aclose()."""

    def __init__(self, handle: BinaryIO, start: int, length: int) -> None:
        self._handle: BinaryIO | None = handle
        self._position = start
        self._left = length

    def __aiter__(self) -> FileReader:
        return self

    async def __anext__(self) -> bytes:
        handle = self._handle
        if handle is None or self._left <= 0:
            await self.aclose()
            raise StopAsyncIteration
        data = await asyncio.to_thread(_read_at, handle, self._position, min(PIECE, self._left))
        if not data:
            await self.aclose()
            raise StopAsyncIteration
        self._position += len(data)
        self._left -= len(data)
        return data

    async def aclose(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __del__(self) -> None:
        if self._handle is not None:
            self._handle.close()


def _read_at(handle: BinaryIO, position: int, size: int) -> bytes:
    return os.pread(handle.fileno(), size, position)
