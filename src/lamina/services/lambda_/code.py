"""Function code packages: checked, stored by content, extracted once.

A package arrives as a ZipFile or as an S3 object (S3Bucket, S3Key, S3ObjectVersion): read
through `fetch_s3`, a callable the composition root hands over (S3's object read as the
caller, who must be allowed s3:GetObject, as AWS reads it), S3's refusals worded as Lambda
words them ("Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The
specified key does not exist."). Either way it is then what it would have been as a ZipFile.

A zip is kept as <data>/code/<sha256 hex>.zip and, the first time an instance needs it,
extracted read-only to <data>/code/<sha256 hex>/ (with the unix modes the zip records,
so a `bootstrap` stays executable). Identical zips are stored once. Writes are fsynced
before the function record that points at them is committed.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import io
import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ...errors import ServiceError, invalid_parameter

MAX_UNZIPPED_BYTES = 250 * 1024 * 1024  # AWS's deployment package limit, unzipped
# fetch_s3(ctx, bucket, key, version id or None, most bytes) -> the object's bytes; raises S3's errors.
FetchS3 = Callable[[Any, str, str, "str | None", int], Awaitable[bytes]]


@dataclass(frozen=True)
class CodeInfo:
    sha256_hex: str
    size: int

    @property
    def sha256_b64(self) -> str:
        return base64.b64encode(bytes.fromhex(self.sha256_hex)).decode("ascii")


class CodeStore:
    def __init__(self, root: str) -> None:
        self.root = root
        os.makedirs(root, exist_ok=True)
        self._extracting: dict[str, asyncio.Future] = {}
        self.fetch_s3: FetchS3 | None = None  # set by the composition root

    def clear(self) -> None:
        """Lamina's reset: every package and extracted copy removed (no instance runs them)."""
        for entry in os.listdir(self.root):
            path = os.path.join(self.root, entry)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, onerror=_writable_then_again)
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path)

    def zip_path(self, sha_hex: str) -> str:
        return os.path.join(self.root, f"{sha_hex}.zip")

    async def save(self, data: bytes) -> CodeInfo:
        return await asyncio.get_running_loop().run_in_executor(None, self._save, data)

    async def package(self, ctx: Any, source: dict, zip_member: str = "ZipFile") -> CodeInfo:
        """A package given as `source`'s ZipFile or its S3Bucket/S3Key/S3ObjectVersion
        (CreateFunction's Code, UpdateFunctionCode's parameters, a layer's Content)."""
        data = source.get(zip_member)
        if data is None:
            if not source.get("S3Bucket"):
                raise invalid_parameter("Please provide a source for function code.")
            data = await self.from_s3(ctx, source["S3Bucket"], source.get("S3Key") or "", source.get("S3ObjectVersion"))
        return await self.save(data)

    async def from_s3(self, ctx: Any, bucket: str, key: str, version_id: str | None) -> bytes:
        if self.fetch_s3 is None:
            raise invalid_parameter("Lamina serves no S3 here: provide the code as a ZipFile.")
        try:
            return await self.fetch_s3(ctx, bucket, key, version_id, MAX_UNZIPPED_BYTES)
        except ServiceError as error:
            if error.code == "EntityTooLarge":
                raise invalid_parameter(f"Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes") from None
            raise invalid_parameter(
                f"Error occurred while GetObject. S3 Error Code: {error.code}. S3 Error Message: {error.message}"
            ) from None

    def _save(self, data: bytes) -> CodeInfo:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                total = sum(info.file_size for info in archive.infolist())
        except (zipfile.BadZipFile, ValueError, EOFError, OSError):
            raise invalid_parameter(
                "Could not unzip uploaded file. Please check your file, then try to upload again."
            ) from None
        if total > MAX_UNZIPPED_BYTES:
            raise invalid_parameter(f"Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes")
        sha_hex = hashlib.sha256(data).hexdigest()
        path = self.zip_path(sha_hex)
        if not os.path.exists(path):
            fd, temp = tempfile.mkstemp(dir=self.root, suffix=".part")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)
        return CodeInfo(sha_hex, len(data))

    def read(self, sha_hex: str) -> bytes:
        with open(self.zip_path(sha_hex), "rb") as handle:
            return handle.read()

    async def directory(self, sha_hex: str) -> str:
        """The extracted code, extracting it the first time (once, however many ask)."""
        target = os.path.join(self.root, sha_hex)
        if os.path.isdir(target):
            return target
        pending = self._extracting.get(sha_hex)
        if pending is None:
            loop = asyncio.get_running_loop()
            pending = self._extracting[sha_hex] = asyncio.ensure_future(
                loop.run_in_executor(None, self._extract, sha_hex, target)
            )
        try:
            await asyncio.shield(pending)
        finally:
            self._extracting.pop(sha_hex, None)
        return target

    async def merged(self, shas: list[str]) -> str:
        """Several packages extracted over each other in order (a function's layers)."""
        name = "layers-" + hashlib.sha256(":".join(shas).encode()).hexdigest()[:32]
        target = os.path.join(self.root, name)
        if os.path.isdir(target):
            return target
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._extract_many, shas, target)
        return target

    def _extract_many(self, shas: list[str], target: str) -> None:
        if os.path.isdir(target):
            return
        temp = tempfile.mkdtemp(dir=self.root, prefix=".layers-")
        try:
            for sha_hex in shas:
                self._unpack(sha_hex, temp)
            os.chmod(temp, 0o755)
            os.replace(temp, target)
        except OSError:
            shutil.rmtree(temp, ignore_errors=True)
            if not os.path.isdir(target):
                raise

    def _unpack(self, sha_hex: str, into: str) -> None:
        with zipfile.ZipFile(self.zip_path(sha_hex)) as archive:
            for info in archive.infolist():
                extracted = archive.extract(info, into)  # extract() strips "..", absolute paths
                mode = (info.external_attr >> 16) & 0o777
                if mode and not info.is_dir():
                    os.chmod(extracted, mode | stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        for folder, dirs, _ in os.walk(into):
            for name in dirs:
                os.chmod(os.path.join(folder, name), 0o755)

    def _extract(self, sha_hex: str, target: str) -> None:
        if os.path.isdir(target):
            return
        temp = tempfile.mkdtemp(dir=self.root, prefix=f".{sha_hex[:12]}-")
        try:
            self._unpack(sha_hex, temp)
            os.chmod(temp, 0o755)
            os.replace(temp, target)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise


def _writable_then_again(function, path, _exc_info) -> None:
    """shutil.rmtree's onerror: extracted code is read-only; make the parent (and the path)
    writable and try once more."""
    for target in (os.path.dirname(path), path):
        with contextlib.suppress(OSError):
            os.chmod(target, stat.S_IRWXU)
    with contextlib.suppress(FileNotFoundError):
        function(path)
