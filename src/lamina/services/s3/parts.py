"""Multipart uploads' part files, under the S3 directory of the data dir:

    uploads/<bucket>/<upload id>/<part number>.<commit number>    one file per part stored

A part is received like an object's body (storage.Files.receive: a temporary file, hashed
on the way, fsynced) and renamed into its upload's directory before its document is
committed; a part uploaded again under its number gets a new file, and the old one goes
after the new document is in. Completing an upload concatenates the parts, in a thread,
into one temporary file (fsynced), which becomes the object's file through writes.py like
any other; the parts' files go once the object's commit (which removes the upload's
documents in the same batch) is in. A crash at any point leaves either the upload (and its
parts) or the object; at start, what no document names is removed (`sweep`)."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterable
from typing import BinaryIO

from .storage import PIECE, Hashing, _fsync_dir


class PartFiles:
    def __init__(self, root: str) -> None:
        self.root = os.path.join(root, "uploads")

    def directory(self, bucket: str, upload_id: str) -> str:
        return os.path.join(self.root, bucket, upload_id)

    def path(self, bucket: str, upload_id: str, name: str) -> str:
        return os.path.join(self.root, bucket, upload_id, name)

    async def install(self, tmp: str, bucket: str, upload_id: str, name: str) -> None:
        """A received part into its upload's directory, the rename made durable."""

        def move() -> None:
            directory = self.directory(bucket, upload_id)
            os.makedirs(directory, exist_ok=True)
            os.rename(tmp, os.path.join(directory, name))
            _fsync_dir(directory)

        await asyncio.to_thread(move)

    async def remove(self, bucket: str, upload_id: str, names: list[str]) -> None:
        def unlink() -> None:
            for name in names:
                try:
                    os.unlink(self.path(bucket, upload_id, name))
                except OSError:
                    pass

        if names:
            await asyncio.to_thread(unlink)

    async def remove_upload(self, bucket: str, upload_id: str) -> None:
        await asyncio.to_thread(shutil.rmtree, self.directory(bucket, upload_id), True)

    async def remove_bucket(self, bucket: str) -> None:
        await asyncio.to_thread(shutil.rmtree, os.path.join(self.root, bucket), True)

    def open(self, bucket: str, upload_id: str, name: str) -> BinaryIO:
        return open(self.path(bucket, upload_id, name), "rb")

    async def assemble(self, sources: list[str], target: str, hashers: Iterable[Hashing] = ()) -> None:
        """The files `sources` concatenated into `target` (a temporary file), fsynced."""
        await asyncio.to_thread(_concatenate, sources, target, list(hashers))

    def sweep(self, known: dict[str, dict[str, set[str]]]) -> int:
        """Removes what no document names. `known`: bucket -> upload id -> its part files'
        names. Returns how many files and directories it removed."""
        removed = 0
        if not os.path.isdir(self.root):
            return 0
        for bucket in os.listdir(self.root):
            bucket_path = os.path.join(self.root, bucket)
            uploads = known.get(bucket)
            for upload_id in os.listdir(bucket_path):
                upload_path = os.path.join(bucket_path, upload_id)
                names = uploads.get(upload_id) if uploads is not None else None
                if names is None:
                    shutil.rmtree(upload_path, ignore_errors=True)
                    removed += 1
                    continue
                for name in os.listdir(upload_path):
                    if name not in names:
                        os.unlink(os.path.join(upload_path, name))
                        removed += 1
            if uploads is None:
                shutil.rmtree(bucket_path, ignore_errors=True)
        return removed


def _concatenate(sources: list[str], target: str, hashers: list[Hashing]) -> None:
    with open(target, "wb") as out:
        for source in sources:
            with open(source, "rb") as handle:
                while True:
                    data = handle.read(PIECE)
                    if not data:
                        break
                    for hasher in hashers:
                        hasher.update(data)
                    out.write(data)
        out.flush()
        os.fsync(out.fileno())
